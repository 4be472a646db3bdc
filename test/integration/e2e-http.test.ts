// HTTPRoute end to end through the installed operator: the operator as pods under its own RBAC,
// a Gateway with an HTTP listener on 80, and on 443 an HTTPS listener beside a TLS Passthrough
// listener (chosen by SNI), HTTPRoutes as users write them, real echo-basic backend pods (HTTP
// mode), and curl (HTTP/1.1 and HTTP/2) and openssl connecting to the address the Gateway
// reports, through the proxy pod the operator runs. It checks the statuses the operator writes
// (listener attachedRoutes, route parents) and what the backend received.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { loadTestKubeConfig, freshNamespace, deleteNamespace } from '../cluster/client.js';
import { condition, createObject, eventually, getCustom, selfSigned, GATEWAY_GROUP, waitForReadyEndpoints } from './operator-support.js';
import { installOperator, uninstallOperator, gatewayEndpoint, INSTALL_GATEWAY_CLASS } from './install-support.js';
import { opensslSClient } from '../helpers/traffic.js';

const run = promisify(execFile);
const b64 = (text: string): string => Buffer.from(text).toString('base64');

/** What echo-basic answers in HTTP mode: the request as it saw it, and who it is. */
interface EchoAnswer {
  path: string;
  host: string;
  method: string;
  headers: Record<string, string[]>;
  namespace: string;
  pod: string;
}

interface CurlResult {
  status: number;
  httpVersion: string;
  body: string;
}

/** curl with the proxy's address pinned for the hostname (as a user's DNS would do), never a proxy from the environment. */
async function curl(url: string, host: string, port: number, extra: string[] = []): Promise<CurlResult> {
  const hostname = new URL(url).hostname;
  const { stdout } = await run('curl', [
    '--silent', '--show-error', '--noproxy', '*', '--max-time', '10',
    '--resolve', `${hostname}:${port}:${host}`,
    '--write-out', '\n%{http_code} %{http_version}',
    ...extra, url,
  ]);
  const cut = stdout.lastIndexOf('\n');
  const [status, httpVersion] = stdout.slice(cut + 1).split(' ');
  return { status: Number(status), httpVersion: httpVersion ?? '', body: stdout.slice(0, cut) };
}

/**
 * The first answer through a new proxy: Programmed=True means a proxy ACKed the config, but the
 * box's load-balancer relay sends traffic only once the pod's readiness probe has put it in the
 * Service's endpoints, a moment later. Retries until `url` answers 200.
 */
async function firstAnswer(url: string, host: string, port: number, extra: string[] = []): Promise<CurlResult> {
  let last: unknown;
  return eventually(`${url} through ${host}:${port} answers 200 (last: ${JSON.stringify(last)})`, async () => {
    const result = await curl(url, host, port, extra).catch((error: Error) => ({ status: 0, httpVersion: '', body: error.message }));
    last = result;
    return result.status === 200 ? result : undefined;
  }, 60_000);
}

