/**
 * The port-claim rules of standalone mode (pure; the end-to-end view is in invalid.test.ts):
 * first come keeps a port, across reloads too; the loser is served without it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { claimPorts } from '../../../proxy/standalone/port-claims.js';
import { PROXY_CONFIG_SCHEMA, type ProxyConfig } from '../../../src/proxy-config.js';

function config(name: string, ports: number[]): ProxyConfig {
  return {
    schema: PROXY_CONFIG_SCHEMA,
    gateway: { namespace: 'default', name },
    version: `v-${name}`,
    ports: ports.map((port) => ({ port, listeners: [] })),
  };
}

test('the Gateway that appears first in the manifests keeps a shared port', () => {
  const result = claimPorts([config('a', [443, 8443]), config('b', [443, 9443])], ['default/b', 'default/a'], 10000, '127.0.0.1');
  assert.deepEqual(
    result.configs.map((c) => [c.gateway.name, c.ports.map((p) => p.port)]),
    [
      ['a', [8443]],
      ['b', [443, 9443]],
    ],
  );
  assert.equal(result.conflicts.length, 1);
  assert.equal(result.conflicts[0]!.gateway, 'default/a');
  assert.equal(result.conflicts[0]!.heldBy, 'default/b');
  assert.equal(result.conflicts[0]!.servedPort, 10443);
  assert.match(result.conflicts[0]!.message, /default\/b and default\/a both want port 10443 on 127\.0\.0\.1/);
  // A config served without some ports is not translate's config: its version says so.
  assert.notEqual(result.configs[0]!.version, 'v-a');
  assert.equal(result.configs[1]!.version, 'v-b');
});

test('a port stays with the Gateway serving it when an earlier one starts wanting it', () => {
  const first = claimPorts([config('b', [443])], ['default/b'], 0, '127.0.0.1');
  const second = claimPorts([config('a', [443]), config('b', [443])], ['default/a', 'default/b'], 0, '127.0.0.1', first.owners);
  assert.deepEqual(second.configs.map((c) => c.gateway.name), ['b']);
  assert.equal(second.conflicts[0]!.gateway, 'default/a');
  // Once the holder lets go, the next reload gives the port to the other.
  const third = claimPorts([config('a', [443])], ['default/a', 'default/b'], 0, '127.0.0.1', second.owners);
  assert.deepEqual(third.configs.map((c) => c.gateway.name), ['a']);
  assert.equal(third.conflicts.length, 0);
});

test('ports pushed out of range by the offset are reported, not served', () => {
  const result = claimPorts([config('a', [443, 60000])], ['default/a'], 10000, '127.0.0.1');
  assert.deepEqual(result.configs[0]!.ports.map((p) => p.port), [443]);
  assert.match(result.conflicts[0]!.message, /listener port 60000 \+ port offset 10000 = 70000 is outside 1\.\.65535/);
  assert.equal(result.conflicts[0]!.heldBy, undefined);
});

test('a Gateway left with no port at all is not handed to the proxy', () => {
  const result = claimPorts([config('a', [443]), config('b', [443])], ['default/a', 'default/b'], 0, '127.0.0.1');
  assert.deepEqual(result.configs.map((c) => c.gateway.name), ['a']);
});
