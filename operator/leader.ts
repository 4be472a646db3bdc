/**
 * Leader election on a coordination.k8s.io/v1 Lease, the way client-go does it: the holder
 * renews every retry period; others take over only after they have seen the same lease
 * record, unchanged, for a whole lease duration by their OWN clock (never by comparing the
 * holder's timestamps with local time, so clock skew between nodes cannot cause two
 * leaders). All writes are replaces with resourceVersion, so two candidates can never both
 * win the same record. Times are V1MicroTime: MicroTime needs six fractional digits.
 */
import { EventEmitter } from 'node:events';
import * as k8s from '@kubernetes/client-node';
import { statusOf } from './sources/informer.js';

export interface LeaderElectionOptions {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationSeconds: number;
  renewDeadlineSeconds: number;
  retryPeriodSeconds: number;
  log: (message: string) => void;
  /** Monotonic milliseconds; injectable for tests of the expiry arithmetic. */
  clock?: () => number;
}

export interface LeaderElectorEvents {
  'started-leading': [];
  'stopped-leading': [];
}

export class LeaderElector extends EventEmitter<LeaderElectorEvents> {
  private readonly api: k8s.CoordinationV1Api;
  private leading = false;
  private timer: NodeJS.Timeout | undefined;
  private stopped = true;
  private lastRenewAt = 0;
  /** The last record we saw held by someone else, and when we first saw it (our clock). */
  private observed: { key: string; at: number } | undefined;
  private readonly clock: () => number;
  /** The acquire or renew request of the running tick, which stop() lets finish first. */
  private attempt: Promise<void> | undefined;
  /** A request in flight when stop() began won the lease: stop() must still release it. */
  private wonAfterStop = false;

  constructor(kubeConfig: k8s.KubeConfig, private readonly options: LeaderElectionOptions) {
    super();
    this.api = kubeConfig.makeApiClient(k8s.CoordinationV1Api);
    this.clock = options.clock ?? (() => performance.now());
  }

  get isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    void this.tick();
  }

  /**
   * Stops campaigning; a leader releases the lease so that a successor need not wait.
   * `release: false` leaves the lease to expire, as after a crash.
   */
  async stop(options: { release?: boolean } = {}): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    // A renew already sent can still succeed; waiting for it means it can neither report
    // leadership after stop() nor change the lease under the release below (a 409 there
    // would leave the successor waiting a whole lease duration).
    await this.attempt;
    const held = this.leading || this.wonAfterStop;
    this.wonAfterStop = false;
    if (!held) return;
    this.setLeading(false);
    if (options.release === false) return;
    try {
      const lease = await this.api.readNamespacedLease({ name: this.options.name, namespace: this.options.namespace });
      if (lease.spec?.holderIdentity !== this.options.identity) return;
      lease.spec.holderIdentity = undefined;
      lease.spec.leaseDurationSeconds = 1;
      lease.spec.renewTime = new k8s.V1MicroTime();
      await this.api.replaceNamespacedLease({ name: this.options.name, namespace: this.options.namespace, body: lease });
    } catch (err) {
      this.options.log(`lease ${this.options.namespace}/${this.options.name}: release failed: ${(err as Error).message.split('\n')[0]}`);
    }
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    this.attempt = this.tryAcquireOrRenew().catch((err: unknown) => {
      this.options.log(`lease ${this.options.namespace}/${this.options.name}: ${(err as Error).message.split('\n')[0]}`);
    });
    await this.attempt;
    this.attempt = undefined;
    if (this.leading && this.clock() - this.lastRenewAt > this.options.renewDeadlineSeconds * 1000) {
      this.options.log(`lease ${this.options.namespace}/${this.options.name}: not renewed within ${this.options.renewDeadlineSeconds}s; stepping down`);
      this.setLeading(false);
    }
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.tick(), this.options.retryPeriodSeconds * 1000);
    this.timer.unref?.();
  }

  private async tryAcquireOrRenew(): Promise<void> {
    const { namespace, name, identity, leaseDurationSeconds } = this.options;
    let lease: k8s.V1Lease;
    try {
      lease = await this.api.readNamespacedLease({ name, namespace });
    } catch (err) {
      if (statusOf(err) !== 404) throw err;
      const now = new k8s.V1MicroTime();
      try {
        await this.api.createNamespacedLease({
          namespace,
          body: {
            metadata: { name, namespace },
            spec: { holderIdentity: identity, leaseDurationSeconds, acquireTime: now, renewTime: now, leaseTransitions: 0 },
          },
        });
        this.renewed();
      } catch (createErr) {
        if (statusOf(createErr) !== 409) throw createErr; // someone else created it first
      }
      return;
    }

    const spec = lease.spec ?? {};
    const now = new k8s.V1MicroTime();
    if (spec.holderIdentity === identity) {
      lease.spec = { ...spec, renewTime: now, leaseDurationSeconds };
      await this.replace(lease);
      return;
    }
    if (this.leading) this.setLeading(false); // someone else holds it now

    // Expiry by local observation: the record must stay unchanged for a lease duration.
    const recordKey = `${spec.holderIdentity ?? ''}|${String(spec.renewTime ?? '')}|${lease.metadata?.resourceVersion ?? ''}`;
    if (!this.observed || this.observed.key !== recordKey) this.observed = { key: recordKey, at: this.clock() };
    const duration = (spec.leaseDurationSeconds ?? leaseDurationSeconds) * 1000;
    const free = !spec.holderIdentity || this.clock() - this.observed.at >= duration;
    if (!free) return;
    lease.spec = {
      ...spec,
      holderIdentity: identity,
      leaseDurationSeconds,
      acquireTime: now,
      renewTime: now,
      leaseTransitions: (spec.leaseTransitions ?? 0) + 1,
    };
    await this.replace(lease);
  }

  private async replace(lease: k8s.V1Lease): Promise<void> {
    try {
      // The body carries metadata.resourceVersion: a concurrent writer makes this a 409.
      await this.api.replaceNamespacedLease({ name: this.options.name, namespace: this.options.namespace, body: lease });
      this.renewed();
    } catch (err) {
      if (statusOf(err) !== 409) throw err;
    }
  }

  private renewed(): void {
    this.lastRenewAt = this.clock();
    this.observed = undefined;
    if (this.stopped) {
      // Never announce leadership once stopping: listeners would label a pod that is going away.
      this.wonAfterStop = !this.leading;
      return;
    }
    this.setLeading(true);
  }

  private setLeading(leading: boolean): void {
    if (leading === this.leading) return;
    this.leading = leading;
    this.options.log(`lease ${this.options.namespace}/${this.options.name}: ${this.options.identity} ${leading ? 'became the leader' : 'is no longer the leader'}`);
    this.emit(leading ? 'started-leading' : 'stopped-leading');
  }
}
