// The v1.6.1 ListenerSet conformance tests (sigs.k8s.io/gateway-api/conformance@v1.6.1,
// tests/listenerset-*.go), checked on their golden scenarios the way the upstream suite checks a
// cluster: Gateway `attachedListenerSets`, ListenerSet conditions and listener entries, route
// parent entries with a ListenerSet parent, and each test's HTTP requests replayed against the
// proxy config by a reference reading of src/proxy-config.ts (listener by Host, most specific
// virtual host, first path match). The goldens pin the exact output; this file says why it is right.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { runScenario, type ScenarioResult } from '../../golden/golden.js';
import { matchesHostname } from '../../../src/gatewayapi/hostnames.js';
import type { ProxyConfig } from '../../../src/proxy-config.js';
import type { Condition, ListenerStatus } from '../../../src/gatewayapi/types.js';

const INFRA = 'gateway-conformance-infra';
const GROUP = 'gateway.networking.k8s.io';

function has(conditions: readonly Condition[] | undefined, type: string, status: 'True' | 'False', reason: string | undefined, where: string): void {
  const c = conditions?.find((x) => x.type === type);
  assert.ok(c, `${where} has ${type}`);
  assert.equal(c.status, status, `${where} ${type} status (${c.reason}: ${c.message})`);
  if (reason !== undefined) assert.equal(c.reason, reason, `${where} ${type} reason (${c.message})`);
}

function gateway(r: ScenarioResult, name: string) {
  const gw = r.output.gateways.find((g) => g.namespace === INFRA && g.name === name);
  assert.ok(gw, `Gateway ${name} has a status`);
  return gw.status;
}

/** GatewayMustHaveCondition Accepted=True and GatewayMustHaveAttachedListeners. */
function gatewayAcceptedWith(r: ScenarioResult, name: string, attachedListenerSets: number): void {
  const status = gateway(r, name);
  has(status.conditions, 'Accepted', 'True', undefined, `Gateway ${name}`);
  assert.equal(status.attachedListenerSets, attachedListenerSets, `Gateway ${name} attachedListenerSets`);
}

function listenerSet(r: ScenarioResult, name: string, namespace = INFRA) {
  const ls = r.output.listenerSets.find((l) => l.namespace === namespace && l.name === name);
  assert.ok(ls, `ListenerSet ${namespace}/${name} has a status`);
  return ls.status;
}

/** ListenerSetMustHaveCondition for Accepted and Programmed. */
function listenerSetIs(r: ScenarioResult, name: string, accepted: ['True' | 'False', string | undefined], programmed: ['True' | 'False', string | undefined], namespace = INFRA): void {
  const status = listenerSet(r, name, namespace);
  has(status.conditions, 'Accepted', accepted[0], accepted[1], `ListenerSet ${name}`);
  has(status.conditions, 'Programmed', programmed[0], programmed[1], `ListenerSet ${name}`);
}

function entry(listeners: readonly ListenerStatus[] | undefined, name: string, where: string): ListenerStatus {
  const l = listeners?.find((x) => x.name === name);
  assert.ok(l, `${where} has listener ${name}`);
  return l;
}

/** generateAcceptedListenerConditions: ResolvedRefs, Accepted and Programmed True. */
function listenerAccepted(l: ListenerStatus, where: string): void {
  for (const type of ['ResolvedRefs', 'Accepted', 'Programmed']) has(l.conditions, type, 'True', undefined, `${where} listener ${l.name}`);
}

/** The conflicted-listener conditions of ListenerSetHostnameConflict / ListenerSetProtocolConflict. */
function listenerConflicted(l: ListenerStatus, reason: string, where: string): void {
  has(l.conditions, 'Accepted', 'False', reason, `${where} listener ${l.name}`);
  has(l.conditions, 'Programmed', 'False', reason, `${where} listener ${l.name}`);
  has(l.conditions, 'Conflicted', 'True', reason, `${where} listener ${l.name}`);
}

