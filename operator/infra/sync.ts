/**
 * Keeps every served Gateway's proxy infrastructure as rendered: applies a Gateway's objects
 * when their rendering changed (or on a full sync, to repair drift), deletes objects that
 * are no longer rendered (a PodDisruptionBudget removed from the parameters, a Gateway that
 * left our class or gets no proxy config any more: not Accepted, unless only because its ports
 * are unavailable, see translate). Deleted Gateways need nothing: their objects
 * carry ownerReferences and the garbage collector removes them.
 *
 * Drift: the operator watches the objects it owns (sources/kinds.ts ownedKinds) and hands each
 * change to `noticeChange`. A deleted object, or one whose labels, annotations, owners or spec
 * changed in a write that was not ours (its resourceVersion is not the one our apply returned),
 * makes its Gateway's record stale, so the next reconcile applies it again: a deleted proxy
 * Deployment comes back within a reconcile, not at the next full resync.
 */
import { createHash } from 'node:crypto';
import { InfraClient, idKey, idOf, type AppliableObject, type InfraKind, type ObjectId, INFRA_KINDS } from './apply.js';
import { describe } from '../status/writer.js';
import type { KubeObject } from '../objects.js';

export interface GatewayInfrastructure {
  /** "namespace/name" of the Gateway. */
  gateway: string;
  objects: AppliableObject[];
}

interface Applied {
  hash: string;
  ids: ObjectId[];
  /** idKey → the resourceVersion our last apply of it returned. */
  versions: Map<string, string | undefined>;
  /** A drift was noticed while the apply was under way: its result is not current either. */
  drifted?: boolean;
}

/** Where applies and deletions are counted (operator/metrics.ts). */
export interface InfrastructureCounters {
  applied(kind: InfraKind, result: 'success' | 'error'): void;
  deleted(kind: InfraKind, result: 'success' | 'error'): void;
}

export interface SyncResult {
  /** Gateways whose objects could not all be applied (each is tried again by the next sync). */
  failedGateways: string[];
}

/** A change the drift watch reported that needs the Gateway's objects applied again. */
export interface Drift {
  gateway: string;
  id: ObjectId;
  what: 'deleted' | 'changed';
}

export class InfrastructureSync {
  private readonly applied = new Map<string, Applied>();

  constructor(
    private readonly client: InfraClient,
    private readonly log: (message: string) => void,
    private readonly counters?: InfrastructureCounters,
  ) {}

  /** Forget what was applied (on losing leadership: the next leader's view is the truth). */
  reset(): void {
    this.applied.clear();
  }

  /**
   * Bring the cluster to `desired`. With `full`, every Gateway's objects are re-applied and
   * every managed object in the cluster that is not desired is deleted.
   */
  async sync(desired: GatewayInfrastructure[], full: boolean): Promise<SyncResult> {
    const failedGateways: string[] = [];
    const wanted = new Set<string>();
    for (const gateway of desired) {
      const ids = gateway.objects.map(idOf);
      for (const id of ids) wanted.add(idKey(id));
      const hash = hashObjects(gateway.objects);
      const before = this.applied.get(gateway.gateway);
      if (!full && before?.hash === hash) continue;
      const versions = new Map<string, string | undefined>();
      // Recorded before the first apply answers, so the watch events of these very applies are
      // recognised as ours (their resourceVersions are filled in as the answers arrive).
      this.applied.set(gateway.gateway, { hash: '', ids, versions });
      try {
        for (const object of sortForApply(gateway.objects)) {
          const id = idOf(object);
          try {
            const result = await this.client.apply(object);
            versions.set(idKey(id), result.resourceVersion);
            this.counters?.applied(id.kind, 'success');
          } catch (err) {
            this.counters?.applied(id.kind, 'error');
            throw new Error(`apply ${id.kind} ${id.namespace}/${id.name}: ${describe(err)}`);
          }
        }
        // Only now is the record current, unless a drift was noticed meanwhile.
        const record = this.applied.get(gateway.gateway);
        if (record?.versions === versions && !record.drifted) record.hash = hash;
      } catch (err) {
        // Leave the record stale so that the next reconcile retries this Gateway.
        this.applied.set(gateway.gateway, { hash: '', ids, versions });
        failedGateways.push(gateway.gateway);
        this.log(`infrastructure of Gateway ${gateway.gateway}: ${(err as Error).message}`);
        continue;
      }
      for (const id of before?.ids ?? []) {
        if (!ids.some((kept) => idKey(kept) === idKey(id))) await this.deleteQuietly(id);
      }
    }
    const served = new Set(desired.map((g) => g.gateway));
    for (const [gateway, record] of [...this.applied]) {
      if (served.has(gateway)) continue;
      // Forgotten first, so the drift watch does not take these deletions for someone else's.
      this.applied.delete(gateway);
      for (const id of record.ids) await this.deleteQuietly(id);
    }
    if (full) {
      let managed: ObjectId[] = [];
      try {
        managed = await this.client.listManaged();
      } catch (err) {
        this.log(`infrastructure sweep: ${describe(err)}`);
      }
      for (const id of managed) if (!wanted.has(idKey(id))) await this.deleteQuietly(id);
    }
    return { failedGateways };
  }

  /**
   * A watched owned object changed or is gone. When that undoes what we applied, the Gateway's
   * record is made stale (its next sync applies it again) and the drift is returned.
   */
  noticeChange(kind: InfraKind, event: 'upsert' | 'delete', object: KubeObject, previous: KubeObject | undefined): Drift | undefined {
    const id: ObjectId = { kind, namespace: object.metadata?.namespace ?? '', name: object.metadata?.name ?? '' };
    const key = idKey(id);
    for (const [gateway, record] of this.applied) {
      if (!record.versions.has(key) && !record.ids.some((known) => idKey(known) === key)) continue;
      if (event === 'upsert') {
        if (record.versions.get(key) === object.metadata?.resourceVersion) return undefined; // our own write
        // Status, managedFields and the like: nothing we render moved.
        if (!previous || renderedPart(previous) === renderedPart(object)) return undefined;
      }
      record.hash = '';
      record.drifted = true;
      return { gateway, id, what: event === 'delete' ? 'deleted' : 'changed' };
    }
    return undefined;
  }

  private async deleteQuietly(id: ObjectId): Promise<void> {
    try {
      await this.client.delete(id);
      this.counters?.deleted(id.kind, 'success');
      this.log(`deleted ${id.kind} ${id.namespace}/${id.name} (no longer rendered)`);
    } catch (err) {
      this.counters?.deleted(id.kind, 'error');
      this.log(`delete ${id.kind} ${id.namespace}/${id.name}: ${describe(err)}`);
    }
  }
}

/** The parts of an object a render sets (never its status): what drift is about. */
function renderedPart(object: KubeObject): string {
  const o = object as KubeObject & Record<string, unknown>;
  const { labels, annotations, ownerReferences } = o.metadata ?? {};
  return JSON.stringify([labels, annotations, ownerReferences, o.spec, o.data, o.type, o.automountServiceAccountToken]);
}

function sortForApply(objects: AppliableObject[]): AppliableObject[] {
  return [...objects].sort((a, b) => INFRA_KINDS.indexOf(a.kind as never) - INFRA_KINDS.indexOf(b.kind as never));
}

/** A digest of the rendered objects, to skip applies that would change nothing. In memory only. */
export function hashObjects(objects: AppliableObject[]): string {
  return createHash('sha256').update(JSON.stringify(objects)).digest('hex');
}
