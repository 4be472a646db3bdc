// HTTP translate pieces on their own: durations, match defaults and precedence, filter
// parsing, port sharing between HTTP/HTTPS/TLS listeners, rules tlsgate cannot serve, backend
// appProtocols, and virtual hosts that defer to more specific route hostnames.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseGatewayDuration } from '../../../src/gatewayapi/durations.js';
import { compareMatchSpecificity, compileMatch, normalizePathPrefix } from '../../../src/gatewayapi/http-matches.js';
import { compileFilters } from '../../../src/gatewayapi/http-filters.js';
import { translate, type Snapshot } from '../../../src/gatewayapi/translate.js';
import type { HttpMatchConfig, ListenerConfig } from '../../../src/proxy-config.js';
import type { Gateway, HTTPRoute, HTTPRouteRule, Listener } from '../../../src/gatewayapi/types.js';

const now = new Date('2027-01-01T00:00:00Z');

test('Gateway API durations: units summed, anything else refused', () => {
  assert.equal(parseGatewayDuration('1s'), 1000);
  assert.equal(parseGatewayDuration('500ms'), 500);
  assert.equal(parseGatewayDuration('1h2m'), 3_720_000);
  assert.equal(parseGatewayDuration('1m30s'), 90_000);
  assert.equal(parseGatewayDuration('2h1m3s4ms'), 7_263_004);
  assert.equal(parseGatewayDuration('0s'), 0);
  for (const bad of ['', '1', '1.5s', '-1s', '1us', '100000s', '1h1m1s1ms1s', 's', ' 1s', 10]) {
    assert.equal(parseGatewayDuration(bad), undefined, String(bad));
  }
});

test('matches: upstream defaults, prefixes without trailing slash, header names lowercased', () => {
  assert.deepEqual(compileMatch({}, 'm'), { ok: true, match: { headers: [], path: { type: 'PathPrefix', value: '/' }, queryParams: [] } });
  assert.equal(normalizePathPrefix('/match/'), '/match');
  assert.equal(normalizePathPrefix('/a//'), '/a');
  assert.equal(normalizePathPrefix('/'), '/');
  const compiled = compileMatch({ path: { value: '/v2/' }, headers: [{ name: 'Version', value: 'two' }], queryParams: [{ name: 'Q', value: 'x', type: 'RegularExpression' }], method: 'GET' }, 'm');
  assert.deepEqual(compiled, {
    ok: true,
    match: {
      headers: [{ name: 'version', type: 'Exact', value: 'two' }],
      method: 'GET',
      path: { type: 'PathPrefix', value: '/v2' },
      queryParams: [{ name: 'Q', type: 'RegularExpression', value: 'x' }],
    },
  });
  // Values the proxy could not evaluate are errors naming the field.
  const errors: [Parameters<typeof compileMatch>[0], RegExp][] = [
    [{ path: { type: 'Exact', value: 'relative' } }, /m\.path\.value must start with "\/"/],
    [{ path: { type: 'RegularExpression', value: '/(' } }, /m\.path\.value is not a valid regular expression/],
    // Compiles only anchored as the proxy runs it (^(?:...)$), not as written.
    [{ headers: [{ name: 'x', type: 'RegularExpression', value: 'a)(b' }] }, /m\.headers\[0\]\.value is not a valid regular expression/],
    [{ path: { type: 'Glob', value: '/x' } }, /m\.path\.type Glob is not supported/],
    [{ headers: [{ name: 'bad header', value: 'x' }] }, /m\.headers\[0\]\.name "bad header" is not a valid header name/],
    [{ method: 'FETCH' }, /m\.method FETCH/],
  ];
  for (const [match, message] of errors) {
    const result = compileMatch(match, 'm');
    assert.equal(result.ok, false);
    assert.match((result as { error: string }).error, message);
  }
});

const m = (type: HttpMatchConfig['path']['type'], value: string, extra: Partial<HttpMatchConfig> = {}): HttpMatchConfig => ({
  headers: [],
  path: { type, value },
  queryParams: [],
  ...extra,
});

