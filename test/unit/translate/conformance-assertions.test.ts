// The conformance suite's own status assertions (spec section 6.2), applied to the golden
// scenarios built from its manifests. The goldens pin every byte of the output; these
// tests pin what the suite checks, so that a regenerated golden cannot silently drop a
// condition the suite needs. The core Gateway tests' checks apply to the upstream objects
// (HTTP and HTTPS listeners) and to their TLS twins (`-tls` objects, TLSRoute for HTTPRoute).
// The GATEWAY-HTTP route tests are in conformance-http-assertions.test.ts.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { runScenario, type ScenarioResult } from '../../golden/golden.js';
import { CONTROLLER_NAME } from '../../../src/gatewayapi/translate.js';
import { matchesHostname } from '../../../src/gatewayapi/hostnames.js';
import type { ProxyConfig } from '../../../src/proxy-config.js';
import type { Condition, ListenerStatus, RouteParentStatus } from '../../../src/gatewayapi/types.js';

const NS = 'gateway-conformance-infra';
const GROUP = 'gateway.networking.k8s.io';

interface ExpectedCondition {
  type: string;
  status: Condition['status'];
  reason?: string;
}

interface ExpectedListener {
  name: string;
  supportedKinds: string[];
  attachedRoutes: number;
  conditions: ExpectedCondition[];
}

function generationOf(result: ScenarioResult, kind: 'gateways' | 'tlsRoutes', ns: string, name: string): number {
  const obj = result.snapshot[kind].find((o) => o.metadata.name === name && (o.metadata.namespace ?? 'default') === ns);
  assert.ok(obj, `${kind} ${ns}/${name} is in the scenario`);
  return obj.metadata.generation ?? 1;
}

function hasCondition(conditions: readonly Condition[], want: ExpectedCondition, where: string): void {
  const found = conditions.find((c) => c.type === want.type);
  assert.ok(found, `${where}: condition ${want.type} present`);
  assert.equal(found.status, want.status, `${where}: ${want.type} status (${found.message})`);
  if (want.reason) assert.equal(found.reason, want.reason, `${where}: ${want.type} reason (${found.message})`);
}

function allCurrent(conditions: readonly Condition[], generation: number, where: string): void {
  for (const c of conditions) assert.equal(c.observedGeneration, generation, `${where}: ${c.type} observedGeneration`);
}

function gatewayStatus(result: ScenarioResult, name: string, ns = NS) {
  const gw = result.output.gateways.find((g) => g.namespace === ns && g.name === name);
  assert.ok(gw, `status for Gateway ${ns}/${name}`);
  const generation = generationOf(result, 'gateways', ns, name);
  allCurrent(gw.status.conditions ?? [], generation, `Gateway ${name}`);
  for (const l of gw.status.listeners ?? []) allCurrent(l.conditions, generation, `Gateway ${name} listener ${l.name}`);
  return gw.status;
}

/** GatewayStatusMustHaveListeners. */
function gatewayMustHaveListeners(result: ScenarioResult, name: string, expected: ExpectedListener[]): void {
  const listeners: ListenerStatus[] = gatewayStatus(result, name).listeners ?? [];
  assert.equal(listeners.length, expected.length, `Gateway ${name}: listener status count`);
  for (const want of expected) {
    const got = listeners.find((l) => l.name === want.name);
    assert.ok(got, `Gateway ${name}: listener ${want.name}`);
    assert.equal(got.attachedRoutes, want.attachedRoutes, `Gateway ${name} listener ${want.name}: attachedRoutes`);
    const kinds = got.supportedKinds.map((k) => `${k.group ?? GROUP}/${k.kind}`);
    if (want.supportedKinds.length === 0) assert.deepEqual(kinds, [], `Gateway ${name} listener ${want.name}: supportedKinds empty`);
    for (const k of want.supportedKinds) assert.ok(kinds.includes(`${GROUP}/${k}`), `Gateway ${name} listener ${want.name}: supports ${k}`);
    for (const c of want.conditions) hasCondition(got.conditions, c, `Gateway ${name} listener ${want.name}`);
  }
}

