// The example apps synthesize to exactly the expected objects: the upstream TLS routing
// and HTTP routing examples (compared with the upstream YAML as data) and the
// shared-gateway app (compared with its reviewed golden file).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { App } from 'cdk8s';
import { parseAllDocuments } from 'yaml';
import type { Chart } from 'cdk8s';
import type { Construct } from 'constructs';
import { httpRoutingChart } from '../../../examples/app/http-routing.js';
import { simpleHttpHttpsChart } from '../../../examples/app/simple-http-https.js';
import { tlsRoutingChart } from '../../../examples/app/tls-routing.js';
import { sharedGatewayChart } from '../../../examples/app/shared-gateway.js';
import { fromRoot, upstreamDir } from '../../helpers/paths.js';
import { byKindAndName, type KubeObject } from './helpers.js';

function readYamlObjects(file: string): KubeObject[] {
  return parseAllDocuments(readFileSync(file, 'utf8'))
    .map((d) => d.toJS() as KubeObject | null)
    .filter((o): o is KubeObject => o !== null);
}

test('the tls-routing example equals the upstream v1.6.1 TLS routing example as data', () => {
  const app = new App();
  const synthesized = tlsRoutingChart(app).toJson() as KubeObject[];
  const examplesDir = path.join(upstreamDir, 'examples');
  const upstream = readdirSync(examplesDir)
    .filter((f) => f.endsWith('.yaml'))
    .flatMap((f) => readYamlObjects(path.join(examplesDir, f)));
  assert.equal(upstream.length, 3, 'the upstream example is one Gateway and two TLSRoutes');
  assert.deepStrictEqual(byKindAndName(synthesized), byKindAndName(upstream));
});

const upstreamHttpExamples: [string, (scope: Construct) => Chart, string[]][] = [
  ['http-routing', httpRoutingChart, ['Gateway/example-gateway', 'HTTPRoute/bar-route', 'HTTPRoute/example-route', 'HTTPRoute/foo-route']],
  ['simple-http-https', simpleHttpHttpsChart, ['Gateway/example-gateway', 'HTTPRoute/bar', 'HTTPRoute/foo', 'HTTPRoute/tls-redirect']],
];

for (const [name, chart, expected] of upstreamHttpExamples) {
  test(`the ${name} example equals the upstream v1.6.1 ${name} example as data, without labels or annotations`, () => {
    const synthesized = chart(new App()).toJson() as KubeObject[];
    const dir = fromRoot('examples', 'upstream-http', name);
    const upstream = readdirSync(dir).filter((f) => f.endsWith('.yaml')).flatMap((f) => readYamlObjects(path.join(dir, f)));
    assert.deepStrictEqual(byKindAndName(upstream).map((o) => `${o.kind}/${o.metadata.name}`), expected, 'the upstream files hold what the example promises');
    assert.deepStrictEqual(byKindAndName(synthesized), byKindAndName(upstream));
  });
}

test('the tls-routing example carries no labels or annotations', () => {
  const app = new App();
  for (const obj of tlsRoutingChart(app).toJson() as KubeObject[]) {
    assert.deepStrictEqual(Object.keys(obj.metadata), ['name'], `${obj.kind}/${obj.metadata.name} metadata`);
  }
});

test('the shared-gateway example equals its golden file', () => {
  const app = new App();
  const synthesized = sharedGatewayChart(app).toJson() as KubeObject[];
  const golden = readYamlObjects(fromRoot('test', 'unit', 'constructs', 'golden', 'shared-gateway.yaml'));
  assert.deepStrictEqual(byKindAndName(synthesized), byKindAndName(golden));
});

test('the shared-gateway example has the parts it promises', () => {
  const app = new App();
  const objects = sharedGatewayChart(app).toJson() as KubeObject[];
  const find = (kind: string, name: string): KubeObject => {
    const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
    assert.ok(found, `${kind}/${name} is synthesized`);
    return found;
  };
  const gateway = find('Gateway', 'shared') as KubeObject & { spec: { listeners: { port: number; hostname?: string; tls: { mode: string }; allowedRoutes: { namespaces: { from: string } } }[] } };
  const listeners = gateway.spec.listeners;
  assert.deepStrictEqual(new Set(listeners.map((l) => `${l.port}/${l.tls.mode}`)), new Set(['443/Passthrough', '443/Terminate']), 'a Mixed pair on 443');
  assert.ok(listeners.some((l) => l.hostname?.startsWith('*.')), 'a wildcard listener');
  assert.ok(listeners.every((l) => l.allowedRoutes.namespaces.from === 'Selector'), 'routes admitted by namespace selector');
  const routes = objects.filter((o) => o.kind === 'TLSRoute');
  assert.deepStrictEqual(new Set(routes.map((r) => r.metadata.namespace)), new Set(['team-a', 'team-b']), 'two teams in two namespaces');
  const billing = find('TLSRoute', 'billing') as KubeObject & { spec: { rules: { backendRefs: { weight?: number }[] }[] } };
  assert.deepStrictEqual(billing.spec.rules[0]!.backendRefs.map((b) => b.weight), [90, 10], 'weighted backends');
  const grant = objects.find((o) => o.kind === 'ReferenceGrant');
  assert.ok(grant, 'a generated ReferenceGrant');
  assert.equal(grant.metadata.namespace, 'data', 'the grant lives in the backend namespace');
});
