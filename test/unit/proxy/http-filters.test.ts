// The HTTP engine's pure parts: prefix replacement (the spec's table), redirect Locations with
// the spec's port rules, header modifiers, hop-by-hop removal and X-Forwarded-*, Host parsing,
// match walking, query parsing, and validation errors that name the field.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileFilters, compileHttpListener, type CompiledMatch } from '../../../proxy/http/compile.js';
import { modifyHeaders, redirectLocation, replacePrefix } from '../../../proxy/http/filters.js';
import { hostOf, requestHeadersForBackend, responseHeadersForClient } from '../../../proxy/http/headers.js';
import { findMatch, parseQuery } from '../../../proxy/http/match.js';
import { validateProxyConfigs } from '../../../proxy/validate.js';
import { proxyConfig } from '../../e2e/proxy/helpers.js';
import { httpBackend, httpListenerConfig } from '../../e2e/proxy/http-support.js';

function prefixMatch(value: string): CompiledMatch {
  const listener = compileHttpListener(
    httpListenerConfig({ name: 'l', protocol: 'HTTP', hostname: null, routes: [{ name: 'r', rules: [{ matches: [{ path: { type: 'PathPrefix', value } }], backends: [] }] }] }).http!,
    'test',
  );
  return listener.virtualHosts.lookup('x')!.matches[0]!;
}

describe('ReplacePrefixMatch', () => {
  it('follows the table in the Gateway API reference', () => {
    const table: [path: string, prefix: string, replacement: string, expected: string][] = [
      ['/foo/bar', '/foo', '/xyz', '/xyz/bar'],
      ['/foo/bar', '/foo', '/xyz/', '/xyz/bar'],
      ['/foo/bar', '/foo/', '/xyz', '/xyz/bar'],
      ['/foo/bar', '/foo/', '/xyz/', '/xyz/bar'],
      ['/foo', '/foo', '/xyz', '/xyz'],
      ['/foo/', '/foo', '/xyz', '/xyz/'],
      ['/foo/bar', '/foo', '', '/bar'],
      ['/foo/', '/foo', '', '/'],
      ['/foo', '/foo', '', '/'],
      ['/foo/', '/foo', '/', '/'],
      ['/foo', '/foo', '/', '/'],
    ];
    for (const [path, prefix, replacement, expected] of table) {
      // The compiled match drops a trailing slash of the prefix, as the contract's values have none.
      const compiled = prefixMatch(prefix).path;
      assert.equal(replacePrefix(path, compiled, replacement), expected, `${path} with ${prefix} → ${replacement}`);
    }
  });
});

describe('redirectLocation', () => {
  const match = prefixMatch('/old');
  const request = (scheme: 'http' | 'https', listenerPort: number) => ({ scheme, host: 'example.org', path: '/old/x', query: '?a=1', listenerPort });
  const redirect = (extra: Partial<{ scheme: string; hostname: string; port: number }>) =>
    compileFilters([{ type: 'RequestRedirect', statusCode: 302, ...extra }]).redirect!;

  it('applies the port rules of the conformance tests (listeners on 80, 8080 and 443)', () => {
    const cases: [scheme: 'http' | 'https', listenerPort: number, filter: Partial<{ scheme: string; port: number }>, expected: string][] = [
      ['http', 80, {}, 'http://example.org/old/x?a=1'],
      ['http', 80, { port: 80 }, 'http://example.org/old/x?a=1'],
      ['http', 80, { port: 8080 }, 'http://example.org:8080/old/x?a=1'],
      ['http', 80, { scheme: 'https' }, 'https://example.org/old/x?a=1'],
      ['http', 80, { scheme: 'https', port: 443 }, 'https://example.org/old/x?a=1'],
      ['http', 80, { scheme: 'https', port: 8443 }, 'https://example.org:8443/old/x?a=1'],
      ['http', 8080, {}, 'http://example.org:8080/old/x?a=1'],
      ['http', 8080, { port: 80 }, 'http://example.org/old/x?a=1'],
      ['http', 8080, { scheme: 'https' }, 'https://example.org/old/x?a=1'],
      ['https', 443, {}, 'https://example.org/old/x?a=1'],
      ['https', 443, { port: 443 }, 'https://example.org/old/x?a=1'],
      ['https', 443, { port: 8443 }, 'https://example.org:8443/old/x?a=1'],
      ['https', 443, { scheme: 'http' }, 'http://example.org/old/x?a=1'],
      ['https', 443, { scheme: 'http', port: 80 }, 'http://example.org/old/x?a=1'],
      ['https', 443, { scheme: 'http', port: 8080 }, 'http://example.org:8080/old/x?a=1'],
    ];
    for (const [scheme, listenerPort, filter, expected] of cases) {
      assert.equal(redirectLocation(redirect(filter), request(scheme, listenerPort), match), expected, `${scheme} :${listenerPort} ${JSON.stringify(filter)}`);
    }
  });

  it('replaces the hostname and the path', () => {
    const r = compileFilters([{ type: 'RequestRedirect', statusCode: 301, hostname: 'new.example', path: { type: 'ReplacePrefixMatch', value: '/new' } }]).redirect!;
    assert.equal(redirectLocation(r, request('http', 80), match), 'http://new.example/new/x?a=1');
  });
});

