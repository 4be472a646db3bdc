// Plain HTTP listeners on a real loopback port, with real clients (curl, Node http) and real
// backends: the listener chosen by Host, virtual hosts, match precedence, 404s, 500s for
// rejected or weightless backends, forwarding headers, hop-by-hop removal, keep-alive pools,
// failover to the next endpoint, and what metrics and the access log say.
import assert from 'node:assert/strict';
import http from 'node:http';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { startProxyRuntime, type ProxyRuntime } from '../../../proxy/runtime.js';
import { closedPort, eventually, fetchText, metricValue, proxyConfig } from './helpers.js';
import { curl, echoBackend, get, httpBackend, httpListenerConfig, type EchoBackend } from './http-support.js';

describe('HTTP engine: plain HTTP port', () => {
  let runtime: ProxyRuntime;
  let a: EchoBackend;
  let b: EchoBackend;
  let c: EchoBackend;
  let port: number;
  const log = new PassThrough();
  const lines: string[] = [];

  before(async () => {
    [a, b, c] = await Promise.all([echoBackend('a'), echoBackend('b'), echoBackend('c')]);
    const dead = await closedPort();
    log.setEncoding('utf8');
    let pending = '';
    log.on('data', (d: string) => {
      pending += d;
      const parts = pending.split('\n');
      pending = parts.pop() ?? '';
      lines.push(...parts);
    });
    runtime = await startProxyRuntime({ address: '127.0.0.1', adminAddress: '127.0.0.1:0', accessLog: log });
    await runtime.apply([
      proxyConfig('plain', 'v1', [
        {
          port: 0,
          listeners: [
            httpListenerConfig({
              name: 'web',
              protocol: 'HTTP',
              hostname: '*.example.com',
              routes: [
                {
                  name: 'site',
                  hostnames: ['www.example.com'],
                  rules: [
                    { matches: [{ path: { type: 'PathPrefix', value: '/api' } }], backends: [httpBackend('b', b.port)] },
                    { matches: [{ path: { type: 'Exact', value: '/api/exact' } }], backends: [httpBackend('c', c.port)] },
                    { matches: [{ path: { type: 'PathPrefix', value: '/h' }, headers: [{ type: 'Exact', name: 'X-Version', value: 'two' }] }], backends: [httpBackend('b', b.port)] },
                    { matches: [{ path: { type: 'PathPrefix', value: '/h' } }], backends: [httpBackend('a', a.port)] },
                    { matches: [{ path: { type: 'PathPrefix', value: '/q' }, queryParams: [{ type: 'RegularExpression', name: 'v', value: '[0-9]+' }] }], backends: [httpBackend('c', c.port)] },
                    { matches: [{ path: { type: 'PathPrefix', value: '/m' }, method: 'POST' }], backends: [httpBackend('c', c.port)] },
                    { matches: [{ path: { type: 'PathPrefix', value: '/rejected' } }], backends: [httpBackend('gone', a.port, 1, { reject: 'BackendNotFound' })] },
                    { matches: [{ path: { type: 'PathPrefix', value: '/zero' } }], backends: [httpBackend('a', a.port, 0)] },
                    { matches: [{ path: { type: 'PathPrefix', value: '/empty' } }], backends: [] },
                    {
                      matches: [{ path: { type: 'PathPrefix', value: '/failover' } }],
                      backends: [httpBackend('two-endpoints', a.port, 1, { endpoints: [{ address: '127.0.0.1', port: dead }, { address: '127.0.0.1', port: b.port }] })],
                    },
                    { matches: [{ path: { type: 'PathPrefix', value: '/down' } }], backends: [httpBackend('down', dead)] },
                    { backends: [httpBackend('a', a.port)] },
                  ],
                },
                { name: 'other', rules: [{ backends: [httpBackend('c', c.port)] }] },
                // Regular expressions rank after every PathPrefix (the contract's order), so this
                // host has no catch-all prefix.
                { name: 'regex', hostnames: ['re.example.com'], rules: [{ matches: [{ path: { type: 'RegularExpression', value: '/re/[0-9]+' } }], backends: [httpBackend('c', c.port)] }] },
              ],
            }),
            httpListenerConfig({ name: 'exact', protocol: 'HTTP', hostname: 'exact.example.org', routes: [{ name: 'exact-route', rules: [{ backends: [httpBackend('b', b.port)] }] }] }),
          ],
        },
      ]),
    ]);
    port = runtime.boundPorts()[0]!.boundPort;
  });

  after(async () => {
    await runtime.shutdown(1000);
    await Promise.all([a.close(), b.close(), c.close()]);
  });

  it('chooses the listener by Host, then the virtual host, then the first match by precedence', async () => {
    const cases: [string, string, string][] = [
      ['www.example.com', '/', 'a'],
      ['www.example.com', '/api', 'b'],
      ['www.example.com', '/api/x', 'b'],
      ['www.example.com', '/apix', 'a'], // PathPrefix matches whole segments
      ['www.example.com', '/api/exact', 'c'], // Exact beats a PathPrefix listed before it
      ['re.example.com', '/re/123', 'c'],
      ['WWW.Example.COM:80', '/api', 'b'], // case and port of the Host do not matter
      ['other.example.com', '/api', 'c'], // the route without hostnames serves the rest of *.example.com
      ['exact.example.org', '/anything', 'b'],
    ];
    for (const [host, path, backend] of cases) {
      const reply = await get(port, path, { host });
      assert.equal(reply.status, 200, `${host}${path}: ${reply.body}`);
      assert.equal(reply.echo?.backend, backend, `${host}${path}`);
      assert.equal(reply.echo?.url, path);
    }
  });

  it('matches headers, query parameters and methods', async () => {
    assert.equal((await get(port, '/h', { host: 'www.example.com', headers: { 'x-version': 'two' } })).echo?.backend, 'b');
    assert.equal((await get(port, '/h', { host: 'www.example.com', headers: { 'x-version': 'one' } })).echo?.backend, 'a');
    assert.equal((await get(port, '/q?v=42&w=1', { host: 'www.example.com' })).echo?.backend, 'c');
    assert.equal((await get(port, '/q?v=x', { host: 'www.example.com' })).echo?.backend, 'a');
    assert.equal((await get(port, '/q?w=1&v=7', { host: 'www.example.com' })).echo?.url, '/q?w=1&v=7');
    assert.equal((await get(port, '/m', { host: 'www.example.com', method: 'POST', body: 'x' })).echo?.backend, 'c');
    assert.equal((await get(port, '/m', { host: 'www.example.com' })).echo?.backend, 'a');
  });

  it('answers 404 when no listener, virtual host or match serves the request', async () => {
    const noListener = await get(port, '/', { host: 'example.net' });
    assert.equal(noListener.status, 404);
    assert.match(noListener.body, /no_listener/);
    const noHost = await get(port, '/', { host: 'www.exact.example.org' });
    assert.equal(noHost.status, 404);
    const noMatch = await get(port, '/re/abc', { host: 're.example.com' });
    assert.equal(noMatch.status, 404);
    assert.match(noMatch.body, /no_match/);
  });

  it('answers 500 for a rejected backend, all-zero weights and a rule without backends', async () => {
    for (const path of ['/rejected', '/zero', '/empty']) {
      const reply = await get(port, path, { host: 'www.example.com' });
      assert.equal(reply.status, 500, path);
    }
  });

  it('fails over to the next endpoint on a refused connect, and answers 502 when none connects', async () => {
    const before = b.requests;
    const ok = await get(port, '/failover', { host: 'www.example.com' });
    const ok2 = await get(port, '/failover', { host: 'www.example.com' });
    assert.equal(ok.status, 200);
    assert.equal(ok2.status, 200);
    assert.equal(b.requests - before, 2);
    const down = await get(port, '/down', { host: 'www.example.com' });
    assert.equal(down.status, 502);
    assert.match(down.body, /backend_connect_refused/);
  });

  it('sends X-Forwarded-*, keeps the Host, and drops hop-by-hop headers both ways', async () => {
    const reply = await get(port, '/api/h', {
      host: 'www.example.com',
      headers: { 'x-forwarded-for': '203.0.113.9', connection: 'keep-alive, x-drop-me', 'x-drop-me': '1', 'keep-alive': 'timeout=5', te: 'trailers, deflate', 'proxy-connection': 'x', 'x-kept': 'yes' },
    });
    const h = reply.echo!.headers;
    assert.equal(h['x-forwarded-for'], '203.0.113.9, 127.0.0.1');
    assert.equal(h['x-forwarded-proto'], 'http');
    assert.equal(h['x-forwarded-host'], 'www.example.com');
    assert.equal(reply.echo!.host, 'www.example.com');
    assert.equal(h['x-kept'], 'yes');
    assert.equal(h['te'], 'trailers');
    for (const gone of ['x-drop-me', 'keep-alive', 'proxy-connection']) assert.equal(h[gone], undefined, gone);
    assert.equal(reply.headers['x-backend'], 'b');
  });

  it('streams a chunked request body and reuses backend connections (keep-alive pool)', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const connectionsBefore = a.connections;
    const requestsBefore = a.requests;
    for (let i = 0; i < 20; i++) {
      const reply = await get(port, '/', { host: 'www.example.com', method: 'POST', headers: { 'transfer-encoding': 'chunked' }, body: 'x'.repeat(1000), agent });
      assert.equal(reply.echo?.bodyBytes, 1000);
      assert.equal(reply.echo?.headers['transfer-encoding'], 'chunked');
    }
    agent.destroy();
    assert.equal(a.requests - requestsBefore, 20);
    assert.ok(a.connections - connectionsBefore <= 2, `20 sequential requests used ${a.connections - connectionsBefore} backend connections`);
  });

  it('works with curl over HTTP/1.1', async () => {
    const reply = await curl(['--http1.1', '-H', 'Host: www.example.com', `http://127.0.0.1:${port}/api/curl?x=1`]);
    assert.equal(reply.status, 200);
    assert.equal(reply.httpVersion, '1.1');
    assert.equal((JSON.parse(reply.body) as { backend: string; url: string }).url, '/api/curl?x=1');
    // curl --http2 on http:// asks for an h2c upgrade; the port speaks HTTP/1.1 and answers so.
    const h2c = await curl(['--http2', '-H', 'Host: www.example.com', `http://127.0.0.1:${port}/api/h2c`]);
    assert.equal(h2c.status, 200);
    assert.equal(h2c.httpVersion, '1.1');
    assert.equal((JSON.parse(h2c.body) as { url: string }).url, '/api/h2c');
  });

  it('logs one line per request and counts requests per route by status class', async () => {
    await get(port, '/api/logged?secret=1', { host: 'www.example.com' });
    await get(port, '/', { host: 'nobody.example.net' });
    const line = (await eventually(() => lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.path === '/api/logged'), 'the access-log line'))!;
    assert.equal(line.method, 'GET');
    assert.equal(line.host, 'www.example.com');
    assert.equal(line.status, 200);
    assert.equal(line.route, 'default/site');
    assert.equal(line.backend, 'default/b:80');
    assert.equal(line.listener, 'web');
    assert.equal(line.protocol, 'HTTP/1.1');
    assert.match(String(line.client), /^127\.0\.0\.1:\d+$/);
    assert.ok((line.bytes_to_client as number) > 0);
    assert.ok(!lines.some((l) => l.includes('secret=1')), 'the query string is never logged');
    const miss = (await eventually(() => lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.host === 'nobody.example.net'), 'the 404 line'))!;
    assert.equal(miss.status, 404);
    assert.equal(miss.route, null);
    const metrics = (await fetchText(`http://127.0.0.1:${runtime.adminPort()}/metrics`)).body;
    assert.ok(metricValue(metrics, 'tlsgate_http_requests_total', { gateway: 'default/plain', listener: 'web', route: 'default/site', status_class: '2xx' }) >= 10);
    assert.ok(metricValue(metrics, 'tlsgate_http_requests_total', { gateway: 'default/plain', listener: 'web', route: 'default/site', status_class: '5xx' }) >= 3);
    assert.ok(metricValue(metrics, 'tlsgate_http_requests_total', { gateway: 'default/plain', listener: '', route: '', status_class: '4xx' }) >= 1);
    assert.ok(metricValue(metrics, 'tlsgate_http_request_duration_seconds_count', { gateway: 'default/plain', listener: 'web', route: 'default/site' }) >= 10);
    assert.ok(!metrics.includes('/api/logged'), 'paths never become labels');
  });
});
