/**
 * The status step: after the route steps, each Gateway's attached-route counts, its proxy
 * config (proxy-configs.ts), and its Gateway and listener statuses, with Programmed telling
 * the truth about what the caller's runtime (addresses, acknowledged config) serves.
 */
import type { ProxyConfig } from '../proxy-config.js';
import { ConditionSet, generationOf } from './conditions.js';
import { problemsSuffix } from './gateways.js';
import { listenerStatus } from './listener-status.js';
import { mergedListeners } from './listenersets.js';
import type { AttachedHttpRoute, AttachedTlsRoute, EvaluatedListener, GatewayState, Problem, TranslateInput, TranslateOutput } from './model.js';
import { buildProxyConfig } from './proxy-configs.js';
import { objects } from './safe.js';
import { key } from './snapshot-index.js';
import type { GatewayStatus } from './types.js';

/** `port 443 is unavailable: why`, once per port, for a Gateway none of whose listeners is served. */
function unavailablePortsSummary(listeners: EvaluatedListener[]): string {
  const reasons = new Map<number, string>();
  for (const l of listeners) if (l.portUnavailable !== undefined) reasons.set(l.port, l.portUnavailable);
  return [...reasons.entries()]
    .sort(([a], [b]) => a - b)
    .map(([port, why]) => `port ${port} is unavailable: ${why}`)
    .join('; ');
}

/** Each listener's routes as lists, and its attachedRoutes count (each route once, of either kind). */
function collectAttached(gw: GatewayState): { tls: Map<EvaluatedListener, AttachedTlsRoute[]>; http: Map<EvaluatedListener, AttachedHttpRoute[]> } {
  const tls = new Map<EvaluatedListener, AttachedTlsRoute[]>();
  const http = new Map<EvaluatedListener, AttachedHttpRoute[]>();
  for (const [listener, byRoute] of gw.tlsAttached) tls.set(listener, [...byRoute.values()]);
  for (const [listener, byRoute] of gw.httpAttached) http.set(listener, [...byRoute.values()]);
  const every = [...gw.listeners, ...gw.listenerSets.flatMap((s) => s.listeners)];
  for (const listener of every) listener.attachedRoutes = (tls.get(listener)?.length ?? 0) + (http.get(listener)?.length ?? 0);
  return { tls, http };
}

export function gatewayStatusesAndConfigs(
  gatewayStates: Iterable<GatewayState>,
  runtimes: TranslateInput['runtime'],
  nowIso: string,
): { gateways: TranslateOutput['gateways']; proxyConfigs: ProxyConfig[] } {
  const gateways: TranslateOutput['gateways'] = [];
  const proxyConfigs: ProxyConfig[] = [];
  for (const gw of gatewayStates) {
    const attached = collectAttached(gw);
    const generation = generationOf(gw.gateway.metadata);
    const previous = gw.gateway.status;
    const c = new ConditionSet(generation, previous?.conditions, nowIso);
    const runtime = runtimes?.[key(gw.namespace, gw.name)];
    let notProgrammed: Problem | undefined;
    let config: ProxyConfig | undefined;
    if (gw.problem) {
      c.set('Accepted', 'False', gw.problem.reason, gw.problem.message);
      if (gw.onlyPortsUnavailable) {
        // A config with none of its listeners: the proxies stay (pods, Service, address) and a
        // retry of the full config reaches the same pods (docs/operator.md, "Ports that cannot be bound").
        config = buildProxyConfig({ namespace: gw.namespace, name: gw.name }, gw.listeners, { tls: new Map(), http: new Map() }, gw.settings);
        notProgrammed = { reason: 'Invalid', message: `No listener is served: ${unavailablePortsSummary(gw.listeners)}` };
      } else {
        notProgrammed = { reason: 'Invalid', message: 'Gateway is not Accepted; no proxy is run for it' };
      }
    } else {
      const invalid = gw.listeners.some((l) => l.notAccepted || l.conflict);
      if (invalid) c.set('Accepted', 'True', 'ListenersNotValid', 'Some listeners are not valid' + problemsSuffix(gw.listeners));
      else c.set('Accepted', 'True', 'Accepted', 'Gateway is valid');
      // The Gateway's listeners and its attached ListenerSets' share the one proxy (GEP-1713).
      config = buildProxyConfig({ namespace: gw.namespace, name: gw.name }, mergedListeners(gw), attached, gw.settings);
      const detail = runtime?.message ? `: ${runtime.message}` : '';
      if (!runtime || runtime.addresses.length === 0) {
        notProgrammed = { reason: 'AddressNotAssigned', message: `No address assigned to the Gateway yet${detail}` };
      } else if (runtime.acknowledgedVersion !== config.version) {
        notProgrammed = { reason: 'Pending', message: `Waiting for a ready proxy to serve config ${config.version.slice(0, 12)}${detail}` };
      }
    }
    if (config) proxyConfigs.push(config);
    if (notProgrammed) c.set('Programmed', 'False', notProgrammed.reason, notProgrammed.message);
    else c.set('Programmed', 'True', 'Programmed', `Proxy serves config ${config!.version.slice(0, 12)}`);
    const listenerProblem = notProgrammed && !gw.problem ? notProgrammed : gw.problem ? { reason: 'Invalid', message: 'Gateway is not Accepted' } : undefined;
    const listeners = gw.listeners.map((l) => listenerStatus(l, generation, objects(previous?.listeners).find((p) => p.name === l.name), nowIso, listenerProblem));
    const status: GatewayStatus = {};
    if (runtime && runtime.addresses.length > 0) status.addresses = runtime.addresses.map((a) => ({ type: a.type, value: a.value }));
    status.conditions = c.list();
    status.listeners = listeners;
    // Always written, 0 included: the status is merge-patched, so an omitted count would stay stale.
    status.attachedListenerSets = gw.listenerSets.filter((s) => !s.problem).length;
    gateways.push({ namespace: gw.namespace, name: gw.name, status });
  }
  return { gateways, proxyConfigs };
}
