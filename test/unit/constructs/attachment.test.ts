// Semantic checks a schema cannot make: will a route attach to the Gateway it names?
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Chart } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Gateway, type GatewayListenerOptions, TlsRoute, type TlsRouteProps } from '../../../src/constructs/index.js';
import { synth, synthError } from './helpers.js';

const pass: GatewayListenerOptions = { name: 'tls', port: 443, mode: 'Passthrough', hostname: '*.example.com' };

function gatewayIn(chart: Chart, listeners: GatewayListenerOptions[], namespace = 'infra'): Gateway {
  return new Gateway(chart, 'gw', { metadata: { name: 'gw', namespace }, gatewayClass: 'cls', listeners });
}

function route(chart: Chart, props: Partial<TlsRouteProps>, namespace = 'infra'): TlsRoute {
  return new TlsRoute(chart, 'route', {
    metadata: { name: 'route', namespace },
    hostnames: ['app.example.com'],
    backends: [{ name: 'svc', port: 443 }],
    ...props,
  });
}

function assertReports(error: string, ...parts: string[]): void {
  for (const part of ['[test/route]', ...parts, 'Fix:']) assert.ok(error.includes(part), `expected ${JSON.stringify(part)} in:\n${error}`);
}

test('a named listener must exist', () => {
  const error = synthError((chart) => route(chart, { parents: [gatewayIn(chart, [pass]).listener('tsl')] }));
  assertReports(error, 'spec.parentRefs[0].sectionName', 'Gateway "infra/gw" has no listener named "tsl" (listeners: "tls" (port 443))');
});

test('a parent port must have a listener', () => {
  const error = synthError((chart) => route(chart, { parents: [gatewayIn(chart, [pass]).port(8443)] }));
  assertReports(error, 'spec.parentRefs[0].port', 'Gateway "infra/gw" has no listener on port 8443');
});

test('sectionName and port must both match the same listener', () => {
  const error = synthError((chart) => {
    gatewayIn(chart, [pass]);
    route(chart, { parents: [{ name: 'gw', sectionName: 'tls', port: 8443 }] });
  });
  assertReports(error, 'spec.parentRefs[0].port', 'listener "tls" of Gateway "infra/gw" is not on port 8443');
});

test('a TLSRoute attaches only to TLS listeners', () => {
  const error = synthError((chart) => route(chart, { parents: [gatewayIn(chart, [pass, { name: 'web', port: 80, protocol: 'HTTP' }]).listener('web')] }));
  assertReports(error, 'spec.parentRefs[0]', 'a TLSRoute attaches only to TLS listeners; listener "web" of Gateway "infra/gw" use protocol HTTP');
});

test('a listener that lists kinds must list TLSRoute', () => {
  const error = synthError((chart) => route(chart, { parents: [gatewayIn(chart, [{ ...pass, allowedRoutes: { kinds: [{ kind: 'TLSRoute', group: 'example.com' }] } }])] }));
  assertReports(error, 'listener "tls" of Gateway "infra/gw" do not allow routes of kind TLSRoute');
});

test('a listener admitting only its own namespace rejects routes from others', () => {
  const error = synthError((chart) => route(chart, { parents: [gatewayIn(chart, [pass])] }, 'apps'));
  assertReports(error, 'spec.parentRefs[0]', 'do not admit routes from namespace "apps" ("tls" admits only its own namespace)');
});

test('a Selector listener rejects a route whose Namespace (defined in the app) lacks the labels', () => {
  const selector = { from: 'Selector', selector: { matchLabels: { gateway: 'shared' } } } as const;
  const error = synthError((chart) => {
    new kplus.Namespace(chart, 'ns', { metadata: { name: 'apps', labels: { gateway: 'private' } } });
    route(chart, { parents: [gatewayIn(chart, [{ ...pass, allowedRoutes: { namespaces: selector } }])] }, 'apps');
  });
  assertReports(error, 'do not admit routes from namespace "apps"', 'namespaces matching {"matchLabels":{"gateway":"shared"}}');
});

test('a Selector listener admits a route whose Namespace matches (labels and expressions)', () => {
  const objects = synth((chart) => {
    new kplus.Namespace(chart, 'ns', { metadata: { name: 'apps', labels: { gateway: 'shared', tier: 'web' } } });
    const selector = { matchLabels: { gateway: 'shared' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['web', 'api'] }, { key: 'legacy', operator: 'DoesNotExist' }] };
    route(chart, { parents: [gatewayIn(chart, [{ ...pass, allowedRoutes: { namespaces: { from: 'Selector', selector } } }])] }, 'apps');
  });
  assert.equal(objects.filter((o) => o.kind === 'TLSRoute').length, 1);
});