test('match precedence: Exact, longest prefix, regex; then method, headers, query parameters', () => {
  const header = { name: 'h', type: 'Exact' as const, value: 'v' };
  const ordered = [
    m('Exact', '/a/b'),
    m('Exact', '/a'),
    m('PathPrefix', '/a/b'),
    m('PathPrefix', '/a', { method: 'GET' }),
    m('PathPrefix', '/a', { headers: [header, header] }),
    m('PathPrefix', '/a', { headers: [header], queryParams: [header] }),
    m('PathPrefix', '/a', { headers: [header] }),
    m('PathPrefix', '/a', { queryParams: [header] }),
    m('PathPrefix', '/a'),
    m('PathPrefix', '/'),
    m('RegularExpression', '/a/.*'),
  ];
  fc.assert(
    fc.property(fc.shuffledSubarray(ordered, { minLength: ordered.length }), (shuffled) => {
      assert.deepEqual([...shuffled].sort(compareMatchSpecificity), ordered);
    }),
    { numRuns: 50 },
  );
});

test('filters: what the proxy runs, and every unsupported filter an error naming the field', () => {
  const ok = compileFilters(
    [
      { type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'X-A', value: '1' }], add: [{ name: 'X-B', value: '2' }], remove: ['X-C'] } },
      { type: 'RequestRedirect', requestRedirect: { scheme: 'https', port: 8443, path: { type: 'ReplaceFullPath', replaceFullPath: '/x' } } },
    ],
    'f',
    'rule',
  );
  assert.deepEqual(ok, {
    ok: true,
    filters: [
      { add: [{ name: 'X-B', value: '2' }], remove: ['X-C'], set: [{ name: 'X-A', value: '1' }], type: 'RequestHeaderModifier' },
      { path: { type: 'ReplaceFullPath', value: '/x' }, port: 8443, scheme: 'https', statusCode: 302, type: 'RequestRedirect' },
    ],
  });
  const cases: [unknown[], 'rule' | 'backend', string, RegExp][] = [
    [[{ type: 'RequestMirror', requestMirror: {} }], 'rule', 'UnsupportedValue', /f\[0\]: filter type RequestMirror is not supported/],
    [[{ type: 'CORS', cors: {} }], 'rule', 'UnsupportedValue', /filter type CORS/],
    [[{ type: 'ExtensionRef', extensionRef: { group: 'x', kind: 'y', name: 'z' } }], 'rule', 'UnsupportedValue', /filter type ExtensionRef/],
    [[{ type: 'RequestRedirect', requestRedirect: { statusCode: 305 } }], 'rule', 'UnsupportedValue', /statusCode 305/],
    [[{ type: 'RequestRedirect', requestRedirect: {} }], 'backend', 'UnsupportedValue', /not supported in backendRefs/],
    [[{ type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'X', value: 'a\r\nb' }] } }], 'rule', 'UnsupportedValue', /set\[0\]\.value/],
    [[{ type: 'RequestHeaderModifier' }], 'rule', 'UnsupportedValue', /requestHeaderModifier is required/],
    [[{ type: 'URLRewrite', urlRewrite: {} }, { type: 'URLRewrite', urlRewrite: {} }], 'rule', 'UnsupportedValue', /appears more than once/],
    [[{ type: 'URLRewrite', urlRewrite: { hostname: '*.example.com' } }], 'rule', 'UnsupportedValue', /urlRewrite\.hostname "\*\.example\.com" is not a hostname/],
    [[{ type: 'RequestRedirect', requestRedirect: { path: { type: 'ReplaceFullPath', replaceFullPath: 'no-slash' } } }], 'rule', 'UnsupportedValue', /replaceFullPath "no-slash" must start with "\/"/],
    [[{ type: 'URLRewrite', urlRewrite: { hostname: 'h' } }, { type: 'RequestRedirect', requestRedirect: {} }], 'rule', 'IncompatibleFilters', /cannot be combined/],
  ];
  for (const [list, place, reason, message] of cases) {
    const result = compileFilters(list, 'f', place);
    assert.equal(result.ok, false, JSON.stringify(list));
    assert.equal((result as { reason: string }).reason, reason);
    assert.match((result as { error: string }).error, message);
  }
});

// ---------------------------------------------------------------- whole translations

