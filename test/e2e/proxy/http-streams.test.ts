// Bodies, upgrades and time through the HTTP engine: 100 MB streamed each way through a proxy in
// its own process whose resident memory must stay far below the body size (it is never
// buffered whole), HTTP/2 uploads and downloads, WebSocket upgrades over HTTP and HTTPS, the
// rule timeouts (504, or a cut response once it has started), a backend that fails mid-way,
// and config swaps that leave an in-flight request on its config while a kept-alive
// connection takes the new one on its next request.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { startProxyRuntime, type ProxyRuntime } from '../../../proxy/runtime.js';
import { makeCert, proxyConfig, sleep, tempDir, type TestCert } from './helpers.js';
import { childProxy, echoBackend, get, get2, httpBackend, httpListenerConfig, type EchoBackend, type RuleSpec } from './http-support.js';

const MB = 1024 * 1024;

function rules(a: EchoBackend): RuleSpec[] {
  return [
    { matches: [{ path: { type: 'PathPrefix', value: '/timeout-request' } }], timeouts: { requestMs: 300 }, backends: [httpBackend('a', a.port)] },
    { matches: [{ path: { type: 'PathPrefix', value: '/timeout-backend' } }], timeouts: { backendRequestMs: 300 }, backends: [httpBackend('a', a.port)] },
    { backends: [httpBackend('a', a.port)] },
  ];
}

/** Streams `bytes` of body to the proxy with backpressure; resolves with the backend's reply. */
function upload(port: number, bytes: number, host: string): Promise<{ status: number; bodyBytes: number }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/upload', headers: { host, 'content-length': bytes }, agent: false }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bodyBytes: (JSON.parse(body) as { bodyBytes: number }).bodyBytes }));
    });
    req.on('error', reject);
    const chunk = Buffer.alloc(64 * 1024, 98);
    let sent = 0;
    const pump = () => {
      while (sent < bytes) {
        const piece = chunk.subarray(0, Math.min(chunk.length, bytes - sent));
        sent += piece.length;
        if (!req.write(piece)) return void req.once('drain', pump);
      }
      req.end();
    };
    pump();
  });
}

