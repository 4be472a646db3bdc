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
  private readonly memo = new Map<string, boolean>();

  constructor(grants: readonly ReferenceGrant[]) {
    for (const grant of grants) {
      const ns = grant.metadata.namespace ?? 'default';
      const list = this.byNamespace.get(ns);
      if (list) list.push(grant);
      else this.byNamespace.set(ns, [grant]);
    }
  }

  /**
   * Same-namespace references need no grant; others need a grant in the target's
   * namespace. Answers are memoized per translate (thousands of routes share few targets).
   */
  permits(from: ReferenceFrom, to: ReferenceTo): boolean {
    if (from.namespace === to.namespace) return true;
    const grants = this.byNamespace.get(to.namespace);
    if (!grants) return false;
    const memoKey = `${from.group}/${from.kind}/${from.namespace}>${to.group}/${to.kind}/${to.namespace}/${to.name}`;
    let answer = this.memo.get(memoKey);
    if (answer === undefined) {
      answer = grants.some((grant) => grantAllows(grant, from, to));
      this.memo.set(memoKey, answer);
    }
    return answer;
  }
}

function grantAllows(grant: ReferenceGrant, from: ReferenceFrom, to: ReferenceTo): boolean {
  const fromOk = (grant.spec?.from ?? []).some(
    (f) => (f.group ?? '') === from.group && f.kind === from.kind && f.namespace === from.namespace,
  );
  return (
    fromOk &&
    (grant.spec?.to ?? []).some(
      (t) => (t.group ?? '') === to.group && t.kind === to.kind && (t.name === undefined || t.name === '' || t.name === to.name),
    )
  );
}
