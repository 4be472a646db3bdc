// `tlsgate translate` end to end: spawns the built CLI (node bin/tlsgate.js, after
// `npm run build`) on real files and checks stdout, stderr and the exit code.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { fromRoot } from '../../helpers/paths.js';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function tlsgate(...args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fromRoot('bin', 'tlsgate.js'), ...args], { cwd: fromRoot(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const example = fromRoot('examples', 'upstream');
const NOW = ['--now', '2027-01-01T00:00:00Z'];
let dir: string;

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'tlsgate-cli-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('prints every object with status, then the proxy config with keys redacted', async () => {
  const run = await tlsgate('translate', '-f', example, ...NOW);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stderr, '');
  const docs = parseAllDocuments(run.stdout).map((d) => d.toJS() as { kind: string; metadata: { name: string }; status?: any; spec: any });
  assert.deepEqual(
    docs.map((d) => `${d.kind}/${d.metadata.name}`),
    ['GatewayClass/example-gateway-class', 'Gateway/example-gateway', 'TLSRoute/bar-route', 'TLSRoute/foo-route', 'ProxyConfig/example-gateway'],
  );
  const gateway = docs[1]!;
  assert.equal(gateway.status.conditions.find((c: any) => c.type === 'Accepted').status, 'True');
  for (const route of docs.slice(2, 4)) {
    for (const c of route.status.parents[0].conditions) assert.equal(c.status, 'True', `${route.metadata.name} ${c.type}`);
  }
  const cert = docs[4]!.spec.ports.find((p: any) => p.port === 8443).listeners[0].certificates[0];
  assert.equal(cert.privateKeyPem, '<redacted>');
  assert.doesNotMatch(run.stdout, /PRIVATE KEY/);
});

test('-o json prints a kubectl List; --show-secrets keeps the keys', async () => {
  const run = await tlsgate('translate', '-f', path.join(example, 'gateway-class.yaml'), path.join(example, 'gateway.yaml'), path.join(example, 'tls-terminate-certificate.yaml'), '-o', 'json', '--show-secrets', ...NOW);
  assert.equal(run.code, 0, run.stderr);
  const list = JSON.parse(run.stdout) as { apiVersion: string; kind: string; items: any[] };
  assert.equal(list.apiVersion, 'v1');
  assert.equal(list.kind, 'List');
  assert.deepEqual(list.items.map((i) => i.kind), ['GatewayClass', 'Gateway', 'ProxyConfig']);
  const cert = list.items[2].spec.ports.find((p: any) => p.port === 8443).listeners[0].certificates[0];
  assert.match(cert.privateKeyPem, /-----BEGIN PRIVATE KEY-----/);
});

test('kinds translate does not use are ignored with a warning on stderr', async () => {
  const p = path.join(dir, 'with-deployment.yaml');
  await writeFile(p, 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n');
  const run = await tlsgate('translate', '-f', example, p, ...NOW);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stderr, /^warning: .*with-deployment\.yaml, document 0: apps\/v1 Deployment web: kind not used by translate, ignored\n$/);
});

test('invalid input exits 1 with an error naming file, document and field, and prints nothing', async () => {
  const p = path.join(dir, 'invalid.yaml');
  await writeFile(p, 'apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: g}\nspec: {listeners: []}\n');
  const run = await tlsgate('translate', '-f', p);
  assert.equal(run.code, 1);
  assert.equal(run.stdout, '');
  assert.match(run.stderr, /invalid\.yaml, document 1, field spec\.gatewayClassName: is required/);
});

test('a missing file and a bad --now are errors with exit code 1', async () => {
  const missing = await tlsgate('translate', '-f', path.join(dir, 'nope.yaml'));
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /nope\.yaml: cannot read: ENOENT/);
  const badNow = await tlsgate('translate', '-f', example, '--now', 'yesterday');
  assert.equal(badNow.code, 1);
  assert.match(badNow.stderr, /--now: "yesterday" is not an ISO 8601 date/);
});

test('-f is required and -o accepts only yaml or json', async () => {
  const noFile = await tlsgate('translate');
  assert.notEqual(noFile.code, 0);
  assert.match(noFile.stderr, /required option '-f, --file <path\.\.\.>'/);
  const badFormat = await tlsgate('translate', '-f', example, '-o', 'xml');
  assert.notEqual(badFormat.code, 0);
  assert.match(badFormat.stderr, /xml/);
});

test('prints HTTPRoutes with their computed status after the TLSRoutes', async () => {
  const manifest = path.join(dir, 'http.yaml');
  await writeFile(
    manifest,
    `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: c}
spec: {controllerName: tlsgate.dev/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw}
spec:
  gatewayClassName: c
  listeners: [{name: http, protocol: HTTP, port: 80}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web}
spec:
  parentRefs: [{name: gw}]
  rules: [{backendRefs: [{name: missing, port: 80}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: elsewhere}
spec:
  parentRefs: [{name: gw, sectionName: https}]
`,
  );
  const run = await tlsgate('translate', '-f', manifest, ...NOW);
  assert.equal(run.code, 0, run.stderr);
  const docs = parseAllDocuments(run.stdout).map((d) => d.toJS() as { kind: string; metadata: { name: string }; status?: any });
  assert.deepEqual(
    docs.map((d) => `${d.kind}/${d.metadata.name}`),
    ['GatewayClass/c', 'Gateway/gw', 'HTTPRoute/elsewhere', 'HTTPRoute/web', 'ProxyConfig/gw'],
  );
  const reasons = (doc: (typeof docs)[number]) => doc.status.parents[0].conditions.map((c: any) => `${c.type}=${c.status}/${c.reason}`);
  assert.deepEqual(reasons(docs[2]!), ['Accepted=False/NoMatchingParent', 'ResolvedRefs=True/ResolvedRefs']);
  assert.deepEqual(reasons(docs[3]!), ['Accepted=True/Accepted', 'ResolvedRefs=False/BackendNotFound']);
});
