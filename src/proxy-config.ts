/**
 * The proxy config: everything one Gateway's proxies need to serve traffic, and nothing
 * more. Translate (src/gatewayapi) produces one per Gateway; the operator delivers it over
 * the config server, standalone mode hands it to the engine directly, and the proxy
 * (proxy/) serves it. It is plain JSON: no classes, no Dates, no Buffers, so that it can
 * cross a WebSocket, be dumped by `/config_dump` and be golden-tested as YAML.
 *
 * Ordering is part of the contract: every list is sorted as documented below, so the
 * same input always yields byte-identical JSON, and `version` can be a content hash.
 *
 * Schema changes: add optional fields freely; anything else bumps PROXY_CONFIG_SCHEMA and
 * the proxy refuses (NACKs) a schema it does not know.
 */

export const PROXY_CONFIG_SCHEMA = 'tlsgate.dev/proxy-config/v1' as const;

export interface ProxyConfig {
  schema: typeof PROXY_CONFIG_SCHEMA;
  /** The Gateway this config belongs to. */
  gateway: ObjectRef;
  /**
   * Content hash of everything below (hex sha256 of the canonical JSON without this
   * field). Equal versions mean equal configs; proxies ACK/NACK by version. With
   * `sessionTicketKeys` (added by the operator after translate) it is translate's hash
   * followed by 16 hex digits of a hash over the whole config, keys included.
   */
  version: string;
  /** One entry per distinct listener port, sorted by port ascending. */
  ports: PortConfig[];
  /** Optional overrides of the proxy's built-in limits (from GatewayParameters later). */
  settings?: ProxySettings;
  /**
   * Session-ticket keys shared by every replica of the Gateway (the operator derives them,
   * operator/ticket-keys.ts): base64 keys of SESSION_TICKET_KEY_BYTES each, the current key
   * first, then the previous one (still decrypts, for the rotation overlap). A proxy that
   * receives them uses them instead of its own random, hourly rotated keys, so a ticket from
   * one replica resumes on another. Not set by translate (no clocks there) nor in standalone
   * mode. Part of `version` like any field; redacted like private keys.
   */
  sessionTicketKeys?: string[];
}

/** Bytes of one session-ticket key as Node's `ticketKeys` takes it (16 name, 16 HMAC, 16 AES). */
export const SESSION_TICKET_KEY_BYTES = 48;

export interface ObjectRef {
  namespace: string;
  name: string;
}

export interface PortConfig {
  port: number;
  /**
   * The Gateway's listeners on this port that the proxy serves (Accepted TLS listeners),
   * sorted by precedence: exact hostnames first (alphabetically), then wildcards by label
   * count descending (then alphabetically), then the listener without hostname.
   * An empty list still means "listen on this port and reject everything": a configured
   * port never refuses connections.
   */
  listeners: ListenerConfig[];
}

export type TlsMode = 'Passthrough' | 'Terminate';

/**
 * What a port speaks is decided by its listeners: a port whose listeners are all `HTTP` is a
 * plain-text HTTP/1.1 port; any other port reads a ClientHello and chooses a `TLS` or `HTTPS`
 * listener by SNI (translate never puts HTTP beside TLS or HTTPS on one port: that is a
 * ProtocolConflict).
 */
export type ServedProtocol = 'TLS' | 'HTTPS' | 'HTTP';

export interface ListenerConfig {
  /** The Gateway listener's name (sectionName). */
  name: string;
  /**
   * Absent means `TLS` (configs written before HTTP listeners existed). `HTTPS` and `HTTP`
   * listeners carry their routing in `http`, and leave `hostnames` and `routes` empty.
   */
  protocol?: ServedProtocol;
  /**
   * Lowercase hostname or `*.suffix` wildcard; null matches any SNI (TLS, HTTPS) or any Host
   * header (HTTP: the listener of a plain HTTP port is chosen by the request's Host).
   */
  hostname: string | null;
  /**
   * TLS listeners: Passthrough or Terminate. HTTPS and HTTP listeners: always `Terminate`, the
   * proxy ends the client's connection (TLS and HTTP) and makes its own requests to backends.
   */
  mode: TlsMode;
  /**
   * When set, the listener is unusable (for example its certificate is invalid or not
   * permitted): the proxy still claims SNIs matching its hostname, and rejects them.
   * The text is the reason, for logs and metrics; never key material.
   */
  reject?: string;
  /** Terminate only: the certificates to serve, in the order of the certificateRefs. */
  certificates: CertificateConfig[];
  /**
   * The hostname table: one entry per distinct hostname the listener serves, already
   * de-duplicated by route precedence (the winner for each hostname string is the only
   * entry). Sorted by precedence: exact names first, then wildcards by label count
   * descending, then alphabetically. `route` indexes `routes`.
   */
  hostnames: HostnameEntry[];
  /** The routes attached to this listener, sorted by namespace/name. */
  routes: RouteConfig[];
  /** HTTP and HTTPS listeners only: the HTTPRoutes attached to this listener. */
  http?: HttpListenerConfig;
}

