// One test per GatewayClass CRD rule: the synth fails and the message names the construct
// path, the field and the rule.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayClass, type GatewayClassProps, validateGatewayClassSpec } from '../../../src/constructs/index.js';
import { synth, synthError } from './helpers.js';

function classError(props: GatewayClassProps): string {
  return synthError((chart) => new GatewayClass(chart, 'cls', props));
}

function assertReports(error: string, ...parts: string[]): void {
  for (const part of parts) assert.ok(error.includes(part), `expected ${JSON.stringify(part)} in:\n${error}`);
}

test('a valid GatewayClass defaults controllerName to tlsgate and synthesizes without namespace', () => {
  const [obj] = synth((chart) => new GatewayClass(chart, 'cls', { metadata: { name: 'tlsgate' } }), { namespace: 'ignored', disableResourceNameHashes: true });
  assert.deepStrictEqual(obj, {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'GatewayClass',
    metadata: { name: 'tlsgate' },
    spec: { controllerName: 'tlsgate.dev/gateway-controller' },
  });
});

const cases: [string, GatewayClassProps, string[]][] = [
  ['controllerName must be a domain-prefixed path', { controllerName: 'no-slash' }, ['spec.controllerName', '"no-slash" must be a domain-prefixed path']],
  ['controllerName at most 253 characters', { controllerName: `example.com/${'a'.repeat(250)}` }, ['spec.controllerName', 'must have at most 253 characters']],
  ['description at most 64 characters', { description: 'd'.repeat(65) }, ['spec.description', 'must have at most 64 characters, got 65']],
  ['parametersRef.kind must be a Kind name', { parametersRef: { group: 'example.com', kind: '9lives', name: 'p' } }, ['spec.parametersRef.kind', '"9lives" must be a Kind name']],
  ['parametersRef.group must be empty or a subdomain', { parametersRef: { group: 'Example.com', kind: 'P', name: 'p' } }, ['spec.parametersRef.group', 'must be empty or an RFC 1123 subdomain']],
  ['parametersRef.name must not be empty', { parametersRef: { group: '', kind: 'P', name: '' } }, ['spec.parametersRef.name', 'must have at least 1 character']],
  ['parametersRef.namespace must be an RFC 1123 label', { parametersRef: { group: '', kind: 'P', name: 'p', namespace: 'a.b' } }, ['spec.parametersRef.namespace', 'must be an RFC 1123 label']],
];

for (const [rule, props, expected] of cases) {
  test(`GatewayClass: ${rule}`, () => assertReports(classError(props), '[test/cls]', ...expected, 'Fix:'));
}

test('GatewayClass: controllerName is required (validator on a raw spec)', () => {
  const issues = validateGatewayClassSpec({} as never);
  assert.deepStrictEqual(issues.map((i) => [i.field, i.message]), [['spec.controllerName', 'Required value']]);
});

test('GatewayClass: parametersRef group, kind and name are required (validator on a raw spec)', () => {
  const issues = validateGatewayClassSpec({ controllerName: 'a.io/b', parametersRef: {} } as never);
  assert.deepStrictEqual(issues.map((i) => i.field), ['spec.parametersRef.group', 'spec.parametersRef.kind', 'spec.parametersRef.name']);
});
