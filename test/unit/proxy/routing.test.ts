// Routing tables and picks: hostname precedence, smooth weighted round robin, endpoints,
// certificate choice, and config validation messages.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CertificateCache, chooseCertificate, buildServingCertificate } from '../../../proxy/certificates.js';
import { KEY_ANY, KEY_EC, KEY_RSA } from '../../../proxy/clienthello.js';
import { HostnameTable } from '../../../proxy/hostname-table.js';
import { nextEndpoint, pickBackend, type CompiledBackend, type CompiledRoute } from '../../../proxy/routing.js';
import { validateProxyConfigs } from '../../../proxy/validate.js';
import { backendRef, listener, makeCert, proxyConfig, tempDir, type TestCert } from '../../e2e/proxy/helpers.js';

describe('HostnameTable', () => {
  const table = new HostnameTable<string>();
  table.add('abc.example.com', 'exact');
  table.add('*.example.com', 'wild-example');
  table.add('*.com', 'wild-com');
  table.add('*.example.com', 'second-add-loses');

  it('prefers exact, then the longest wildcard, with multi-label wildcards', () => {
    assert.equal(table.lookup('abc.example.com'), 'exact');
    assert.equal(table.lookup('other.example.com'), 'wild-example');
    assert.equal(table.lookup('deep.sub.example.com'), 'wild-example');
    assert.equal(table.lookup('example.com'), 'wild-com');
    assert.equal(table.lookup('other.com'), 'wild-com');
    assert.equal(table.lookup('example.org'), undefined);
    assert.equal(table.lookup('com'), undefined);
  });

  it('falls back to the catch-all (listener without hostname)', () => {
    const t = new HostnameTable<string>();
    t.add('*.example.com', 'wild');
    t.add(null, 'any');
    assert.equal(t.lookup('x.example.com'), 'wild');
    assert.equal(t.lookup('example.org'), 'any');
  });
});

function route(weights: number[]): CompiledRoute {
  return {
    name: 'default/r',
    nameJson: '"default/r"',
    backends: weights.map((weight, i) => ({ ref: `b${i}`, refJson: `"b${i}"`, weight, reject: undefined, endpoints: [{ address: '127.0.0.1', port: 1000 + i }], nextEndpoint: 0, current: 0 })),
    outcomes: null,
  };
}

describe('pickBackend (smooth weighted round robin)', () => {
  it('gives each backend exactly its share over a full cycle, interleaved', () => {
    const r = route([1, 3, 0]);
    const picks = Array.from({ length: 400 }, () => (pickBackend(r) as CompiledBackend).ref);
    assert.equal(picks.filter((p) => p === 'b0').length, 100);
    assert.equal(picks.filter((p) => p === 'b1').length, 300);
    assert.equal(picks.filter((p) => p === 'b2').length, 0);
    // Smooth: never the weight-1 backend twice in a row.
    for (let i = 1; i < picks.length; i++) assert.ok(!(picks[i] === 'b0' && picks[i - 1] === 'b0'));
  });

  it('is deterministic and returns null when every weight is 0', () => {
    const seq = (r: CompiledRoute) => Array.from({ length: 10 }, () => pickBackend(r)?.ref).join(',');
    assert.equal(seq(route([2, 5, 3])), seq(route([2, 5, 3])));
    assert.equal(pickBackend(route([0, 0])), null);
  });

  it('spreads connections over endpoints round-robin', () => {
    const b: CompiledBackend = { ref: 'b', refJson: '"b"', weight: 1, reject: undefined, endpoints: [{ address: 'a', port: 1 }, { address: 'b', port: 2 }, { address: 'c', port: 3 }], nextEndpoint: 0, current: 0 };
    assert.deepEqual(Array.from({ length: 6 }, () => nextEndpoint(b).address), ['a', 'b', 'c', 'a', 'b', 'c']);
  });
});

