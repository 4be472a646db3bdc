// End to end through the installed operator: `kubectl apply` of the install manifest (the
// operator as pods under its own RBAC), Gateways and TLSRoutes as users write them, real
// backend pods, and real clients (Node tls and `openssl s_client`) connecting to the address
// the Gateway reports, through the proxy pod the operator runs:
//   - the upstream example as it is: foo Passthrough to a TLS backend (the client sees the
//     backend's certificate, the backend sees the SNI), bar Terminate to a plain TCP echo
//     (the client sees the Gateway's certificate from the Secret);
//   - a Mixed Gateway (Passthrough and Terminate on one port, chosen by SNI);
//   - weighted backends (3:1:0) counted over many connections;
//   - a backend in another namespace, refused without a ReferenceGrant, served with one,
//     refused again once it is deleted;
//   - an unknown SNI closed without a byte, the proxy still serving afterwards.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { loadTestKubeConfig, freshNamespace, deleteNamespace } from '../cluster/client.js';
import { applyUpstreamExample, condition, createCertificateSecret, createObject, eventually, getCustom, GATEWAY_GROUP, waitForReadyEndpoints } from './operator-support.js';
import { installOperator, uninstallOperator, operatorDiagnostics, gatewayEndpoint, INSTALL_GATEWAY_CLASS } from './install-support.js';
import { tlsProbe, expectSilentClose, opensslSClient, type TlsProbeResult } from '../helpers/traffic.js';

const WELCOME = 'Gateway API Test TCP Server\n';
/** The tcp-echo answer to `TEST`: one JSON line after the welcome line. */
const TEST_ANSWER = /\n\{.*\}\n/;

interface EchoReport {
  namespace: string;
  service: string;
  pod: string;
  isTLS: boolean;
  tls?: { serverName: string; version: string };
}

function echoReport(result: TlsProbeResult): EchoReport {
  const line = result.received.toString('utf8').split('\n').find((l) => l.startsWith('{'));
  assert.ok(line, `no TEST answer in ${JSON.stringify(result.received.toString('utf8'))} (ended ${result.ended} ${result.error ?? ''})`);
  return JSON.parse(line) as EchoReport;
}

const fingerprint = (pem: string): string => new X509Certificate(pem).fingerprint256;

/**
 * A tcp-echo backend pod (the conformance echo-basic's TCP mode): plain TCP on `tcpPort`,
 * and TLS on `tlsPort` with the certificate of Secret `tlsSecret` when given. Reports its
 * Service and pod name on `TEST`, and the SNI it saw over TLS.
 */
