/**
 * The ListenerSet step (GEP-1713, Gateway API v1.6.1 standard): listeners a team adds to a
 * Gateway that allows them, with certificates from the team's own namespace.
 *
 * - A ListenerSet belongs to us when its parentRef is a Gateway of our classes; others are
 *   left alone (no status).
 * - The Gateway decides who may attach (`spec.allowedListeners.namespaces`: None by default,
 *   Same, All, Selector): otherwise Accepted=False/NotAllowed. A Gateway that is not Accepted
 *   gives ParentNotAccepted.
 * - Listeners merge into the Gateway's one proxy in upstream's precedence: the Gateway's own,
 *   then ListenerSets oldest first, then by namespace/name. Within one object conflicts follow
 *   the Gateway rules (listeners.ts: all conflicting listeners lose); across objects only the
 *   newcomer loses (Conflicted=True, Accepted=False, Programmed=False with the conflict's reason).
 *   A ListenerSet's listeners never change the Gateway's own listeners' statuses.
 * - A ListenerSet with no valid listener (Accepted and every reference resolved) is
 *   Accepted=False/ListenersNotValid and not served; otherwise it is attached and counted in the
 *   Gateway's `attachedListenerSets`.
 * - Routes attach to a ListenerSet parentRef like to a Gateway, against its listeners only,
 *   and `allowedRoutes.namespaces.from: Same` means the ListenerSet's namespace.
 *
 * Messages never name another team's ListenerSet or show its values (GEP-1713 asks not to leak
 * siblings' information).
 */
import type { AttachContext } from './attachment.js';
import { ConditionSet, generationOf } from './conditions.js';
import { unavailablePortsOf } from './gateways.js';
import { selectorMatches } from './labels.js';
import { listenerStatus } from './listener-status.js';
import { conflictWithListeners, evaluateListenerEntries, markUnavailablePorts } from './listeners.js';
import type { EvaluatedListener, GatewayState, ListenerSetState, Problem, TranslateInput, TranslateOutput } from './model.js';
import { objects, timeOf } from './safe.js';
import { key, namespaceOf, type SnapshotIndex } from './snapshot-index.js';
import { GATEWAY_API_GROUP, type Condition, type Gateway, type ListenerSet, type ListenerSetStatus } from './types.js';

/** namespace/name of the Gateway a ListenerSet's parentRef names, or undefined for other kinds. */
export function parentGatewayKey(listenerSet: ListenerSet): string | undefined {
  const ref = listenerSet.spec?.parentRef;
  if (typeof ref !== 'object' || ref === null || typeof ref.name !== 'string' || ref.name === '') return undefined;
  if ((ref.group ?? GATEWAY_API_GROUP) !== GATEWAY_API_GROUP || (ref.kind ?? 'Gateway') !== 'Gateway') return undefined;
  const namespace = typeof ref.namespace === 'string' && ref.namespace !== '' ? ref.namespace : namespaceOf(listenerSet);
  return key(namespace, ref.name);
}

/** Why the Gateway does not allow ListenerSets from this namespace, or undefined when it does. */
function notAllowedBecause(gateway: Gateway, gatewayKey: string, listenerSetNamespace: string, index: SnapshotIndex): string | undefined {
  const namespaces = gateway.spec?.allowedListeners?.namespaces;
  const from = typeof namespaces?.from === 'string' ? namespaces.from : 'None';
  switch (from) {
    case 'All':
      return undefined;
    case 'Same':
      return listenerSetNamespace === namespaceOf(gateway)
        ? undefined
        : `Gateway ${gatewayKey} allows ListenerSets from its own namespace only (spec.allowedListeners.namespaces.from: Same)`;
    case 'Selector':
      return selectorMatches(namespaces?.selector, index.labelsOfNamespace(listenerSetNamespace))
        ? undefined
        : `Gateway ${gatewayKey} allows ListenerSets from namespaces matching its selector only, and namespace ${listenerSetNamespace} does not match (spec.allowedListeners.namespaces.from: Selector)`;
    case 'None':
      return gateway.spec?.allowedListeners === undefined
        ? `Gateway ${gatewayKey} does not allow ListenerSets (spec.allowedListeners is not set, which allows none)`
        : `Gateway ${gatewayKey} does not allow ListenerSets (spec.allowedListeners.namespaces.from: None)`;
    default:
      return `Gateway ${gatewayKey}: spec.allowedListeners.namespaces.from ${JSON.stringify(from)} is not one of All, Same, Selector, None`;
  }
}

