// Every Gateway API object the constructs synthesize validates against its CRD's
// openAPIV3Schema (ajv), and the validator itself rejects what the schema forbids.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { App } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { tlsRoutingChart } from '../../../examples/app/tls-routing.js';
import { sharedGatewayChart } from '../../../examples/app/shared-gateway.js';
import { Gateway, GatewayClass, ReferenceGrant, TlsRoute } from '../../../src/constructs/index.js';
import { schemaErrors, synth, type KubeObject } from './helpers.js';

const GATEWAY_API = 'gateway.networking.k8s.io/v1';

function assertSchemaValid(objects: readonly KubeObject[]): number {
  const gatewayApi = objects.filter((o) => o.apiVersion === GATEWAY_API);
  const errors = gatewayApi.flatMap(schemaErrors);
  assert.deepStrictEqual(errors, []);
  return gatewayApi.length;
}

test('the tls-routing example validates against the CRD schemas', () => {
  const app = new App();
  assert.equal(assertSchemaValid(tlsRoutingChart(app).toJson() as KubeObject[]), 3);
});

test('the shared-gateway example validates against the CRD schemas', () => {
  const app = new App();
  const count = assertSchemaValid(sharedGatewayChart(app).toJson() as KubeObject[]);
  assert.equal(count, 5, 'GatewayClass, Gateway, two TLSRoutes and a ReferenceGrant');
});

test('every optional field the constructs render validates against the CRD schemas', () => {
  const objects = synth((chart) => {
    const cls = new GatewayClass(chart, 'class', {
      controllerName: 'example.com/gateway-controller',
      description: 'all fields',
      parametersRef: { group: 'example.com', kind: 'Params', name: 'p', namespace: 'infra' },
    });
    const secret = new kplus.Secret(chart, 'cert', { metadata: { name: 'cert', namespace: 'certs' }, type: 'kubernetes.io/tls' });
    const gateway = new Gateway(chart, 'gw', {
      metadata: { name: 'gw', namespace: 'infra' },
      gatewayClass: cls,
      addresses: [{ value: '10.0.0.1' }, { type: 'Hostname', value: 'gw.example.com' }],
      infrastructure: { labels: { team: 'platform' }, annotations: { 'example.com/owner': 'platform' }, parametersRef: { group: 'example.com', kind: 'Params', name: 'p' } },
      listeners: [
        { name: 'pass', port: 443, mode: 'Passthrough', hostname: '*.example.com', allowedRoutes: { namespaces: { from: 'All' }, kinds: [{ group: 'gateway.networking.k8s.io', kind: 'TLSRoute' }] } },
        { name: 'term', port: 443, mode: 'Terminate', hostname: 'secure.example.org', certificates: [secret, { name: 'other', namespace: 'certs', group: '', kind: 'Secret' }], tlsOptions: { 'example.com/min-version': '1.3' } },
        { name: 'sel', port: 8443, mode: 'Passthrough', allowedRoutes: { namespaces: { from: 'Selector', selector: { matchExpressions: [{ key: 'team', operator: 'In', values: ['a'] }] } } } },
      ],
    });
    const svc = new kplus.Service(chart, 'svc', { metadata: { name: 'svc', namespace: 'backends' }, ports: [{ port: 9000 }, { port: 9001 }] });
    new TlsRoute(chart, 'route', {
      metadata: { name: 'route', namespace: 'apps' },
      parents: [gateway.listener('pass'), gateway.listener('sel'), { name: 'elsewhere', namespace: 'other', sectionName: 'tls', group: 'gateway.networking.k8s.io', kind: 'Gateway' }],
      hostnames: ['a.example.com', '*.b.example.com'],
      ruleName: 'main',
      backends: [{ service: svc, port: 9001, weight: 0 }, { name: 'ext', namespace: 'apps', port: 1, weight: 1_000_000, group: '', kind: 'Service' }],
    });
    new TlsRoute(chart, 'by-port', { metadata: { name: 'by-port', namespace: 'apps' }, parents: [gateway.port(8443)], hostnames: ['c.example.net'], backends: [{ name: 'c', port: 80 }] });
    new ReferenceGrant(chart, 'grant', {
      metadata: { name: 'manual', namespace: 'backends' },
      from: [{ group: 'gateway.networking.k8s.io', kind: 'TLSRoute', namespace: 'apps' }],
      to: [{ group: '', kind: 'Service' }],
    });
  });
  // GatewayClass, Gateway, two TLSRoutes, manual grant, two generated grants (Secret, Service).
  assert.equal(assertSchemaValid(objects), 7);
});

test('the schema validator rejects objects the CRD forbids', () => {
  const route: KubeObject = {
    apiVersion: GATEWAY_API,
    kind: 'TLSRoute',
    metadata: { name: 'bad' },
    spec: { hostnames: ['Not_A_Host'], rules: [{ backendRefs: [{ name: 'svc', port: 70000, weight: 2_000_000 }] }, { backendRefs: [] }] },
  };
  const errors = schemaErrors(route).join('\n');
  assert.match(errors, /hostnames\/0: must match pattern/);
  assert.match(errors, /port: must be <= 65535/);
  assert.match(errors, /weight: must be <= 1000000/);
  assert.match(errors, /rules: must NOT have more than 1 items/);
  const gateway: KubeObject = { apiVersion: GATEWAY_API, kind: 'Gateway', metadata: { name: 'g' }, spec: { gatewayClassName: 'c', listeners: [{ name: 'l', port: 1, protocol: 'TLS', tls: { mode: 'Mixed' } }] } };
  assert.match(schemaErrors(gateway).join('\n'), /mode: must be equal to one of the allowed values/);
});
