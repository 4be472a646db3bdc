/**
 * Pure status arithmetic for the status writer: deciding whether a write is needed, and
 * merging our TLSRoute parent entries into the list as it is on the server right now.
 *
 * TLSRoute `status.parents` is an atomic list shared by every controller that implements
 * the route's parents; each controller owns the entries carrying its controllerName. So a
 * write replaces the whole list, and must be computed from a fresh read, never from a
 * cached one, or another controller's concurrent entry would be lost.
 */
import type { Condition } from '../objects.js';
import type { ParentReference } from '../../src/gatewayapi/types.js';

export type { ParentReference };

export interface RouteParentStatus {
  parentRef: ParentReference;
  controllerName: string;
  conditions: Condition[];
}

/** Metav1.Time has whole seconds on the wire; compare and write times at that precision. */
export function normaliseTime(value: string | Date | undefined): string | undefined {
  if (value === undefined) return undefined;
  const date = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(date.getTime())) return String(value);
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** A JSON-equal comparison that treats times by their second and ignores key order. */
export function semanticallyEqual(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}

function canonical(value: unknown): string {
  return JSON.stringify(normalise(value));
}

function normalise(value: unknown, key?: string): unknown {
  if (value instanceof Date) return normaliseTime(value);
  if (key === 'lastTransitionTime' && typeof value === 'string') return normaliseTime(value);
  if (Array.isArray(value)) return value.map((item) => normalise(item));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[k];
      if (v !== undefined) out[k] = normalise(v, k);
    }
    return out;
  }
  return value;
}

/**
 * Conditions as desired, but each keeps the server's lastTransitionTime when its status did
 * not change (a reason or message change is not a transition).
 */
export function carryTransitionTimes(desired: Condition[], current: Condition[] | undefined): Condition[] {
  return desired.map((condition) => {
    const before = current?.find((c) => c.type === condition.type);
    const lastTransitionTime =
      before && before.status === condition.status && before.lastTransitionTime
        ? normaliseTime(before.lastTransitionTime)
        : normaliseTime(condition.lastTransitionTime);
    return lastTransitionTime === undefined ? { ...condition } : { ...condition, lastTransitionTime };
  });
}

/** Parent refs are the same parent when every field matches after defaulting group and kind. */
export function sameParent(a: ParentReference, b: ParentReference): boolean {
  return (
    (a.group ?? 'gateway.networking.k8s.io') === (b.group ?? 'gateway.networking.k8s.io') &&
    (a.kind ?? 'Gateway') === (b.kind ?? 'Gateway') &&
    (a.namespace ?? '') === (b.namespace ?? '') &&
    a.name === b.name &&
    (a.sectionName ?? '') === (b.sectionName ?? '') &&
    (a.port ?? 0) === (b.port ?? 0)
  );
}

/**
 * The parents list to write: the server's entries of other controllers, untouched and in
 * their order, followed by our desired entries (with carried-over transition times).
 * Returns undefined when the server's list already equals the result (no write needed).
 */
export function mergeRouteParents(
  current: RouteParentStatus[] | undefined,
  desiredOurs: RouteParentStatus[],
  controllerName: string,
): RouteParentStatus[] | undefined {
  const serverParents = current ?? [];
  const others = serverParents.filter((p) => p.controllerName !== controllerName);
  const oursBefore = serverParents.filter((p) => p.controllerName === controllerName);
  const ours = desiredOurs
    .filter((p) => p.controllerName === controllerName)
    .map((p) => {
      const before = oursBefore.find((b) => sameParent(b.parentRef, p.parentRef));
      return { ...p, conditions: carryTransitionTimes(p.conditions, before?.conditions) };
    });
  const merged = [...others, ...ours];
  return semanticallyEqual(merged, serverParents) ? undefined : merged;
}

/** The conditions of an object status tree that belong to `type`, for event decisions. */
export function conditionOf(conditions: Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

export interface ObjectStatusWithConditions {
  conditions?: Condition[];
  listeners?: { name: string; conditions?: Condition[] }[];
}

/**
 * A GatewayClass or Gateway status as desired, with transition times carried over from the
 * server's status (top-level conditions, and listener conditions matched by listener name).
 */
export function carryStatusTimes<T extends ObjectStatusWithConditions>(desired: T, current: ObjectStatusWithConditions | undefined): T {
  const result: T = { ...desired };
  if (desired.conditions) result.conditions = carryTransitionTimes(desired.conditions, current?.conditions);
  if (desired.listeners) {
    result.listeners = desired.listeners.map((listener) => {
      const before = current?.listeners?.find((l) => l.name === listener.name);
      return listener.conditions ? { ...listener, conditions: carryTransitionTimes(listener.conditions, before?.conditions) } : listener;
    });
  }
  return result;
}

/** True when every field we write is already on the server with the same value. */
export function statusUpToDate(desired: object, current: object | undefined): boolean {
  if (!current) return false;
  const want = desired as Record<string, unknown>;
  const have = current as Record<string, unknown>;
  return Object.keys(want).every((field) => semanticallyEqual(want[field], have[field]));
}