// ---- HTTP (HTTPRoute) -----------------------------------------------------------------------

/**
 * How an HTTP or HTTPS listener routes requests. A request is routed in three steps:
 * 1. the virtual host: the most specific entry of `virtualHosts` matching the request's host
 *    (the Host header or `:authority`, lowercased, port removed): an exact name, else the
 *    longest matching `*.suffix` wildcard, else `*`; none matches → 404;
 * 2. the first entry of that virtual host's `matches` that the request satisfies (they are
 *    already in the spec's precedence order); none → 404;
 * 3. that match's rule: its filters, then one backend by weight.
 */
export interface HttpListenerConfig {
  /** Sorted by precedence: exact names (alphabetically), wildcards by label count descending, then `*`. */
  virtualHosts: HttpVirtualHostConfig[];
  /** The HTTPRoutes attached to this listener, sorted by namespace/name; matches index them. */
  routes: HttpRouteConfig[];
}

export interface HttpVirtualHostConfig {
  /** Lowercase exact name, `*.suffix` wildcard (one or more labels), or `*` for any host. */
  hostname: string;
  /**
   * Every (rule, match) pair of every route serving this hostname, in precedence order
   * (Exact path, then longest PathPrefix, then RegularExpression paths; then method; then more
   * header matches; then more query-parameter matches; then the oldest route; then
   * namespace/name; then rule order; then match order). The proxy takes the first that matches.
   * Routes whose hostname covers this one less specifically (a `*.example.com` route in
   * `foo.example.com`, a route without hostnames in every virtual host of its listener) are
   * included too, after the more specific routes' pairs (the spec's hostname precedence comes
   * before match precedence), so the proxy never needs to look at a second virtual host.
   */
  matches: HttpMatchEntry[];
}

export interface HttpMatchEntry {
  /** Index into the listener's `http.routes`. */
  route: number;
  /** Index into that route's `rules`. */
  rule: number;
  match: HttpMatchConfig;
}

export interface HttpMatchConfig {
  /** PathPrefix values have no trailing slash except `/` itself; they match whole segments. */
  path: { type: 'Exact' | 'PathPrefix' | 'RegularExpression'; value: string };
  /** Header names lowercase; all must match. A header present several times matches on its first value. */
  headers: HttpValueMatch[];
  /** Exact (case-sensitive) names; all must match, on the first value of the parameter. */
  queryParams: HttpValueMatch[];
  /** Uppercase HTTP method; absent matches every method. */
  method?: string;
}

export interface HttpValueMatch {
  type: 'Exact' | 'RegularExpression';
  name: string;
  value: string;
}

export interface HttpRouteConfig {
  /** The HTTPRoute. */
  namespace: string;
  name: string;
  /** Every rule of the route in spec order (indexes are stable for `matches`). */
  rules: HttpRuleConfig[];
}

export interface HttpRuleConfig {
  /** The rule's `name` when it has one (for logs and metrics). */
  name?: string;
  /** Rule-level filters in spec order. A RequestRedirect answers the request itself. */
  filters: HttpFilterConfig[];
  /**
   * backendRefs in spec order with weights, as for TLS routes (BackendConfig), plus their own
   * filters. Empty (no backendRefs and no redirect): the proxy answers 500. A request whose pick
   * lands on a rejected backend, or when every weight is 0, gets 500.
   */
  backends: HttpBackendConfig[];
  /** `timeouts.request` / `timeouts.backendRequest` in milliseconds; 0 or absent: none. Expiry → 504. */
  timeouts?: { requestMs?: number; backendRequestMs?: number };
}