function snapshotWith(listeners: Listener[], routes: HTTPRoute[], extra: Partial<Snapshot> = {}): Snapshot {
  const gateway: Gateway = { metadata: { name: 'gw', namespace: 'ns' }, spec: { gatewayClassName: 'c', listeners } };
  return {
    gatewayClasses: [{ metadata: { name: 'c' }, spec: { controllerName: 'tlsgate.dev/gateway-controller' } }],
    gateways: [gateway],
    tlsRoutes: [],
    httpRoutes: routes,
    referenceGrants: [],
    services: [
      { metadata: { name: 'svc', namespace: 'ns' }, spec: { ports: [{ name: 'http', port: 80, targetPort: 8080 }, { name: 'h2c', port: 81, appProtocol: 'kubernetes.io/h2c' }, { name: 'ws', port: 82, appProtocol: 'kubernetes.io/ws' }] } },
    ],
    endpointSlices: [
      {
        metadata: { name: 'svc-1', namespace: 'ns', labels: { 'kubernetes.io/service-name': 'svc' } },
        endpoints: [{ addresses: ['10.0.0.1'] }],
        ports: [{ name: 'http', port: 8080 }, { name: 'h2c', port: 8081 }, { name: 'ws', port: 8082 }],
      },
    ],
    secrets: [],
    namespaces: [],
    ...extra,
  };
}

const httpRoute = (name: string, rules: HTTPRouteRule[], hostnames?: string[], created?: string): HTTPRoute => ({
  metadata: { name, namespace: 'ns', ...(created ? { creationTimestamp: created } : {}) },
  spec: { parentRefs: [{ name: 'gw' }], ...(hostnames ? { hostnames } : {}), rules },
});

function conditionsOf(out: ReturnType<typeof translate>, route: string) {
  const entry = out.httpRoutes.find((r) => r.name === route);
  assert.ok(entry, route);
  return Object.fromEntries(entry.status.parents[0]!.conditions.map((c) => [c.type, c]));
}

test('port sharing: HTTPS beside TLS by SNI, HTTP only beside HTTP, equal hostnames conflict across HTTPS and TLS', () => {
  const out = translate({
    snapshot: snapshotWith(
      [
        { name: 'db', protocol: 'TLS', port: 443, hostname: 'db.example.com', tls: { mode: 'Passthrough' } },
        { name: 'web', protocol: 'HTTPS', port: 443, hostname: 'web.example.com', tls: { certificateRefs: [{ name: 'missing' }] } },
        { name: 'same-a', protocol: 'TLS', port: 8443, hostname: 'x.example.com', tls: { mode: 'Passthrough' } },
        { name: 'same-b', protocol: 'HTTPS', port: 8443, hostname: 'x.example.com', tls: {} },
        { name: 'plain', protocol: 'HTTP', port: 80 },
        { name: 'plain-b', protocol: 'HTTP', port: 80, hostname: 'b.example.com' },
        { name: 'mixed-http', protocol: 'HTTP', port: 9000 },
        { name: 'mixed-https', protocol: 'HTTPS', port: 9000, hostname: 'm.example.com', tls: {} },
        { name: 'http-with-tls', protocol: 'HTTP', port: 9100, tls: {} },
      ],
      [],
    ),
    now,
  });
  const byName = Object.fromEntries(out.gateways[0]!.status.listeners!.map((l) => [l.name, Object.fromEntries(l.conditions.map((c) => [c.type, c]))]));
  for (const name of ['db', 'web', 'plain', 'plain-b']) assert.equal(byName[name]!.Conflicted!.status, 'False', name);
  for (const name of ['same-a', 'same-b']) assert.equal(byName[name]!.Conflicted!.reason, 'HostnameConflict', name);
  for (const name of ['mixed-http', 'mixed-https']) assert.equal(byName[name]!.Conflicted!.reason, 'ProtocolConflict', name);
  assert.equal(byName['http-with-tls']!.Accepted!.reason, 'UnsupportedValue');
  // The HTTPS listener with a missing Secret is Accepted but cannot serve, like a Terminate TLS listener.
  assert.equal(byName.web!.Accepted!.status, 'True');
  assert.equal(byName.web!.ResolvedRefs!.reason, 'InvalidCertificateRef');
  assert.equal(byName.web!.Programmed!.reason, 'Invalid');
  const port443 = out.proxyConfigs[0]!.ports.find((p) => p.port === 443)!.listeners;
  assert.deepEqual(port443.map((l) => [l.name, l.protocol ?? 'TLS', l.reject ?? null]), [
    ['db', 'TLS', null],
    ['web', 'HTTPS', 'invalid certificate'],
  ]);
});

