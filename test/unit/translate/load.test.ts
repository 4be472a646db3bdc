// loadManifests: files and directories, multi-document YAML, JSON, kubectl Lists, legacy
// TLSRoute versions, warnings for unused kinds, and errors that name file, document, field.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadManifests, ManifestError } from '../../../src/manifests/load.js';
import { fromRoot } from '../../helpers/paths.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'tlsgate-load-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, text: string): Promise<string> {
  const p = path.join(dir, name);
  await mkdir(path.dirname(p), { recursive: true });
  await writeFile(p, text);
  return p;
}

test('reads multi-document YAML, defaults namespaces, warns about unused kinds', async () => {
  const p = await file(
    'multi.yaml',
    `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: c}
spec: {controllerName: tlsgate.dev/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: TLSRoute
metadata: {name: legacy}
spec: {hostnames: [a.example.com], rules: [{backendRefs: [{name: s, port: 1}]}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: d}
---
`,
  );
  const { snapshot, warnings } = await loadManifests([p]);
  assert.equal(snapshot.gatewayClasses.length, 1);
  assert.equal(snapshot.tlsRoutes.length, 1);
  assert.equal(snapshot.tlsRoutes[0]!.metadata.namespace, 'default');
  assert.equal(snapshot.gatewayClasses[0]!.metadata.namespace, undefined, 'cluster-scoped kinds get no namespace');
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /multi\.yaml, document 2: apps\/v1 Deployment d: kind not used by translate, ignored/);
});

test('reads JSON and kubectl Lists, and directories recursively in sorted order', async () => {
  const sub = path.join(dir, 'tree');
  await file(
    'tree/b/list.json',
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'List',
      items: [
        { apiVersion: 'v1', kind: 'Service', metadata: { name: 'svc', namespace: 'n' }, spec: { ports: [{ port: 443 }] } },
        { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'n' } },
      ],
    }),
  );
  await file('tree/a.yml', 'apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: n}\ntype: Opaque\n');
  await file('tree/notes.txt', 'not a manifest');
  const { snapshot, warnings } = await loadManifests([sub]);
  assert.deepEqual(warnings, []);
  assert.equal(snapshot.services[0]!.metadata.name, 'svc');
  assert.equal(snapshot.namespaces[0]!.metadata.name, 'n');
  assert.equal(snapshot.secrets[0]!.metadata.name, 's');
});

test('a field of the wrong type is an error naming file, document and field', async () => {
  const p = await file(
    'bad-port.yaml',
    `apiVersion: v1
kind: Namespace
metadata: {name: ok}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: g}
spec:
  gatewayClassName: c
  listeners:
  - {name: tls, protocol: TLS, port: "443"}
`,
  );
  await assert.rejects(loadManifests([p]), (err: unknown) => {
    assert.ok(err instanceof ManifestError);
    assert.equal(err.documentIndex, 1);
    assert.equal(err.field, 'spec.listeners[0].port');
    assert.match(err.message, /bad-port\.yaml, document 1, field spec\.listeners\[0\]\.port: is required and must be an integer/);
    return true;
  });
});

test('fields inside a List item are named with their item path', async () => {
  const p = await file(
    'bad-list.yaml',
    `apiVersion: v1
kind: List
items:
- apiVersion: gateway.networking.k8s.io/v1
  kind: TLSRoute
  metadata: {name: r}
  spec:
    hostnames: [a.example.com]
    rules: [{backendRefs: [{port: 443}]}]
`,
  );
  await assert.rejects(loadManifests([p]), /bad-list\.yaml, document 0, field items\[0\]\.spec\.rules\[0\]\.backendRefs\[0\]\.name: is required/);
});

test('invalid YAML, a missing kind and a missing file are clear errors', async () => {
  await assert.rejects(loadManifests([await file('broken.yaml', 'kind: [unclosed\n')]), /broken\.yaml, document 0: invalid YAML\/JSON/);
  await assert.rejects(loadManifests([await file('nokind.yaml', 'apiVersion: v1\nmetadata: {name: x}\n')]), /nokind\.yaml, document 0, field kind: is required/);
  await assert.rejects(loadManifests([path.join(dir, 'missing.yaml')]), /missing\.yaml: cannot read: ENOENT/);
  await assert.rejects(loadManifests([await file('scalar.yaml', '42\n')]), /scalar\.yaml, document 0: expected a Kubernetes object/);
});

test('an unsupported apiVersion of a known kind is skipped with a warning', async () => {
  const p = await file('old.yaml', 'apiVersion: gateway.networking.k8s.io/v1alpha1\nkind: Gateway\nmetadata: {name: g}\n');
  const { snapshot, warnings } = await loadManifests([p]);
  assert.equal(snapshot.gateways.length, 0);
  assert.match(warnings[0]!, /apiVersion not supported \(use gateway\.networking\.k8s\.io\/v1\), ignored/);
});

test('the upstream example loads without warnings', async () => {
  const { snapshot, warnings } = await loadManifests([fromRoot('examples', 'upstream')]);
  assert.deepEqual(warnings, []);
  assert.equal(snapshot.gateways.length, 1);
  assert.equal(snapshot.tlsRoutes.length, 2);
  assert.equal(snapshot.secrets.length, 1);
});

test('reads HTTPRoutes (v1 and v1beta1) and names the field of a malformed one', async () => {
  const good = await file(
    'http.yaml',
    `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web}
spec:
  parentRefs: [{name: gw, sectionName: http}]
  hostnames: [web.example.com]
  rules:
  - matches: [{path: {type: PathPrefix, value: /api}, headers: [{name: x-env, value: prod}], method: GET}]
    filters: [{type: RequestHeaderModifier, requestHeaderModifier: {set: [{name: x-a, value: b}], remove: [x-c]}}]
    backendRefs: [{name: api, port: 8080, weight: 3, filters: [{type: URLRewrite, urlRewrite: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /}}}]}]
    timeouts: {request: 10s}
---
apiVersion: gateway.networking.k8s.io/v1beta1
kind: HTTPRoute
metadata: {name: old, namespace: team}
spec: {}
`,
  );
  const { snapshot, warnings } = await loadManifests([good]);
  assert.deepEqual(warnings, []);
  assert.deepEqual(snapshot.httpRoutes.map((r) => `${r.metadata.namespace}/${r.metadata.name}`), ['default/web', 'team/old']);
  assert.equal(snapshot.httpRoutes[0]!.spec.rules![0]!.backendRefs![0]!.weight, 3);

  const bad = await file(
    'http-bad.yaml',
    `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web}
spec:
  rules:
  - filters: [{type: RequestRedirect, requestRedirect: {statusCode: "301"}}]
`,
  );
  await assert.rejects(loadManifests([bad]), (err: unknown) => {
    assert.ok(err instanceof ManifestError);
    assert.match(err.message, /http-bad\.yaml, document 0, field spec\.rules\[0\]\.filters\[0\]\.requestRedirect\.statusCode: must be an integer/);
    return true;
  });
});
