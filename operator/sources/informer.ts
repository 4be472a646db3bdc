/**
 * A resilient informer around client-node 1.4.0's makeInformer, which lists then watches but
 * stops for good on any error other than 410, has no resync and no timeout on a dead watch.
 *
 * Here every (re)start is a fresh informer: it lists everything, we prune from our store
 * whatever the list no longer has (objects deleted while we were away), and then follow its
 * watch. Errors restart it with exponential backoff; a timer restarts it every resync
 * period, which both recovers a silently dead watch and repairs any missed event.
 *
 * The store holds plain JSON objects (dates as strings, apiVersion and kind set), because
 * the list returns typed objects with Date fields while the watch returns raw JSON.
 */
import * as k8s from '@kubernetes/client-node';
import { Backoff } from './backoff.js';
import type { KubeObject } from '../objects.js';

export interface WatchedKind<T extends KubeObject = KubeObject> {
  /** For logs and the snapshot: the Kind name. */
  kind: string;
  apiVersion: string;
  /** The collection path, e.g. /apis/gateway.networking.k8s.io/v1/gateways. */
  path: string;
  list: () => Promise<{ metadata?: { resourceVersion?: string }; items: T[] }>;
  /** A 404 on list (the CRD is not installed) counts as synced and empty, retried later. */
  optional?: boolean;
  /** Sent with the watch (the list function applies its own): only these objects are cached. */
  labelSelector?: string;
  fieldSelector?: string;
}

export interface InformerOptions {
  resyncMs: number;
  /** Called after every change to the store. */
  onChange: (kind: string) => void;
  log: (message: string) => void;
  backoff?: Backoff;
  /** Each object added, changed (new resourceVersion) or gone, for watchers of single objects. */
  onObject?: (event: 'upsert' | 'delete', object: KubeObject, previous: KubeObject | undefined) => void;
  /** Each restart of the list and watch: after an error, or the periodic full resync. */
  onRestart?: (reason: 'error' | 'resync') => void;
}

type Informer = k8s.Informer<k8s.KubernetesObject> & k8s.ObjectCache<k8s.KubernetesObject>;

export class ResilientInformer {
  private readonly store = new Map<string, KubeObject>();
  private current: Informer | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private hasSynced = false;
  private readonly backoff: Backoff;
  private readonly syncWaiters: (() => void)[] = [];

  constructor(
    private readonly kubeConfig: k8s.KubeConfig,
    private readonly watched: WatchedKind,
    private readonly options: InformerOptions,
  ) {
    this.backoff = options.backoff ?? new Backoff();
  }

  get kind(): string {
    return this.watched.kind;
  }

  get synced(): boolean {
    return this.hasSynced;
  }

  /** Starts listing and watching; resolves once the first list is in the store. */
  start(): Promise<void> {
    this.stopped = false;
    const synced = new Promise<void>((resolve) => this.syncWaiters.push(resolve));
    void this.run();
    return synced;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.restartTimer);
    const informer = this.current;
    this.current = undefined;
    if (informer) void informer.stop().catch(() => undefined);
  }

  /** Objects in the store. */
  get size(): number {
    return this.store.size;
  }

  list(): KubeObject[] {
    return [...this.store.values()];
  }

  private async run(): Promise<void> {
    if (this.stopped) return;
    const previous = this.current;
    const informer: Informer = new k8s.ListWatch(
      this.watched.path,
      new k8s.Watch(this.kubeConfig),
      this.watched.list as k8s.ListPromise<k8s.KubernetesObject>,
      false,
      this.watched.labelSelector,
      this.watched.fieldSelector,
    );
    this.current = informer;
    if (previous) void previous.stop().catch(() => undefined);

    const isCurrent = () => this.current === informer && !this.stopped;
    const upsert = (obj: k8s.KubernetesObject) => {
      if (!isCurrent()) return;
      const plain = this.toPlain(obj);
      const key = storeKey(plain);
      const before = this.store.get(key);
      this.store.set(key, plain);
      if (before?.metadata?.resourceVersion !== plain.metadata?.resourceVersion || !before) {
        this.options.onObject?.('upsert', plain, before);
        this.options.onChange(this.watched.kind);
      }
    };
    informer.on('add', upsert);
    informer.on('update', upsert);
    informer.on('delete', (obj) => {
      if (!isCurrent()) return;
      const key = storeKey(obj as KubeObject);
      const before = this.store.get(key);
      if (before && this.store.delete(key)) {
        this.options.onObject?.('delete', before, before);
        this.options.onChange(this.watched.kind);
      }
    });
    // makeInformer reports list and watch failures through 'error' and then stops for good.
    let failed = false;
    informer.on('error', (err) => {
      if (!isCurrent()) return;
      failed = true;
      if (this.watched.optional && statusOf(err) === 404) {
        this.prune(new Set());
        this.markSynced();
        this.scheduleRestart(undefined, this.options.resyncMs / 5);
        return;
      }
      this.scheduleRestart(`watch failed: ${describe(err)}`);
    });

    try {
      await informer.start();
    } catch (err) {
      if (isCurrent()) this.scheduleRestart(`start failed: ${describe(err)}`);
      return;
    }
    if (!isCurrent() || failed) return;
    // The list succeeded: whatever it lacks was deleted while we were not watching.
    this.prune(new Set(informer.list().map((obj) => storeKey(obj as KubeObject))));
    this.backoff.reset();
    this.markSynced();
    this.scheduleRestart(undefined, this.options.resyncMs * (0.9 + 0.2 * Math.random()));
  }

  private scheduleRestart(reason: string | undefined, delayMs?: number): void {
    if (this.stopped) return;
    clearTimeout(this.restartTimer);
    const delay = delayMs ?? this.backoff.next();
    if (reason) this.options.log(`informer ${this.watched.kind}: ${reason}; restarting in ${delay} ms`);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      this.options.onRestart?.(reason ? 'error' : 'resync');
      void this.run();
    }, delay);
    this.restartTimer.unref?.();
  }

  private prune(keep: Set<string>): void {
    let changed = false;
    for (const key of [...this.store.keys()]) {
      if (!keep.has(key)) {
        const before = this.store.get(key);
        this.store.delete(key);
        if (before) this.options.onObject?.('delete', before, before);
        changed = true;
      }
    }
    if (changed) this.options.onChange(this.watched.kind);
  }

  private markSynced(): void {
    this.hasSynced = true;
    for (const resolve of this.syncWaiters.splice(0)) resolve();
  }

  private toPlain(obj: k8s.KubernetesObject): KubeObject {
    const plain = JSON.parse(JSON.stringify(obj)) as KubeObject;
    plain.apiVersion ??= this.watched.apiVersion;
    plain.kind ??= this.watched.kind;
    return plain;
  }
}

function storeKey(obj: KubeObject): string {
  return `${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}`;
}

export function statusOf(err: unknown): number | undefined {
  const e = err as { code?: unknown; statusCode?: unknown };
  if (typeof e?.code === 'number') return e.code;
  if (typeof e?.statusCode === 'number') return e.statusCode;
  return undefined;
}

function describe(err: unknown): string {
  const status = statusOf(err);
  const message = err instanceof Error ? err.message : String(err);
  return status ? `HTTP ${status}: ${message.split('\n')[0]}` : message.split('\n')[0]!;
}
