/**
 * The GatewayClass step: our classes (by `spec.controllerName`) evaluated and their status:
 * Accepted (a parametersRef must name an existing tlsgate.dev/GatewayParameters), the supported
 * version, and the claimed features (protocols.ts).
 */
import { ConditionSet, generationOf } from './conditions.js';
import type { ClassState, TranslateOutput } from './model.js';
import { SUPPORTED_FEATURES } from './protocols.js';
import { settingsOf } from './proxy-settings.js';
import { key, type SnapshotIndex } from './snapshot-index.js';
import { GATEWAY_PARAMETERS_KIND, TLSGATE_GROUP, type GatewayClass } from './types.js';

function evaluateClass(gc: GatewayClass, index: SnapshotIndex): ClassState {
  const ref = gc.spec?.parametersRef;
  if (!ref) return { name: gc.metadata.name, settings: undefined };
  const label = `spec.parametersRef ${ref.group}/${ref.kind} ${ref.namespace ? ref.namespace + '/' : ''}${ref.name}`;
  if (ref.group !== TLSGATE_GROUP || ref.kind !== GATEWAY_PARAMETERS_KIND) {
    return {
      name: gc.metadata.name,
      settings: undefined,
      problem: { reason: 'InvalidParameters', message: `${label}: only ${TLSGATE_GROUP}/${GATEWAY_PARAMETERS_KIND} is supported` },
    };
  }
  if (!ref.namespace) {
    return {
      name: gc.metadata.name,
      settings: undefined,
      problem: { reason: 'InvalidParameters', message: `${label}: namespace is required (${GATEWAY_PARAMETERS_KIND} is namespaced)` },
    };
  }
  const params = index.gatewayParameters.get(key(ref.namespace, ref.name));
  if (!params) {
    return { name: gc.metadata.name, settings: undefined, problem: { reason: 'InvalidParameters', message: `${label} does not exist` } };
  }
  return { name: gc.metadata.name, settings: settingsOf(params) };
}

/** Our classes by name, and their statuses sorted by name; others are not ours to write. */
export function translateGatewayClasses(
  classes: readonly GatewayClass[],
  controllerName: string,
  index: SnapshotIndex,
  nowIso: string,
): { states: Map<string, ClassState>; statuses: TranslateOutput['gatewayClasses'] } {
  const states = new Map<string, ClassState>();
  const statuses: TranslateOutput['gatewayClasses'] = [];
  for (const gc of [...classes].sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1))) {
    if (gc.spec?.controllerName !== controllerName) continue;
    const state = evaluateClass(gc, index);
    states.set(gc.metadata.name, state);
    const c = new ConditionSet(generationOf(gc.metadata), gc.status?.conditions, nowIso);
    if (state.problem) c.set('Accepted', 'False', state.problem.reason, state.problem.message);
    else c.set('Accepted', 'True', 'Accepted', `Handled by ${controllerName}`);
    c.set('SupportedVersion', 'True', 'SupportedVersion', 'Gateway API v1.6.1');
    statuses.push({ name: gc.metadata.name, status: { conditions: c.list(), supportedFeatures: SUPPORTED_FEATURES.map((name) => ({ name })) } });
  }
  return { states, statuses };
}
