/**
 * Step B of attachment (spec 3.2): one route parentRef (TLSRoute or HTTPRoute) against one of
 * our Gateways.
 * Filters the Gateway's listeners step by step (sectionName/port, protocol and kind,
 * namespace policy, hostname intersection) and reports the reason of the furthest step
 * reached when nothing is left.
 */
import { intersectHostnames, isValidHostname, normalizeHostname } from './hostnames.js';
import { selectorMatches } from './labels.js';
import { canTakeRoutes, supportsKind } from './listeners.js';
import type { EvaluatedListener, Problem, RouteKind, ServedHostname } from './model.js';
import type { SnapshotIndex } from './snapshot-index.js';
import { GATEWAY_API_GROUP, type ParentReference } from './types.js';

export interface ListenerAttachment {
  listener: EvaluatedListener;
  hostnames: ServedHostname[];
}

export type AttachResult = { accepted: true; attachments: ListenerAttachment[] } | { accepted: false; problem: Problem };

export interface AttachContext {
  /** The parent's namespace: a listener's `allowedRoutes.namespaces.from: Same` means this one. */
  gatewayNamespace: string;
  gatewayName: string;
  /** How messages name the parent; default `Gateway namespace/name` (a ListenerSet says so). */
  parentLabel?: string;
  /** Set when the Gateway itself is not Accepted: nothing attaches. */
  gatewayProblem?: string;
  listeners: EvaluatedListener[];
}

function namespaceAdmits(listener: EvaluatedListener, routeNamespace: string, gatewayNamespace: string, index: SnapshotIndex): boolean {
  const from = listener.spec.allowedRoutes?.namespaces?.from ?? 'Same';
  switch (from) {
    case 'All':
      return true;
    case 'Same':
      return routeNamespace === gatewayNamespace;
    case 'Selector':
      return selectorMatches(listener.spec.allowedRoutes?.namespaces?.selector, index.labelsOfNamespace(routeNamespace));
    default:
      return false;
  }
}

export function attachParentRef(
  ref: ParentReference,
  routeKind: RouteKind,
  routeNamespace: string,
  routeHostnames: readonly string[],
  gateway: AttachContext,
  index: SnapshotIndex,
): AttachResult {
  const gwLabel = gateway.parentLabel ?? `Gateway ${gateway.gatewayNamespace}/${gateway.gatewayName}`;
  // Step 3: sectionName and port (both must match when both are set).
  const selected = gateway.listeners.filter(
    (l) => (ref.sectionName === undefined || l.name === ref.sectionName) && (ref.port === undefined || l.port === ref.port),
  );
  if (selected.length === 0) {
    const wanted = [ref.sectionName !== undefined ? `sectionName "${ref.sectionName}"` : '', ref.port !== undefined ? `port ${ref.port}` : '']
      .filter(Boolean)
      .join(' and ');
    return { accepted: false, problem: { reason: 'NoMatchingParent', message: `${gwLabel} has no listener with ${wanted || 'any name'}` } };
  }
  if (gateway.gatewayProblem) {
    return { accepted: false, problem: { reason: 'NotAllowedByListeners', message: `${gwLabel} is not Accepted: ${gateway.gatewayProblem}` } };
  }
  // Steps 4-5: listeners that take this kind of route from this namespace.
  const allowed = selected.filter(
    (l) => canTakeRoutes(l) && supportsKind(l, GATEWAY_API_GROUP, routeKind) && namespaceAdmits(l, routeNamespace, gateway.gatewayNamespace, index),
  );
  if (allowed.length === 0) {
    const names = selected.map((l) => l.name).join(', ');
    // A listener left out for its port says so: the route's owner cannot fix that, the Gateway's can.
    const unavailable = selected.filter((l) => l.notAccepted?.reason === 'PortUnavailable').map((l) => l.notAccepted!.message);
    return {
      accepted: false,
      problem: {
        reason: 'NotAllowedByListeners',
        message: `No listener of ${gwLabel} (${names}) allows ${routeKind}s from namespace ${routeNamespace}` + (unavailable.length > 0 ? ` (${unavailable.join('; ')})` : ''),
      },
    };
  }
  // A hostname that slipped past CEL would reach the proxy config, which the proxy refuses whole.
  const invalid = routeHostnames.findIndex((h) => !isValidHostname(normalizeHostname(h)));
  if (invalid >= 0) {
    return { accepted: false, problem: { reason: 'UnsupportedValue', message: `spec.hostnames[${invalid}] ${JSON.stringify(routeHostnames[invalid])} is not a valid hostname` } };
  }
  // Step 6: hostname intersection; the route serves only intersected hostnames there. An
  // HTTPRoute without hostnames serves whatever the listener does (TLSRoutes must have some).
  const attachments: ListenerAttachment[] = [];
  for (const listener of allowed) {
    if (routeKind === 'HTTPRoute' && routeHostnames.length === 0) {
      attachments.push({ listener, hostnames: [{ hostname: listener.hostname ?? '*', original: null }] });
      continue;
    }
    const hostnames: ServedHostname[] = [];
    for (const raw of routeHostnames) {
      const original = normalizeHostname(raw);
      const hostname = intersectHostnames(listener.hostname, original);
      if (hostname !== null) hostnames.push({ hostname, original });
    }
    if (hostnames.length > 0) attachments.push({ listener, hostnames });
  }
  if (attachments.length === 0) {
    const listenerHostnames = allowed.map((l) => `${l.name}=${l.hostname ?? '*'}`).join(', ');
    return {
      accepted: false,
      problem: {
        reason: 'NoMatchingListenerHostname',
        message: `Route hostnames [${routeHostnames.join(', ')}] intersect no listener hostname of ${gwLabel} (${listenerHostnames})`,
      },
    };
  }
  return { accepted: true, attachments };
}
