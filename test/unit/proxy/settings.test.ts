// Settings precedence and the admin address parser.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseHostPort } from '../../../proxy/admin.js';
import { DEFAULT_SETTINGS, resolveSettings, settingsProblem } from '../../../proxy/settings.js';

describe('proxy settings', () => {
  it('layers defaults, runtime settings, then a Gateway config', () => {
    const resolved = resolveSettings({ connectTimeoutMs: 1000, idleTimeoutMs: 2000 }, { idleTimeoutMs: 3000 });
    assert.equal(resolved.connectTimeoutMs, 1000);
    assert.equal(resolved.idleTimeoutMs, 3000);
    assert.equal(resolved.maxClientHelloBytes, DEFAULT_SETTINGS.maxClientHelloBytes);
    assert.equal(resolved.clientHelloTimeoutMs, 10_000);
  });

  it('names the field of a bad value', () => {
    assert.equal(settingsProblem({ maxConnectionsPerListener: 1.5 }, 'settings'), 'settings.maxConnectionsPerListener: must be a positive integer, got 1.5');
    assert.equal(settingsProblem({ connectTimeoutMs: 10 }, 'settings'), null);
  });
});

describe('parseHostPort', () => {
  it('reads host:port, [v6]:port and :port', () => {
    assert.deepEqual(parseHostPort('127.0.0.1:9901', 'x'), { host: '127.0.0.1', port: 9901 });
    assert.deepEqual(parseHostPort('[::1]:0', 'x'), { host: '::1', port: 0 });
    assert.deepEqual(parseHostPort(':9901', 'x'), { host: '0.0.0.0', port: 9901 });
  });

  it('refuses anything else, naming the option', () => {
    for (const bad of ['9901', 'host', 'host:99999', '::1:80']) assert.throws(() => parseHostPort(bad, 'adminAddress'), /adminAddress: expected HOST:PORT/);
  });
});
