/**
 * The config-delivery wire protocol between the operator's config server and a proxy, over a
 * WebSocket with mutual TLS. Both sides import this file; it has no I/O.
 *
 *   server → proxy   { type: 'config', epoch, generation, config }   on connect and on change
 *   proxy  → server  { type: 'ack',  version, generation }           applied
 *   proxy  → server  { type: 'nack', version, generation, error[, ports] }   refused (malformed or invalid)
 *
 * `config.version` is the content hash (src/proxy-config.ts), so it says *what* a config is but
 * not which of two configs is newer. `generation` orders them: it increases with every config
 * a server publishes for a Gateway. `epoch` names the server instance that counted; generations
 * from different epochs (another replica, a restart) are not comparable, and the snapshot of the
 * server a proxy is connected to is then authoritative.
 *
 * The proxy's identity is never in a message: the server takes it from the verified client
 * certificate. Every message is validated on receipt; error texts name the field, never a value
 * (values can be private keys).
 */
import { PROXY_CONFIG_SCHEMA, type ObjectRef, type ProxyConfig } from './proxy-config.js';

/** The WebSocket path and subprotocol of version 1 of this protocol. */
export const CONFIG_PROTOCOL_PATH = '/v1/config';
export const CONFIG_PROTOCOL = 'tlsgate.dev.config.v1';
/** Upper bound for one message (a config with many certificates); both sides enforce it. */
export const MAX_CONFIG_MESSAGE_BYTES = 64 * 1024 * 1024;
/** NACK texts are truncated to this many characters. */
export const MAX_ERROR_TEXT = 2000;

export interface ConfigMessage {
  type: 'config';
  epoch: string;
  generation: number;
  config: ProxyConfig;
}

export interface AckMessage {
  type: 'ack';
  version: string;
  generation: number;
}

export interface NackMessage {
  type: 'nack';
  /** Null when the refused message was too malformed to say which version it carried. */
  version: string | null;
  generation: number | null;
  error: string;
  /**
   * Present when the config was refused because some ports cannot be bound: which ones and why,
   * so the operator can serve the Gateway without those listeners. Optional: servers that do
   * not know it ignore it; proxies that do not know it never send it.
   */
  ports?: NackPortFailure[];
}

/** One listener port the proxy could not bind. */
export interface NackPortFailure {
  /** The port as in the config (the listener port). */
  port: number;
  /** The address the proxy tried, e.g. 0.0.0.0. */
  address: string;
  /** The errno code, e.g. EADDRINUSE or EACCES. */
  code: string;
}

/** A proxy reports at most this many port failures (a Gateway has at most 64 listeners). */
export const MAX_NACK_PORTS = 64;

export type ServerMessage = ConfigMessage;
export type ClientMessage = AckMessage | NackMessage;

export type Parsed<T> =
  | { ok: true; message: T }
  | { ok: false; error: string; version: string | null; generation: number | null };

/** Parse and validate a message from the server. On failure, says what to NACK. */
export function parseServerMessage(text: string): Parsed<ServerMessage> {
  const json = parseJson(text);
  if (!json.ok) return { ok: false, error: json.error, version: null, generation: null };
  const value = json.value;
  const version = isRecord(value) && isRecord(value.config) && typeof value.config.version === 'string' ? value.config.version : null;
  const generation = isRecord(value) && isCount(value.generation) ? value.generation : null;
  const errors = new Errors();
  if (!isRecord(value)) errors.add('message', 'expected an object');
  else if (value.type !== 'config') errors.add('message.type', 'expected "config"');
  else {
    if (!nonEmptyString(value.epoch)) errors.add('message.epoch', 'expected a non-empty string');
    if (!isCount(value.generation)) errors.add('message.generation', 'expected a non-negative integer');
    validateProxyConfig(value.config, 'message.config', errors);
  }
  if (!errors.empty) return { ok: false, error: errors.text(), version: version === null ? null : version.slice(0, 128), generation };
  return { ok: true, message: value as unknown as ConfigMessage };
}

/** Parse and validate a message from a proxy. */
export function parseClientMessage(text: string): Parsed<ClientMessage> {
  const json = parseJson(text);
  if (!json.ok) return { ok: false, error: json.error, version: null, generation: null };
  const value = json.value;
  const errors = new Errors();
  if (!isRecord(value)) errors.add('message', 'expected an object');
  else if (value.type === 'ack') {
    if (!nonEmptyString(value.version)) errors.add('message.version', 'expected a non-empty string');
    if (!isCount(value.generation)) errors.add('message.generation', 'expected a non-negative integer');
  } else if (value.type === 'nack') {
    if (value.version !== null && !nonEmptyString(value.version)) errors.add('message.version', 'expected a non-empty string or null');
    if (value.generation !== null && !isCount(value.generation)) errors.add('message.generation', 'expected a non-negative integer or null');
    if (typeof value.error !== 'string') errors.add('message.error', 'expected a string');
    if (value.ports !== undefined) validateNackPorts(value.ports, errors);
  } else errors.add('message.type', 'expected "ack" or "nack"');
  if (!errors.empty) return { ok: false, error: errors.text(), version: null, generation: null };
  return { ok: true, message: value as unknown as ClientMessage };
}

