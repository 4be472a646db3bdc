// Focused translate behaviour that goldens show but do not isolate: purity and
// determinism, versions as content hashes, key material kept out of status, one broken
// Secret not touching its neighbours, lastTransitionTime semantics, certificate expiry.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { translate, type Snapshot } from '../../../src/gatewayapi/translate.js';
import { canonicalJson, sha256Hex } from '../../../src/gatewayapi/canonical-json.js';
import { loadManifests } from '../../../src/manifests/load.js';
import { runScenario } from '../../golden/golden.js';
import { fromRoot } from '../../helpers/paths.js';

const now = new Date('2027-01-01T00:00:00Z');

async function upstream(): Promise<Snapshot> {
  return (await loadManifests([fromRoot('examples', 'upstream')])).snapshot;
}

test('translate is deterministic and does not mutate its input', async () => {
  const snapshot = await upstream();
  const before = JSON.stringify(snapshot);
  const a = translate({ snapshot, now });
  const b = translate({ snapshot: structuredClone(snapshot), now });
  assert.equal(JSON.stringify(a), JSON.stringify(b));
  assert.equal(JSON.stringify(snapshot), before);
});

/** Sorted-keys JSON written the obvious way, independent of canonical-json.ts's fast path. */
function referenceCanonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return '[' + value.map(referenceCanonical).join(',') + ']';
  const obj = value as Record<string, unknown>;
  return '{' + Object.keys(obj).sort().filter((k) => obj[k] !== undefined).map((k) => JSON.stringify(k) + ':' + referenceCanonical(obj[k])).join(',') + '}';
}

test('the proxy config version is the sha256 of the canonical config without version', () => {
  for (const scenario of ['upstream-example', 'edge-certificates', 'edge-gatewayclass-parameters', 'edge-backends-weights-endpoints']) {
    for (const config of runScenario(scenario).output.proxyConfigs) {
      const { version, ...rest } = config;
      assert.equal(version, sha256Hex(referenceCanonical(rest)), `${scenario} ${config.gateway.name}`);
      assert.equal(canonicalJson(rest), referenceCanonical(rest));
    }
  }
});

test('proxy config versions are content hashes', async () => {
  const { proxyConfigs } = translate({ snapshot: await upstream(), now });
  for (const config of proxyConfigs) {
    const { version } = config;
    assert.match(version, /^[0-9a-f]{64}$/);
  }
});

test('a route change changes only its Gateway config version', async () => {
  const snapshot = await upstream();
  const a = translate({ snapshot, now });
  const changed = structuredClone(snapshot);
  changed.tlsRoutes[0]!.spec.hostnames = ['baz.example.com'];
  const b = translate({ snapshot: changed, now });
  assert.notEqual(a.proxyConfigs[0]!.version, b.proxyConfigs[0]!.version);
  // and nothing else: same input again gives the same version.
  assert.equal(translate({ snapshot, now }).proxyConfigs[0]!.version, a.proxyConfigs[0]!.version);
});

test('every upstream example object is Accepted with resolved references', async () => {
  const out = translate({ snapshot: await upstream(), now });
  assert.equal(out.gatewayClasses[0]!.status.conditions!.find((c) => c.type === 'Accepted')!.status, 'True');
  const gw = out.gateways[0]!.status;
  assert.equal(gw.conditions!.find((c) => c.type === 'Accepted')!.reason, 'Accepted');
  for (const l of gw.listeners!) {
    assert.equal(l.attachedRoutes, 1);
    for (const type of ['Accepted', 'ResolvedRefs']) assert.equal(l.conditions.find((c) => c.type === type)!.status, 'True', `${l.name} ${type}`);
  }
  for (const r of out.tlsRoutes) {
    for (const type of ['Accepted', 'ResolvedRefs']) assert.equal(r.status.parents[0]!.conditions.find((c) => c.type === type)!.status, 'True');
  }
});