/** Downloads and counts a body, reading slowly enough at first that backpressure must hold the backend back. */
function download(port: number, bytes: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: `/download?bytes=${bytes}`, headers: { host }, agent: false }, (res) => {
        let received = 0;
        let paused = false;
        res.on('data', (d: Buffer) => {
          received += d.length;
          if (!paused && received > 10 * MB) {
            // Stall for a while: a proxy without backpressure would buffer the backend's rest.
            paused = true;
            res.pause();
            setTimeout(() => res.resume(), 1500);
          }
        });
        res.on('end', () => resolve(received));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

describe('HTTP engine: streams, upgrades, timeouts and swaps', () => {
  const dir = tempDir('tlsgate-streams-');
  let runtime: ProxyRuntime;
  let a: EchoBackend;
  let b: EchoBackend;
  let cert: TestCert;
  let port: number;
  let tlsPort: number;

  const config = (version: string, backend: EchoBackend) =>
    proxyConfig('streams', version, [
      { port: 0, listeners: [httpListenerConfig({ name: 'web', protocol: 'HTTP', hostname: null, routes: [{ name: 'r', rules: rules(backend) }] })] },
      { port: 0, listeners: [httpListenerConfig({ name: 'secure', protocol: 'HTTPS', hostname: 'secure.example.org', certificates: [cert.config('secure')], routes: [{ name: 'rs', rules: rules(backend) }] })] },
    ]);

  before(async () => {
    cert = await makeCert(dir.dir, ['secure.example.org'], 'EC');
    [a, b] = await Promise.all([echoBackend('a'), echoBackend('b')]);
    runtime = await startProxyRuntime({ address: '127.0.0.1', accessLog: null });
    await runtime.apply([config('v1', a)]);
    [port, tlsPort] = runtime.boundPorts().map((p) => p.boundPort) as [number, number];
  });

  after(async () => {
    await runtime.shutdown(1000);
    await Promise.all([a.close(), b.close()]);
    dir.remove();
  });

  it('streams 100 MB up and 100 MB down with the proxy process growing far less than the body', async (t) => {
    const proxy = await childProxy(config('v1', a));
    try {
      await get(proxy.port, '/warm-up', { host: 'example.org' });
      const baseline = proxy.rssBytes();
      let peak = baseline;
      const sampler = setInterval(() => (peak = Math.max(peak, proxy.rssBytes())), 50);
      const up = await upload(proxy.port, 100 * MB, 'example.org');
      const down = await download(proxy.port, 100 * MB, 'example.org');
      clearInterval(sampler);
      assert.equal(up.status, 200);
      assert.equal(up.bodyBytes, 100 * MB, 'the backend received the whole upload');
      assert.equal(down, 100 * MB, 'the client received the whole download');
      const growth = peak - baseline;
      t.diagnostic(`proxy RSS: baseline ${(baseline / MB).toFixed(1)} MB, peak ${(peak / MB).toFixed(1)} MB`);
      // Buffering either body whole would add at least 100 MB; V8's old space may grow to 64 MB
      // before its first full collection (--initial-old-space-size=64), which bounds the rest.
      assert.ok(growth < 64 * MB, `the proxy's RSS grew by ${(growth / MB).toFixed(1)} MB (baseline ${(baseline / MB).toFixed(1)} MB) while relaying 2 × 100 MB`);
    } finally {
      await proxy.stop();
    }
  });

  it('streams bodies over HTTP/2 both ways', async () => {
    const body = 'z'.repeat(3 * MB);
    const up = await get2(tlsPort, 'secure.example.org', '/upload-h2', { method: 'POST', body });
    assert.equal(up.status, 200);
    assert.equal(up.echo?.bodyBytes, body.length);
    assert.equal(up.echo?.headers['transfer-encoding'], 'chunked', 'an HTTP/2 body without content-length is chunked to the backend');
    const down = await get2(tlsPort, 'secure.example.org', `/download?bytes=${5 * MB}`);
    assert.equal(down.status, 200);
    assert.equal(down.body.length, 5 * MB);
  });

  it('passes WebSocket upgrades through, over HTTP and over HTTPS', async () => {
    for (const url of [`ws://127.0.0.1:${port}/ws`, `wss://127.0.0.1:${tlsPort}/ws`]) {
      const socket = new WebSocket(url, { headers: { host: 'secure.example.org' }, servername: 'secure.example.org', rejectUnauthorized: false } as WebSocket.ClientOptions);
      const messages: string[] = [];
      await new Promise<void>((resolve, reject) => {
        socket.on('open', () => {
          socket.send('hello');
          socket.send('again');
        });
        socket.on('message', (data) => {
          messages.push(String(data));
          if (messages.length === 2) resolve();
        });
        socket.on('error', reject);
      });
      assert.deepEqual(messages, ['a:hello', 'a:again'], url);
      await new Promise<void>((resolve) => {
        socket.on('close', () => resolve());
        socket.close();
      });
    }
  });

  it('answers 504 when the request or the backend request times out, and cuts a response that started', async () => {
    let started = performance.now();
    const request = await get(port, '/timeout-request/slow?ms=3000', { host: 'example.org' });
    assert.equal(request.status, 504);
    assert.match(request.body, /request_timeout/);
    assert.ok(performance.now() - started < 2500, 'the 504 came at the timeout, not when the backend answered');
    started = performance.now();
    const backend = await get(port, '/timeout-backend/slow?ms=3000', { host: 'example.org' });
    assert.equal(backend.status, 504);
    assert.match(backend.body, /backend_request_timeout/);
    const cut = await get(port, '/timeout-request/drip?ms=3000', { host: 'example.org' }).then(
      () => 'complete',
      (err: NodeJS.ErrnoException) => err.code ?? err.message,
    );
    assert.notEqual(cut, 'complete', 'a response cut by the timeout must not look complete');
  });

  it('cuts the client off when the backend fails mid-response (no truncated body that looks complete)', async () => {
    const outcome = await get(port, '/cut', { host: 'example.org' }).then(
      (reply) => `complete ${reply.status} ${reply.body.length}`,
      (err: NodeJS.ErrnoException) => err.code ?? err.message,
    );
    assert.match(outcome, /ECONNRESET|aborted/);
    const h2 = await get2(tlsPort, 'secure.example.org', '/cut').then(
      () => 'complete',
      (err: NodeJS.ErrnoException) => err.code ?? err.message,
    );
    assert.notEqual(h2, 'complete');
  });

  it('swaps configs hitlessly: the in-flight request finishes on its config, a kept-alive connection takes the new one', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const first = await get(port, '/before', { host: 'example.org', agent });
    assert.equal(first.echo?.backend, 'a');
    const inFlight = get(port, '/slow?ms=800', { host: 'example.org' });
    await sleep(200);
    await runtime.apply([config('v2', b)]);
    const next = await new Promise<{ backend: string; reused: boolean }>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, path: '/after', headers: { host: 'example.org' }, agent }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ backend: (JSON.parse(body) as { backend: string }).backend, reused: req.reusedSocket }));
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(next.reused, true, 'the second request went over the same client connection');
    assert.equal(next.backend, 'b', 'the kept-alive connection uses the new config for its next request');
    const slow = await inFlight;
    assert.equal(slow.status, 200);
    assert.equal(slow.echo?.backend, 'a', 'the in-flight request finished on the config it started with');
    agent.destroy();
    await runtime.apply([config('v3', a)]);
  });
});
