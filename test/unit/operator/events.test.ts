import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planEvents } from '../../../operator/events.js';
import type { StatusChange } from '../../../operator/status/writer.js';

const OURS = 'tlsgate.dev/gateway-controller';
const cond = (type: string, status: string, reason: string, message = reason) => ({ type, status, reason, message, lastTransitionTime: '2026-11-27T06:00:00Z' });
const routeChange = (before: unknown[] | undefined, after: unknown[]): StatusChange => ({
  kind: 'TLSRoute',
  namespace: 'default',
  name: 'foo-route',
  before: before ? { parents: before as never } : undefined,
  after: { parents: after as never },
  object: { metadata: { uid: 'route-uid', resourceVersion: '7' } },
});
const parentEntry = (conditions: unknown[], controllerName = OURS) => ({ parentRef: { name: 'example-gateway', sectionName: 'tls' }, controllerName, conditions });

test('a newly accepted route gets one Normal Accepted event naming its parent', () => {
  const events = planEvents([routeChange([], [parentEntry([cond('Accepted', 'True', 'Accepted'), cond('ResolvedRefs', 'True', 'ResolvedRefs')])])], OURS);
  assert.equal(events.length, 1);
  assert.equal(events[0]!.type, 'Normal');
  assert.equal(events[0]!.reason, 'Accepted');
  assert.match(events[0]!.note, /example-gateway\/tls/);
  assert.deepEqual(events[0]!.regarding, { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'TLSRoute', namespace: 'default', name: 'foo-route', uid: 'route-uid', resourceVersion: '7' });
});

test('a rejected route and unresolved backends are Warnings with the upstream reason', () => {
  const events = planEvents(
    [routeChange(undefined, [parentEntry([cond('Accepted', 'False', 'NoMatchingListenerHostname', 'no listener hostname matches'), cond('ResolvedRefs', 'False', 'BackendNotFound', 'Service default/foo-svc not found')])])],
    OURS,
  );
  assert.deepEqual(events.map((e) => [e.type, e.reason]), [
    ['Warning', 'NoMatchingListenerHostname'],
    ['Warning', 'BackendNotFound'],
  ]);
});

test('no event when nothing but a message or time changed, and none for other controllers', () => {
  const before = [parentEntry([cond('Accepted', 'True', 'Accepted')])];
  const after = [parentEntry([cond('Accepted', 'True', 'Accepted', 'reworded')]), parentEntry([cond('Accepted', 'False', 'Whatever')], 'example.com/other')];
  assert.deepEqual(planEvents([routeChange(before, after)], OURS), []);
});

test('Gateway: invalid certificate on a listener, a proxy NACK, then Programmed', () => {
  const gateway = (conditions: unknown[], listeners: unknown[] = []): StatusChange['after'] => ({ conditions, listeners } as never);
  const nack: StatusChange = {
    kind: 'Gateway',
    namespace: 'default',
    name: 'example-gateway',
    before: gateway([cond('Programmed', 'False', 'Pending', 'Waiting for a proxy')]),
    after: gateway(
      [cond('Programmed', 'False', 'Invalid', 'A proxy rejected config version abc: listener tls-terminate: bad certificate')],
      [{ name: 'tls-terminate', conditions: [cond('ResolvedRefs', 'False', 'InvalidCertificateRef', 'Secret default/tls-terminate-certificate is not a valid kubernetes.io/tls Secret')] }],
    ),
    object: { metadata: { uid: 'gw' } },
  };
  const events = planEvents([nack], OURS);
  assert.deepEqual(events.map((e) => [e.type, e.reason]), [
    ['Warning', 'Invalid'],
    ['Warning', 'InvalidCertificateRef'],
  ]);
  assert.match(events[1]!.note, /^Listener tls-terminate: /);
  // A message that names the listener already (translate's do) is not prefixed twice.
  const named = `Listener tls-terminate: ${(nack.after as any).listeners[0].conditions[0].message}`;
  const once = planEvents([{ ...nack, after: gateway((nack.after as any).conditions, [{ name: 'tls-terminate', conditions: [cond('ResolvedRefs', 'False', 'InvalidCertificateRef', named)] }]) }], OURS);
  assert.equal(once[1]!.note, named);
  const programmed = planEvents([{ ...nack, before: nack.after, after: gateway([cond('Programmed', 'True', 'Programmed')], (nack.after as any).listeners) }], OURS);
  assert.deepEqual(programmed.map((e) => [e.type, e.reason]), [['Normal', 'Programmed']]);
});

test('a merely pending Gateway (no proxy yet) is not worth an event; notes are capped at the API limit', () => {
  const pending: StatusChange = {
    kind: 'Gateway',
    name: 'g',
    namespace: 'default',
    before: undefined,
    after: { conditions: [cond('Programmed', 'False', 'Pending', 'Waiting for a proxy to connect to the config server') as never] },
    object: {},
  };
  assert.deepEqual(planEvents([pending], OURS), []);
  const long: StatusChange = { ...pending, after: { conditions: [cond('Accepted', 'False', 'InvalidParameters', 'x'.repeat(5000)) as never] } };
  const events = planEvents([long], OURS);
  assert.equal(events.length, 1);
  assert.ok(events[0]!.note.length <= 1024);
});

test('a listener whose port cannot be bound: one Warning naming it; Normal PortAvailable when it is served again', () => {
  const gateway = (accepted: ReturnType<typeof cond>) => ({ conditions: [cond('Accepted', 'True', 'ListenersNotValid')], listeners: [{ name: 'tls', conditions: [accepted] }] }) as never;
  const ok = cond('Accepted', 'True', 'Accepted', 'Listener is valid');
  const blocked = cond('Accepted', 'False', 'PortUnavailable', 'Listener tls: port 443 is unavailable: cannot listen on 0.0.0.0:443: EADDRINUSE');
  const change = (before: ReturnType<typeof cond>, after: ReturnType<typeof cond>): StatusChange => ({ kind: 'Gateway', namespace: 'default', name: 'edge', before: gateway(before), after: gateway(after), object: {} });
  const down = planEvents([change(ok, blocked)], OURS);
  assert.deepEqual(down.map((e) => [e.type, e.reason, e.action, e.note]), [['Warning', 'PortUnavailable', 'Accept', blocked.message]]);
  assert.deepEqual(planEvents([change(blocked, blocked)], OURS), [], 'no repeat while it stays unavailable');
  const up = planEvents([change(blocked, ok)], OURS);
  assert.deepEqual(up.map((e) => [e.type, e.reason, e.note]), [['Normal', 'PortAvailable', 'Listener tls: its port is served again']]);
});
