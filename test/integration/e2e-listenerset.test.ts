// ListenerSet end to end through the installed operator (issue 19): a platform Gateway in its
// own namespace with an HTTPS listener on 443, allowing ListenerSets from namespaces labelled
// `team`; a team's ListenerSet in the team's namespace adding a TLS Passthrough, a TLS Terminate
// and an HTTPS listener on the same port 443, with the team's certificates kept in the team's
// namespace (no ReferenceGrant); routes attached to the ListenerSet by sectionName; real backend
// pods; and real clients (Node tls, curl) connecting to the address the Gateway reports, through
// the one proxy pod the operator runs for the Gateway. A second, younger ListenerSet that wants
// the Gateway's own hostname loses (HostnameConflict) and changes nothing of what is served.
// The statuses the operator writes are asserted: the ListenerSets' conditions and listeners,
// the Gateway's attachedListenerSets, and the routes' parent status with the ListenerSet as parent.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { loadTestKubeConfig, freshNamespace, deleteNamespace } from '../cluster/client.js';
import { condition, createCertificateSecret, createObject, eventually, getCustom, GATEWAY_GROUP, waitForReadyEndpoints } from './operator-support.js';
import { installOperator, uninstallOperator, operatorDiagnostics, gatewayEndpoint, INSTALL_GATEWAY_CLASS } from './install-support.js';
import { tlsProbe, expectSilentClose, type TlsProbeResult } from '../helpers/traffic.js';

const run = promisify(execFile);
const fingerprint = (pem: string): string => new X509Certificate(pem).fingerprint256;

/** The tcp-echo answer to `TEST`: one JSON line after the welcome line. */
const TEST_ANSWER = /\n\{.*\}\n/;

interface TcpEchoReport {
  namespace: string;
  service: string;
  isTLS: boolean;
  tls?: { serverName: string };
}

function tcpEchoReport(result: TlsProbeResult): TcpEchoReport {
  const line = result.received.toString('utf8').split('\n').find((l) => l.startsWith('{'));
  assert.ok(line, `no TEST answer in ${JSON.stringify(result.received.toString('utf8'))} (ended ${result.ended} ${result.error ?? ''})`);
  return JSON.parse(line) as TcpEchoReport;
}

/**
 * A backend pod and its Service `app` on `port`: echo-basic in HTTP mode, or tcp-echo (plain
 * TCP, or TLS with the certificate of Secret `tlsSecret` when given).
 */
