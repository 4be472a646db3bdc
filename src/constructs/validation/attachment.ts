// Can a route attach to the parent it names? The checks of gateway-api-tls-spec.md 3.2,
// made at synth time for parents that are Gateways of the same app: a named listener or
// port must exist, the listener must take the route's kind (TLSRoute on TLS listeners,
// HTTPRoute on HTTP and HTTPS listeners) from the route's namespace, and a route hostname
// must intersect the listener hostname (3.3, multi-label wildcards). Like the controller,
// report the furthest step reached, once per parentRef.
import type { GatewaySpecListeners } from '../../../imports/gwapi-gateway.networking.k8s.io.js';
import { hostnameIntersection } from './hostnames.js';
import type { ValidationIssue } from './issues.js';
import { GATEWAY_GROUP } from './patterns.js';

export interface ParentGatewayView {
  /** @default "Gateway" (a ListenerSet parent offers its own listeners, `Same` meaning its namespace) */
  readonly kind?: 'Gateway' | 'ListenerSet';
  readonly name: string;
  readonly namespace: string | undefined;
  readonly listeners: readonly GatewaySpecListeners[];
}

export type AttachingRouteKind = 'TLSRoute' | 'HTTPRoute';

/** The listener protocols that serve each route kind. */
const PROTOCOLS_FOR_KIND: Readonly<Record<AttachingRouteKind, readonly string[]>> = { TLSRoute: ['TLS'], HTTPRoute: ['HTTP', 'HTTPS'] };

export interface AttachmentRequest {
  readonly routeKind: AttachingRouteKind;
  /** Where the parentRef sits in the route, e.g. `spec.parentRefs[0]`. */
  readonly field: string;
  readonly sectionName?: string;
  readonly port?: number;
  readonly routeNamespace: string | undefined;
  /**
   * Labels of the route's namespace when the app defines that Namespace, else undefined.
   * A function: looking it up walks the app, so it is asked only for Selector listeners.
   */
  readonly routeNamespaceLabels: () => Readonly<Record<string, string>> | undefined;
  /** The route's hostnames; none (HTTPRoute only) takes every hostname of the listener. */
  readonly hostnames: readonly string[];
}

export function checkAttachment(gateway: ParentGatewayView, req: AttachmentRequest): ValidationIssue | undefined {
  const gw = `${gateway.kind ?? 'Gateway'} "${gateway.namespace ? `${gateway.namespace}/` : ''}${gateway.name}"`;
  const names = gateway.listeners.map((l) => `"${l.name}" (port ${l.port})`).join(', ') || 'none';
  let candidates = gateway.listeners;
  if (req.sectionName !== undefined) {
    candidates = candidates.filter((l) => l.name === req.sectionName);
    if (candidates.length === 0) {
      return issue(`${req.field}.sectionName`, `${gw} has no listener named "${req.sectionName}" (listeners: ${names})`, 'name one of its listeners, or add that listener to the Gateway');
    }
  }
  if (req.port !== undefined) {
    candidates = candidates.filter((l) => l.port === req.port);
    if (candidates.length === 0) {
      const which = req.sectionName !== undefined ? `listener "${req.sectionName}" of ${gw} is not on port ${req.port}` : `${gw} has no listener on port ${req.port}`;
      return issue(`${req.field}.port`, `${which} (listeners: ${names})`, 'use the port of one of its listeners');
    }
  }
  const kind = req.routeKind;
  const protocols = PROTOCOLS_FOR_KIND[kind];
  const serving = candidates.filter((l) => protocols.includes(l.protocol));
  if (serving.length === 0) {
    const article = kind === 'HTTPRoute' ? 'an' : 'a';
    return issue(req.field, `${article} ${kind} attaches only to ${protocols.join(' and ')} listeners; ${describe(candidates)} of ${gw} use protocol ${[...new Set(candidates.map((l) => l.protocol))].join('/')}`,
      `point the route at a listener with protocol ${protocols.join(' or ')}`);
  }
  const kinds = serving.filter((l) => acceptsKind(l, kind));
  if (kinds.length === 0) {
    return issue(req.field, `${describe(serving)} of ${gw} do not allow routes of kind ${kind} (allowedRoutes.kinds)`, `add ${kind} to the listener's allowedRoutes.kinds or leave kinds out`);
  }
  const admitted = kinds.filter((l) => admitsNamespace(l, gateway.namespace, req));
  if (admitted.length === 0) {
    return issue(req.field, `${describe(kinds)} of ${gw} do not admit routes from namespace "${req.routeNamespace}" (${kinds.map(describeNamespacePolicy).join('; ')})`,
      'set the listener\'s allowedRoutes.namespaces to All or to a selector that matches the route\'s namespace, or move the route');
  }
  if (req.hostnames.length === 0) return undefined;
  const attached = admitted.filter((l) => req.hostnames.some((h) => hostnameIntersection(l.hostname, h) !== undefined));
  if (attached.length === 0) {
    const listenerHosts = admitted.map((l) => `"${l.name}": ${l.hostname ?? '(any)'}`).join(', ');
    return issue('spec.hostnames', `for ${req.field}: no route hostname (${req.hostnames.join(', ')}) intersects the hostname of ${describe(admitted)} of ${gw} (${listenerHosts}), so the route would not attach (NoMatchingListenerHostname)`,
      'use hostnames the listener hostname covers, e.g. "app.example.com" under "*.example.com"');
  }
  return undefined;
}

function issue(field: string, message: string, fix: string): ValidationIssue {
  return { field, message, fix };
}

function describe(listeners: readonly GatewaySpecListeners[]): string {
  return listeners.length === 1 ? `listener "${listeners[0]!.name}"` : `listeners ${listeners.map((l) => `"${l.name}"`).join(', ')}`;
}

function acceptsKind(l: GatewaySpecListeners, kind: AttachingRouteKind): boolean {
  const kinds = l.allowedRoutes?.kinds;
  return kinds === undefined || kinds.length === 0 || kinds.some((k) => (k.group ?? GATEWAY_GROUP) === GATEWAY_GROUP && k.kind === kind);
}

function describeNamespacePolicy(l: GatewaySpecListeners): string {
  const from = l.allowedRoutes?.namespaces?.from ?? 'Same';
  return `"${l.name}" admits ${from === 'Same' ? 'only its own namespace' : from === 'Selector' ? `namespaces matching ${JSON.stringify(l.allowedRoutes?.namespaces?.selector ?? {})}` : 'all namespaces'}`;
}

/** Unknown namespaces or labels (not defined in this app) are given the benefit of the doubt. */
function admitsNamespace(l: GatewaySpecListeners, gatewayNamespace: string | undefined, req: AttachmentRequest): boolean {
  const policy = l.allowedRoutes?.namespaces;
  const from = policy?.from ?? 'Same';
  if (from === 'All') return true;
  if (from === 'Same') return gatewayNamespace === undefined || req.routeNamespace === undefined || gatewayNamespace === req.routeNamespace;
  const labels = req.routeNamespaceLabels();
  if (labels === undefined) return true;
  return selectorMatches(policy?.selector ?? {}, labels);
}

function selectorMatches(
  selector: { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values?: string[] }[] },
  labels: Readonly<Record<string, string>>,
): boolean {
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) if (labels[key] !== value) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(labels, e.key);
    const value = labels[e.key];
    const values = e.values ?? [];
    const ok =
      e.operator === 'In' ? has && values.includes(value!) :
      e.operator === 'NotIn' ? !has || !values.includes(value!) :
      e.operator === 'Exists' ? has :
      e.operator === 'DoesNotExist' ? !has : false;
    if (!ok) return false;
  }
  return true;
}
