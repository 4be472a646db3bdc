// loadManifests refuses what the API server would refuse (issue 17 defect 6): the CRD schema
// and CEL rules (the constructs' one implementation) and two objects of one kind, namespace and
// name. A refused object is left out of the snapshot, every violation names the file, the
// document, the object and the field, and the rest loads; `tlsgate translate` exits 1.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { loadManifests } from '../../../src/manifests/load.js';
import { fromRoot } from '../../helpers/paths.js';

const exec = promisify(execFile);

let dir: string;
before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'tlsgate-admission-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, docs: object[]): Promise<string> {
  const p = path.join(dir, name);
  await writeFile(p, docs.map((d) => stringify(d)).join('---\n'));
  return p;
}

const GROUP = 'gateway.networking.k8s.io/v1';
const passthrough = (name: string, port: number, hostname?: string) => ({ name, protocol: 'TLS', port, ...(hostname !== undefined ? { hostname } : {}), tls: { mode: 'Passthrough' } });
const gateway = (name: string, listeners: object[]) => ({
  apiVersion: GROUP,
  kind: 'Gateway',
  metadata: { name, namespace: 'default' },
  spec: { gatewayClassName: 'tlsgate', listeners },
});
const route = (name: string, parent: string) => ({
  apiVersion: GROUP,
  kind: 'TLSRoute',
  metadata: { name, namespace: 'default' },
  spec: { parentRefs: [{ name: parent }], hostnames: ['a.example.com'], rules: [{ backendRefs: [{ name: 'svc', port: 443 }] }] },
});

test('every CRD rule the issue names refuses the Gateway, naming file, document, object and field; the rest loads', async () => {
  const p = await file('gateways.yaml', [
    gateway('good', [passthrough('tls', 443)]),
    gateway('duplicate-listeners', [passthrough('tls', 443), passthrough('tls', 8443)]),
    gateway('ports', [passthrough('zero', 0), passthrough('negative', -1), passthrough('too-big', 70000)]),
    gateway('hostnames', [passthrough('space', 443, 'bad host!'), passthrough('wildcards', 8443, '*.*.test')]),
    route('to-good', 'good'),
  ]);
  const { snapshot, warnings, rejected } = await loadManifests([p]);
  assert.deepEqual(snapshot.gateways.map((g) => g.metadata.name), ['good']);
  assert.equal(snapshot.tlsRoutes.length, 1, 'objects that break no rule load');
  assert.deepEqual(
    rejected.map((r) => [r.document, r.object]),
    [
      [1, 'Gateway default/duplicate-listeners'],
      [2, 'Gateway default/ports'],
      [3, 'Gateway default/hostnames'],
    ],
  );
  const fieldsOf = (document: number) => rejected.find((r) => r.document === document)!.problems.map((x) => x.field);
  assert.deepEqual(fieldsOf(1), ['spec.listeners[1]']);
  assert.deepEqual(
    fieldsOf(2).filter((f) => f.endsWith('.port')),
    ['spec.listeners[0].port', 'spec.listeners[1].port', 'spec.listeners[2].port'],
  );
  assert.deepEqual(
    fieldsOf(3).filter((f) => f.endsWith('.hostname')),
    ['spec.listeners[0].hostname', 'spec.listeners[1].hostname'],
  );
  // Each violation is a line that says where, what and why.
  const line = warnings.find((w) => w.includes('duplicate-listeners'));
  assert.equal(
    line,
    `${p}, document 1: Gateway default/duplicate-listeners is refused (the API server would refuse it) and not served: spec.listeners[1]: Listener name must be unique within the Gateway (name "tls" is also listener 0)`,
  );
  assert.ok(warnings.some((w) => w.startsWith(`${p}, document 2: Gateway default/ports is refused`) && w.includes('spec.listeners[2].port: must be between 1 and 65535, got 70000')));
});

test('an IP address as listener hostname passes the CRD rules (the API server accepts it) and is a warning naming the field', async () => {
  const p = await file('ip.yaml', [gateway('ip', [passthrough('tls', 443, '127.0.0.1')])]);
  const { snapshot, warnings, rejected } = await loadManifests([p]);
  assert.equal(snapshot.gateways.length, 1);
  assert.deepEqual(rejected, []);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, new RegExp(`^${p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}, document 0: Gateway default/ip: spec\\.listeners\\[0\\]\\.hostname: .*IP address`));
});

