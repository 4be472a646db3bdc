// The ReferenceGrants the constructs write for you: one per (referring kind and namespace,
// target kind, namespace and name) in the whole app, so that ten routes of one team to
// one Service share one grant.
import { createHash } from 'node:crypto';
import type { Construct, IConstruct } from 'constructs';
import { ReferenceGrant } from './reference-grant.js';
import { GATEWAY_GROUP } from './validation/patterns.js';
import type { ValidationIssue } from './validation/issues.js';

export interface GrantRequest {
  /** `Gateway` / `ListenerSet` (certificates) or `TLSRoute` / `HTTPRoute` (backends, mirror backends). */
  readonly fromKind: 'Gateway' | 'ListenerSet' | 'TLSRoute' | 'HTTPRoute';
  readonly fromNamespace: string;
  /** `Secret` or `Service` (core group). */
  readonly toKind: 'Secret' | 'Service';
  readonly toNamespace: string;
  readonly toName: string;
}

const grantsByApp = new WeakMap<IConstruct, Map<string, ReferenceGrant>>();

/** Returns the app's grant for `request`, creating it under `owner` the first time. */
export function ensureReferenceGrant(owner: Construct, request: GrantRequest): ReferenceGrant {
  const root = owner.node.root;
  let grants = grantsByApp.get(root);
  if (!grants) {
    grants = new Map();
    grantsByApp.set(root, grants);
  }
  const key = [request.fromKind, request.fromNamespace, request.toKind, request.toNamespace, request.toName].join('/');
  const existing = grants.get(key);
  if (existing) return existing;
  const grant = new ReferenceGrant(owner, `ReferenceGrant-${request.toKind}-${request.toNamespace}-${request.toName}`, {
    metadata: { name: grantName(request), namespace: request.toNamespace },
    from: [{ group: GATEWAY_GROUP, kind: request.fromKind, namespace: request.fromNamespace }],
    to: [{ group: '', kind: request.toKind, name: request.toName }],
  });
  grants.set(key, grant);
  return grant;
}

/** A readable, stable DNS-subdomain name; hashed down when it would pass 253 characters. */
function grantName(r: GrantRequest): string {
  const readable = `${r.fromKind.toLowerCase()}s-from-${r.fromNamespace}-to-${r.toKind.toLowerCase()}-${r.toName}`;
  if (readable.length <= 253) return readable;
  const hash = createHash('sha256').update(readable).digest('hex').slice(0, 10);
  return `${readable.slice(0, 242).replace(/[-.]+$/, '')}-${hash}`;
}

/** The object a reference points at, and whether the user wants its grant written. */
export interface GrantTarget {
  readonly namespace: string | undefined;
  readonly name: string;
  readonly wanted: boolean;
}

/** How the referring construct and its target are named in the message when no grant can be written. */
export interface GrantWording {
  /** e.g. `certificate Secret`. */
  readonly target: string;
  /** The referrer's kind in the message, e.g. `Gateway`. */
  readonly owner: string;
  /** The referrer in the fix, e.g. `the route`. */
  readonly ownerInFix: string;
}

/**
 * Writes the grant a reference into another namespace needs, when wanted. Returns the
 * problem instead when the referrer has no namespace of its own for the grant to name.
 */
export function grantCrossNamespace(
  owner: Construct,
  request: Omit<GrantRequest, 'fromNamespace' | 'toNamespace' | 'toName'> & { readonly fromNamespace: string | undefined },
  target: GrantTarget,
  field: string,
  wording: GrantWording,
): ValidationIssue | undefined {
  if (!target.wanted || target.namespace === undefined || target.namespace === request.fromNamespace) return undefined;
  if (request.fromNamespace === undefined) {
    return {
      field,
      message: `the ${wording.target} "${target.namespace}/${target.name}" is in another namespace, but this ${wording.owner} has no namespace, so no ReferenceGrant can name it`,
      fix: `set metadata.namespace on ${wording.ownerInFix} or a namespace on its Chart, or pass referenceGrants: false and write the grant yourself`,
    };
  }
  ensureReferenceGrant(owner, { ...request, fromNamespace: request.fromNamespace, toNamespace: target.namespace, toName: target.name });
  return undefined;
}
