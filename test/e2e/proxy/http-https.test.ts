// HTTPS listeners beside TLS listeners on one port, chosen by SNI per connection: TLS
// termination with the SNI's certificate and ALPN h2/http1.1 (curl --http2 and --http1.1,
// Node's http2 and https clients, openssl s_client), 421 for a Host another listener serves,
// and Passthrough and Terminate TLS listeners on the same port untouched.
import assert from 'node:assert/strict';
import https from 'node:https';
import { after, before, describe, it } from 'node:test';
import { startProxyRuntime, type ProxyRuntime } from '../../../proxy/runtime.js';
import { backendRef, listener, makeCert, opensslClient, plainBackend, proxyConfig, tempDir, tlsBackend, tlsRequest, type Backend, type TestCert } from './helpers.js';
import { curl, echoBackend, get2, httpBackend, httpListenerConfig, type EchoBackend, type EchoReply } from './http-support.js';

function httpsGet(port: number, servername: string, path: string, host: string): Promise<{ status: number; body: string; alpn: string | false | null; fingerprint: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port, path, servername, headers: { host }, rejectUnauthorized: false, agent: false, ALPNProtocols: ['http/1.1'] } as https.RequestOptions, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => {
        const socket = res.socket as import('node:tls').TLSSocket;
        resolve({ status: res.statusCode ?? 0, body, alpn: socket.alpnProtocol, fingerprint: socket.getPeerCertificate().fingerprint256 });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

describe('HTTP engine: HTTPS beside TLS on one port', () => {
  const dir = tempDir('tlsgate-https-');
  let runtime: ProxyRuntime;
  let orgCert: TestCert;
  let secondCert: TestCert;
  let passCert: TestCert;
  let termCert: TestCert;
  let v1: EchoBackend;
  let v2: EchoBackend;
  let v3: EchoBackend;
  let pass: Backend;
  let term: Backend;
  let port: number;

  before(async () => {
    [orgCert, secondCert, passCert, termCert] = await Promise.all([
      makeCert(dir.dir, ['example.org', '*.wildcard.org', 'unknown-example.org'], 'EC'),
      makeCert(dir.dir, ['second-example.org'], 'RSA'),
      makeCert(dir.dir, ['pass.example.net'], 'EC'),
      makeCert(dir.dir, ['term.example.net'], 'EC'),
    ]);
    [v1, v2, v3] = await Promise.all([echoBackend('v1'), echoBackend('v2'), echoBackend('v3')]);
    pass = await tlsBackend('pass-backend', passCert);
    term = await plainBackend('term-backend');
    runtime = await startProxyRuntime({ address: '127.0.0.1', accessLog: null });
    const route = (name: string, backend: EchoBackend, hostnames?: string[]) => ({
      name,
      ...(hostnames ? { hostnames } : {}),
      rules: [{ matches: [{ path: { type: 'PathPrefix' as const, value: '/detect-misdirected-requests' } }], backends: [httpBackend(backend.name, backend.port)] }],
    });
    // The listeners of the conformance test HTTPRouteHTTPSListenerDetectMisdirectedRequests,
    // plus a Passthrough and a Terminate TLS listener on the same port.
    await runtime.apply([
      proxyConfig('https', 'v1', [
        {
          port: 0,
          listeners: [
            listener({ name: 'pass', hostname: 'pass.example.net', mode: 'Passthrough', routes: [{ hostnames: ['pass.example.net'], backends: [backendRef('pass', pass.port)] }] }),
            httpListenerConfig({ name: 'https-with-hostname', protocol: 'HTTPS', hostname: 'second-example.org', certificates: [secondCert.config('second')], routes: [route('test-2', v2)] }),
            listener({ name: 'term', hostname: 'term.example.net', mode: 'Terminate', certificates: [termCert.config('term')], routes: [{ hostnames: ['term.example.net'], backends: [backendRef('term', term.port)] }] }),
            httpListenerConfig({ name: 'https-with-hostname-matching-wildcard', protocol: 'HTTPS', hostname: 'fourth-example.wildcard.org', certificates: [orgCert.config('org')], routes: [route('test-4', v1)] }),
            httpListenerConfig({ name: 'https-with-wildcard-hostname', protocol: 'HTTPS', hostname: '*.wildcard.org', certificates: [orgCert.config('org')], routes: [route('test-3', v3)] }),
            httpListenerConfig({ name: 'https', protocol: 'HTTPS', hostname: null, certificates: [orgCert.config('org')], routes: [route('test-1', v1, ['example.org'])] }),
          ],
        },
      ]),
    ]);
    port = runtime.boundPorts()[0]!.boundPort;
  });

  after(async () => {
    await runtime.shutdown(1000);
    await Promise.all([v1.close(), v2.close(), v3.close(), pass.close(), term.close()]);
    dir.remove();
  });

  it('answers 200, 421 or 404 exactly as the conformance test for misdirected requests expects (HTTP/2)', async () => {
    const cases: [sni: string, host: string, status: number, backend?: string][] = [
      ['example.org', 'example.org', 200, 'v1'],
      ['example.org', 'second-example.org', 421],
      ['example.org', 'unknown-example.org', 404],
      ['second-example.org', 'second-example.org', 200, 'v2'],
      ['second-example.org', 'example.org', 421],
      ['second-example.org', 'unknown-example.org', 421],
      ['third-example.wildcard.org', 'third-example.wildcard.org', 200, 'v3'],
      ['third-example.wildcard.org', 'fith-example.wildcard.org', 200, 'v3'],
      ['third-example.wildcard.org', 'fourth-example.wildcard.org', 421],
      ['third-example.wildcard.org', 'second-example.org', 421],
      ['third-example.wildcard.org', 'unknown-example.org', 421],
      ['fourth-example.wildcard.org', 'fourth-example.wildcard.org', 200, 'v1'],
      ['fourth-example.wildcard.org', 'fith-example.wildcard.org', 421],
      ['unknown-example.org', 'example.org', 200, 'v1'],
      ['unknown-example.org', 'unknown-example.org', 404],
    ];
    for (const [sni, host, status, backend] of cases) {
      const reply = await get2(port, sni, '/detect-misdirected-requests', { authority: host });
      assert.equal(reply.alpn, 'h2', `${sni} → ${host}`);
      assert.equal(reply.status, status, `SNI ${sni}, Host ${host}: ${reply.body}`);
      if (backend !== undefined) {
        assert.equal(reply.echo?.backend, backend, `SNI ${sni}, Host ${host}`);
        assert.equal(reply.echo?.headers['x-forwarded-proto'], 'https');
        assert.equal(reply.echo?.host, host, 'the backend gets the :authority as its Host');
        assert.equal(reply.echo?.httpVersion, '1.1', 'HTTP/1.1 to backends');
      }
    }
  });

  it('serves curl over HTTP/2 and HTTP/1.1 with the SNI-chosen certificate', async () => {
    const url = `https://second-example.org:${port}/detect-misdirected-requests/curl`;
    const resolve = `second-example.org:${port}:127.0.0.1`;
    const h2 = await curl(['--http2', '--resolve', resolve, url]);
    assert.equal(h2.httpVersion, '2');
    assert.equal(h2.status, 200);
    assert.equal((JSON.parse(h2.body) as EchoReply).backend, 'v2');
    const h1 = await curl(['--http1.1', '--resolve', resolve, url]);
    assert.equal(h1.httpVersion, '1.1');
    assert.equal(h1.status, 200);
    assert.equal((JSON.parse(h1.body) as EchoReply).url, '/detect-misdirected-requests/curl');
    const misdirected = await curl(['--http2', '--resolve', resolve, '-H', 'Host: example.org', url]);
    assert.equal(misdirected.status, 421);
  });

  it('serves Node HTTPS clients that offer only http/1.1, with the certificate for their SNI', async () => {
    const second = await httpsGet(port, 'second-example.org', '/detect-misdirected-requests', 'second-example.org');
    assert.equal(second.status, 200);
    assert.equal(second.alpn, 'http/1.1');
    assert.equal(second.fingerprint, secondCert.fingerprint256);
    const org = await httpsGet(port, 'example.org', '/detect-misdirected-requests', 'example.org');
    assert.equal(org.fingerprint, orgCert.fingerprint256);
    assert.equal((JSON.parse(org.body) as EchoReply).backend, 'v1');
  });

  it('openssl s_client: SNI chooses between the HTTPS listener (ALPN h2) and the TLS listeners on the same port', async () => {
    const httpsOut = await opensslClient(port, 'second-example.org', ['-alpn', 'h2,http/1.1']);
    assert.match(httpsOut, /subject=CN ?= ?second-example\.org/);
    assert.match(httpsOut, /ALPN protocol: h2/);
    const passOut = await opensslClient(port, 'pass.example.net', ['-alpn', 'h2,http/1.1']);
    assert.match(passOut, /subject=CN ?= ?pass\.example\.net/, 'Passthrough: the backend presents its own certificate');
    assert.match(passOut, /No ALPN negotiated/);
    const termOut = await opensslClient(port, 'term.example.net', ['-alpn', 'h2,http/1.1']);
    assert.match(termOut, /subject=CN ?= ?term\.example\.net/);
    assert.match(termOut, /No ALPN negotiated/, 'a Terminate TLS listener negotiates no ALPN, as before');
  });

  it('keeps Passthrough and Terminate TLS listeners working beside HTTPS (Mixed)', async () => {
    const passed = await tlsRequest(port, 'pass.example.net', { readUntil: '\n' });
    assert.equal(passed.data, 'pass-backend pass.example.net\n');
    const terminated = await tlsRequest(port, 'term.example.net', { readUntil: '\n' });
    assert.equal(terminated.data, 'term-backend\n');
    assert.equal(terminated.peerFingerprint, termCert.fingerprint256);
  });
});
