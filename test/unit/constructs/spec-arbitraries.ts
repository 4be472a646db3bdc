// Random Gateway and TLSRoute specs for the property tests: mostly valid values with some
// invalid ones mixed in (patterns, ranges, counts, duplicates, IPs), so that both outcomes
// are common and every CRD rule, CEL included, gets exercised.
import fc from 'fast-check';

const text = fc.stringMatching(/^[a-zA-Z0-9.*\-_ ]{0,12}$/);
const dnsish = fc.oneof(
  { weight: 16, arbitrary: fc.constantFrom('app.example.com', '*.example.com', 'a', 'x-1.y', 'gateway.networking.k8s.io') },
  { weight: 1, arbitrary: fc.constantFrom('', 'A', '-a', 'a..b', '10.0.0.1', 'a.*.b') },
  { weight: 1, arbitrary: text },
);
// Few distinct ports, so that listeners collide on port/protocol/hostname now and then.
const port = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(443, 8443) },
  { weight: 4, arbitrary: fc.integer({ min: 1, max: 65535 }) },
  { weight: 1, arbitrary: fc.constantFrom(0, -1, 65536, 1.5) },
);
const maybe = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.option(arb, { nil: undefined, freq: 2 });
/** Absent 80 % of the time: parentRefs then often name the same parent. */
const rarely = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> =>
  fc.oneof({ weight: 4, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: arb });
const kindish = fc.oneof({ weight: 12, arbitrary: fc.constantFrom('Service', 'Gateway', 'TLSRoute', 'Secret') }, { weight: 1, arbitrary: text });
const defined = <T extends object>(o: T): T => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;

const parentRef = fc.record({ name: dnsish, namespace: rarely(dnsish), sectionName: maybe(dnsish), port: rarely(port), group: rarely(dnsish), kind: rarely(kindish) }).map(defined);
const backendRef = fc
  .record({ name: dnsish, namespace: maybe(dnsish), port: maybe(port), weight: maybe(fc.integer({ min: -2, max: 1_000_002 })), group: maybe(dnsish), kind: maybe(kindish) })
  .map(defined);
export const tlsRouteSpecs = fc.record({
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
export const gatewaySpecs = fc.record({ gatewayClassName: dnsish, listeners: fc.array(listener, { maxLength: 3 }) });


// ---- HTTPRoute ----------------------------------------------------------------------------

const pathValue = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom('/', '/api', '/a/b', '/%20x', '^/v[0-9]+/.*$') },
  { weight: 2, arbitrary: fc.constantFrom('api', '/a//b', '/a/./b', '/a/../b', '/a%2fb', '/a%2Fb', '/a#b', '/a/..', '/a/.', '/a b', '') },
);
const headerName = fc.oneof({ weight: 8, arbitrary: fc.constantFrom('x-env', 'X-Env', 'accept', 'q') }, { weight: 1, arbitrary: fc.constantFrom('', 'a b', 'a:b') });
const headerValue = fc.oneof({ weight: 8, arbitrary: fc.constantFrom('v', 'canary', '^[0-9]+$') }, { weight: 1, arbitrary: fc.constantFrom('') });
const valueMatch = fc.record({ name: headerName, value: headerValue, type: maybe(fc.constantFrom('Exact', 'RegularExpression', 'Prefix')) }).map(defined);
const match = fc
  .record({
    path: maybe(fc.record({ type: maybe(fc.constantFrom('Exact', 'PathPrefix', 'RegularExpression', 'Regex')), value: maybe(pathValue) }).map(defined)),
    headers: maybe(fc.array(valueMatch, { maxLength: 2 })),
    queryParams: maybe(fc.array(valueMatch, { maxLength: 2 })),
    method: maybe(fc.constantFrom('GET', 'POST', 'get')),
  })
  .map(defined);
const header = fc.record({ name: headerName, value: headerValue });
const headerModifier = fc.record({ set: maybe(fc.array(header, { maxLength: 2 })), add: maybe(fc.array(header, { maxLength: 2 })), remove: maybe(fc.array(headerName, { maxLength: 2 })) }).map(defined);
const pathModifier = fc
  .record({
    type: fc.constantFrom('ReplaceFullPath', 'ReplacePrefixMatch', 'ReplaceAll'),
    replaceFullPath: maybe(fc.constantFrom('/new', '')),
    replacePrefixMatch: maybe(fc.constantFrom('/v2', '/')),
  })
  .map(defined);