/** The ports field comes from a proxy: untrusted, so small and strictly shaped. */
function validateNackPorts(value: unknown, errors: Errors): void {
  if (!Array.isArray(value)) return errors.add('message.ports', 'expected an array');
  if (value.length > MAX_NACK_PORTS) return errors.add('message.ports', `expected at most ${MAX_NACK_PORTS} entries`);
  value.forEach((entry, i) => {
    const at = `message.ports[${i}]`;
    if (!isRecord(entry)) return errors.add(at, 'expected an object');
    if (!isPort(entry.port)) errors.add(`${at}.port`, 'expected an integer from 1 to 65535');
    // An IP address literal: digits, hex, dots, colons, at most the length of an IPv6 one.
    if (typeof entry.address !== 'string' || !/^[0-9A-Fa-f.:]{2,45}$/.test(entry.address)) errors.add(`${at}.address`, 'expected an IP address');
    if (typeof entry.code !== 'string' || !/^[A-Z][A-Z0-9_]{0,31}$/.test(entry.code)) errors.add(`${at}.code`, 'expected an errno code such as EADDRINUSE');
  });
}

/**
 * Make an error text safe to send, store and log: PEM blocks (keys, certificates) are cut
 * out whole, and the text is bounded. Applied by the proxy before it NACKs and by the server
 * again on receipt, so a careless error message upstream cannot leak a key.
 */
export function sanitizeErrorText(text: string): string {
  const withoutPem = text
    .replace(/-----BEGIN [A-Z0-9 ]+-----[\s\S]*?(-----END [A-Z0-9 ]+-----|$)/g, '<pem removed>')
    // A PEM body without its armour still is key material: long base64 runs go too.
    .replace(/[A-Za-z0-9+/=\r\n]{120,}/g, '<base64 removed>');
  return withoutPem.length > MAX_ERROR_TEXT ? withoutPem.slice(0, MAX_ERROR_TEXT) + '…' : withoutPem;
}

// ---------------------------------------------------------------------------------------------
// Identity: the URI SAN of a proxy's client certificate names its Gateway.

export const GATEWAY_IDENTITY_PREFIX = 'tlsgate://gateway/';

/** The URI SAN that names a Gateway in its proxies' client certificates. */
export function gatewayIdentityUri(gateway: ObjectRef): string {
  return `${GATEWAY_IDENTITY_PREFIX}${gateway.namespace}/${gateway.name}`;
}

/**
 * Parse Node's subjectAltName text (`URI:tlsgate://gateway/ns/name, DNS:…`). Exactly one
 * Gateway URI must be present and both parts must be Kubernetes names, so nothing in the
 * string can smuggle a second identity.
 */
export function gatewayFromSubjectAltName(subjectAltName: string): ObjectRef | null {
  const uris = subjectAltName
    .split(', ')
    .filter((entry) => entry.startsWith(`URI:${GATEWAY_IDENTITY_PREFIX}`))
    .map((entry) => entry.slice(`URI:${GATEWAY_IDENTITY_PREFIX}`.length));
  if (uris.length !== 1) return null;
  const match = /^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)\/([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?)$/.exec(uris[0]!);
  return match ? { namespace: match[1]!, name: match[3]! } : null;
}

// ---------------------------------------------------------------------------------------------
// ProxyConfig schema check. Structure and types only: the semantics (ports bindable, keys
// matching certificates, indexes in range) are the runtime's to check when it applies.

/** Errors in a candidate ProxyConfig (empty when it is well-formed), each naming its path. */
export function proxyConfigErrors(value: unknown, path = 'config'): string[] {
  const errors = new Errors();
  validateProxyConfig(value, path, errors);
  return errors.list;
}

function validateProxyConfig(value: unknown, path: string, errors: Errors): void {
  if (!isRecord(value)) return errors.add(path, 'expected an object');
  if (value.schema !== PROXY_CONFIG_SCHEMA) {
    return errors.add(`${path}.schema`, `unsupported schema, this proxy understands "${PROXY_CONFIG_SCHEMA}"`);
  }
  objectRef(value.gateway, `${path}.gateway`, errors);
  if (!nonEmptyString(value.version)) errors.add(`${path}.version`, 'expected a non-empty string');
  eachOf(value.ports, `${path}.ports`, errors, (port, at) => {
    if (!isRecord(port)) return errors.add(at, 'expected an object');
    // 0 is allowed: an ephemeral port, for tests (the runtime reports what it bound).
    if (!isPort(port.port) && port.port !== 0) errors.add(`${at}.port`, 'expected an integer from 0 to 65535');
    eachOf(port.listeners, `${at}.listeners`, errors, (listener, lat) => validateListener(listener, lat, errors));
  });
  if (value.settings !== undefined) {
    if (!isRecord(value.settings)) errors.add(`${path}.settings`, 'expected an object');
    else {
      for (const [key, setting] of Object.entries(value.settings)) {
        if (setting !== undefined && !isCount(setting)) errors.add(`${path}.settings.${key}`, 'expected a non-negative integer');
      }
    }
  }
}

