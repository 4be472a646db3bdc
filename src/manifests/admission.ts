/**
 * What the API server would refuse, refused for files too. In a cluster, an object that breaks
 * its CRD's schema or CEL rules is never stored, so no controller ever sees it; manifest files
 * skip the API server, so `translate` and standalone apply the same rules here, with the one
 * implementation the constructs use (src/constructs/validation): metadata rules, then the
 * kind's CRD rules. Two objects of one kind, namespace and name are refused too: a cluster
 * holds one, and which of the two files meant it cannot be told.
 *
 * A refused object is left out of the snapshot, like an object the API server refused: it gets
 * no status and nothing of it is served; routes that name it see no such parent. Each violation
 * is reported naming the file, the document, the object and the field.
 *
 * The constructs also refuse what no CRD rule forbids but tlsgate cannot serve as written
 * (listener-semantics, http-route-semantics); the API server accepts those, and translate gives
 * them their statuses, so for files they are warnings.
 */
import type { GatewayClassSpec, GatewaySpec, HttpRouteSpec, ReferenceGrantSpec, TlsRouteSpec } from '../../imports/gwapi-gateway.networking.k8s.io.js';
import { validateGatewayClassSpec } from '../constructs/validation/gateway-class-rules.js';
import { validateGatewaySpec } from '../constructs/validation/gateway-rules.js';
import { checkHttpRouteSemantics } from '../constructs/validation/http-route-semantics.js';
import { validateHttpRouteSpec } from '../constructs/validation/http-route-rules.js';
import type { ValidationIssue } from '../constructs/validation/issues.js';
import { checkListenerSemantics } from '../constructs/validation/listener-semantics.js';
import { validateMetadata } from '../constructs/validation/metadata-rules.js';
import { validateListenerSetSpec, type ListenerSetSpecView } from '../constructs/validation/listener-set-rules.js';
import { validateReferenceGrantSpec } from '../constructs/validation/reference-grant-rules.js';
import { validateTlsRouteSpec } from '../constructs/validation/tls-route-rules.js';
import type { ObjectLocation, SnapshotKind } from './validate.js';

/** One object as read from a file, with where it was. */
export interface LoadedObject {
  kind: SnapshotKind;
  object: Record<string, unknown>;
  location: ObjectLocation;
}

/** An object refused, and every reason. */
export interface RejectedObject {
  file: string;
  document: number;
  /** Inside a kubectl List: `items[3]`. */
  itemPath?: string;
  /** `Gateway default/example-gateway` */
  object: string;
  problems: { field: string; message: string }[];
}

export interface AdmissionResult {
  rejected: RejectedObject[];
  /** Positions in the entries given of the objects to leave out. */
  refusedIndexes: Set<number>;
  /** One line per problem of a rejected object: file, document, object, field, message. */
  errors: string[];
  /** What the constructs would refuse but the API server accepts. */
  warnings: string[];
}

interface Described {
  kindName: string;
  namespace: string | undefined;
  name: string;
}

function describeObject(entry: LoadedObject): Described {
  const meta = entry.object.metadata as { name: string; namespace?: string };
  return { kindName: String(entry.object.kind), namespace: meta.namespace, name: meta.name };
}

function objectLabel(d: Described): string {
  return `${d.kindName} ${d.namespace !== undefined ? `${d.namespace}/` : ''}${d.name}`;
}

function where(location: ObjectLocation): string {
  return `${location.file}, document ${location.document}${location.itemPath ? `, ${location.itemPath.slice(0, -1)}` : ''}`;
}

/** The CRD rules (errors) and the constructs' further checks (warnings) of one object. */
function checkObject(entry: LoadedObject): { errors: ValidationIssue[]; warnings: ValidationIssue[] } {
  const { kind, object } = entry;
  const meta = object.metadata as { name: string; namespace?: string };
  const spec = object.spec as never;
  switch (kind) {
    case 'gatewayClasses':
      return { errors: [...validateMetadata(meta.name, undefined), ...validateGatewayClassSpec(spec as GatewayClassSpec)], warnings: [] };
    case 'gateways': {
      const gateway = spec as GatewaySpec;
      return { errors: [...validateMetadata(meta.name, meta.namespace), ...validateGatewaySpec(gateway)], warnings: checkListenerSemantics(gateway.listeners) };
    }
    case 'tlsRoutes':
      return { errors: [...validateMetadata(meta.name, meta.namespace), ...tlsRouteIssues(object.apiVersion, spec as TlsRouteSpec)], warnings: [] };
    case 'httpRoutes': {
      const route = spec as HttpRouteSpec;
      return { errors: [...validateMetadata(meta.name, meta.namespace), ...validateHttpRouteSpec(route)], warnings: checkHttpRouteSemantics(route) };
    }
    case 'listenerSets': {
      const set = spec as ListenerSetSpecView;
      return { errors: [...validateMetadata(meta.name, meta.namespace), ...validateListenerSetSpec(set)], warnings: checkListenerSemantics(set.listeners) };
    }
    case 'referenceGrants':
      return { errors: [...validateMetadata(meta.name, meta.namespace), ...validateReferenceGrantSpec(spec as ReferenceGrantSpec)], warnings: [] };
    default:
      // Core objects (Services, Secrets, EndpointSlices, Namespaces) and GatewayParameters:
      // their own API rules are not the Gateway API's to check; the loader's type checks hold.
      return { errors: [], warnings: [] };
  }
}