test('without runtime a Gateway is not Programmed: AddressNotAssigned', async () => {
  const out = translate({ snapshot: await upstream(), now });
  const programmed = out.gateways[0]!.status.conditions!.find((c) => c.type === 'Programmed')!;
  assert.equal(programmed.status, 'False');
  assert.equal(programmed.reason, 'AddressNotAssigned');
  assert.equal(out.gateways[0]!.status.addresses, undefined);
});

test('an ACK of an older version leaves Programmed=False/Pending with the runtime message', async () => {
  const snapshot = await upstream();
  const out = translate({
    snapshot,
    now,
    runtime: { 'default/example-gateway': { addresses: [{ type: 'IPAddress', value: '10.9.9.9' }], acknowledgedVersion: 'old', message: 'proxy NACK: boom' } },
  });
  const programmed = out.gateways[0]!.status.conditions!.find((c) => c.type === 'Programmed')!;
  assert.equal(programmed.reason, 'Pending');
  assert.match(programmed.message, /proxy NACK: boom/);
  assert.deepEqual(out.gateways[0]!.status.addresses, [{ type: 'IPAddress', value: '10.9.9.9' }]);
});

test('lastTransitionTime moves only when the status of a condition changes', async () => {
  const snapshot = await upstream();
  const first = translate({ snapshot, now });
  const later = new Date('2027-02-01T00:00:00Z');
  const withStatus = structuredClone(snapshot);
  withStatus.gateways[0]!.status = first.gateways[0]!.status;
  const second = translate({ snapshot: withStatus, now: later, runtime: { 'default/example-gateway': { addresses: [{ type: 'IPAddress', value: '10.0.0.1' }], acknowledgedVersion: first.proxyConfigs[0]!.version } } });
  const accepted = second.gateways[0]!.status.conditions!.find((c) => c.type === 'Accepted')!;
  const programmed = second.gateways[0]!.status.conditions!.find((c) => c.type === 'Programmed')!;
  assert.equal(accepted.lastTransitionTime, now.toISOString(), 'unchanged status keeps its time');
  assert.equal(programmed.status, 'True');
  assert.equal(programmed.lastTransitionTime, later.toISOString(), 'changed status takes the new time');
});

test('certificate expiry is judged against input.now, and reported relative to it', async () => {
  const snapshot = await upstream();
  const future = translate({ snapshot, now: new Date('2040-01-01T00:00:00Z') });
  const listener = future.gateways[0]!.status.listeners!.find((l) => l.name === 'tls-terminate')!;
  const refs = listener.conditions.find((c) => c.type === 'ResolvedRefs')!;
  assert.equal(refs.reason, 'InvalidCertificateRef');
  assert.match(refs.message, /expired 2036-.* \(\d+ days ago\)/);
  const config = future.proxyConfigs[0]!.ports.find((p) => p.port === 8443)!.listeners[0]!;
  assert.equal(config.reject, 'invalid certificate');
  assert.deepEqual(config.certificates, []);
  // The passthrough listener of the same Gateway is untouched.
  const passthrough = future.proxyConfigs[0]!.ports.find((p) => p.port === 443)!.listeners[0]!;
  assert.equal(passthrough.reject, undefined);
  assert.equal(passthrough.routes.length, 1);
});

test('no key material reaches any status message, even from a broken key', async () => {
  const snapshot = await upstream();
  const secret = snapshot.secrets[0]!;
  const key = secret.stringData!['tls.key']!;
  // Corrupt the key body but keep its PEM armour: the parser error must not quote it.
  secret.stringData!['tls.key'] = key.replace(/\n[A-Za-z0-9+/]{10}/, '\nAAAAAAAAAA');
  const out = translate({ snapshot, now });
  const text = JSON.stringify([out.gateways, out.tlsRoutes, out.gatewayClasses]);
  assert.doesNotMatch(text, /PRIVATE KEY|BEGIN/);
  const refs = out.gateways[0]!.status.listeners!.find((l) => l.name === 'tls-terminate')!.conditions.find((c) => c.type === 'ResolvedRefs')!;
  assert.equal(refs.reason, 'InvalidCertificateRef');
  assert.match(refs.message, /Secret default\/tls-terminate-certificate "tls.key"/);
});

