// What the schema cannot see about an HTTPRoute: will it attach to the Gateway it names (HTTP
// and HTTPS listeners, kinds, namespaces, hostnames), do its backends and mirror backends
// name real Service ports, are cross-namespace backends granted, and would any of its
// matches or filters be ignored or rejected by the controller.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Chart } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Gateway, type GatewayListenerOptions, HttpRoute, type HttpRouteProps } from '../../../src/constructs/index.js';
import { synth, synthError, type KubeObject } from './helpers.js';

const http: GatewayListenerOptions = { name: 'http', port: 80, protocol: 'HTTP', hostname: '*.example.com' };
const https: GatewayListenerOptions = { name: 'https', port: 443, protocol: 'HTTPS', hostname: '*.example.com', certificates: [{ name: 'cert' }] };
const tls: GatewayListenerOptions = { name: 'tls', port: 443, mode: 'Passthrough', hostname: 'db.example.com' };

function gatewayIn(chart: Chart, listeners: GatewayListenerOptions[], namespace = 'infra'): Gateway {
  return new Gateway(chart, 'gw', { metadata: { name: 'gw', namespace }, gatewayClass: 'cls', listeners });
}

function route(chart: Chart, props: Partial<HttpRouteProps>, namespace = 'infra'): HttpRoute {
  return new HttpRoute(chart, 'route', {
    metadata: { name: 'route', namespace },
    hostnames: ['app.example.com'],
    rules: [{ backends: [{ name: 'svc', port: 80 }] }],
    ...props,
  });
}

function assertReports(error: string, ...parts: string[]): void {
  for (const part of ['[test/route]', ...parts, 'Fix:']) assert.ok(error.includes(part), `expected ${JSON.stringify(part)} in:\n${error}`);
}

const grants = (objects: KubeObject[]): KubeObject[] => objects.filter((o) => o.kind === 'ReferenceGrant');

// ---- attachment -------------------------------------------------------------------------

test('an HTTPRoute attaches to HTTP and HTTPS listeners, by Gateway, listener or port', () => {
  const objects = synth((chart) => {
    const gw = gatewayIn(chart, [http, https, tls]);
    route(chart, { parents: [gw.listener('http')] });
    new HttpRoute(chart, 'by-port', { metadata: { namespace: 'infra' }, parents: [gw.port(443)], hostnames: ['api.example.com'] });
    new HttpRoute(chart, 'whole', { metadata: { namespace: 'infra' }, parents: [gw], hostnames: ['www.example.com'] });
  });
  assert.equal(objects.filter((o) => o.kind === 'HTTPRoute').length, 3);
});

test('an HTTPRoute attaches only to HTTP and HTTPS listeners', () => {
  const error = synthError((chart) => route(chart, { parents: [gatewayIn(chart, [http, tls]).listener('tls')] }));
  assertReports(error, 'spec.parentRefs[0]', 'an HTTPRoute attaches only to HTTP and HTTPS listeners; listener "tls" of Gateway "infra/gw" use protocol TLS', 'point the route at a listener with protocol HTTP or HTTPS');
});

test('a TLSRoute-only listener list rejects an HTTPRoute (allowedRoutes.kinds)', () => {
  const error = synthError((chart) => route(chart, { parents: [gatewayIn(chart, [{ ...http, allowedRoutes: { kinds: [{ kind: 'HTTPRoute', group: 'example.com' }] } }])] }));
  assertReports(error, 'listener "http" of Gateway "infra/gw" do not allow routes of kind HTTPRoute', "add HTTPRoute to the listener's allowedRoutes.kinds");
});

test('an HTTPS listener admitting only its own namespace rejects routes from others', () => {
  const error = synthError((chart) => route(chart, { parents: [gatewayIn(chart, [https]).listener('https')] }, 'apps'));
  assertReports(error, 'spec.parentRefs[0]', 'do not admit routes from namespace "apps" ("https" admits only its own namespace)');
});

