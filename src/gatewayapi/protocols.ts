/**
 * Everything tlsgate knows about listener protocols, in one table, so that serving a new
 * protocol is a change here and in the proxy, not a hunt through translate. Also the one
 * place that says which Gateway API features tlsgate claims (GatewayClass status).
 */
import { GATEWAY_API_GROUP } from './types.js';

export interface ProtocolSupport {
  /** Served by tlsgate's proxy today; otherwise listeners get Accepted=False/UnsupportedProtocol. */
  served: boolean;
  /** Route kinds valid on this protocol (group/kind); an empty allowedRoutes.kinds means all of them. */
  routeKinds: { group: string; kind: string }[];
  transport: 'tcp' | 'udp';
  /**
   * What the first bytes of a connection look like. Listeners may share a port only when this
   * is equal: one socket cannot tell two wire formats apart before choosing a listener. TLS and
   * HTTPS both start with a ClientHello, so the proxy picks between them by SNI; plain HTTP is
   * chosen by the Host header only among HTTP listeners; TCP and UDP are one listener per port.
   */
  portSharing: 'clienthello' | 'http' | 'tcp' | 'udp';
}

const HTTP_ROUTE = { group: GATEWAY_API_GROUP, kind: 'HTTPRoute' };

const PROTOCOLS: Record<string, ProtocolSupport> = {
  TLS: { served: true, routeKinds: [{ group: GATEWAY_API_GROUP, kind: 'TLSRoute' }], transport: 'tcp', portSharing: 'clienthello' },
  HTTPS: { served: true, routeKinds: [HTTP_ROUTE], transport: 'tcp', portSharing: 'clienthello' },
  HTTP: { served: true, routeKinds: [HTTP_ROUTE], transport: 'tcp', portSharing: 'http' },
  TCP: { served: false, routeKinds: [{ group: GATEWAY_API_GROUP, kind: 'TCPRoute' }], transport: 'tcp', portSharing: 'tcp' },
  UDP: { served: false, routeKinds: [{ group: GATEWAY_API_GROUP, kind: 'UDPRoute' }], transport: 'udp', portSharing: 'udp' },
};

/** The protocol's support entry, or undefined for protocols nobody defines (`INVALID`, `foo.io/bar`). */
export function protocolSupport(protocol: string): ProtocolSupport | undefined {
  return Object.prototype.hasOwnProperty.call(PROTOCOLS, protocol) ? PROTOCOLS[protocol] : undefined;
}

/** The proxy listens (and by default rejects) on every listener port of these transports. */
export function listensOnTcp(protocol: string): boolean {
  return (protocolSupport(protocol)?.transport ?? 'tcp') === 'tcp';
}

/** Listener protocols whose routing is HTTPRoutes (the proxy config's `http` part). */
export function isHttpProtocol(protocol: string): protocol is 'HTTP' | 'HTTPS' {
  return protocol === 'HTTP' || protocol === 'HTTPS';
}

/**
 * The extended HTTPRoute features of the v1.6.1 conformance suite (sigs.k8s.io/gateway-api
 * v1.6.1, pkg/features/httproute.go), spelled exactly as the suite reads them from the
 * GatewayClass status.
 */
export type HttpExtendedFeature =
  | 'HTTPRoute303RedirectStatusCode'
  | 'HTTPRoute307RedirectStatusCode'
  | 'HTTPRoute308RedirectStatusCode'
  | 'HTTPRouteBackendProtocolH2C'
  | 'HTTPRouteBackendProtocolWebSocket'
  | 'HTTPRouteBackendRequestHeaderModification'
  | 'HTTPRouteBackendTimeout'
  | 'HTTPRouteCORS'
  | 'HTTPRouteDestinationPortMatching'
  | 'HTTPRouteHostRewrite'
  | 'HTTPRouteMethodMatching'
  | 'HTTPRouteNamedRouteRule'
  | 'HTTPRouteParentRefPort'
  | 'HTTPRoutePathRedirect'
  | 'HTTPRoutePathRewrite'
  | 'HTTPRoutePortRedirect'
  | 'HTTPRouteQueryParamMatching'
  | 'HTTPRouteRequestMirror'
  | 'HTTPRouteRequestMultipleMirrors'
  | 'HTTPRouteRequestPercentageMirror'
  | 'HTTPRouteRequestTimeout'
  | 'HTTPRouteResponseHeaderModification'
  | 'HTTPRouteRetry'
  | 'HTTPRouteRetryBackendTimeout'
  | 'HTTPRouteRetryConnectionError'
  | 'HTTPRouteSchemeRedirect';

/**
 * The extended HTTP features tlsgate claims. A feature goes here only once the proxy passes
 * its conformance test: the suite runs exactly the tests of the claimed features, and a claim
 * the data plane does not keep is a failed report.
 */
export const HTTP_EXTENDED_FEATURES_CLAIMED: readonly HttpExtendedFeature[] = [
  'HTTPRoute303RedirectStatusCode',
  'HTTPRoute307RedirectStatusCode',
  'HTTPRoute308RedirectStatusCode',
  'HTTPRouteBackendProtocolWebSocket',
  'HTTPRouteBackendRequestHeaderModification',
  'HTTPRouteBackendTimeout',
  'HTTPRouteHostRewrite',
  'HTTPRouteMethodMatching',
  'HTTPRouteNamedRouteRule',
  'HTTPRouteParentRefPort',
  'HTTPRoutePathRedirect',
  'HTTPRoutePathRewrite',
  'HTTPRoutePortRedirect',
  'HTTPRouteQueryParamMatching',
  'HTTPRouteRequestTimeout',
  'HTTPRouteResponseHeaderModification',
  'HTTPRouteSchemeRedirect',
];

const CORE_AND_TLS_FEATURES = ['Gateway', 'HTTPRoute', 'ReferenceGrant', 'TLSRoute', 'TLSRouteModeMixed', 'TLSRouteModeTerminate'] as const;

/**
 * ListenerSet (GEP-1713): claimed because the suite's 13 ListenerSet tests (GATEWAY-TLS and
 * GATEWAY-HTTP extended) pass against the operator; the claim makes npm test run them.
 */
const LISTENER_SET_FEATURES = ['ListenerSet'] as const;

/** The features tlsgate claims in GatewayClass status (sorted by name, GEP-2162). */
export const SUPPORTED_FEATURES: readonly string[] = [...CORE_AND_TLS_FEATURES, ...LISTENER_SET_FEATURES, ...HTTP_EXTENDED_FEATURES_CLAIMED].sort();

export const TLS_MODE_TERMINATE_SUPPORTED = SUPPORTED_FEATURES.includes('TLSRouteModeTerminate');
export const TLS_MODE_MIXED_SUPPORTED = SUPPORTED_FEATURES.includes('TLSRouteModeMixed');
