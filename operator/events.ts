/**
 * Kubernetes Events (events.k8s.io/v1) for the transitions a user debugging with
 * `kubectl describe` needs: a route accepted or rejected by a parent (with the reason), a
 * route's backends unresolved, a listener not accepted (e.g. its port cannot be bound) or its
 * certificate invalid, a Gateway programmed or its proxies rejecting a config. Decided from
 * status changes actually written, so a new leader does not repeat what the old one already
 * reported. Messages come from status condition messages, which never contain key material.
 */
import * as k8s from '@kubernetes/client-node';
import { conditionOf, type ObjectStatusWithConditions, type RouteParentStatus } from './status/merge.js';
import type { StatusChange } from './status/writer.js';
import type { Condition } from './objects.js';
import { describe } from './status/writer.js';

let eventSequence = 0;

/** `<object>.<hex nanoseconds>`, unique per process even for events in the same instant. */
export function eventName(objectName: string): string {
  const nanos = BigInt(Date.now()) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n) + BigInt(eventSequence++);
  const suffix = nanos.toString(16);
  return `${objectName.slice(0, 253 - suffix.length - 1)}.${suffix}`;
}

export interface PlannedEvent {
  regarding: { apiVersion: string; kind: string; namespace?: string; name: string; uid?: string; resourceVersion?: string };
  type: 'Normal' | 'Warning';
  reason: string;
  action: string;
  note: string;
}

const API_VERSION = 'gateway.networking.k8s.io/v1';
/** Events API limit on `note`. */
const MAX_NOTE = 1024;

function changed(before: Condition | undefined, after: Condition | undefined): boolean {
  if (!after) return false;
  return !before || before.status !== after.status || before.reason !== after.reason;
}

function parentName(parent: RouteParentStatus): string {
  const ref = parent.parentRef;
  const ns = ref.namespace ? `${ref.namespace}/` : '';
  const section = ref.sectionName ? `/${ref.sectionName}` : ref.port ? `:${ref.port}` : '';
  return `${ns}${ref.name}${section}`;
}

