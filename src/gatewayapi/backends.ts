/**
 * Resolving route backendRefs (spec 4.5, 5.6; HTTPBackendRef docs): each ref becomes a weighted
 * backend with ready endpoints, or an explicit reject share, so that the proxy's weighted pick
 * rejects exactly the share of connections (TLS) or requests (HTTP, 500) that lands on an
 * invalid backend.
 */
import type { BackendConfig, EndpointConfig } from '../proxy-config.js';
import type { Problem, RouteKind } from './model.js';
import { objects, strings } from './safe.js';
import { key, namespaceOf, type SnapshotIndex } from './snapshot-index.js';
import { GATEWAY_API_GROUP, type BackendRef, type Service, type ServicePort, type TLSRoute } from './types.js';

export interface ResolvedBackends {
  backends: BackendConfig[];
  /** ResolvedRefs=False problems in spec order; empty means ResolvedRefs=True. */
  problems: Problem[];
  /** Values that cannot be served (ResolvedBackendRef.invalidValue): the route is not Accepted. */
  invalidValues: string[];
}

/** `namespace/name:port` for Service refs; the raw group/kind too for anything else. */
function refText(ref: BackendRef, namespace: string): string {
  const target = `${namespace}/${ref.name}${ref.port !== undefined ? ':' + ref.port : ''}`;
  const group = ref.group ?? '';
  const kind = ref.kind ?? 'Service';
  return group === '' && kind === 'Service' ? target : `${group ? group + '/' : ''}${kind} ${target}`;
}

/** Ready `address:port` endpoints of one Service port, from the Service's EndpointSlices. */
function readyEndpoints(service: Service, servicePort: ServicePort, index: SnapshotIndex): EndpointConfig[] {
  // Many routes share a Service: compute each Service port's endpoints once per translate
  // and share the (never mutated) array between backends.
  let byPort = index.endpointMemo.get(service);
  if (!byPort) index.endpointMemo.set(service, (byPort = new Map()));
  let endpoints = byPort.get(servicePort.port);
  if (!endpoints) byPort.set(servicePort.port, (endpoints = computeReadyEndpoints(service, servicePort, index)));
  return endpoints;
}

function computeReadyEndpoints(service: Service, servicePort: ServicePort, index: SnapshotIndex): EndpointConfig[] {
  const slices = index.endpointSlicesByService.get(key(namespaceOf(service), service.metadata.name)) ?? [];
  const portName = servicePort.name ?? '';
  const seen = new Set<string>();
  const endpoints: EndpointConfig[] = [];
  for (const slice of slices) {
    // EndpointSlice ports carry the Service port's name ("" when unnamed) and the target port.
    const slicePort = objects(slice.ports).find((p) => (p.name ?? '') === portName);
    if (!slicePort || !isPort(slicePort.port)) continue;
    for (const endpoint of objects(slice.endpoints)) {
      // Kubernetes: a nil `ready` means ready.
      if (endpoint.conditions?.ready === false) continue;
      for (const address of strings(endpoint.addresses)) {
        if (address === '') continue;
        const id = `${address}|${slicePort.port}`;
        if (seen.has(id)) continue;
        seen.add(id);
        endpoints.push({ address, port: slicePort.port });
      }
    }
  }
  return endpoints.sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : a.port - b.port));
}

/** The Service port appProtocols the proxy speaks to backends: HTTP/1.1, and WebSocket upgrades over it. */
const HTTP_APP_PROTOCOLS = new Set(['http', 'kubernetes.io/ws']);

export interface BackendRefContext {
  /** The referring route's kind (the ReferenceGrant `from`). */
  routeKind: RouteKind;
  routeNamespace: string;
  /** The ref's field path for messages, e.g. `spec.rules[1].backendRefs[0]`. */
  field: string;
  /**
   * HTTPRoutes only: a Service port whose appProtocol the proxy cannot speak is invalid
   * (ResolvedRefs=False/UnsupportedProtocol, HTTPBackendRef docs). TLSRoutes relay bytes.
   */
  checkAppProtocol: boolean;
}

export interface ResolvedBackendRef {
  backend: BackendConfig;
  /** Set when the ref is invalid (ResolvedRefs=False). */
  problem?: Problem;
  /** Set when a value of the ref itself cannot be served (a weight outside 0..1000000): the caller's route or rule is invalid. */
  invalidValue?: string;
}

const MAX_WEIGHT = 1_000_000;

function isPort(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 65535;
}