/** ListenerSetStatusMustHaveListeners with supportedKinds [HTTPRoute] and accepted conditions. */
function listenerSetListeners(r: ScenarioResult, name: string, expected: Record<string, number>, namespace = INFRA): void {
  const status = listenerSet(r, name, namespace);
  assert.deepEqual(status.listeners?.map((l) => l.name).sort(), Object.keys(expected).sort(), `ListenerSet ${name} listener names`);
  for (const [listener, attachedRoutes] of Object.entries(expected)) {
    const l = entry(status.listeners, listener, `ListenerSet ${name}`);
    assert.deepEqual(l.supportedKinds, [{ group: GROUP, kind: 'HTTPRoute' }], `${listener} supportedKinds`);
    assert.equal(l.attachedRoutes, attachedRoutes, `${listener} attachedRoutes`);
    listenerAccepted(l, `ListenerSet ${name}`);
  }
}

/** The route's parent entry for one parent (kind Gateway or ListenerSet), checked as the suite echoes it. */
function parentConditions(r: ScenarioResult, route: string, kind: 'Gateway' | 'ListenerSet', parent: string, routeNamespace = INFRA): Condition[] {
  const status = r.output.httpRoutes.find((x) => x.namespace === routeNamespace && x.name === route);
  assert.ok(status, `HTTPRoute ${routeNamespace}/${route} has a status`);
  const p = status.status.parents.find((x) => x.parentRef.kind === kind && x.parentRef.name === parent);
  assert.ok(p, `HTTPRoute ${route} has a parent entry for ${kind} ${parent}`);
  assert.equal(p.controllerName, 'tlsgate.dev/gateway-controller');
  assert.equal(p.parentRef.group, GROUP);
  return p.conditions;
}

/** RoutesAndParentMustBeAccepted with a ListenerSet parent. */
function routesAcceptedOn(r: ScenarioResult, kind: 'Gateway' | 'ListenerSet', parent: string, routes: [string, string][]): void {
  for (const [namespace, route] of routes) has(parentConditions(r, route, kind, parent, namespace), 'Accepted', 'True', undefined, `${route} on ${kind} ${parent}`);
}

// ---------------------------------------------------------------- requests

type Outcome = { backend: string } | { status: number };

/** What the proxy answers a plain HTTP request on `port`, by the contract of src/proxy-config.ts. */
function answer(config: ProxyConfig, port: number, host: string, path: string): Outcome {
  const portConfig = config.ports.find((p) => p.port === port);
  assert.ok(portConfig, `port ${port} is configured`);
  const listener = portConfig.listeners.find((l) => matchesHostname(l.hostname, host));
  if (!listener?.http) return { status: 404 };
  const vhost = listener.http.virtualHosts.find((v) => matchesHostname(v.hostname === '*' ? null : v.hostname, host));
  if (!vhost) return { status: 404 };
  const hit = vhost.matches.find(({ match: { path: p } }) => p.type === 'PathPrefix' && (p.value === '/' || path === p.value || path.startsWith(p.value + '/')));
  if (!hit) return { status: 404 };
  const backends = listener.http.routes[hit.route]!.rules[hit.rule]!.backends.filter((b) => b.weight > 0 && b.reject === undefined);
  assert.equal(backends.length, 1, `one live backend for ${host}${path}`);
  assert.ok(backends[0]!.endpoints.length > 0, `${backends[0]!.ref} has endpoints`);
  return { backend: backends[0]!.ref.replace(/:\d+$/, '') };
}

function expectRequests(r: ScenarioResult, gatewayName: string, cases: [string, string, Outcome][]): void {
  const config = r.output.proxyConfigs.find((c) => c.gateway.name === gatewayName);
  assert.ok(config, `proxy config for ${gatewayName}`);
  for (const [host, path, expected] of cases) assert.deepEqual(answer(config, 80, host, path), expected, `${host}${path}`);
}

const v1 = { backend: `${INFRA}/infra-backend-v1` };
const v2 = { backend: `${INFRA}/infra-backend-v2` };
const v3 = { backend: `${INFRA}/infra-backend-v3` };
const notFound = { status: 404 };

// ---------------------------------------------------------------- the tests

