// What TlsRoute and HttpRoute share: parents (a Gateway, a listener, a port, or a reference
// by name) and backends (a cdk8s-plus Service or a reference by name), how they render, the
// checks made on them at synth time, and the ReferenceGrants written for backends in other
// namespaces.
import * as kplus from 'cdk8s-plus-28';
import type { Construct } from 'constructs';
import { grantCrossNamespace, type GrantTarget } from './auto-grants.js';
import { Gateway, GatewayListener, GatewayPort } from './gateway.js';
import { ListenerSet, ListenerSetListener, ListenerSetPort } from './listener-set.js';
import { findInApp, referenceNamespace } from './namespaces.js';
import { checkAttachment, type AttachingRouteKind, type ParentGatewayView } from './validation/attachment.js';
import type { ValidationIssue } from './validation/issues.js';
import { GATEWAY_GROUP } from './validation/patterns.js';
import type { BackendObjectRefSpec, ParentRefSpec } from './validation/route-rules.js';

/** A parent that is not a construct of this app (or one named explicitly). */
export interface ParentReferenceOptions {
  readonly name: string;
  /** @default the route's namespace */
  readonly namespace?: string;
  readonly sectionName?: string;
  readonly port?: number;
  /** @default "gateway.networking.k8s.io" */
  readonly group?: string;
  /** @default "Gateway" */
  readonly kind?: string;
}

/**
 * Where a route attaches: a whole Gateway, one listener of it (`gateway.listener('tls')`,
 * or what `addListener` returned), its listeners on one port (`gateway.port(443)`), the same
 * for a ListenerSet (its own listeners only, never its Gateway's), or a reference by name.
 */
export type RouteParent = Gateway | GatewayListener | GatewayPort | ListenerSet | ListenerSetListener | ListenerSetPort | ParentReferenceOptions;

/** A cdk8s-plus Service with the port to use and a weight. */
export interface ServiceBackendOptions {
  readonly service: kplus.Service;
  /** The Service port (not the targetPort). @default the Service's only port */
  readonly port?: number;
  /** Share of connections (TLSRoute) or requests (HTTPRoute), 0..1,000,000. @default 1 (the CRD default; left out of the manifest) */
  readonly weight?: number;
}

/** A backend that is not a construct of this app. */
export interface BackendReferenceOptions {
  readonly name: string;
  /** @default the route's namespace */
  readonly namespace?: string;
  /** The Service port (not the targetPort); required for Services. */
  readonly port?: number;
  readonly weight?: number;
  /** @default "" (core) */
  readonly group?: string;
  /** @default "Service" */
  readonly kind?: string;
  /** Write a ReferenceGrant for it when it is in another namespace. @default false */
  readonly referenceGrant?: boolean;
}

/** A backend as the route constructs take it. */
export type RouteBackend = kplus.Service | ServiceBackendOptions | BackendReferenceOptions;

/** The route a parent or backend belongs to, as these helpers need it. */
export interface RouteContext {
  readonly scope: Construct;
  readonly kind: AttachingRouteKind;
  readonly namespace: string | undefined;
}

export function renderParentRef(route: RouteContext, parent: RouteParent): ParentRefSpec {
  if (parent instanceof Gateway) return gatewayRef(route, parent);
  if (parent instanceof GatewayListener) return { ...gatewayRef(route, parent.gateway), sectionName: parent.name };
  if (parent instanceof GatewayPort) return { ...gatewayRef(route, parent.gateway), port: parent.port };
  if (parent instanceof ListenerSet) return listenerSetRef(route, parent);
  if (parent instanceof ListenerSetListener) return { ...listenerSetRef(route, parent.listenerSet), sectionName: parent.name };
  if (parent instanceof ListenerSetPort) return { ...listenerSetRef(route, parent.listenerSet), port: parent.port };
  const { name, namespace, sectionName, port, group, kind } = parent;
  return {
    ...(group !== undefined ? { group } : {}),
    ...(kind !== undefined ? { kind } : {}),
    name,
    ...(namespace !== undefined ? { namespace } : {}),
    ...(sectionName !== undefined ? { sectionName } : {}),
    ...(port !== undefined ? { port } : {}),
  };
}

function gatewayRef(route: RouteContext, gateway: Gateway): ParentRefSpec {
  const namespace = referenceNamespace(route.namespace, gateway.namespace);
  return { name: gateway.name, ...(namespace ? { namespace } : {}) };
}

function listenerSetRef(route: RouteContext, listenerSet: ListenerSet): ParentRefSpec {
  const namespace = referenceNamespace(route.namespace, listenerSet.namespace);
  return { group: GATEWAY_GROUP, kind: 'ListenerSet', name: listenerSet.name, ...(namespace ? { namespace } : {}) };
}

/** The Service construct behind a backend, if it is one. */
export function backendService(backend: RouteBackend): kplus.Service | undefined {
  return backend instanceof kplus.Service ? backend : 'service' in backend ? backend.service : undefined;
}

export function renderBackendRef(route: RouteContext, backend: RouteBackend): BackendObjectRefSpec & { weight?: number } {
  if (backend instanceof kplus.Service) return serviceRef(route, backend, undefined, undefined);
  if ('service' in backend) return serviceRef(route, backend.service, backend.port, backend.weight);
  const { name, namespace, port, weight, group, kind } = backend;
  return {
    ...(group !== undefined ? { group } : {}),
    ...(kind !== undefined ? { kind } : {}),
    name,
    ...(namespace !== undefined ? { namespace } : {}),
    ...(port !== undefined ? { port } : {}),
    ...(weight !== undefined ? { weight } : {}),
  };
}

