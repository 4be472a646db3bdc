// The 13 upstream Gateway API v1.6.1 TLSRoute conformance tests, replayed on the cluster in a
// box against the operator installed from the install manifest (class `tlsgate`): each
// scenario file of ../shared/gateway-api/v1.6.1/conformance/tlsroute is created as it is
// (only {GATEWAY_CLASS_NAME} substituted), the statuses the upstream test waits for are
// awaited with upstream's timeouts, traffic goes through the proxy pod with real TLS clients,
// and the scenario's objects are deleted before the next (upstream reuses names).
//
// Where a test assumes an implementation WITHOUT a feature tlsgate claims (T9 Terminate,
// T12 Mixed), upstream passes it at once; we assert what that manifest must give an
// implementation that supports the feature. Deviations are listed in docs/conformance.md.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { loadTestKubeConfig } from '../cluster/client.js';
import { installOperator, uninstallOperator, gatewayEndpoint, waitForNamespaceGone, operatorDiagnostics, INSTALL_GATEWAY_CLASS } from './install-support.js';
import { condition, eventually, getCustom, GATEWAY_GROUP } from './operator-support.js';
import {
  APP_BACKEND_NS, INFRA_NS, TIMEOUTS, tlsRouteDir, expectEventuallySilentClose,
  baseManifests, createObjects, deleteObjects, expectHttpsEcho, expectTcpEcho, fingerprint, gatewayAndTlsRoutesMustBeAccepted,
  gatewayMustHaveZeroRoutes, gatewayStatusMustHaveListeners, loadManifests, makeConformancePki, namespacesMustBeReady,
  tlsRouteMustHaveCondition, tlsRouteMustHaveNoAcceptedParents, type ConformancePki, type KubeObject,
} from './conformance-support.js';

const TLS_ROUTE_KIND = [{ group: GATEWAY_GROUP, kind: 'TLSRoute' }];
const infra = (name: string) => ({ namespace: INFRA_NS, name });

