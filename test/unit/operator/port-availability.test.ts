// What the operator remembers about listener ports its proxies cannot bind: learned from a NACK of
// the current config, left out of translate until a retry is due (1 min doubling to 10 min), the
// retry publishes the full config once, an ACK forgets, a NACK remembers again with a longer
// backoff, and a new Gateway generation forgets at once.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { absorbDeliveryReports, adminPortConflicts, mergeUnavailable, PortAvailability, type DeliveryReport } from '../../../operator/port-availability.js';

const GW = 'team-a/edge';
const taken = { port: 443, address: '0.0.0.0', code: 'EADDRINUSE' };

test('a NACK of the current config with ports is learned; a NACK of an older version or without ports is not', () => {
  const ports = new PortAvailability({ initialRetryMs: 1000, maxRetryMs: 8000 });
  const generations = new Map([[GW, 3]]);
  const report = (r: DeliveryReport) => () => r;
  assert.deepEqual(absorbDeliveryReports(ports, generations, report({ currentVersion: 'v2', ackedProxies: 0, nack: { version: 'v1', ports: [taken] } }), 0), []);
  assert.deepEqual(absorbDeliveryReports(ports, generations, report({ currentVersion: 'v2', ackedProxies: 0, nack: { version: 'v2' } }), 0), []);
  assert.deepEqual(ports.input(0), {});
  const changes = absorbDeliveryReports(ports, generations, report({ currentVersion: 'v2', ackedProxies: 0, nack: { version: 'v2', ports: [taken] } }), 0);
  assert.deepEqual(changes, [{ gateway: GW, kind: 'unavailable', ports: [443], detail: 'cannot listen on 0.0.0.0:443: EADDRINUSE' }]);
  assert.deepEqual(ports.input(10), { [GW]: { 443: 'cannot listen on 0.0.0.0:443: EADDRINUSE' } });
  // The same NACK seen again (every reconcile until an ACK) changes nothing.
  assert.deepEqual(absorbDeliveryReports(ports, generations, report({ currentVersion: 'v2', ackedProxies: 0, nack: { version: 'v2', ports: [taken] } }), 20), []);
  assert.equal(ports.nextRetryAt(), 1000);
});

test('retry: due at the backoff, the full config once; refused again doubles the backoff up to the cap; ACKed forgets', () => {
  const ports = new PortAvailability({ initialRetryMs: 1000, maxRetryMs: 3000 });
  const generations = new Map([[GW, 1]]);
  ports.learn(GW, 1, [taken], 0);
  assert.ok(GW in ports.input(999));
  assert.deepEqual(ports.input(1000), {}, 'due: left out once, so the full config is published');
  assert.equal(ports.isRetrying(GW), true);
  assert.equal(ports.nextRetryAt(), undefined, 'no timer while the retry is out');
  // The proxies refuse the full config again: remembered, and the reduced config must be published again.
  const refused = absorbDeliveryReports(ports, generations, () => ({ currentVersion: 'full', ackedProxies: 0, nack: { version: 'full', ports: [taken] } }), 1000);
  assert.deepEqual(refused.map((c) => [c.kind, c.detail]), [['unavailable', 'still unavailable']]);
  assert.equal(ports.nextRetryAt(), 3000, 'backoff doubled to 2 s');
  assert.ok(GW in ports.input(2999));
  assert.deepEqual(ports.input(3000), {});
  ports.learn(GW, 1, [taken], 3000);
  assert.equal(ports.nextRetryAt(), 6000, 'capped at 3 s');
  assert.deepEqual(ports.input(6000), {});
  // This time the port is free: the ACK of the full config forgets it.
  const served = absorbDeliveryReports(ports, generations, () => ({ currentVersion: 'full', ackedProxies: 1 }), 6000);
  assert.deepEqual(served.map((c) => [c.kind, c.ports]), [['available', [443]]]);
  assert.deepEqual(ports.input(7000), {});
  assert.equal(ports.nextRetryAt(), undefined);
});

test('an ACK while not retrying, or with a NACK of the current version from another proxy, forgets nothing', () => {
  const ports = new PortAvailability({ initialRetryMs: 1000 });
  const generations = new Map([[GW, 1]]);
  ports.learn(GW, 1, [taken], 0);
  assert.deepEqual(absorbDeliveryReports(ports, generations, () => ({ currentVersion: 'reduced', ackedProxies: 2 }), 10), []);
  assert.ok(GW in ports.input(10));
  ports.input(1000); // retry out
  const mixed = absorbDeliveryReports(ports, generations, () => ({ currentVersion: 'full', ackedProxies: 1, nack: { version: 'full', ports: [taken] } }), 1000);
  assert.equal(mixed[0]?.kind, 'unavailable', 'one replica that cannot bind is enough');
  assert.ok(GW in ports.input(1001));
});

test('a new generation or a deleted Gateway forgets; admin-port conflicts are found from the spec', () => {
  const ports = new PortAvailability();
  ports.learn(GW, 1, [taken], 0);
  absorbDeliveryReports(ports, new Map([[GW, 2]]), () => undefined, 1);
  assert.deepEqual(ports.input(2), {});
  ports.learn(GW, 2, [taken], 0);
  absorbDeliveryReports(ports, new Map(), () => undefined, 1);
  assert.deepEqual(ports.input(2), {});

  const gateways = [
    { metadata: { namespace: 'team-a', name: 'edge' }, spec: { listeners: [{ port: 443 }, { port: 9901 }] } },
    { metadata: { name: 'plain' }, spec: { listeners: [{ port: 443 }] } },
    { metadata: { name: 'broken' }, spec: { listeners: 'not a list' as never } },
  ];
  const admin = adminPortConflicts(gateways, 9901);
  assert.deepEqual(Object.keys(admin), ['team-a/edge']);
  assert.match(admin['team-a/edge']![9901]!, /port 9901 is the proxy's own admin port/);
  assert.deepEqual(mergeUnavailable({ [GW]: { 443: 'a' } }, admin), { [GW]: { 443: 'a', 9901: admin[GW]![9901]! } });
});

test("a ListenerSet's listener on the admin port marks the port on its parent Gateway, in the parent's namespace unless the set names another", () => {
  const set = (namespace: string, name: string, parentRef: object, ports: number[]) => ({ metadata: { namespace, name }, spec: { parentRef, listeners: ports.map((port) => ({ port })) } });
  const admin = adminPortConflicts([], 9901, [
    set('team-a', 'a', { name: 'shared', namespace: 'infra' }, [443, 9901]),
    set('team-b', 'b', { name: 'local' }, [9901]),
    set('team-c', 'c', { name: 'shared', namespace: 'infra' }, [443]),
    set('team-d', 'd', { name: 'other', kind: 'XListenerSetParent' }, [9901]),
  ]);
  assert.deepEqual(Object.keys(admin).sort(), ['infra/shared', 'team-b/local']);
  assert.match(admin['infra/shared']![9901]!, /port 9901 is the proxy's own admin port/);
});
