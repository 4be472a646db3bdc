// The ListenerSet construct: its manifest (valid against the v1.6.1 CRD schema), the CRD's CEL
// rules and the checks only the parent can answer at synth time (does the Gateway allow the
// set, does a listener conflict with one that takes precedence), grants from ListenerSet for
// certificates elsewhere, routes attaching to a set, and the example app translated end to end.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { App, Chart } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Gateway, HttpRoute, ListenerSet, TlsRoute, type ListenerSetNamespaces } from '../../../src/constructs/index.js';
import { translate, type Snapshot } from '../../../src/gatewayapi/translate.js';
import { addDocument, emptySnapshot } from '../../../src/manifests/load.js';
import { issueCertificate } from '../../../examples/demo/pki.js';
import { platformChart, teamChart } from '../../../examples/listenersets/charts.js';
import { schemaErrors, synth, synthError, type KubeObject } from './helpers.js';

const https = (name: string, hostname: string, port = 443) => ({ name, port, protocol: 'HTTPS' as const, hostname, certificates: [{ name: `${name}-tls` }] });

function platform(chart: Chart, allowedListeners?: ListenerSetNamespaces): Gateway {
  return new Gateway(chart, 'gw', {
    metadata: { name: 'shared', namespace: 'platform' },
    gatewayClass: 'tlsgate',
    ...(allowedListeners ? { allowedListeners } : {}),
    listeners: [https('www', 'www.example.com'), { name: 'plain', port: 80, protocol: 'HTTP' }],
  });
}

test('a ListenerSet synthesizes a v1 ListenerSet naming its parent Gateway, valid against the CRD schema', () => {
  const objects = synth((chart) => {
    const gateway = platform(chart, { from: 'All' });
    new ListenerSet(chart, 'ls', { metadata: { name: 'apps', namespace: 'team-a' }, parent: gateway, listeners: [https('web', 'a.example.com'), { name: 'db', port: 443, mode: 'Passthrough', hostname: 'db.a.example.com' }] });
  });
  const ls = objects.find((o) => o.kind === 'ListenerSet')!;
  assert.deepStrictEqual(ls, {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'ListenerSet',
    metadata: { name: 'apps', namespace: 'team-a' },
    spec: {
      listeners: [
        { name: 'web', port: 443, protocol: 'HTTPS', hostname: 'a.example.com', tls: { certificateRefs: [{ name: 'web-tls' }] } },
        { name: 'db', port: 443, protocol: 'TLS', hostname: 'db.a.example.com', tls: { mode: 'Passthrough' } },
      ],
      parentRef: { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'shared', namespace: 'platform' },
    },
  });
  assert.deepStrictEqual(schemaErrors(ls), []);
  const gw = objects.find((o) => o.kind === 'Gateway')!;
  assert.deepStrictEqual((gw.spec as { allowedListeners: unknown }).allowedListeners, { namespaces: { from: 'All' } });
  assert.deepStrictEqual(schemaErrors(gw), []);
});

test("the CRD's CEL rules on a ListenerSet's listeners are checked at synth", () => {
  const error = synthError((chart) => {
    new ListenerSet(chart, 'ls', {
      metadata: { name: 'apps', namespace: 'team-a' },
      parent: { name: 'elsewhere', namespace: 'platform' },
      listeners: [
        { name: 'web', port: 80, protocol: 'HTTP', mode: 'Terminate', certificates: [{ name: 'x' }] },
        { name: 'web', port: 443, protocol: 'TLS', hostname: 'b.example.com', mode: 'Passthrough' },
        { name: 'raw', port: 9000, protocol: 'TCP', hostname: 'c.example.com' },
      ],
    });
  });
  assert.match(error, /spec\.listeners\[0\]\.tls: tls must not be specified for protocols \['HTTP', 'TCP', 'UDP'\]/);
  assert.match(error, /Listener name must be unique within the Gateway/);
  assert.match(error, /hostname must not be specified for protocols \['TCP', 'UDP'\]/);
});

