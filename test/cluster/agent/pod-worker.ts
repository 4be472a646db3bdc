// Runs one Pod: its sandbox (network namespace and address), volumes, init containers in
// order, then the app containers; computes the Pod's status; tears everything down again.
import { mkdirSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import type * as k8s from '@kubernetes/client-node';
import { podsDir, podNetwork } from '../state.js';
import { createPodNetwork, deletePodNetwork, pidsInNetns, netnsName, type PodIpAllocator } from './network.js';
import { PodVolumes, VolumeError, type VolumeApi } from './volumes.js';
import { ContainerRunner, LaunchError, type ContainerState, type LaunchSpec } from './container.js';
import { lookupImage, commandLine, UnknownImageError } from './images.js';
import { containerEnv, expand, EnvError } from './env.js';
import { containerMounts, ensureMountPoints, stagingPoint } from './mounts.js';

export interface WorkerDeps {
  ips: PodIpAllocator;
  api: VolumeApi;
  apiserver: { host: string; port: number };
  log: (msg: string) => void;
  /** Something changed that the Pod's status should show. */
  onChange: () => void;
}

type ConditionType = 'PodReadyToStartContainers' | 'Initialized' | 'ContainersReady' | 'Ready' | 'PodScheduled';

function toK8sState(state: ContainerState): k8s.V1ContainerState {
  switch (state.kind) {
    case 'waiting': return { waiting: { reason: state.reason, ...(state.message ? { message: state.message } : {}) } };
    case 'running': return { running: { startedAt: state.startedAt } };
    case 'terminated': return {
      terminated: {
        exitCode: state.exitCode, reason: state.reason, startedAt: state.startedAt, finishedAt: state.finishedAt,
        ...(state.signal ? { signal: state.signal } : {}), ...(state.message ? { message: state.message } : {}),
      },
    };
  }
}

export class PodWorker {
  readonly uid: string;
  readonly key: string;
  readonly dir: string;
  podIp: string | undefined;
  private sandboxError: string | undefined;
  private volumes: PodVolumes | undefined;
  private readonly initRunners: ContainerRunner[] = [];
  private readonly runners: ContainerRunner[] = [];
  private initDone = false;
  private terminating = false;
  private readonly startTime = new Date();
  private readonly transitions = new Map<ConditionType, { status: string; at: Date }>();
  private syncing = false;
  private hostsContent = '';

  constructor(private pod: k8s.V1Pod, private readonly deps: WorkerDeps) {
    this.uid = pod.metadata!.uid!;
    this.key = `${pod.metadata!.namespace}/${pod.metadata!.name}`;
    this.dir = path.join(podsDir, `${pod.metadata!.namespace}_${pod.metadata!.name}_${this.uid.slice(0, 8)}`);
  }

  get hostsFile(): string {
    return path.join(this.dir, 'hosts');
  }

  private log(msg: string): void {
    this.deps.log(`pod ${this.key}: ${msg}`);
  }

  /** Creates the sandbox and starts the containers (init containers first, one at a time). */
  start(): void {
    mkdirSync(path.join(this.dir, 'volumes'), { recursive: true });
    mkdirSync(path.join(this.dir, 'logs'), { recursive: true });
    try {
      this.podIp = this.deps.ips.allocate();
      createPodNetwork(this.uid, this.podIp);
    } catch (error) {
      this.sandboxError = error instanceof Error ? error.message : String(error);
      this.log(`sandbox failed: ${this.sandboxError}`);
      this.deps.onChange();
      return;
    }
    this.writeHosts(this.hostsContent);
    this.volumes = new PodVolumes(this.pod, path.join(this.dir, 'volumes'), this.deps.api, this.podIp, podNetwork.gatewayIp);
    const policy = this.pod.spec?.restartPolicy ?? 'Always';
    const grace = this.pod.spec?.terminationGracePeriodSeconds ?? 30;
    const make = (c: k8s.V1Container, isInit: boolean): ContainerRunner => {
      const runner = new ContainerRunner(c, policy, isInit, this.podIp!, () => this.prepare(c), () => this.onContainerChange(), (m) => this.log(m));
      runner.graceSeconds = grace;
      return runner;
    };
    for (const c of this.pod.spec?.initContainers ?? []) this.initRunners.push(make(c, true));
    for (const c of this.pod.spec?.containers ?? []) this.runners.push(make(c, false));
    this.log(`sandbox ${netnsName(this.uid)} at ${this.podIp}`);
    this.advanceInit();
  }

  /** Starts the next init container, or the app containers when all init containers succeeded. */
  private advanceInit(): void {
    if (this.terminating) return;
    const pending = this.initRunners.find((r) => !(r.state.kind === 'terminated' && r.state.exitCode === 0));
    if (pending) {
      if (pending.state.kind === 'waiting' && pending.state.reason === 'ContainerCreating') pending.start();
      return;
    }
    if (!this.initDone) {
      this.initDone = true;
      for (const runner of this.runners) runner.start();
    }
  }

  private onContainerChange(): void {
    if (!this.initDone) this.advanceInit();
    this.deps.onChange();
  }

  private async prepare(container: k8s.V1Container): Promise<LaunchSpec> {
    let image;
    try {
      image = lookupImage(container.image ?? '');
    } catch (error) {
      if (error instanceof UnknownImageError) throw new LaunchError('ErrImagePull', error.message);
      throw error;
    }
    try {
      await this.volumes!.sync();
    } catch (error) {
      if (error instanceof VolumeError) throw new LaunchError('ContainerCreating', `MountVolume failed: ${error.message}`);
      throw error;
    }
    let env: Record<string, string>;
    try {
      env = await containerEnv(container, {
        pod: this.pod, podIp: this.podIp!, hostIp: podNetwork.gatewayIp, apiserver: this.deps.apiserver,
        readSecret: this.deps.api.readSecret, readConfigMap: this.deps.api.readConfigMap,
      });
    } catch (error) {
      if (error instanceof EnvError) throw new LaunchError('CreateContainerConfigError', error.message);
      throw error;
    }
    let argv: string[];
    try {
      argv = commandLine(image, container.command?.map((s) => expand(s, env)), container.args?.map((s) => expand(s, env)));
    } catch (error) {
      throw new LaunchError('CreateContainerError', error instanceof Error ? error.message : String(error));
    }
    const mounts = containerMounts(this.pod, container, (v) => this.volumes!.hostPath(v), this.hostsFile);
    ensureMountPoints([{ source: this.dir, target: stagingPoint, readOnly: false }, ...mounts]);
    return { argv, env, cwd: container.workingDir ?? '/', mounts, podDir: this.dir, netns: netnsName(this.uid), logFile: path.join(this.dir, 'logs', `${container.name}.log`) };
  }

  /** Periodic work: refresh Secret/ConfigMap/projected volumes of a running pod. */
  async refresh(): Promise<void> {
    if (!this.volumes || this.terminating || this.syncing) return;
    this.syncing = true;
    try {
      await this.volumes.sync();
    } catch (error) {
      this.log(`volume refresh: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      this.syncing = false;
    }
  }

  writeHosts(services: string): void {
    this.hostsContent = services;
    if (!this.podIp) return;
    const content = [
      '127.0.0.1\tlocalhost', '::1\tlocalhost ip6-localhost ip6-loopback',
      `${this.podIp}\t${this.pod.spec?.hostname ?? this.pod.metadata?.name}`, services, '',
    ].join('\n');
    let current = '';
    try { current = readFileSync(this.hostsFile, 'utf8'); } catch { /* first write */ }
    // In place (same inode), so the file bind-mounted over /etc/hosts sees the change.
    if (current !== content) writeFileSync(this.hostsFile, content);
  }

  private condition(type: ConditionType, ok: boolean, reason?: string, message?: string): k8s.V1PodCondition {
    const status = ok ? 'True' : 'False';
    const previous = this.transitions.get(type);
    if (!previous || previous.status !== status) this.transitions.set(type, { status, at: new Date() });
    return { type, status, lastTransitionTime: this.transitions.get(type)!.at, ...(reason ? { reason } : {}), ...(message ? { message } : {}) };
  }

  private containerStatus(runner: ContainerRunner): k8s.V1ContainerStatus {
    const image = runner.spec.image ?? '';
    return {
      name: runner.spec.name,
      image,
      imageID: `tlsgate-agent://${image}`,
      ...(runner.state.kind !== 'waiting' || runner.restartCount > 0 ? { containerID: `tlsgate-agent://${this.uid.slice(0, 8)}-${runner.spec.name}-${runner.restartCount}` } : {}),
      ready: runner.ready && runner.state.kind === 'running',
      started: runner.state.kind === 'running' && runner.started,
      restartCount: runner.restartCount,
      state: toK8sState(runner.state),
      ...(runner.lastState ? { lastState: toK8sState(runner.lastState) } : {}),
    };
  }

  private phase(): string {
    if (this.sandboxError) return 'Pending';
    const failedInit = this.initRunners.find((r) => r.finished && r.state.kind === 'terminated' && r.state.exitCode !== 0);
    if (failedInit) return 'Failed';
    if (!this.initDone) return 'Pending';
    if (this.runners.every((r) => r.finished)) {
      return this.runners.every((r) => r.state.kind === 'terminated' && r.state.exitCode === 0) ? 'Succeeded' : 'Failed';
    }
    const everStarted = this.runners.some((r) => r.state.kind === 'running' || r.lastState !== undefined || r.state.kind === 'terminated');
    return everStarted ? 'Running' : 'Pending';
  }

  status(): k8s.V1PodStatus {
    const phase = this.phase();
    const containersReady = this.runners.length > 0 && this.runners.every((r) => r.ready && r.state.kind === 'running');
    const notReady = this.runners.filter((r) => !(r.ready && r.state.kind === 'running')).map((r) => r.spec.name);
    const notReadyMessage = notReady.length ? `containers with unready status: [${notReady.join(' ')}]` : undefined;
    const conditions = [
      this.condition('PodReadyToStartContainers', this.podIp !== undefined && !this.sandboxError),
      this.condition('Initialized', this.initDone, this.initDone ? undefined : 'ContainersNotInitialized'),
      this.condition('ContainersReady', containersReady, containersReady ? undefined : 'ContainersNotReady', notReadyMessage),
      this.condition('Ready', containersReady && !this.terminating, containersReady ? undefined : 'ContainersNotReady', notReadyMessage),
      this.condition('PodScheduled', true),
    ];
    return {
      phase,
      conditions,
      hostIP: podNetwork.gatewayIp,
      hostIPs: [{ ip: podNetwork.gatewayIp }],
      ...(this.podIp && !this.sandboxError ? { podIP: this.podIp, podIPs: [{ ip: this.podIp }] } : {}),
      startTime: this.startTime,
      ...(this.sandboxError ? { message: `pod sandbox failed: ${this.sandboxError}`, reason: 'SandboxFailed' } : {}),
      initContainerStatuses: this.initRunners.map((r) => this.containerStatus(r)),
      containerStatuses: this.runners.map((r) => this.containerStatus(r)),
    };
  }

  /** Stops every container (SIGTERM, then SIGKILL after `graceSeconds`) and removes the sandbox. */
  async terminate(graceSeconds: number): Promise<void> {
    if (this.terminating) return;
    this.terminating = true;
    this.deps.onChange();
    await Promise.all([...this.initRunners, ...this.runners].map((r) => r.stop(graceSeconds * 1000)));
    for (const pid of pidsInNetns(netnsName(this.uid))) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    }
    deletePodNetwork(this.uid);
    if (this.podIp) this.deps.ips.release(this.podIp);
    this.log('stopped and removed');
  }

  /** Deletes the pod's volumes and hosts file; its logs stay (for debugging) until cluster:down. */
  removeFiles(): void {
    rmSync(path.join(this.dir, 'volumes'), { recursive: true, force: true });
    rmSync(this.hostsFile, { force: true });
  }
}
