/**
 * Proxy-config assembly: one Gateway's ProxyConfig (src/proxy-config.ts) from evaluated
 * listeners and attached routes: ports, listeners by precedence, per TLS listener its hostname
 * table already de-duplicated by route precedence (spec 3.4), per HTTP/HTTPS listener its
 * virtual hosts (http-config.ts), weighted backends, and the content hash.
 */
import {
  PROXY_CONFIG_SCHEMA,
  type HostnameEntry,
  type ListenerConfig,
  type PortConfig,
  type ProxyConfig,
  type ProxySettings,
  type RouteConfig,
} from '../proxy-config.js';
import { canonicalJson, sha256Hex } from './canonical-json.js';
import { compareHostnamePrecedence, specificity } from './hostnames.js';
import { buildHttpListenerConfig } from './http-config.js';
import type { AttachedHttpRoute, AttachedTlsRoute, EvaluatedListener } from './model.js';
import { isHttpProtocol, listensOnTcp, protocolSupport } from './protocols.js';
import { timeOf } from './safe.js';

function compareNamespacedName(a: { namespace: string; name: string }, b: { namespace: string; name: string }): number {
  const ka = `${a.namespace}/${a.name}`;
  const kb = `${b.namespace}/${b.name}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/**
 * Route precedence for one intersected hostname (spec 3.4 steps 2-4; step 1 is the
 * proxy's most-specific-pattern lookup over the table). Negative when `a` wins.
 */
export function compareRoutePrecedence(
  a: { original: string | null; creationTimestamp: string | undefined; namespace: string; name: string },
  b: { original: string | null; creationTimestamp: string | undefined; namespace: string; name: string },
): number {
  const bySpecificity = specificity(b.original) - specificity(a.original);
  if (bySpecificity !== 0) return bySpecificity;
  const ta = timeOf(a.creationTimestamp);
  const tb = timeOf(b.creationTimestamp);
  if (ta !== tb) return ta < tb ? -1 : 1;
  return compareNamespacedName(a, b);
}

function tlsListenerConfig(listener: EvaluatedListener, attached: AttachedTlsRoute[]): ListenerConfig {
  const routes = [...attached].sort(compareNamespacedName);
  const routeConfigs: RouteConfig[] = routes.map((r) => ({ backends: r.backends, name: r.name, namespace: r.namespace }));
  // Winner per hostname string.
  const winners = new Map<string, { routeIndex: number; original: string | null }>();
  routes.forEach((route, routeIndex) => {
    for (const served of route.hostnames) {
      const current = winners.get(served.hostname);
      if (!current) {
        winners.set(served.hostname, { routeIndex, original: served.original });
        continue;
      }
      const holder = routes[current.routeIndex]!;
      const challengerWins =
        compareRoutePrecedence(
          { original: served.original, creationTimestamp: route.creationTimestamp, namespace: route.namespace, name: route.name },
          { original: current.original, creationTimestamp: holder.creationTimestamp, namespace: holder.namespace, name: holder.name },
        ) < 0;
      if (challengerWins) winners.set(served.hostname, { routeIndex, original: served.original });
    }
  });
  const hostnames: HostnameEntry[] = [...winners.entries()]
    .sort(([a], [b]) => compareHostnamePrecedence(a, b))
    .map(([hostname, w]) => ({ hostname, route: w.routeIndex }));
  // Keys in sorted order, so that the native serializer is canonical (canonical-json.ts).
  return {
    certificates: listener.unusable ? [] : listener.certificates,
    hostname: listener.hostname,
    hostnames,
    mode: listener.mode ?? 'Passthrough',
    name: listener.configName ?? listener.name,
    ...(listener.unusable ? { reject: listener.unusable } : {}),
    routes: routeConfigs,
  };
}

/** HTTP and HTTPS listeners: no hostname table of their own, their routing is in `http`. */
function httpListenerConfig(listener: EvaluatedListener, attached: AttachedHttpRoute[]): ListenerConfig {
  // Keys in sorted order, so that the native serializer is canonical (canonical-json.ts).
  return {
    certificates: listener.unusable ? [] : listener.certificates,
    hostname: listener.hostname,
    hostnames: [],
    http: buildHttpListenerConfig(attached),
    mode: 'Terminate',
    name: listener.configName ?? listener.name,
    protocol: listener.protocol as 'HTTP' | 'HTTPS',
    ...(listener.unusable ? { reject: listener.unusable } : {}),
    routes: [],
  };
}

export interface AttachedRoutes {
  tls: ReadonlyMap<EvaluatedListener, AttachedTlsRoute[]>;
  http: ReadonlyMap<EvaluatedListener, AttachedHttpRoute[]>;
}

export function buildProxyConfig(
  gateway: { namespace: string; name: string },
  listeners: EvaluatedListener[],
  attached: AttachedRoutes,
  settings: ProxySettings | undefined,
): ProxyConfig {
  const ports = new Map<number, ListenerConfig[]>();
  for (const listener of listeners) {
    // Every TCP listener port is listened on, even when nothing there is served:
    // a configured port never refuses a connection, it rejects after accepting.
    if (!listensOnTcp(listener.protocol)) continue;
    // A port that slipped past CEL cannot be listened on (the listener is not Accepted).
    if (!(Number.isInteger(listener.port) && listener.port >= 1 && listener.port <= 65535)) continue;
    // A port the data plane cannot bind is not asked for: the rest of the Gateway is served.
    if (listener.portUnavailable !== undefined) continue;
    if (!ports.has(listener.port)) ports.set(listener.port, []);
    if (listener.notAccepted || protocolSupport(listener.protocol)?.served !== true) continue;
    const config = isHttpProtocol(listener.protocol)
      ? httpListenerConfig(listener, attached.http.get(listener) ?? [])
      : tlsListenerConfig(listener, attached.tls.get(listener) ?? []);
    ports.get(listener.port)!.push(config);
  }
  const portConfigs: PortConfig[] = [...ports.entries()]
    .sort(([a], [b]) => a - b)
    .map(([port, ls]) => ({
      listeners: ls.sort((a, b) => compareHostnamePrecedence(a.hostname, b.hostname) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
      port,
    }));
  const body: Omit<ProxyConfig, 'version'> = {
    gateway: { name: gateway.name, namespace: gateway.namespace },
    ports: portConfigs,
    schema: PROXY_CONFIG_SCHEMA,
    ...(settings && Object.keys(settings).length > 0 ? { settings } : {}),
  };
  const version = sha256Hex(canonicalJson(body));
  // Field order as in the schema, for readable dumps.
  return { schema: body.schema, gateway: body.gateway, version, ports: body.ports, ...(body.settings ? { settings: body.settings } : {}) };
}