test('a ListenerSet its parent Gateway (of this app) does not allow is reported, naming the fix', () => {
  const notAllowed = synthError((chart) => {
    new ListenerSet(chart, 'ls', { metadata: { name: 'apps', namespace: 'team-a' }, parent: platform(chart), listeners: [https('web', 'a.example.com')] });
  });
  assert.match(notAllowed, /Gateway "platform\/shared" does not allow ListenerSets \(allowedListeners is None, the default\)/);
  assert.match(notAllowed, /give the Gateway allowedListeners/);
  const otherNamespace = synthError((chart) => {
    new ListenerSet(chart, 'ls', { metadata: { name: 'apps', namespace: 'team-a' }, parent: platform(chart, { from: 'Same' }), listeners: [https('web', 'a.example.com')] });
  });
  assert.match(otherNamespace, /allows ListenerSets from its own namespace only/);
  const selector: ListenerSetNamespaces = { from: 'Selector', selector: { matchLabels: { team: 'yes' } } };
  const unlabelled = synthError((chart) => {
    new kplus.Namespace(chart, 'ns', { metadata: { name: 'team-a' } });
    new ListenerSet(chart, 'ls', { metadata: { name: 'apps', namespace: 'team-a' }, parent: platform(chart, selector), listeners: [https('web', 'a.example.com')] });
  });
  assert.match(unlabelled, /namespace "team-a" does not match; it would be Accepted=False\/NotAllowed/);
  synth((chart) => {
    new kplus.Namespace(chart, 'ns', { metadata: { name: 'team-a', labels: { team: 'yes' } } });
    new ListenerSet(chart, 'ls', { metadata: { name: 'apps', namespace: 'team-a' }, parent: platform(chart, selector), listeners: [https('web', 'a.example.com')] });
  });
});

test("listeners that would lose to the parent's or an earlier set's are reported", () => {
  const error = synthError((chart) => {
    const gateway = platform(chart, { from: 'All' });
    new ListenerSet(chart, 'a', { metadata: { name: 'a', namespace: 'team-a' }, parent: gateway, listeners: [https('web', 'www.example.com'), { name: 'tls-on-http', port: 80, mode: 'Passthrough', hostname: 'x.example.com' }, https('ok', 'a.example.com')] });
    new ListenerSet(chart, 'b', { metadata: { name: 'b', namespace: 'team-b' }, parent: gateway, listeners: [https('web', 'a.example.com')] });
  });
  assert.match(error, /listener "web" has port 443 and hostname "www\.example\.com" like listener "www" of Gateway "platform\/shared".*HostnameConflict/);
  assert.match(error, /listener "tls-on-http" \(TLS\) shares port 80 with listener "plain" \(HTTP\) of Gateway "platform\/shared".*ProtocolConflict/);
  assert.match(error, /listener "web" has port 443 and hostname "a\.example\.com" like listener "ok" of ListenerSet "team-a\/a"/);
});

test('a certificate in another namespace gets a grant from ListenerSet (a Gateway grant would not cover it)', () => {
  const objects = synth((chart) => {
    const secret = new kplus.Secret(chart, 's', { metadata: { name: 'wild', namespace: 'certs' }, type: 'kubernetes.io/tls' });
    new ListenerSet(chart, 'ls', { metadata: { name: 'apps', namespace: 'team-a' }, parent: { name: 'shared', namespace: 'platform' }, listeners: [{ name: 'web', port: 443, protocol: 'HTTPS', hostname: 'a.example.com', certificates: [secret] }] });
  });
  const grant = objects.find((o) => o.kind === 'ReferenceGrant')!;
  assert.deepStrictEqual(grant.spec, { from: [{ group: 'gateway.networking.k8s.io', kind: 'ListenerSet', namespace: 'team-a' }], to: [{ group: '', kind: 'Secret', name: 'wild' }] });
  const ls = objects.find((o) => o.kind === 'ListenerSet')!;
  assert.deepStrictEqual((ls.spec as { listeners: { tls: unknown }[] }).listeners[0]!.tls, { certificateRefs: [{ name: 'wild', namespace: 'certs' }] });
});