describe('chooseCertificate', () => {
  const dir = tempDir('tlsgate-certs-');
  let ec: TestCert;
  let rsa: TestCert;
  let other: TestCert;
  before(async () => {
    ec = await makeCert(dir.dir, ['*.example.com'], 'EC');
    rsa = await makeCert(dir.dir, ['*.example.com'], 'RSA');
    other = await makeCert(dir.dir, ['exact.example.com', 'foo.org'], 'EC');
  });
  after(() => dir.remove());

  it('chooses by SNI (exact over wildcard) and by the key types the client supports', () => {
    const keys = Buffer.alloc(48, 7);
    const certs = [ec, rsa, other].map((c, i) => buildServingCertificate(c.config(`s${i}`), keys, 'test'));
    assert.equal(chooseCertificate(certs, 'exact.example.com', KEY_ANY).secret, 'default/s2');
    assert.equal(chooseCertificate(certs, 'www.example.com', KEY_ANY).secret, 'default/s0');
    assert.equal(chooseCertificate(certs, 'www.example.com', KEY_RSA).secret, 'default/s1');
    assert.equal(chooseCertificate(certs, 'www.example.com', KEY_EC).secret, 'default/s0');
    assert.equal(chooseCertificate(certs, 'foo.org', KEY_RSA).secret, 'default/s2');
    // A certificate wildcard covers one label only.
    assert.equal(chooseCertificate(certs, 'a.b.example.com', KEY_RSA).secret, 'default/s1');
  });

  it('reuses the SecureContext of an unchanged certificate across applies, and only that', () => {
    const cache = new CertificateCache(() => Buffer.alloc(48, 1));
    cache.begin();
    const first = cache.load(ec.config('a'), 'test');
    cache.commit();
    cache.begin();
    assert.equal(cache.load(ec.config('a'), 'test'), first);
    const renamed = cache.load(ec.config('b'), 'test');
    assert.notEqual(renamed, first);
    cache.commit();
    cache.begin();
    cache.load(rsa.config('c'), 'test');
    cache.commit(); // neither a nor b used any more
    cache.begin();
    assert.notEqual(cache.load(ec.config('a'), 'test'), first);
    cache.abort();
  });

  it('names the listener and Secret, never the key, when a key does not match', () => {
    const broken = { ...ec.config('broken'), privateKeyPem: rsa.keyPem };
    assert.throws(
      () => buildServingCertificate(broken, Buffer.alloc(48), 'proxy config default/gw: ports[0].listeners[0] (https).certificates[0]'),
      (err: Error) => err.message.includes('default/broken') && err.message.includes('listeners[0]') && !err.message.includes('PRIVATE KEY') && !err.message.includes(rsa.keyPem.slice(40, 80)),
    );
  });
});

describe('validateProxyConfigs', () => {
  const good = () =>
    proxyConfig('gw', 'v1', [{ port: 443, listeners: [listener({ name: 'tls', hostname: null, mode: 'Passthrough', routes: [{ hostnames: ['a.example.com'], backends: [backendRef('a', 8443)] }] })] }]);

  it('accepts a well-formed config', () => {
    validateProxyConfigs([good()]);
  });

  it('names the Gateway and the field of the problem', () => {
    const cases: [(c: ReturnType<typeof good>) => void, RegExp][] = [
      [(c) => ((c as { schema: string }).schema = 'v0'), /default\/gw: schema/],
      [(c) => (c.ports[0]!.port = 70000), /ports\[0\]\.port/],
      [(c) => (c.ports[0]!.listeners[0]!.routes[0]!.backends[0]!.weight = -1), /routes\[0\]\.backends\[0\]\.weight/],
      [(c) => (c.ports[0]!.listeners[0]!.hostnames[0]!.route = 5), /hostnames\[0\]\.route/],
      [(c) => (c.ports[0]!.listeners[0]!.hostname = 'Bad Host'), /listeners\[0\] \(tls\)\.hostname/],
      [(c) => (c.settings = { idleTimeoutMs: 0 }), /settings\.idleTimeoutMs/],
    ];
    for (const [mutate, pattern] of cases) {
      const c = good();
      mutate(c);
      assert.throws(() => validateProxyConfigs([c]), pattern);
    }
    assert.throws(() => validateProxyConfigs([good(), good()]), /appears twice/);
  });
});
