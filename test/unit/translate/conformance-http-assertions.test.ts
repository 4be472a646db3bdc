// The GATEWAY-HTTP core conformance tests, checked on their golden scenarios the way the
// upstream suite checks a cluster (sigs.k8s.io/gateway-api/conformance@v1.6.1, tests/*.go):
// the route and Gateway statuses each test asserts, and each test's HTTP requests replayed
// against the proxy config by a reference reading of src/proxy-config.ts (listener by Host or
// SNI, most specific virtual host, first satisfied match, the rule's redirect or backends).
// The goldens pin the exact output; this file says why that output is right.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { runScenario, type ScenarioResult } from '../../golden/golden.js';
import { matchesHostname } from '../../../src/gatewayapi/hostnames.js';
import type { HttpFilterConfig, HttpMatchConfig, ListenerConfig, ProxyConfig } from '../../../src/proxy-config.js';
import type { Condition } from '../../../src/gatewayapi/types.js';

const INFRA = 'gateway-conformance-infra';

// ---------------------------------------------------------------- statuses

function routeParent(r: ScenarioResult, route: string, gateway: string, namespace = INFRA): Condition[] {
  const entry = r.output.httpRoutes.find((x) => x.namespace === namespace && x.name === route);
  assert.ok(entry, `HTTPRoute ${namespace}/${route} has a status`);
  const parent = entry.status.parents.find((p) => p.parentRef.name === gateway);
  assert.ok(parent, `HTTPRoute ${route} has a parent entry for ${gateway}`);
  assert.equal(parent.controllerName, 'tlsgate.dev/gateway-controller');
  assert.equal(parent.parentRef.group, 'gateway.networking.k8s.io');
  assert.equal(parent.parentRef.kind, 'Gateway');
  return parent.conditions;
}

function has(conditions: Condition[], type: string, status: 'True' | 'False', reason?: string, where = ''): void {
  const c = conditions.find((x) => x.type === type);
  assert.ok(c, `${where} has ${type}`);
  assert.equal(c.status, status, `${where} ${type} status (${c.reason}: ${c.message})`);
  if (reason !== undefined) assert.equal(c.reason, reason, `${where} ${type} reason (${c.message})`);
}

/** GatewayAndHTTPRoutesMustBeAccepted: each route Accepted on the Gateway, every listener Accepted, ResolvedRefs and Programmed. */
function gatewayAndRoutesAccepted(r: ScenarioResult, gateway: string, routes: string[], routeNamespace = INFRA): void {
  for (const route of routes) has(routeParent(r, route, gateway, routeNamespace), 'Accepted', 'True', 'Accepted', route);
  const gw = r.output.gateways.find((g) => g.name === gateway);
  assert.ok(gw, `Gateway ${gateway}`);
  for (const l of gw.status.listeners ?? []) {
    for (const type of ['Accepted', 'ResolvedRefs', 'Programmed']) has(l.conditions, type, 'True', undefined, `${gateway} listener ${l.name}`);
  }
}

/** HTTPRouteMustHaveNoAcceptedParents (one parent, not Accepted) and GatewayMustHaveZeroRoutes. */
function notAcceptedAnywhere(r: ScenarioResult, route: string, gateway: string, reason: string, routeNamespace = INFRA): void {
  const conditions = routeParent(r, route, gateway, routeNamespace);
  has(conditions, 'Accepted', 'False', reason, route);
  const entry = r.output.httpRoutes.find((x) => x.name === route)!;
  assert.equal(entry.status.parents.length, 1);
  const gw = r.output.gateways.find((g) => g.name === gateway)!;
  for (const l of gw.status.listeners ?? []) assert.equal(l.attachedRoutes, 0, `${gateway} listener ${l.name} has no routes`);
}

function allConditionsAt(conditions: Condition[], generation: number, where: string): void {
  for (const c of conditions) assert.equal(c.observedGeneration, generation, `${where} ${c.type} observedGeneration`);
}

// ---------------------------------------------------------------- requests

