// Passthrough, Terminate and Mixed on real loopback sockets with real clients (Node tls,
// openssl s_client): who presents which certificate, what the backend sees, precedence,
// weights, and ClientHellos fragmented into 1-byte TCP segments and several TLS records.
import assert from 'node:assert/strict';
import tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { startProxyRuntime, type ProxyRuntime } from '../../../proxy/runtime.js';
import {
  backendRef, captureClientHello, fetchText, listener, makeCert, metricValue, opensslClient, plainBackend, proxyConfig,
  fragmentingTransport, rawProbe, splitIntoRecords, tempDir, tlsBackend, tlsRequest, type Backend, type TestCert,
} from './helpers.js';

describe('proxy modes', () => {
  const dir = tempDir('tlsgate-modes-');
  let runtime: ProxyRuntime;
  let gatewayEc: TestCert;
  let gatewayRsa: TestCert;
  let passCert: TestCert;
  let orgCert: TestCert;
  let passBackend: Backend;
  let orgBackend: Backend;
  let exactBackend: Backend;
  let wildBackend: Backend;
  let weightA: Backend;
  let weightB: Backend;
  let mixedPort: number;
  let weightPort: number;

  before(async () => {
    [gatewayEc, gatewayRsa, passCert, orgCert] = await Promise.all([
      makeCert(dir.dir, ['*.example.com'], 'EC'),
      makeCert(dir.dir, ['*.example.com'], 'RSA'),
      makeCert(dir.dir, ['pass.example.com'], 'EC'),
      makeCert(dir.dir, ['foo.org'], 'RSA'),
    ]);
    passBackend = await tlsBackend('pass-backend', passCert);
    orgBackend = await tlsBackend('org-backend', orgCert);
    exactBackend = await plainBackend('exact');
    wildBackend = await plainBackend('wild');
    weightA = await plainBackend('A');
    weightB = await plainBackend('B');
    runtime = await startProxyRuntime({ address: '127.0.0.1', adminAddress: '127.0.0.1:0', accessLog: null });
    await runtime.apply([
      proxyConfig('modes', 'v1', [
        {
          port: 0,
          listeners: [
            listener({ name: 'pass', hostname: 'pass.example.com', mode: 'Passthrough', routes: [{ hostnames: ['pass.example.com'], backends: [backendRef('pass', passBackend.port)] }] }),
            listener({
              name: 'term',
              hostname: '*.example.com',
              mode: 'Terminate',
              certificates: [gatewayEc.config('gw-ec'), gatewayRsa.config('gw-rsa')],
              routes: [
                { hostnames: ['*.example.com'], backends: [backendRef('wild', wildBackend.port)] },
                { hostnames: ['exact.example.com'], backends: [backendRef('exact', exactBackend.port)] },
              ],
            }),
            listener({ name: 'any', hostname: null, mode: 'Passthrough', routes: [{ hostnames: ['*.org'], backends: [backendRef('org', orgBackend.port)] }] }),
          ],
        },
        {
          port: 0,
          listeners: [
            listener({
              name: 'weighted',
              hostname: null,
              mode: 'Terminate',
              certificates: [gatewayEc.config('gw-ec')],
              routes: [{ hostnames: ['w.example.net'], backends: [backendRef('a', weightA.port, 1), backendRef('b', weightB.port, 3), backendRef('zero', weightA.port, 0)] }],
            }),
          ],
        },
      ]),
    ]);
    const ports = runtime.boundPorts();
    mixedPort = ports[0]!.boundPort;
    weightPort = ports[1]!.boundPort;
    assert.notEqual(mixedPort, weightPort);
  });

  after(async () => {
    await runtime?.shutdown(500);
    await Promise.all([passBackend, orgBackend, exactBackend, wildBackend, weightA, weightB].map((b) => b?.close()));
    dir.remove();
  });

  it('Passthrough: the client sees the backend certificate and the backend sees the client SNI', async () => {
    const out = await tlsRequest(mixedPort, 'pass.example.com', { readUntil: '\n' });
    assert.equal(out.error, undefined);
    assert.equal(out.data, 'pass-backend pass.example.com\n');
    assert.equal(out.peerFingerprint, passCert.fingerprint256);
    assert.ok(passBackend.servernames.includes('pass.example.com'));
  });

  it('Terminate: the client sees the gateway certificate; plain TCP reaches the backend, server-first data relayed at once', async () => {
    const out = await tlsRequest(mixedPort, 'www.example.com', { readUntil: 'wild\n' });
    assert.equal(out.error, undefined);
    assert.equal(out.data, 'wild\n');
    assert.equal(out.peerFingerprint, gatewayEc.fingerprint256);
    assert.equal(out.protocol, 'TLSv1.3');
    const tls12 = await tlsRequest(mixedPort, 'www.example.com', { write: 'ping', readUntil: 'ping', extra: { maxVersion: 'TLSv1.2' } });
    assert.equal(tls12.protocol, 'TLSv1.2');
    assert.equal(tls12.data, 'wild\nping');
  });

  it('Terminate negotiates no ALPN even when the client offers some (the decrypted stream is plain TCP)', async () => {
    const out = await new Promise<string | false | null>((resolve) => {
      const s = tls.connect({ port: mixedPort, host: '127.0.0.1', servername: 'www.example.com', rejectUnauthorized: false, ALPNProtocols: ['h2', 'http/1.1'] });
      s.on('secureConnect', () => {
        resolve(s.alpnProtocol ?? null);
        s.destroy();
      });
      s.on('error', () => resolve(null));
    });
    assert.equal(out, false);
  });

  it('Terminate: chooses the RSA certificate for a client that only verifies RSA', async () => {
    const out = await tlsRequest(mixedPort, 'www.example.com', { readUntil: 'wild\n', extra: { sigalgs: 'rsa_pss_rsae_sha256:RSA+SHA256' } });
    assert.equal(out.peerFingerprint, gatewayRsa.fingerprint256);
  });

  it('Mixed: openssl s_client sees the backend certificate for the passthrough name and the gateway one for the terminate name, on one port', async () => {
    const pass = await opensslClient(mixedPort, 'pass.example.com');
    assert.match(pass, /subject=CN ?= ?pass\.example\.com/);
    const term = await opensslClient(mixedPort, 'x.example.com');
    assert.match(term, /subject=CN ?= ?\*\.example\.com/);
  });

  it('precedence: exact listener over wildcard listener, exact route over wildcard route, catch-all listener last', async () => {
    assert.equal((await tlsRequest(mixedPort, 'exact.example.com', { readUntil: 'exact\n' })).data, 'exact\n');
    assert.equal((await tlsRequest(mixedPort, 'deep.sub.example.com', { readUntil: 'wild\n' })).data, 'wild\n');
    const org = await tlsRequest(mixedPort, 'foo.org', { readUntil: '\n' });
    assert.equal(org.data, 'org-backend foo.org\n');
    assert.equal(org.peerFingerprint, orgCert.fingerprint256);
  });

  it('weights: connections split exactly 1:3 (smooth round robin), weight 0 never picked', async () => {
    const beforeA = weightA.accepted;
    const beforeB = weightB.accepted;
    const total = 80;
    for (let batch = 0; batch < total; batch += 8) {
      const outs = await Promise.all(Array.from({ length: 8 }, () => tlsRequest(weightPort, 'w.example.net', { readUntil: '\n' })));
      for (const o of outs) assert.ok(o.data === 'A\n' || o.data === 'B\n', `unexpected ${JSON.stringify(o)}`);
    }
    assert.equal(weightA.accepted - beforeA, total / 4);
    assert.equal(weightB.accepted - beforeB, (total * 3) / 4);
  });

  it('routes a ClientHello sent in 1-byte TCP segments', async () => {
    const hello = await captureClientHello({ servername: 'pass.example.com' });
    const before = passBackend.accepted;
    const out = await rawProbe(mixedPort, [...hello].map((b) => Buffer.from([b])), { gapMs: 1, waitMs: 3000, stopAfterBytes: 1 });
    // The backend answered with its ServerHello: a TLS handshake record came back.
    assert.ok(out.received.length > 0, 'no ServerHello relayed');
    assert.equal(out.received[0], 22);
    assert.equal(passBackend.accepted, before + 1);
  });

  it('routes a ClientHello split across several TLS records, in both modes', async () => {
    const pass = splitIntoRecords(await captureClientHello({ servername: 'pass.example.com' }), 64);
    const before = passBackend.accepted;
    const out = await rawProbe(mixedPort, [pass.subarray(0, 100), pass.subarray(100)], { gapMs: 20, waitMs: 3000, stopAfterBytes: 1 });
    assert.equal(out.received[0], 22);
    assert.equal(passBackend.accepted, before + 1);
    // Terminate: OpenSSL itself must accept the re-framed hello that the engine replays.
    const term = splitIntoRecords(await captureClientHello({ servername: 'www.example.com' }), 100);
    const termOut = await rawProbe(mixedPort, [term], { waitMs: 3000, stopAfterBytes: 1 });
    assert.equal(termOut.received[0], 22, 'the gateway answered with a ServerHello');
  });

  it('Terminate completes real handshakes when the ClientHello arrives in 1-byte segments or across TLS records', async () => {
    let reshaped = 0;
    const isHello = (hello: Buffer) => {
      // The transport must be reshaping the ClientHello record itself.
      assert.equal(hello[0], 22);
      assert.equal(hello[5], 1);
      reshaped++;
    };
    const oneByte = (hello: Buffer) => (isHello(hello), [...hello].map((b) => Buffer.from([b])));
    const records = (hello: Buffer) => {
      isHello(hello);
      const framed = splitIntoRecords(hello, 90);
      return [framed.subarray(0, 150), framed.subarray(150)];
    };
    for (const [name, reshape, gap] of [['1-byte segments', oneByte, 1], ['several records', records, 20]] as const) {
      const out = await tlsRequest(0, 'www.example.com', { readUntil: 'wild\nping', write: 'ping', extra: { socket: fragmentingTransport(mixedPort, reshape, gap) } });
      assert.equal(out.error, undefined, name);
      assert.equal(out.peerFingerprint, gatewayEc.fingerprint256, name);
      assert.equal(out.data, 'wild\nping', name);
    }
    assert.equal(reshaped, 2);
  });

  it('counts what it served in /metrics', async () => {
    const metrics = (await fetchText(`http://127.0.0.1:${runtime.adminPort()}/metrics`)).body;
    assert.ok(metricValue(metrics, 'tlsgate_connections_total', { listener: 'pass', result: 'ok' }) >= 1);
    assert.ok(metricValue(metrics, 'tlsgate_connections_total', { listener: 'weighted', route: 'default/weighted-route-0', result: 'ok' }) >= 80);
    assert.ok(metricValue(metrics, 'tlsgate_handshake_duration_seconds_count') >= 80);
    assert.ok(metricValue(metrics, 'tlsgate_bytes_total', { direction: 'to_client' }) > 0);
    assert.ok(metricValue(metrics, 'tlsgate_certificate_expiry_timestamp_seconds', { secret: 'default/gw-rsa' }) > Date.now() / 1000);
  });
});
