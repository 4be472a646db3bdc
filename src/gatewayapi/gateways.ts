/**
 * The Gateway step: every Gateway of our classes with its listeners evaluated (listeners.ts)
 * and its own problems (class not Accepted, parametersRef, requested addresses, no valid
 * listener). Route steps attach to the states it returns; gateway-status.ts turns them into
 * statuses and proxy configs.
 */
import { evaluateListeners, markUnavailablePorts } from './listeners.js';
import type { ClassState, EvaluatedListener, GatewayState, TranslateInput } from './model.js';
import { mergeSettings, settingsOf } from './proxy-settings.js';
import { objects } from './safe.js';
import { key, namespaceOf, type SnapshotIndex } from './snapshot-index.js';
import { GATEWAY_PARAMETERS_KIND, TLSGATE_GROUP, type Gateway } from './types.js';

/** The caller's unavailable ports of one Gateway, ignoring entries that cannot be ports. */
export function unavailablePortsOf(input: TranslateInput['unavailablePorts'], gatewayKey: string): Map<number, string> {
  const ports = new Map<number, string>();
  const entry = input?.[gatewayKey];
  if (typeof entry !== 'object' || entry === null) return ports;
  for (const [port, reason] of Object.entries(entry)) {
    const number = Number(port);
    if (Number.isInteger(number) && number >= 1 && number <= 65535 && typeof reason === 'string') ports.set(number, reason);
  }
  return ports;
}

/** `listener: Reason` for each listener not Accepted, as a suffix for Gateway messages. */
export function problemsSuffix(listeners: EvaluatedListener[]): string {
  const bad = listeners.filter((l) => l.notAccepted).map((l) => `${l.name}: ${l.notAccepted!.reason}`);
  return bad.length > 0 ? ` (${bad.join(', ')})` : '';
}

function evaluateGateway(gateway: Gateway, cls: ClassState, index: SnapshotIndex, now: Date, unavailable: ReadonlyMap<number, string>): GatewayState {
  const namespace = namespaceOf(gateway);
  const name = gateway.metadata.name;
  const listeners = evaluateListeners(gateway, index, now);
  if (unavailable.size > 0) markUnavailablePorts(listeners, unavailable);
  const state: GatewayState = {
    gateway,
    namespace,
    name,
    listeners,
    settings: cls.settings,
    tlsAttached: new Map(),
    httpAttached: new Map(),
    listenerSets: [],
    onlyPortsUnavailable: false,
  };
  const ref = gateway.spec?.infrastructure?.parametersRef;
  if (cls.problem) {
    state.problem = { reason: 'Invalid', message: `GatewayClass ${cls.name} is not Accepted: ${cls.problem.message}` };
  } else if (ref && (ref.group !== TLSGATE_GROUP || ref.kind !== GATEWAY_PARAMETERS_KIND)) {
    state.problem = {
      reason: 'InvalidParameters',
      message: `spec.infrastructure.parametersRef ${ref.group}/${ref.kind} ${ref.name}: only ${TLSGATE_GROUP}/${GATEWAY_PARAMETERS_KIND} is supported`,
    };
  } else if (ref && !index.gatewayParameters.has(key(namespace, ref.name))) {
    state.problem = {
      reason: 'InvalidParameters',
      message: `spec.infrastructure.parametersRef ${GATEWAY_PARAMETERS_KIND} ${namespace}/${ref.name} does not exist`,
    };
  } else if (objects(gateway.spec?.addresses).length > 0) {
    state.problem = { reason: 'UnsupportedAddress', message: 'spec.addresses: requesting specific addresses is not supported' };
  } else if (listeners.every((l) => l.notAccepted)) {
    state.problem = { reason: 'ListenersNotValid', message: 'No listener is valid' + problemsSuffix(listeners) };
    state.onlyPortsUnavailable = listeners.length > 0 && listeners.every((l) => l.notAccepted?.reason === 'PortUnavailable');
  }
  if (ref && (!state.problem || state.onlyPortsUnavailable)) state.settings = mergeSettings(cls.settings, settingsOf(index.gatewayParameters.get(key(namespace, ref.name))));
  return state;
}

/** Gateways of our classes (input sorted by namespace/name), keyed by namespace/name in that order. */
export function evaluateGateways(
  gateways: readonly Gateway[],
  classes: ReadonlyMap<string, ClassState>,
  input: Pick<TranslateInput, 'now' | 'unavailablePorts'>,
  index: SnapshotIndex,
): Map<string, GatewayState> {
  const states = new Map<string, GatewayState>();
  for (const gateway of gateways) {
    const cls = classes.get(gateway.spec?.gatewayClassName);
    if (!cls) continue;
    const gatewayKey = key(namespaceOf(gateway), gateway.metadata.name);
    states.set(gatewayKey, evaluateGateway(gateway, cls, index, input.now, unavailablePortsOf(input.unavailablePorts, gatewayKey)));
  }
  return states;
}
