// Every way a connection can go wrong, asserted from the client's side (what bytes came
// back, EOF or reset; a rejection sends zero bytes, so no TLS alert), then checked in
// /metrics, and followed by a healthy connection to show the proxy is unaffected.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { after, afterEach, before, describe, it } from 'node:test';
import { startProxyRuntime, type ProxyRuntime } from '../../../proxy/runtime.js';
import {
  backendRef, blackholePort, captureClientHello, closedPort, eventually, fetchText, listener, makeCert, metricValue, opensslClient,
  plainBackend, proxyConfig, rawProbe, resettingBackend, tempDir, tlsRequest, type Backend, type TestCert,
} from './helpers.js';

describe('proxy rejections and failures', () => {
  const dir = tempDir('tlsgate-reject-');
  let runtime: ProxyRuntime;
  let cert: TestCert;
  let echo: Backend;
  let resetter: Backend;
  let port: number;
  let limitedPort: number;
  let idlePort: number;
  let blackhole: { port: number; close(): void } | undefined;
  let admin: string;

  const accessLog = new PassThrough();
  const logLines: Record<string, unknown>[] = [];
  let partial = '';
  accessLog.on('data', (chunk: Buffer) => {
    const lines = (partial + chunk.toString()).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) logLines.push(JSON.parse(line) as Record<string, unknown>);
  });
  const metrics = async () => (await fetchText(`${admin}/metrics`)).body;
  const hello = (servername?: string) => captureClientHello(servername === undefined ? {} : { servername });

  before(async () => {
    cert = await makeCert(dir.dir, ['*.example.com'], 'EC');
    echo = await plainBackend('echo');
    resetter = await resettingBackend();
    const refused = await closedPort();
    blackhole = await blackholePort();
    runtime = await startProxyRuntime({
      address: '127.0.0.1',
      adminAddress: '127.0.0.1:0',
      accessLog,
      // Short limits so the slow and oversized cases finish quickly.
      settings: { clientHelloTimeoutMs: 600, maxClientHelloBytes: 4096, connectTimeoutMs: 400 },
    });
    admin = `http://127.0.0.1:${runtime.adminPort()}`;
    await runtime.apply([
      proxyConfig('rejects', 'v1', [
        {
          port: 0,
          listeners: [
            listener({ name: 'healthy', hostname: 'ok.example.com', mode: 'Terminate', certificates: [cert.config('gw')], routes: [{ hostnames: ['ok.example.com'], backends: [backendRef('echo', echo.port)] }] }),
            listener({ name: 'broken', hostname: 'broken.example.com', mode: 'Terminate', reject: 'certificate invalid', routes: [] }),
            listener({
              name: 'wild',
              hostname: '*.example.com',
              mode: 'Passthrough',
              routes: [
                { hostnames: ['echo.example.com'], backends: [backendRef('echo', echo.port)] },
                { hostnames: ['refused.example.com'], backends: [backendRef('refused', refused)] },
                { hostnames: ['hang.example.com'], backends: [backendRef('hang', blackhole.port)] },
                {
                  hostnames: ['failover.example.com'],
                  backends: [{ ref: 'default/two:443', weight: 1, endpoints: [{ address: '127.0.0.1', port: refused }, { address: '127.0.0.1', port: echo.port }] }],
                },
                { hostnames: ['reset.example.com'], backends: [backendRef('reset', resetter.port)] },
                { hostnames: ['invalid.example.com'], backends: [backendRef('missing', 1, 1, { reject: 'BackendNotFound', endpoints: [] })] },
                { hostnames: ['zero.example.com'], backends: [backendRef('zero', echo.port, 0)] },
              ],
            }),
          ],
        },
      ]),
      proxyConfig('limited', 'v1', [
        { port: 0, listeners: [listener({ name: 'small', hostname: null, mode: 'Passthrough', routes: [{ hostnames: ['*.example.com'], backends: [backendRef('echo', echo.port)] }] })] },
      ], { maxConnectionsPerListener: 2 }),
      proxyConfig('idle', 'v1', [
        { port: 0, listeners: [listener({ name: 'idle', hostname: null, mode: 'Passthrough', routes: [{ hostnames: ['*.example.com'], backends: [backendRef('echo', echo.port)] }] })] },
      ], { idleTimeoutMs: 300 }),
    ]);
    const bound = runtime.boundPorts();
    port = bound.find((b) => b.gateway === 'default/rejects')!.boundPort;
    limitedPort = bound.find((b) => b.gateway === 'default/limited')!.boundPort;
    idlePort = bound.find((b) => b.gateway === 'default/idle')!.boundPort;
  });

  after(async () => {
    await runtime?.shutdown(500);
    blackhole?.close();
    await Promise.all([echo?.close(), resetter?.close()]);
    dir.remove();
  });

  afterEach(async () => {
    // The proxy stays healthy after each case: ready, and a normal terminate round trip works.
    assert.equal((await fetchText(`${admin}/readyz`)).status, 200);
    const ok = await tlsRequest(port, 'ok.example.com', { write: 'hi', readUntil: 'echo\nhi' });
    assert.equal(ok.data, 'echo\nhi');
  });

  async function expectRejected(chunks: Buffer[], reason: string, metric = 'tlsgate_rejections_total', options: Parameters<typeof rawProbe>[2] = {}) {
    const beforeCount = metricValue(await metrics(), metric, { reason });
    const out = await rawProbe(port, chunks, { waitMs: 3000, ...options });
    assert.equal(out.received.length, 0, `expected zero bytes (no alert), got ${out.received.toString('hex')}`);
    assert.notEqual(out.ending, 'open', 'the proxy did not close the connection');
    await eventually(async () => metricValue(await metrics(), metric, { reason }) === beforeCount + 1, `${metric}{reason=${reason}} to count it`);
  }

  it('unknown SNI (no listener): closed without a byte', async () => {
    await expectRejected([await hello('unknown.test')], 'no_listener');
  });

  it('SNI matching a listener but no route: closed without a byte, logged with SNI, ALPN and reason', async () => {
    await expectRejected([await captureClientHello({ servername: 'nothing.example.com', ALPNProtocols: ['h2'] })], 'no_route');
    const line = (await eventually(() => logLines.find((l) => l.sni === 'nothing.example.com'), 'the access-log line'))!;
    assert.equal(line.result, 'rejected');
    assert.equal(line.reason, 'no_route');
    assert.equal(line.listener, 'wild');
    assert.deepEqual(line.alpn, ['h2']);
    assert.equal(line.gateway, 'default/rejects');
    assert.equal(line.bytes_to_client, 0);
    assert.match(String(line.client), /^127\.0\.0\.1:\d+$/);
    assert.ok(typeof line.time === 'string' && typeof line.duration_ms === 'number');
  });

  it('no SNI: closed without a byte, counted as a ClientHello error', async () => {
    await expectRejected([await hello()], 'no_sni', 'tlsgate_clienthello_errors_total');
  });

  it('garbage and malformed records: closed without a byte', async () => {
    await expectRejected([Buffer.concat([Buffer.from([0x47]), randomBytes(200)])], 'not_tls', 'tlsgate_clienthello_errors_total');
    const bad = Buffer.concat([Buffer.from([22, 3, 1, 0, 60, 1, 0, 0, 56]), randomBytes(3), Buffer.alloc(53, 0xff)]);
    await expectRejected([bad], 'malformed', 'tlsgate_clienthello_errors_total');
  });

  it('plaintext HTTP (curl): empty reply, counted as not_tls', async () => {
    const beforeCount = metricValue(await metrics(), 'tlsgate_clienthello_errors_total', { reason: 'not_tls' });
    const code = await new Promise<number>((resolve) => {
      execFile('curl', ['-sS', '--max-time', '5', `http://127.0.0.1:${port}/`], (err) => resolve(err ? ((err as { code?: number }).code ?? -1) : 0));
    });
    // 52 = empty reply from server (FIN), 56 = connection reset: both mean not a byte was sent.
    assert.ok(code === 52 || code === 56, `curl exit code ${code}`);
    await eventually(async () => metricValue(await metrics(), 'tlsgate_clienthello_errors_total', { reason: 'not_tls' }) === beforeCount + 1, 'not_tls count');
  });

  it('truncated ClientHello then EOF: closed without a byte', async () => {
    const h = await hello('echo.example.com');
    await expectRejected([h.subarray(0, h.length - 20)], 'truncated', 'tlsgate_clienthello_errors_total', { endAfterWrite: true });
  });

  it('oversized ClientHello (over the configured 4 KiB): closed without a byte', async () => {
    const big = await captureClientHello({ servername: 'echo.example.com', ALPNProtocols: Array.from({ length: 30 }, (_, i) => `p${i}-${'x'.repeat(200)}`) });
    assert.ok(big.length > 4096);
    await expectRejected([big], 'too_large', 'tlsgate_clienthello_errors_total');
  });

  it('a sender slower than the ClientHello timeout (one byte at a time): closed without a byte', async () => {
    const h = await hello('echo.example.com');
    const chunks = [...h.subarray(0, 40)].map((b) => Buffer.from([b]));
    await expectRejected(chunks, 'timeout', 'tlsgate_clienthello_errors_total', { gapMs: 100 });
  });

  it('openssl s_client to an unknown name reads 0 bytes and no alert', async () => {
    const out = await opensslClient(port, 'unknown.test');
    assert.match(out, /SSL handshake has read 0 bytes/);
    assert.doesNotMatch(out, /alert/i);
  });

  it('unusable listener, invalid backend, all-zero weights: closed without a byte', async () => {
    await expectRejected([await hello('broken.example.com')], 'listener_rejected');
    await expectRejected([await hello('invalid.example.com')], 'backend_rejected');
    await expectRejected([await hello('zero.example.com')], 'no_backend');
  });

  it('backend refused: the client gets no byte; the failure is counted', async () => {
    const m0 = await metrics();
    const out = await rawProbe(port, [await hello('refused.example.com')], { waitMs: 3000 });
    assert.equal(out.received.length, 0);
    assert.notEqual(out.ending, 'open');
    await eventually(async () => {
      const m = await metrics();
      return (
        metricValue(m, 'tlsgate_backend_connect_failures_total', { reason: 'refused' }) === metricValue(m0, 'tlsgate_backend_connect_failures_total', { reason: 'refused' }) + 1 &&
        metricValue(m, 'tlsgate_connections_total', { route: 'default/wild-route-1', result: 'backend_failed' }) === 1
      );
    }, 'backend_failed counted');
  });

  it('fails over to the next endpoint when a connect is refused', async () => {
    const h = await hello('failover.example.com');
    const out = await rawProbe(port, [h], { waitMs: 3000, stopAfterBytes: 5 + h.length });
    // The echo backend greets and echoes the ClientHello bytes back.
    assert.deepEqual(out.received, Buffer.concat([Buffer.from('echo\n'), h]));
  });

  it('backend reset mid-stream: the client sees the data so far, then a reset', async () => {
    const h = await hello('reset.example.com');
    const out = await rawProbe(port, [h, Buffer.from('RESET')], { gapMs: 150, waitMs: 3000 });
    assert.equal(out.received.toString(), 'ready\n');
    assert.equal(out.ending, 'reset');
    await eventually(async () => metricValue(await metrics(), 'tlsgate_connections_total', { route: 'default/wild-route-4', result: 'error' }) === 1, 'error counted');
  });

  it('client half-close: the backend still answers, then both sides close (Passthrough and Terminate)', async () => {
    const h = await hello('echo.example.com');
    const out = await rawProbe(port, [h], { endAfterWrite: true, waitMs: 3000 });
    assert.deepEqual(out.received, Buffer.concat([Buffer.from('echo\n'), h]));
    assert.equal(out.ending, 'eof');
    const term = await tlsRequest(port, 'ok.example.com', { write: 'last words', end: true });
    assert.equal(term.error, undefined);
    assert.equal(term.data, 'echo\nlast words');
  });

  it('max connections per listener: the one over the limit is closed without a byte', async () => {
    const h = await captureClientHello({ servername: 'a.example.com' });
    const held = [rawProbe(limitedPort, [h], { waitMs: 1500 }), rawProbe(limitedPort, [h], { waitMs: 1500 })];
    await eventually(async () => metricValue(await metrics(), 'tlsgate_active_connections', { gateway: 'default/limited' }) === 2, 'two held connections');
    const over = await rawProbe(limitedPort, [h], { waitMs: 1000 });
    assert.equal(over.received.length, 0);
    assert.notEqual(over.ending, 'open');
    for (const out of await Promise.all(held)) assert.deepEqual(out.received, Buffer.concat([Buffer.from('echo\n'), h]));
    assert.ok(metricValue(await metrics(), 'tlsgate_rejections_total', { gateway: 'default/limited', reason: 'max_connections' }) >= 1);
  });

  it('idle timeout (configured per Gateway): an idle relayed connection is closed and counted', async () => {
    const h = await captureClientHello({ servername: 'a.example.com' });
    const out = await rawProbe(idlePort, [h], { waitMs: 10_000 });
    assert.deepEqual(out.received, Buffer.concat([Buffer.from('echo\n'), h]));
    assert.notEqual(out.ending, 'open', 'the idle connection was not closed');
    await eventually(async () => metricValue(await metrics(), 'tlsgate_connections_total', { gateway: 'default/idle', result: 'idle_timeout' }) === 1, 'idle_timeout counted');
  });

  it('a failed Terminate handshake (no shared cipher) is counted with its reason', async () => {
    const m0 = await metrics();
    const out = await tlsRequest(port, 'ok.example.com', { extra: { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-GCM-SHA256' } });
    assert.notEqual(out.error, undefined, 'the handshake should fail: the gateway certificate is ECDSA');
    await eventually(async () => {
      const m = await metrics();
      return (
        metricValue(m, 'tlsgate_handshake_errors_total') === metricValue(m0, 'tlsgate_handshake_errors_total') + 1 &&
        metricValue(m, 'tlsgate_connections_total', { listener: 'healthy', result: 'handshake_failed' }) === metricValue(m0, 'tlsgate_connections_total', { listener: 'healthy', result: 'handshake_failed' }) + 1
      );
    }, 'handshake failure counted');
  });

  it('backend connect timeout (a backend that never accepts): the client gets no byte; counted as timeout', async () => {
    const m0 = await metrics();
    const out = await rawProbe(port, [await hello('hang.example.com')], { waitMs: 5000 });
    assert.equal(out.received.length, 0);
    assert.notEqual(out.ending, 'open');
    await eventually(async () => {
      const m = await metrics();
      return metricValue(m, 'tlsgate_backend_connect_failures_total', { reason: 'timeout' }) === metricValue(m0, 'tlsgate_backend_connect_failures_total', { reason: 'timeout' }) + 1;
    }, 'connect timeout counted');
  });
});
