/**
 * translate: the pure heart of tlsgate. One snapshot of Kubernetes objects in, the status
 * every object should have and one proxy config per Gateway out. No I/O, no clock (the
 * caller passes `now`), deterministic ordering everywhere, so that equal inputs give
 * byte-identical outputs and proxy config versions can be content hashes.
 *
 * This module only orchestrates the steps, each in its own module:
 * 1. GatewayClasses (gateway-classes.ts);
 * 2. Gateways and their listeners (gateways.ts, listeners.ts), then the ListenerSets that
 *    add listeners to them (listenersets.ts);
 * 3. one step per route kind: TLSRoutes (tlsroutes.ts), HTTPRoutes (httproutes.ts), both
 *    attaching through attachment.ts and recording on the Gateway states;
 * 4. statuses of Gateways and listeners, with the proxy-config assembly (gateway-status.ts,
 *    proxy-configs.ts), then the ListenerSets' statuses (listenersets.ts).
 * Shared shapes live in model.ts.
 */
import { translateGatewayClasses } from './gateway-classes.js';
import { gatewayStatusesAndConfigs } from './gateway-status.js';
import { evaluateGateways } from './gateways.js';
import { translateHttpRoutes } from './httproutes.js';
import { evaluateListenerSets, listenerSetStatuses } from './listenersets.js';
import { CONTROLLER_NAME, type Snapshot, type TranslateInput, type TranslateOutput } from './model.js';
import { key, namespaceOf, SnapshotIndex } from './snapshot-index.js';
import { translateTlsRoutes } from './tlsroutes.js';
import type { Condition } from './types.js';

export { CONTROLLER_NAME };
export type { GatewayRuntime, RouteStatusEntry, Snapshot, TranslateInput, TranslateOutput } from './model.js';

/**
 * The snapshot without entries that cannot be Kubernetes objects (no non-empty string
 * metadata.name, a namespace that is not a string): the API server never returns such
 * objects, but translate must not crash on a caller's bad input, nor put their names in a
 * proxy config. Everything else, however malformed, is handled where it is read.
 */
function wellFormed(snapshot: Snapshot): Snapshot {
  const keep = <T extends { metadata: { name: string; namespace?: string } }>(items: readonly T[] | undefined): T[] =>
    Array.isArray(items)
      ? items.filter(
          (o) =>
            typeof o === 'object' &&
            o !== null &&
            typeof o.metadata === 'object' &&
            o.metadata !== null &&
            typeof o.metadata.name === 'string' &&
            o.metadata.name !== '' &&
            (o.metadata.namespace === undefined || typeof o.metadata.namespace === 'string'),
        )
      : [];
  return {
    gatewayClasses: keep(snapshot.gatewayClasses),
    gateways: keep(snapshot.gateways),
    tlsRoutes: keep(snapshot.tlsRoutes),
    httpRoutes: keep(snapshot.httpRoutes),
    referenceGrants: keep(snapshot.referenceGrants),
    services: keep(snapshot.services),
    endpointSlices: keep(snapshot.endpointSlices),
    secrets: keep(snapshot.secrets),
    namespaces: keep(snapshot.namespaces),
    gatewayParameters: keep(snapshot.gatewayParameters),
    listenerSets: keep(snapshot.listenerSets),
  };
}

/** Objects sorted by `namespace/name`, with each key computed once (10,000 routes). */
function sortByNamespacedName<T extends { metadata: { namespace?: string; name: string } }>(items: readonly T[]): T[] {
  return items
    .map((item) => ({ item, k: key(namespaceOf(item), item.metadata.name) }))
    .sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0))
    .map((entry) => entry.item);
}

export function translate(input: TranslateInput): TranslateOutput {
  const controllerName = input.controllerName ?? CONTROLLER_NAME;
  const nowIso = input.now.toISOString();
  const snapshot = wellFormed(input.snapshot);
  const index = new SnapshotIndex(snapshot);

  const classes = translateGatewayClasses(snapshot.gatewayClasses, controllerName, index, nowIso);
  const gatewayStates = evaluateGateways(sortByNamespacedName(snapshot.gateways), classes.states, input, index);
  const listenerSetStates = evaluateListenerSets(snapshot.listenerSets ?? [], gatewayStates, input, index);
  const routeContext = { controllerName, nowIso, gateways: gatewayStates, listenerSets: listenerSetStates, index };
  const tlsRoutes = translateTlsRoutes(sortByNamespacedName(snapshot.tlsRoutes), routeContext);
  const httpRoutes = translateHttpRoutes(sortByNamespacedName(snapshot.httpRoutes), routeContext);
  const { gateways, proxyConfigs } = gatewayStatusesAndConfigs(gatewayStates.values(), input.runtime, nowIso);
  const listenerSets = listenerSetStatuses(listenerSetStates, gateways, nowIso);

  return { gatewayClasses: classes.statuses, gateways, tlsRoutes, httpRoutes, listenerSets, proxyConfigs };
}

/** Conditions of one type, for callers that inspect output (CLI, tests). */
export function findCondition(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}