test('a rule tlsgate cannot serve answers 500 and the route says Dropped Rule; with no rule left it is not Accepted', () => {
  const backend = { name: 'svc', port: 80 };
  const out = translate({
    snapshot: snapshotWith(
      [{ name: 'http', protocol: 'HTTP', port: 80 }],
      [
        httpRoute('partly', [{ backendRefs: [backend] }, { matches: [{ path: { value: '/m' } }], filters: [{ type: 'RequestMirror', requestMirror: {} }], backendRefs: [backend] }]),
        httpRoute('wholly', [{ filters: [{ type: 'ExtensionRef', extensionRef: { group: 'x.io', kind: 'K', name: 'n' } }], backendRefs: [backend] }], ['other.example.com']),
        httpRoute('bad-timeout', [{ timeouts: { request: 'soon' }, backendRefs: [backend] }], ['t.example.com']),
      ],
    ),
    now,
  });
  const partly = conditionsOf(out, 'partly');
  assert.equal(partly.Accepted!.status, 'True');
  assert.equal(partly.PartiallyInvalid!.status, 'True');
  assert.equal(partly.PartiallyInvalid!.reason, 'UnsupportedValue');
  assert.match(partly.PartiallyInvalid!.message, /^Dropped Rule\(s\) spec\.rules\[1\]: the requests they match get HTTP 500 .*RequestMirror/);
  const wholly = conditionsOf(out, 'wholly');
  assert.equal(wholly.Accepted!.status, 'False');
  assert.equal(wholly.Accepted!.reason, 'UnsupportedValue');
  assert.equal(wholly.PartiallyInvalid, undefined, 'PartiallyInvalid only ever with Accepted=True');
  assert.match(conditionsOf(out, 'bad-timeout').Accepted!.message, /timeouts\.request "soon" is not a Gateway API duration/);
  const http = out.proxyConfigs[0]!.ports[0]!.listeners[0]!.http!;
  assert.deepEqual(http.routes.map((r) => r.name), ['partly'], 'only Accepted routes are served');
  assert.deepEqual(http.routes[0]!.rules[1], { backends: [], filters: [] }, 'the dropped rule answers 500');
  // Its match stays, so that /m is not handed to the catch-all rule.
  assert.deepEqual(http.virtualHosts[0]!.matches.map((e) => [e.rule, e.match.path.value]), [[1, '/m'], [0, '/']]);
  assert.equal(out.gateways[0]!.status.listeners![0]!.attachedRoutes, 1);
});

test('backends: an appProtocol the proxy cannot speak is UnsupportedProtocol; WebSocket and plain ports are fine', () => {
  const out = translate({
    snapshot: snapshotWith(
      [{ name: 'http', protocol: 'HTTP', port: 80 }],
      [httpRoute('r', [{ backendRefs: [{ name: 'svc', port: 80 }, { name: 'svc', port: 82 }, { name: 'svc', port: 81 }] }])],
    ),
    now,
  });
  const c = conditionsOf(out, 'r');
  assert.equal(c.ResolvedRefs!.reason, 'UnsupportedProtocol');
  assert.match(c.ResolvedRefs!.message, /spec\.rules\[0\]\.backendRefs\[2\]: Service ns\/svc port 81 has appProtocol kubernetes\.io\/h2c/);
  const backends = out.proxyConfigs[0]!.ports[0]!.listeners[0]!.http!.routes[0]!.rules[0]!.backends;
  assert.deepEqual(backends.map((b) => [b.ref, b.endpoints.map((e) => e.port), b.reject ?? null]), [
    ['ns/svc:80', [8080], null],
    ['ns/svc:82', [8082], null],
    ['ns/svc:81', [], `Service ns/svc port 81 has appProtocol kubernetes.io/h2c; the proxy speaks HTTP/1.1 (and WebSocket upgrades) to backends`],
  ]);
});