function serviceRef(route: RouteContext, service: kplus.Service, port: number | undefined, weight: number | undefined): BackendObjectRefSpec & { weight?: number } {
  const namespace = referenceNamespace(route.namespace, service.metadata.namespace);
  const ports = service.ports;
  const chosen = port ?? (ports.length === 1 ? ports[0]!.port : undefined);
  return {
    name: service.name,
    ...(namespace ? { namespace } : {}),
    ...(chosen !== undefined ? { port: chosen } : {}),
    ...(weight !== undefined ? { weight } : {}),
  };
}

/** A cdk8s-plus Service backend must name one of the Service's ports (`field` is the backend's `.port`). */
export function checkServicePort(backend: RouteBackend, field: string): ValidationIssue | undefined {
  const service = backendService(backend);
  if (!service) return undefined;
  const port = backend instanceof kplus.Service ? undefined : (backend as ServiceBackendOptions).port;
  const ports = service.ports.map((p) => p.port);
  if (port === undefined && ports.length !== 1) {
    return {
      field,
      message: `Service "${service.name}" has ${ports.length === 0 ? 'no ports' : `${ports.length} ports (${ports.join(', ')})`}, so the backend port cannot be chosen for you`,
      fix: ports.length === 0 ? 'bind a port on the Service, or give {service, port}' : 'give the backend as {service, port} with one of its ports',
    };
  }
  if (port !== undefined && !ports.includes(port)) {
    return {
      field,
      message: `Service "${service.name}" has no port ${port} (ports: ${ports.join(', ') || 'none'}); backendRefs name the Service port, not the targetPort`,
      fix: `use one of the Service's ports (${ports.join(', ') || 'bind one first'})`,
    };
  }
  return undefined;
}

/** Semantic attachment checks for every parent that is a Gateway of this app. */
export function checkParents(route: RouteContext, parents: readonly RouteParent[], hostnames: readonly string[]): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  let labels: { value: Record<string, string> | undefined } | undefined;
  const routeNamespaceLabels = (): Record<string, string> | undefined => (labels ??= { value: namespaceLabels(route) }).value;
  parents.forEach((parent, i) => {
    const view = resolveParent(route, parent);
    if (!view) return;
    const ref = renderParentRef(route, parent);
    const problem = checkAttachment(view, {
      routeKind: route.kind,
      field: `spec.parentRefs[${i}]`,
      sectionName: ref.sectionName,
      port: ref.port,
      routeNamespace: route.namespace,
      routeNamespaceLabels,
      hostnames,
    });
    if (problem) issues.push(problem);
  });
  return issues;
}

/** The parent as attachment checks see it, when it is a Gateway or ListenerSet of this app. */
function resolveParent(route: RouteContext, parent: RouteParent): ParentGatewayView | undefined {
  const gatewayView = (g: Gateway): ParentGatewayView => ({ name: g.name, namespace: g.namespace, listeners: g.renderListeners() });
  // A ListenerSet's listeners only: a route attaches to its direct parent's listeners (GEP-1713).
  const setView = (s: ListenerSet): ParentGatewayView => ({ kind: 'ListenerSet', name: s.name, namespace: s.namespace, listeners: s.renderListeners() });
  if (parent instanceof Gateway) return gatewayView(parent);
  if (parent instanceof GatewayListener || parent instanceof GatewayPort) return gatewayView(parent.gateway);
  if (parent instanceof ListenerSet) return setView(parent);
  if (parent instanceof ListenerSetListener || parent instanceof ListenerSetPort) return setView(parent.listenerSet);
  if ((parent.group ?? GATEWAY_GROUP) !== GATEWAY_GROUP) return undefined;
  const namespace = parent.namespace ?? route.namespace;
  const kind = parent.kind ?? 'Gateway';
  if (kind === 'Gateway') {
    const gateway = Gateway.allInApp(route.scope).find((g) => g.name === parent.name && g.namespace === namespace);
    return gateway && gatewayView(gateway);
  }
  if (kind === 'ListenerSet') {
    const listenerSet = ListenerSet.allInApp(route.scope).find((l) => l.name === parent.name && l.namespace === namespace);
    return listenerSet && setView(listenerSet);
  }
  return undefined;
}

/** Labels of the route's namespace when the app defines that Namespace (for Selector listeners). */
function namespaceLabels(route: RouteContext): Record<string, string> | undefined {
  if (route.namespace === undefined) return undefined;
  const ns = findInApp(route.scope, kplus.Namespace).find((n) => n.name === route.namespace);
  if (!ns) return undefined;
  const labels = (ns.metadata.toJson() as { labels?: Record<string, string> }).labels ?? {};
  // The API server labels every Namespace with its name; selectors often use it.
  return { ...labels, 'kubernetes.io/metadata.name': ns.name };
}

/**
 * Writes the ReferenceGrant a backend in another namespace needs, when asked to: always for a
 * Service construct of this app unless `grantsForConstructs` is false, and for a reference by
 * name only when it says `referenceGrant: true`. Returns the problem when no grant can be written.
 */
export function grantBackend(route: RouteContext, backend: RouteBackend, grantsForConstructs: boolean, field: string): ValidationIssue | undefined {
  let target: GrantTarget;
  const service = backendService(backend);
  if (service) target = { namespace: service.metadata.namespace, name: service.name, wanted: grantsForConstructs };
  else {
    const ref = backend as BackendReferenceOptions;
    if ((ref.group ?? '') !== '' || (ref.kind ?? 'Service') !== 'Service') return undefined;
    target = { namespace: ref.namespace, name: ref.name, wanted: ref.referenceGrant ?? false };
  }
  return grantCrossNamespace(route.scope, { fromKind: route.kind, fromNamespace: route.namespace, toKind: 'Service' }, target, field, {
    target: 'backend Service',
    owner: route.kind,
    ownerInFix: 'the route',
  });
}