async function createEchoBasic(kc: k8s.KubeConfig, namespace: string, app: string): Promise<void> {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  await core.createNamespacedPod({
    namespace,
    body: {
      metadata: { name: `${app}-pod`, labels: { app } },
      spec: {
        containers: [{
          name: 'echo',
          image: 'registry.k8s.io/gateway-api/echo-basic:v1.5.1',
          env: [
            { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
            { name: 'NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
          ],
          ports: [{ containerPort: 3000 }],
          readinessProbe: { httpGet: { path: '/', port: 3000 }, periodSeconds: 1 },
        }],
      },
    },
  });
  await core.createNamespacedService({ namespace, body: { metadata: { name: app }, spec: { selector: { app }, ports: [{ port: 8080, targetPort: 3000 }] } } });
}

describe('e2e: HTTPRoute through the installed operator\'s proxy pods', () => {
  let kc: k8s.KubeConfig;
  let ns: string;
  let tmp: string;
  let host: string;
  let caFile: string;

  before(async () => {
    kc = loadTestKubeConfig();
    tmp = mkdtempSync(path.join(os.tmpdir(), 'tlsgate-e2e-http-'));
    await installOperator(kc);
    ns = await freshNamespace(kc, 'e2e-http');
    await createEchoBasic(kc, ns, 'web-v1');
    await createEchoBasic(kc, ns, 'web-v2');

    const { cert, key } = selfSigned('app.example.com');
    caFile = path.join(tmp, 'app.crt');
    writeFileSync(caFile, cert);
    await kc.makeApiClient(k8s.CoreV1Api).createNamespacedSecret({
      namespace: ns,
      body: { metadata: { name: 'app-cert' }, type: 'kubernetes.io/tls', data: { 'tls.crt': b64(cert), 'tls.key': b64(key) } },
    });
    await createObject(kc, {
      apiVersion: `${GATEWAY_GROUP}/v1`,
      kind: 'Gateway',
      metadata: { name: 'web', namespace: ns },
      spec: {
        gatewayClassName: INSTALL_GATEWAY_CLASS,
        listeners: [
          { name: 'http', protocol: 'HTTP', port: 80 },
          { name: 'https', protocol: 'HTTPS', port: 443, hostname: 'app.example.com', tls: { mode: 'Terminate', certificateRefs: [{ name: 'app-cert' }] } },
          { name: 'tls', protocol: 'TLS', port: 443, hostname: 'db.example.com', tls: { mode: 'Passthrough' } },
        ],
      },
    });
    await createObject(kc, {
      apiVersion: `${GATEWAY_GROUP}/v1`,
      kind: 'HTTPRoute',
      metadata: { name: 'app', namespace: ns },
      spec: {
        parentRefs: [{ name: 'web' }],
        hostnames: ['app.example.com'],
        rules: [
          { matches: [{ path: { type: 'PathPrefix', value: '/v2' } }], backendRefs: [{ name: 'web-v2', port: 8080 }] },
          {
            matches: [{ path: { type: 'PathPrefix', value: '/' } }],
            filters: [{ type: 'RequestHeaderModifier', requestHeaderModifier: { add: [{ name: 'X-Route', value: 'app' }] } }],
            backendRefs: [{ name: 'web-v1', port: 8080 }],
          },
        ],
      },
    });
    for (const service of ['web-v1', 'web-v2']) await waitForReadyEndpoints(kc, ns, service);
    host = await gatewayEndpoint(kc, ns, 'web');
  });

  after(async () => {
    if (ns) await deleteNamespace(kc, ns);
    await uninstallOperator(kc);
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('writes the statuses: both HTTP listeners count the route, the TLS listener does not, the route is Accepted on both', async () => {
    const gateway = await eventually('listener statuses with attachedRoutes', async () => {
      const gw = await getCustom(kc, 'gateways', ns, 'web');
      const listeners = gw.status?.listeners ?? [];
      return listeners.length === 3 && listeners.find((l: any) => l.name === 'http')?.attachedRoutes === 1 ? gw : undefined;
    });
    const byName = new Map<string, any>(gateway.status.listeners.map((l: any) => [l.name, l]));
    for (const name of ['http', 'https']) {
      const listener = byName.get(name);
      assert.equal(listener.attachedRoutes, 1, name);
      assert.deepEqual(listener.supportedKinds, [{ group: GATEWAY_GROUP, kind: 'HTTPRoute' }], name);
      assert.equal(condition(listener.conditions, 'Programmed')?.status, 'True', `${name}: ${JSON.stringify(listener.conditions)}`);
    }
    assert.equal(byName.get('tls').attachedRoutes, 0);
    const route = await getCustom(kc, 'httproutes', ns, 'app');
    const parents = route.status?.parents ?? [];
    assert.equal(parents.length, 1, JSON.stringify(parents));
    assert.equal(condition(parents[0].conditions, 'Accepted')?.status, 'True', JSON.stringify(parents[0].conditions));
    assert.equal(condition(parents[0].conditions, 'ResolvedRefs')?.status, 'True', JSON.stringify(parents[0].conditions));
  });

  it('serves plain HTTP/1.1 on port 80 by path, with the rule\'s header filter, and 404 for an unknown host', async () => {
    const v1 = await firstAnswer('http://app.example.com/shop?q=1', host, 80);
    assert.equal(v1.status, 200, v1.body);
    const answer = JSON.parse(v1.body) as EchoAnswer;
    assert.equal(answer.pod, 'web-v1-pod');
    assert.equal(answer.namespace, ns);
    assert.equal(answer.path, '/shop?q=1');
    assert.deepEqual(answer.headers['X-Route'], ['app']);
    assert.ok(answer.headers['X-Forwarded-For']?.[0], `no X-Forwarded-For in ${JSON.stringify(answer.headers)}`);

    const v2 = await curl('http://app.example.com/v2/items', host, 80);
    assert.equal((JSON.parse(v2.body) as EchoAnswer).pod, 'web-v2-pod');

    const unknown = await curl('http://other.example.com/', host, 80);
    assert.equal(unknown.status, 404);
  });

  it('serves HTTPS with HTTP/2 on 443 with the listener\'s certificate, beside the TLS listener', async () => {
    const h2 = await firstAnswer('https://app.example.com/v2/x', host, 443, ['--http2', '--cacert', caFile]);
    assert.equal(h2.status, 200, h2.body);
    assert.equal(h2.httpVersion, '2');
    const answer = JSON.parse(h2.body) as EchoAnswer;
    assert.equal(answer.pod, 'web-v2-pod');
    assert.deepEqual(answer.headers['X-Forwarded-Proto'], ['https']);

    const h1 = await curl('https://app.example.com/', host, 443, ['--http1.1', '--cacert', caFile]);
    assert.equal(h1.status, 200, h1.body);
    assert.equal(h1.httpVersion, '1.1');

    // The SNI chooses the listener: app.example.com is the HTTPS listener (its certificate, h2 by
    // ALPN); db.example.com is the Passthrough listener, whose route-less SNI is closed unanswered.
    const https = await opensslSClient({ host, port: 443, servername: 'app.example.com', caFile, alpn: ['h2', 'http/1.1'] });
    assert.equal(https.verifyCode, 0, `the certificate is not the app-cert Secret's: ${https.stdout}`);
    assert.match(https.subject ?? '', /CN\s*=\s*app\.example\.com/, https.stdout);
    assert.equal(https.alpn, 'h2');
    const passthrough = await opensslSClient({ host, port: 443, servername: 'db.example.com' });
    assert.equal(passthrough.handshake, false, passthrough.stdout);
  });
});
