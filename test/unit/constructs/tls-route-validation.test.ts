// One test per TLSRoute CRD rule (schema and CEL), each asserting path, field and message.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TlsRoute, type TlsRouteProps, validateTlsRouteSpec } from '../../../src/constructs/index.js';
import { synth, synthError } from './helpers.js';

const base: TlsRouteProps = { parents: [{ name: 'gw' }], hostnames: ['app.example.com'], backends: [{ name: 'svc', port: 443 }] };

function routeError(props: Partial<TlsRouteProps>): string {
  return synthError((chart) => new TlsRoute(chart, 'route', { ...base, ...props }));
}

function assertReports(error: string, ...parts: string[]): void {
  for (const part of ['[test/route]', ...parts, 'Fix:']) assert.ok(error.includes(part), `expected ${JSON.stringify(part)} in:\n${error}`);
}

const many = <T>(n: number, make: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => make(i));

test('a valid TLSRoute synthesizes exactly what was given, without defaults', () => {
  const [obj] = synth((chart) => new TlsRoute(chart, 'route', { metadata: { name: 'r' }, ...base }));
  assert.deepStrictEqual(obj, {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'TLSRoute',
    metadata: { name: 'r' },
    spec: { parentRefs: [{ name: 'gw' }], hostnames: ['app.example.com'], rules: [{ backendRefs: [{ name: 'svc', port: 443 }] }] },
  });
});

const cases: [string, Partial<TlsRouteProps>, string[]][] = [
  ['at most 32 parentRefs', { parents: many(33, (i) => ({ name: `gw${i}` })) }, ['spec.parentRefs', 'must have at most 32 parentRefs, got 33']],
  ['parentRef group pattern', { parents: [{ name: 'gw', group: 'Gateway.Networking' }] }, ['spec.parentRefs[0].group', 'must be empty or an RFC 1123 subdomain']],
  ['parentRef kind pattern', { parents: [{ name: 'gw', kind: 'Gate way' }] }, ['spec.parentRefs[0].kind', 'must be a Kind name']],
  ['parentRef name must not be empty', { parents: [{ name: '' }] }, ['spec.parentRefs[0].name', 'must have at least 1 character']],
  ['parentRef name at most 253 characters', { parents: [{ name: 'g'.repeat(254) }] }, ['spec.parentRefs[0].name', 'must have at most 253 characters']],
  ['parentRef namespace is an RFC 1123 label', { parents: [{ name: 'gw', namespace: 'infra_ns' }] }, ['spec.parentRefs[0].namespace', 'must be an RFC 1123 label']],
  ['parentRef sectionName pattern', { parents: [{ name: 'gw', sectionName: 'TLS' }] }, ['spec.parentRefs[0].sectionName', 'must be an RFC 1123 subdomain (a listener name)']],
  ['parentRef port range', { parents: [{ name: 'gw', port: 0 }] }, ['spec.parentRefs[0].port', 'must be between 1 and 65535, got 0']],
  ['CEL: sectionName must be specified for 2+ references to one parent', { parents: [{ name: 'gw' }, { name: 'gw', sectionName: 'tls' }] }, ['spec.parentRefs', 'sectionName must be specified when parentRefs includes 2 or more references to the same parent (Gateway "gw": parentRefs 0, 1)']],
  ['CEL: sectionName must be unique for 2+ references to one parent', { parents: [{ name: 'gw', sectionName: 'tls' }, { name: 'gw', sectionName: 'tls' }] }, ['spec.parentRefs[1]', 'sectionName must be unique when parentRefs includes 2 or more references to the same parent (Gateway "gw" with sectionName "tls" is also parentRefs[0])']],
  ['CEL: two references without sectionName to one parent are not unique either', { parents: [{ name: 'gw', port: 443 }, { name: 'gw', port: 8443 }] }, ['spec.parentRefs[1]', 'sectionName must be unique when parentRefs includes 2 or more references to the same parent (Gateway "gw" with no sectionName']],
  ['at least one hostname', { hostnames: [] }, ['spec.hostnames', 'must have at least 1 hostnames, got 0']],
  ['at most 1024 hostnames', { hostnames: many(1025, (i) => `h${i}.example.com`) }, ['spec.hostnames', 'must have at most 1024 hostnames, got 1025']],
  ['hostname must not be empty', { hostnames: [''] }, ['spec.hostnames[0]', 'must have at least 1 character']],
  ['hostname at most 253 characters', { hostnames: [`${'a'.repeat(60)}.`.repeat(5) + 'com'] }, ['spec.hostnames[0]', 'must have at most 253 characters']],
  ['CEL: Hostnames cannot contain an IP', { hostnames: ['192.0.2.10'] }, ['spec.hostnames[0]', 'Hostnames cannot contain an IP: "192.0.2.10"']],
  ['CEL: Hostnames must be valid based on RFC-1123', { hostnames: ['App.example.com'] }, ['spec.hostnames[0]', 'Hostnames must be valid based on RFC-1123: "App.example.com"']],
  ['CEL: Wildcards must be the first label', { hostnames: ['app.*.example.com'] }, ['spec.hostnames[0]', 'Wildcards on hostnames must be the first label, and the rest of hostname must be valid based on RFC-1123: "app.*.example.com"']],
  ['CEL: the rest of a wildcard hostname must be valid', { hostnames: ['*.Example.com'] }, ['spec.hostnames[0]', 'Wildcards on hostnames must be the first label']],
  ['rule name pattern', { ruleName: 'Main' }, ['spec.rules[0].name', '"Main" must be an RFC 1123 subdomain']],
  ['at least one backendRef', { backends: [] }, ['spec.rules[0].backendRefs', 'must have at least 1 backendRefs, got 0']],
  ['at most 16 backendRefs', { backends: many(17, (i) => ({ name: `s${i}`, port: 1 })) }, ['spec.rules[0].backendRefs', 'must have at most 16 backendRefs, got 17']],
  ['backendRef name must not be empty', { backends: [{ name: '', port: 1 }] }, ['spec.rules[0].backendRefs[0].name', 'must have at least 1 character']],
  ['backendRef name at most 253 characters', { backends: [{ name: 's'.repeat(254), port: 1 }] }, ['spec.rules[0].backendRefs[0].name', 'must have at most 253 characters']],
  ['backendRef group pattern', { backends: [{ name: 's', group: 'Multicluster', kind: 'ServiceImport' }] }, ['spec.rules[0].backendRefs[0].group', 'must be empty or an RFC 1123 subdomain']],
  ['backendRef kind pattern', { backends: [{ name: 's', port: 1, kind: 'Service/v1' }] }, ['spec.rules[0].backendRefs[0].kind', 'must be a Kind name']],
  ['backendRef namespace is an RFC 1123 label', { backends: [{ name: 's', port: 1, namespace: '-apps' }] }, ['spec.rules[0].backendRefs[0].namespace', 'must be an RFC 1123 label']],
  ['backendRef port at most 65535', { backends: [{ name: 's', port: 65536 }] }, ['spec.rules[0].backendRefs[0].port', 'must be between 1 and 65535, got 65536']],
  ['backendRef weight at least 0', { backends: [{ name: 's', port: 1, weight: -1 }] }, ['spec.rules[0].backendRefs[0].weight', 'must be between 0 and 1000000, got -1']],
  ['backendRef weight at most 1,000,000', { backends: [{ name: 's', port: 1, weight: 1_000_001 }] }, ['spec.rules[0].backendRefs[0].weight', 'must be between 0 and 1000000, got 1000001']],
  ['CEL: Must have port for Service reference', { backends: [{ name: 'svc' }] }, ['spec.rules[0].backendRefs[0]', 'Must have port for Service reference (backend "svc")']],
];

