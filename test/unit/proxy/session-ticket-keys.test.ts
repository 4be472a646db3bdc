// ProxyConfig.sessionTicketKeys as the proxy checks it before applying: errors name the
// Gateway and the field, and never quote a key.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { validateProxyConfigs } from '../../../proxy/validate.js';
import { sharedTicketKeyRing } from '../../../proxy/certificates.js';
import { PROXY_CONFIG_SCHEMA, type ProxyConfig } from '../../../src/proxy-config.js';

const key = () => randomBytes(48).toString('base64');
const config = (name: string, sessionTicketKeys?: unknown): ProxyConfig => ({
  schema: PROXY_CONFIG_SCHEMA,
  gateway: { namespace: 'team-a', name },
  version: 'v1',
  ports: [{ port: 443, listeners: [] }],
  ...(sessionTicketKeys !== undefined ? { sessionTicketKeys: sessionTicketKeys as string[] } : {}),
});

describe('sessionTicketKeys in the proxy config validator', () => {
  it('accepts no ring, one key, or current + previous', () => {
    validateProxyConfigs([config('edge')]);
    validateProxyConfigs([config('edge', [key()])]);
    validateProxyConfigs([config('edge', [key(), key()])]);
  });

  it('names the Gateway and the field of the problem', () => {
    const short = randomBytes(47).toString('base64');
    const cases: [unknown, RegExp][] = [
      ['not-a-list', /proxy config team-a\/edge: sessionTicketKeys: must be a list of 1 or 2 keys/],
      [[], /team-a\/edge: sessionTicketKeys: must be a list of 1 or 2 keys/],
      [[key(), key(), key()], /team-a\/edge: sessionTicketKeys: must be a list of 1 or 2 keys/],
      [[key(), 42], /team-a\/edge: sessionTicketKeys\[1\]: must be a base64 string/],
      [['not base64!'], /team-a\/edge: sessionTicketKeys\[0\]: must be a base64 string/],
      [[key(), short], /team-a\/edge: sessionTicketKeys\[1\]: must be 48 bytes, got 47/],
    ];
    for (const [keys, pattern] of cases) {
      assert.throws(() => validateProxyConfigs([config('edge', keys)]), (err: Error) => {
        assert.match(err.message, pattern);
        assert.equal(err.message.includes(short), false, 'no key material in the error');
        return true;
      });
    }
  });

  it('configs of one apply carrying different rings are refused (one process, one ring); equal rings are fine', () => {
    const ring = [key(), key()];
    validateProxyConfigs([config('a', ring), config('b', [...ring]), config('c')]);
    assert.throws(() => validateProxyConfigs([config('a', ring), config('b', [key(), key()])]), /team-a\/b: sessionTicketKeys: differ from those of Gateway team-a\/a/);
  });

  it('sharedTicketKeyRing: the keys concatenated, current first; null without a ring', () => {
    const ring = [key(), key()];
    const buffer = sharedTicketKeyRing([config('a'), config('b', ring)]);
    assert.ok(buffer);
    assert.equal(buffer.length, 96);
    assert.equal(buffer.subarray(0, 48).toString('base64'), ring[0]);
    assert.equal(buffer.subarray(48).toString('base64'), ring[1]);
    assert.equal(sharedTicketKeyRing([config('a')]), null);
  });
});
