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

export interface ListenerConfig {
  /** The Gateway listener's name (sectionName). */
  name: string;
  /** Lowercase hostname or `*.suffix` wildcard; null matches any SNI. */
  hostname: string | null;
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
}

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