test('two objects of one kind, namespace and name are both refused, each naming the other; other kinds of that name are not', async () => {
  const a = await file('a.yaml', [gateway('same', [passthrough('tls', 443)])]);
  const b = await file('b.yaml', [route('same', 'same'), gateway('same', [passthrough('tls', 8443)])]);
  const { snapshot, warnings, rejected } = await loadManifests([a, b]);
  assert.equal(snapshot.gateways.length, 0);
  assert.equal(snapshot.tlsRoutes.length, 1, 'a TLSRoute of the same name is another object');
  assert.deepEqual(
    rejected.map((r) => `${path.basename(r.file)}#${r.document} ${r.object}`),
    ['a.yaml#0 Gateway default/same', 'b.yaml#1 Gateway default/same'],
  );
  assert.ok(warnings.some((w) => w.startsWith(`${a}, document 0: Gateway default/same is refused`) && w.includes(`defined 2 times (also at ${b}, document 1)`)));
});

test('a ListenerSet is checked with its CRD rules: a duplicate listener name refuses it, naming the field', async () => {
  const set = (name: string, listeners: object[]) => ({
    apiVersion: GROUP,
    kind: 'ListenerSet',
    metadata: { name, namespace: 'default' },
    spec: { parentRef: { name: 'shared' }, listeners },
  });
  const p = await file('sets.yaml', [gateway('shared', [passthrough('tls', 443)]), set('fine', [passthrough('a', 443, 'a.example.com')]), set('twice', [passthrough('a', 443, 'a.example.com'), passthrough('a', 443, 'b.example.com')])]);
  const { snapshot, rejected } = await loadManifests([p]);
  assert.deepEqual((snapshot.listenerSets ?? []).map((s) => s.metadata.name), ['fine']);
  assert.deepEqual(rejected.map((r) => [r.object, r.problems.map((x) => x.field)]), [['ListenerSet default/twice', ['spec.listeners[1]']]]);
});

test('objects in a kubectl List are named with their item path', async () => {
  const p = await file('list.yaml', [{ apiVersion: 'v1', kind: 'List', items: [gateway('fine', [passthrough('tls', 443)]), gateway('bad', [passthrough('tls', 0)])] }]);
  const { snapshot, rejected, warnings } = await loadManifests([p]);
  assert.deepEqual(snapshot.gateways.map((g) => g.metadata.name), ['fine']);
  assert.equal(rejected[0]!.itemPath, 'items[1]');
  assert.deepEqual(rejected[0]!.problems.map((x) => x.field), ['items[1].spec.listeners[0].port']);
  assert.match(warnings.join('\n'), /list\.yaml, document 0, items\[1\]: Gateway default\/bad is refused .*: items\[1\]\.spec\.listeners\[0\]\.port: must be between 1 and 65535, got 0/);
});

test('a TLSRoute v1alpha2 may have several rules and no hostnames (its schema allows them); v1 may not', async () => {
  const spec = { parentRefs: [{ name: 'g' }], rules: [{ backendRefs: [{ name: 'a', port: 1 }] }, { backendRefs: [{ name: 'b', port: 1 }] }] };
  const p = await file('legacy.yaml', [
    { apiVersion: 'gateway.networking.k8s.io/v1alpha2', kind: 'TLSRoute', metadata: { name: 'legacy' }, spec },
    { apiVersion: GROUP, kind: 'TLSRoute', metadata: { name: 'current' }, spec },
  ]);
  const { snapshot, rejected } = await loadManifests([p]);
  assert.deepEqual(snapshot.tlsRoutes.map((r) => r.metadata.name), ['legacy']);
  assert.deepEqual(rejected.map((r) => r.object), ['TLSRoute default/current']);
  assert.deepEqual(rejected[0]!.problems.map((x) => x.field).sort(), ['spec.hostnames', 'spec.rules']);
});

test('the examples load with nothing refused', async () => {
  for (const example of ['upstream', 'upstream-http/http-routing', 'upstream-http/simple-http-https', 'demo']) {
    const { rejected } = await loadManifests([fromRoot('examples', ...example.split('/'))]);
    assert.deepEqual(rejected, [], example);
  }
});

test('tlsgate translate prints the rest and exits 1 when an object is refused, 0 otherwise', async () => {
  const bin = fromRoot('bin', 'tlsgate.js');
  const bad = await file('cli-bad.yaml', [gateway('good', [passthrough('tls', 443)]), gateway('bad', [passthrough('tls', 70000)])]);
  const failed = await exec(process.execPath, [bin, 'translate', '-f', bad]).then(
    () => assert.fail('translate exited 0'),
    (err: { code: number; stdout: string; stderr: string }) => err,
  );
  assert.equal(failed.code, 1);
  assert.match(failed.stderr, /cli-bad\.yaml, document 1: Gateway default\/bad is refused .*spec\.listeners\[0\]\.port: must be between 1 and 65535, got 70000/);
  assert.match(failed.stdout, /name: good/);
  assert.doesNotMatch(failed.stdout, /name: bad/);
  const good = await file('cli-good.yaml', [gateway('good', [passthrough('tls', 443)])]);
  const ok = await exec(process.execPath, [bin, 'translate', '-f', good]);
  assert.match(ok.stdout, /name: good/);
});
