// Structural validation of proxy configs before anything is applied. The configs come from
// our own translate step, but over a network hop (config delivery) and possibly from a
// different version, so the engine checks what it relies on and names the offending field.
import { PROXY_CONFIG_SCHEMA, SESSION_TICKET_KEY_BYTES, type ProxyConfig } from '../src/proxy-config.js';
import { settingsProblem } from './settings.js';
import { httpListenerProblem } from './http/validate.js';
import { finish, type Steps } from './time-slices.js';

const HOSTNAME = /^(\*\.)?[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*$/;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isPort(value: unknown, allowZero: boolean): boolean {
  return typeof value === 'number' && Number.isInteger(value) && value >= (allowZero ? 0 : 1) && value <= 65535;
}

/** Throws an Error naming the config and field of the first problem found. */
export function validateProxyConfigs(configs: readonly ProxyConfig[]): void {
  finish(proxyConfigChecks(configs));
}

/** validateProxyConfigs as steps (one per route), for a process that must keep relaying meanwhile. */
export function* proxyConfigChecks(configs: readonly ProxyConfig[]): Steps<void> {
  if (!Array.isArray(configs)) throw new Error('apply: configs must be an array of proxy configs');
  const seen = new Set<string>();
  let ring: { gateway: string; keys: string } | null = null;
  for (let index = 0; index < configs.length; index++) {
    const config = configs[index]!;
    const problem = yield* configProblem(config);
    const name = isObject(config) && isObject(config.gateway) ? `${config.gateway.namespace}/${config.gateway.name}` : `#${index}`;
    if (problem !== null) throw new Error(`proxy config ${name}: ${problem}`);
    if (seen.has(name)) throw new Error(`proxy config ${name}: the Gateway appears twice in one apply`);
    seen.add(name);
    // One process holds one ring (every certificate context of every Gateway uses it).
    if (config.sessionTicketKeys === undefined) continue;
    const keys = config.sessionTicketKeys.join(',');
    if (ring !== null && ring.keys !== keys) throw new Error(`proxy config ${name}: sessionTicketKeys: differ from those of Gateway ${ring.gateway}; one proxy process serves one ring`);
    ring ??= { gateway: name, keys };
  }
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** The keys as the proxy needs them: 1 or 2 base64 strings of SESSION_TICKET_KEY_BYTES each. Never quotes a key. */
export function sessionTicketKeysProblem(keys: unknown): string | null {
  if (keys === undefined) return null;
  if (!Array.isArray(keys) || keys.length < 1 || keys.length > 2) return 'sessionTicketKeys: must be a list of 1 or 2 keys (current, previous)';
  for (let k = 0; k < keys.length; k++) {
    const key = keys[k] as unknown;
    if (typeof key !== 'string' || !BASE64.test(key)) return `sessionTicketKeys[${k}]: must be a base64 string`;
    const bytes = Buffer.from(key, 'base64').length;
    if (bytes !== SESSION_TICKET_KEY_BYTES) return `sessionTicketKeys[${k}]: must be ${SESSION_TICKET_KEY_BYTES} bytes, got ${bytes}`;
  }
  return null;
}

function* configProblem(config: ProxyConfig): Steps<string | null> {
  if (!isObject(config)) return 'must be an object';
  if (config.schema !== PROXY_CONFIG_SCHEMA) return `schema: expected ${PROXY_CONFIG_SCHEMA}, got ${JSON.stringify(config.schema)}`;
  if (!isObject(config.gateway) || typeof config.gateway.namespace !== 'string' || typeof config.gateway.name !== 'string' || !config.gateway.name) {
    return 'gateway: must be {namespace, name}';
  }
  if (typeof config.version !== 'string' || config.version === '') return 'version: must be a non-empty string';
  const settings = settingsProblem(config.settings, 'settings');
  if (settings !== null) return settings;
  const tickets = sessionTicketKeysProblem(config.sessionTicketKeys);
  if (tickets !== null) return tickets;
  if (!Array.isArray(config.ports)) return 'ports: must be an array';
  const ports = new Set<number>();
  for (let p = 0; p < config.ports.length; p++) {
    const port = config.ports[p];
    const at = `ports[${p}]`;
    if (!isObject(port)) return `${at}: must be an object`;
    // Port 0 (an ephemeral port) is accepted for tests; boundPorts() reports the real one.
    if (!isPort(port.port, true)) return `${at}.port: must be an integer 0..65535, got ${JSON.stringify(port.port)}`;
    if (port.port !== 0 && ports.has(port.port)) return `${at}.port: ${port.port} appears twice`;
    ports.add(port.port);
    if (!Array.isArray(port.listeners)) return `${at}.listeners: must be an array`;
    for (let l = 0; l < port.listeners.length; l++) {
      const problem = yield* listenerProblem(port.listeners[l], `${at}.listeners[${l}]`);
      if (problem !== null) return problem;
    }
  }
  return null;
}

function* listenerProblem(listener: unknown, at: string): Steps<string | null> {
  if (!isObject(listener)) return `${at}: must be an object`;
  if (typeof listener.name !== 'string' || listener.name === '') return `${at}.name: must be a non-empty string`;
  at = `${at} (${listener.name})`;
  if (listener.hostname !== null && (typeof listener.hostname !== 'string' || !HOSTNAME.test(listener.hostname))) {
    return `${at}.hostname: must be null or a lowercase hostname, got ${JSON.stringify(listener.hostname)}`;
  }
  if (listener.mode !== 'Passthrough' && listener.mode !== 'Terminate') return `${at}.mode: must be Passthrough or Terminate`;
  const protocol = listener.protocol ?? 'TLS';
  if (protocol !== 'TLS' && protocol !== 'HTTPS' && protocol !== 'HTTP') return `${at}.protocol: must be TLS, HTTPS or HTTP, got ${JSON.stringify(listener.protocol)}`;
  if (protocol !== 'TLS') {
    if (listener.mode !== 'Terminate') return `${at}.mode: an ${protocol} listener is always Terminate`;
    if (listener.http !== undefined) {
      const problem = httpListenerProblem(listener.http, `${at}.http`, backendProblem);
      if (problem !== null) return problem;
    }
  } else if (listener.http !== undefined) return `${at}.http: only HTTP and HTTPS listeners route HTTP`;
  if (listener.reject !== undefined && typeof listener.reject !== 'string') return `${at}.reject: must be a string`;
  if (!Array.isArray(listener.certificates)) return `${at}.certificates: must be an array`;
  for (let c = 0; c < listener.certificates.length; c++) {
    const cert = listener.certificates[c] as unknown;
    const cat = `${at}.certificates[${c}]`;
    if (!isObject(cert)) return `${cat}: must be an object`;
    if (typeof cert.certificatePem !== 'string' || typeof cert.privateKeyPem !== 'string') return `${cat}: certificatePem and privateKeyPem must be strings`;
    if (!Array.isArray(cert.dnsNames)) return `${cat}.dnsNames: must be an array`;
    if (!isObject(cert.secret)) return `${cat}.secret: must be {namespace, name}`;
  }
  if (!Array.isArray(listener.routes)) return `${at}.routes: must be an array`;
  const routes = listener.routes as unknown[];
  for (let r = 0; r < routes.length; r++) {
    yield;
    const problem = routeProblem(routes[r], `${at}.routes[${r}]`);
    if (problem !== null) return problem;
  }
  if (!Array.isArray(listener.hostnames)) return `${at}.hostnames: must be an array`;
  const hostnames = listener.hostnames as unknown[];
  for (let h = 0; h < hostnames.length; h++) {
    yield;
    const entry = hostnames[h];
    const hat = `${at}.hostnames[${h}]`;
    if (!isObject(entry)) return `${hat}: must be an object`;
    if (typeof entry.hostname !== 'string' || !HOSTNAME.test(entry.hostname)) return `${hat}.hostname: invalid hostname ${JSON.stringify(entry.hostname)}`;
    if (typeof entry.route !== 'number' || !Number.isInteger(entry.route) || entry.route < 0 || entry.route >= routes.length) {
      return `${hat}.route: must index routes (0..${routes.length - 1}), got ${JSON.stringify(entry.route)}`;
    }
  }
  return null;
}

function routeProblem(route: unknown, at: string): string | null {
  if (!isObject(route)) return `${at}: must be an object`;
  if (typeof route.namespace !== 'string' || typeof route.name !== 'string') return `${at}: namespace and name must be strings`;
  if (!Array.isArray(route.backends)) return `${at}.backends: must be an array`;
  const backends = route.backends as unknown[];
  for (let b = 0; b < backends.length; b++) {
    const problem = backendProblem(backends[b], `${at}.backends[${b}]`);
    if (problem !== null) return problem;
  }
  return null;
}

/** One BackendConfig (TLS routes and HTTP rules alike). */
function backendProblem(backend: unknown, bat: string): string | null {
  if (!isObject(backend)) return `${bat}: must be an object`;
  if (typeof backend.weight !== 'number' || !Number.isInteger(backend.weight) || backend.weight < 0) {
    return `${bat}.weight: must be a non-negative integer, got ${JSON.stringify(backend.weight)}`;
  }
  if (backend.reject !== undefined && typeof backend.reject !== 'string') return `${bat}.reject: must be a string`;
  if (!Array.isArray(backend.endpoints)) return `${bat}.endpoints: must be an array`;
  const endpoints = backend.endpoints as unknown[];
  for (let e = 0; e < endpoints.length; e++) {
    const endpoint = endpoints[e];
    if (!isObject(endpoint) || typeof endpoint.address !== 'string' || endpoint.address === '' || !isPort(endpoint.port, false)) {
      return `${bat}.endpoints[${e}]: must be {address, port 1..65535}, got ${JSON.stringify(endpoint)}`;
    }
  }
  return null;
}
