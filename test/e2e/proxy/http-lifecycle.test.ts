// The HTTP engine in the runtime's life: with two worker processes (requests served by both,
// metrics and access-log lines aggregated in the primary), and at shutdown (an in-flight
// request finishes, idle keep-alive connections and HTTP/2 sessions do not hold the drain).
import assert from 'node:assert/strict';
import http from 'node:http';
import http2 from 'node:http2';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { startProxyRuntime } from '../../../proxy/runtime.js';
import { eventually, fetchText, makeCert, metricValue, proxyConfig, sleep, tempDir, type TestCert } from './helpers.js';
import { echoBackend, get, httpBackend, httpListenerConfig, type EchoBackend } from './http-support.js';

describe('HTTP engine: workers and shutdown', () => {
  const dir = tempDir('tlsgate-http-life-');
  let backend: EchoBackend;
  let cert: TestCert;

  const config = () =>
    proxyConfig('life', 'v1', [
      { port: 0, listeners: [httpListenerConfig({ name: 'web', protocol: 'HTTP', hostname: null, routes: [{ name: 'r', rules: [{ backends: [httpBackend('echo', backend.port)] }] }] })] },
      { port: 0, listeners: [httpListenerConfig({ name: 'secure', protocol: 'HTTPS', hostname: null, certificates: [cert.config('c')], routes: [{ name: 'rs', rules: [{ backends: [httpBackend('echo', backend.port)] }] }] })] },
    ]);

  before(async () => {
    cert = await makeCert(dir.dir, ['life.example.org'], 'EC');
    backend = await echoBackend('echo');
  });

  after(async () => {
    await backend.close();
    dir.remove();
  });

  it('serves HTTP from two worker processes, with metrics and access-log lines gathered by the primary', async () => {
    const log = new PassThrough();
    let logged = '';
    log.on('data', (d: Buffer) => (logged += d.toString()));
    const runtime = await startProxyRuntime({ address: '127.0.0.1', workers: 2, adminAddress: '127.0.0.1:0', accessLog: log });
    try {
      await runtime.apply([config()]);
      const port = runtime.boundPorts()[0]!.boundPort;
      const replies = await Promise.all(Array.from({ length: 40 }, (_, i) => get(port, `/w/${i}`, { host: 'life.example.org' })));
      assert.ok(replies.every((r) => r.status === 200 && r.echo?.backend === 'echo'));
      await eventually(async () => {
        const metrics = (await fetchText(`http://127.0.0.1:${runtime.adminPort()}/metrics`)).body;
        return metricValue(metrics, 'tlsgate_http_requests_total', { gateway: 'default/life', listener: 'web', route: 'default/r', status_class: '2xx' }) === 40;
      }, 'the 40 requests counted across both workers');
      await eventually(() => logged.split('\n').filter((l) => l.includes('"path":"/w/')).length === 40, 'one access-log line per request');
    } finally {
      await runtime.shutdown(1000);
    }
  });

  it('lets an in-flight request finish at shutdown while idle keep-alive connections and HTTP/2 sessions close at once', async () => {
    const runtime = await startProxyRuntime({ address: '127.0.0.1', accessLog: null });
    await runtime.apply([config()]);
    const [port, tlsPort] = runtime.boundPorts().map((p) => p.boundPort) as [number, number];
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    await get(port, '/idle', { host: 'life.example.org', agent });
    const session = http2.connect(`https://127.0.0.1:${tlsPort}`, { servername: 'life.example.org', rejectUnauthorized: false });
    session.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      const req = session.request({ ':path': '/h2-idle' });
      req.on('error', reject);
      req.resume();
      req.on('end', () => resolve());
    });
    const sessionClosed = new Promise<void>((resolve) => session.on('close', () => resolve()));
    const inFlight = get(port, '/slow?ms=700', { host: 'life.example.org' });
    await sleep(100);
    const started = performance.now();
    await runtime.shutdown(10_000);
    const took = performance.now() - started;
    assert.equal((await inFlight).status, 200, 'the in-flight request finished');
    assert.ok(took < 3000, `shutdown took ${Math.round(took)} ms: idle connections held the drain`);
    await sessionClosed;
    agent.destroy();
  });
});