describe('header lists', () => {
  it('set replaces every value, add appends, remove drops; names case-insensitive, spelling kept', () => {
    const headers = ['Host', 'h', 'X-A', '1', 'x-a', '2', 'X-Keep', 'k', 'X-Gone', 'g'];
    modifyHeaders(headers, compileFilters([{ type: 'RequestHeaderModifier', set: [{ name: 'x-A', value: 'set' }], add: [{ name: 'X-Keep', value: 'more' }], remove: ['x-gone'] }]).requestHeaders[0]!);
    assert.deepEqual(headers, ['Host', 'h', 'X-Keep', 'k', 'x-A', 'set', 'X-Keep', 'more']);
  });

  it('drops hop-by-hop headers and those Connection names, keeps TE: trailers, appends X-Forwarded-For', () => {
    const out = requestHeadersForBackend(
      [':authority', 'a', 'Host', 'old', 'Connection', 'close, X-Private', 'X-Private', 'p', 'Keep-Alive', '5', 'TE', 'gzip, trailers', 'Upgrade', 'websocket', 'Transfer-Encoding', 'chunked', 'X-Forwarded-For', '1.1.1.1', 'X-Forwarded-Proto', 'ftp', 'Accept', '*/*'],
      { host: 'new', originalHost: 'old', clientIp: '127.0.0.2', scheme: 'https', upgrade: false, chunkedBody: true },
    );
    assert.deepEqual(out, ['Host', 'new', 'Accept', '*/*', 'TE', 'trailers', 'Transfer-Encoding', 'chunked', 'X-Forwarded-For', '1.1.1.1, 127.0.0.2', 'X-Forwarded-Proto', 'https', 'X-Forwarded-Host', 'old']);
    const upgrade = requestHeadersForBackend(['Connection', 'Upgrade', 'Upgrade', 'websocket'], { host: 'h', originalHost: 'h', clientIp: '::1', scheme: 'http', upgrade: true, chunkedBody: false });
    assert.deepEqual(upgrade.slice(0, 6), ['Host', 'h', 'Connection', 'upgrade', 'Upgrade', 'websocket']);
    const cookies = requestHeadersForBackend([':path', '/', 'cookie', 'a=1', 'cookie', 'b=2'], { host: 'h', originalHost: 'h', clientIp: '::1', scheme: 'https', upgrade: false, chunkedBody: false });
    assert.deepEqual(cookies.slice(0, 4), ['Host', 'h', 'Cookie', 'a=1; b=2'], 'HTTP/2 cookie fields become one Cookie header');
    assert.deepEqual(responseHeadersForClient(['Content-Type', 'x', 'Transfer-Encoding', 'chunked', 'Connection', 'keep-alive, X-Hop', 'X-Hop', '1', 'Set-Cookie', 'a', 'Set-Cookie', 'b']), ['Content-Type', 'x', 'Set-Cookie', 'a', 'Set-Cookie', 'b']);
  });

  it('reads the host of a Host header or :authority', () => {
    assert.equal(hostOf('Example.ORG:8080'), 'example.org');
    assert.equal(hostOf('example.org.'), 'example.org');
    assert.equal(hostOf('[::1]:80'), '::1');
    assert.equal(hostOf(undefined), '');
  });
});

