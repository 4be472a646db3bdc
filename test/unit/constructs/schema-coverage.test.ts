// The synth-time validators cover every openAPIV3Schema rule: for random specs (valid and
// invalid mixed), every field the CRD schema (ajv) rejects is a field the validator reports
// too. (The validators also check CEL rules, which the schema alone cannot express.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { validateGatewaySpec, validateTlsRouteSpec } from '../../../src/constructs/index.js';
import { crdValidator, type KubeObject } from './helpers.js';

const text = fc.stringMatching(/^[a-zA-Z0-9.*\-_ ]{0,12}$/);
// Mostly valid values with some invalid ones mixed in, so that both outcomes are common.
const dnsish = fc.oneof(
  { weight: 16, arbitrary: fc.constantFrom('app.example.com', '*.example.com', 'a', 'x-1.y', 'gateway.networking.k8s.io') },
  { weight: 1, arbitrary: fc.constantFrom('', 'A', '-a', 'a..b') },
  { weight: 1, arbitrary: text },
);
const port = fc.oneof({ weight: 12, arbitrary: fc.integer({ min: 1, max: 65535 }) }, { weight: 1, arbitrary: fc.constantFrom(0, -1, 65536, 1.5) });
const maybe = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.option(arb, { nil: undefined, freq: 2 });
const kindish = fc.oneof({ weight: 12, arbitrary: fc.constantFrom('Service', 'Gateway', 'TLSRoute', 'Secret') }, { weight: 1, arbitrary: text });
const defined = <T extends object>(o: T): T => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;

const parentRef = fc.record({ name: dnsish, namespace: maybe(dnsish), sectionName: maybe(dnsish), port: maybe(port), group: maybe(dnsish), kind: maybe(kindish) }).map(defined);
const backendRef = fc
  .record({ name: dnsish, namespace: maybe(dnsish), port: maybe(port), weight: maybe(fc.integer({ min: -2, max: 1_000_002 })), group: maybe(dnsish), kind: maybe(kindish) })
  .map(defined);
const routeSpec = fc.record({
  parentRefs: maybe(fc.array(parentRef, { maxLength: 3 })),
  hostnames: fc.array(dnsish, { minLength: 1, maxLength: 2 }),
  rules: fc.array(fc.record({ name: maybe(dnsish), backendRefs: fc.array(backendRef, { maxLength: 3 }) }).map(defined), { minLength: 1, maxLength: 1 }),
}).map(defined);

const listener = fc
  .record({
    name: dnsish,
    port,
    protocol: fc.oneof({ weight: 4, arbitrary: fc.constantFrom('TLS', 'HTTPS', 'HTTP', 'TCP', 'UDP', 'example.com/x') }, { weight: 1, arbitrary: text }),
    hostname: maybe(dnsish),
    tls: maybe(fc.record({
      mode: maybe(fc.constantFrom('Passthrough', 'Terminate', 'Mixed')),
      certificateRefs: maybe(fc.array(fc.record({ name: dnsish, namespace: maybe(dnsish), group: maybe(dnsish), kind: maybe(kindish) }).map(defined), { maxLength: 2 })),
    }).map(defined)),
    allowedRoutes: maybe(fc.record({
      namespaces: maybe(fc.record({ from: fc.constantFrom('All', 'Same', 'Selector', 'None') })),
      kinds: maybe(fc.array(fc.record({ group: maybe(dnsish), kind: fc.oneof(fc.constantFrom('TLSRoute', 'TCPRoute'), text) }).map(defined), { maxLength: 2 })),
    }).map(defined)),
  })
  .map(defined);
const gatewaySpec = fc.record({ gatewayClassName: dnsish, listeners: fc.array(listener, { maxLength: 3 }) });

function object(kind: string, spec: unknown): KubeObject {
  return { apiVersion: 'gateway.networking.k8s.io/v1', kind, metadata: { name: 'x' }, spec };
}

/** The fields ajv rejects, in the validators' notation: `spec.rules[0].backendRefs[1].port`. */
function schemaFields(kind: string, spec: unknown): string[] {
  const validate = crdValidator(kind);
  if (validate(object(kind, spec))) return [];
  return (validate.errors ?? [])
    .filter((e) => !['oneOf', 'anyOf', 'if'].includes(e.keyword)) // the branch errors name the field
    .map((e) => {
      const path = e.instancePath.replace(/^\//, '').split('/').map((p) => (/^\d+$/.test(p) ? `[${p}]` : `.${p}`)).join('').replace(/^\./, '');
      return e.keyword === 'required' ? `${path}.${(e.params as { missingProperty: string }).missingProperty}` : path;
    });
}

function assertCovered(schema: string[], reported: string[]): void {
  for (const field of schema) {
    const covered = reported.some((r) => r === field || r.startsWith(`${field}.`) || r.startsWith(`${field}[`) || field.startsWith(`${r}.`));
    assert.ok(covered, `schema rejects ${field}; validator reported only: ${reported.join(', ') || 'nothing'}`);
  }
}

test('whatever the TLSRoute schema rejects, validateTlsRouteSpec rejects', () => {
  fc.assert(
    fc.property(routeSpec, (spec) => {
      assertCovered(schemaFields('TLSRoute', spec), validateTlsRouteSpec(spec as never).map((i) => i.field));
    }),
    { numRuns: 2000 },
  );
});

test('whatever the Gateway schema rejects, validateGatewaySpec rejects', () => {
  fc.assert(
    fc.property(gatewaySpec, (spec) => {
      assertCovered(schemaFields('Gateway', spec), validateGatewaySpec(spec as never).map((i) => i.field));
    }),
    { numRuns: 2000 },
  );
});

test('the generators produce both schema-valid and schema-invalid specs', () => {
  // Fixed seed: the share is a property of the generators, not of the run.
  const validShare = (results: boolean[]): number => results.filter(Boolean).length / results.length;
  const routes = validShare(fc.sample(routeSpec, { numRuns: 1000, seed: 1 }).map((s) => schemaFields('TLSRoute', s).length === 0));
  const gateways = validShare(fc.sample(gatewaySpec, { numRuns: 1000, seed: 1 }).map((s) => schemaFields('Gateway', s).length === 0));
  for (const share of [routes, gateways]) assert.ok(share > 0.05 && share < 0.95, `schema-valid share ${share}`);
});
