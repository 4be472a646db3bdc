// What the upstream Gateway API conformance suite does not check about TLSRoute: WHICH
// certificate a client is shown. The suite itself runs unmodified in `npm test`
// (scripts/conformance.mjs); upstream only validates the chain, so a gateway that terminated
// a Passthrough route with some certificate of the right name would pass it. Three upstream
// v1.6.1 scenarios are replayed on the operator installed from the install manifest (class
// `tlsgate`), each scenario file of ../shared/gateway-api/v1.6.1/conformance/tlsroute created as
// it is (only {GATEWAY_CLASS_NAME} substituted), with real TLS clients through the proxy pod:
// Passthrough shows the backend's own certificate (T1), Terminate the listener's (T11), and one
// Mixed port shows each by SNI (T13); and a route whose backend a ReferenceGrant does not permit
// gets its connections closed (T7: upstream checks only its status). The scenario's objects are
// deleted before the next.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { loadTestKubeConfig } from '../cluster/client.js';
import { installOperator, uninstallOperator, gatewayEndpoint, waitForNamespaceGone, operatorDiagnostics, INSTALL_GATEWAY_CLASS } from './install-support.js';
import { condition, eventually, getCustom, GATEWAY_GROUP } from './operator-support.js';
import {
  APP_BACKEND_NS, INFRA_NS, TIMEOUTS, tlsRouteDir, baseManifests, expectEventuallySilentClose, tlsRouteMustHaveCondition, createObjects, deleteObjects, expectTcpEcho, fingerprint,
  gatewayAndTlsRoutesMustBeAccepted, gatewayStatusMustHaveListeners, loadManifests, makeConformancePki, namespacesMustBeReady,
  type ConformancePki, type KubeObject,
} from './conformance-support.js';

const TLS_ROUTE_KIND = [{ group: GATEWAY_GROUP, kind: 'TLSRoute' }];
const infra = (name: string) => ({ namespace: INFRA_NS, name });

describe('conformance beyond upstream: the certificate each TLSRoute mode shows, on the installed operator', () => {
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

  it('T11 TLSRouteTerminateSimpleSameNamespace: terminated with the gateway certificate, plain TCP to tcp-backend', async () => {
    await scenario('tlsroute-terminate-simple-same-namespace.yaml', async () => {
      const host = await gatewayAndTlsRoutesMustBeAccepted(kc, controllerName, address('gateway-tlsroute-terminate'), infra('gateway-tlsroute-terminate'), [infra('tlsroute-terminated-test')]);
      const answer = await expectTcpEcho(host, 8443, 'tls.example.com', pki.caPem, { namespace: INFRA_NS, backend: 'tcp-backend', isTls: false });
      // Beyond upstream (it validates the chain for tls.example.com): it is the listener's certificate.
      assert.equal(fingerprint(answer.peerCertificate), fingerprint(pki.certs['tls-terminate-checks-certificate']!));
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
