/**
 * Structural checks of manifests before translate sees them: the fields translate relies
 * on have the right JSON types. This is not the API server's CEL validation (translate
 * tolerates CEL violations); it turns "undefined is not iterable" into an error that names
 * the field.
 */
import type { Snapshot } from '../gatewayapi/translate.js';

export interface ObjectLocation {
  file: string;
  document: number;
  /** Prefix for fields inside a kubectl List, e.g. `items[3].`. */
  itemPath?: string;
}

export type SnapshotKind = keyof Snapshot;

const GATEWAY_API = 'gateway.networking.k8s.io';

/** apiVersions accepted per kind. Older TLSRoute versions are read as v1 (same schema). */
const KINDS: Record<string, { apiVersions: string[]; into: SnapshotKind }> = {
  GatewayClass: { apiVersions: [`${GATEWAY_API}/v1`, `${GATEWAY_API}/v1beta1`], into: 'gatewayClasses' },
  Gateway: { apiVersions: [`${GATEWAY_API}/v1`, `${GATEWAY_API}/v1beta1`], into: 'gateways' },
  TLSRoute: { apiVersions: [`${GATEWAY_API}/v1`, `${GATEWAY_API}/v1alpha3`, `${GATEWAY_API}/v1alpha2`], into: 'tlsRoutes' },
  HTTPRoute: { apiVersions: [`${GATEWAY_API}/v1`, `${GATEWAY_API}/v1beta1`], into: 'httpRoutes' },
  ReferenceGrant: { apiVersions: [`${GATEWAY_API}/v1`, `${GATEWAY_API}/v1beta1`], into: 'referenceGrants' },
  Service: { apiVersions: ['v1'], into: 'services' },
  EndpointSlice: { apiVersions: ['discovery.k8s.io/v1'], into: 'endpointSlices' },
  Secret: { apiVersions: ['v1'], into: 'secrets' },
  Namespace: { apiVersions: ['v1'], into: 'namespaces' },
  GatewayParameters: { apiVersions: ['tlsgate.dev/v1alpha1'], into: 'gatewayParameters' },
  ListenerSet: { apiVersions: [`${GATEWAY_API}/v1`], into: 'listenerSets' },
};

export class FieldError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

function describe(location: ObjectLocation, obj: Record<string, unknown>): string {
  const meta = obj.metadata as { name?: unknown; namespace?: unknown } | undefined;
  const name = typeof meta?.name === 'string' ? ` ${typeof meta.namespace === 'string' ? meta.namespace + '/' : ''}${meta.name}` : '';
  return `${location.file}, document ${location.document}${location.itemPath ? ', ' + location.itemPath.slice(0, -1) : ''}: ${String(obj.apiVersion)} ${String(obj.kind)}${name}`;
}

/** Which snapshot list an object belongs to; undefined (with a warning) for kinds translate does not use. */
export function classifyObject(obj: Record<string, unknown>, location: ObjectLocation, warnings: string[]): SnapshotKind | undefined {
  if (typeof obj.kind !== 'string' || obj.kind === '') throw new FieldError('kind', 'is required');
  if (typeof obj.apiVersion !== 'string' || obj.apiVersion === '') throw new FieldError('apiVersion', 'is required');
  const known = KINDS[obj.kind];
  if (!known) {
    warnings.push(`${describe(location, obj)}: kind not used by translate, ignored`);
    return undefined;
  }
  if (!known.apiVersions.includes(obj.apiVersion)) {
    warnings.push(`${describe(location, obj)}: apiVersion not supported (use ${known.apiVersions[0]}), ignored`);
    return undefined;
  }
  return known.into;
}

// ---------------------------------------------------------------- tiny schema helpers

type Json = unknown;

function isObject(v: Json): v is Record<string, Json> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const join = (field: string, k: string): string => (field ? `${field}.${k}` : k);

function need(cond: boolean, field: string, message: string): void {
  if (!cond) throw new FieldError(field, message);
}

function optString(obj: Record<string, Json>, k: string, field: string): void {
  if (obj[k] !== undefined) need(typeof obj[k] === 'string', join(field, k), 'must be a string');
}

function optNumber(obj: Record<string, Json>, k: string, field: string): void {
  if (obj[k] !== undefined) need(typeof obj[k] === 'number' && Number.isInteger(obj[k]), join(field, k), 'must be an integer');
}

function reqString(obj: Record<string, Json>, k: string, field: string): void {
  need(typeof obj[k] === 'string' && obj[k] !== '', join(field, k), 'is required and must be a non-empty string');
}

function optArray(obj: Record<string, Json>, k: string, field: string, each?: (item: Record<string, Json>, field: string) => void): void {
  const v = obj[k];
  if (v === undefined || v === null) return;
  need(Array.isArray(v), join(field, k), 'must be a list');
  (v as Json[]).forEach((item, i) => {
    const f = `${field}.${k}[${i}]`;
    if (each) {
      need(isObject(item), f, 'must be a mapping');
      each(item as Record<string, Json>, f);
    }
  });
}

