/**
 * ReferenceGrant checks. A grant lives in the namespace of the object referred to and
 * allows references from a (group, kind, namespace) to a (group, kind[, name]) there.
 * Grants are indexed by their namespace so a check is one map lookup plus a scan of the
 * few grants in that namespace.
 */
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

export class ReferenceGrantIndex {
  private readonly byNamespace = new Map<string, ReferenceGrant[]>();

  constructor(grants: readonly ReferenceGrant[]) {
    for (const grant of grants) {
      const ns = grant.metadata.namespace ?? 'default';
      const list = this.byNamespace.get(ns);
      if (list) list.push(grant);
      else this.byNamespace.set(ns, [grant]);
    }
  }

  /** Same-namespace references need no grant; others need a grant in the target's namespace. */
  permits(from: ReferenceFrom, to: ReferenceTo): boolean {
    if (from.namespace === to.namespace) return true;
    for (const grant of this.byNamespace.get(to.namespace) ?? []) {
      const fromOk = (grant.spec?.from ?? []).some(
        (f) => (f.group ?? '') === from.group && f.kind === from.kind && f.namespace === from.namespace,
      );
      if (!fromOk) continue;
      const toOk = (grant.spec?.to ?? []).some(
        (t) => (t.group ?? '') === to.group && t.kind === to.kind && (t.name === undefined || t.name === '' || t.name === to.name),
      );
      if (toOk) return true;
    }
    return false;
  }
}
