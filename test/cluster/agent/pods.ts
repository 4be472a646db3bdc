// The kubelet-and-scheduler part of the agent: binds unscheduled Pods to this node, runs a
// PodWorker per Pod bound here, writes Pod status, and finishes graceful deletions.
import * as k8s from '@kubernetes/client-node';
import { nodeName } from '../state.js';
import { PodWorker, type WorkerDeps } from './pod-worker.js';
import type { PodIpAllocator } from './network.js';
import type { ServiceProxy } from './services.js';
import type { VolumeApi } from './volumes.js';

const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);

const errorCode = (error: unknown): number | undefined => (error as { code?: number }).code;
const describe = (error: unknown): string => {
  const body = (error as { body?: unknown }).body;
  if (typeof body === 'string' && body) { try { return (JSON.parse(body) as { message?: string }).message ?? body; } catch { return body; } }
  return error instanceof Error ? error.message : String(error);
};

export class PodManager {
  private readonly workers = new Map<string, PodWorker>();
  private readonly written = new Map<string, string>();
  private readonly finalizing = new Set<string>();
  private flushTimer: NodeJS.Timeout | undefined;
  private readonly core: k8s.CoreV1Api;

  constructor(
    kc: k8s.KubeConfig,
    private readonly ips: PodIpAllocator,
    private readonly services: ServiceProxy,
    private readonly apiserver: { host: string; port: number },
    private readonly log: (msg: string) => void,
  ) {
    this.core = kc.makeApiClient(k8s.CoreV1Api);
  }

  private volumeApi(namespace: string, pod: k8s.V1Pod): VolumeApi {
    const notFoundAsUndefined = <T>(p: Promise<T>): Promise<T | undefined> => p.catch((error: unknown) => {
      if (errorCode(error) === 404) return undefined;
      throw error;
    });
    return {
      readSecret: (name) => notFoundAsUndefined(this.core.readNamespacedSecret({ name, namespace })),
      readConfigMap: (name) => notFoundAsUndefined(this.core.readNamespacedConfigMap({ name, namespace })),
      requestToken: async (serviceAccount, audiences, expirationSeconds) => {
        const result = await this.core.createNamespacedServiceAccountToken({
          name: serviceAccount, namespace,
          body: { spec: { audiences: audiences ?? [], expirationSeconds, boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: pod.metadata!.name!, uid: pod.metadata!.uid! } } },
        });
        return { token: result.status!.token, expiresAt: new Date(result.status!.expirationTimestamp) };
      },
    };
  }

  /** One pass over all Pods; called every second by the agent's loop. */
  async tick(): Promise<void> {
    const pods = await this.core.listPodForAllNamespaces({});
    const seen = new Set<string>();
    for (const pod of pods.items) {
      const uid = pod.metadata!.uid!;
      const key = `${pod.metadata!.namespace}/${pod.metadata!.name}`;
      if (!pod.spec?.nodeName) {
        if (!pod.metadata?.deletionTimestamp) await this.bind(pod, key);
        continue;
      }
      if (pod.spec.nodeName !== nodeName) continue;
      seen.add(uid);
      let worker = this.workers.get(uid);
      if (pod.metadata?.deletionTimestamp) {
        if (!this.finalizing.has(uid)) {
          this.finalizing.add(uid);
          void this.finalize(pod, worker);
        }
        continue;
      }
      if (!worker) {
        // Finished before the agent (re)started: nothing left to run.
        if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') continue;
        const deps: WorkerDeps = {
          ips: this.ips, api: this.volumeApi(pod.metadata!.namespace!, pod), apiserver: this.apiserver,
          log: this.log, onChange: () => this.scheduleFlush(),
        };
        worker = new PodWorker(pod, deps);
        this.workers.set(uid, worker);
        worker.writeHosts(this.services.hostsFor(pod.metadata!.namespace!));
        worker.start();
      }
      worker.writeHosts(this.services.hostsFor(pod.metadata!.namespace!));
      void worker.refresh();
    }
    // Pods deleted without grace (force delete): stop their processes anyway.
    for (const [uid, worker] of this.workers) {
      if (!seen.has(uid) && !this.finalizing.has(uid)) {
        this.finalizing.add(uid);
        void worker.terminate(2).then(() => { worker.removeFiles(); this.forget(uid); });
      }
    }
    await this.flush();
  }

  private forget(uid: string): void {
    this.workers.delete(uid);
    this.written.delete(uid);
    this.finalizing.delete(uid);
  }

  private async bind(pod: k8s.V1Pod, key: string): Promise<void> {
    try {
      await this.core.createNamespacedBinding({
        namespace: pod.metadata!.namespace!,
        body: { metadata: { name: pod.metadata!.name!, uid: pod.metadata!.uid! }, target: { apiVersion: 'v1', kind: 'Node', name: nodeName } },
      });
      this.log(`pod ${key}: bound to ${nodeName}`);
    } catch (error) {
      if (errorCode(error) !== 409 && errorCode(error) !== 404) this.log(`pod ${key}: binding failed: ${describe(error)}`);
    }
  }

  /** Graceful deletion: stop the containers within the grace period, then remove the Pod object. */
  private async finalize(pod: k8s.V1Pod, worker: PodWorker | undefined): Promise<void> {
    const uid = pod.metadata!.uid!;
    const name = pod.metadata!.name!;
    const namespace = pod.metadata!.namespace!;
    const grace = pod.metadata?.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
    try {
      if (worker) {
        await worker.terminate(grace);
        await this.flushOne(worker).catch(() => undefined);
      }
      await this.core.deleteNamespacedPod({ name, namespace, gracePeriodSeconds: 0, body: { gracePeriodSeconds: 0, preconditions: { uid } } });
      this.log(`pod ${namespace}/${name}: deleted`);
    } catch (error) {
      if (errorCode(error) !== 404 && errorCode(error) !== 409) this.log(`pod ${namespace}/${name}: final delete failed: ${describe(error)}`);
    } finally {
      worker?.removeFiles();
      this.forget(uid);
    }
  }

  private scheduleFlush(): void {
    if (this.flushTimer) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      this.flush().catch((error: unknown) => this.log(`status update failed: ${describe(error)}`));
    }, 50);
  }

  private async flush(): Promise<void> {
    await Promise.all([...this.workers.values()].map((w) => this.flushOne(w).catch((error: unknown) => {
      if (errorCode(error) !== 404) this.log(`pod ${w.key}: status update failed: ${describe(error)}`);
    })));
  }

  private async flushOne(worker: PodWorker): Promise<void> {
    const status = worker.status();
    const json = JSON.stringify(status);
    if (this.written.get(worker.uid) === json) return;
    const [namespace, name] = worker.key.split('/') as [string, string];
    // Merge patch: we own every field we send (conditions and container statuses as a whole).
    await this.core.patchNamespacedPodStatus({ name, namespace, body: { metadata: { uid: worker.uid }, status } }, mergePatch);
    this.written.set(worker.uid, json);
  }

  /** Agent shutdown: stop every pod, capped at `maxGraceSeconds`. */
  async stopAll(maxGraceSeconds: number): Promise<void> {
    await Promise.all([...this.workers.values()].map(async (worker) => {
      await worker.terminate(maxGraceSeconds);
      worker.removeFiles();
    }));
    this.workers.clear();
  }
}