test('a Selector on the automatic kubernetes.io/metadata.name label admits the named Namespace only', () => {
  const byName = (name: string) => ({ from: 'Selector', selector: { matchLabels: { 'kubernetes.io/metadata.name': name } } }) as const;
  const build = (name: string) => (chart: Chart) => {
    new kplus.Namespace(chart, 'ns', { metadata: { name: 'apps' } });
    route(chart, { parents: [gatewayIn(chart, [{ ...pass, allowedRoutes: { namespaces: byName(name) } }])] }, 'apps');
  };
  assert.equal(synth(build('apps')).filter((o) => o.kind === 'TLSRoute').length, 1);
  assertReports(synthError(build('other')), 'do not admit routes from namespace "apps"');
});

test('route hostnames must intersect the listener hostname', () => {
  const error = synthError((chart) => route(chart, { parents: [gatewayIn(chart, [pass])], hostnames: ['example.com', 'app.example.org'] }));
  assertReports(error, 'spec.hostnames', 'no route hostname (example.com, app.example.org) intersects the hostname of listener "tls" of Gateway "infra/gw" ("tls": *.example.com)', 'NoMatchingListenerHostname');
});

test('a wildcard listener covers names several labels deep (multi-label wildcard, spec 3.3)', () => {
  const objects = synth((chart) => route(chart, { parents: [gatewayIn(chart, [pass])], hostnames: ['a.b.c.example.com'] }));
  assert.equal(objects.length, 2);
});

test('a route wildcard intersects a more specific listener wildcard, and a listener without hostname takes all', () => {
  const objects = synth((chart) => {
    const gw = gatewayIn(chart, [{ ...pass, hostname: '*.apps.example.com' }, { name: 'any', port: 8443, mode: 'Passthrough' }]);
    new TlsRoute(chart, 'wild', { metadata: { namespace: 'infra' }, parents: [gw.listener('tls')], hostnames: ['*.example.com'], backends: [{ name: 's', port: 1 }] });
    new TlsRoute(chart, 'any', { metadata: { namespace: 'infra' }, parents: [gw.listener('any')], hostnames: ['whatever.example.net'], backends: [{ name: 's', port: 1 }] });
  });
  assert.equal(objects.length, 3);
});

test('a parent without sectionName attaches if any listener accepts', () => {
  const objects = synth((chart) => {
    const gw = gatewayIn(chart, [pass, { name: 'org', port: 443, mode: 'Passthrough', hostname: '*.example.org' }]);
    route(chart, { parents: [gw], hostnames: ['app.example.org'] });
  });
  assert.equal(objects.length, 2);
});

test('a parent given by name is checked against the Gateway of the same app', () => {
  const error = synthError((chart) => {
    gatewayIn(chart, [pass]);
    route(chart, { parents: [{ name: 'gw', sectionName: 'missing' }] });
  });
  assertReports(error, 'Gateway "infra/gw" has no listener named "missing"');
});

test('a parent outside the app is not checked', () => {
  const objects = synth((chart) => route(chart, { parents: [{ name: 'elsewhere', sectionName: 'whatever' }] }));
  assert.equal(objects.length, 1);
});

test('a listener added after the route was built is seen at synth', () => {
  const objects = synth((chart) => {
    const gw = gatewayIn(chart, []);
    route(chart, { parents: [gw.listener('late')] });
    gw.addListener({ ...pass, name: 'late' });
  });
  assert.equal(objects.length, 2);
});

test('a cdk8s-plus Service backend with several ports needs a port', () => {
  const error = synthError((chart) => {
    const svc = new kplus.Service(chart, 'svc', { ports: [{ port: 80 }, { port: 443 }] });
    route(chart, { backends: [svc] });
  });
  assertReports(error, 'spec.rules[0].backendRefs[0].port', 'has 2 ports (80, 443), so the backend port cannot be chosen for you');
});

test('a cdk8s-plus Service backend port must be a port of the Service', () => {
  const error = synthError((chart) => {
    const svc = new kplus.Service(chart, 'svc', { ports: [{ port: 443, targetPort: 8443 }] });
    route(chart, { backends: [{ service: svc, port: 8443 }] });
  });
  assertReports(error, 'spec.rules[0].backendRefs[0].port', 'has no port 8443 (ports: 443); backendRefs name the Service port, not the targetPort');
});

test('a cdk8s-plus Service with one port is used with that port', () => {
  const [, obj] = synth((chart) => {
    const svc = new kplus.Service(chart, 'svc', { metadata: { name: 'svc', namespace: 'infra' }, ports: [{ port: 443 }] });
    route(chart, { backends: [svc] });
  });
  assert.deepStrictEqual((obj!.spec as { rules: unknown[] }).rules, [{ backendRefs: [{ name: 'svc', port: 443 }] }]);
});
