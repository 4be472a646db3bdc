// Property tests (fast-check) over whole translations: route precedence as encoded in
// the proxy config agrees with a brute-force reading of spec 3.4, attachment counts agree
// with hostname intersection, and the output never depends on input order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { translate, type Snapshot } from '../../../src/gatewayapi/translate.js';
import { intersectHostnames, matchesHostname, specificity } from '../../../src/gatewayapi/hostnames.js';
import type { Gateway, TLSRoute } from '../../../src/gatewayapi/types.js';
import type { ProxyConfig } from '../../../src/proxy-config.js';

const label = fc.constantFrom('a', 'b', 'example', 'com');
const name = fc.array(label, { minLength: 1, maxLength: 4 }).map((ls) => ls.join('.'));
const pattern = fc.tuple(fc.boolean(), name).map(([wild, n]) => (wild ? `*.${n}` : n));
const timestamp = fc.option(fc.constantFrom('2026-01-01T00:00:00Z', '2026-02-01T00:00:00Z', '2026-03-01T00:00:00Z'), { nil: undefined });

interface RouteSpec {
  namespace: string;
  name: string;
  hostnames: string[];
  created: string | undefined;
}

const routeSpecs = fc.uniqueArray(
  fc.record({
    namespace: fc.constantFrom('p', 'q'),
    name: fc.constantFrom('r1', 'r2', 'r3', 'r4', 'r5'),
    hostnames: fc.uniqueArray(pattern, { minLength: 1, maxLength: 3 }),
    created: timestamp,
  }),
  { minLength: 1, maxLength: 8, selector: (r) => `${r.namespace}/${r.name}` },
);
const listenerHostnames = fc.uniqueArray(fc.option(pattern, { nil: null }), { minLength: 1, maxLength: 4 });

function snapshotOf(listeners: (string | null)[], routes: RouteSpec[]): Snapshot {
  const gateway: Gateway = {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'Gateway',
    metadata: { name: 'gw', namespace: 'p' },
    spec: {
      gatewayClassName: 'tlsgate',
      listeners: listeners.map((hostname, i) => ({
        name: `l${i}`,
        port: 443,
        protocol: 'TLS',
        ...(hostname !== null ? { hostname } : {}),
        tls: { mode: 'Passthrough' },
        allowedRoutes: { namespaces: { from: 'All' } },
      })),
    },
  };
  const tlsRoutes: TLSRoute[] = routes.map((r) => ({
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'TLSRoute',
    metadata: { name: r.name, namespace: r.namespace, ...(r.created ? { creationTimestamp: r.created } : {}) },
    spec: {
      parentRefs: [{ name: 'gw', namespace: 'p' }],
      hostnames: r.hostnames,
      rules: [{ backendRefs: [{ name: 'svc', port: 443 }] }],
    },
  }));
  return {
    gatewayClasses: [{ metadata: { name: 'tlsgate' }, spec: { controllerName: 'tlsgate.dev/gateway-controller' } }],
    gateways: [gateway],
    tlsRoutes,
    httpRoutes: [],
    referenceGrants: [],
    services: ['p', 'q'].map((ns) => ({ metadata: { name: 'svc', namespace: ns }, spec: { ports: [{ port: 443, targetPort: 8443 }] } })),
    endpointSlices: [],
    secrets: [],
    namespaces: [],
  };
}

/** What the proxy does with a config: first matching listener, first matching hostname entry. */
function lookup(config: ProxyConfig, sni: string): string {
  const listener = config.ports[0]?.listeners.find((l) => matchesHostname(l.hostname, sni));
  if (!listener) return 'reject';
  const entry = listener.hostnames.find((h) => matchesHostname(h.hostname, sni));
  if (!entry) return 'reject';
  const route = listener.routes[entry.route]!;
  return `${route.namespace}/${route.name}`;
}