function validateListener(listener: unknown, at: string, errors: Errors): void {
  if (!isRecord(listener)) return errors.add(at, 'expected an object');
  if (!nonEmptyString(listener.name)) errors.add(`${at}.name`, 'expected a non-empty string');
  if (listener.hostname !== null && !nonEmptyString(listener.hostname)) errors.add(`${at}.hostname`, 'expected a string or null');
  if (listener.mode !== 'Passthrough' && listener.mode !== 'Terminate') errors.add(`${at}.mode`, 'expected "Passthrough" or "Terminate"');
  if (listener.reject !== undefined && typeof listener.reject !== 'string') errors.add(`${at}.reject`, 'expected a string');
  eachOf(listener.certificates, `${at}.certificates`, errors, (cert, cat) => {
    if (!isRecord(cert)) return errors.add(cat, 'expected an object');
    objectRef(cert.secret, `${cat}.secret`, errors);
    for (const field of ['certificatePem', 'privateKeyPem', 'notAfter'] as const) {
      if (!nonEmptyString(cert[field])) errors.add(`${cat}.${field}`, 'expected a non-empty string');
    }
    if (!['RSA', 'EC', 'Ed25519', 'Ed448', 'other'].includes(cert.keyType as string)) errors.add(`${cat}.keyType`, 'expected "RSA", "EC", "Ed25519", "Ed448" or "other"');
    eachOf(cert.dnsNames, `${cat}.dnsNames`, errors, (name, nat) => {
      if (!nonEmptyString(name)) errors.add(nat, 'expected a non-empty string');
    });
  });
  const routeCount = Array.isArray(listener.routes) ? listener.routes.length : 0;
  eachOf(listener.hostnames, `${at}.hostnames`, errors, (entry, hat) => {
    if (!isRecord(entry)) return errors.add(hat, 'expected an object');
    if (!nonEmptyString(entry.hostname)) errors.add(`${hat}.hostname`, 'expected a non-empty string');
    if (!isCount(entry.route) || entry.route >= routeCount) errors.add(`${hat}.route`, `expected an index into routes (0 to ${routeCount - 1})`);
  });
  eachOf(listener.routes, `${at}.routes`, errors, (route, rat) => {
    if (!isRecord(route)) return errors.add(rat, 'expected an object');
    if (!nonEmptyString(route.namespace)) errors.add(`${rat}.namespace`, 'expected a non-empty string');
    if (!nonEmptyString(route.name)) errors.add(`${rat}.name`, 'expected a non-empty string');
    eachOf(route.backends, `${rat}.backends`, errors, (backend, bat) => {
      if (!isRecord(backend)) return errors.add(bat, 'expected an object');
      if (typeof backend.ref !== 'string') errors.add(`${bat}.ref`, 'expected a string');
      if (!isCount(backend.weight)) errors.add(`${bat}.weight`, 'expected a non-negative integer');
      if (backend.reject !== undefined && typeof backend.reject !== 'string') errors.add(`${bat}.reject`, 'expected a string');
      eachOf(backend.endpoints, `${bat}.endpoints`, errors, (endpoint, eat) => {
        if (!isRecord(endpoint)) return errors.add(eat, 'expected an object');
        if (!nonEmptyString(endpoint.address)) errors.add(`${eat}.address`, 'expected a non-empty string');
        if (!isPort(endpoint.port)) errors.add(`${eat}.port`, 'expected an integer from 1 to 65535');
      });
    });
  });
}

function objectRef(value: unknown, path: string, errors: Errors): void {
  if (!isRecord(value)) return errors.add(path, 'expected an object with namespace and name');
  if (!nonEmptyString(value.namespace)) errors.add(`${path}.namespace`, 'expected a non-empty string');
  if (!nonEmptyString(value.name)) errors.add(`${path}.name`, 'expected a non-empty string');
}

function eachOf(value: unknown, path: string, errors: Errors, check: (item: unknown, at: string) => void): void {
  if (!Array.isArray(value)) return errors.add(path, 'expected an array');
  value.forEach((item, index) => check(item, `${path}[${index}]`));
}

/** Collects errors; keeps the first few so a huge broken config gives a readable NACK. */
class Errors {
  readonly list: string[] = [];
  private dropped = 0;
  add(path: string, problem: string): void {
    if (this.list.length < 10) this.list.push(`${path}: ${problem}`);
    else this.dropped++;
  }
  get empty(): boolean {
    return this.list.length === 0;
  }
  text(): string {
    return this.list.join('; ') + (this.dropped > 0 ? `; and ${this.dropped} more` : '');
  }
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false; error: string } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false, error: 'message is not valid JSON' };
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function nonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function isPort(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 65535;
}