describe('conformance: upstream v1.6.1 TLSRoute tests on the installed operator', () => {
  let kc: k8s.KubeConfig;
  let pki: ConformancePki;
  let controllerName: string;
  const className = INSTALL_GATEWAY_CLASS;

  /** Creates the scenario file's objects, runs the checks, deletes the objects whatever happened. */
  async function scenario(file: string, checks: (objects: KubeObject[]) => Promise<void>): Promise<void> {
    const objects = loadManifests(path.join(tlsRouteDir, file), className);
    await createObjects(kc, objects);
    try {
      await checks(objects);
    } catch (error) {
      throw new Error(`${(error as Error).message}\n${operatorDiagnostics({ namespaces: [INFRA_NS] })}`);
    } finally {
      await deleteObjects(kc, objects);
    }
  }

  const address = (gateway: string) => () => gatewayEndpoint(kc, INFRA_NS, gateway, TIMEOUTS.gatewayMustHaveAddress);

  before(async () => {
    kc = loadTestKubeConfig();
    const core = kc.makeApiClient(k8s.CoreV1Api);
    // A namespace left by an interrupted run would make the creates below fail.
    for (const name of [INFRA_NS, APP_BACKEND_NS]) {
      await core.deleteNamespace({ name }).catch(() => undefined);
      await waitForNamespaceGone(kc, name);
    }
    await installOperator(kc);
    // The suite's first step: the GatewayClass Accepted at its generation; its controllerName.
    const gc = await eventually('GatewayClass tlsgate Accepted=True', async () => {
      const obj = await getCustom(kc, 'gatewayclasses', undefined, className);
      const accepted = condition(obj.status?.conditions, 'Accepted');
      return accepted?.status === 'True' && accepted.observedGeneration === obj.metadata.generation && obj;
    }, TIMEOUTS.gatewayClassMustBeAccepted);
    controllerName = gc.spec.controllerName;

    pki = makeConformancePki();
    const base = baseManifests(className);
    const namespaces = base.apply.filter((o) => o.kind === 'Namespace');
    await createObjects(kc, namespaces);
    await createObjects(kc, pki.objects);
    await createObjects(kc, base.apply.filter((o) => o.kind !== 'Namespace'));
    await namespacesMustBeReady(kc, [INFRA_NS, APP_BACKEND_NS]);
  });

  after(async () => {
    const core = kc.makeApiClient(k8s.CoreV1Api);
    for (const name of [INFRA_NS, APP_BACKEND_NS]) await core.deleteNamespace({ name }).catch(() => undefined);
    for (const name of [INFRA_NS, APP_BACKEND_NS]) await waitForNamespaceGone(kc, name);
    await uninstallOperator(kc);
  });

  it('T1 TLSRouteSimpleSameNamespace: Passthrough to tcp-backend, the client sees the backend\'s own certificate', async () => {
    await scenario('tlsroute-simple-same-namespace.yaml', async () => {
      const host = await gatewayAndTlsRoutesMustBeAccepted(kc, controllerName, address('gateway-tlsroute'), infra('gateway-tlsroute'), [infra('gateway-conformance-infra-test')]);
      const answer = await expectTcpEcho(host, 443, 'abc.example.com', pki.caPem, { namespace: INFRA_NS, backend: 'tcp-backend', isTls: true, serverName: 'abc.example.com' });
      // Beyond upstream (it only validates the chain): the certificate is the backend's, not a gateway's.
      assert.equal(fingerprint(answer.peerCertificate), fingerprint(pki.certs['tls-passthrough-checks-certificate']!));
    });
  });

  it('T2 TLSRouteHostnameIntersection: four listener hostnames, routes by intersected specificity, the rest closed', async () => {
    await scenario('tlsroute-hostname-intersection.yaml', async () => {
      const cases: { gateway: string; routes: string[]; routed: [string, string][]; rejected: string[] }[] = [
        { gateway: 'gw-tlsroute-exact-hostname-x-1', routes: ['tlsroute-more-specific-wc-hostname-x-1'],
          routed: [['abc.example.com', 'tls-backend']], rejected: ['non.matching.com'] },
        { gateway: 'gw-tlsroute-more-specific-wc-hostname-x-2', routes: ['tlsroute-exact-hostname-x-2', 'tlsroute-less-specific-wc-hostname-x-2'],
          routed: [['abc.example.com', 'tls-backend'], ['other.example.com', 'tls-backend-2']], rejected: ['non.matching.com'] },
        { gateway: 'gw-tlsroute-less-specific-wc-hostname-x-3', routes: ['tlsroute-exact-hostname-x-3', 'tlsroute-more-specific-wc-hostname-x-3'],
          routed: [['abc.example.com', 'tls-backend'], ['other.example.com', 'tls-backend-2']], rejected: ['non.matching.com'] },
        { gateway: 'gw-tlsroute-empty-hostname-x-4', routes: ['tlsroute-exact-hostname-x-4', 'tlsroute-less-specific-wc-hostname-x-4'],
          routed: [['abc.example.com', 'tls-backend'], ['other.example.com', 'tls-backend-2']], rejected: ['non.matching.org'] },
      ];
      for (const c of cases) {
        const host = await gatewayAndTlsRoutesMustBeAccepted(kc, controllerName, address(c.gateway), infra(c.gateway), c.routes.map(infra));
        for (const route of c.routes) await tlsRouteMustHaveCondition(kc, infra(route), c.gateway, { type: 'ResolvedRefs', status: 'True', reason: 'ResolvedRefs' });
        for (const [sni, backend] of c.routed) {
          const answer = await expectHttpsEcho(host, 443, sni, pki.caPem, { namespace: INFRA_NS, backend });
          // Upstream trusts exactly this leaf; we trust the CA and compare the leaf.
          assert.equal(fingerprint(answer.peerCertificate), fingerprint(pki.certs['tls-checks-certificate']!), `${c.gateway} ${sni}: the backend's certificate`);
        }
        for (const sni of c.rejected) await expectEventuallySilentClose(host, 443, sni);
      }
    });
  });

  it('T3 TLSRouteInvalidBackendRefNonexistent: Accepted, ResolvedRefs=False/BackendNotFound, connections closed', async () => {
    await scenario('tlsroute-invalid-backendref-nonexistent.yaml', async () => {
      const gw = 'gateway-tlsroute-invalid-backend-ref-nonexistent';
      const route = infra('invalid-backend-ref-nonexistent');
      await tlsRouteMustHaveCondition(kc, route, gw, { type: 'Accepted', status: 'True', reason: 'Accepted' });
      await tlsRouteMustHaveCondition(kc, route, gw, { type: 'ResolvedRefs', status: 'False', reason: 'BackendNotFound' });
      await expectEventuallySilentClose(await address(gw)(), 443, 'example.com');
    });
  });

  it('T4 TLSRouteInvalidBackendRefUnknownKind: Accepted, ResolvedRefs=False/InvalidKind, connections closed', async () => {
    await scenario('tlsroute-invalid-backendref-unknown-kind.yaml', async () => {
      const gw = 'gateway-tlsroute-invalid-backend-ref-unknown-kind';
      const route = infra('invalid-backend-ref-unknown-kind');
      await tlsRouteMustHaveCondition(kc, route, gw, { type: 'Accepted', status: 'True', reason: 'Accepted' });
      await tlsRouteMustHaveCondition(kc, route, gw, { type: 'ResolvedRefs', status: 'False', reason: 'InvalidKind' });
      await expectEventuallySilentClose(await address(gw)(), 443, 'example.com');
    });
  });

  it('T5 TLSRouteInvalidNoMatchingListenerHostname: Accepted=False/NoMatchingListenerHostname, zero routes', async () => {
    await scenario('tlsroute-invalid-no-matching-listener-hostname.yaml', async () => {
      await namespacesMustBeReady(kc, [INFRA_NS, APP_BACKEND_NS]);
      for (const [route, gw] of [['tlsroute-hostname-mismatch-1', 'gateway-tls-exact-hostname'], ['tlsroute-hostname-mismatch-2', 'gateway-tls-wildcard-hostname']] as const) {
        await tlsRouteMustHaveCondition(kc, infra(route), gw, { type: 'Accepted', status: 'False', reason: 'NoMatchingListenerHostname' });
        await tlsRouteMustHaveNoAcceptedParents(kc, infra(route));
        await gatewayMustHaveZeroRoutes(kc, INFRA_NS, gw);
      }
    });
  });

  it('T6 TLSRouteInvalidNoMatchingListener: HTTP/HTTPS-only parents NotAllowedByListeners, unknown sectionName NoMatchingParent', async () => {
    await scenario('tlsroute-invalid-no-matching-listener.yaml', async () => {
      // As upstream: every Gateway of the manifest, the HTTP-only and HTTPS-only ones included,
      // is Accepted and Programmed first; their listeners take HTTPRoutes only.
      await namespacesMustBeReady(kc, [INFRA_NS, APP_BACKEND_NS]);
      for (const [gw, listener] of [['gateway-tlsroute-http-only', 'http'], ['gateway-tlsroute-https-only', 'https']] as const) {
        await gatewayStatusMustHaveListeners(kc, INFRA_NS, gw, [
          {
            name: listener,
            supportedKinds: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute' }],
            conditions: [{ type: 'Accepted', status: 'True', reason: 'Accepted' }],
            attachedRoutes: 0,
          },
        ]);
      }
      const expectations = [
        ['tlsroute-not-allowed-protocol-http', 'gateway-tlsroute-http-only', 'NotAllowedByListeners'],
        ['tlsroute-not-allowed-protocol-https', 'gateway-tlsroute-https-only', 'NotAllowedByListeners'],
        ['tlsroute-no-matching-section-name', 'gateway-tlsroute-tls-passthrough-only', 'NoMatchingParent'],
      ] as const;
      for (const [route, gw, reason] of expectations) {
        await tlsRouteMustHaveCondition(kc, infra(route), gw, { type: 'Accepted', status: 'False', reason });
        await tlsRouteMustHaveNoAcceptedParents(kc, infra(route));
      }
      await gatewayMustHaveZeroRoutes(kc, INFRA_NS, 'gateway-tlsroute-http-only');
      await gatewayMustHaveZeroRoutes(kc, INFRA_NS, 'gateway-tlsroute-https-only');
    });
  });

  it('T7 TLSRouteInvalidReferenceGrant: seven wrong grants, ResolvedRefs=False/RefNotPermitted, connections closed', async () => {
    await scenario('tlsroute-invalid-reference-grant.yaml', async () => {
      const gw = 'gateway-tlsroute-referencegrant';
      const route = infra('gateway-conformance-infra-test');
      await tlsRouteMustHaveCondition(kc, route, gw, { type: 'Accepted', status: 'True', reason: 'Accepted' });
      await tlsRouteMustHaveCondition(kc, route, gw, { type: 'ResolvedRefs', status: 'False', reason: 'RefNotPermitted' });
      // Beyond upstream (the GEP says such traffic MUST fail; the test does not look).
      await expectEventuallySilentClose(await address(gw)(), 443, 'abc.example.com');
    });
  });

  it('T8 TLSRouteListenerPassthroughSupportedKinds: kinds [TCPRoute, TLSRoute] give InvalidRouteKinds, TLSRoute still supported', async () => {
    await scenario('tlsroute-listener-passthrough-supported-kinds.yaml', async () => {
      await gatewayStatusMustHaveListeners(kc, INFRA_NS, 'gateway-tlsroute-passthrough-supported-kind', [
        { name: 'tls-passthrough', supportedKinds: TLS_ROUTE_KIND, conditions: [{ type: 'ResolvedRefs', status: 'False', reason: 'InvalidRouteKinds' }], attachedRoutes: 0 },
      ]);
    });
  });

  it('T9 TLSRouteListenerTerminateNotSupported: tlsgate claims TLSRouteModeTerminate, so the listener is Accepted', async () => {
    // Upstream returns at once when TLSRouteModeTerminate is claimed; its assertions
    // (Accepted=False/UnsupportedValue) are for implementations without Terminate. We check
    // the claim and what the same manifest must give an implementation with Terminate.
    const gc = await getCustom(kc, 'gatewayclasses', undefined, className);
    assert.ok(gc.status.supportedFeatures.some((f: { name: string }) => f.name === 'TLSRouteModeTerminate'), 'TLSRouteModeTerminate claimed');
    await scenario('tlsroute-listener-terminate-not-supported.yaml', async () => {
      await gatewayStatusMustHaveListeners(kc, INFRA_NS, 'gateway-tlsroute-terminate-unsupported', [
        { name: 'tls-terminate', supportedKinds: TLS_ROUTE_KIND, attachedRoutes: 0,
          conditions: [{ type: 'Accepted', status: 'True', reason: 'Accepted' }, { type: 'ResolvedRefs', status: 'True', reason: 'ResolvedRefs' }] },
      ]);
    });
  });

  it('T10 TLSRouteListenerTerminateSupportedKinds: the Terminate listener Accepted with TLSRoute supported', async () => {
    await scenario('tlsroute-listener-terminate-supported-kinds.yaml', async () => {
      await gatewayStatusMustHaveListeners(kc, INFRA_NS, 'gateway-tlsroute-terminate-supported', [
        { name: 'tls-terminate', supportedKinds: TLS_ROUTE_KIND, conditions: [{ type: 'Accepted', status: 'True', reason: 'Accepted' }], attachedRoutes: 0 },
      ]);
    });
  });

  it('T11 TLSRouteTerminateSimpleSameNamespace: terminated with the gateway certificate, plain TCP to tcp-backend', async () => {
    await scenario('tlsroute-terminate-simple-same-namespace.yaml', async () => {
      const host = await gatewayAndTlsRoutesMustBeAccepted(kc, controllerName, address('gateway-tlsroute-terminate'), infra('gateway-tlsroute-terminate'), [infra('tlsroute-terminated-test')]);
      const answer = await expectTcpEcho(host, 8443, 'tls.example.com', pki.caPem, { namespace: INFRA_NS, backend: 'tcp-backend', isTls: false });
      // Beyond upstream (it validates the chain for tls.example.com): it is the listener's certificate.
      assert.equal(fingerprint(answer.peerCertificate), fingerprint(pki.certs['tls-terminate-checks-certificate']!));
    });
  });

  it('T12 TLSRouteListenerMixedTerminationNotSupported: tlsgate claims TLSRouteModeMixed, so both listeners are Accepted', async () => {
    // As T9: upstream returns at once when TLSRouteModeMixed is claimed; its assertions
    // (both listeners Accepted=False/ProtocolConflict) are for implementations without Mixed.
    const gc = await getCustom(kc, 'gatewayclasses', undefined, className);
    assert.ok(gc.status.supportedFeatures.some((f: { name: string }) => f.name === 'TLSRouteModeMixed'), 'TLSRouteModeMixed claimed');
    await scenario('tlsroute-listener-mixed-termination-not-supported.yaml', async () => {
      const gw = 'gateway-tlsroute-mixed-termination-not-supported';
      const gateway = await gatewayStatusMustHaveListeners(kc, INFRA_NS, gw, ['tls-terminate', 'tls-passthrough'].map((name) => ({
        name, supportedKinds: TLS_ROUTE_KIND, attachedRoutes: 0, conditions: [{ type: 'Accepted', status: 'True', reason: 'Accepted' }],
      })));
      for (const listener of gateway.status.listeners) {
        assert.notEqual(condition(listener.conditions, 'Conflicted')?.status, 'True', `${listener.name} not Conflicted`);
      }
      assert.equal(condition(gateway.status.conditions, 'Accepted')?.reason, 'Accepted');
    });
  });

  it('T13 TLSRouteMixedTerminationSameNamespace: one port, terminate and passthrough chosen by SNI', async () => {
    await scenario('tlsroute-mixed-termination-same-namespace.yaml', async () => {
      const gw = 'gateway-tlsroute-mixed-termination';
      const host = await gatewayAndTlsRoutesMustBeAccepted(kc, controllerName, address(gw), infra(gw),
        [infra('gateway-conformance-mixed-passthroughroute'), infra('gateway-conformance-mixed-terminateroute')]);
      await gatewayStatusMustHaveListeners(kc, INFRA_NS, gw, ['tls-terminate', 'tls-passthrough'].map((name) => ({
        name, supportedKinds: TLS_ROUTE_KIND, attachedRoutes: 1, conditions: [{ type: 'Accepted', status: 'True', reason: 'Accepted' }],
      })));
      const [terminated, passedThrough] = await Promise.all([
        expectTcpEcho(host, 8883, 'tls.example.com', pki.caPem, { namespace: INFRA_NS, backend: 'tcp-backend', isTls: false }),
        expectTcpEcho(host, 8883, 'abc.example.com', pki.caPem, { namespace: INFRA_NS, backend: 'tcp-backend', isTls: true, serverName: 'abc.example.com' }),
      ]);
      // Beyond upstream: which certificate each SNI was shown on the one port.
      assert.equal(fingerprint(terminated.peerCertificate), fingerprint(pki.certs['tls-terminate-checks-certificate']!));
      assert.equal(fingerprint(passedThrough.peerCertificate), fingerprint(pki.certs['tls-passthrough-checks-certificate']!));
    });
  });
});
