/**
 * translate: the pure heart of tlsgate. One snapshot of Kubernetes objects in, the status
 * every object should have and one proxy config per Gateway out. No I/O, no clock (the
 * caller passes `now`), deterministic ordering everywhere, so that equal inputs give
 * byte-identical outputs and proxy config versions can be content hashes.
 */
import type { ProxyConfig } from '../proxy-config.js';
import type {
  EndpointSlice,
  Gateway,
  GatewayClass,
  GatewayClassStatus,
  GatewayParameters,
  GatewayStatus,
  Namespace,
  ReferenceGrant,
  RouteParentStatus,
  Secret,
  Service,
  TLSRoute,
} from './types.js';

export const CONTROLLER_NAME = 'tlsgate.dev/gateway-controller';

/** Plain Kubernetes objects as read from the API or from YAML. */
export interface Snapshot {
  gatewayClasses: GatewayClass[];
  gateways: Gateway[];
  tlsRoutes: TLSRoute[];
  referenceGrants: ReferenceGrant[];
  services: Service[];
  endpointSlices: EndpointSlice[];
  secrets: Secret[];
  namespaces: Namespace[];
  gatewayParameters?: GatewayParameters[];
}

/** What the caller knows about a Gateway's data plane. */
export interface GatewayRuntime {
  addresses: { type: 'IPAddress' | 'Hostname'; value: string }[];
  /** Proxy-config version a ready proxy has ACKed. */
  acknowledgedVersion?: string;
  /** e.g. a proxy NACK error, shown in Programmed=False. */
  message?: string;
}

export interface TranslateInput {
  snapshot: Snapshot;
  now: Date;
  controllerName?: string;
  /** Keyed by "namespace/name" of the Gateway. */
  runtime?: Record<string, GatewayRuntime>;
}

export interface TranslateOutput {
  /** Ours only, sorted by name. */
  gatewayClasses: { name: string; status: GatewayClassStatus }[];
  /** Gateways of our classes, sorted by namespace/name. */
  gateways: { namespace: string; name: string; status: GatewayStatus }[];
  /**
   * Every route with at least one of our parent entries (or one that must be removed);
   * parents = other controllers' entries untouched + ours. Sorted by namespace/name.
   */
  tlsRoutes: { namespace: string; name: string; status: { parents: RouteParentStatus[] } }[];
  /** One per Gateway we serve, sorted by namespace/name. */
  proxyConfigs: ProxyConfig[];
}

export function translate(input: TranslateInput): TranslateOutput {
  void input;
  throw new Error('translate: not implemented yet');
}
