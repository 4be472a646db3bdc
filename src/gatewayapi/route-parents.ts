/**
 * What every route kind's step shares: walking a route's parentRefs to our Gateways (one status
 * entry per distinct parentRef, other controllers' entries kept), the echoed parentRef, and
 * recording a route on the listeners it attached to.
 */
import type { AttachContext, ListenerAttachment } from './attachment.js';
import { ConditionSet, generationOf } from './conditions.js';
import { attachContextOfListenerSet } from './listenersets.js';
import type { EvaluatedListener, GatewayState, ListenerSetState, RouteStatusEntry, ServedHostname } from './model.js';
import { objects } from './safe.js';
import { key, namespaceOf, type SnapshotIndex } from './snapshot-index.js';
import { GATEWAY_API_GROUP, type HTTPRoute, type ParentReference, type RouteParentStatus, type TLSRoute } from './types.js';

export interface RouteStepContext {
  controllerName: string;
  nowIso: string;
  /** Gateways of our classes by namespace/name. */
  gateways: ReadonlyMap<string, GatewayState>;
  /** ListenerSets whose parent is one of those Gateways, by namespace/name. */
  listenerSets?: ReadonlyMap<string, ListenerSetState>;
  index: SnapshotIndex;
}

/** The parentRef as written, with group and kind defaulted (the suite compares them). */
function echoParentRef(ref: ParentReference): ParentReference {
  const echo = { group: ref.group ?? GATEWAY_API_GROUP, kind: ref.kind ?? 'Gateway' } as ParentReference;
  if (ref.namespace !== undefined) echo.namespace = ref.namespace;
  echo.name = ref.name;
  if (ref.sectionName !== undefined) echo.sectionName = ref.sectionName;
  if (ref.port !== undefined) echo.port = ref.port;
  return echo;
}

function sameParentRef(a: ParentReference, b: ParentReference, routeNamespace: string): boolean {
  return (
    (a.group ?? GATEWAY_API_GROUP) === (b.group ?? GATEWAY_API_GROUP) &&
    (a.kind ?? 'Gateway') === (b.kind ?? 'Gateway') &&
    (a.namespace || routeNamespace) === (b.namespace || routeNamespace) &&
    a.name === b.name &&
    a.sectionName === b.sectionName &&
    a.port === b.port
  );
}

/** The Gateway as attachment sees it. */
export function attachContextOf(gw: GatewayState): AttachContext {
  return {
    gatewayNamespace: gw.namespace,
    gatewayName: gw.name,
    listeners: gw.listeners,
    ...(gw.problem ? { gatewayProblem: gw.problem.message } : {}),
  };
}

/**
 * The parent a parentRef names, when it is ours: a Gateway of our classes, or a ListenerSet
 * whose parent is one (GEP-1713: a route attaches to its direct parent's listeners only).
 */
function ourParent(ref: ParentReference, routeNamespace: string, context: RouteStepContext): { gateway: GatewayState; attach: AttachContext } | undefined {
  if ((ref.group ?? GATEWAY_API_GROUP) !== GATEWAY_API_GROUP) return undefined;
  const parentKey = key(ref.namespace || routeNamespace, ref.name);
  const kind = ref.kind ?? 'Gateway';
  if (kind === 'Gateway') {
    const gw = context.gateways.get(parentKey);
    return gw ? { gateway: gw, attach: attachContextOf(gw) } : undefined;
  }
  if (kind === 'ListenerSet') {
    const listenerSet = context.listenerSets?.get(parentKey);
    const gw = listenerSet ? context.gateways.get(listenerSet.gatewayKey) : undefined;
    return listenerSet && gw ? { gateway: gw, attach: attachContextOfListenerSet(listenerSet) } : undefined;
  }
  return undefined;
}

/**
 * The route's status: one entry of ours per distinct parentRef to one of our Gateways or their
 * ListenerSets (refs to other kinds, missing parents and other controllers' get none), each with
 * the conditions `decide` sets; other controllers' entries untouched. Undefined when the route
 * has nothing of ours to write or remove. `decide` attaches through `parent` (the Gateway's or
 * the ListenerSet's listeners) and records on `gateway`, whose proxy serves both.
 */
export function routeParentStatuses(
  route: TLSRoute | HTTPRoute,
  context: RouteStepContext,
  decide: (ref: ParentReference, gateway: GatewayState, conditions: ConditionSet, parent: AttachContext) => void,
): RouteStatusEntry | undefined {
  const routeNamespace = namespaceOf(route);
  const generation = generationOf(route.metadata);
  const previousParents = objects(route.status?.parents).filter((p) => typeof p.parentRef === 'object' && p.parentRef !== null);
  const ours: RouteParentStatus[] = [];
  const handled: ParentReference[] = [];
  for (const ref of objects(route.spec?.parentRefs)) {
    const parent = ourParent(ref, routeNamespace, context);
    if (!parent) continue; // another kind, missing, or another controller's: no entry of ours
    if (handled.some((h) => sameParentRef(h, ref, routeNamespace))) continue;
    handled.push(ref);
    const previous = previousParents.find((p) => p.controllerName === context.controllerName && sameParentRef(p.parentRef, ref, routeNamespace));
    const conditions = new ConditionSet(generation, previous?.conditions, context.nowIso);
    decide(ref, parent.gateway, conditions, parent.attach);
    ours.push({ parentRef: echoParentRef(ref), controllerName: context.controllerName, conditions: conditions.list() });
  }
  const others = previousParents.filter((p) => p.controllerName !== context.controllerName);
  const hadOurs = others.length !== previousParents.length;
  if (ours.length === 0 && !hadOurs) return undefined;
  return { namespace: routeNamespace, name: route.metadata.name, status: { parents: [...others, ...ours] } };
}

/**
 * Records a route on each listener it attached to. A route reaching one listener through two
 * parentRefs is one route there, serving the union of the hostnames.
 */
export function recordAttachments<T extends { hostnames: ServedHostname[] }>(
  byListener: Map<EvaluatedListener, Map<string, T>>,
  routeKey: string,
  attachments: readonly ListenerAttachment[],
  make: (hostnames: ServedHostname[]) => T,
): void {
  for (const attachment of attachments) {
    let byRoute = byListener.get(attachment.listener);
    if (!byRoute) byListener.set(attachment.listener, (byRoute = new Map()));
    const existing = byRoute.get(routeKey);
    if (!existing) {
      byRoute.set(routeKey, make([...attachment.hostnames]));
      continue;
    }
    for (const h of attachment.hostnames) {
      if (!existing.hostnames.some((e) => e.hostname === h.hostname && e.original === h.original)) existing.hostnames.push(h);
    }
  }
}
