import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseClientMessage, parseServerMessage, proxyConfigErrors, sanitizeErrorText } from '../../../src/config-protocol.js';
import { reconnectDelay } from '../../../proxy/config-client.js';
import { generateP256Key } from '../../../operator/delivery/x509.js';
import { GATEWAY_A, proxyConfig } from './fixtures.js';

describe('config protocol', () => {
  it('accepts a well-formed config message', () => {
    const parsed = parseServerMessage(JSON.stringify({ type: 'config', epoch: 'e', generation: 3, config: proxyConfig(GATEWAY_A, 'v1') }));
    assert.equal(parsed.ok, true);
    assert.deepEqual(proxyConfigErrors(proxyConfig(GATEWAY_A, 'v1')), []);
  });

  it('names the field of every problem and never echoes a value', () => {
    const config = proxyConfig(GATEWAY_A, 'v1', 'SECRET-KEY-VALUE') as unknown as Record<string, any>;
    config.ports[0].listeners[0].mode = 'SECRET-KEY-VALUE';
    config.ports[0].listeners[0].certificates[0].keyType = 'SECRET-KEY-VALUE';
    config.ports[0].listeners[0].hostnames[0].route = 7;
    config.ports[0].listeners[0].routes[0].backends[0].endpoints[0].port = 70000;
    const parsed = parseServerMessage(JSON.stringify({ type: 'config', epoch: 'e', generation: 4, config }));
    assert.equal(parsed.ok, false);
    if (parsed.ok) return;
    assert.equal(parsed.version, 'v1');
    assert.equal(parsed.generation, 4);
    assert.match(parsed.error, /message\.config\.ports\[0\]\.listeners\[0\]\.mode: expected "Passthrough" or "Terminate"/);
    assert.match(parsed.error, /certificates\[0\]\.keyType/);
    assert.match(parsed.error, /hostnames\[0\]\.route: expected an index into routes \(0 to 0\)/);
    assert.match(parsed.error, /endpoints\[0\]\.port/);
    assert.doesNotMatch(parsed.error, /SECRET-KEY-VALUE/);
  });

  it('refuses an unknown schema, non-JSON and wrong message types', () => {
    const config = { ...proxyConfig(GATEWAY_A, 'v1'), schema: 'tlsgate.dev/proxy-config/v2' };
    const unknownSchema = parseServerMessage(JSON.stringify({ type: 'config', epoch: 'e', generation: 1, config }));
    assert.equal(unknownSchema.ok, false);
    assert.match(!unknownSchema.ok ? unknownSchema.error : '', /unsupported schema/);
    assert.deepEqual(parseServerMessage('{not json'), { ok: false, error: 'message is not valid JSON', version: null, generation: null });
    assert.equal(parseServerMessage(JSON.stringify({ type: 'ack', version: 'v', generation: 1 })).ok, false);
    assert.equal(parseClientMessage(JSON.stringify({ type: 'ack', version: 'v', generation: 1 })).ok, true);
    assert.equal(parseClientMessage(JSON.stringify({ type: 'nack', version: null, generation: null, error: 'x' })).ok, true);
    assert.equal(parseClientMessage(JSON.stringify({ type: 'nack', version: 'v', generation: -1, error: 'x' })).ok, false);
    assert.equal(parseClientMessage(JSON.stringify({ type: 'config' })).ok, false);
  });

  it("a NACK's optional ports (untrusted input) are checked strictly and capped", () => {
    const nack = (ports: unknown) => parseClientMessage(JSON.stringify({ type: 'nack', version: 'v', generation: 1, error: 'x', ports }));
    const good = nack([{ port: 443, address: '0.0.0.0', code: 'EACCES' }, { port: 8443, address: '::', code: 'EADDRINUSE' }]);
    assert.equal(good.ok, true);
    assert.deepEqual(good.ok && good.message.type === 'nack' ? good.message.ports : null, [{ port: 443, address: '0.0.0.0', code: 'EACCES' }, { port: 8443, address: '::', code: 'EADDRINUSE' }]);
    const errorOf = (parsed: ReturnType<typeof nack>) => (parsed.ok ? '' : parsed.error);
    assert.match(errorOf(nack('443')), /^message\.ports: expected an array$/);
    assert.match(errorOf(nack([{ port: 0, address: '0.0.0.0', code: 'EACCES' }])), /message\.ports\[0\]\.port: expected an integer/);
    assert.match(errorOf(nack([{ port: 443, address: 'evil.example.com<script>', code: 'EACCES' }])), /message\.ports\[0\]\.address: expected an IP address/);
    assert.match(errorOf(nack([{ port: 443, address: '0.0.0.0', code: 'eaccess; rm -rf' }])), /message\.ports\[0\]\.code: expected an errno code/);
    assert.match(errorOf(nack(Array.from({ length: 65 }, () => ({ port: 443, address: '0.0.0.0', code: 'EACCES' })))), /message\.ports: expected at most 64 entries/);
    // Without the field (older proxies) a NACK is what it always was.
    const plain = nack(undefined);
    assert.equal(plain.ok && plain.message.type === 'nack' && plain.message.ports === undefined, true);
  });

  it('removes key material from error texts, however it is embedded', () => {
    const keyPem = generateP256Key().privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const keyBody = keyPem.split('\n')[1]!;
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.boolean(), (before, afterText, armour) => {
        const embedded = armour ? keyPem : keyPem.replace(/-----[A-Z ]+-----/g, '');
        const cleaned = sanitizeErrorText(`${before}${embedded}${afterText}`);
        assert.ok(!cleaned.includes(keyBody), 'the key body survived');
        assert.ok(cleaned.length <= 2001);
      }),
    );
    assert.equal(sanitizeErrorText('listener "tls": port 8443 in use'), 'listener "tls": port 8443 in use');
  });

  it('backs off exponentially with jitter, up to the ceiling', () => {
    assert.equal(reconnectDelay(0, 500, 30_000, () => 0), 250);
    assert.equal(reconnectDelay(0, 500, 30_000, () => 0.999999), 500);
    assert.equal(reconnectDelay(3, 500, 30_000, () => 0), 2000);
    assert.equal(reconnectDelay(20, 500, 30_000, () => 0.999999), 30_000);
    fc.assert(
      fc.property(fc.nat(100), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (attempt, random) => {
        const delay = reconnectDelay(attempt, 500, 30_000, () => random);
        assert.ok(delay >= 250 && delay <= 30_000);
        assert.ok(delay >= reconnectDelay(attempt, 500, 30_000, () => 0));
      }),
    );
  });
});