/** The readiness wait (NamespacesMustBeReady) for one Gateway. */
function gatewayMustBeReady(result: ScenarioResult, name: string): void {
  const status = gatewayStatus(result, name);
  hasCondition(status.conditions ?? [], { type: 'Accepted', status: 'True' }, `Gateway ${name}`);
  hasCondition(status.conditions ?? [], { type: 'Programmed', status: 'True' }, `Gateway ${name}`);
  assert.ok((status.addresses ?? []).length > 0, `Gateway ${name}: has an address`);
}

/** GatewayMustHaveZeroRoutes. */
function gatewayMustHaveZeroRoutes(result: ScenarioResult, name: string): void {
  const listeners = gatewayStatus(result, name).listeners ?? [];
  assert.ok(listeners.length <= 1, `Gateway ${name}: at most one listener status`);
  for (const l of listeners) assert.equal(l.attachedRoutes, 0, `Gateway ${name}: zero routes`);
}

function routeParents(result: ScenarioResult, name: string, ns = NS): RouteParentStatus[] {
  const route = result.output.tlsRoutes.find((r) => r.namespace === ns && r.name === name);
  const parents = route?.status.parents ?? [];
  const generation = generationOf(result, 'tlsRoutes', ns, name);
  for (const p of parents) allCurrent(p.conditions, generation, `TLSRoute ${name}`);
  return parents;
}

function parentFor(result: ScenarioResult, route: string, gateway: string): RouteParentStatus {
  const parent = routeParents(result, route).find((p) => p.parentRef.name === gateway && p.controllerName === CONTROLLER_NAME);
  assert.ok(parent, `TLSRoute ${route}: parent entry for ${gateway}`);
  // The suite compares group and kind as pointers: they must be present.
  assert.equal(parent.parentRef.group, GROUP);
  assert.equal(parent.parentRef.kind, 'Gateway');
  assert.ok(parent.parentRef.namespace === undefined || parent.parentRef.namespace === NS);
  return parent;
}

/** TLSRouteMustHaveCondition. */
function routeMustHaveCondition(result: ScenarioResult, route: string, gateway: string, want: ExpectedCondition): void {
  hasCondition(parentFor(result, route, gateway).conditions, want, `TLSRoute ${route}`);
}

/** GatewayAndTLSRoutesMustBeAccepted. */
function routesMustBeAccepted(result: ScenarioResult, gateway: string, routes: string[]): void {
  gatewayMustBeReady(result, gateway);
  for (const r of routes) routeMustHaveCondition(result, r, gateway, { type: 'Accepted', status: 'True', reason: 'Accepted' });
}

/** TLSRouteMustHaveNoAcceptedParents. */
function routeMustHaveNoAcceptedParents(result: ScenarioResult, route: string): void {
  const parents = routeParents(result, route);
  if (parents.length === 0) return;
  assert.equal(parents.length, 1, `TLSRoute ${route}: exactly one parent`);
  hasCondition(parents[0]!.conditions, { type: 'Accepted', status: 'False' }, `TLSRoute ${route}`);
}

/** A minimal reading of a ProxyConfig: which backend ref an SNI reaches, or 'reject'. */
function routeBackend(config: ProxyConfig, port: number, sni: string): string {
  const listener = config.ports.find((p) => p.port === port)?.listeners.find((l) => matchesHostname(l.hostname, sni));
  if (!listener || listener.reject) return 'reject';
  const entry = listener.hostnames.find((h) => matchesHostname(h.hostname, sni));
  if (!entry) return 'reject';
  const backends = listener.routes[entry.route]!.backends.filter((b) => b.weight > 0);
  return backends.length === 1 && !backends[0]!.reject ? backends[0]!.ref : 'reject';
}