const smallBackendRef = fc.record({ name: dnsish, port: maybe(port), group: rarely(dnsish), kind: rarely(kindish) }).map(defined);
const filterBody = {
  requestHeaderModifier: headerModifier,
  responseHeaderModifier: headerModifier,
  requestRedirect: fc.record({ scheme: maybe(fc.constantFrom('http', 'https', 'ftp')), hostname: maybe(dnsish), port: maybe(port), statusCode: maybe(fc.constantFrom(301, 302, 308, 300)), path: maybe(pathModifier) }).map(defined),
  urlRewrite: fc.record({ hostname: maybe(dnsish), path: maybe(pathModifier) }).map(defined),
  requestMirror: fc.record({ backendRef: smallBackendRef, percent: rarely(fc.integer({ min: -1, max: 101 })), fraction: rarely(fc.record({ numerator: fc.integer({ min: -1, max: 120 }), denominator: maybe(fc.integer({ min: 0, max: 100 })) }).map(defined)) }).map(defined),
  cors: fc.record({
    allowOrigins: maybe(fc.array(fc.constantFrom('*', 'https://a.example.com', 'http://*.example.com:8080', 'example.com'), { maxLength: 2 })),
    allowMethods: maybe(fc.array(fc.constantFrom('GET', 'POST', '*', 'FETCH'), { maxLength: 2 })),
    allowHeaders: maybe(fc.array(fc.constantFrom('x-a', '*', 'a b'), { maxLength: 2 })),
    maxAge: maybe(fc.integer({ min: 0, max: 100 })),
  }).map(defined),
  extensionRef: fc.record({ group: fc.constantFrom('', 'example.com', 'Example'), kind: kindish, name: dnsish }),
} as const;
type FilterField = keyof typeof filterBody;
const FILTER_TYPE: Record<FilterField, string> = {
  requestHeaderModifier: 'RequestHeaderModifier',
  responseHeaderModifier: 'ResponseHeaderModifier',
  requestRedirect: 'RequestRedirect',
  urlRewrite: 'URLRewrite',
  requestMirror: 'RequestMirror',
  cors: 'CORS',
  extensionRef: 'ExtensionRef',
};
/** Mostly a type with its own field; sometimes another type's field, or a type that does not exist. */
const filter = fc.oneof(
  { weight: 10, arbitrary: fc.constantFrom(...(Object.keys(filterBody) as FilterField[])).chain((field) => filterBody[field].map((body) => ({ type: FILTER_TYPE[field], [field]: body }))) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...Object.values(FILTER_TYPE), 'Retry'), fc.constantFrom(...(Object.keys(filterBody) as FilterField[]))).chain(([type, field]) => filterBody[field].map((body) => ({ type, [field]: body }))) },
);
const httpBackendRef = fc
  .record({ name: dnsish, namespace: rarely(dnsish), port: maybe(port), weight: maybe(fc.integer({ min: -2, max: 1_000_002 })), group: rarely(dnsish), kind: rarely(kindish), filters: rarely(fc.array(filter, { maxLength: 2 })) })
  .map(defined);
const duration = fc.oneof({ weight: 6, arbitrary: fc.constantFrom('0s', '1s', '500ms', '1m', '1m30s', '2h') }, { weight: 1, arbitrary: fc.constantFrom('1.5s', '10', '1h1m1s1ms1h') });
const rule = fc
  .record({
    name: rarely(dnsish),
    matches: maybe(fc.array(match, { maxLength: 2 })),
    filters: maybe(fc.array(filter, { maxLength: 2 })),
    backendRefs: maybe(fc.array(httpBackendRef, { maxLength: 2 })),
    timeouts: rarely(fc.record({ request: maybe(duration), backendRequest: maybe(duration) }).map(defined)),
  })
  .map(defined);
export const httpRouteSpecs = fc
  .record({
    parentRefs: maybe(fc.array(parentRef, { maxLength: 2 })),
    hostnames: maybe(fc.array(dnsish, { maxLength: 2 })),
    rules: maybe(fc.array(rule, { maxLength: 2 })),
  })
  .map(defined);