test('route hostnames must intersect the HTTP listener hostname', () => {
  const error = synthError((chart) => route(chart, { parents: [gatewayIn(chart, [http])], hostnames: ['example.org'] }));
  assertReports(error, 'spec.hostnames', 'no route hostname (example.org) intersects the hostname of listener "http" of Gateway "infra/gw" ("http": *.example.com)', 'NoMatchingListenerHostname');
});

test('an HTTPRoute without hostnames attaches to any listener hostname', () => {
  const objects = synth((chart) => route(chart, { parents: [gatewayIn(chart, [http])], hostnames: [] }));
  assert.equal(objects.length, 2);
});

test('a parent given by name and port is checked against the Gateway of the same app', () => {
  const error = synthError((chart) => {
    gatewayIn(chart, [http]);
    route(chart, { parents: [{ name: 'gw', port: 8080 }] });
  });
  assertReports(error, 'spec.parentRefs[0].port', 'Gateway "infra/gw" has no listener on port 8080');
});

// ---- backends ---------------------------------------------------------------------------

test('a cdk8s-plus Service backend must name one of its ports, in rules and per-backend mirrors', () => {
  const error = synthError((chart) => {
    const svc = new kplus.Service(chart, 'svc', { ports: [{ port: 80 }, { port: 443 }] });
    const one = new kplus.Service(chart, 'one', { ports: [{ port: 80, targetPort: 8080 }] });
    route(chart, {
      rules: [{
        filters: [{ type: 'RequestMirror', requestMirror: { backend: { service: one, port: 8080 } } }],
        backends: [svc, { service: one, filters: [{ type: 'RequestMirror', requestMirror: { backend: svc } }] }],
      }],
    });
  });
  assertReports(error, 'spec.rules[0].backendRefs[0].port', 'has 2 ports (80, 443), so the backend port cannot be chosen for you');
  assertReports(error, 'spec.rules[0].filters[0].requestMirror.backendRef.port', 'has no port 8080 (ports: 80); backendRefs name the Service port, not the targetPort');
  assertReports(error, 'spec.rules[0].backendRefs[1].filters[0].requestMirror.backendRef.port', 'has 2 ports (80, 443)');
});

test('a cdk8s-plus Service renders with its only port, per-backend filters and a mirror backend', () => {
  const obj = synth((chart) => {
    const svc = new kplus.Service(chart, 'svc', { metadata: { name: 'svc', namespace: 'infra' }, ports: [{ port: 8080 }] });
    route(chart, { rules: [{ backends: [{ service: svc, weight: 5, filters: [{ type: 'RequestMirror', requestMirror: { backend: svc, percent: 10 } }] }] }] });
  }).find((o) => o.kind === 'HTTPRoute');
  assert.deepStrictEqual((obj!.spec as { rules: unknown[] }).rules, [{
    backendRefs: [{ name: 'svc', port: 8080, weight: 5, filters: [{ type: 'RequestMirror', requestMirror: { percent: 10, backendRef: { name: 'svc', port: 8080 } } }] }],
  }]);
});

test('backends and mirror backends in other namespaces get HTTPRoute grants, one per Service', () => {
  const objects = synth((chart) => {
    const api = new kplus.Service(chart, 'api', { metadata: { name: 'api', namespace: 'data' }, ports: [{ port: 80 }] });
    const audit = new kplus.Service(chart, 'audit', { metadata: { name: 'audit', namespace: 'data' }, ports: [{ port: 80 }] });
    route(chart, { rules: [{ filters: [{ type: 'RequestMirror', requestMirror: { backend: audit } }], backends: [api] }, { backends: [api] }] }, 'apps');
  });
  assert.deepStrictEqual(grants(objects).map((g) => [g.metadata, g.spec]).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))), [
    [{ name: 'httproutes-from-apps-to-service-api', namespace: 'data' }, { from: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: 'apps' }], to: [{ group: '', kind: 'Service', name: 'api' }] }],
    [{ name: 'httproutes-from-apps-to-service-audit', namespace: 'data' }, { from: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: 'apps' }], to: [{ group: '', kind: 'Service', name: 'audit' }] }],
  ]);
});