/** The events a set of written status changes deserves. Pure. */
export function planEvents(changes: StatusChange[], controllerName: string): PlannedEvent[] {
  const events: PlannedEvent[] = [];
  for (const change of changes) {
    const regarding = {
      apiVersion: API_VERSION,
      kind: change.kind,
      namespace: change.namespace,
      name: change.name,
      uid: change.object.metadata?.uid,
      resourceVersion: change.object.metadata?.resourceVersion,
    };
    if (change.kind === 'TLSRoute' || change.kind === 'HTTPRoute') {
      const before = (change.before as { parents?: RouteParentStatus[] } | undefined)?.parents ?? [];
      const after = (change.after as { parents: RouteParentStatus[] }).parents.filter((p) => p.controllerName === controllerName);
      for (const parent of after) {
        const previous = before.find((b) => b.controllerName === controllerName && parentName(b) === parentName(parent));
        const accepted = conditionOf(parent.conditions, 'Accepted');
        if (changed(conditionOf(previous?.conditions, 'Accepted'), accepted) && accepted) {
          const ok = accepted.status === 'True';
          events.push({
            regarding,
            type: ok ? 'Normal' : 'Warning',
            reason: ok ? 'Accepted' : accepted.reason,
            action: 'Attach',
            note: ok ? `Accepted by ${parentName(parent)}` : `Rejected by ${parentName(parent)}: ${accepted.message}`,
          });
        }
        const resolved = conditionOf(parent.conditions, 'ResolvedRefs');
        if (changed(conditionOf(previous?.conditions, 'ResolvedRefs'), resolved) && resolved?.status === 'False') {
          events.push({ regarding, type: 'Warning', reason: resolved.reason, action: 'ResolveRefs', note: `${parentName(parent)}: ${resolved.message}` });
        }
      }
      continue;
    }
    if (change.kind !== 'Gateway') continue;
    const before = change.before as ObjectStatusWithConditions | undefined;
    const after = change.after as ObjectStatusWithConditions;
    const programmed = conditionOf(after.conditions, 'Programmed');
    if (changed(conditionOf(before?.conditions, 'Programmed'), programmed) && programmed) {
      if (programmed.status === 'True') {
        events.push({ regarding, type: 'Normal', reason: 'Programmed', action: 'Program', note: 'The proxies acknowledged the current configuration' });
      } else if (programmed.reason !== 'Pending' || /reject|nack|invalid/i.test(programmed.message)) {
        events.push({ regarding, type: 'Warning', reason: programmed.reason, action: 'Program', note: programmed.message });
      }
    }
    const accepted = conditionOf(after.conditions, 'Accepted');
    if (changed(conditionOf(before?.conditions, 'Accepted'), accepted) && accepted && accepted.status !== 'True') {
      events.push({ regarding, type: 'Warning', reason: accepted.reason, action: 'Accept', note: accepted.message });
    }
    for (const listener of after.listeners ?? []) {
      const previous = before?.listeners?.find((l) => l.name === listener.name);
      // Translate's messages usually name the listener already; say it once.
      const prefix = `Listener ${listener.name}: `;
      const listenerAccepted = conditionOf(listener.conditions, 'Accepted');
      const wasAccepted = conditionOf(previous?.conditions, 'Accepted');
      if (changed(wasAccepted, listenerAccepted) && listenerAccepted) {
        if (listenerAccepted.status !== 'True') {
          const note = listenerAccepted.message.startsWith(prefix) ? listenerAccepted.message : prefix + listenerAccepted.message;
          events.push({ regarding, type: 'Warning', reason: listenerAccepted.reason, action: 'Accept', note });
        } else if (wasAccepted?.reason === 'PortUnavailable') {
          // The way back from a port that could not be bound is worth saying: nobody edited anything.
          events.push({ regarding, type: 'Normal', reason: 'PortAvailable', action: 'Accept', note: `${prefix}its port is served again` });
        }
      }
      const resolved = conditionOf(listener.conditions, 'ResolvedRefs');
      if (changed(conditionOf(previous?.conditions, 'ResolvedRefs'), resolved) && resolved?.status === 'False') {
        const note = resolved.message.startsWith(prefix) ? resolved.message : prefix + resolved.message;
        events.push({ regarding, type: 'Warning', reason: resolved.reason, action: 'ResolveRefs', note });
      }
    }
  }
  return events.map((e) => ({ ...e, note: e.note.length > MAX_NOTE ? e.note.slice(0, MAX_NOTE - 1) + '…' : e.note }));
}

export class EventRecorder {
  private readonly api: k8s.EventsV1Api;

  constructor(
    kubeConfig: k8s.KubeConfig,
    private readonly controllerName: string,
    private readonly instance: string,
    private readonly log: (message: string) => void,
  ) {
    this.api = kubeConfig.makeApiClient(k8s.EventsV1Api);
  }

  /** Creates the events; a failed event is logged and never fails the reconcile. */
  async record(events: PlannedEvent[]): Promise<void> {
    for (const event of events) {
      const namespace = event.regarding.namespace ?? 'default';
      try {
        await this.api.createNamespacedEvent({
          namespace,
          body: {
            // Named as client-go names events (object name, a dot, the time in hex): the API
            // validates generateName's prefix as a full name, so "name." is rejected.
            metadata: { name: eventName(event.regarding.name), namespace },
            eventTime: new k8s.V1MicroTime(),
            reportingController: this.controllerName,
            reportingInstance: this.instance,
            action: event.action,
            reason: event.reason,
            note: event.note,
            type: event.type,
            regarding: event.regarding,
          },
        });
      } catch (err) {
        this.log(`event ${event.reason} on ${event.regarding.kind} ${namespace}/${event.regarding.name}: ${describe(err)}`);
      }
    }
  }
}
