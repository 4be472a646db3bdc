// Object names and namespaces must be what the API server accepts, for every construct.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Gateway, GatewayClass, HttpRoute, ReferenceGrant, TlsRoute } from '../../../src/constructs/index.js';
import { synthError } from './helpers.js';

function assertReports(error: string, ...parts: string[]): void {
  for (const part of [...parts, 'Fix:']) assert.ok(error.includes(part), `expected ${JSON.stringify(part)} in:\n${error}`);
}

test('a GatewayClass name must be an RFC 1123 subdomain', () => {
  assertReports(synthError((chart) => new GatewayClass(chart, 'c', { metadata: { name: 'My_Class' } })), '[test/c] metadata.name: "My_Class" must be an RFC 1123 subdomain');
});

test('a Gateway name must be at most 253 characters', () => {
  const error = synthError((chart) => new Gateway(chart, 'g', { metadata: { name: 'g'.repeat(254) }, gatewayClass: 'c', listeners: [{ name: 'l', port: 1, mode: 'Passthrough' }] }));
  assertReports(error, '[test/g] metadata.name: must have at most 253 characters');
});

test('a TLSRoute namespace must be an RFC 1123 label', () => {
  const error = synthError((chart) => new TlsRoute(chart, 'r', { metadata: { namespace: 'team.a' }, hostnames: ['a.example.com'], backends: [{ name: 's', port: 1 }] }));
  assertReports(error, '[test/r] metadata.namespace: "team.a" must be an RFC 1123 label');
});

test('a ReferenceGrant namespace must be at most 63 characters', () => {
  const error = synthError((chart) => new ReferenceGrant(chart, 'rg', {
    metadata: { namespace: 'n'.repeat(64) },
    from: [{ group: 'gateway.networking.k8s.io', kind: 'TLSRoute', namespace: 'a' }],
    to: [{ group: '', kind: 'Service' }],
  }));
  assertReports(error, '[test/rg] metadata.namespace: must have at most 63 characters');
});

test('an HTTPRoute name must be an RFC 1123 subdomain', () => {
  const error = synthError((chart) => new HttpRoute(chart, 'h', { metadata: { name: 'Web_Route' } }));
  assertReports(error, '[test/h] metadata.name: "Web_Route" must be an RFC 1123 subdomain');
});