test('referenceGrants: false writes no grant, and a backend by name gets one only when asked', () => {
  const objects = synth((chart) => {
    const api = new kplus.Service(chart, 'api', { metadata: { name: 'api', namespace: 'data' }, ports: [{ port: 80 }] });
    new HttpRoute(chart, 'off', { metadata: { namespace: 'apps' }, rules: [{ backends: [api] }], referenceGrants: false });
    new HttpRoute(chart, 'byname', { metadata: { namespace: 'apps' }, rules: [{ backends: [{ name: 'web', namespace: 'data', port: 80 }, { name: 'ext', namespace: 'data', port: 80, referenceGrant: true }] }] });
  });
  assert.deepStrictEqual(grants(objects).map((g) => g.metadata.name), ['httproutes-from-apps-to-service-ext']);
});

test('a cross-namespace backend of an HTTPRoute without namespace is reported, not guessed', () => {
  const error = synthError((chart) => {
    const api = new kplus.Service(chart, 'api', { metadata: { name: 'api', namespace: 'data' }, ports: [{ port: 80 }] });
    new HttpRoute(chart, 'route', { rules: [{ backends: [api] }] });
  });
  assertReports(error, 'spec.rules[0].backendRefs[0]', 'the backend Service "data/api" is in another namespace, but this HTTPRoute has no namespace', 'set metadata.namespace on the route');
});

// ---- spec semantics ---------------------------------------------------------------------

test('an IP address is not a hostname, though the schema pattern admits it', () => {
  assertReports(synthError((chart) => route(chart, { hostnames: ['192.0.2.1'] })), 'spec.hostnames[0]', '"192.0.2.1" is an IP address; HTTPRoute hostnames must be DNS names');
});

test('regular expressions must compile (path, header and query parameter matches)', () => {
  const error = synthError((chart) => route(chart, {
    rules: [{
      matches: [
        { path: { type: 'RegularExpression', value: '/(a' }, headers: [{ name: 'h', type: 'RegularExpression', value: '[z-a]' }], queryParams: [{ name: 'q', type: 'RegularExpression', value: '(?i)x' }] },
        { path: { type: 'RegularExpression', value: '/a)(b' } },
      ],
      backends: [{ name: 'svc', port: 80 }],
    }],
  }));
  assertReports(error, 'spec.rules[0].matches[0].path.value: "/(a" is not a valid regular expression');
  assertReports(error, 'spec.rules[0].matches[0].headers[0].value: "[z-a]" is not a valid regular expression');
  assertReports(error, 'spec.rules[0].matches[0].queryParams[0].value: "(?i)x" is not a valid regular expression');
  assertReports(error, 'spec.rules[0].matches[1].path.value: "/a)(b" is not a valid regular expression');
});

test('header match names that differ only in case are one header: the second would be ignored', () => {
  const error = synthError((chart) => route(chart, { rules: [{ matches: [{ headers: [{ name: 'X-Env', value: 'a' }, { name: 'x-env', value: 'b' }] }], backends: [{ name: 'svc', port: 80 }] }] }));
  assertReports(error, 'spec.rules[0].matches[0].headers[1].name', 'header "x-env" is header "X-Env" (headers[0]): HTTP header names are case-insensitive');
});

test('two prefix replacements slip past the CRD rules (exists_one) but are still reported', () => {
  const rewrite = { type: 'URLRewrite', urlRewrite: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/v2' } } } as const;
  const error = synthError((chart) => route(chart, {
    rules: [{ matches: [{ path: { type: 'Exact', value: '/v1' } }], backends: [{ name: 'a', port: 80, filters: [rewrite] }, { name: 'b', port: 80, filters: [rewrite] }] }],
  }));
  assertReports(error, 'spec.rules[0]: 2 filters replace the matched path prefix (path.replacePrefixMatch), but the rule\'s match has path type Exact');
  assert.ok(!error.includes('Within backendRefs'), 'the CRD rule itself does not fire (exists_one)');
});