for (const [rule, props, expected] of cases) {
  test(`TLSRoute: ${rule}`, () => assertReports(routeError(props), ...expected));
}

test('TLSRoute: a backend of another kind needs no port', () => {
  const objects = synth((chart) => new TlsRoute(chart, 'route', { ...base, backends: [{ name: 'imp', group: 'multicluster.x-k8s.io', kind: 'ServiceImport' }] }));
  assert.equal(objects.length, 1);
});

test('TLSRoute: hostnames and rules are required (validator on a raw spec)', () => {
  assert.deepStrictEqual(validateTlsRouteSpec({} as never).map((i) => `${i.field}: ${i.message}`), ['spec.hostnames: Required value', 'spec.rules: Required value']);
});

test('TLSRoute: exactly one rule (validator on a raw spec)', () => {
  const rule = { backendRefs: [{ name: 's', port: 1 }] };
  for (const rules of [[], [rule, rule]]) {
    const issues = validateTlsRouteSpec({ hostnames: ['a.example.com'], rules } as never);
    assert.deepStrictEqual(issues.map((i) => `${i.field}: ${i.message}`), [`spec.rules: must have exactly 1 rule (minItems 1, maxItems 1), got ${rules.length}`]);
  }
});

test('TLSRoute: parentRef name and backendRef name are required (validator on a raw spec)', () => {
  const issues = validateTlsRouteSpec({ parentRefs: [{}], hostnames: ['a.example.com'], rules: [{ backendRefs: [{ port: 1 }] }] } as never);
  assert.deepStrictEqual(issues.map((i) => `${i.field}: ${i.message}`), ['spec.parentRefs[0].name: Required value', 'spec.rules[0].backendRefs[0].name: Required value']);
});

test('TLSRoute: parentRefs differing only by defaulted group/kind are the same parent (CEL runs after defaulting)', () => {
  const issues = validateTlsRouteSpec({
    parentRefs: [{ name: 'gw' }, { name: 'gw', group: 'gateway.networking.k8s.io', kind: 'Gateway' }],
    hostnames: ['a.example.com'],
    rules: [{ backendRefs: [{ name: 's', port: 1 }] }],
  } as never);
  assert.equal(issues.length, 1);
  assert.match(issues[0]!.message, /^sectionName must be unique when parentRefs includes 2 or more references to the same parent/);
});