/** Spec 3.4 read literally, over every (listener, route, hostname) triple. */
function oracle(listeners: (string | null)[], routes: RouteSpec[], sni: string): string {
  const matching = listeners.filter((l) => matchesHostname(l, sni)).sort((a, b) => specificity(b) - specificity(a));
  const listener = matching[0];
  if (listener === undefined) return 'reject';
  let best: { key: [number, number, number, string]; id: string } | undefined;
  for (const r of routes) {
    for (const original of r.hostnames) {
      const h = intersectHostnames(listener, original);
      if (h === null || !matchesHostname(h, sni)) continue;
      const id = `${r.namespace}/${r.name}`;
      const key: [number, number, number, string] = [
        -specificity(h),
        -specificity(original),
        r.created ? Date.parse(r.created) : Number.POSITIVE_INFINITY,
        id,
      ];
      if (!best || compareKeys(key, best.key) < 0) best = { key, id };
    }
  }
  return best ? best.id : 'reject';
}

function compareKeys(a: [number, number, number, string], b: [number, number, number, string]): number {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return (a[i] as number) < (b[i] as number) ? -1 : 1;
  return a[3] < b[3] ? -1 : a[3] > b[3] ? 1 : 0;
}

const now = new Date('2027-01-01T00:00:00Z');

test('the proxy config routes every SNI to the route spec 3.4 picks', () => {
  fc.assert(
    fc.property(listenerHostnames, routeSpecs, fc.array(name, { minLength: 1, maxLength: 6 }), (listeners, routes, snis) => {
      const out = translate({ snapshot: snapshotOf(listeners, routes), now });
      const config = out.proxyConfigs[0]!;
      for (const sni of snis) assert.equal(lookup(config, sni), oracle(listeners, routes, sni), `SNI ${sni}`);
    }),
    { numRuns: 300 },
  );
});

test('attachedRoutes counts the routes whose hostnames intersect the listener', () => {
  fc.assert(
    fc.property(listenerHostnames, routeSpecs, (listeners, routes) => {
      const out = translate({ snapshot: snapshotOf(listeners, routes), now });
      const status = out.gateways[0]!.status.listeners!;
      listeners.forEach((l, i) => {
        const expected = routes.filter((r) => r.hostnames.some((h) => intersectHostnames(l, h) !== null)).length;
        assert.equal(status[i]!.attachedRoutes, expected, `listener ${l}`);
      });
      for (const route of out.tlsRoutes) {
        const spec = routes.find((r) => r.namespace === route.namespace && r.name === route.name)!;
        const attaches = listeners.some((l) => spec.hostnames.some((h) => intersectHostnames(l, h) !== null));
        assert.equal(route.status.parents[0]!.conditions.find((c) => c.type === 'Accepted')!.status, attaches ? 'True' : 'False');
      }
    }),
  );
});

test('output does not depend on the order of routes or listeners in the input', () => {
  fc.assert(
    fc.property(listenerHostnames, routeSpecs, fc.nat(), (listeners, routes, seed) => {
      const snapshot = snapshotOf(listeners, routes);
      const shuffled = snapshotOf(listeners, routes);
      shuffled.tlsRoutes = shuffle(shuffled.tlsRoutes, seed);
      const a = translate({ snapshot, now });
      const b = translate({ snapshot: shuffled, now });
      assert.deepEqual(b, a);
      // Listener order in the spec changes only the order of listener statuses, never the config.
      const reversed = snapshotOf([...listeners].reverse(), routes);
      const c = translate({ snapshot: reversed, now });
      const stripNames = (cfg: ProxyConfig) =>
        cfg.ports.map((p) => p.listeners.map((l) => ({ ...l, name: '' })));
      assert.deepEqual(stripNames(c.proxyConfigs[0]!), stripNames(a.proxyConfigs[0]!));
    }),
  );
});

function shuffle<T>(items: T[], seed: number): T[] {
  const out = [...items];
  let s = seed + 1;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2147483648;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
