/**
 * The process settings a proxy relays with (src/proxy-process-env.ts): which V8 flags a forked
 * worker gets, and when a one-process proxy says it runs without the allocator setting or the
 * V8 flags: only when they cannot reach it any other way.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  missingProcessSettingsNotice,
  missingProxyNodeFlags,
  proxyWorkerExecArgv,
  PROXY_GLIBC_TUNABLES,
  PROXY_NODE_FLAGS,
  type ProcessStart,
} from '../../../src/proxy-process-env.js';

const SCRIPT = ['/usr/bin/node', '/srv/tlsgate/bin/tlsgate.js', 'standalone', '-f', '/etc/my gateway.yaml'];
const start = (env: NodeJS.ProcessEnv, execArgv: string[] = []): ProcessStart => ({ env, execArgv, argv: SCRIPT });
const ALL_SET = start({ GLIBC_TUNABLES: PROXY_GLIBC_TUNABLES }, [...PROXY_NODE_FLAGS]);

test('the proxy gets V8\'s gc for its read-buffer scavenges (docs/performance.md: the mark-compact cycles)', () => {
  assert.deepEqual(PROXY_NODE_FLAGS, ['--initial-old-space-size=64', '--expose-gc']);
});

test('the flag counts as given in either spelling, and so does the operator\'s explicit --no- form', () => {
  assert.deepEqual(missingProxyNodeFlags([]), [...PROXY_NODE_FLAGS]);
  assert.deepEqual(missingProxyNodeFlags(['--initial-old-space-size=128', '--expose-gc']), []);
  assert.deepEqual(missingProxyNodeFlags(['--initial_old_space_size=32', '--expose_gc']), []);
  assert.deepEqual(missingProxyNodeFlags(['--no-expose-gc']), ['--initial-old-space-size=64']);
  assert.deepEqual(missingProxyNodeFlags(['--initial-old-space-size=16']), ['--expose-gc']);
  assert.deepEqual(missingProxyNodeFlags(['--max-old-space-size=512']), [...PROXY_NODE_FLAGS]);
});

test('forked workers get the primary\'s flags and the proxy flags, never the test runner\'s', () => {
  assert.deepEqual(proxyWorkerExecArgv(['--test', '--test-reporter=spec', '--enable-source-maps']), ['--enable-source-maps', ...PROXY_NODE_FLAGS]);
  assert.deepEqual(proxyWorkerExecArgv(['--no-expose-gc', '--initial-old-space-size=16']), ['--no-expose-gc', '--initial-old-space-size=16'], 'the primary\'s own choices win');
  assert.deepEqual(proxyWorkerExecArgv([...PROXY_NODE_FLAGS]), [...PROXY_NODE_FLAGS], 'not twice');
});

test('one process on glibc with neither: the notice names both and gives this command line with them', () => {
  const notice = missingProcessSettingsNotice(start({}), 1, true);
  assert.ok(notice !== undefined);
  assert.match(notice, /without GLIBC_TUNABLES .* and without node --initial-old-space-size=64 --expose-gc /);
  assert.ok(
    notice.includes(`\`GLIBC_TUNABLES=${PROXY_GLIBC_TUNABLES} node --initial-old-space-size=64 --expose-gc /srv/tlsgate/bin/tlsgate.js standalone -f '/etc/my gateway.yaml'\``),
    notice,
  );
  assert.match(notice, /docs\/proxy\.md, "Process settings"/);
});

test('only what is missing is named, and the flags the process has are kept in the command', () => {
  const flagsOnly = missingProcessSettingsNotice(start({ GLIBC_TUNABLES: PROXY_GLIBC_TUNABLES }, ['--enable-source-maps']), 1, true)!;
  assert.doesNotMatch(flagsOnly, /GLIBC_TUNABLES/);
  assert.ok(flagsOnly.includes('`node --enable-source-maps --initial-old-space-size=64 --expose-gc /srv/tlsgate/bin/tlsgate.js '), flagsOnly);
  const allocatorOnly = missingProcessSettingsNotice(start({}, [...PROXY_NODE_FLAGS]), 1, true)!;
  assert.doesNotMatch(allocatorOnly, /without node/);
  assert.ok(allocatorOnly.includes(`\`GLIBC_TUNABLES=${PROXY_GLIBC_TUNABLES} node --initial-old-space-size=64 --expose-gc /srv/`), allocatorOnly);
});

test('no notice when both are set, or values of the operator\'s own', () => {
  assert.equal(missingProcessSettingsNotice(ALL_SET, 1, true), undefined);
  assert.equal(missingProcessSettingsNotice(start({ GLIBC_TUNABLES: 'glibc.malloc.arena_max=2' }, ['--expose_gc', '--initial-old-space-size=256']), 1, true), undefined);
});

test('no notice with forked workers (the primary gives them both); without glibc only the flags are asked for', () => {
  assert.equal(missingProcessSettingsNotice(start({}), 2, true), undefined);
  assert.equal(missingProcessSettingsNotice(start({}, [...PROXY_NODE_FLAGS]), 1, false), undefined);
  assert.doesNotMatch(missingProcessSettingsNotice(start({}), 1, false)!, /GLIBC_TUNABLES/);
});

test('this machine (Debian, glibc) is detected as glibc, so its one-process proxies would ask for the allocator setting', () => {
  assert.match(missingProcessSettingsNotice(start({}, [...PROXY_NODE_FLAGS]), 1) ?? '', /GLIBC_TUNABLES=/);
});
