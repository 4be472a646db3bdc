// ListenerSet behaviour the goldens show but do not isolate: precedence by age and its
// hand-over when the older set goes, the Gateway's own statuses untouched by its sets, the
// parent's problems reaching sets and their routes, grants not inherited in either direction,
// unavailable ports, siblings' names kept out of messages, and Programmed following the runtime.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { translate, type Snapshot, type TranslateOutput } from '../../../src/gatewayapi/translate.js';
import { addDocument, emptySnapshot } from '../../../src/manifests/load.js';
import type { Condition } from '../../../src/gatewayapi/types.js';

const now = new Date('2027-01-01T00:00:00Z');

function snapshotOf(...yamlDocs: string[]): Snapshot {
  const snapshot = emptySnapshot();
  const warnings: string[] = [];
  yamlDocs.forEach((doc, i) => addDocument(snapshot, warnings, parse(doc), { file: 'test', document: i }));
  assert.deepEqual(warnings, []);
  return snapshot;
}

const CLASS = `
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: { name: tlsgate }
spec: { controllerName: tlsgate.dev/gateway-controller }`;

function gateway(extra = '', listeners = '[{ name: web, port: 80, protocol: HTTP, hostname: gw.example.com }]'): string {
  return `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: shared, namespace: infra }
spec:
  gatewayClassName: tlsgate
  allowedListeners: { namespaces: { from: All } }
  listeners: ${listeners}
  ${extra}`;
}

function listenerSet(namespace: string, name: string, created: string, listeners: string): string {
  return `
apiVersion: gateway.networking.k8s.io/v1
kind: ListenerSet
metadata: { name: ${name}, namespace: ${namespace}, creationTimestamp: "${created}" }
spec:
  parentRef: { name: shared, namespace: infra }
  listeners: ${listeners}`;
}

function condition(conditions: readonly Condition[] | undefined, type: string): Condition {
  const c = conditions?.find((x) => x.type === type);
  assert.ok(c, `has ${type}`);
  return c;
}

function setStatus(out: TranslateOutput, namespace: string, name: string) {
  const entry = out.listenerSets.find((l) => l.namespace === namespace && l.name === name);
  assert.ok(entry, `ListenerSet ${namespace}/${name} has a status`);
  return entry.status;
}

function servedNames(out: TranslateOutput): string[] {
  return out.proxyConfigs[0]!.ports.flatMap((p) => p.listeners.map((l) => l.name));
}

const ACKED = (out: TranslateOutput) => ({ 'infra/shared': { addresses: [{ type: 'IPAddress' as const, value: '192.0.2.1' }], acknowledgedVersion: out.proxyConfigs[0]!.version } });

test('the older ListenerSet keeps a contested hostname whatever the names; when it goes, the other one is served', () => {
  const contested = '[{ name: web, port: 80, protocol: HTTP, hostname: app.example.com }]';
  const older = listenerSet('team-z', 'zzz', '2026-01-01T00:00:00Z', contested);
  const newer = listenerSet('team-a', 'aaa', '2026-02-01T00:00:00Z', contested);
  const both = translate({ snapshot: snapshotOf(CLASS, gateway(), older, newer), now });
  assert.equal(condition(setStatus(both, 'team-z', 'zzz').conditions, 'Accepted').status, 'True');
  const loser = setStatus(both, 'team-a', 'aaa');
  assert.equal(condition(loser.conditions, 'Accepted').reason, 'ListenersNotValid');
  assert.equal(condition(loser.listeners![0]!.conditions, 'Conflicted').reason, 'HostnameConflict');
  assert.deepEqual(servedNames(both), ['team-z/zzz/web', 'web']);

  const alone = translate({ snapshot: snapshotOf(CLASS, gateway(), newer), now });
  assert.equal(condition(setStatus(alone, 'team-a', 'aaa').conditions, 'Accepted').reason, 'Accepted');
  assert.deepEqual(servedNames(alone), ['team-a/aaa/web', 'web']);
});

