/**
 * The shapes translate's steps share: its input and output (the contract with its callers),
 * and the intermediate state one step hands to the next (evaluated classes, Gateways and
 * listeners, attached routes). Types only, so that every step can import them without import
 * cycles between the steps.
 */
import type { BackendConfig, CertificateConfig, HttpRouteConfig, HttpMatchConfig, ProxyConfig, ProxySettings, TlsMode } from '../proxy-config.js';
import type {
  EndpointSlice,
  Gateway,
  GatewayClass,
  GatewayClassStatus,
  GatewayParameters,
  GatewayStatus,
  HTTPRoute,
  Listener,
  ListenerSet,
  ListenerSetStatus,
  Namespace,
  ReferenceGrant,
  RouteGroupKind,
  RouteParentStatus,
  Secret,
  Service,
  TLSRoute,
} from './types.js';

export const CONTROLLER_NAME = 'tlsgate.dev/gateway-controller';

// ---------------------------------------------------------------- input and output

/** Plain Kubernetes objects as read from the API or from YAML. */
export interface Snapshot {
  gatewayClasses: GatewayClass[];
  gateways: Gateway[];
  tlsRoutes: TLSRoute[];
  httpRoutes: HTTPRoute[];
  referenceGrants: ReferenceGrant[];
  services: Service[];
  endpointSlices: EndpointSlice[];
  secrets: Secret[];
  namespaces: Namespace[];
  gatewayParameters?: GatewayParameters[];
  /** Optional so that callers without ListenerSets need not list them. */
  listenerSets?: ListenerSet[];
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
  /**
   * Ports the data plane cannot bind, per Gateway ("namespace/name"): port → why, e.g.
   * "cannot listen on 0.0.0.0:443: EACCES" or "it is the proxy's admin port". Listeners on
   * them get Accepted=False/PortUnavailable and are left out of the proxy config, so that the
   * rest of the Gateway is served. When that leaves no listener, the Gateway is not Accepted but
   * keeps a proxy config with no ports (its proxies stay to try the ports again). Kept apart from
   * `runtime` because it changes the proxy config.
   */
  unavailablePorts?: Record<string, Record<number, string>>;
}

/** One route's status: other controllers' entries untouched, then ours. */
export interface RouteStatusEntry {
  namespace: string;
  name: string;
  status: { parents: RouteParentStatus[] };
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
  tlsRoutes: RouteStatusEntry[];
  /** HTTPRoutes, as for `tlsRoutes`. */
  httpRoutes: RouteStatusEntry[];
  /** ListenerSets whose parent is a Gateway of our classes (we own their status), sorted by namespace/name. */
  listenerSets: { namespace: string; name: string; status: ListenerSetStatus }[];
  /**
   * One per Gateway we serve, sorted by namespace/name: every Accepted Gateway, and one that is
   * not Accepted only because all its listeners are on unavailable ports (a config with no ports).
   */
  proxyConfigs: ProxyConfig[];
}

// ---------------------------------------------------------------- state between steps

/** A False condition's reason and message. */
export interface Problem {
  reason: string;
  message: string;
}

export interface EvaluatedListener {
  spec: Listener;
  /** The name in its Gateway or ListenerSet (what a parentRef's sectionName names). */
  name: string;
  /**
   * The name in the proxy config when it differs from `name`: a ListenerSet's listeners are
   * `namespace/listenerset/name`, because names are unique only within their own object and the
   * proxy keys metrics, logs and connection limits by listener name.
   */
  configName?: string;
  port: number;
  protocol: string;
  /** Normalized hostname, or null for none. */
  hostname: string | null;
  /** TLS mode, for TLS listeners with a valid mode (always Terminate for HTTPS). */
  mode?: TlsMode;
  /** Accepted=False problem; undefined when Accepted. */
  notAccepted?: Problem;
  /** Conflicted=True problem (ProtocolConflict, HostnameConflict). */
  conflict?: Problem;
  supportedKinds: RouteGroupKind[];
  /** ResolvedRefs=False problems, the first one gives the reason. */
  refProblems: Problem[];
  /** Set when the listener is Accepted but cannot serve (broken or forbidden certificate). */
  unusable?: string;
  certificates: CertificateConfig[];
  /** Human-readable certificate notes (expiry relative to now) for the ResolvedRefs message. */
  certificateNotes: string[];
  /** Accepted routes attached here (counted after the route steps). */
  attachedRoutes: number;
  /**
   * Set when the caller knows this listener's port cannot be bound (translate input
   * `unavailablePorts`): the port is left out of the proxy config altogether.
   */
  portUnavailable?: string;
}

/** The route kinds that attach to Gateway listeners. */
export type RouteKind = 'TLSRoute' | 'HTTPRoute';

/**
 * A hostname a route serves on a listener (exact, `*.suffix`, or `*` for any host), and the
 * route hostname it came from (null: the route has no hostnames, an HTTPRoute serving the
 * listener's).
 */
export interface ServedHostname {
  hostname: string;
  original: string | null;
}

/** One TLSRoute attached to one listener, with what it serves there. */
export interface AttachedTlsRoute {
  namespace: string;
  name: string;
  creationTimestamp: string | undefined;
  backends: BackendConfig[];
  hostnames: ServedHostname[];
}

/** One HTTPRoute attached to one listener: its compiled rules and the hostnames it serves there. */
export interface AttachedHttpRoute {
  namespace: string;
  name: string;
  creationTimestamp: string | undefined;
  config: HttpRouteConfig;
  /** The valid matches of each rule (by rule index), each with its index in the rule's spec matches. */
  matches: { match: HttpMatchConfig; index: number }[][];
  hostnames: ServedHostname[];
}

export interface ClassState {
  name: string;
  problem?: Problem;
  settings: ProxySettings | undefined;
}

export interface GatewayState {
  gateway: Gateway;
  namespace: string;
  name: string;
  listeners: EvaluatedListener[];
  /** Accepted=False problem of the Gateway as a whole. */
  problem?: Problem;
  /**
   * Not Accepted only because every listener's port is unavailable (a data-plane condition the
   * user did not write): it still gets a proxy config, so that its proxies keep running and the
   * ports are tried again on them.
   */
  onlyPortsUnavailable: boolean;
  settings: ProxySettings | undefined;
  /** TLSRoutes per listener, keyed by route namespace/name. */
  tlsAttached: Map<EvaluatedListener, Map<string, AttachedTlsRoute>>;
  /** HTTPRoutes per listener, keyed by route namespace/name. */
  httpAttached: Map<EvaluatedListener, Map<string, AttachedHttpRoute>>;
  /**
   * ListenerSets whose parentRef is this Gateway, in listener precedence order (oldest first,
   * then namespace/name). Routes attached to their listeners are recorded in the maps above.
   */
  listenerSets: ListenerSetState[];
}

/** One ListenerSet whose parent is one of our Gateways. */
export interface ListenerSetState {
  listenerSet: ListenerSet;
  namespace: string;
  name: string;
  /** namespace/name of the parent Gateway. */
  gatewayKey: string;
  /** Its listeners, evaluated even when it is not attached (statuses, sectionName matching). */
  listeners: EvaluatedListener[];
  /** Accepted=False problem: NotAllowed, ParentNotAccepted or ListenersNotValid. Undefined when attached. */
  problem?: Problem;
  /** Accepted but some listeners are not valid (Accepted=True/ListenersNotValid). */
  someListenersInvalid?: string;
}
