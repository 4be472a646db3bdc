// The synth-time validators cover every openAPIV3Schema rule: for random specs (valid and
// invalid mixed), every field the CRD schema (ajv) rejects is a field the validator reports
// too. (The validators also check CEL rules, which the schema alone cannot express.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { validateGatewaySpec, validateHttpRouteSpec, validateTlsRouteSpec } from '../../../src/constructs/index.js';
import { crdValidator, type KubeObject } from './helpers.js';
import { gatewaySpecs, httpRouteSpecs, tlsRouteSpecs } from './spec-arbitraries.js';

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
    fc.property(tlsRouteSpecs, (spec) => {
      assertCovered(schemaFields('TLSRoute', spec), validateTlsRouteSpec(spec as never).map((i) => i.field));
    }),
    { numRuns: 2000 },
  );
});

test('whatever the Gateway schema rejects, validateGatewaySpec rejects', () => {
  fc.assert(
    fc.property(gatewaySpecs, (spec) => {
      assertCovered(schemaFields('Gateway', spec), validateGatewaySpec(spec as never).map((i) => i.field));
    }),
    { numRuns: 2000 },
  );
});

test('whatever the HTTPRoute schema rejects, validateHttpRouteSpec rejects', () => {
  fc.assert(
    fc.property(httpRouteSpecs, (spec) => {
      assertCovered(schemaFields('HTTPRoute', spec), validateHttpRouteSpec(spec as never).map((i) => i.field));
    }),
    { numRuns: 2000 },
  );
});

test('the generators produce both schema-valid and schema-invalid specs', () => {
  // Fixed seed: the share is a property of the generators, not of the run.
  const validShare = (results: boolean[]): number => results.filter(Boolean).length / results.length;
  const routes = validShare(fc.sample(tlsRouteSpecs, { numRuns: 1000, seed: 1 }).map((s) => schemaFields('TLSRoute', s).length === 0));
  const gateways = validShare(fc.sample(gatewaySpecs, { numRuns: 1000, seed: 1 }).map((s) => schemaFields('Gateway', s).length === 0));
  const httpRoutes = validShare(fc.sample(httpRouteSpecs, { numRuns: 1000, seed: 1 }).map((s) => schemaFields('HTTPRoute', s).length === 0));
  for (const share of [routes, gateways, httpRoutes]) assert.ok(share > 0.05 && share < 0.95, `schema-valid share ${share}`);
});