const ok = (type: string, reason?: string): ExpectedCondition => ({ type, status: 'True', ...(reason ? { reason } : {}) });
const bad = (type: string, reason: string): ExpectedCondition => ({ type, status: 'False', reason });

describe('conformance TLSRoute tests, as the suite asserts them', () => {
  test('T1 TLSRouteSimpleSameNamespace', () => {
    const r = runScenario('conformance-tlsroute-simple-same-namespace');
    routesMustBeAccepted(r, 'gateway-tlsroute', ['gateway-conformance-infra-test']);
    const config = r.output.proxyConfigs.find((c) => c.gateway.name === 'gateway-tlsroute')!;
    assert.equal(routeBackend(config, 443, 'abc.example.com'), 'gateway-conformance-infra/tcp-backend:8443');
    assert.equal(config.ports[0]!.listeners[0]!.mode, 'Passthrough');
  });
  test('T2 TLSRouteHostnameIntersection', () => {
    const r = runScenario('conformance-tlsroute-hostname-intersection');
    for (const route of r.output.tlsRoutes) {
      for (const p of route.status.parents) {
        routesMustBeAccepted(r, p.parentRef.name, [route.name]);
        routeMustHaveCondition(r, route.name, p.parentRef.name, ok('ResolvedRefs', 'ResolvedRefs'));
      }
    }
    assert.equal(r.output.tlsRoutes.length, 7);
    // Spec 3.5: what each SNI reaches, read from the proxy configs the way the proxy does
    // (first matching listener in precedence order, then first matching hostname entry).
    const expected: [string, string, string][] = [
      ['gw-tlsroute-exact-hostname-x-1', 'abc.example.com', 'gateway-conformance-infra/tls-backend:443'],
      ['gw-tlsroute-exact-hostname-x-1', 'non.matching.com', 'reject'],
      ['gw-tlsroute-more-specific-wc-hostname-x-2', 'abc.example.com', 'gateway-conformance-infra/tls-backend:443'],
      ['gw-tlsroute-more-specific-wc-hostname-x-2', 'other.example.com', 'gateway-conformance-infra/tls-backend-2:443'],
      ['gw-tlsroute-more-specific-wc-hostname-x-2', 'non.matching.com', 'reject'],
      ['gw-tlsroute-less-specific-wc-hostname-x-3', 'abc.example.com', 'gateway-conformance-infra/tls-backend:443'],
      ['gw-tlsroute-less-specific-wc-hostname-x-3', 'other.example.com', 'gateway-conformance-infra/tls-backend-2:443'],
      ['gw-tlsroute-less-specific-wc-hostname-x-3', 'non.matching.com', 'reject'],
      ['gw-tlsroute-empty-hostname-x-4', 'abc.example.com', 'gateway-conformance-infra/tls-backend:443'],
      ['gw-tlsroute-empty-hostname-x-4', 'other.example.com', 'gateway-conformance-infra/tls-backend-2:443'],
      ['gw-tlsroute-empty-hostname-x-4', 'non.matching.org', 'reject'],
    ];
    for (const [gw, sni, backend] of expected) {
      const config = r.output.proxyConfigs.find((c) => c.gateway.name === gw);
      assert.ok(config, gw);
      assert.equal(routeBackend(config, 443, sni), backend, `${gw}: SNI ${sni}`);
    }
  });
  test('T3 TLSRouteInvalidBackendRefNonexistent', () => {
    const r = runScenario('conformance-tlsroute-invalid-backendref-nonexistent');
    const gw = 'gateway-tlsroute-invalid-backend-ref-nonexistent';
    routesMustBeAccepted(r, gw, ['invalid-backend-ref-nonexistent']);
    routeMustHaveCondition(r, 'invalid-backend-ref-nonexistent', gw, bad('ResolvedRefs', 'BackendNotFound'));
    assert.equal(routeBackend(r.output.proxyConfigs[0]!, 443, 'example.com'), 'reject');
  });
  test('T4 TLSRouteInvalidBackendRefUnknownKind', () => {
    const r = runScenario('conformance-tlsroute-invalid-backendref-unknown-kind');
    const gw = 'gateway-tlsroute-invalid-backend-ref-unknown-kind';
    routesMustBeAccepted(r, gw, ['invalid-backend-ref-unknown-kind']);
    routeMustHaveCondition(r, 'invalid-backend-ref-unknown-kind', gw, bad('ResolvedRefs', 'InvalidKind'));
    assert.equal(routeBackend(r.output.proxyConfigs[0]!, 443, 'example.com'), 'reject');
  });
  test('T5 TLSRouteInvalidNoMatchingListenerHostname', () => {
    const r = runScenario('conformance-tlsroute-invalid-no-matching-listener-hostname');
    for (const [route, gw] of [
      ['tlsroute-hostname-mismatch-1', 'gateway-tls-exact-hostname'],
      ['tlsroute-hostname-mismatch-2', 'gateway-tls-wildcard-hostname'],
    ] as const) {
      gatewayMustBeReady(r, gw);
      routeMustHaveCondition(r, route, gw, bad('Accepted', 'NoMatchingListenerHostname'));
      routeMustHaveNoAcceptedParents(r, route);
      gatewayMustHaveZeroRoutes(r, gw);
    }
  });
  test('T6 TLSRouteInvalidNoMatchingListener', () => {
    const r = runScenario('conformance-tlsroute-invalid-no-matching-listener');
    routeMustHaveCondition(r, 'tlsroute-not-allowed-protocol-http', 'gateway-tlsroute-http-only', bad('Accepted', 'NotAllowedByListeners'));
    routeMustHaveCondition(r, 'tlsroute-not-allowed-protocol-https', 'gateway-tlsroute-https-only', bad('Accepted', 'NotAllowedByListeners'));
    routeMustHaveCondition(r, 'tlsroute-no-matching-section-name', 'gateway-tlsroute-tls-passthrough-only', bad('Accepted', 'NoMatchingParent'));
    for (const route of ['tlsroute-not-allowed-protocol-http', 'tlsroute-not-allowed-protocol-https', 'tlsroute-no-matching-section-name']) {
      routeMustHaveNoAcceptedParents(r, route);
    }
    gatewayMustHaveZeroRoutes(r, 'gateway-tlsroute-http-only');
    gatewayMustHaveZeroRoutes(r, 'gateway-tlsroute-https-only');
    gatewayMustBeReady(r, 'gateway-tlsroute-tls-passthrough-only');
    // The suite's readiness wait covers the HTTP-only and HTTPS-only Gateways too.
    gatewayMustBeReady(r, 'gateway-tlsroute-http-only');
    gatewayMustBeReady(r, 'gateway-tlsroute-https-only');
  });
  test('T7 TLSRouteInvalidReferenceGrant', () => {
    const r = runScenario('conformance-tlsroute-invalid-reference-grant');
    routesMustBeAccepted(r, 'gateway-tlsroute-referencegrant', ['gateway-conformance-infra-test']);
    routeMustHaveCondition(r, 'gateway-conformance-infra-test', 'gateway-tlsroute-referencegrant', bad('ResolvedRefs', 'RefNotPermitted'));
    assert.equal(routeBackend(r.output.proxyConfigs[0]!, 443, 'abc.example.com'), 'reject');
  });
  test('T8 TLSRouteListenerPassthroughSupportedKinds', () => {
    const r = runScenario('conformance-tlsroute-listener-passthrough-supported-kinds');
    gatewayMustHaveListeners(r, 'gateway-tlsroute-passthrough-supported-kind', [
      { name: 'tls-passthrough', supportedKinds: ['TLSRoute'], attachedRoutes: 0, conditions: [bad('ResolvedRefs', 'InvalidRouteKinds')] },
    ]);
  });
  test('T9/T10 Terminate listeners (TLSRouteModeTerminate claimed)', () => {
    for (const [scenario, gw] of [
      ['conformance-tlsroute-listener-terminate-not-supported', 'gateway-tlsroute-terminate-unsupported'],
      ['conformance-tlsroute-listener-terminate-supported-kinds', 'gateway-tlsroute-terminate-supported'],
    ] as const) {
      gatewayMustHaveListeners(runScenario(scenario), gw, [
        { name: 'tls-terminate', supportedKinds: ['TLSRoute'], attachedRoutes: 0, conditions: [ok('Accepted', 'Accepted')] },
      ]);
    }
  });
  test('T11 TLSRouteTerminateSimpleSameNamespace', () => {
    const r = runScenario('conformance-tlsroute-terminate-simple-same-namespace');
    routesMustBeAccepted(r, 'gateway-tlsroute-terminate', ['tlsroute-terminated-test']);
    const config = r.output.proxyConfigs.find((c) => c.gateway.name === 'gateway-tlsroute-terminate');
    const listener = config?.ports.find((p) => p.port === 8443)?.listeners[0];
    assert.equal(listener?.mode, 'Terminate');
    assert.deepEqual(listener?.certificates.map((c) => c.dnsNames), [['tls.example.com']]);
    assert.equal(listener?.routes[0]?.backends[0]?.endpoints[0]?.port, 3000);
  });
  test('T12/T13 Mixed (TLSRouteModeMixed claimed)', () => {
    gatewayMustHaveListeners(runScenario('conformance-tlsroute-listener-mixed-termination-not-supported'), 'gateway-tlsroute-mixed-termination-not-supported', [
      { name: 'tls-terminate', supportedKinds: ['TLSRoute'], attachedRoutes: 0, conditions: [ok('Accepted', 'Accepted')] },
      { name: 'tls-passthrough', supportedKinds: ['TLSRoute'], attachedRoutes: 0, conditions: [ok('Accepted', 'Accepted')] },
    ]);
    const r = runScenario('conformance-tlsroute-mixed-termination-same-namespace');
    const gw = 'gateway-tlsroute-mixed-termination';
    routesMustBeAccepted(r, gw, ['gateway-conformance-mixed-passthroughroute', 'gateway-conformance-mixed-terminateroute']);
    gatewayMustHaveListeners(r, gw, [
      { name: 'tls-terminate', supportedKinds: ['TLSRoute'], attachedRoutes: 1, conditions: [ok('Accepted', 'Accepted')] },
      { name: 'tls-passthrough', supportedKinds: ['TLSRoute'], attachedRoutes: 1, conditions: [ok('Accepted', 'Accepted')] },
    ]);
  });
});

