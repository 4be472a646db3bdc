// HTTPRoute filters and weights through the running engine with real clients: request and
// response header modifiers (case-insensitive, rule then backend), redirects (every status
// code, scheme, hostname, path and the port rules of the spec), URL rewrites (hostname, full
// and prefix paths with the query kept), and a 70/30/0 weight split over 500 requests.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { HttpFilterConfig } from '../../../src/proxy-config.js';
import { startProxyRuntime, type ProxyRuntime } from '../../../proxy/runtime.js';
import { proxyConfig } from './helpers.js';
import { curl, echoBackend, get, httpBackend, httpListenerConfig, type EchoBackend, type RuleSpec } from './http-support.js';

const redirect = (path: string, filter: Omit<Extract<HttpFilterConfig, { type: 'RequestRedirect' }>, 'type'>): RuleSpec => ({
  matches: [{ path: { type: 'PathPrefix', value: path } }],
  filters: [{ type: 'RequestRedirect', ...filter }],
  backends: [],
});

describe('HTTP engine: filters and weights', () => {
  let runtime: ProxyRuntime;
  let a: EchoBackend;
  let b: EchoBackend;
  let c: EchoBackend;
  let port: number;

  before(async () => {
    [a, b, c] = await Promise.all([echoBackend('a'), echoBackend('b'), echoBackend('c')]);
    runtime = await startProxyRuntime({ address: '127.0.0.1', accessLog: null });
    const rules: RuleSpec[] = [
      {
        matches: [{ path: { type: 'PathPrefix', value: '/set' } }],
        filters: [
          { type: 'RequestHeaderModifier', set: [{ name: 'X-Header-Set', value: 'set-overwrites-values' }], add: [{ name: 'X-Header-Add', value: 'add-appends-values' }], remove: ['X-Header-Remove'] },
          { type: 'ResponseHeaderModifier', set: [{ name: 'X-Resp-Set', value: 'set' }], add: [{ name: 'X-Resp-Add', value: 'added' }], remove: ['X-Echo-Remove'] },
        ],
        backends: [
          httpBackend('a', a.port, 1, {
            filters: [
              { type: 'RequestHeaderModifier', set: [{ name: 'x-header-set', value: 'backend-wins' }], add: [{ name: 'X-Backend-Add', value: 'b' }], remove: [] },
              { type: 'ResponseHeaderModifier', set: [], add: [{ name: 'X-Resp-Add', value: 'backend-added' }], remove: [] },
            ],
          }),
        ],
      },
      redirect('/r301', { statusCode: 301, hostname: 'moved.example.org' }),
      redirect('/r302', { statusCode: 302 }),
      redirect('/r303', { statusCode: 303, path: { type: 'ReplaceFullPath', value: '/full' } }),
      redirect('/r307', { statusCode: 307, path: { type: 'ReplacePrefixMatch', value: '/new' } }),
      redirect('/r308', { statusCode: 308, scheme: 'https' }),
      redirect('/scheme-https-port-8443', { statusCode: 302, scheme: 'https', port: 8443 }),
      redirect('/scheme-https-port-443', { statusCode: 302, scheme: 'https', port: 443 }),
      redirect('/port-80', { statusCode: 302, port: 80 }),
      redirect('/port-8080', { statusCode: 302, port: 8080 }),
      { matches: [{ path: { type: 'PathPrefix', value: '/rewrite-host' } }], filters: [{ type: 'URLRewrite', hostname: 'internal.example' }], backends: [httpBackend('a', a.port)] },
      { matches: [{ path: { type: 'PathPrefix', value: '/prefix/one' } }], filters: [{ type: 'URLRewrite', path: { type: 'ReplacePrefixMatch', value: '/one' } }], backends: [httpBackend('a', a.port)] },
      { matches: [{ path: { type: 'PathPrefix', value: '/strip' } }], filters: [{ type: 'URLRewrite', path: { type: 'ReplacePrefixMatch', value: '/' } }], backends: [httpBackend('a', a.port)] },
      { matches: [{ path: { type: 'PathPrefix', value: '/full-rewrite' } }], filters: [{ type: 'URLRewrite', path: { type: 'ReplaceFullPath', value: '/replaced' } }], backends: [httpBackend('a', a.port)] },
      { matches: [{ path: { type: 'PathPrefix', value: '/backend-rewrite' } }], backends: [httpBackend('a', a.port, 1, { filters: [{ type: 'URLRewrite', path: { type: 'ReplaceFullPath', value: '/by-backend' } }] })] },
      { matches: [{ path: { type: 'PathPrefix', value: '/weights' } }], backends: [httpBackend('a', a.port, 70), httpBackend('b', b.port, 30), httpBackend('c', c.port, 0)] },
    ];
    await runtime.apply([proxyConfig('filters', 'v1', [{ port: 0, listeners: [httpListenerConfig({ name: 'web', protocol: 'HTTP', hostname: null, routes: [{ name: 'filters', rules }] })] }])]);
    port = runtime.boundPorts()[0]!.boundPort;
  });

  after(async () => {
    await runtime.shutdown(1000);
    await Promise.all([a.close(), b.close(), c.close()]);
  });

  it('modifies request headers (set, add, remove; names case-insensitive; the backend filter after the rule)', async () => {
    const reply = await get(port, '/set', {
      host: 'example.org',
      headers: { 'x-header-set': 'original', 'x-header-add': 'something', 'X-HEADER-REMOVE': 'gone', 'x-other': 'kept' },
    });
    const h = reply.echo!.headers;
    assert.equal(h['x-header-set'], 'backend-wins');
    assert.equal(h['x-header-add'], 'something, add-appends-values');
    assert.equal(h['x-header-remove'], undefined);
    assert.equal(h['x-backend-add'], 'b');
    assert.equal(h['x-other'], 'kept');
  });

  it('modifies response headers, the backend filter after the rule', async () => {
    const reply = await get(port, '/set', { host: 'example.org' });
    assert.equal(reply.headers['x-resp-set'], 'set');
    assert.equal(reply.headers['x-resp-add'], 'added, backend-added');
    assert.equal(reply.headers['x-echo-remove'], undefined);
    assert.equal(reply.headers['x-backend'], 'a');
  });

  it('redirects with each status code and the hostname, path and scheme parts', async () => {
    const expect = async (path: string, status: number, location: string) => {
      const reply = await get(port, path, { host: 'example.org' });
      assert.equal(reply.status, status, path);
      assert.equal(reply.headers.location, location, path);
    };
    await expect('/r301/x?q=1', 301, `http://moved.example.org:${port}/r301/x?q=1`);
    // Neither scheme nor port given: the listener's port (here an ephemeral one, so never omitted).
    await expect('/r302', 302, `http://example.org:${port}/r302`);
    await expect('/r303/deep?keep=yes', 303, `http://example.org:${port}/full?keep=yes`);
    await expect('/r307/tail/x', 307, `http://example.org:${port}/new/tail/x`);
    await expect('/r307', 307, `http://example.org:${port}/new`);
    await expect('/r308/a', 308, 'https://example.org/r308/a'); // a new scheme without port: its well-known port
    await expect('/scheme-https-port-8443', 302, 'https://example.org:8443/scheme-https-port-8443');
    await expect('/scheme-https-port-443', 302, 'https://example.org/scheme-https-port-443');
    await expect('/port-80', 302, 'http://example.org/port-80');
    await expect('/port-8080', 302, 'http://example.org:8080/port-8080');
    const viaCurl = await curl(['-H', 'Host: example.org', `http://127.0.0.1:${port}/r301`]);
    assert.equal(viaCurl.status, 301);
    assert.equal(viaCurl.headers.location, `http://moved.example.org:${port}/r301`);
  });

  it('rewrites the hostname and the path (prefix and full), keeping the query', async () => {
    const host = await get(port, '/rewrite-host/x', { host: 'example.org' });
    assert.equal(host.echo?.host, 'internal.example');
    assert.equal(host.echo?.headers['x-forwarded-host'], 'example.org');
    assert.equal(host.echo?.url, '/rewrite-host/x');
    const cases: [string, string][] = [
      ['/prefix/one/two?x=1', '/one/two?x=1'],
      ['/prefix/one', '/one'],
      ['/prefix/one/', '/one/'],
      ['/strip/three', '/three'],
      ['/strip', '/'],
      ['/full-rewrite/any/thing?y=2', '/replaced?y=2'],
      ['/backend-rewrite/z', '/by-backend'],
    ];
    for (const [sent, received] of cases) {
      const reply = await get(port, sent, { host: 'example.org' });
      assert.equal(reply.echo?.url, received, sent);
    }
  });

  it('splits 500 requests 70/30/0 by weight (within ±5 %)', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
    const counts: Record<string, number> = { a: 0, b: 0, c: 0 };
    const replies = await Promise.all(Array.from({ length: 500 }, () => get(port, '/weights', { host: 'example.org', agent })));
    agent.destroy();
    for (const reply of replies) counts[reply.echo!.backend]! += 1;
    assert.equal(counts.c, 0, 'weight 0 is never picked');
    assert.ok(Math.abs(counts.a! - 350) <= 25, `a got ${counts.a} of 500`);
    assert.ok(Math.abs(counts.b! - 150) <= 25, `b got ${counts.b} of 500`);
  });
});