test('rules: timeouts in ms, per-backend filters, names, and no rules meaning one catch-all rule without backends', () => {
  const out = translate({
    snapshot: snapshotWith(
      [{ name: 'http', protocol: 'HTTP', port: 80 }],
      [
        httpRoute('a', [
          {
            name: 'api',
            timeouts: { request: '10s', backendRequest: '500ms' },
            backendRefs: [{ name: 'svc', port: 80, weight: 2, filters: [{ type: 'ResponseHeaderModifier', responseHeaderModifier: { add: [{ name: 'X-Via', value: 'tlsgate' }] } }] }],
          },
          { timeouts: { request: '0s' }, backendRefs: [{ name: 'svc', port: 80 }] },
        ], ['a.example.com']),
        { metadata: { name: 'b', namespace: 'ns' }, spec: { parentRefs: [{ name: 'gw' }], hostnames: ['b.example.com'] } },
      ],
    ),
    now,
  });
  const routes = out.proxyConfigs[0]!.ports[0]!.listeners[0]!.http!.routes;
  assert.deepEqual(routes[0]!.rules[0], {
    backends: [
      {
        endpoints: [{ address: '10.0.0.1', port: 8080 }],
        filters: [{ add: [{ name: 'X-Via', value: 'tlsgate' }], remove: [], set: [], type: 'ResponseHeaderModifier' }],
        ref: 'ns/svc:80',
        weight: 2,
      },
    ],
    filters: [],
    name: 'api',
    timeouts: { backendRequestMs: 500, requestMs: 10_000 },
  });
  assert.equal(routes[0]!.rules[1]!.timeouts, undefined, '0s means no timeout');
  assert.deepEqual(routes[1]!.rules, [{ backends: [], filters: [] }]);
  assert.equal(conditionsOf(out, 'b').ResolvedRefs!.status, 'True', 'nothing to resolve');
});

test('virtual hosts: the more specific route hostname first, then less specific routes that cover it, then match precedence and age', () => {
  const backend = [{ name: 'svc', port: 80 }];
  const out = translate({
    snapshot: snapshotWith(
      [{ name: 'http', protocol: 'HTTP', port: 80 }],
      [
        httpRoute('wild', [{ matches: [{ path: { type: 'Exact', value: '/only-wild' } }, { path: { value: '/' } }], backendRefs: backend }], ['*.example.com']),
        httpRoute('exact', [{ matches: [{ path: { value: '/app' } }], backendRefs: backend }], ['foo.example.com']),
        httpRoute('any-old', [{ matches: [{ path: { value: '/' } }], backendRefs: backend }], undefined, '2026-01-01T00:00:00Z'),
        httpRoute('any-new', [{ matches: [{ path: { value: '/' } }], backendRefs: backend }], undefined, '2026-06-01T00:00:00Z'),
      ],
    ),
    now,
  });
  const http = (out.proxyConfigs[0]!.ports[0]!.listeners[0] as ListenerConfig).http!;
  const names = http.routes.map((r) => r.name);
  const table = http.virtualHosts.map((v) => [v.hostname, v.matches.map((e) => `${names[e.route]}${e.match.path.value}`)]);
  assert.deepEqual(table, [
    ['foo.example.com', ['exact/app', 'wild/only-wild', 'wild/', 'any-old/', 'any-new/']],
    ['*.example.com', ['wild/only-wild', 'wild/', 'any-old/', 'any-new/']],
    ['*', ['any-old/', 'any-new/']],
  ]);
});

test('HTTPRoute output does not depend on the order of the routes', () => {
  const routes = [
    httpRoute('r1', [{ matches: [{ path: { value: '/a' } }], backendRefs: [{ name: 'svc', port: 80 }] }], ['a.example.com', '*.example.com']),
    httpRoute('r2', [{ matches: [{ path: { value: '/a' }, headers: [{ name: 'x', value: '1' }] }], backendRefs: [{ name: 'svc', port: 80 }] }], ['a.example.com']),
    httpRoute('r3', [{ backendRefs: [{ name: 'nope', port: 80 }] }]),
    httpRoute('r4', [{ matches: [{ path: { type: 'Exact', value: '/a' } }] }], ['*.com']),
  ];
  const listeners: Listener[] = [
    { name: 'h1', protocol: 'HTTP', port: 80 },
    { name: 'h2', protocol: 'HTTP', port: 80, hostname: '*.example.com' },
  ];
  const reference = JSON.stringify(translate({ snapshot: snapshotWith(listeners, routes), now }));
  fc.assert(
    fc.property(fc.shuffledSubarray(routes, { minLength: routes.length }), (shuffled) => {
      assert.equal(JSON.stringify(translate({ snapshot: snapshotWith(listeners, shuffled), now })), reference);
    }),
    { numRuns: 40 },
  );
});
