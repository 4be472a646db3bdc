/**
 * One listener's status entry (Gateway `status.listeners[]` and ListenerSet
 * `status.listeners[]` have the same shape): Accepted, Conflicted, ResolvedRefs and Programmed
 * from the evaluated listener, and the Programmed problem of what serves it.
 */
import { ConditionSet } from './conditions.js';
import type { EvaluatedListener, Problem } from './model.js';
import type { ListenerStatus } from './types.js';

export interface ListenerStatusOptions {
  /**
   * Programmed=False takes the reason of the listener's conflict or unavailable port instead of
   * Invalid. ListenerSet listeners need it: the upstream suite expects `HostnameConflict` and
   * `ProtocolConflict` there (v1.6.1 ListenerSetHostnameConflict, ListenerSetProtocolConflict).
   */
  programmedReasonFromConflict?: boolean;
}

const PROGRAMMED_REASONS_FROM_ACCEPTED = new Set(['HostnameConflict', 'ProtocolConflict', 'PortUnavailable']);

export function listenerStatus(
  l: EvaluatedListener,
  generation: number,
  previous: ListenerStatus | undefined,
  now: string,
  programmed: Problem | undefined,
  options: ListenerStatusOptions = {},
): ListenerStatus {
  const c = new ConditionSet(generation, previous?.conditions, now);
  if (l.notAccepted) c.set('Accepted', 'False', l.notAccepted.reason, l.notAccepted.message);
  else c.set('Accepted', 'True', 'Accepted', 'Listener is valid');
  if (l.conflict) c.set('Conflicted', 'True', l.conflict.reason, l.conflict.message);
  else c.set('Conflicted', 'False', 'NoConflicts', 'No conflicts');
  if (l.refProblems.length > 0) {
    c.set('ResolvedRefs', 'False', l.refProblems[0]!.reason, l.refProblems.map((p) => p.message).join('; '));
  } else {
    const notes = l.certificateNotes.length > 0 ? `; ${l.certificateNotes.join('; ')}` : '';
    c.set('ResolvedRefs', 'True', 'ResolvedRefs', `All references resolved${notes}`);
  }
  if (l.notAccepted) {
    const reason = options.programmedReasonFromConflict && PROGRAMMED_REASONS_FROM_ACCEPTED.has(l.notAccepted.reason) ? l.notAccepted.reason : 'Invalid';
    c.set('Programmed', 'False', reason, 'Listener is not Accepted');
  } else if (l.unusable) c.set('Programmed', 'False', 'Invalid', `Listener cannot serve: ${l.unusable}; its connections are rejected`);
  // Listener Programmed reasons are Programmed, Invalid and Pending (AddressNotAssigned is Gateway-level).
  else if (programmed) c.set('Programmed', 'False', programmed.reason === 'Invalid' ? 'Invalid' : 'Pending', programmed.message);
  else c.set('Programmed', 'True', 'Programmed', 'Listener is served');
  return { name: l.name, supportedKinds: l.supportedKinds, attachedRoutes: l.attachedRoutes, conditions: c.list() };
}
