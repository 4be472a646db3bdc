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

