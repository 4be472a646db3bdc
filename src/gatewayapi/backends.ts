/**
 * Resolving a TLSRoute's backendRefs (spec 4.5, 5.6): each ref becomes a weighted backend
 * with ready endpoints, or an explicit reject share, so that the proxy's weighted pick
 * rejects exactly the share of connections that lands on an invalid backend.
 */
import type { BackendConfig, EndpointConfig } from '../proxy-config.js';
import type { Problem } from './listeners.js';
import { objects, strings } from './safe.js';
import { key, namespaceOf, type SnapshotIndex } from './snapshot-index.js';
import { GATEWAY_API_GROUP, type BackendRef, type Service, type ServicePort, type TLSRoute } from './types.js';

export interface ResolvedBackends {
  backends: BackendConfig[];
  /** ResolvedRefs=False problems in spec order; empty means ResolvedRefs=True. */
  problems: Problem[];
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
    if (!slicePort || typeof slicePort.port !== 'number') continue;
    for (const endpoint of objects(slice.endpoints)) {
      // Kubernetes: a nil `ready` means ready.
      if (endpoint.conditions?.ready === false) continue;
      for (const address of strings(endpoint.addresses)) {
        const id = `${address}|${slicePort.port}`;
        if (seen.has(id)) continue;
        seen.add(id);
        endpoints.push({ address, port: slicePort.port });
      }
    }
  }
  return endpoints.sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : a.port - b.port));
}

// Config objects are built with their keys in sorted order: canonical-json.ts then hashes
// them with the native serializer (see there).
export function resolveBackends(route: TLSRoute, index: SnapshotIndex): ResolvedBackends {
  const routeNamespace = namespaceOf(route);
  const backends: BackendConfig[] = [];
  const problems: Problem[] = [];
  const refs = objects(route.spec?.rules).flatMap((rule) => objects(rule.backendRefs));
  for (const [i, ref] of refs.entries()) {
    const namespace = ref.namespace || routeNamespace;
    const weight = typeof ref.weight === 'number' ? ref.weight : 1;
    const group = ref.group ?? '';
    const kind = ref.kind ?? 'Service';
    const reject = (reason: string, message: string): void => {
      problems.push({ reason, message: `spec.rules[0].backendRefs[${i}]: ${message}` });
      backends.push({ endpoints: [], ref: refText(ref, namespace), reject: message, weight });
    };
    if (group !== '' || kind !== 'Service') {
      reject('InvalidKind', `${group ? group + '/' : ''}${kind} ${ref.name} is not a supported backend kind (core Service)`);
      continue;
    }
    // The grant check comes before existence, so existence does not leak across namespaces.
    const permitted = index.grants.permits(
      { group: GATEWAY_API_GROUP, kind: 'TLSRoute', namespace: routeNamespace },
      { group: '', kind: 'Service', namespace, name: ref.name },
    );
    if (!permitted) {
      reject('RefNotPermitted', `Service ${namespace}/${ref.name} is in another namespace and no ReferenceGrant allows it`);
      continue;
    }
    const service = index.services.get(key(namespace, ref.name));
    if (!service) {
      reject('BackendNotFound', `Service ${namespace}/${ref.name} does not exist`);
      continue;
    }
    if (typeof ref.port !== 'number') {
      reject('BackendNotFound', `Service ${namespace}/${ref.name}: port is required`);
      continue;
    }
    const servicePort = objects(service.spec?.ports).find((p) => p.port === ref.port);
    if (!servicePort) {
      reject('BackendNotFound', `Service ${namespace}/${ref.name} has no port ${ref.port}`);
      continue;
    }
    const text = refText(ref, namespace);
    if (service.spec?.type === 'ExternalName') {
      // Valid ref (ResolvedRefs stays True) but nothing to dial: its share is rejected.
      backends.push({ endpoints: [], ref: text, reject: 'ExternalName Services are not supported', weight });
      continue;
    }
    const endpoints = readyEndpoints(service, servicePort, index);
    backends.push(
      endpoints.length > 0
        ? { endpoints, ref: text, weight }
        : { endpoints, ref: text, reject: 'no ready endpoints', weight },
    );
  }
  if (refs.length === 0) {
    problems.push({ reason: 'BackendNotFound', message: 'spec.rules[0].backendRefs is empty' });
  }
  return { backends, problems };
}