test("a ListenerSet never changes the Gateway's own listener statuses, even when it conflicts with them", () => {
  const thief = listenerSet('team-a', 'thief', '2026-01-01T00:00:00Z', '[{ name: web, port: 80, protocol: HTTP, hostname: gw.example.com }, { name: raw, port: 80, protocol: TCP }]');
  const without = translate({ snapshot: snapshotOf(CLASS, gateway()), now });
  const withSet = translate({ snapshot: snapshotOf(CLASS, gateway(), thief), now });
  const { attachedListenerSets: a, ...gwWithout } = without.gateways[0]!.status;
  const { attachedListenerSets: b, ...gwWith } = withSet.gateways[0]!.status;
  assert.deepEqual(gwWith, gwWithout);
  assert.deepEqual([a, b], [0, 0]);
  const status = setStatus(withSet, 'team-a', 'thief');
  assert.deepEqual(status.listeners!.map((l) => [l.name, condition(l.conditions, 'Accepted').reason]), [['web', 'HostnameConflict'], ['raw', 'ProtocolConflict']]);
});

test("messages about a conflict with another team's ListenerSet do not name it", () => {
  const first = listenerSet('team-secret', 'hidden-name', '2026-01-01T00:00:00Z', '[{ name: web, port: 80, protocol: HTTP, hostname: app.example.com }]');
  const second = listenerSet('team-b', 'apps', '2026-02-01T00:00:00Z', '[{ name: web, port: 80, protocol: HTTP, hostname: app.example.com }, { name: ok, port: 80, protocol: HTTP, hostname: b.example.com }]');
  const out = translate({ snapshot: snapshotOf(CLASS, gateway(), first, second), now });
  const text = JSON.stringify(setStatus(out, 'team-b', 'apps'));
  assert.match(text, /another ListenerSet attached to Gateway infra\/shared/);
  assert.doesNotMatch(text, /team-secret|hidden-name/);
});

test('a Gateway that is not Accepted makes its ListenerSets ParentNotAccepted and their routes NotAllowedByListeners', () => {
  const bad = gateway('addresses: [{ value: 192.0.2.7 }]');
  const set = listenerSet('infra', 'apps', '2026-01-01T00:00:00Z', '[{ name: web, port: 80, protocol: HTTP }]');
  const route = `
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: r, namespace: infra }
spec:
  parentRefs: [{ kind: ListenerSet, name: apps, sectionName: web }]
  rules: [{ backendRefs: [] }]`;
  const out = translate({ snapshot: snapshotOf(CLASS, bad, set, route), now });
  const status = setStatus(out, 'infra', 'apps');
  assert.equal(condition(status.conditions, 'Accepted').reason, 'ParentNotAccepted');
  assert.equal(condition(status.conditions, 'Programmed').reason, 'ParentNotAccepted');
  assert.deepEqual(status.listeners, []);
  const parent = out.httpRoutes[0]!.status.parents[0]!;
  assert.deepEqual(parent.parentRef, { group: 'gateway.networking.k8s.io', kind: 'ListenerSet', name: 'apps', sectionName: 'web' });
  assert.equal(condition(parent.conditions, 'Accepted').reason, 'NotAllowedByListeners');
  assert.match(condition(parent.conditions, 'Accepted').message, /ListenerSet infra\/apps is not Accepted: ParentNotAccepted/);
});