async function createBackend(
  kc: k8s.KubeConfig,
  namespace: string,
  app: string,
  port: number,
  kind: { http: true } | { tcp: true; tlsSecret?: string },
): Promise<void> {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const env: k8s.V1EnvVar[] = [
    { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
    { name: 'NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
  ];
  let image = 'registry.k8s.io/gateway-api/echo-basic:v1.5.1';
  let containerPort = 3000;
  const tlsSecret = 'tcp' in kind ? kind.tlsSecret : undefined;
  if ('tcp' in kind) {
    image = 'tlsgate.test/tcp-echo';
    containerPort = port;
    env.push({ name: 'SERVICE_NAME', value: app });
    if (tlsSecret) {
      env.push(
        { name: 'TCP_PORT', value: '3000' },
        { name: 'TLS_PORT', value: String(port) },
        { name: 'TLS_SERVER_CERT', value: '/etc/backend-tls/tls.crt' },
        { name: 'TLS_SERVER_PRIV_KEY', value: '/etc/backend-tls/tls.key' },
      );
    } else {
      env.push({ name: 'TCP_PORT', value: String(port) });
    }
  }
  await core.createNamespacedPod({
    namespace,
    body: {
      metadata: { name: `${app}-pod`, labels: { app } },
      spec: {
        containers: [{
          name: 'backend',
          image,
          env,
          ports: [{ containerPort }],
          // In the EndpointSlice only once it listens, so the proxy never dials a backend still starting.
          readinessProbe: { tcpSocket: { port: containerPort }, periodSeconds: 1 },
          ...(tlsSecret ? { volumeMounts: [{ name: 'tls', mountPath: '/etc/backend-tls', readOnly: true }] } : {}),
        }],
        ...(tlsSecret ? { volumes: [{ name: 'tls', secret: { secretName: tlsSecret } }] } : {}),
      },
    },
  });
  await core.createNamespacedService({ namespace, body: { metadata: { name: app }, spec: { selector: { app }, ports: [{ port, targetPort: containerPort }] } } });
}

/** curl with the proxy's address pinned for the hostname (as a user's DNS would do), never a proxy from the environment. */
async function curlStatusAndBody(url: string, host: string, caFile: string): Promise<{ status: number; body: string }> {
  const hostname = new URL(url).hostname;
  const { stdout } = await run('curl', [
    '--silent', '--show-error', '--noproxy', '*', '--max-time', '10', '--cacert', caFile,
    '--resolve', `${hostname}:443:${host}`, '--write-out', '\n%{http_code}', url,
  ]).catch((error: Error & { stdout?: string }) => ({ stdout: `${error.message}\n0` }));
  const cut = stdout.lastIndexOf('\n');
  return { status: Number(stdout.slice(cut + 1)), body: stdout.slice(0, cut) };
}

const LISTENER_SET = 'ListenerSet';

describe('e2e: a team\'s ListenerSet shares port 443 of the platform Gateway through the installed operator', () => {
  let kc: k8s.KubeConfig;
  let platformNs: string;
  let teamNs: string;
  let tmp: string;
  let host: string;
  const certs: Record<'platform' | 'teamTerm' | 'teamWeb' | 'teamDb', string> = { platform: '', teamTerm: '', teamWeb: '', teamDb: '' };
  const diagnostics = (): string => operatorDiagnostics({ namespaces: [platformNs, teamNs] });

  before(async () => {
    kc = loadTestKubeConfig();
    tmp = mkdtempSync(path.join(os.tmpdir(), 'tlsgate-e2e-lset-'));
    await installOperator(kc);
    platformNs = await freshNamespace(kc, 'e2e-lset-platform');
    teamNs = await freshNamespace(kc, 'e2e-lset-team', { 'e2e-lset-team': 'a' });

    certs.platform = await createCertificateSecret(kc, platformNs, 'platform-cert', 'www.platform.example.com');
    // The team's certificates stay in the team's namespace: resolved from the ListenerSet's namespace.
    certs.teamTerm = await createCertificateSecret(kc, teamNs, 'mq-cert', 'mq.team.example.com');
    certs.teamWeb = await createCertificateSecret(kc, teamNs, 'app-cert', 'app.team.example.com');
    certs.teamDb = await createCertificateSecret(kc, teamNs, 'db-backend-cert', 'db.team.example.com');
    await createBackend(kc, platformNs, 'platform-web', 8080, { http: true });
    await createBackend(kc, teamNs, 'team-web', 8080, { http: true });
    await createBackend(kc, teamNs, 'team-mq', 8080, { tcp: true });
    await createBackend(kc, teamNs, 'team-db', 8443, { tcp: true, tlsSecret: 'db-backend-cert' });

    await createObject(kc, {
      apiVersion: `${GATEWAY_GROUP}/v1`,
      kind: 'Gateway',
      metadata: { name: 'shared', namespace: platformNs },
      spec: {
        gatewayClassName: INSTALL_GATEWAY_CLASS,
        allowedListeners: { namespaces: { from: 'Selector', selector: { matchLabels: { 'e2e-lset-team': 'a' } } } },
        listeners: [
          { name: 'www', protocol: 'HTTPS', port: 443, hostname: 'www.platform.example.com', tls: { mode: 'Terminate', certificateRefs: [{ name: 'platform-cert' }] } },
        ],
      },
    });
    await createObject(kc, {
      apiVersion: `${GATEWAY_GROUP}/v1`,
      kind: 'HTTPRoute',
      metadata: { name: 'www', namespace: platformNs },
      spec: { parentRefs: [{ name: 'shared' }], rules: [{ backendRefs: [{ name: 'platform-web', port: 8080 }] }] },
    });
    const parentRef = { name: 'shared', namespace: platformNs };
    await createObject(kc, {
      apiVersion: `${GATEWAY_GROUP}/v1`,
      kind: LISTENER_SET,
      metadata: { name: 'team-a', namespace: teamNs },
      spec: {
        parentRef,
        listeners: [
          { name: 'db', protocol: 'TLS', port: 443, hostname: 'db.team.example.com', tls: { mode: 'Passthrough' } },
          { name: 'mq', protocol: 'TLS', port: 443, hostname: 'mq.team.example.com', tls: { mode: 'Terminate', certificateRefs: [{ name: 'mq-cert' }] } },
          { name: 'app', protocol: 'HTTPS', port: 443, hostname: 'app.team.example.com', tls: { mode: 'Terminate', certificateRefs: [{ name: 'app-cert' }] } },
        ],
      },
    });
    const onListener = (sectionName: string) => [{ group: GATEWAY_GROUP, kind: LISTENER_SET, name: 'team-a', sectionName }];
    for (const [name, section, backend, port] of [['db', 'db', 'team-db', 8443], ['mq', 'mq', 'team-mq', 8080]] as const) {
      await createObject(kc, {
        apiVersion: `${GATEWAY_GROUP}/v1`,
        kind: 'TLSRoute',
        metadata: { name, namespace: teamNs },
        spec: { parentRefs: onListener(section), hostnames: [`${name}.team.example.com`], rules: [{ backendRefs: [{ name: backend, port }] }] },
      });
    }
    await createObject(kc, {
      apiVersion: `${GATEWAY_GROUP}/v1`,
      kind: 'HTTPRoute',
      metadata: { name: 'app', namespace: teamNs },
      spec: { parentRefs: onListener('app'), rules: [{ backendRefs: [{ name: 'team-web', port: 8080 }] }] },
    });
    // Created after team-a, so younger: its only listener wants the Gateway's own hostname.
    await createObject(kc, {
      apiVersion: `${GATEWAY_GROUP}/v1`,
      kind: LISTENER_SET,
      metadata: { name: 'team-late', namespace: teamNs },
      spec: {
        parentRef,
        listeners: [{ name: 'steal', protocol: 'HTTPS', port: 443, hostname: 'www.platform.example.com', tls: { mode: 'Terminate', certificateRefs: [{ name: 'app-cert' }] } }],
      },
    });

    for (const service of ['team-web', 'team-mq', 'team-db']) await waitForReadyEndpoints(kc, teamNs, service);
    await waitForReadyEndpoints(kc, platformNs, 'platform-web');
    host = await gatewayEndpoint(kc, platformNs, 'shared');
    writeFileSync(path.join(tmp, 'platform.crt'), certs.platform);
    writeFileSync(path.join(tmp, 'app.crt'), certs.teamWeb);
  });

  after(async () => {
    if (platformNs) await deleteNamespace(kc, platformNs);
    if (teamNs) await deleteNamespace(kc, teamNs);
    await uninstallOperator(kc);
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  /** Polls a probe until it ends as `until` matched: a new config travels informer → translate → proxy with no status of its own. */
  async function served(what: string, probe: () => Promise<TlsProbeResult>, timeoutMs = 60_000): Promise<TlsProbeResult> {
    let last: TlsProbeResult | undefined;
    const deadline = performance.now() + timeoutMs;
    while (performance.now() < deadline) {
      last = await probe();
      if (last.ended === 'matched') return last;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const seen = last ? `handshake=${last.handshake} ended=${last.ended} received=${JSON.stringify(last.received.toString('utf8').slice(0, 300))} ${last.error ?? ''}` : 'no probe ran';
    assert.fail(`${what}: not seen within ${timeoutMs} ms; last probe: ${seen}\n${diagnostics()}`);
  }

  it('writes the statuses: team-a Accepted and Programmed with its three listeners, team-late conflicted, the Gateway counts one ListenerSet, the routes are Accepted on the ListenerSet', async () => {
    const teamA = await eventually('ListenerSet team-a Programmed=True with attached routes', async () => {
      const ls = await getCustom(kc, 'listenersets', teamNs, 'team-a');
      const programmed = condition(ls.status?.conditions, 'Programmed');
      const attached = (ls.status?.listeners ?? []).map((l: any) => l.attachedRoutes);
      return programmed?.status === 'True' && programmed.observedGeneration === ls.metadata.generation && attached.every((n: number) => n === 1) && attached.length === 3 ? ls : undefined;
    }, 60_000).catch((error: Error) => assert.fail(`${error.message}\n${diagnostics()}`));
    const accepted = condition(teamA.status.conditions, 'Accepted');
    assert.equal(accepted?.status, 'True', JSON.stringify(teamA.status.conditions));
    assert.equal(accepted?.reason, 'Accepted');
    const listeners = new Map<string, any>(teamA.status.listeners.map((l: any) => [l.name, l]));
    assert.deepEqual([...listeners.keys()].sort(), ['app', 'db', 'mq']);
    for (const [name, l] of listeners) {
      for (const type of ['Accepted', 'Programmed', 'ResolvedRefs']) assert.equal(condition(l.conditions, type)?.status, 'True', `${name} ${type}: ${JSON.stringify(l.conditions)}`);
      assert.equal(condition(l.conditions, 'Conflicted')?.status, 'False', `${name}: ${JSON.stringify(l.conditions)}`);
    }
    assert.deepEqual(listeners.get('app').supportedKinds, [{ group: GATEWAY_GROUP, kind: 'HTTPRoute' }]);
    assert.deepEqual(listeners.get('db').supportedKinds, [{ group: GATEWAY_GROUP, kind: 'TLSRoute' }]);

    const late = await eventually('ListenerSet team-late Accepted=False', async () => {
      const ls = await getCustom(kc, 'listenersets', teamNs, 'team-late');
      return condition(ls.status?.conditions, 'Accepted')?.status === 'False' ? ls : undefined;
    }, 60_000);
    assert.equal(condition(late.status.conditions, 'Accepted')?.reason, 'ListenersNotValid', JSON.stringify(late.status.conditions));
    assert.equal(condition(late.status.conditions, 'Programmed')?.status, 'False');
    const steal = late.status.listeners.find((l: any) => l.name === 'steal');
    assert.equal(condition(steal?.conditions, 'Conflicted')?.status, 'True', JSON.stringify(steal?.conditions));
    assert.equal(condition(steal?.conditions, 'Conflicted')?.reason, 'HostnameConflict');

    const gateway = await getCustom(kc, 'gateways', platformNs, 'shared');
    assert.equal(gateway.status.attachedListenerSets, 1, 'team-a only: team-late has no valid listener');
    const www = gateway.status.listeners.find((l: any) => l.name === 'www');
    assert.equal(www.attachedRoutes, 1);
    assert.equal(condition(www.conditions, 'Conflicted')?.status, 'False', 'a ListenerSet never changes the Gateway\'s own listeners');

    for (const [plural, name] of [['tlsroutes', 'db'], ['tlsroutes', 'mq'], ['httproutes', 'app']] as const) {
      const route = await getCustom(kc, plural, teamNs, name);
      const parents = route.status?.parents ?? [];
      assert.equal(parents.length, 1, `${name}: ${JSON.stringify(parents)}`);
      assert.deepEqual(
        { kind: parents[0].parentRef.kind, name: parents[0].parentRef.name, sectionName: parents[0].parentRef.sectionName },
        { kind: LISTENER_SET, name: 'team-a', sectionName: name },
      );
      assert.equal(condition(parents[0].conditions, 'Accepted')?.status, 'True', `${name}: ${JSON.stringify(parents[0].conditions)}`);
      assert.equal(condition(parents[0].conditions, 'ResolvedRefs')?.status, 'True', `${name}: ${JSON.stringify(parents[0].conditions)}`);
    }
  });

  it('Passthrough listener of the ListenerSet: the client sees the team backend\'s own certificate, the backend sees the SNI', async () => {
    const result = await served('db.team.example.com passed through to the team\'s TLS backend',
      () => tlsProbe({ host, port: 443, servername: 'db.team.example.com', ca: certs.teamDb, send: 'TEST\n', until: TEST_ANSWER }));
    assert.equal(result.peer?.fingerprint256, fingerprint(certs.teamDb), `the backend's certificate\n${diagnostics()}`);
    assert.equal(result.authorized, true, result.authorizationError);
    const report = tcpEchoReport(result);
    assert.deepEqual({ service: report.service, namespace: report.namespace, isTLS: report.isTLS, sni: report.tls?.serverName },
      { service: 'team-db', namespace: teamNs, isTLS: true, sni: 'db.team.example.com' });
  });

  it('Terminate listener of the ListenerSet: the proxy shows the certificate from the team\'s namespace and sends plain TCP on', async () => {
    const result = await served('mq.team.example.com terminated by the proxy',
      () => tlsProbe({ host, port: 443, servername: 'mq.team.example.com', ca: certs.teamTerm, send: 'TEST\n', until: TEST_ANSWER }));
    assert.equal(result.peer?.fingerprint256, fingerprint(certs.teamTerm), `Secret mq-cert of the team's namespace\n${diagnostics()}`);
    assert.equal(result.authorized, true, result.authorizationError);
    const report = tcpEchoReport(result);
    assert.deepEqual({ service: report.service, namespace: report.namespace, isTLS: report.isTLS }, { service: 'team-mq', namespace: teamNs, isTLS: false });
  });

  it('HTTPS listeners on the same port: the ListenerSet\'s and the Gateway\'s own, each with its certificate and routes; the conflicted listener changed nothing', async () => {
    const appCa = path.join(tmp, 'app.crt');
    const platformCa = path.join(tmp, 'platform.crt');
    const app = await eventually('https://app.team.example.com/ answers 200', async () => {
      const r = await curlStatusAndBody('https://app.team.example.com/hello', host, appCa);
      return r.status === 200 ? r : undefined;
    }, 60_000).catch((error: Error) => assert.fail(`${error.message}\n${diagnostics()}`));
    const appEcho = JSON.parse(app.body) as { pod: string; namespace: string; path: string };
    assert.deepEqual({ pod: appEcho.pod, namespace: appEcho.namespace, path: appEcho.path }, { pod: 'team-web-pod', namespace: teamNs, path: '/hello' });

    // The Gateway's own listener keeps its hostname and certificate: team-late's `steal` lost.
    const www = await curlStatusAndBody('https://www.platform.example.com/', host, platformCa);
    assert.equal(www.status, 200, www.body);
    assert.equal((JSON.parse(www.body) as { pod: string }).pod, 'platform-web-pod');
    const shown = await tlsProbe({ host, port: 443, servername: 'www.platform.example.com', ca: certs.platform });
    assert.equal(shown.peer?.fingerprint256, fingerprint(certs.platform), 'the platform certificate, not the one team-late named');

    // A name under none of the listeners on 443 is closed without a byte.
    await expectSilentClose({ host, port: 443, servername: 'other.team.example.com' }, diagnostics);
  });
});