function stringList(obj: Record<string, Json>, k: string, field: string): void {
  const v = obj[k];
  if (v === undefined || v === null) return;
  need(Array.isArray(v), join(field, k), 'must be a list');
  (v as Json[]).forEach((item, i) => need(typeof item === 'string', `${field}.${k}[${i}]`, 'must be a string'));
}

function stringMap(obj: Record<string, Json>, k: string, field: string): void {
  const v = obj[k];
  if (v === undefined || v === null) return;
  need(isObject(v), join(field, k), 'must be a mapping of strings');
  for (const [mk, mv] of Object.entries(v as Record<string, Json>)) need(typeof mv === 'string', `${field}.${k}.${mk}`, 'must be a string');
}

function specOf(obj: Record<string, Json>, required: boolean): Record<string, Json> {
  if (obj.spec === undefined && !required) return {};
  need(isObject(obj.spec), 'spec', 'is required and must be a mapping');
  return obj.spec as Record<string, Json>;
}

// ---------------------------------------------------------------- per kind

const ref = (r: Record<string, Json>, f: string): void => {
  reqString(r, 'name', f);
  optString(r, 'group', f);
  optString(r, 'kind', f);
  optString(r, 'namespace', f);
};

const parentRefs = (spec: Record<string, Json>): void =>
  optArray(spec, 'parentRefs', 'spec', (p, f) => {
    ref(p, f);
    optString(p, 'sectionName', f);
    optNumber(p, 'port', f);
  });

const headerList = (obj: Record<string, Json>, k: string, field: string): void =>
  optArray(obj, k, field, (h, hf) => {
    reqString(h, 'name', hf);
    need(typeof h.value === 'string', `${hf}.value`, 'is required and must be a string');
  });

function optMapping(obj: Record<string, Json>, k: string, field: string, each?: (value: Record<string, Json>, field: string) => void): void {
  const v = obj[k];
  if (v === undefined || v === null) return;
  need(isObject(v), join(field, k), 'must be a mapping');
  each?.(v as Record<string, Json>, join(field, k));
}

const pathModifier = (obj: Record<string, Json>, field: string): void =>
  optMapping(obj, 'path', field, (p, pf) => {
    reqString(p, 'type', pf);
    optString(p, 'replaceFullPath', pf);
    optString(p, 'replacePrefixMatch', pf);
  });

/** HTTPRoute filters (rule-level and per backendRef); unknown filter types are translate's to report. */
const httpFilters = (obj: Record<string, Json>, field: string): void =>
  optArray(obj, 'filters', field, (flt, f) => {
    reqString(flt, 'type', f);
    for (const k of ['requestHeaderModifier', 'responseHeaderModifier']) {
      optMapping(flt, k, f, (m, mf) => {
        headerList(m, 'set', mf);
        headerList(m, 'add', mf);
        stringList(m, 'remove', mf);
      });
    }
    optMapping(flt, 'requestRedirect', f, (r, rf) => {
      optString(r, 'scheme', rf);
      optString(r, 'hostname', rf);
      optNumber(r, 'port', rf);
      optNumber(r, 'statusCode', rf);
      pathModifier(r, rf);
    });
    optMapping(flt, 'urlRewrite', f, (r, rf) => {
      optString(r, 'hostname', rf);
      pathModifier(r, rf);
    });
  });

const valueMatches = (obj: Record<string, Json>, k: string, field: string): void =>
  optArray(obj, k, field, (m, mf) => {
    reqString(m, 'name', mf);
    need(typeof m.value === 'string', `${mf}.value`, 'is required and must be a string');
    optString(m, 'type', mf);
  });

/** Gateway `spec.listeners` and ListenerSet `spec.listeners` (ListenerEntry has the same fields). */
function listeners(spec: Record<string, Json>): void {
  need(Array.isArray(spec.listeners), 'spec.listeners', 'is required and must be a list');
  optArray(spec, 'listeners', 'spec', (l, f) => {
    reqString(l, 'name', f);
    reqString(l, 'protocol', f);
    need(typeof l.port === 'number' && Number.isInteger(l.port), `${f}.port`, 'is required and must be an integer');
    optString(l, 'hostname', f);
    if (l.tls !== undefined) {
      need(isObject(l.tls), `${f}.tls`, 'must be a mapping');
      const tls = l.tls as Record<string, Json>;
      optString(tls, 'mode', `${f}.tls`);
      optArray(tls, 'certificateRefs', `${f}.tls`, ref);
    }
    if (l.allowedRoutes !== undefined) {
      need(isObject(l.allowedRoutes), `${f}.allowedRoutes`, 'must be a mapping');
      const ar = l.allowedRoutes as Record<string, Json>;
      optArray(ar, 'kinds', `${f}.allowedRoutes`, (k, kf) => {
        reqString(k, 'kind', kf);
        optString(k, 'group', kf);
      });
      if (ar.namespaces !== undefined) {
        need(isObject(ar.namespaces), `${f}.allowedRoutes.namespaces`, 'must be a mapping');
        optString(ar.namespaces as Record<string, Json>, 'from', `${f}.allowedRoutes.namespaces`);
      }
    }
  });
}

