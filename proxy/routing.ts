// Compiles a ProxyConfig into per-port routing tables once, at apply time, so that routing a
// connection is two hostname lookups, one weighted pick and one endpoint pick.
import type { BackendConfig, CertificateConfig, EndpointConfig, ListenerConfig, ProxyConfig, ServedProtocol, TlsMode } from '../src/proxy-config.js';

/** Builds (or reuses) the serving certificate for a config entry; throws naming `where`. */
export type CertificateLoader = (cert: CertificateConfig, where: string) => ServingCertificate;
import type { ServingCertificate } from './certificates.js';
import { HostnameTable } from './hostname-table.js';
import { compileHttpListener, type CompiledHttpListener } from './http/compile.js';
import type { OutcomeCounts } from './metrics.js';
import { resolveSettings, type ResolvedSettings } from './settings.js';
import { finish, type Steps } from './time-slices.js';
import type { ProxySettings } from '../src/proxy-config.js';

/** Live connection count of one listener; survives config swaps (keyed by gateway/listener). */
export interface ListenerLoad {
  active: number;
}

export interface CompiledBackend {
  ref: string;
  /** `ref` as a JSON string, for the access log. */
  refJson: string;
  weight: number;
  reject: string | undefined;
  endpoints: readonly EndpointConfig[];
  /** Round-robin cursor over endpoints. */
  nextEndpoint: number;
  /** Smooth weighted round robin state. */
  current: number;
}

export interface CompiledRoute {
  /** `namespace/name` of the TLSRoute. */
  name: string;
  /** `name` as a JSON string, for the access log. */
  nameJson: string;
  backends: CompiledBackend[];
  /** This route's connection outcomes; looked up on first use (per listener: routes are compiled per listener). */
  outcomes: OutcomeCounts | null;
}

export interface CompiledListener {
  gateway: string;
  name: string;
  /** `name` as a JSON string, for the access log. */
  nameJson: string;
  mode: TlsMode;
  /** TLS, HTTPS or HTTP (a config without the field means TLS). */
  protocol: ServedProtocol;
  /** HTTP and HTTPS listeners: their virtual hosts and routes (proxy/http/). */
  http: CompiledHttpListener | null;
  reject: string | undefined;
  certificates: ServingCertificate[];
  routes: HostnameTable<CompiledRoute>;
  load: ListenerLoad;
  /** Outcomes of connections that ended before a route was chosen; looked up on first use. */
  outcomes: OutcomeCounts | null;
}

export interface PortTable {
  /** `namespace/name` of the Gateway. */
  gateway: string;
  /** `gateway` as a JSON string, for the access log. */
  gatewayJson: string;
  port: number;
  listeners: HostnameTable<CompiledListener>;
  /** Listener count, only so an empty port can say so in logs. */
  listenerCount: number;
  /**
   * Every listener is `HTTP`: the port speaks plain HTTP/1.1 and each request chooses its
   * listener by Host. Any other port reads a ClientHello and chooses by SNI.
   */
  httpOnly: boolean;
  settings: ResolvedSettings;
  /** Open connections of the Gateway (shared by its ports, survives swaps). */
  gatewayLoad: ListenerLoad;
  /** Outcomes of connections that ended before a listener was chosen; looked up on first use. */
  outcomes: OutcomeCounts | null;
}

export interface CompiledConfig {
  config: ProxyConfig;
  gateway: string;
  settings: ResolvedSettings;
  ports: PortTable[];
  certificates: { listener: string; cert: ServingCertificate }[];
}

export function gatewayKey(config: ProxyConfig): string {
  return `${config.gateway.namespace}/${config.gateway.name}`;
}

/**
 * Compiles a validated config. Throws (naming the field) only when a certificate cannot be
 * loaded. `loads` supplies the per-listener counters so they persist across swaps.
 */
export function compileConfig(
  config: ProxyConfig,
  runtimeSettings: ProxySettings | undefined,
  loadCertificate: CertificateLoader,
  loadFor: (gateway: string, listener: string | null) => ListenerLoad,
): CompiledConfig {
  return finish(compileConfigSteps(config, runtimeSettings, loadCertificate, loadFor));
}

