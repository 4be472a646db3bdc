/**
 * Watches one kind of Gateway API object in a namespace and tells waiters the moment an object
 * reaches a wanted state. A watch rather than polling: the time of the event is the time the
 * status was written (give or take the API server's fan-out), not the time of the next poll.
 */
import * as k8s from '@kubernetes/client-node';

const GROUP = 'gateway.networking.k8s.io';

export interface GatewayApiObject {
  metadata: { name: string; generation?: number; resourceVersion?: string };
  spec?: unknown;
  status?: any;
}

interface Waiter {
  name: string;
  matches: (object: GatewayApiObject) => boolean;
  resolve: (at: number) => void;
}

export class ObjectWatch {
  /** The latest state of each object and performance.now() when it was observed. */
  private readonly objects = new Map<string, { object: GatewayApiObject; at: number }>();
  private waiters: Waiter[] = [];
  /** Every state observed by the watch, in order (a run sees a few hundred at most). */
  private readonly history: { name: string; at: number; object: GatewayApiObject }[] = [];
  private resourceVersion: string | undefined;
  private abort: AbortController | undefined;
  private stopped = false;
  private restarts = 0;

  constructor(
    private readonly kubeConfig: k8s.KubeConfig,
    private readonly namespace: string,
    private readonly plural: 'tlsroutes' | 'gateways',
    private readonly log: (line: string) => void,
  ) {}

  /** Lists, then watches from the list's resourceVersion; resolves once the watch is open. */
  async start(): Promise<void> {
    await this.relist();
    await this.watch();
  }

  stop(): void {
    this.stopped = true;
    this.abort?.abort();
  }

  /** Watch restarts during the run (each one may delay an observation). */
  get restartCount(): number {
    return this.restarts;
  }

  latest(name: string): GatewayApiObject | undefined {
    return this.objects.get(name)?.object;
  }

  /**
   * Resolves with performance.now() at the first event where the object `name` matches, or
   * with the time the current state was observed if that already matches.
   */
  when(name: string, matches: (object: GatewayApiObject) => boolean): Promise<number> {
    const current = this.objects.get(name);
    if (current && matches(current.object)) return Promise.resolve(current.at);
    return new Promise((resolve) => this.waiters.push({ name, matches, resolve }));
  }

  /** The states of `name` the watch delivered at or after `since` (performance.now()). */
  observedSince(name: string, since: number): GatewayApiObject[] {
    return this.history.filter((h) => h.name === name && h.at >= since).map((h) => h.object);
  }

  /** Forgets waiters that will never be satisfied (a change that timed out). */
  cancel(name: string): void {
    this.waiters = this.waiters.filter((w) => w.name !== name);
  }

  private async relist(): Promise<void> {
    const custom = this.kubeConfig.makeApiClient(k8s.CustomObjectsApi);
    const list = (await custom.listNamespacedCustomObject({ group: GROUP, version: 'v1', namespace: this.namespace, plural: this.plural })) as {
      metadata?: { resourceVersion?: string };
      items: GatewayApiObject[];
    };
    this.objects.clear();
    for (const item of list.items) this.observe(item);
    this.resourceVersion = list.metadata?.resourceVersion;
  }

  private async watch(): Promise<void> {
    const path = `/apis/${GROUP}/v1/namespaces/${this.namespace}/${this.plural}`;
    this.abort = await new k8s.Watch(this.kubeConfig).watch(
      path,
      { resourceVersion: this.resourceVersion, allowWatchBookmarks: true },
      (phase, object: GatewayApiObject) => {
        const at = performance.now();
        if (phase === 'ERROR') return; // e.g. 410 Gone: the done callback restarts with a relist
        if (object.metadata?.resourceVersion) this.resourceVersion = object.metadata.resourceVersion;
        if (phase === 'BOOKMARK') return;
        if (phase === 'DELETED') this.objects.delete(object.metadata.name);
        else {
          this.history.push({ name: object.metadata.name, at, object });
          this.observe(object, at);
        }
      },
      (error: unknown) => {
        if (this.stopped) return;
        this.restarts++;
        this.log(`${this.plural} watch ended (${error ? String((error as Error).message ?? error) : 'closed by the server'}); restarting`);
        void this.restart();
      },
    );
  }

  private async restart(): Promise<void> {
    for (let attempt = 1; !this.stopped; attempt++) {
      try {
        // A relist can only make observations later than real, never earlier: acceptable for
        // the rare restart, and counted in restartCount so the report can say so.
        await this.relist();
        await this.watch();
        return;
      } catch (error) {
        this.log(`${this.plural} watch restart ${attempt} failed: ${(error as Error).message}`);
        await new Promise((resolve) => setTimeout(resolve, Math.min(2000, 100 * attempt)));
      }
    }
  }

  private observe(object: GatewayApiObject, at = performance.now()): void {
    this.objects.set(object.metadata.name, { object, at });
    const remaining: Waiter[] = [];
    for (const waiter of this.waiters) {
      if (waiter.name === object.metadata.name && waiter.matches(object)) waiter.resolve(at);
      else remaining.push(waiter);
    }
    this.waiters = remaining;
  }
}

export interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  observedGeneration?: number;
}

export function conditionOf(conditions: Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

/** The route's parent entry written by `controllerName` says Accepted=True for this generation. */
export function routeAcceptedAt(route: GatewayApiObject, controllerName: string, generation: number): boolean {
  const parents = (route.status?.parents ?? []) as { controllerName?: string; conditions?: Condition[] }[];
  const ours = parents.filter((p) => p.controllerName === controllerName);
  if (ours.length === 0) return false;
  return ours.every((p) => {
    const accepted = conditionOf(p.conditions, 'Accepted');
    return accepted?.status === 'True' && accepted.observedGeneration === generation;
  });
}

/** The Gateway's Programmed=True condition, with its message (which names the served config). */
export function programmed(gateway: GatewayApiObject | undefined): Condition | undefined {
  const condition = conditionOf(gateway?.status?.conditions as Condition[] | undefined, 'Programmed');
  return condition?.status === 'True' ? condition : undefined;
}

export function attachedRoutes(gateway: GatewayApiObject | undefined, listener: string): number {
  const listeners = (gateway?.status?.listeners ?? []) as { name: string; attachedRoutes?: number }[];
  return listeners.find((l) => l.name === listener)?.attachedRoutes ?? 0;
}