/**
 * TLSRoute v1alpha2's schema allows up to 16 rules and no hostnames; v1 and v1alpha3 (the
 * rules translate implements) require hostnames and exactly one rule. Every other rule is the
 * same in the three versions.
 */
function tlsRouteIssues(apiVersion: unknown, spec: TlsRouteSpec): ValidationIssue[] {
  const issues = validateTlsRouteSpec(spec);
  if (apiVersion !== 'gateway.networking.k8s.io/v1alpha2') return issues;
  const rules = (spec as { rules?: unknown[] }).rules;
  return issues.filter((issue) => {
    if (issue.field === 'spec.hostnames' && spec.hostnames === undefined) return false;
    if (issue.field === 'spec.rules' && Array.isArray(rules) && rules.length >= 1 && rules.length <= 16) return false;
    return true;
  });
}

/** Checks every object; returns what to refuse and why. Pure: the caller leaves the refused out. */
export function admit(entries: readonly LoadedObject[]): AdmissionResult {
  const result: AdmissionResult = { rejected: [], refusedIndexes: new Set(), errors: [], warnings: [] };
  const problemsOf = new Map<LoadedObject, { field: string; message: string }[]>();
  const refuse = (entry: LoadedObject, field: string, message: string): void => {
    let problems = problemsOf.get(entry);
    if (problems === undefined) problemsOf.set(entry, (problems = []));
    problems.push({ field: `${entry.location.itemPath ?? ''}${field}`, message });
  };

  // One object per kind, namespace and name.
  const byKey = new Map<string, LoadedObject[]>();
  for (const entry of entries) {
    const d = describeObject(entry);
    const key = `${entry.kind}|${d.namespace ?? ''}|${d.name}`;
    const same = byKey.get(key);
    if (same === undefined) byKey.set(key, [entry]);
    else same.push(entry);
  }
  for (const same of byKey.values()) {
    if (same.length < 2) continue;
    for (const entry of same) {
      const others = same.filter((o) => o !== entry).map((o) => where(o.location));
      refuse(entry, 'metadata.name', `defined ${same.length} times (also at ${others.join('; ')}); none of them is served until only one is left`);
    }
  }

  for (const entry of entries) {
    let checked: { errors: ValidationIssue[]; warnings: ValidationIssue[] };
    try {
      checked = checkObject(entry);
    } catch (err) {
      // A shape the loader's type checks let through but a rule cannot read (a selector that is
      // not a mapping, say): the API server's schema would have refused it.
      refuse(entry, 'spec', `cannot be checked: ${(err as Error).message}`);
      continue;
    }
    for (const issue of checked.errors) refuse(entry, issue.field, issue.message);
    for (const issue of checked.warnings) {
      result.warnings.push(`${where(entry.location)}: ${objectLabel(describeObject(entry))}: ${entry.location.itemPath ?? ''}${issue.field}: ${issue.message}`);
    }
  }

  for (const [index, entry] of entries.entries()) {
    const problems = problemsOf.get(entry);
    if (problems === undefined) continue;
    result.refusedIndexes.add(index);
    const label = objectLabel(describeObject(entry));
    const rejected: RejectedObject = { file: entry.location.file, document: entry.location.document, object: label, problems };
    if (entry.location.itemPath) rejected.itemPath = entry.location.itemPath.slice(0, -1);
    result.rejected.push(rejected);
    for (const problem of problems) {
      result.errors.push(`${where(entry.location)}: ${label} is refused (the API server would refuse it) and not served: ${problem.field}: ${problem.message}`);
    }
  }
  return result;
}