/** compileConfig as steps (one per route and hostname), for a process that must keep relaying meanwhile. */
export function* compileConfigSteps(
  config: ProxyConfig,
  runtimeSettings: ProxySettings | undefined,
  loadCertificate: CertificateLoader,
  loadFor: (gateway: string, listener: string | null) => ListenerLoad,
): Steps<CompiledConfig> {
  const gateway = gatewayKey(config);
  const settings = resolveSettings(runtimeSettings, config.settings);
  const certificates: CompiledConfig['certificates'] = [];
  const ports: PortTable[] = [];
  for (let portIndex = 0; portIndex < config.ports.length; portIndex++) {
    const port = config.ports[portIndex]!;
    const listeners = new HostnameTable<CompiledListener>();
    for (let listenerIndex = 0; listenerIndex < port.listeners.length; listenerIndex++) {
      const listener = port.listeners[listenerIndex]!;
      const where = `proxy config ${gateway}: ports[${portIndex}].listeners[${listenerIndex}] (${listener.name})`;
      const compiled = yield* compileListener(gateway, listener, loadCertificate, where, loadFor(gateway, listener.name));
      for (const cert of compiled.certificates) certificates.push({ listener: listener.name, cert });
      listeners.add(listener.hostname, compiled);
    }
    ports.push({
      gateway,
      gatewayJson: JSON.stringify(gateway),
      port: port.port,
      listeners,
      listenerCount: port.listeners.length,
      httpOnly: port.listeners.length > 0 && port.listeners.every((l) => l.protocol === 'HTTP'),
      settings,
      gatewayLoad: loadFor(gateway, null),
      outcomes: null,
    });
  }
  return { config, gateway, settings, ports, certificates };
}

function* compileListener(gateway: string, listener: ListenerConfig, loadCertificate: CertificateLoader, where: string, load: ListenerLoad): Steps<CompiledListener> {
  const routes: CompiledRoute[] = [];
  for (const route of listener.routes) {
    yield;
    const name = `${route.namespace}/${route.name}`;
    routes.push({ name, nameJson: JSON.stringify(name), backends: route.backends.map(compileBackend), outcomes: null });
  }
  const table = new HostnameTable<CompiledRoute>();
  for (const entry of listener.hostnames) {
    yield;
    table.add(entry.hostname, routes[entry.route] as CompiledRoute);
  }
  let certificates: ServingCertificate[] = [];
  if (listener.mode === 'Terminate' && !listener.reject) {
    certificates = listener.certificates.map((cert, i) => loadCertificate(cert, `${where}.certificates[${i}]`));
  }
  const protocol = listener.protocol ?? 'TLS';
  let reject = listener.reject || undefined;
  // A plain HTTP listener has no certificate to miss.
  if (listener.mode === 'Terminate' && protocol !== 'HTTP' && !reject && certificates.length === 0) reject = 'no certificate';
  const http = protocol !== 'TLS' && listener.http !== undefined ? compileHttpListener(listener.http, where) : null;
  return { gateway, name: listener.name, nameJson: JSON.stringify(listener.name), mode: listener.mode, protocol, http, reject, certificates, routes: table, load, outcomes: null };
}

function compileBackend(backend: BackendConfig): CompiledBackend {
  const reject = backend.reject || (backend.endpoints.length === 0 ? 'no ready endpoints' : undefined);
  return { ref: backend.ref, refJson: JSON.stringify(backend.ref), weight: backend.weight, reject, endpoints: backend.endpoints, nextEndpoint: 0, current: 0 };
}

/**
 * Smooth weighted round robin (as in nginx): deterministic, and spreads each backend's
 * share evenly over time instead of in bursts. Weight-0 backends are never picked; null when
 * every weight is 0.
 */
export function pickBackend<B extends CompiledBackend>(route: { backends: B[] }): B | null {
  const backends = route.backends;
  let best: B | null = null;
  let total = 0;
  for (let i = 0; i < backends.length; i++) {
    const backend = backends[i] as B;
    if (backend.weight <= 0) continue;
    backend.current += backend.weight;
    total += backend.weight;
    if (best === null || backend.current > best.current) best = backend;
  }
  if (best !== null) best.current -= total;
  return best;
}

/** The next endpoint of a backend in round-robin order. */
export function nextEndpoint(backend: CompiledBackend): EndpointConfig {
  const endpoints = backend.endpoints;
  const index = backend.nextEndpoint;
  backend.nextEndpoint = index + 1 >= endpoints.length ? 0 : index + 1;
  return endpoints[index % endpoints.length] as EndpointConfig;
}
