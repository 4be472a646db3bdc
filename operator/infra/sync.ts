/**
 * Keeps every served Gateway's proxy infrastructure as rendered: applies a Gateway's objects
 * when their rendering changed (or on a full sync, to repair drift), deletes objects that
 * are no longer rendered (a PodDisruptionBudget removed from the parameters, a Gateway that
 * left our class or gets no proxy config any more: not Accepted, unless only because its ports
 * are unavailable, see translate). Deleted Gateways need nothing: their objects
 * carry ownerReferences and the garbage collector removes them.
 */
import { createHash } from 'node:crypto';
import { InfraClient, idKey, idOf, type AppliableObject, type ObjectId, INFRA_KINDS } from './apply.js';
import { describe } from '../status/writer.js';

export interface GatewayInfrastructure {
  /** "namespace/name" of the Gateway. */
  gateway: string;
  objects: AppliableObject[];
}

interface Applied {
  hash: string;
  ids: ObjectId[];
}

export class InfrastructureSync {
  private readonly applied = new Map<string, Applied>();

  constructor(private readonly client: InfraClient, private readonly log: (message: string) => void) {}

  /** Forget what was applied (on losing leadership: the next leader's view is the truth). */
  reset(): void {
    this.applied.clear();
  }

  /**
   * Bring the cluster to `desired`. With `full`, every Gateway's objects are re-applied and
   * every managed object in the cluster that is not desired is deleted.
   */
  async sync(desired: GatewayInfrastructure[], full: boolean): Promise<void> {
    const wanted = new Set<string>();
    for (const gateway of desired) {
      const ids = gateway.objects.map(idOf);
      for (const id of ids) wanted.add(idKey(id));
      const hash = hashObjects(gateway.objects);
      const before = this.applied.get(gateway.gateway);
      if (!full && before?.hash === hash) continue;
      try {
        for (const object of sortForApply(gateway.objects)) await this.client.apply(object);
        this.applied.set(gateway.gateway, { hash, ids });
      } catch (err) {
        // Leave the record stale so that the next reconcile retries this Gateway.
        this.applied.delete(gateway.gateway);
        this.log(`infrastructure of Gateway ${gateway.gateway}: ${describe(err)}`);
        continue;
      }
      for (const id of before?.ids ?? []) {
        if (!ids.some((kept) => idKey(kept) === idKey(id))) await this.deleteQuietly(id);
      }
    }
    const served = new Set(desired.map((g) => g.gateway));
    for (const [gateway, record] of [...this.applied]) {
      if (served.has(gateway)) continue;
      for (const id of record.ids) await this.deleteQuietly(id);
      this.applied.delete(gateway);
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
  }

  private async deleteQuietly(id: ObjectId): Promise<void> {
    try {
      await this.client.delete(id);
      this.log(`deleted ${id.kind} ${id.namespace}/${id.name} (no longer rendered)`);
    } catch (err) {
      this.log(`delete ${id.kind} ${id.namespace}/${id.name}: ${describe(err)}`);
    }
  }
}

function sortForApply(objects: AppliableObject[]): AppliableObject[] {
  return [...objects].sort((a, b) => INFRA_KINDS.indexOf(a.kind as never) - INFRA_KINDS.indexOf(b.kind as never));
}

/** A digest of the rendered objects, to skip applies that would change nothing. In memory only. */
export function hashObjects(objects: AppliableObject[]): string {
  return createHash('sha256').update(JSON.stringify(objects)).digest('hex');
}
