// The ReferenceGrants the constructs write for cross-namespace backends and certificates.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as kplus from 'cdk8s-plus-28';
import { Gateway, TlsRoute } from '../../../src/constructs/index.js';
import { synth, synthError, type KubeObject } from './helpers.js';

const grants = (objects: KubeObject[]): KubeObject[] => objects.filter((o) => o.kind === 'ReferenceGrant');

test('a route to a cdk8s-plus Service in another namespace gets a grant in the Service namespace', () => {
  const objects = synth((chart) => {
    const svc = new kplus.Service(chart, 'db', { metadata: { name: 'db', namespace: 'data' }, ports: [{ port: 5432 }] });
    new TlsRoute(chart, 'r', { metadata: { name: 'r', namespace: 'apps' }, hostnames: ['db.example.com'], backends: [svc] });
  });
  assert.deepStrictEqual(grants(objects), [{
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'ReferenceGrant',
    metadata: { name: 'tlsroutes-from-apps-to-service-db', namespace: 'data' },
    spec: { from: [{ group: 'gateway.networking.k8s.io', kind: 'TLSRoute', namespace: 'apps' }], to: [{ group: '', kind: 'Service', name: 'db' }] },
  }]);
  const route = objects.find((o) => o.kind === 'TLSRoute')!;
  assert.deepStrictEqual((route.spec as { rules: unknown[] }).rules, [{ backendRefs: [{ name: 'db', namespace: 'data', port: 5432 }] }]);
});

test('routes of one namespace share one grant per Service', () => {
  const objects = synth((chart) => {
    const svc = new kplus.Service(chart, 'db', { metadata: { name: 'db', namespace: 'data' }, ports: [{ port: 5432 }] });
    for (const name of ['r1', 'r2']) new TlsRoute(chart, name, { metadata: { namespace: 'apps' }, hostnames: [`${name}.example.com`], backends: [svc] });
  });
  assert.equal(grants(objects).length, 1);
});

test('referenceGrants: false writes no grant', () => {
  const objects = synth((chart) => {
    const svc = new kplus.Service(chart, 'db', { metadata: { name: 'db', namespace: 'data' }, ports: [{ port: 5432 }] });
    new TlsRoute(chart, 'r', { metadata: { namespace: 'apps' }, hostnames: ['db.example.com'], backends: [svc], referenceGrants: false });
  });
  assert.deepStrictEqual(grants(objects), []);
});

test('a same-namespace backend needs no grant', () => {
  const objects = synth((chart) => {
    const svc = new kplus.Service(chart, 'db', { metadata: { name: 'db', namespace: 'apps' }, ports: [{ port: 5432 }] });
    new TlsRoute(chart, 'r', { metadata: { namespace: 'apps' }, hostnames: ['db.example.com'], backends: [svc] });
  });
  assert.deepStrictEqual(grants(objects), []);
});

test('a backend given by name gets a grant only when asked', () => {
  const build = (referenceGrant?: boolean) => synth((chart) => {
    new TlsRoute(chart, 'r', { metadata: { namespace: 'apps' }, hostnames: ['db.example.com'], backends: [{ name: 'db', namespace: 'data', port: 5432, ...(referenceGrant === undefined ? {} : { referenceGrant }) }] });
  });
  assert.equal(grants(build()).length, 0);
  assert.equal(grants(build(true)).length, 1);
});

test('a certificate Secret in another namespace gets a Gateway → Secret grant', () => {
  const objects = synth((chart) => {
    const cert = new kplus.Secret(chart, 'cert', { metadata: { name: 'wildcard', namespace: 'certs' }, type: 'kubernetes.io/tls' });
    new Gateway(chart, 'gw', { metadata: { name: 'gw', namespace: 'infra' }, gatewayClass: 'cls', listeners: [{ name: 't', port: 443, mode: 'Terminate', certificates: [cert] }] });
  });
  const gateway = objects.find((o) => o.kind === 'Gateway')!;
  assert.deepStrictEqual((gateway.spec as { listeners: { tls: unknown }[] }).listeners[0]!.tls, { mode: 'Terminate', certificateRefs: [{ name: 'wildcard', namespace: 'certs' }] });
  assert.deepStrictEqual(grants(objects).map((g) => [g.metadata, g.spec]), [[
    { name: 'gateways-from-infra-to-secret-wildcard', namespace: 'certs' },
    { from: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', namespace: 'infra' }], to: [{ group: '', kind: 'Secret', name: 'wildcard' }] },
  ]]);
});

test('a cross-namespace backend of a route without namespace is reported, not guessed', () => {
  const error = synthError((chart) => {
    const svc = new kplus.Service(chart, 'db', { metadata: { name: 'db', namespace: 'data' }, ports: [{ port: 5432 }] });
    new TlsRoute(chart, 'r', { hostnames: ['db.example.com'], backends: [svc] });
  });
  assert.ok(error.includes('[test/r] spec.rules[0].backendRefs[0]: the backend Service "data/db" is in another namespace, but this TLSRoute has no namespace'), error);
});

test('a cross-namespace certificate of a Gateway without namespace is reported with its fix', () => {
  const error = synthError((chart) => {
    const cert = new kplus.Secret(chart, 'cert', { metadata: { name: 'wildcard', namespace: 'certs' }, type: 'kubernetes.io/tls' });
    new Gateway(chart, 'gw', { gatewayClass: 'cls', listeners: [{ name: 't', port: 443, mode: 'Terminate', certificates: [cert] }] });
  });
  assert.ok(
    error.includes(
      'the certificate Secret "certs/wildcard" is in another namespace, but this Gateway has no namespace, so no ReferenceGrant can name it',
    ),
    error,
  );
  assert.ok(error.includes('set metadata.namespace on the Gateway or a namespace on its Chart, or pass referenceGrants: false'), error);
});

test('the route without namespace gets the same fix, worded for a route', () => {
  const error = synthError((chart) => {
    const svc = new kplus.Service(chart, 'db', { metadata: { name: 'db', namespace: 'data' }, ports: [{ port: 5432 }] });
    new TlsRoute(chart, 'r', { hostnames: ['db.example.com'], backends: [svc] });
  });
  assert.ok(error.includes('so no ReferenceGrant can name it'), error);
  assert.ok(error.includes('set metadata.namespace on the route or a namespace on its Chart, or pass referenceGrants: false and write the grant yourself'), error);
});