/**
 * One backendRef as a weighted backend: ready endpoints, or a reject share saying why.
 * Config objects are built with their keys in sorted order: canonical-json.ts then hashes them
 * with the native serializer (see there).
 */
export function resolveBackendRef(ref: BackendRef, context: BackendRefContext, index: SnapshotIndex): ResolvedBackendRef {
  const namespace = typeof ref.namespace === 'string' && ref.namespace !== '' ? ref.namespace : context.routeNamespace;
  const weight = ref.weight === undefined ? 1 : ref.weight;
  if (typeof weight !== 'number' || !Number.isInteger(weight) || weight < 0 || weight > MAX_WEIGHT) {
    // Slipped past CEL: no share can be computed from it, so it carries none and says why.
    const message = `${context.field}.weight ${JSON.stringify(weight)} is not an integer 0..${MAX_WEIGHT}`;
    return { backend: { endpoints: [], ref: refText(ref, namespace), reject: 'invalid weight', weight: 0 }, invalidValue: message };
  }
  const group = ref.group ?? '';
  const kind = ref.kind ?? 'Service';
  const reject = (reason: string, message: string): ResolvedBackendRef => ({
    backend: { endpoints: [], ref: refText(ref, namespace), reject: message, weight },
    problem: { reason, message: `${context.field}: ${message}` },
  });
  if (group !== '' || kind !== 'Service') {
    return reject('InvalidKind', `${group ? group + '/' : ''}${kind} ${ref.name} is not a supported backend kind (core Service)`);
  }
  // The grant check comes before existence, so existence does not leak across namespaces.
  const permitted = index.grants.permits(
    { group: GATEWAY_API_GROUP, kind: context.routeKind, namespace: context.routeNamespace },
    { group: '', kind: 'Service', namespace, name: ref.name },
  );
  if (!permitted) return reject('RefNotPermitted', `Service ${namespace}/${ref.name} is in another namespace and no ReferenceGrant allows it`);
  const service = index.services.get(key(namespace, ref.name));
  if (!service) return reject('BackendNotFound', `Service ${namespace}/${ref.name} does not exist`);
  if (!isPort(ref.port)) return reject('BackendNotFound', `Service ${namespace}/${ref.name}: port is required (1..65535)`);
  const servicePort = objects(service.spec?.ports).find((p) => p.port === ref.port);
  if (!servicePort) return reject('BackendNotFound', `Service ${namespace}/${ref.name} has no port ${ref.port}`);
  const appProtocol = servicePort.appProtocol;
  if (context.checkAppProtocol && typeof appProtocol === 'string' && appProtocol !== '' && !HTTP_APP_PROTOCOLS.has(appProtocol.toLowerCase())) {
    return reject(
      'UnsupportedProtocol',
      `Service ${namespace}/${ref.name} port ${ref.port} has appProtocol ${appProtocol}; the proxy speaks HTTP/1.1 (and WebSocket upgrades) to backends`,
    );
  }
  const text = refText(ref, namespace);
  if (service.spec?.type === 'ExternalName') {
    // Valid ref (ResolvedRefs stays True) but nothing to dial: its share is rejected.
    return { backend: { endpoints: [], ref: text, reject: 'ExternalName Services are not supported', weight } };
  }
  const endpoints = readyEndpoints(service, servicePort, index);
  return {
    backend: endpoints.length > 0 ? { endpoints, ref: text, weight } : { endpoints, ref: text, reject: 'no ready endpoints', weight },
  };
}

/** A TLSRoute's backendRefs (its one rule; refs of further rules that slipped past CEL are appended). */
export function resolveTlsRouteBackends(route: TLSRoute, index: SnapshotIndex): ResolvedBackends {
  const routeNamespace = namespaceOf(route);
  const backends: BackendConfig[] = [];
  const problems: Problem[] = [];
  const invalidValues: string[] = [];
  const refs = objects(route.spec?.rules).flatMap((rule) => objects(rule.backendRefs));
  for (const [i, ref] of refs.entries()) {
    const field = `spec.rules[0].backendRefs[${i}]`;
    const resolved = resolveBackendRef(ref, { routeKind: 'TLSRoute', routeNamespace, field, checkAppProtocol: false }, index);
    backends.push(resolved.backend);
    if (resolved.problem) problems.push(resolved.problem);
    if (resolved.invalidValue) invalidValues.push(resolved.invalidValue);
  }
  if (refs.length === 0) {
    problems.push({ reason: 'BackendNotFound', message: 'spec.rules[0].backendRefs is empty' });
  }
  return { backends, problems, invalidValues };
}