export interface HttpBackendConfig extends BackendConfig {
  /** Per-backend filters (RequestHeaderModifier, ResponseHeaderModifier, URLRewrite), applied after the rule's. */
  filters?: HttpFilterConfig[];
}

export interface HttpHeaderModifierConfig {
  /** Header names as written (the proxy compares them case-insensitively). */
  set: { name: string; value: string }[];
  add: { name: string; value: string }[];
  remove: string[];
}

/** ReplaceFullPath replaces the whole path; ReplacePrefixMatch replaces the matched PathPrefix. */
export type HttpPathModifierConfig = { type: 'ReplaceFullPath'; value: string } | { type: 'ReplacePrefixMatch'; value: string };

export type HttpFilterConfig =
  | ({ type: 'RequestHeaderModifier' } & HttpHeaderModifierConfig)
  | ({ type: 'ResponseHeaderModifier' } & HttpHeaderModifierConfig)
  | {
      type: 'RequestRedirect';
      /** `http` or `https`; absent keeps the request's. */
      scheme?: string;
      /** Absent keeps the request's host. */
      hostname?: string;
      path?: HttpPathModifierConfig;
      /**
       * Absent: the port is derived as the spec says (omitted when it is the scheme's well-known
       * port: 80 for http, 443 for https; when the scheme changes and no port is given, the
       * new scheme's well-known port, i.e. omitted; otherwise the listener's port).
       */
      port?: number;
      /** 301, 302, 303, 307 or 308. */
      statusCode: number;
    }
  | { type: 'URLRewrite'; hostname?: string; path?: HttpPathModifierConfig };

export interface HostnameEntry {
  /** Lowercase exact name or `*.suffix` wildcard (one or more labels). */
  hostname: string;
  route: number;
}

export interface CertificateConfig {
  /** The Secret this came from (for logs, metrics and config dumps). */
  secret: ObjectRef;
  /** PEM certificate chain, leaf first (the Secret's `tls.crt`). */
  certificatePem: string;
  /** PEM private key (the Secret's `tls.key`). Redacted in dumps and logs. */
  privateKeyPem: string;
  /** Key algorithm of the leaf, to choose by what the client supports. */
  keyType: 'RSA' | 'EC' | 'Ed25519' | 'Ed448' | 'other';
  /** Lowercase DNS SANs of the leaf (CN when there are none), to choose by SNI. */
  dnsNames: string[];
  /** Leaf expiry, ISO 8601 UTC (for the expiry gauge). */
  notAfter: string;
}

export interface RouteConfig {
  /** The TLSRoute. */
  namespace: string;
  name: string;
  /**
   * All backendRefs of the route's rule, in spec order, including invalid ones: the
   * proxy picks by weight over all of them and rejects connections that land on an
   * invalid one, so rejection respects weights. Weight 0 entries are kept (never picked)
   * so that config dumps show every ref.
   */
  backends: BackendConfig[];
}

export interface BackendConfig {
  /** `namespace/name:port` of the Service as referenced, or the raw ref for invalid kinds. */
  ref: string;
  weight: number;
  /**
   * Set when connections picked for this backend must be rejected: the ref is invalid
   * (InvalidKind, RefNotPermitted, BackendNotFound) or the Service has no ready endpoints.
   */
  reject?: string;
  /** Ready endpoints (EndpointSlice addresses with the Service port's target port). */
  endpoints: EndpointConfig[];
}

export interface EndpointConfig {
  address: string;
  port: number;
}

/** Limits and timeouts; every field optional, the proxy has documented defaults. */
export interface ProxySettings {
  clientHelloTimeoutMs?: number;
  maxClientHelloBytes?: number;
  connectTimeoutMs?: number;
  idleTimeoutMs?: number;
  maxConnectionsPerListener?: number;
}

/** A copy of the config with every private key and ticket key replaced, safe to print or serve. */
export function redactProxyConfig(config: ProxyConfig): ProxyConfig {
  return {
    ...config,
    ...(config.sessionTicketKeys ? { sessionTicketKeys: config.sessionTicketKeys.map(() => REDACTED) } : {}),
    ports: config.ports.map((port) => ({
      ...port,
      listeners: port.listeners.map((listener) => ({
        ...listener,
        certificates: listener.certificates.map((cert) => ({ ...cert, privateKeyPem: REDACTED })),
      })),
    })),
  };
}

export const REDACTED = '<redacted>';
