/**
 * ReferenceGrant checks. A grant lives in the namespace of the object referred to and
 * allows references from a (group, kind, namespace) to a (group, kind[, name]) there.
 * Grants are indexed by target namespace and then by source namespace, so a check is two
 * map lookups and a scan of the few entries left, with no allocation on the hot path
 * (10,000 routes check their backends on every translate).
 */
import { objects } from './safe.js';
import type { ReferenceGrant } from './types.js';

export interface ReferenceFrom {
  group: string;
  kind: string;
  namespace: string;
}

export interface ReferenceTo {
  group: string;
  kind: string;
  namespace: string;
  name: string;
}

/** One (from, to) pair of one grant, flattened. */
interface GrantEntry {
  fromGroup: string;
  fromKind: string;
  toGroup: string;
  toKind: string;
  /** Empty: every object of the kind. */
  toName: string;
}

export class ReferenceGrantIndex {
  /** target namespace → source namespace → entries. */
  private readonly entries = new Map<string, Map<string, GrantEntry[]>>();

  constructor(grants: readonly ReferenceGrant[]) {
    for (const grant of grants) {
      const targetNamespace = grant.metadata.namespace || 'default';
      let bySource = this.entries.get(targetNamespace);
      if (!bySource) this.entries.set(targetNamespace, (bySource = new Map()));
      for (const from of objects(grant.spec?.from)) {
        let list = bySource.get(from.namespace);
        if (!list) bySource.set(from.namespace, (list = []));
        for (const to of objects(grant.spec?.to)) {
          list.push({ fromGroup: from.group ?? '', fromKind: from.kind, toGroup: to.group ?? '', toKind: to.kind, toName: to.name ?? '' });
        }
      }
    }
  }

  /** Same-namespace references need no grant; others need a grant in the target's namespace. */
  permits(from: ReferenceFrom, to: ReferenceTo): boolean {
    if (from.namespace === to.namespace) return true;
    const list = this.entries.get(to.namespace)?.get(from.namespace);
    if (!list) return false;
    for (const e of list) {
      if (
        e.fromGroup === from.group &&
        e.fromKind === from.kind &&
        e.toGroup === to.group &&
        e.toKind === to.kind &&
        (e.toName === '' || e.toName === to.name)
      ) {
        return true;
      }
    }
    return false;
  }
}