/** Throws FieldError naming the first field with a wrong type. */
export function validateObject(kind: SnapshotKind, obj: Record<string, Json>): void {
  need(isObject(obj.metadata), 'metadata', 'is required and must be a mapping');
  const meta = obj.metadata as Record<string, Json>;
  reqString(meta, 'name', 'metadata');
  optString(meta, 'namespace', 'metadata');
  optString(meta, 'creationTimestamp', 'metadata');
  optNumber(meta, 'generation', 'metadata');
  stringMap(meta, 'labels', 'metadata');
  stringMap(meta, 'annotations', 'metadata');
  switch (kind) {
    case 'gatewayClasses': {
      const spec = specOf(obj, true);
      reqString(spec, 'controllerName', 'spec');
      if (spec.parametersRef !== undefined) {
        need(isObject(spec.parametersRef), 'spec.parametersRef', 'must be a mapping');
        const p = spec.parametersRef as Record<string, Json>;
        reqString(p, 'name', 'spec.parametersRef');
        reqString(p, 'kind', 'spec.parametersRef');
        optString(p, 'group', 'spec.parametersRef');
        optString(p, 'namespace', 'spec.parametersRef');
      }
      return;
    }
    case 'gateways': {
      const spec = specOf(obj, true);
      reqString(spec, 'gatewayClassName', 'spec');
      listeners(spec);
      optMapping(spec, 'allowedListeners', 'spec', (a, af) =>
        optMapping(a, 'namespaces', af, (n, nf) => {
          optString(n, 'from', nf);
          optMapping(n, 'selector', nf);
        }),
      );
      optArray(spec, 'addresses', 'spec', (a, f) => optString(a, 'value', f));
      return;
    }
    case 'listenerSets': {
      const spec = specOf(obj, true);
      need(isObject(spec.parentRef), 'spec.parentRef', 'is required and must be a mapping');
      const parent = spec.parentRef as Record<string, Json>;
      reqString(parent, 'name', 'spec.parentRef');
      optString(parent, 'namespace', 'spec.parentRef');
      optString(parent, 'group', 'spec.parentRef');
      optString(parent, 'kind', 'spec.parentRef');
      listeners(spec);
      return;
    }
    case 'httpRoutes': {
      const spec = specOf(obj, true);
      parentRefs(spec);
      stringList(spec, 'hostnames', 'spec');
      optArray(spec, 'rules', 'spec', (r, f) => {
        optString(r, 'name', f);
        optArray(r, 'matches', f, (m, mf) => {
          optMapping(m, 'path', mf, (p, pf) => {
            optString(p, 'type', pf);
            optString(p, 'value', pf);
          });
          valueMatches(m, 'headers', mf);
          valueMatches(m, 'queryParams', mf);
          optString(m, 'method', mf);
        });
        httpFilters(r, f);
        optArray(r, 'backendRefs', f, (b, bf) => {
          ref(b, bf);
          optNumber(b, 'port', bf);
          optNumber(b, 'weight', bf);
          httpFilters(b, bf);
        });
        optMapping(r, 'timeouts', f, (t, tf) => {
          optString(t, 'request', tf);
          optString(t, 'backendRequest', tf);
        });
      });
      return;
    }
    case 'tlsRoutes': {
      const spec = specOf(obj, true);
      parentRefs(spec);
      stringList(spec, 'hostnames', 'spec');
      optArray(spec, 'rules', 'spec', (r, f) =>
        optArray(r, 'backendRefs', f, (b, bf) => {
          ref(b, bf);
          optNumber(b, 'port', bf);
          optNumber(b, 'weight', bf);
        }),
      );
      return;
    }
    case 'referenceGrants': {
      const spec = specOf(obj, true);
      need(Array.isArray(spec.from), 'spec.from', 'is required and must be a list');
      need(Array.isArray(spec.to), 'spec.to', 'is required and must be a list');
      optArray(spec, 'from', 'spec', (e, f) => {
        reqString(e, 'kind', f);
        reqString(e, 'namespace', f);
        optString(e, 'group', f);
      });
      optArray(spec, 'to', 'spec', (e, f) => {
        reqString(e, 'kind', f);
        optString(e, 'group', f);
        optString(e, 'name', f);
      });
      return;
    }
    case 'services': {
      const spec = specOf(obj, false);
      optString(spec, 'type', 'spec');
      optArray(spec, 'ports', 'spec', (p, f) => {
        need(typeof p.port === 'number' && Number.isInteger(p.port), `${f}.port`, 'is required and must be an integer');
        optString(p, 'name', f);
      });
      return;
    }
    case 'endpointSlices':
      optArray(obj, 'endpoints', '', (e, f) => {
        need(Array.isArray(e.addresses), `${f}.addresses`, 'is required and must be a list');
        stringList(e, 'addresses', f);
      });
      optArray(obj, 'ports', '', (p, f) => {
        optNumber(p, 'port', f);
        optString(p, 'name', f);
      });
      return;
    case 'secrets':
      optString(obj, 'type', '');
      stringMap(obj, 'data', '');
      stringMap(obj, 'stringData', '');
      return;
    case 'namespaces':
    case 'gatewayParameters':
      return;
  }
}