test("grants are not inherited: the Gateway's grant does not cover its ListenerSets, nor a ListenerSet's grant the Gateway", () => {
  const secretRef = '{ name: cert, namespace: certs }';
  const gw = gateway('', `[{ name: www, port: 443, protocol: HTTPS, hostname: www.example.com, tls: { certificateRefs: [${secretRef}] } }]`);
  const set = listenerSet('infra', 'apps', '2026-01-01T00:00:00Z', `[{ name: app, port: 443, protocol: HTTPS, hostname: app.example.com, tls: { certificateRefs: [${secretRef}] } }]`);
  const grant = (kind: string) => `
apiVersion: gateway.networking.k8s.io/v1
kind: ReferenceGrant
metadata: { name: ${kind.toLowerCase()}, namespace: certs }
spec:
  from: [{ group: gateway.networking.k8s.io, kind: ${kind}, namespace: infra }]
  to: [{ group: "", kind: Secret }]`;
  const refsOf = (out: TranslateOutput) => [
    condition(out.gateways[0]!.status.listeners![0]!.conditions, 'ResolvedRefs').reason,
    condition(setStatus(out, 'infra', 'apps').listeners![0]!.conditions, 'ResolvedRefs').reason,
  ];
  // The Secret does not exist: a permitted reference says so, a forbidden one says RefNotPermitted first.
  assert.deepEqual(refsOf(translate({ snapshot: snapshotOf(CLASS, gw, set, grant('Gateway')), now })), ['InvalidCertificateRef', 'RefNotPermitted']);
  assert.deepEqual(refsOf(translate({ snapshot: snapshotOf(CLASS, gw, set, grant('ListenerSet')), now })), ['RefNotPermitted', 'InvalidCertificateRef']);
});

test('a ListenerSet listener on an unavailable port is PortUnavailable and left out of the config', () => {
  const set = listenerSet('infra', 'apps', '2026-01-01T00:00:00Z', '[{ name: web, port: 80, protocol: HTTP, hostname: a.example.com }, { name: alt, port: 8081, protocol: HTTP }]');
  const out = translate({ snapshot: snapshotOf(CLASS, gateway(), set), now, unavailablePorts: { 'infra/shared': { 8081: 'cannot listen on 0.0.0.0:8081: EADDRINUSE' } } });
  const alt = setStatus(out, 'infra', 'apps').listeners!.find((l) => l.name === 'alt')!;
  assert.equal(condition(alt.conditions, 'Accepted').reason, 'PortUnavailable');
  assert.equal(condition(alt.conditions, 'Programmed').reason, 'PortUnavailable');
  assert.deepEqual(out.proxyConfigs[0]!.ports.map((p) => p.port), [80]);
  assert.equal(condition(setStatus(out, 'infra', 'apps').conditions, 'Accepted').reason, 'ListenersNotValid');
  assert.equal(condition(setStatus(out, 'infra', 'apps').conditions, 'Accepted').status, 'True');
});

test('ListenerSet Programmed follows the Gateway: ParentNotProgrammed until a proxy acknowledges the config holding its listeners', () => {
  const snapshot = snapshotOf(CLASS, gateway(), listenerSet('infra', 'apps', '2026-01-01T00:00:00Z', '[{ name: web, port: 80, protocol: HTTP, hostname: a.example.com }]'));
  const first = translate({ snapshot, now });
  const pending = setStatus(first, 'infra', 'apps');
  assert.equal(condition(pending.conditions, 'Programmed').reason, 'ParentNotProgrammed');
  assert.equal(condition(pending.listeners![0]!.conditions, 'Programmed').reason, 'Pending');
  const served = setStatus(translate({ snapshot, now, runtime: ACKED(first) }), 'infra', 'apps');
  assert.equal(condition(served.conditions, 'Programmed').reason, 'Programmed');
  assert.equal(condition(served.listeners![0]!.conditions, 'Programmed').status, 'True');
});

test('ListenerSets whose parent is not one of our Gateways get no status, and nothing of them is served', () => {
  const other = `
apiVersion: gateway.networking.k8s.io/v1
kind: ListenerSet
metadata: { name: elsewhere, namespace: infra }
spec:
  parentRef: { name: missing }
  listeners: [{ name: web, port: 81, protocol: HTTP }]`;
  const notGateway = `
apiVersion: gateway.networking.k8s.io/v1
kind: ListenerSet
metadata: { name: odd, namespace: infra }
spec:
  parentRef: { name: shared, kind: Service, group: "" }
  listeners: [{ name: web, port: 82, protocol: HTTP }]`;
  const out = translate({ snapshot: snapshotOf(CLASS, gateway(), other, notGateway), now });
  assert.deepEqual(out.listenerSets, []);
  assert.deepEqual(out.proxyConfigs[0]!.ports.map((p) => p.port), [80]);
});
