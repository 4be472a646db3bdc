// Every Gateway API object the constructs synthesize validates against its CRD's
// openAPIV3Schema (ajv), and the validator itself rejects what the schema forbids.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { App } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { tlsRoutingChart } from '../../../examples/app/tls-routing.js';
import { sharedGatewayChart } from '../../../examples/app/shared-gateway.js';
import { httpRoutingChart } from '../../../examples/app/http-routing.js';
import { simpleHttpHttpsChart } from '../../../examples/app/simple-http-https.js';
import { Gateway, GatewayClass, HttpRoute, ReferenceGrant, TlsRoute } from '../../../src/constructs/index.js';
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

test('the upstream HTTP examples validate against the CRD schemas', () => {
  assert.equal(assertSchemaValid(httpRoutingChart(new App()).toJson() as KubeObject[]), 4);
  assert.equal(assertSchemaValid(simpleHttpHttpsChart(new App()).toJson() as KubeObject[]), 4);
});

test('every optional field HttpRoute and HTTP/HTTPS listeners render validates against the CRD schemas', () => {
  const objects = synth((chart) => {
    const cert = new kplus.Secret(chart, 'cert', { metadata: { name: 'cert', namespace: 'certs' }, type: 'kubernetes.io/tls' });
    const gateway = new Gateway(chart, 'gw', {
      metadata: { name: 'gw', namespace: 'infra' },
      gatewayClass: 'cls',
      listeners: [
        { name: 'http', port: 80, protocol: 'HTTP', hostname: '*.example.com', allowedRoutes: { namespaces: { from: 'All' }, kinds: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute' }] } },
        { name: 'https', port: 443, protocol: 'HTTPS', hostname: '*.example.com', certificates: [cert], allowedRoutes: { namespaces: { from: 'All' } } },
        { name: 'https-explicit', port: 443, protocol: 'HTTPS', mode: 'Terminate', hostname: 'secure.example.org', certificates: [{ name: 'c', kind: 'Secret', group: '' }], tlsOptions: { 'example.com/x': 'y' }, allowedRoutes: { namespaces: { from: 'All' } } },
        { name: 'tls', port: 443, mode: 'Passthrough', hostname: 'db.example.com' },
      ],
    });
    const api = new kplus.Service(chart, 'api', { metadata: { name: 'api', namespace: 'backends' }, ports: [{ port: 8080 }] });
    const header = (name: string) => ({ name, value: 'v' });
    new HttpRoute(chart, 'route', {
      metadata: { name: 'route', namespace: 'apps' },
      parents: [gateway.listener('https'), gateway.listener('http'), { name: 'elsewhere', namespace: 'other', sectionName: 's', port: 443, group: 'gateway.networking.k8s.io', kind: 'Gateway' }],
      hostnames: ['app.example.com', '*.api.example.com'],
      rules: [
        {
          name: 'everything',
          matches: [
            { path: { type: 'Exact', value: '/a' }, headers: [{ name: 'x-a', value: 'b', type: 'Exact' }, { name: 'x-r', value: '^v[0-9]$', type: 'RegularExpression' }], queryParams: [{ name: 'q', value: '1' }], method: 'POST' },
            { path: { type: 'RegularExpression', value: '^/r/.*' } },
          ],
          filters: [
            { type: 'RequestHeaderModifier', requestHeaderModifier: { set: [header('x-s')], add: [header('x-a')], remove: ['x-r'] } },
            { type: 'ResponseHeaderModifier', responseHeaderModifier: { set: [header('x-s')], add: [header('x-a')], remove: ['x-r'] } },
            { type: 'URLRewrite', urlRewrite: { hostname: 'internal.example.com', path: { type: 'ReplaceFullPath', replaceFullPath: '/new' } } },
            { type: 'RequestMirror', requestMirror: { backend: api, percent: 50 } },
            { type: 'RequestMirror', requestMirror: { backend: { name: 'copy', port: 1 }, fraction: { numerator: 1, denominator: 3 } } },
            { type: 'CORS', cors: { allowOrigins: ['https://a.example.com', 'http://*.example.com:8080'], allowMethods: ['GET', 'POST'], allowHeaders: ['x-a'], exposeHeaders: ['x-b'], allowCredentials: true, maxAge: 60 } },
            { type: 'ExtensionRef', extensionRef: { group: 'example.com', kind: 'Filter', name: 'f' } },
          ],
          backends: [
            { service: api, weight: 0, filters: [{ type: 'URLRewrite', urlRewrite: { path: { type: 'ReplaceFullPath', replaceFullPath: '/' } } }] },
            { name: 'ext', namespace: 'apps', port: 1, weight: 1_000_000, group: '', kind: 'Service', filters: [{ type: 'RequestHeaderModifier', requestHeaderModifier: { set: [header('x-b')] } }] },
          ],
          timeouts: { request: '10s', backendRequest: '1s500ms' },
        },
        { matches: [{ path: { type: 'PathPrefix', value: '/old' } }], filters: [{ type: 'RequestRedirect', requestRedirect: { scheme: 'https', hostname: 'new.example.com', port: 8443, statusCode: 308, path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/new' } } }] },
        { backends: [{ name: 'imp', group: 'multicluster.x-k8s.io', kind: 'ServiceImport' }] },
      ],
    });
  });
  // Gateway, HTTPRoute, grants for the certificate and the backend Service.
  assert.equal(assertSchemaValid(objects), 4);
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
  const httpRoute: KubeObject = {
    apiVersion: GATEWAY_API,
    kind: 'HTTPRoute',
    metadata: { name: 'bad' },
    spec: { hostnames: ['A.example.com'], rules: [{ matches: [{ method: 'get', headers: [{ name: 'a b', value: 'v' }] }], filters: [{ type: 'RequestRedirect', requestRedirect: { statusCode: 300 } }], timeouts: { request: '1.5s' } }] },
  };
  const httpErrors = schemaErrors(httpRoute).join('\n');
  assert.match(httpErrors, /hostnames\/0: must match pattern/);
  assert.match(httpErrors, /method: must be equal to one of the allowed values/);
  assert.match(httpErrors, /headers\/0\/name: must match pattern/);
  assert.match(httpErrors, /statusCode: must be equal to one of the allowed values/);
  assert.match(httpErrors, /timeouts\/request: must match pattern/);
});