test('edge scenario: a broken Secret breaks only its own listener', () => {
  const { output } = runScenario('edge-certificates');
  const neighbour = output.proxyConfigs.find((c) => c.gateway.name === 'neighbour')!;
  assert.equal(neighbour.ports[0]!.listeners[0]!.reject, undefined);
  assert.equal(neighbour.ports[0]!.listeners[0]!.certificates.length, 1);
  const certs = output.proxyConfigs.find((c) => c.gateway.name === 'certificates')!;
  const rejected = certs.ports.flatMap((p) => p.listeners).filter((l) => l.reject).map((l) => l.name).sort();
  assert.deepEqual(rejected, ['chain-broken', 'chain-expired-ca', 'expired', 'mismatch', 'no-refs', 'opaque']);
  const served = certs.ports.flatMap((p) => p.listeners).filter((l) => !l.reject);
  assert.deepEqual(served.map((l) => [l.name, l.certificates.map((c) => c.keyType)]).sort(), [
    ['chain-ok', ['EC']],
    ['cross-namespace', ['EC']],
    ['good', ['RSA']],
    ['two-certs', ['RSA', 'EC']],
  ]);
});

test('chains must link and every member must be valid at now', () => {
  const { output } = runScenario('edge-certificates');
  const listeners = output.gateways.find((g) => g.name === 'certificates')!.status.listeners!;
  const refs = (name: string) => listeners.find((l) => l.name === name)!.conditions.find((c) => c.type === 'ResolvedRefs')!;
  assert.match(refs('chain-broken').message, /certificate #2 did not issue certificate #1/);
  assert.equal(refs('chain-ok').status, 'True');
  const chain = output.proxyConfigs.find((c) => c.gateway.name === 'certificates')!.ports.flatMap((p) => p.listeners).find((l) => l.name === 'chain-ok')!;
  assert.equal(chain.certificates[0]!.certificatePem.match(/BEGIN CERTIFICATE/g)!.length, 2, 'the whole chain is served');
  assert.match(refs('chain-expired-ca').message, /certificate #2 of the chain expired 2026-/);
});

test('edge scenario: weights keep invalid shares so rejection respects weight', () => {
  const { output } = runScenario('edge-backends-weights-endpoints');
  const routes = output.proxyConfigs[0]!.ports[0]!.listeners[0]!.routes;
  const weighted = routes.find((r) => r.name === 'weighted')!;
  assert.deepEqual(
    weighted.backends.map((b) => [b.weight, b.reject !== undefined]),
    [
      [80, false],
      [20, true],
      [0, false],
    ],
  );
});

test('unavailablePorts: malformed entries are ignored, other Gateways untouched, and without it the full config comes back', async () => {
  const snapshot = await upstream();
  const full = translate({ snapshot, now });
  const gateway = full.gateways[0]!;
  const id = `${gateway.namespace}/${gateway.name}`;
  const ports = full.proxyConfigs[0]!.ports.map((p) => p.port);
  assert.ok(ports.length >= 2, 'the upstream example has two ports');
  const malformed = translate({
    snapshot,
    now,
    unavailablePorts: { [id]: { 0: 'zero', 70000: 'too big', [ports[0]!]: 42 as unknown as string } as Record<number, string>, 'no/such': { [ports[0]!]: 'x' } },
  });
  assert.equal(malformed.proxyConfigs[0]!.version, full.proxyConfigs[0]!.version);

  const reduced = translate({ snapshot, now, unavailablePorts: { [id]: { [ports[0]!]: 'cannot listen on 0.0.0.0:443: EACCES' } } });
  assert.deepEqual(reduced.proxyConfigs[0]!.ports.map((p) => p.port), ports.slice(1));
  assert.notEqual(reduced.proxyConfigs[0]!.version, full.proxyConfigs[0]!.version);
  const listener = reduced.gateways[0]!.status.listeners!.find((l) => l.conditions.some((c) => c.type === 'Accepted' && c.reason === 'PortUnavailable'))!;
  assert.match(listener.conditions.find((c) => c.type === 'Accepted')!.message, new RegExp(`port ${ports[0]} is unavailable: cannot listen on 0\\.0\\.0\\.0:443: EACCES$`));
  assert.equal(listener.attachedRoutes, 0);
  assert.equal(translate({ snapshot, now }).proxyConfigs[0]!.version, full.proxyConfigs[0]!.version);
});

test('unavailablePorts on every listener: not Accepted, Programmed=False naming the ports, and still a proxy config (no ports); not when a listener is also invalid for its own reason', async () => {
  const snapshot = await upstream();
  const full = translate({ snapshot, now });
  const gateway = full.gateways[0]!;
  const id = `${gateway.namespace}/${gateway.name}`;
  const ports = full.proxyConfigs[0]!.ports.map((p) => p.port);
  const unavailablePorts = { [id]: Object.fromEntries(ports.map((port) => [port, `cannot listen on 0.0.0.0:${port}: EADDRINUSE`])) };

  const none = translate({ snapshot, now, unavailablePorts });
  const accepted = none.gateways[0]!.status.conditions!.find((c) => c.type === 'Accepted')!;
  assert.deepEqual([accepted.status, accepted.reason], ['False', 'ListenersNotValid']);
  const programmed = none.gateways[0]!.status.conditions!.find((c) => c.type === 'Programmed')!;
  assert.deepEqual([programmed.status, programmed.reason], ['False', 'Invalid']);
  assert.equal(programmed.message, `No listener is served: ${ports.map((port) => `port ${port} is unavailable: cannot listen on 0.0.0.0:${port}: EADDRINUSE`).join('; ')}`);
  assert.equal(none.proxyConfigs.length, 1, 'the Gateway keeps a proxy config');
  assert.deepEqual(none.proxyConfigs[0]!.gateway, { namespace: gateway.namespace, name: gateway.name });
  assert.deepEqual(none.proxyConfigs[0]!.ports, []);
  // A proxy that ACKed the empty config does not make it Programmed: nothing is served.
  const acked = translate({ snapshot, now, unavailablePorts, runtime: { [id]: { addresses: [{ type: 'IPAddress', value: '192.0.2.10' }], acknowledgedVersion: none.proxyConfigs[0]!.version } } });
  assert.equal(acked.gateways[0]!.status.conditions!.find((c) => c.type === 'Programmed')!.status, 'False');
  for (const route of none.tlsRoutes) {
    for (const parent of route.status.parents) assert.equal(parent.conditions.find((c) => c.type === 'Accepted')!.reason, 'NotAllowedByListeners');
  }

  // One listener made invalid for a reason of its own (no tls.mode): a free port would not make
  // the Gateway valid, so it is like any Gateway that is not Accepted: no proxy config.
  const edited = structuredClone(snapshot);
  const listener = edited.gateways[0]!.spec.listeners.find((l) => l.protocol === 'TLS')!;
  delete (listener as { tls?: unknown }).tls;
  const alsoInvalid = translate({ snapshot: edited, now, unavailablePorts });
  assert.equal(alsoInvalid.gateways[0]!.status.conditions!.find((c) => c.type === 'Accepted')!.status, 'False');
  assert.deepEqual(alsoInvalid.proxyConfigs, []);
  assert.equal(alsoInvalid.gateways[0]!.status.conditions!.find((c) => c.type === 'Programmed')!.message, 'Gateway is not Accepted; no proxy is run for it');
});