async function createEchoPod(kc: k8s.KubeConfig, namespace: string, app: string, options: { tcpPort: number; tlsPort?: number; tlsSecret?: string }): Promise<void> {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const env: k8s.V1EnvVar[] = [
    { name: 'TCP_PORT', value: String(options.tcpPort) },
    { name: 'SERVICE_NAME', value: app },
    { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
    { name: 'NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
  ];
  if (options.tlsSecret) {
    env.push(
      { name: 'TLS_PORT', value: String(options.tlsPort) },
      { name: 'TLS_SERVER_CERT', value: '/etc/backend-tls/tls.crt' },
      { name: 'TLS_SERVER_PRIV_KEY', value: '/etc/backend-tls/tls.key' },
    );
  }
  const servingPort = options.tlsSecret ? options.tlsPort! : options.tcpPort;
  await core.createNamespacedPod({
    namespace,
    body: {
      metadata: { name: `${app}-backend`, labels: { app } },
      spec: {
        containers: [{
          name: 'echo',
          image: 'tlsgate.test/tcp-echo',
          env,
          ports: [{ containerPort: servingPort }],
          // Only in the EndpointSlice once it listens, so the proxy never dials a backend that is still starting.
          readinessProbe: { tcpSocket: { port: servingPort }, periodSeconds: 1 },
          ...(options.tlsSecret ? { volumeMounts: [{ name: 'tls', mountPath: '/etc/backend-tls', readOnly: true }] } : {}),
        }],
        ...(options.tlsSecret ? { volumes: [{ name: 'tls', secret: { secretName: options.tlsSecret } }] } : {}),
      },
    },
  });
}

async function createService(kc: k8s.KubeConfig, namespace: string, name: string, port: number): Promise<void> {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  await core.createNamespacedService({ namespace, body: { metadata: { name }, spec: { selector: { app: name }, ports: [{ port, targetPort: port }] } } });
}

function tlsRoute(namespace: string, name: string, gateway: string, sectionName: string, hostnames: string[], backendRefs: Record<string, unknown>[]): any {
  return {
    apiVersion: `${GATEWAY_GROUP}/v1`,
    kind: 'TLSRoute',
    metadata: { name, namespace },
    spec: { parentRefs: [{ name: gateway, sectionName }], hostnames, rules: [{ backendRefs }] },
  };
}

describe('e2e: traffic through the installed operator\'s proxy pods', () => {
  let kc: k8s.KubeConfig;
  let ns: string;
  let remoteNs: string;
  let tmp: string;
  let exampleHost: string;
  let mixedHost: string;
  let fooBackendCert: string;
  let barGatewayCert: string;
  let mixedTermCert: string;
  const diagnostics = (): string => operatorDiagnostics({ namespaces: [ns] });

  before(async () => {
    kc = loadTestKubeConfig();
    tmp = mkdtempSync(path.join(os.tmpdir(), 'tlsgate-e2e-'));
    const install = await installOperator(kc);
    console.log(`# operator installed in ${install.tookMs} ms, leader ${install.leader}`);
    ns = await freshNamespace(kc, 'e2e-traffic');
    remoteNs = await freshNamespace(kc, 'e2e-remote');

    // Backends: foo a TLS server with its own certificate, bar a plain TCP echo (the upstream
    // example's Services, made by applyUpstreamExample, select app=foo-svc / app=bar-svc).
    fooBackendCert = await createCertificateSecret(kc, ns, 'foo-backend-cert', 'foo.example.com');
    await createEchoPod(kc, ns, 'foo-svc', { tcpPort: 3000, tlsPort: 443, tlsSecret: 'foo-backend-cert' });
    await createEchoPod(kc, ns, 'bar-svc', { tcpPort: 8080 });
    for (const app of ['w-heavy', 'w-light', 'w-zero']) {
      await createEchoPod(kc, ns, app, { tcpPort: 8080 });
      await createService(kc, ns, app, 8080);
    }
    await createEchoPod(kc, remoteNs, 'remote-svc', { tcpPort: 8080 });
    await createService(kc, remoteNs, 'remote-svc', 8080);

    await applyUpstreamExample(kc, ns, INSTALL_GATEWAY_CLASS);
    const secret = await kc.makeApiClient(k8s.CoreV1Api).readNamespacedSecret({ namespace: ns, name: 'tls-terminate-certificate' });
    barGatewayCert = Buffer.from(secret.data!['tls.crt']!, 'base64').toString('utf8');

    // A Mixed Gateway: Passthrough and Terminate listeners on one port, told apart by SNI.
    mixedTermCert = await createCertificateSecret(kc, ns, 'mixed-term-cert', '*.term.example.com');
    await createObject(kc, {
      apiVersion: `${GATEWAY_GROUP}/v1`,
      kind: 'Gateway',
      metadata: { name: 'mixed-gateway', namespace: ns },
      spec: {
        gatewayClassName: INSTALL_GATEWAY_CLASS,
        listeners: [
          { name: 'pass', protocol: 'TLS', port: 443, hostname: '*.pass.example.com', tls: { mode: 'Passthrough' } },
          { name: 'term', protocol: 'TLS', port: 443, hostname: '*.term.example.com', tls: { mode: 'Terminate', certificateRefs: [{ name: 'mixed-term-cert' }] } },
        ],
      },
    });
    await createObject(kc, tlsRoute(ns, 'mixed-pass', 'mixed-gateway', 'pass', ['direct.pass.example.com'], [{ name: 'foo-svc', port: 443 }]));
    await createObject(kc, tlsRoute(ns, 'mixed-term', 'mixed-gateway', 'term', ['echo.term.example.com'], [{ name: 'bar-svc', port: 8080 }]));
    await createObject(kc, tlsRoute(ns, 'weighted', 'mixed-gateway', 'term', ['weights.term.example.com'], [
      { name: 'w-heavy', port: 8080, weight: 3 },
      { name: 'w-light', port: 8080, weight: 1 },
      { name: 'w-zero', port: 8080, weight: 0 },
    ]));
    await createObject(kc, tlsRoute(ns, 'cross', 'mixed-gateway', 'term', ['cross.term.example.com'], [{ name: 'remote-svc', namespace: remoteNs, port: 8080 }]));

    for (const service of ['foo-svc', 'bar-svc', 'w-heavy', 'w-light', 'w-zero']) await waitForReadyEndpoints(kc, ns, service);
    await waitForReadyEndpoints(kc, remoteNs, 'remote-svc');
    exampleHost = await gatewayEndpoint(kc, ns, 'example-gateway');
    mixedHost = await gatewayEndpoint(kc, ns, 'mixed-gateway');
    console.log(`# example-gateway at ${exampleHost}, mixed-gateway at ${mixedHost}`);
  });

  after(async () => {
    if (ns) await deleteNamespace(kc, ns);
    if (remoteNs) await deleteNamespace(kc, remoteNs);
    await uninstallOperator(kc);
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  /**
   * Polls a probe until `ok` accepts its result. Needed where a change (a new endpoint, a
   * ReferenceGrant) must travel informer → translate → config server → proxy, which has no
   * status of its own to wait on.
   */
  async function eventuallyTraffic(what: string, probe: () => Promise<TlsProbeResult>, ok: (r: TlsProbeResult) => boolean, timeoutMs = 60_000): Promise<TlsProbeResult> {
    let last: TlsProbeResult | undefined;
    const deadline = performance.now() + timeoutMs;
    while (performance.now() < deadline) {
      last = await probe();
      if (ok(last)) return last;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const seen = last ? `handshake=${last.handshake} ended=${last.ended} raw=${last.rawBytesFromServer} received=${JSON.stringify(last.received.toString('utf8').slice(0, 300))} ${last.error ?? ''}` : 'no probe ran';
    assert.fail(`${what}: not seen within ${timeoutMs} ms; last probe: ${seen}\n${diagnostics()}`);
  }

  const served = (r: TlsProbeResult): boolean => r.ended === 'matched';

  it('upstream example, foo (Passthrough, Node tls): the client sees the backend\'s certificate and the backend sees the SNI', async () => {
    const result = await eventuallyTraffic('foo.example.com answered by the TLS backend',
      () => tlsProbe({ host: exampleHost, port: 443, servername: 'foo.example.com', ca: fooBackendCert, send: 'TEST\n', until: TEST_ANSWER }), served);
    assert.equal(result.peer?.fingerprint256, fingerprint(fooBackendCert), `the backend's own certificate\n${diagnostics()}`);
    assert.notEqual(result.peer?.fingerprint256, fingerprint(barGatewayCert));
    assert.equal(result.authorized, true, `verified against the backend's certificate: ${result.authorizationError}`);
    assert.ok(result.received.toString('utf8').startsWith(WELCOME));
    const report = echoReport(result);
    assert.equal(report.service, 'foo-svc');
    assert.equal(report.namespace, ns);
    assert.equal(report.isTLS, true, 'the backend terminated TLS itself');
    assert.equal(report.tls?.serverName, 'foo.example.com', 'the backend saw the client\'s SNI');
  });

  it('upstream example, bar (Terminate, Node tls): the client sees the Gateway\'s certificate, the backend gets plain TCP', async () => {
    const result = await eventuallyTraffic('bar.example.com answered through the terminating listener',
      () => tlsProbe({ host: exampleHost, port: 8443, servername: 'bar.example.com', ca: barGatewayCert, send: 'IS_TLS\nTEST\n', until: TEST_ANSWER }), served);
    assert.equal(result.peer?.fingerprint256, fingerprint(barGatewayCert), `the certificate of Secret tls-terminate-certificate\n${diagnostics()}`);
    assert.equal(result.authorized, true, `verified against the Gateway's certificate: ${result.authorizationError}`);
    const text = result.received.toString('utf8');
    assert.ok(text.startsWith(`${WELCOME}false\n`), `welcome, then IS_TLS answered "false" (the proxy terminated TLS): ${JSON.stringify(text)}`);
    const report = echoReport(result);
    assert.equal(report.service, 'bar-svc');
    assert.equal(report.isTLS, false);
  });

  it('upstream example with openssl s_client: foo shows the backend certificate, bar the Gateway certificate, both verify and echo', async () => {
    const fooCa = path.join(tmp, 'foo-ca.pem');
    const barCa = path.join(tmp, 'bar-ca.pem');
    writeFileSync(fooCa, fooBackendCert);
    writeFileSync(barCa, barGatewayCert);

    const foo = await opensslSClient({ host: exampleHost, port: 443, servername: 'foo.example.com', caFile: fooCa, send: 'PING\n', until: 'PONG' });
    const fooWhy = `openssl foo: exit ${foo.exitCode}\n${foo.stdout.slice(-1500)}\n${foo.stderr}\n${diagnostics()}`;
    assert.equal(foo.handshake, true, fooWhy);
    assert.match(foo.subject ?? '', /CN\s*=\s*foo\.example\.com/, fooWhy);
    assert.equal(foo.verifyCode, 0, fooWhy);
    assert.equal(foo.matched, true, fooWhy);
    assert.ok(foo.stdout.includes(WELCOME.trim()), fooWhy);

    const bar = await opensslSClient({ host: exampleHost, port: 8443, servername: 'bar.example.com', caFile: barCa, send: 'PING\n', until: 'PONG' });
    const barWhy = `openssl bar: exit ${bar.exitCode}\n${bar.stdout.slice(-1500)}\n${bar.stderr}\n${diagnostics()}`;
    assert.equal(bar.handshake, true, barWhy);
    assert.match(bar.subject ?? '', /CN\s*=\s*bar\.example\.com/, barWhy);
    assert.equal(bar.verifyCode, 0, barWhy);
    assert.equal(bar.matched, true, barWhy);

    // The other certificate must not verify: proves each side really showed its own.
    const crossed = await opensslSClient({ host: exampleHost, port: 8443, servername: 'bar.example.com', caFile: fooCa });
    assert.equal(crossed.handshake, true);
    assert.notEqual(crossed.verifyCode, 0, `bar's certificate verified against foo's backend certificate\n${crossed.stdout.slice(-800)}`);
  });

  it('Mixed Gateway: Passthrough and Terminate on port 443, chosen per connection by SNI', async () => {
    const pass = await eventuallyTraffic('direct.pass.example.com passed through to the TLS backend',
      () => tlsProbe({ host: mixedHost, port: 443, servername: 'direct.pass.example.com', send: 'TEST\n', until: TEST_ANSWER }), served);
    assert.equal(pass.peer?.fingerprint256, fingerprint(fooBackendCert), `Passthrough: the backend's certificate\n${diagnostics()}`);
    const passReport = echoReport(pass);
    assert.equal(passReport.isTLS, true);
    assert.equal(passReport.tls?.serverName, 'direct.pass.example.com');

    const term = await eventuallyTraffic('echo.term.example.com terminated by the Gateway',
      () => tlsProbe({ host: mixedHost, port: 443, servername: 'echo.term.example.com', ca: mixedTermCert, send: 'TEST\n', until: TEST_ANSWER }), served);
    assert.equal(term.peer?.fingerprint256, fingerprint(mixedTermCert), `Terminate: the wildcard certificate of the term listener\n${diagnostics()}`);
    assert.equal(term.authorized, true, `echo.term.example.com verified by *.term.example.com: ${term.authorizationError}`);
    const termReport = echoReport(term);
    assert.equal(termReport.service, 'bar-svc');
    assert.equal(termReport.isTLS, false);

    // A name under neither listener's hostname, and one under a listener but without a route.
    await expectSilentClose({ host: mixedHost, port: 443, servername: 'other.example.com' }, diagnostics);
    await expectSilentClose({ host: mixedHost, port: 443, servername: 'nobody.pass.example.com' }, diagnostics);
  });

  it('weights 3:1:0: the heavy backend gets about three quarters of the connections, the weight-0 backend none', async () => {
    // Wait until all three backends are in the proxy's config (light answering proves it).
    await eventuallyTraffic('weights.term.example.com served',
      () => tlsProbe({ host: mixedHost, port: 443, servername: 'weights.term.example.com', send: 'TEST\n', until: TEST_ANSWER }), served);
    const connections = 40;
    const counts: Record<string, number> = {};
    for (let i = 0; i < connections; i++) {
      const result = await tlsProbe({ host: mixedHost, port: 443, servername: 'weights.term.example.com', send: 'TEST\n', until: TEST_ANSWER });
      assert.equal(result.ended, 'matched', `connection ${i}: ${result.ended} ${result.error ?? ''}\n${diagnostics()}`);
      const service = echoReport(result).service;
      counts[service] = (counts[service] ?? 0) + 1;
    }
    const heavy = counts['w-heavy'] ?? 0;
    const light = counts['w-light'] ?? 0;
    console.log(`# weights 3:1:0 over ${connections} connections: ${JSON.stringify(counts)}`);
    assert.equal(heavy + light, connections, `only the weighted backends answer: ${JSON.stringify(counts)}`);
    assert.equal(counts['w-zero'] ?? 0, 0, 'a weight-0 backend is never picked');
    // 3:1 expects 30 of 40; equal weights would give 20, inverted ones 10.
    const share = heavy / connections;
    assert.ok(share >= 0.65 && share <= 0.85, `heavy share ${share} (${JSON.stringify(counts)}) outside 0.65..0.85 for weights 3:1`);
  });

  it('cross-namespace backend: RefNotPermitted and closed without a ReferenceGrant, served with one, closed again once it is deleted', async () => {
    const probe = () => tlsProbe({ host: mixedHost, port: 443, servername: 'cross.term.example.com', send: 'TEST\n', until: TEST_ANSWER });
    await eventually('route cross: ResolvedRefs=False/RefNotPermitted', async () => {
      const route = await getCustom(kc, 'tlsroutes', ns, 'cross');
      const resolved = condition(route.status?.parents?.[0]?.conditions, 'ResolvedRefs');
      return resolved?.status === 'False' && resolved.reason === 'RefNotPermitted' && resolved.observedGeneration === route.metadata.generation;
    }, 60_000);
    // The proxy has the Gateway's current config (another route of it answers), yet this name is refused.
    await eventuallyTraffic('echo.term.example.com served', () => tlsProbe({ host: mixedHost, port: 443, servername: 'echo.term.example.com', send: 'PING\n', until: 'PONG\n' }), served);
    for (let i = 0; i < 3; i++) await expectSilentClose({ host: mixedHost, port: 443, servername: 'cross.term.example.com' }, diagnostics);

    const grant = {
      apiVersion: `${GATEWAY_GROUP}/v1`,
      kind: 'ReferenceGrant',
      metadata: { name: 'allow-e2e-routes', namespace: remoteNs },
      spec: { from: [{ group: GATEWAY_GROUP, kind: 'TLSRoute', namespace: ns }], to: [{ group: '', kind: 'Service', name: 'remote-svc' }] },
    };
    await createObject(kc, grant);
    const servedRemote = await eventuallyTraffic('cross.term.example.com served by the other namespace\'s backend once granted', probe, served);
    const report = echoReport(servedRemote);
    assert.equal(report.namespace, remoteNs);
    assert.equal(report.service, 'remote-svc');
    await eventually('route cross: ResolvedRefs=True', async () => {
      const route = await getCustom(kc, 'tlsroutes', ns, 'cross');
      return condition(route.status?.parents?.[0]?.conditions, 'ResolvedRefs')?.status === 'True';
    }, 60_000);

    const custom = kc.makeApiClient(k8s.CustomObjectsApi);
    await custom.deleteNamespacedCustomObject({ group: GATEWAY_GROUP, version: 'v1', plural: 'referencegrants', namespace: remoteNs, name: 'allow-e2e-routes' });
    await eventuallyTraffic('cross.term.example.com refused again after the ReferenceGrant is deleted', probe,
      (r) => r.connected && !r.handshake && r.rawBytesFromServer === 0 && r.ended !== 'timeout');
    await expectSilentClose({ host: mixedHost, port: 443, servername: 'cross.term.example.com' }, diagnostics);
    await eventually('route cross: ResolvedRefs=False/RefNotPermitted again', async () => {
      const route = await getCustom(kc, 'tlsroutes', ns, 'cross');
      return condition(route.status?.parents?.[0]?.conditions, 'ResolvedRefs')?.reason === 'RefNotPermitted';
    }, 60_000);
  });

  it('a route change does not flap the Gateway: it stays Programmed=True, and then names the new config version', async () => {
    const gatewayPath = `/apis/${GATEWAY_GROUP}/v1/namespaces/${ns}/gateways`;
    const before = await getCustom(kc, 'gateways', ns, 'example-gateway');
    assert.equal(condition(before.status?.conditions, 'Programmed')?.status, 'True', `Programmed before the change\n${diagnostics()}`);
    const seen: { status: string; reason: string; message: string }[] = [];
    // A watch sees every status write; polling could miss a short Programmed=False.
    const watch = await new k8s.Watch(kc).watch(
      gatewayPath,
      { fieldSelector: 'metadata.name=example-gateway', resourceVersion: before.metadata.resourceVersion },
      (_type: string, gw: any) => {
        const programmed = condition(gw.status?.conditions, 'Programmed');
        if (programmed) seen.push({ status: programmed.status, reason: programmed.reason, message: programmed.message });
      },
      () => undefined,
    );
    try {
      const custom = kc.makeApiClient(k8s.CustomObjectsApi);
      await custom.patchNamespacedCustomObject(
        { group: GATEWAY_GROUP, version: 'v1', plural: 'tlsroutes', namespace: ns, name: 'bar-route', body: { spec: { hostnames: ['bar.example.com', 'bar2.example.com'] } } },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
      );
      await eventuallyTraffic('bar2.example.com served', () => tlsProbe({ host: exampleHost, port: 8443, servername: 'bar2.example.com', send: 'PING\n', until: 'PONG\n' }), served);
      const oldMessage = condition(before.status.conditions, 'Programmed').message;
      await eventually('the Gateway status names the new config version', async () => seen.some((c) => c.status === 'True' && c.message !== oldMessage), 30_000);
    } finally {
      watch.abort();
    }
    assert.deepEqual(seen.filter((c) => c.status !== 'True'), [], `Programmed went False during a route change: ${JSON.stringify(seen)}`);
  });

  it('unknown SNI and no SNI are closed without a byte; the proxy keeps serving and does not restart', async () => {
    const proxyPods = async () => (await kc.makeApiClient(k8s.CoreV1Api).listNamespacedPod({
      namespace: ns, labelSelector: 'app.kubernetes.io/name=tlsgate-proxy,gateway.networking.k8s.io/gateway-name=example-gateway',
    })).items.filter((p) => !p.metadata?.deletionTimestamp);
    const before = await proxyPods();
    assert.ok(before.length >= 1, `a proxy pod of example-gateway\n${diagnostics()}`);

    for (const port of [443, 8443]) {
      await expectSilentClose({ host: exampleHost, port, servername: 'unknown.example.com' }, diagnostics);
      await expectSilentClose({ host: exampleHost, port }, diagnostics);
    }
    const openssl = await opensslSClient({ host: exampleHost, port: 443, servername: 'unknown.example.com' });
    assert.equal(openssl.handshake, false, openssl.stdout);
    assert.match(openssl.stdout, /no peer certificate available/);
    assert.match(openssl.stdout, /SSL handshake has read 0 bytes/, `openssl read nothing, not even an alert:\n${openssl.stdout}`);

    const next = await tlsProbe({ host: exampleHost, port: 443, servername: 'foo.example.com', send: 'PING\n', until: 'PONG\n' });
    assert.equal(next.ended, 'matched', `the next good connection is served: ${next.ended} ${next.error ?? ''}\n${diagnostics()}`);
    const after = await proxyPods();
    assert.deepEqual(after.map((p) => p.metadata?.uid), before.map((p) => p.metadata?.uid), 'the same proxy pods');
    for (const pod of after) {
      const status = pod.status?.containerStatuses?.find((c) => c.name === 'proxy');
      assert.equal(status?.restartCount, 0, `proxy ${pod.metadata?.name} did not restart\n${diagnostics()}`);
      assert.equal(status?.ready, true, `proxy ${pod.metadata?.name} still ready`);
    }
  });
});