/** Precedence among a Gateway's ListenerSets: oldest first, then namespace/name (GEP-1713). */
function comparePrecedence(a: ListenerSet, b: ListenerSet): number {
  const ta = timeOf(a.metadata.creationTimestamp);
  const tb = timeOf(b.metadata.creationTimestamp);
  if (ta !== tb) return ta < tb ? -1 : 1;
  const ka = key(namespaceOf(a), a.metadata.name);
  const kb = key(namespaceOf(b), b.metadata.name);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/** Valid for the ListenerSet's acceptance: Accepted, not conflicted, every reference resolved. */
function listenerProblem(l: EvaluatedListener): string | undefined {
  if (l.notAccepted) return l.notAccepted.reason;
  if (l.conflict) return l.conflict.reason;
  if (l.refProblems.length > 0) return l.refProblems[0]!.reason;
  if (l.unusable) return 'Invalid';
  return undefined;
}

function evaluateOne(
  state: ListenerSetState,
  gw: GatewayState,
  earlier: EvaluatedListener[],
  input: Pick<TranslateInput, 'now' | 'unavailablePorts'>,
  index: SnapshotIndex,
): void {
  const listenerSet = state.listenerSet;
  const owner = { kind: 'ListenerSet' as const, namespace: state.namespace };
  const notAllowed = notAllowedBecause(gw.gateway, state.gatewayKey, state.namespace, index);
  const problem: Problem | undefined = notAllowed
    ? { reason: 'NotAllowed', message: notAllowed }
    : gw.problem
      ? // The Gateway's own problem is its owner's business; its reason is enough here.
        { reason: 'ParentNotAccepted', message: `Gateway ${state.gatewayKey} is not Accepted (${gw.problem.reason})` }
      : undefined;
  if (problem) {
    // Evaluated on its own only, for sectionName matching: it joins nothing.
    state.listeners = evaluateListenerEntries(owner, listenerSet.spec?.listeners, index, input.now);
    state.problem = problem;
    return;
  }
  const own = new Set(gw.listeners);
  const describeEarlier = (l: EvaluatedListener): string =>
    own.has(l) ? `listener ${l.name} of Gateway ${state.gatewayKey}` : `a listener of another ListenerSet attached to Gateway ${state.gatewayKey}`;
  const losers = new Set<EvaluatedListener>();
  state.listeners = evaluateListenerEntries(owner, listenerSet.spec?.listeners, index, input.now, (l) => {
    const conflict = conflictWithListeners(l, earlier, describeEarlier);
    if (conflict) losers.add(l);
    return conflict;
  });
  for (const l of state.listeners) l.configName = `${state.namespace}/${state.name}/${l.name}`;
  const unavailable = unavailablePortsOf(input.unavailablePorts, state.gatewayKey);
  if (unavailable.size > 0) markUnavailablePorts(state.listeners, unavailable);
  const invalid = state.listeners.map((l) => ({ l, reason: listenerProblem(l) })).filter((x) => x.reason !== undefined);
  const summary = invalid.map((x) => `${x.l.name}: ${x.reason}`).join(', ');
  if (invalid.length === state.listeners.length) {
    state.problem = {
      reason: 'ListenersNotValid',
      message: state.listeners.length === 0 ? 'spec.listeners: the ListenerSet has no listeners' : `No listener is valid (${summary})`,
    };
    return;
  }
  if (invalid.length > 0) state.someListenersInvalid = `Some listeners are not valid (${summary})`;
  // Attached: its listeners take precedence over younger ListenerSets' (not those that lost here).
  for (const l of state.listeners) if (!losers.has(l)) earlier.push(l);
}

/**
 * Every ListenerSet whose parent is one of our Gateways, evaluated in precedence order per
 * Gateway and recorded on the Gateway states (`listenerSets`). Keyed by namespace/name.
 */
export function evaluateListenerSets(
  listenerSets: readonly ListenerSet[],
  gateways: ReadonlyMap<string, GatewayState>,
  input: Pick<TranslateInput, 'now' | 'unavailablePorts'>,
  index: SnapshotIndex,
): Map<string, ListenerSetState> {
  const states = new Map<string, ListenerSetState>();
  for (const listenerSet of [...listenerSets].sort(comparePrecedence)) {
    const gatewayKey = parentGatewayKey(listenerSet);
    const gw = gatewayKey === undefined ? undefined : gateways.get(gatewayKey);
    if (!gw || gatewayKey === undefined) continue; // missing, another controller's, or not a Gateway
    const state: ListenerSetState = { listenerSet, namespace: namespaceOf(listenerSet), name: listenerSet.metadata.name, gatewayKey, listeners: [] };
    gw.listenerSets.push(state);
    states.set(key(state.namespace, state.name), state);
  }
  for (const gw of gateways.values()) {
    const earlier = [...gw.listeners];
    for (const state of gw.listenerSets) evaluateOne(state, gw, earlier, input, index);
  }
  return states;
}

/** The listeners a Gateway's proxy serves: its own, then its attached ListenerSets', in precedence order. */
export function mergedListeners(gw: GatewayState): EvaluatedListener[] {
  return [...gw.listeners, ...gw.listenerSets.filter((s) => !s.problem).flatMap((s) => s.listeners)];
}

/** The ListenerSet as route attachment sees it: its own listeners, `Same` meaning its namespace. */
export function attachContextOfListenerSet(state: ListenerSetState): AttachContext {
  return {
    gatewayNamespace: state.namespace,
    gatewayName: state.name,
    parentLabel: `ListenerSet ${state.namespace}/${state.name}`,
    listeners: state.listeners,
    ...(state.problem ? { gatewayProblem: `${state.problem.reason}: ${state.problem.message}` } : {}),
  };
}

/**
 * Statuses of the ListenerSets (after the Gateway statuses, whose Programmed condition says
 * whether the proxy serves the config that holds their listeners), sorted by namespace/name.
 */
export function listenerSetStatuses(
  states: ReadonlyMap<string, ListenerSetState>,
  gatewayStatuses: TranslateOutput['gateways'],
  nowIso: string,
): TranslateOutput['listenerSets'] {
  const programmedOf = new Map<string, Condition | undefined>(
    gatewayStatuses.map((g) => [key(g.namespace, g.name), g.status.conditions?.find((c) => c.type === 'Programmed')]),
  );
  const out: TranslateOutput['listenerSets'] = [];
  for (const state of [...states.values()].sort((a, b) => (key(a.namespace, a.name) < key(b.namespace, b.name) ? -1 : 1))) {
    const generation = generationOf(state.listenerSet.metadata);
    const previous = state.listenerSet.status;
    const c = new ConditionSet(generation, previous?.conditions, nowIso);
    const status: ListenerSetStatus = {};
    if (state.problem && state.problem.reason !== 'ListenersNotValid') {
      // Not attached at all: nothing about its listeners was decided against the Gateway.
      c.set('Accepted', 'False', state.problem.reason, state.problem.message);
      c.set('Programmed', 'False', state.problem.reason, state.problem.message);
      status.conditions = c.list();
      status.listeners = [];
      out.push({ namespace: state.namespace, name: state.name, status });
      continue;
    }
    const parentProgrammed = programmedOf.get(state.gatewayKey);
    let listenerProgrammed: Problem | undefined;
    if (state.problem) {
      c.set('Accepted', 'False', state.problem.reason, state.problem.message);
      c.set('Programmed', 'False', state.problem.reason, state.problem.message);
      listenerProgrammed = { reason: 'Invalid', message: 'ListenerSet is not Accepted' };
    } else {
      if (state.someListenersInvalid) c.set('Accepted', 'True', 'ListenersNotValid', state.someListenersInvalid);
      else c.set('Accepted', 'True', 'Accepted', `ListenerSet is attached to Gateway ${state.gatewayKey}`);
      if (parentProgrammed?.status === 'True') {
        c.set('Programmed', 'True', 'Programmed', `Gateway ${state.gatewayKey} serves its listeners`);
      } else {
        const why = parentProgrammed ? `${parentProgrammed.reason}: ${parentProgrammed.message}` : 'no status';
        c.set('Programmed', 'False', 'ParentNotProgrammed', `Gateway ${state.gatewayKey} is not Programmed (${why})`);
        listenerProgrammed = { reason: 'Pending', message: `Gateway ${state.gatewayKey} is not Programmed` };
      }
    }
    status.conditions = c.list();
    status.listeners = state.listeners.map((l) =>
      listenerStatus(l, generation, objects(previous?.listeners).find((p) => p.name === l.name), nowIso, listenerProgrammed, { programmedReasonFromConflict: true }),
    );
    out.push({ namespace: state.namespace, name: state.name, status });
  }
  return out;
}
