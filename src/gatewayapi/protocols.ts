/**
 * Everything tlsgate knows about listener protocols, in one table, so that serving a new
 * protocol later (HTTPS, HTTP; spec 7.3) is a change here and in the proxy, not a hunt
 * through translate.
 */
import { GATEWAY_API_GROUP } from './types.js';

export interface ProtocolSupport {
  /** Served by tlsgate's proxy today; otherwise listeners get Accepted=False/UnsupportedProtocol. */
  served: boolean;
  /** Route kinds valid on this protocol (group/kind); an empty allowedRoutes.kinds means all of them. */
  routeKinds: { group: string; kind: string }[];
  /**
   * Which other protocols may share a port with this one. One socket cannot serve two
   * different wire protocols, so only the same protocol may share a port.
   */
  transport: 'tcp' | 'udp';
}

const PROTOCOLS: Record<string, ProtocolSupport> = {
  TLS: { served: true, routeKinds: [{ group: GATEWAY_API_GROUP, kind: 'TLSRoute' }], transport: 'tcp' },
  HTTPS: { served: false, routeKinds: [{ group: GATEWAY_API_GROUP, kind: 'HTTPRoute' }], transport: 'tcp' },
  HTTP: { served: false, routeKinds: [{ group: GATEWAY_API_GROUP, kind: 'HTTPRoute' }], transport: 'tcp' },
  TCP: { served: false, routeKinds: [{ group: GATEWAY_API_GROUP, kind: 'TCPRoute' }], transport: 'tcp' },
  UDP: { served: false, routeKinds: [{ group: GATEWAY_API_GROUP, kind: 'UDPRoute' }], transport: 'udp' },
};

/** The protocol's support entry, or undefined for protocols nobody defines (`INVALID`, `foo.io/bar`). */
export function protocolSupport(protocol: string): ProtocolSupport | undefined {
  return Object.prototype.hasOwnProperty.call(PROTOCOLS, protocol) ? PROTOCOLS[protocol] : undefined;
}

/** The proxy listens (and by default rejects) on every listener port of these transports. */
export function listensOnTcp(protocol: string): boolean {
  return (protocolSupport(protocol)?.transport ?? 'tcp') === 'tcp';
}

/** The features tlsgate claims in GatewayClass status (sorted by name, GEP-2162). */
export const SUPPORTED_FEATURES = [
  'Gateway',
  'ReferenceGrant',
  'TLSRoute',
  'TLSRouteModeMixed',
  'TLSRouteModeTerminate',
] as const;

export const TLS_MODE_TERMINATE_SUPPORTED = SUPPORTED_FEATURES.includes('TLSRouteModeTerminate');
export const TLS_MODE_MIXED_SUPPORTED = SUPPORTED_FEATURES.includes('TLSRouteModeMixed');