test('routes attach to a ListenerSet, its listener or its port, and are checked against its own listeners', () => {
  const objects = synth((chart) => {
    const ls = new ListenerSet(chart, 'ls', { metadata: { name: 'apps', namespace: 'team-a' }, parent: { name: 'shared', namespace: 'platform' }, listeners: [https('web', 'a.example.com'), { name: 'db', port: 443, mode: 'Passthrough', hostname: 'db.a.example.com' }] });
    new HttpRoute(chart, 'h', { metadata: { name: 'h', namespace: 'team-a' }, parents: [ls], rules: [{ backends: [{ name: 'web', port: 80 }] }] });
    new HttpRoute(chart, 'h2', { metadata: { name: 'h2', namespace: 'team-a' }, parents: [ls.listener('web')], rules: [{ backends: [{ name: 'web', port: 80 }] }] });
    new TlsRoute(chart, 't', { metadata: { name: 't', namespace: 'team-a' }, parents: [ls.port(443)], hostnames: ['db.a.example.com'], backends: [{ name: 'db', port: 5432 }] });
  });
  const parents = (name: string) => (objects.find((o) => o.metadata.name === name)!.spec as { parentRefs: unknown[] }).parentRefs;
  assert.deepStrictEqual(parents('h'), [{ group: 'gateway.networking.k8s.io', kind: 'ListenerSet', name: 'apps' }]);
  assert.deepStrictEqual(parents('h2'), [{ group: 'gateway.networking.k8s.io', kind: 'ListenerSet', name: 'apps', sectionName: 'web' }]);
  assert.deepStrictEqual(parents('t'), [{ group: 'gateway.networking.k8s.io', kind: 'ListenerSet', name: 'apps', port: 443 }]);

  const error = synthError((chart) => {
    const ls = new ListenerSet(chart, 'ls', { metadata: { name: 'apps', namespace: 'team-a' }, parent: { name: 'shared', namespace: 'platform' }, listeners: [https('web', 'a.example.com')] });
    new HttpRoute(chart, 'h', { metadata: { name: 'h', namespace: 'team-b' }, parents: [ls.listener('nope'), { kind: 'ListenerSet', name: 'apps', namespace: 'team-a' }], rules: [{ backends: [{ name: 'web', port: 80 }] }] });
  });
  assert.match(error, /ListenerSet "team-a\/apps" has no listener named "nope"/);
  assert.match(error, /do not admit routes from namespace "team-b"/);
});

function snapshotOf(objects: KubeObject[]): Snapshot {
  const snapshot = emptySnapshot();
  const warnings: string[] = [];
  objects.forEach((o, i) => addDocument(snapshot, warnings, structuredClone(o), { file: 'synth', document: i }));
  return snapshot;
}

test('the example app (platform chart and two team charts) translates to attached ListenerSets and routes', () => {
  const app = new App();
  const ca = issueCertificate({ commonName: 'ca', organization: 'test', dnsNames: [], isCA: true, validDays: 2 });
  const cert = (name: string) => issueCertificate({ commonName: name, organization: 'test', dnsNames: [name], isCA: false, validDays: 2, issuer: ca });
  const endpoint = { address: '127.0.0.1', port: 8080 };
  const { gateway } = platformChart(app, { port: 443, certificate: cert('www.example.com'), siteEndpoint: endpoint });
  teamChart(app, { team: 'team-a', gateway, port: 443, hostname: 'a.example.com', certificate: cert('a.example.com'), webEndpoint: endpoint, passthrough: { hostname: 'db.a.example.com', endpoint } });
  teamChart(app, { team: 'team-b', gateway, port: 443, hostname: 'b.example.com', certificate: cert('b.example.com'), webEndpoint: endpoint });
  const objects = app.charts.flatMap((c) => c.toJson() as KubeObject[]);
  for (const o of objects.filter((x) => x.apiVersion.startsWith('gateway.networking.k8s.io'))) assert.deepStrictEqual(schemaErrors(o), [], `${o.kind} ${o.metadata.name}`);

  const out = translate({ snapshot: snapshotOf(objects), now: new Date() });
  assert.equal(out.gateways[0]!.status.attachedListenerSets, 2);
  for (const ls of out.listenerSets) {
    const accepted = ls.status.conditions!.find((c) => c.type === 'Accepted')!;
    assert.equal(accepted.reason, 'Accepted', `${ls.namespace}/${ls.name}: ${accepted.message}`);
  }
  for (const route of [...out.httpRoutes, ...out.tlsRoutes]) {
    for (const p of route.status.parents) assert.equal(p.conditions.find((c) => c.type === 'Accepted')!.status, 'True', `${route.namespace}/${route.name}`);
  }
  const served = out.proxyConfigs[0]!.ports.find((p) => p.port === 443)!.listeners.map((l) => [l.name, l.hostname]);
  assert.deepStrictEqual(served, [
    ['team-a/listeners/web', 'a.example.com'],
    ['team-b/listeners/web', 'b.example.com'],
    ['team-a/listeners/tls', 'db.a.example.com'],
    ['www', 'www.example.com'],
  ]);
});