describe('ListenerSet conformance (v1.6.1) on the goldens', () => {
  test('ListenerSetDefaultNotAllowed', () => {
    const r = runScenario('conformance-listenerset-default-not-allowed');
    gatewayAcceptedWith(r, 'gateway-default-does-not-allow-listenerset', 0);
    listenerSetIs(r, 'listenerset-default-not-allowed', ['False', 'NotAllowed'], ['False', 'NotAllowed']);
    // Not served: no listener of the set reaches the proxy.
    const config = r.output.proxyConfigs.find((c) => c.gateway.name === 'gateway-default-does-not-allow-listenerset')!;
    assert.deepEqual(config.ports.flatMap((p) => p.listeners.map((l) => l.name)), ['gateway-listener']);
  });

  test('ListenerSetAllowedNamespaceNone', () => {
    const r = runScenario('conformance-listenerset-allowed-namespace-none');
    gatewayAcceptedWith(r, 'gateway-does-not-allow-listenerset', 0);
    listenerSetIs(r, 'listenerset-not-allowed', ['False', 'NotAllowed'], ['False', 'NotAllowed']);
  });

  test('ListenerSetAllowedNamespaceSame', () => {
    const r = runScenario('conformance-listenerset-allowed-namespace-same');
    gatewayAcceptedWith(r, 'gateway-allows-listenerset-in-same-namespace', 1);
    listenerSetIs(r, 'listenerset-in-same-namespace', ['True', 'Accepted'], ['True', 'Programmed']);
    listenerAccepted(entry(listenerSet(r, 'listenerset-in-same-namespace').listeners, 'listenerset-in-same-namespace-listener', 'same'), 'same');
    listenerSetIs(r, 'listenerset-in-different-namespace', ['False', 'NotAllowed'], ['False', 'NotAllowed'], 'gateway-api-listenerset-not-allowed-ns');
  });

  test('ListenerSetAllowedNamespaceSelector', () => {
    const r = runScenario('conformance-listenerset-allowed-namespace-selector');
    gatewayAcceptedWith(r, 'gateway-allows-listenerset-in-selected-namespace', 1);
    const allowedNs = 'gateway-api-listenerset-selector-allowed-ns';
    listenerSetIs(r, 'listenerset-in-selected-namespace', ['True', 'Accepted'], ['True', 'Programmed'], allowedNs);
    listenerAccepted(entry(listenerSet(r, 'listenerset-in-selected-namespace', allowedNs).listeners, 'listenerset-in-selected-namespace-listener', 'selected'), 'selected');
    listenerSetIs(r, 'listenerset-not-in-selected-namespace', ['False', 'NotAllowed'], ['False', 'NotAllowed'], 'gateway-api-listenerset-selector-not-allowed-ns');
  });

  test('ListenerSetAllowedRoutesNamespaces', () => {
    const r = runScenario('conformance-listenerset-allowed-routes-namespaces');
    const gw = 'gateway-with-listener-sets-test-allowed-routes';
    gatewayAcceptedWith(r, gw, 2);
    const ls = 'listenerset-test-allowed-routes-namespaces';
    routesAcceptedOn(r, 'ListenerSet', ls, [
      [INFRA, 'route-in-same-namespace'],
      ['gateway-api-routes-allowed-ns', 'route-in-selected-namespace'],
      ['gateway-api-routes-not-allowed-ns', 'route-not-in-selected-namespace'],
    ]);
    listenerSetListeners(r, ls, {
      'listener-set-listener-allowed-routes-all': 3,
      'listener-set-listener-allowed-routes-same': 1,
      'listener-set-listener-allowed-routes-selector': 1,
    });
    const crossNs = 'gateway-api-ls-cross-ns';
    const crossLs = 'listenerset-test-allowed-routes-cross-ns';
    routesAcceptedOn(r, 'ListenerSet', crossLs, [[crossNs, 'route-in-listenerset-namespace']]);
    has(parentConditions(r, 'route-in-gateway-namespace', 'ListenerSet', crossLs), 'Accepted', 'False', 'NotAllowedByListeners', 'route-in-gateway-namespace');
    listenerSetListeners(r, crossLs, { 'listener-set-listener-allowed-routes-cross-ns-same': 1 }, crossNs);
    const all = 'listener-set-listener-allowed-routes-all.com';
    const same = 'listener-set-listener-allowed-routes-same.com';
    const selector = 'listener-set-listener-allowed-routes-selector.com';
    const cross = 'listener-set-listener-allowed-routes-cross-ns-same.com';
    expectRequests(r, gw, [
      [all, '/route-in-same-namespace', v1],
      [all, '/route-in-selected-namespace', v2],
      [all, '/route-not-in-selected-namespace', v3],
      [same, '/route-in-same-namespace', v1],
      [same, '/route-in-selected-namespace', notFound],
      [same, '/route-not-in-selected-namespace', notFound],
      [selector, '/route-in-same-namespace', notFound],
      [selector, '/route-in-selected-namespace', v2],
      [selector, '/route-not-in-selected-namespace', notFound],
      [cross, '/route-in-listenerset-namespace', v1],
      [cross, '/route-in-gateway-namespace', notFound],
    ]);
  });

  test('ListenerSetAllowedRoutesSupportedKinds', () => {
    const r = runScenario('conformance-listenerset-allowed-routes-supported-kinds');
    gatewayAcceptedWith(r, 'gateway-with-listener-sets-test-supported-route-kinds', 0);
    const l = entry(listenerSet(r, 'listenerset-test-allowed-routes-supported-kinds').listeners, 'listener-set-listener-allowed-routes-tls-only', 'kinds');
    has(l.conditions, 'ResolvedRefs', 'False', 'InvalidRouteKinds', 'tls-only');
  });

  test('ListenerSetDualParentRefIndependence', () => {
    const r = runScenario('conformance-listenerset-dual-parentref-independence');
    const gw = 'gateway-dual-parentref';
    gatewayAcceptedWith(r, gw, 1);
    const ls = 'ls-dual-parentref';
    listenerSetListeners(r, ls, { 'ls-dual-parentref-listener': 2 });
    has(parentConditions(r, 'route-dual-parentref-both', 'Gateway', gw), 'Accepted', 'True', undefined, 'both on Gateway');
    has(parentConditions(r, 'route-dual-parentref-both', 'ListenerSet', ls), 'Accepted', 'True', undefined, 'both on ListenerSet');
    has(parentConditions(r, 'route-dual-parentref-one', 'Gateway', gw), 'Accepted', 'False', 'NoMatchingParent', 'one on Gateway');
    has(parentConditions(r, 'route-dual-parentref-one', 'ListenerSet', ls), 'Accepted', 'True', undefined, 'one on ListenerSet');
    expectRequests(r, gw, [
      ['gw-dual.com', '/dualboth', v1],
      ['ls-dual.com', '/dualboth', v1],
      ['ls-dual.com', '/dualone', v2],
      ['gw-dual.com', '/dualone', notFound],
    ]);
  });

  test('ListenerSetGatewayParentSectionNameNotFound', () => {
    const r = runScenario('conformance-listenerset-gateway-parent-section-name-not-found');
    const gw = 'gateway-section-name';
    gatewayAcceptedWith(r, gw, 1);
    routesAcceptedOn(r, 'ListenerSet', 'listenerset-section-name', [[INFRA, 'route-via-listenerset']]);
    has(parentConditions(r, 'route-via-gateway', 'Gateway', gw), 'Accepted', 'False', 'NoMatchingParent', 'route-via-gateway');
    expectRequests(r, gw, [
      ['ls-section-name.com', '/goodsection', v1],
      ['gw-section.com', '/badsection', notFound],
    ]);
  });

  for (const [test_, scenario, gw, reason] of [
    ['ListenerSetHostnameConflict', 'conformance-listenerset-hostname-conflict', 'gateway-with-listenerset-hostname-conflict', 'HostnameConflict'],
    ['ListenerSetProtocolConflict', 'conformance-listenerset-protocol-conflict', 'gateway-with-listenerset-protocol-conflict', 'ProtocolConflict'],
  ] as const) {
    test(test_, () => {
      const r = runScenario(scenario);
      const kind = reason === 'HostnameConflict' ? 'hostname' : 'protocol';
      gatewayAcceptedWith(r, gw, 2);
      const gwListeners = gateway(r, gw).listeners;
      listenerAccepted(entry(gwListeners, 'gateway-listener', gw), gw);
      listenerAccepted(entry(gwListeners, `${kind}-conflict-with-gateway-listener`, gw), gw);

      const withGateway1 = `listenerset-with-${kind}-conflict-with-gateway-1`;
      listenerSetIs(r, withGateway1, ['True', undefined], ['True', 'Programmed']);
      const l1 = listenerSet(r, withGateway1).listeners;
      listenerAccepted(entry(l1, 'listener-set-1-listener', withGateway1), withGateway1);
      listenerConflicted(entry(l1, `${kind}-conflict-with-gateway-listener`, withGateway1), reason, withGateway1);
      listenerAccepted(entry(l1, `${kind}-conflict-with-listener-set-listener`, withGateway1), withGateway1);

      const withGateway2 = `listenerset-with-${kind}-conflict-with-gateway-2`;
      listenerSetIs(r, withGateway2, ['False', 'ListenersNotValid'], ['False', 'ListenersNotValid']);
      listenerConflicted(entry(listenerSet(r, withGateway2).listeners, `${kind}-conflict-with-gateway-listener`, withGateway2), reason, withGateway2);

      const withSet1 = `listenerset-with-${kind}-conflict-with-listener-set-1`;
      listenerSetIs(r, withSet1, ['True', undefined], ['True', 'Programmed']);
      const l3 = listenerSet(r, withSet1).listeners;
      listenerAccepted(entry(l3, 'listener-set-2-listener', withSet1), withSet1);
      listenerConflicted(entry(l3, `${kind}-conflict-with-listener-set-listener`, withSet1), reason, withSet1);

      const withSet2 = `listenerset-with-${kind}-conflict-with-listener-set-2`;
      listenerSetIs(r, withSet2, ['False', 'ListenersNotValid'], ['False', 'ListenersNotValid']);
      listenerConflicted(entry(listenerSet(r, withSet2).listeners, `${kind}-conflict-with-listener-set-listener`, withSet2), reason, withSet2);

      // The proxy serves each winning hostname once: the Gateway's, then the first set's.
      const config = r.output.proxyConfigs.find((c) => c.gateway.name === gw)!;
      const served = config.ports.find((p) => p.port === 80)!.listeners.map((l) => l.name).sort();
      const expected = [
        `${INFRA}/${withGateway1}/${kind}-conflict-with-listener-set-listener`,
        `${INFRA}/${withGateway1}/listener-set-1-listener`,
        `${INFRA}/${withSet1}/listener-set-2-listener`,
        'gateway-listener',
        `${kind}-conflict-with-gateway-listener`,
      ];
      assert.deepEqual(served, expected.sort());
    });
  }

  test('ListenerSetReferenceGrant', () => {
    const r = runScenario('conformance-listenerset-reference-grant');
    has(gateway(r, 'gateway-with-listener-sets-test-reference-grant').conditions, 'Accepted', 'True', undefined, 'Gateway');
    listenerSetIs(r, 'listenerset-with-reference-grant', ['True', undefined], ['True', undefined]);
    const granted = entry(listenerSet(r, 'listenerset-with-reference-grant').listeners, 'listenerset-with-reference-grant-listener', 'granted');
    has(granted.conditions, 'ResolvedRefs', 'True', undefined, 'granted');
    const ns = 'gateway-api-listener-sets-test-reference-grant-ns';
    listenerSetIs(r, 'listenerset-without-reference-grant', ['False', 'ListenersNotValid'], ['False', 'ListenersNotValid'], ns);
    const refused = entry(listenerSet(r, 'listenerset-without-reference-grant', ns).listeners, 'listenerset-without-reference-grant-listener', 'refused');
    has(refused.conditions, 'ResolvedRefs', 'False', 'RefNotPermitted', 'refused');
    // The granted set's certificate is served on 443 beside the Gateway's; the refused set is not there at all.
    const config = r.output.proxyConfigs.find((c) => c.gateway.name === 'gateway-with-listener-sets-test-reference-grant')!;
    const listeners = config.ports.find((p) => p.port === 443)!.listeners;
    assert.deepEqual(listeners.map((l) => [l.name, l.hostname, l.certificates.length, l.reject ?? null]), [
      ['gateway-listener', 'gateway-listener.com', 1, null],
      [`${INFRA}/listenerset-with-reference-grant/listenerset-with-reference-grant-listener`, 'listenerset-with-reference-grant-listener.com', 1, null],
    ]);
  });

  test('ListenerSetRouteStatusScopedToParentRef', () => {
    const r = runScenario('conformance-listenerset-route-status-scoped-to-parentref');
    gatewayAcceptedWith(r, 'gateway-parentref', 1);
    listenerSetListeners(r, 'listenerset-parentref', { 'listenerset-parentref-listener': 1 });
    for (const [route, kind, parent] of [
      ['route-parentref-gwonly', 'Gateway', 'gateway-parentref'],
      ['route-parentref-lsonly', 'ListenerSet', 'listenerset-parentref'],
    ] as const) {
      const status = r.output.httpRoutes.find((x) => x.name === route)!;
      // HTTPRouteMustHaveParents: exactly the declared parent, echoed with group, kind and namespace.
      assert.equal(status.status.parents.length, 1, `${route} has one parent entry`);
      assert.deepEqual(status.status.parents[0]!.parentRef, { group: GROUP, kind, namespace: INFRA, name: parent });
      has(status.status.parents[0]!.conditions, 'Accepted', 'True', undefined, route);
    }
    // The Gateway's own listener has only the Gateway route.
    assert.equal(entry(gateway(r, 'gateway-parentref').listeners, 'gw-parentref-listener', 'gw').attachedRoutes, 1);
  });

  test('ListenerSetHTTPRouting', () => {
    const r = runScenario('conformance-listenerset-http-routing');
    const gw = 'gateway-with-listener-sets-http-routing';
    gatewayAcceptedWith(r, gw, 2);
    routesAcceptedOn(r, 'Gateway', gw, [
      [INFRA, 'attaches-to-all-listeners'],
      [INFRA, 'gateway-route'],
      [INFRA, 'gateway-section-route'],
    ]);
    for (const l of gateway(r, gw).listeners ?? []) listenerAccepted(l, gw);
    const ls1 = 'listener-set-http-routing-1';
    const ls2 = 'listener-set-http-routing-2';
    routesAcceptedOn(r, 'ListenerSet', ls1, [
      [INFRA, 'attaches-to-all-listeners'],
      [INFRA, 'listener-set-http-routing-1-route'],
      [INFRA, 'listener-set-http-routing-1-section-route'],
    ]);
    listenerSetListeners(r, ls1, { [`${ls1}-listener-1`]: 3, [`${ls1}-listener-2`]: 2 });
    routesAcceptedOn(r, 'ListenerSet', ls2, [
      [INFRA, 'attaches-to-all-listeners'],
      [INFRA, 'listener-set-http-routing-2-route'],
    ]);
    listenerSetListeners(r, ls2, { [`${ls2}-listener-1`]: 2, [`${ls2}-listener-2`]: 2 });

    const hosts = ['gateway-listener-1.com', 'gateway-listener-2.com', `${ls1}-listener-1.com`, `${ls1}-listener-2.com`, `${ls2}-listener-1.com`, `${ls2}-listener-2.com`];
    const cases: [string, string, Outcome][] = [];
    // Which hosts answer each path, and with what; every other host answers 404 (from the test's table).
    const table: [string, Outcome, string[]][] = [
      ['/route', v1, hosts],
      ['/gateway-route', v2, hosts.slice(0, 2)],
      ['/gateway-section-route', v3, hosts.slice(0, 1)],
      ['/listener-set-http-routing-1-route', v2, hosts.slice(2, 4)],
      ['/listener-set-http-routing-1-section-route', v3, hosts.slice(2, 3)],
      ['/listener-set-http-routing-2-route', v2, hosts.slice(4, 6)],
    ];
    for (const [path, backend, answering] of table) for (const host of hosts) cases.push([host, path, answering.includes(host) ? backend : notFound]);
    assert.equal(cases.length, 36);
    expectRequests(r, gw, cases);
  });
});