describe('conformance core Gateway tests, as the suite asserts them (upstream objects and TLS twins)', () => {
  test('GatewayClassObservedGenerationBump', () => {
    const r = runScenario('conformance-gatewayclass-observed-generation-bump');
    const gc = r.output.gatewayClasses.find((c) => c.name === 'gatewayclass-observed-generation-bump');
    assert.ok(gc);
    hasCondition(gc.status.conditions ?? [], ok('Accepted'), 'GatewayClass');
    allCurrent(gc.status.conditions ?? [], 2, 'GatewayClass');
    // Status unchanged, so the transition time is carried over.
    assert.equal(gc.status.conditions?.[0]?.lastTransitionTime, '2026-12-01T10:00:00Z');
  });
  test('GatewayObservedGenerationBump', () => {
    const r = runScenario('conformance-gateway-observed-generation-bump');
    gatewayMustBeReady(r, 'gateway-observed-generation-bump-tls');
    gatewayMustBeReady(r, 'gateway-observed-generation-bump'); // and every condition at generation 2
  });
  test('GatewayModifyListeners', () => {
    const r = runScenario('conformance-gateway-modify-listeners');
    const both = [ok('Accepted'), ok('ResolvedRefs')];
    gatewayMustHaveListeners(r, 'gateway-add-listener-tls', [
      { name: 'https', supportedKinds: ['TLSRoute'], attachedRoutes: 1, conditions: both },
      { name: 'tls', supportedKinds: ['TLSRoute'], attachedRoutes: 1, conditions: both },
    ]);
    gatewayMustHaveListeners(r, 'gateway-remove-listener-tls', [
      { name: 'tls', supportedKinds: ['TLSRoute'], attachedRoutes: 1, conditions: both },
    ]);
    gatewayMustHaveListeners(r, 'gateway-add-listener', [
      { name: 'https', supportedKinds: ['HTTPRoute'], attachedRoutes: 1, conditions: both },
      { name: 'http', supportedKinds: ['HTTPRoute'], attachedRoutes: 1, conditions: both },
    ]);
    gatewayMustHaveListeners(r, 'gateway-remove-listener', [
      { name: 'http', supportedKinds: ['HTTPRoute'], attachedRoutes: 1, conditions: both },
    ]);
  });
  test('GatewayInvalidRouteKind', () => {
    const r = runScenario('conformance-gateway-invalid-route-kind');
    gatewayMustHaveListeners(r, 'gateway-only-invalid-route-kind-tls', [
      { name: 'tls', supportedKinds: [], attachedRoutes: 0, conditions: [bad('ResolvedRefs', 'InvalidRouteKinds')] },
    ]);
    gatewayMustHaveListeners(r, 'gateway-supported-and-invalid-route-kind-tls', [
      { name: 'tls', supportedKinds: ['TLSRoute'], attachedRoutes: 0, conditions: [bad('ResolvedRefs', 'InvalidRouteKinds')] },
    ]);
    // The upstream HTTP objects, exactly as the suite asserts them.
    gatewayMustHaveListeners(r, 'gateway-only-invalid-route-kind', [
      { name: 'http', supportedKinds: [], attachedRoutes: 0, conditions: [bad('ResolvedRefs', 'InvalidRouteKinds')] },
    ]);
    gatewayMustHaveListeners(r, 'gateway-supported-and-invalid-route-kind', [
      { name: 'http', supportedKinds: ['HTTPRoute'], attachedRoutes: 0, conditions: [bad('ResolvedRefs', 'InvalidRouteKinds')] },
    ]);
  });
  test('GatewayInvalidTLSConfiguration', () => {
    const r = runScenario('conformance-gateway-invalid-tls-configuration');
    for (const gw of ['nonexistent-secret', 'unsupported-group', 'unsupported-kind', 'malformed-secret']) {
      gatewayMustHaveListeners(r, `gateway-certificate-${gw}-tls`, [
        { name: 'https', supportedKinds: ['TLSRoute'], attachedRoutes: 0, conditions: [bad('ResolvedRefs', 'InvalidCertificateRef')] },
      ]);
      gatewayMustHaveListeners(r, `gateway-certificate-${gw}`, [
        { name: 'https', supportedKinds: ['HTTPRoute'], attachedRoutes: 0, conditions: [bad('ResolvedRefs', 'InvalidCertificateRef')] },
      ]);
    }
  });
  test('GatewaySecretMissingReferenceGrant / InvalidReferenceGrant', () => {
    for (const [scenario, gw] of [
      ['conformance-gateway-secret-missing-reference-grant', 'gateway-secret-missing-reference-grant-tls'],
      ['conformance-gateway-secret-invalid-reference-grant', 'gateway-secret-invalid-reference-grant-tls'],
    ] as const) {
      const r = runScenario(scenario);
      gatewayMustBeReady(r, gw);
      gatewayMustHaveListeners(r, gw, [
        { name: 'https', supportedKinds: ['TLSRoute'], attachedRoutes: 0, conditions: [bad('ResolvedRefs', 'RefNotPermitted')] },
      ]);
      const upstream = gw.slice(0, -'-tls'.length);
      gatewayMustBeReady(r, upstream);
      gatewayMustHaveListeners(r, upstream, [
        { name: 'https', supportedKinds: ['HTTPRoute'], attachedRoutes: 0, conditions: [bad('ResolvedRefs', 'RefNotPermitted')] },
      ]);
    }
  });
  test('GatewaySecretReferenceGrantAllInNamespace / Specific', () => {
    for (const [scenario, gw] of [
      ['conformance-gateway-secret-reference-grant-all-in-namespace', 'gateway-secret-reference-grant-all-in-namespace-tls'],
      ['conformance-gateway-secret-reference-grant-specific', 'gateway-secret-reference-grant-specific-tls'],
    ] as const) {
      const r = runScenario(scenario);
      gatewayMustBeReady(r, gw);
      gatewayMustHaveListeners(r, gw, [
        { name: 'https', supportedKinds: ['TLSRoute'], attachedRoutes: 0, conditions: [ok('Programmed', 'Programmed'), ok('ResolvedRefs', 'ResolvedRefs')] },
      ]);
      const upstream = gw.slice(0, -'-tls'.length);
      gatewayMustBeReady(r, upstream);
      gatewayMustHaveListeners(r, upstream, [
        { name: 'https', supportedKinds: ['HTTPRoute'], attachedRoutes: 0, conditions: [ok('Programmed', 'Programmed'), ok('ResolvedRefs', 'ResolvedRefs')] },
      ]);
    }
  });
  test('GatewayListenerUnsupportedProtocol', () => {
    const r = runScenario('conformance-gateway-invalid-listeners-unsupported-protocol');
    hasCondition(gatewayStatus(r, 'gateway-only-unsupported-protocols').conditions ?? [], bad('Accepted', 'ListenersNotValid'), 'Gateway');
    gatewayMustHaveListeners(r, 'gateway-only-unsupported-protocols', [
      { name: 'invalid', supportedKinds: [], attachedRoutes: 0, conditions: [bad('Accepted', 'UnsupportedProtocol')] },
    ]);
    const twin = 'gateway-supported-and-unsupported-protocols-tls';
    hasCondition(gatewayStatus(r, twin).conditions ?? [], ok('Accepted', 'ListenersNotValid'), 'Gateway');
    gatewayMustHaveListeners(r, twin, [
      { name: 'tls', supportedKinds: ['TLSRoute'], attachedRoutes: 0, conditions: [ok('Accepted', 'Accepted')] },
      { name: 'invalid', supportedKinds: [], attachedRoutes: 0, conditions: [bad('Accepted', 'UnsupportedProtocol')] },
    ]);
    // Not skip-annotated upstream: the suite waits for it to be Accepted and Programmed.
    const upstream = 'gateway-supported-and-unsupported-protocols';
    gatewayMustBeReady(r, upstream);
    hasCondition(gatewayStatus(r, upstream).conditions ?? [], ok('Accepted', 'ListenersNotValid'), 'Gateway');
    gatewayMustHaveListeners(r, upstream, [
      { name: 'http', supportedKinds: ['HTTPRoute'], attachedRoutes: 0, conditions: [ok('Accepted', 'Accepted')] },
      { name: 'invalid', supportedKinds: [], attachedRoutes: 0, conditions: [bad('Accepted', 'UnsupportedProtocol')] },
    ]);
  });
  test('GatewayInvalidParametersRef', () => {
    const r = runScenario('conformance-gateway-invalid-parameters-ref');
    for (const gw of ['gateway-invalid-parameters-ref', 'gateway-invalid-parameters-ref-tls', 'gateway-missing-gatewayparameters']) {
      hasCondition(gatewayStatus(r, gw).conditions ?? [], bad('Accepted', 'InvalidParameters'), `Gateway ${gw}`);
      assert.ok(!r.output.proxyConfigs.some((c) => c.gateway.name === gw), `no proxy for ${gw}`);
    }
  });
});