interface Request {
  host?: string;
  path: string;
  headers?: Record<string, string>;
  method?: string;
  /** HTTPS: the SNI; the suite sends the Host. */
  sni?: string;
}

type Outcome = { backend: string } | { status: number } | { redirect: { statusCode: number; hostname?: string } } | { split: { ref: string; weight: number }[] };

function matchSatisfied(m: HttpMatchConfig, path: string, headers: Record<string, string>, query: URLSearchParams, method: string): boolean {
  const { type, value } = m.path;
  if (type === 'Exact' && path !== value) return false;
  if (type === 'PathPrefix' && !(value === '/' || path === value || path.startsWith(value + '/'))) return false;
  if (type === 'RegularExpression' && !new RegExp(`^(?:${value})$`).test(path)) return false;
  if (m.method !== undefined && m.method !== method) return false;
  for (const h of m.headers) {
    const v = headers[h.name];
    if (v === undefined || (h.type === 'Exact' ? v !== h.value : !new RegExp(h.value).test(v))) return false;
  }
  for (const q of m.queryParams) {
    const v = query.get(q.name);
    if (v === null || (q.type === 'Exact' ? v !== q.value : !new RegExp(q.value).test(v))) return false;
  }
  return true;
}

/** What the proxy answers, by the contract of src/proxy-config.ts. */
function route(config: ProxyConfig, port: number, request: Request): Outcome {
  const portConfig = config.ports.find((p) => p.port === port);
  assert.ok(portConfig, `port ${port} is configured`);
  const host = (request.host ?? 'example.com').toLowerCase().replace(/:\d+$/, '');
  const pick = (name: string): ListenerConfig | undefined => portConfig.listeners.find((l) => matchesHostname(l.hostname, name));
  const listener = pick(request.sni ?? host);
  if (!listener) return { status: 404 };
  if (request.sni !== undefined && !matchesHostname(listener.hostname, host)) return { status: 421 };
  assert.ok(listener.http, `listener ${listener.name} routes HTTP`);
  const vhost = listener.http.virtualHosts.find((v) => matchesHostname(v.hostname === '*' ? null : v.hostname, host));
  if (!vhost) return { status: 404 };
  const url = new URL(request.path, 'http://x');
  const headers = Object.fromEntries(Object.entries(request.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  const entry = vhost.matches.find((e) => matchSatisfied(e.match, url.pathname, headers, url.searchParams, request.method ?? 'GET'));
  if (!entry) return { status: 404 };
  const rule = listener.http.routes[entry.route]!.rules[entry.rule]!;
  const redirect = rule.filters.find((f): f is Extract<HttpFilterConfig, { type: 'RequestRedirect' }> => f.type === 'RequestRedirect');
  if (redirect) return { redirect: { statusCode: redirect.statusCode, ...(redirect.hostname ? { hostname: redirect.hostname } : {}) } };
  const live = rule.backends.filter((b) => b.weight > 0);
  if (live.length === 0 || live.every((b) => b.reject !== undefined)) return { status: 500 };
  if (live.length > 1) return { split: live.map((b) => ({ ref: b.reject ? 'rejected' : b.ref, weight: b.weight })) };
  assert.ok(live[0]!.endpoints.length > 0, `${live[0]!.ref} has endpoints`);
  return { backend: live[0]!.ref.replace(/:\d+$/, '') };
}

function configOf(r: ScenarioResult, gateway: string): ProxyConfig {
  const config = r.output.proxyConfigs.find((c) => c.gateway.name === gateway);
  assert.ok(config, `proxy config for ${gateway}`);
  return config;
}

function expectRequests(r: ScenarioResult, gateway: string, port: number, cases: [Request, Outcome][]): void {
  const config = configOf(r, gateway);
  for (const [request, expected] of cases) {
    assert.deepEqual(route(config, port, request), expected, `${gateway}:${port} ${request.host ?? ''}${request.path} ${JSON.stringify(request.headers ?? {})}`);
  }
}

const v1 = { backend: `${INFRA}/infra-backend-v1` };
const v2 = { backend: `${INFRA}/infra-backend-v2` };
const v3 = { backend: `${INFRA}/infra-backend-v3` };
const notFound = { status: 404 };
const serverError = { status: 500 };

// ---------------------------------------------------------------- the tests

describe('GATEWAY-HTTP core conformance tests, as the suite asserts them', () => {
  test('HTTPRouteSimpleSameNamespace', () => {
    const r = runScenario('conformance-httproute-simple-same-namespace');
    gatewayAndRoutesAccepted(r, 'same-namespace', ['gateway-conformance-infra-test']);
    has(routeParent(r, 'gateway-conformance-infra-test', 'same-namespace'), 'ResolvedRefs', 'True', 'ResolvedRefs');
    expectRequests(r, 'same-namespace', 80, [[{ path: '/' }, v1]]);
  });

  test('HTTPRouteMatching', () => {
    const r = runScenario('conformance-httproute-matching');
    gatewayAndRoutesAccepted(r, 'same-namespace', ['matching']);
    expectRequests(r, 'same-namespace', 80, [
      [{ path: '/' }, v1],
      [{ path: '/example' }, v1],
      [{ path: '/', headers: { Version: 'one' } }, v1],
      [{ path: '/v2' }, v2],
      [{ path: '/v2/example' }, v2],
      [{ path: '/', headers: { Version: 'two' } }, v2],
      [{ path: '/v2/' }, v2],
      [{ path: '/v2example' }, v1],
      [{ path: '/foo/v2/example' }, v1],
    ]);
  });

  test('HTTPRouteMatchingAcrossRoutes', () => {
    const r = runScenario('conformance-httproute-matching-across-routes');
    gatewayAndRoutesAccepted(r, 'same-namespace', ['matching-part1', 'matching-part2']);
    expectRequests(r, 'same-namespace', 80, [
      [{ host: 'example.com', path: '/' }, v1],
      [{ host: 'example.com', path: '/example' }, v1],
      [{ host: 'example.net', path: '/example' }, v1],
      [{ host: 'example.com', path: '/example', headers: { Version: 'one' } }, v1],
      [{ host: 'example.com', path: '/v2' }, v2],
      [{ host: 'example.net', path: '/v2' }, v1],
      [{ host: 'example.com', path: '/v2/example' }, v2],
      [{ host: 'example.com', path: '/', headers: { Version: 'two' } }, v2],
    ]);
  });

  test('HTTPRouteHostnameIntersection', () => {
    const r = runScenario('conformance-httproute-hostname-intersection');
    const gw = 'httproute-hostname-intersection';
    gatewayAndRoutesAccepted(r, gw, [
      'specific-host-matches-listener-specific-host',
      'specific-host-matches-listener-wildcard-host',
      'wildcard-host-matches-listener-specific-host',
      'wildcard-host-matches-listener-wildcard-host',
    ]);
    has(routeParent(r, 'no-intersecting-hosts', gw), 'Accepted', 'False', 'NoMatchingListenerHostname');
    expectRequests(r, gw, 80, [
      [{ host: 'very.specific.com', path: '/s1' }, v1],
      [{ host: 'very.specific.com:1234', path: '/s1' }, v1],
      [{ host: 'non.matching.com', path: '/s1' }, notFound],
      [{ host: 'foo.nonmatchingwildcard.io', path: '/s1' }, notFound],
      [{ host: 'foo.wildcard.io', path: '/s1' }, notFound],
      [{ host: 'very.specific.com', path: '/non-matching-prefix' }, notFound],
      [{ host: 'foo.wildcard.io', path: '/s2' }, v2],
      [{ host: 'bar.wildcard.io', path: '/s2' }, v2],
      [{ host: 'foo.bar.wildcard.io', path: '/s2' }, v2],
      [{ host: 'non.matching.com', path: '/s2' }, notFound],
      [{ host: 'wildcard.io', path: '/s2' }, notFound],
      [{ host: 'very.specific.com', path: '/s2' }, notFound],
      [{ host: 'foo.wildcard.io', path: '/non-matching-prefix' }, notFound],
      [{ host: 'very.specific.com', path: '/s3' }, v3],
      [{ host: 'non.matching.com', path: '/s3' }, notFound],
      [{ host: 'foo.specific.com', path: '/s3' }, notFound],
      [{ host: 'foo.wildcard.io', path: '/s3' }, notFound],
      [{ host: 'foo.anotherwildcard.io', path: '/s4' }, v1],
      [{ host: 'bar.anotherwildcard.io', path: '/s4' }, v1],
      [{ host: 'foo.bar.anotherwildcard.io', path: '/s4' }, v1],
      [{ host: 'anotherwildcard.io', path: '/s4' }, notFound],
      [{ host: 'foo.wildcard.io', path: '/s4' }, notFound],
      [{ host: 'very.specific.com', path: '/s4' }, notFound],
    ]);
    gatewayAndRoutesAccepted(r, 'httproute-hostname-intersection-all', ['httproute-hostname-intersection-all']);
    expectRequests(
      r,
      'httproute-hostname-intersection-all',
      80,
      ['first.com', 'sub.first.com', 'second.com', 'sub.second.com'].map((host) => [{ host, path: '/' }, v2] as [Request, Outcome]),
    );
    expectRequests(r, 'httproute-hostname-intersection-all', 80, [[{ host: 'third.com', path: '/' }, notFound]]);
  });

  test('HTTPRouteListenerHostnameMatching', () => {
    const r = runScenario('conformance-httproute-listener-hostname-matching');
    const gw = 'httproute-listener-hostname-matching';
    gatewayAndRoutesAccepted(r, gw, ['backend-v1', 'backend-v2', 'backend-v3']);
    expectRequests(r, gw, 80, [
      [{ host: 'bar.com', path: '/' }, v1],
      [{ host: 'foo.bar.com', path: '/' }, v2],
      [{ host: 'baz.bar.com', path: '/' }, v3],
      [{ host: 'boo.bar.com', path: '/' }, v3],
      [{ host: 'multiple.prefixes.bar.com', path: '/' }, v3],
      [{ host: 'multiple.prefixes.foo.com', path: '/' }, v3],
      [{ host: 'foo.com', path: '/' }, notFound],
      [{ host: 'no.matching.host', path: '/' }, notFound],
    ]);
  });

  for (const [scenario, route, reason, path] of [
    ['invalid-backendref-unknown-kind', 'invalid-backend-ref-unknown-kind', 'InvalidKind', '/v2'],
    ['invalid-cross-namespace-backend-ref', 'invalid-cross-namespace-backend-ref', 'RefNotPermitted', '/'],
    ['invalid-nonexistent-backendref', 'invalid-nonexistent-backend-ref', 'BackendNotFound', '/'],
    ['invalid-reference-grant', 'reference-grant', 'RefNotPermitted', '/'],
  ] as const) {
    test(`HTTPRoute ${scenario}: Accepted, ResolvedRefs=False/${reason}, 500`, () => {
      const r = runScenario(`conformance-httproute-${scenario}`);
      gatewayAndRoutesAccepted(r, 'same-namespace', [route]);
      has(routeParent(r, route, 'same-namespace'), 'ResolvedRefs', 'False', reason, route);
      expectRequests(r, 'same-namespace', 80, [[{ path }, serverError]]);
    });
  }

  test('HTTPRoutePartiallyInvalidViaInvalidReferenceGrant', () => {
    const r = runScenario('conformance-httproute-partially-invalid-via-invalid-reference-grant');
    gatewayAndRoutesAccepted(r, 'same-namespace', ['invalid-reference-grant']);
    has(routeParent(r, 'invalid-reference-grant', 'same-namespace'), 'ResolvedRefs', 'False', 'RefNotPermitted');
    expectRequests(r, 'same-namespace', 80, [
      [{ path: '/v2' }, serverError],
      [{ path: '/' }, { backend: 'gateway-conformance-app-backend/app-backend-v1' }],
    ]);
  });

  test('HTTPRouteReferenceGrant', () => {
    const r = runScenario('conformance-httproute-reference-grant');
    gatewayAndRoutesAccepted(r, 'same-namespace', ['reference-grant']);
    has(routeParent(r, 'reference-grant', 'same-namespace'), 'ResolvedRefs', 'True', 'ResolvedRefs');
    expectRequests(r, 'same-namespace', 80, [[{ path: '/' }, { backend: 'gateway-conformance-web-backend/web-backend' }]]);
  });

  test('HTTPRouteInvalidCrossNamespaceParentRef', () => {
    const r = runScenario('conformance-httproute-invalid-cross-namespace-parent-ref');
    const web = 'gateway-conformance-web-backend';
    has(routeParent(r, 'invalid-cross-namespace-parent-ref', 'same-namespace', web), 'ResolvedRefs', 'True');
    notAcceptedAnywhere(r, 'invalid-cross-namespace-parent-ref', 'same-namespace', 'NotAllowedByListeners', web);
  });

  test('HTTPRouteInvalidParentRefNotMatchingSectionName / ListenerPort', () => {
    notAcceptedAnywhere(runScenario('conformance-httproute-invalid-parentref-not-matching-section-name'), 'httproute-listener-not-matching-section-name', 'same-namespace', 'NoMatchingParent');
    const r = runScenario('conformance-httproute-invalid-parentref-not-matching-listener-port');
    has(routeParent(r, 'httproute-listener-not-matching-route-port', 'same-namespace'), 'ResolvedRefs', 'True');
    notAcceptedAnywhere(r, 'httproute-listener-not-matching-route-port', 'same-namespace', 'NoMatchingParent');
  });

  test('HTTPRouteDisallowedKind', () => {
    const r = runScenario('conformance-httproute-disallowed-kind');
    has(routeParent(r, 'disallowed-kind', 'tlsroutes-only'), 'ResolvedRefs', 'True');
    notAcceptedAnywhere(r, 'disallowed-kind', 'tlsroutes-only', 'NotAllowedByListeners');
  });

  test('HTTPRouteCrossNamespace', () => {
    const r = runScenario('conformance-httproute-cross-namespace');
    gatewayAndRoutesAccepted(r, 'backend-namespaces', ['cross-namespace'], 'gateway-conformance-web-backend');
    expectRequests(r, 'backend-namespaces', 80, [[{ path: '/' }, { backend: 'gateway-conformance-web-backend/web-backend' }]]);
  });

  test('HTTPRouteHeaderMatching', () => {
    const r = runScenario('conformance-httproute-header-matching');
    gatewayAndRoutesAccepted(r, 'same-namespace', ['header-matching']);
    expectRequests(r, 'same-namespace', 80, [
      [{ path: '/', headers: { Version: 'one' } }, v1],
      [{ path: '/', headers: { Version: 'two' } }, v2],
      [{ path: '/', headers: { Version: 'two', Color: 'orange' } }, v1],
      [{ path: '/', headers: { Version: 'two', Color: 'blue' } }, v2],
      [{ path: '/', headers: { Color: 'orange' } }, notFound],
      [{ path: '/', headers: { 'Some-Other-Header': 'one' } }, notFound],
      [{ path: '/', headers: { Color: 'blue' } }, v1],
      [{ path: '/', headers: { Color: 'green' } }, v1],
      [{ path: '/', headers: { Color: 'red' } }, v2],
      [{ path: '/', headers: { Color: 'yellow' } }, v2],
      [{ path: '/', headers: { Color: 'purple' } }, notFound],
    ]);
  });

  test('HTTPRouteExactPathMatching', () => {
    const r = runScenario('conformance-httproute-exact-path-matching');
    gatewayAndRoutesAccepted(r, 'same-namespace', ['exact-matching']);
    expectRequests(r, 'same-namespace', 80, [
      [{ path: '/one' }, v1],
      [{ path: '/two' }, v2],
      [{ path: '/' }, notFound],
      [{ path: '/one/example' }, notFound],
      [{ path: '/two/' }, notFound],
      [{ path: '/Two' }, notFound],
    ]);
  });

  test('HTTPRouteWeight', () => {
    const r = runScenario('conformance-httproute-weight');
    gatewayAndRoutesAccepted(r, 'same-namespace', ['weighted-backends']);
    expectRequests(r, 'same-namespace', 80, [
      [
        { path: '/' },
        {
          split: [
            { ref: `${INFRA}/infra-backend-v1:8080`, weight: 70 },
            { ref: `${INFRA}/infra-backend-v2:8080`, weight: 30 },
          ],
        },
      ],
    ]);
    // The weight-0 backend stays in the config (dumps show every ref) and is never picked.
    const backends = configOf(r, 'same-namespace').ports[0]!.listeners[0]!.http!.routes[0]!.rules[0]!.backends;
    assert.deepEqual(backends.map((b) => b.weight), [70, 30, 0]);
  });

  test('HTTPRoutePathMatchOrder', () => {
    const r = runScenario('conformance-httproute-path-match-order');
    gatewayAndRoutesAccepted(r, 'same-namespace', ['path-matching-order']);
    expectRequests(r, 'same-namespace', 80, [
      [{ path: '/match/exact/one' }, v3],
      [{ path: '/match/exact' }, v2],
      [{ path: '/match' }, v1],
      [{ path: '/match/prefix/one/any' }, v2],
      [{ path: '/match/prefix/any' }, v1],
      [{ path: '/match/any' }, v3],
    ]);
  });

  test('HTTPRouteObservedGenerationBump', () => {
    const r = runScenario('conformance-httproute-observed-generation-bump');
    const conditions = routeParent(r, 'observed-generation-bump', 'same-namespace');
    has(conditions, 'Accepted', 'True');
    has(conditions, 'ResolvedRefs', 'True');
    allConditionsAt(conditions, 2, 'observed-generation-bump');
  });

  test('HTTPRouteHTTPSListener', () => {
    const r = runScenario('conformance-httproute-https-listener');
    const gw = 'same-namespace-with-https-listener';
    gatewayAndRoutesAccepted(r, gw, ['httproute-https-test', 'httproute-https-test-no-hostname']);
    for (const route of ['httproute-https-test', 'httproute-https-test-no-hostname']) has(routeParent(r, route, gw), 'ResolvedRefs', 'True');
    expectRequests(r, gw, 443, [
      [{ host: 'example.org', sni: 'example.org', path: '/' }, v1],
      [{ host: 'unknown-example.org', sni: 'unknown-example.org', path: '/' }, notFound],
      [{ host: 'second-example.org', sni: 'second-example.org', path: '/' }, v2],
    ]);
    const https = configOf(r, gw).ports.find((p) => p.port === 443)!.listeners;
    assert.ok(https.every((l) => l.protocol === 'HTTPS' && l.mode === 'Terminate' && l.certificates.length === 1));
  });

  test('HTTPRouteMultipleGateways', () => {
    const r = runScenario('conformance-httproute-multiple-gateways');
    gatewayAndRoutesAccepted(r, 'same-namespace', ['multiple-gateways-shared-route', 'same-namespace-dedicated-route']);
    gatewayAndRoutesAccepted(r, 'all-namespaces', ['multiple-gateways-shared-route', 'all-namespaces-dedicated-route']);
    expectRequests(r, 'same-namespace', 80, [
      [{ path: '/shared' }, v1],
      [{ path: '/' }, v2],
    ]);
    expectRequests(r, 'all-namespaces', 80, [
      [{ path: '/shared' }, v1],
      [{ path: '/' }, v3],
    ]);
  });

  test('HTTPRouteNoBackendRefs', () => {
    const r = runScenario('conformance-httproute-omitted-backendrefs');
    gatewayAndRoutesAccepted(r, 'same-namespace', ['omitted-backendrefs']);
    has(routeParent(r, 'omitted-backendrefs', 'same-namespace'), 'ResolvedRefs', 'True');
    expectRequests(r, 'same-namespace', 80, [
      [{ path: '/forward' }, v1],
      [{ path: '/omitted-no-forward' }, serverError],
      [{ path: '/empty-no-forward' }, serverError],
    ]);
  });

  test('HTTPRouteRedirectHostAndStatus', () => {
    const r = runScenario('conformance-httproute-redirect-host-and-status');
    gatewayAndRoutesAccepted(r, 'same-namespace', ['redirect-host-and-status']);
    expectRequests(r, 'same-namespace', 80, [
      [{ path: '/hostname-redirect' }, { redirect: { statusCode: 302, hostname: 'example.org' } }],
      [{ path: '/host-and-status' }, { redirect: { statusCode: 301, hostname: 'example.org' } }],
    ]);
  });

  test('HTTPRouteRequestHeaderModifier: the filters reach the config as written', () => {
    const r = runScenario('conformance-httproute-request-header-modifier');
    gatewayAndRoutesAccepted(r, 'same-namespace', ['request-header-modifier']);
    const routes = configOf(r, 'same-namespace').ports[0]!.listeners[0]!.http!.routes;
    const filters = routes[0]!.rules.map((rule) => rule.filters);
    assert.deepEqual(filters[0], [{ add: [], remove: [], set: [{ name: 'X-Header-Set', value: 'set-overwrites-values' }], type: 'RequestHeaderModifier' }]);
    assert.ok(filters.some((f) => f[0]?.type === 'RequestHeaderModifier' && f[0].remove.includes('X-Header-Remove')));
  });

  test('HTTPRouteServiceTypes: every Service kind has its endpoints', () => {
    const r = runScenario('conformance-httproute-service-types');
    gatewayAndRoutesAccepted(r, 'same-namespace', ['service-types']);
    has(routeParent(r, 'service-types', 'same-namespace'), 'ResolvedRefs', 'True');
    // Each path reaches infra-backend-v1's pod through a different kind of Service.
    expectRequests(r, 'same-namespace', 80, ['manual-endpointslices', 'headless-manual-endpointslices', 'headless'].map(
      (service) => [{ path: `/${service}` }, { backend: `${INFRA}/${service}` }] as [Request, Outcome],
    ));
    for (const rule of configOf(r, 'same-namespace').ports[0]!.listeners[0]!.http!.routes[0]!.rules) {
      for (const b of rule.backends) assert.deepEqual(b.endpoints, [{ address: '10.1.0.1', port: 3000 }], b.ref);
    }
  });

  test('GatewayWithAttachedRoutes', () => {
    const r = runScenario('conformance-gateway-with-attached-routes');
    const listener = (gw: string, name: string) => r.output.gateways.find((g) => g.name === gw)!.status.listeners!.find((l) => l.name === name)!;
    const one = listener('gateway-with-one-attached-route', 'http');
    assert.equal(one.attachedRoutes, 1);
    has(one.conditions, 'Accepted', 'True');
    has(one.conditions, 'ResolvedRefs', 'True');
    assert.equal(listener('gateway-with-two-attached-routes', 'http').attachedRoutes, 2);
    has(routeParent(r, 'http-route-not-accepted', 'gateway-with-two-attached-routes'), 'Accepted', 'False', 'NoMatchingListenerHostname');
    const unresolved = listener('unresolved-gateway-with-one-attached-unresolved-route', 'tls');
    assert.equal(unresolved.attachedRoutes, 1);
    assert.deepEqual(unresolved.supportedKinds, [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute' }]);
    has(unresolved.conditions, 'Programmed', 'False');
    has(unresolved.conditions, 'ResolvedRefs', 'False');
    has(routeParent(r, 'http-route-4', 'unresolved-gateway-with-one-attached-unresolved-route'), 'ResolvedRefs', 'False');
  });
});
