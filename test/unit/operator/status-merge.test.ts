import { test } from 'node:test';
import assert from 'node:assert/strict';
import { carryStatusTimes, carryTransitionTimes, mergeRouteParents, normaliseTime, semanticallyEqual, statusUpToDate, type RouteParentStatus } from '../../../operator/status/merge.js';

const OURS = 'tlsgate.dev/gateway-controller';
const THEIRS = 'example.com/other-controller';

const accepted = (status: 'True' | 'False', time: string, reason = status === 'True' ? 'Accepted' : 'NotAllowedByListeners') => ({
  type: 'Accepted',
  status,
  reason,
  message: reason,
  observedGeneration: 1,
  lastTransitionTime: time,
});

const parent = (controllerName: string, name: string, conditions = [accepted('True', '2026-11-27T06:00:00Z')]): RouteParentStatus => ({
  parentRef: { group: 'gateway.networking.k8s.io', kind: 'Gateway', name },
  controllerName,
  conditions,
});

test("another controller's entries stay untouched and in place; ours are replaced", () => {
  const server = [parent(THEIRS, 'their-gateway'), parent(OURS, 'old-gateway')];
  const merged = mergeRouteParents(server, [parent(OURS, 'new-gateway')], OURS);
  assert.deepEqual(merged?.map((p) => [p.controllerName, p.parentRef.name]), [
    [THEIRS, 'their-gateway'],
    [OURS, 'new-gateway'],
  ]);
  assert.deepEqual(merged?.[0], server[0]);
});

test('no write when the server already has exactly our entries (times compared by the second)', () => {
  const server = [parent(THEIRS, 'g'), parent(OURS, 'g', [accepted('True', '2026-11-27T06:00:00Z')])];
  assert.equal(mergeRouteParents(server, [parent(OURS, 'g', [accepted('True', '2026-11-27T06:00:00.000Z')])], OURS), undefined);
});

test('lastTransitionTime is kept while status is unchanged, and moves when status changes', () => {
  const server = [parent(OURS, 'g', [accepted('True', '2026-11-27T06:00:00Z')])];
  const sameStatusNewMessage = mergeRouteParents(server, [parent(OURS, 'g', [{ ...accepted('True', '2026-11-27T07:00:00Z'), message: 'new words' }])], OURS);
  assert.equal(sameStatusNewMessage?.[0]?.conditions[0]?.lastTransitionTime, '2026-11-27T06:00:00Z');
  const flipped = mergeRouteParents(server, [parent(OURS, 'g', [accepted('False', '2026-11-27T07:00:00Z')])], OURS);
  assert.equal(flipped?.[0]?.conditions[0]?.lastTransitionTime, '2026-11-27T07:00:00Z');
});

test('removing all our entries (route detached) leaves only the others', () => {
  const merged = mergeRouteParents([parent(OURS, 'g'), parent(THEIRS, 'h')], [], OURS);
  assert.deepEqual(merged?.map((p) => p.controllerName), [THEIRS]);
  assert.equal(mergeRouteParents([parent(THEIRS, 'h')], [], OURS), undefined);
});

test('entries with another controllerName in our desired list are never written', () => {
  const merged = mergeRouteParents([], [parent(THEIRS, 'forged'), parent(OURS, 'g')], OURS);
  assert.deepEqual(merged?.map((p) => p.controllerName), [OURS]);
});

test('Gateway status: top-level and per-listener transition times carry over; a changed status is written', () => {
  const current = {
    conditions: [accepted('True', '2026-11-27T06:00:00Z')],
    listeners: [{ name: 'tls', attachedRoutes: 1, conditions: [accepted('True', '2026-11-27T06:00:01Z')] }],
  };
  const desired = {
    conditions: [accepted('True', '2026-11-27T08:00:00Z')],
    listeners: [{ name: 'tls', attachedRoutes: 1, conditions: [accepted('True', '2026-11-27T08:00:00Z')] }],
  };
  const carried = carryStatusTimes(desired, current);
  assert.equal(carried.conditions?.[0]?.lastTransitionTime, '2026-11-27T06:00:00Z');
  assert.equal(carried.listeners?.[0]?.conditions?.[0]?.lastTransitionTime, '2026-11-27T06:00:01Z');
  assert.equal(statusUpToDate(carried, current), true);
  const moreRoutes = carryStatusTimes({ ...desired, listeners: [{ ...desired.listeners[0]!, attachedRoutes: 2 }] }, current);
  assert.equal(statusUpToDate(moreRoutes, current), false);
  assert.equal(statusUpToDate(carried, undefined), false);
});

test('time normalisation and semantic equality ignore key order and sub-second digits', () => {
  assert.equal(normaliseTime('2026-11-27T06:00:00.999Z'), '2026-11-27T06:00:00Z');
  assert.equal(normaliseTime(new Date('2026-11-27T06:00:00Z')), '2026-11-27T06:00:00Z');
  assert.equal(semanticallyEqual({ a: 1, b: [1, 2] }, { b: [1, 2], a: 1 }), true);
  assert.equal(semanticallyEqual({ a: 1, b: [1, 2] }, { b: [2, 1], a: 1 }), false);
  assert.deepEqual(carryTransitionTimes([accepted('True', '2026-11-27T06:00:00.5Z')], undefined)[0]?.lastTransitionTime, '2026-11-27T06:00:00Z');
});