describe('matching', () => {
  const listener = compileHttpListener(
    httpListenerConfig({
      name: 'l',
      protocol: 'HTTP',
      hostname: null,
      routes: [
        {
          name: 'r',
          hostnames: ['*.example.com', 'a.example.com'],
          rules: [
            { matches: [{ path: { type: 'PathPrefix', value: '/v' }, headers: [{ type: 'RegularExpression', name: 'X-Env', value: 'prod|stage' }], queryParams: [{ type: 'Exact', name: 'k', value: 'a b' }] }], backends: [httpBackend('one', 1)] },
            { matches: [{ path: { type: 'PathPrefix', value: '/v' }, method: 'DELETE' }], backends: [httpBackend('two', 2)] },
            { matches: [{ path: { type: 'PathPrefix', value: '/v' } }], backends: [httpBackend('three', 3)] },
          ],
        },
      ],
    }).http!,
    'test',
  );
  const rule = (host: string, method: string, path: string, query: string, headers: string[] = []) => {
    const vhost = listener.virtualHosts.lookup(host);
    if (vhost === undefined) return 'no vhost';
    const m = findMatch(vhost, { method, path, query, headers });
    return m === null ? 'none' : m.rule.backends[0]!.ref;
  };

  it('walks the matches in order (method, then headers and query, then the plain prefix); whole segments only', () => {
    assert.equal(rule('a.example.com', 'GET', '/v/x', 'k=a%20b', ['x-env', 'stage']), 'default/one:80');
    assert.equal(rule('b.example.com', 'GET', '/v/x', 'k=a+b&k=other', ['X-ENV', 'prod', 'x-env', 'dev']), 'default/one:80');
    assert.equal(rule('a.example.com', 'GET', '/v/x', 'k=a%20b', ['x-env', 'dev', 'x-env', 'prod']), 'default/three:80', 'only the first value of a repeated header counts');
    assert.equal(rule('a.example.com', 'DELETE', '/v', ''), 'default/two:80');
    assert.equal(rule('a.example.com', 'DELETE', '/v/x', 'k=a%20b', ['x-env', 'prod']), 'default/two:80', 'a method match ranks before header matches');
    assert.equal(rule('a.example.com', 'GET', '/v', ''), 'default/three:80');
    assert.equal(rule('a.example.com', 'GET', '/video', ''), 'none');
    assert.equal(rule('example.com', 'GET', '/v', ''), 'no vhost');
  });

  it('parses the first value of each query parameter', () => {
    assert.deepEqual([...parseQuery('a=1&b=%41&a=2&c&d=x+y&%zz=bad')], [['a', '1'], ['b', 'A'], ['c', ''], ['d', 'x y'], ['%zz', 'bad']]);
  });
});

describe('validation of the http part', () => {
  const config = (mutate: (l: ReturnType<typeof httpListenerConfig>) => void) => {
    const l = httpListenerConfig({ name: 'web', protocol: 'HTTP', hostname: null, routes: [{ name: 'r', rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/' } }], backends: [httpBackend('b', 1)] }] }] });
    mutate(l);
    return proxyConfig('gw', 'v1', [{ port: 80, listeners: [l] }]);
  };
  const problem = (mutate: (l: ReturnType<typeof httpListenerConfig>) => void) => {
    try {
      validateProxyConfigs([config(mutate)]);
      return null;
    } catch (err) {
      return (err as Error).message;
    }
  };

  it('accepts a valid listener and names the field of each problem', () => {
    assert.equal(problem(() => undefined), null);
    assert.equal(problem((l) => ((l as { protocol: string }).protocol = 'SMTP')), 'proxy config default/gw: ports[0].listeners[0] (web).protocol: must be TLS, HTTPS or HTTP, got "SMTP"');
    assert.equal(problem((l) => (l.mode = 'Passthrough')), 'proxy config default/gw: ports[0].listeners[0] (web).mode: an HTTP listener is always Terminate');
    assert.equal(
      problem((l) => (l.http!.virtualHosts[0]!.matches[0]!.rule = 3)),
      'proxy config default/gw: ports[0].listeners[0] (web).http.virtualHosts[0].matches[0].rule: must index http.routes[0].rules (0..0), got 3',
    );
    assert.match(
      problem((l) => (l.http!.virtualHosts[0]!.matches[0]!.match.path = { type: 'RegularExpression', value: '(' })) ?? '',
      /^proxy config default\/gw: ports\[0\]\.listeners\[0\] \(web\)\.http\.virtualHosts\[0\]\.matches\[0\]\.match\.path\.value: invalid regular expression "\("/,
    );
    assert.equal(
      problem((l) => l.http!.routes[0]!.rules[0]!.filters.push({ type: 'RequestRedirect', statusCode: 304 })),
      'proxy config default/gw: ports[0].listeners[0] (web).http.routes[0].rules[0].filters[0].statusCode: must be 301, 302, 303, 307 or 308, got 304',
    );
    assert.equal(
      problem((l) => (l.http!.routes[0]!.rules[0]!.backends[0]!.filters = [{ type: 'RequestRedirect', statusCode: 302 }])),
      'proxy config default/gw: ports[0].listeners[0] (web).http.routes[0].rules[0].backends[0].filters[0].type: RequestRedirect is a rule filter, not a backend filter',
    );
    assert.equal(
      problem((l) => l.http!.routes[0]!.rules[0]!.filters.push({ type: 'RequestHeaderModifier', set: [{ name: 'X-Bad', value: 'a\r\nInjected: 1' }], add: [], remove: [] })),
      'proxy config default/gw: ports[0].listeners[0] (web).http.routes[0].rules[0].filters[0].set[0].value: must not contain CR, LF or NUL',
    );
    assert.equal(
      problem((l) => (l.http!.routes[0]!.rules[0]!.timeouts = { requestMs: -1 })),
      'proxy config default/gw: ports[0].listeners[0] (web).http.routes[0].rules[0].timeouts.requestMs: must be an integer 0..2147483647, got -1',
    );
  });
});
