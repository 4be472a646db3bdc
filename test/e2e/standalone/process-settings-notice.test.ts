/**
 * The built CLI's notice about the process settings (docs/proxy.md, "Process settings"): a
 * one-process standalone proxy started without GLIBC_TUNABLES or without the V8 flags says so
 * once at start, naming what is missing; with both, or with forked workers (which the primary
 * gives both to), it says nothing.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { PROXY_GLIBC_TUNABLES, PROXY_NODE_FLAGS } from '../../../src/proxy-process-env.js';
import { makeTempDir, startCli, writeFile } from './support.js';

const NOTICE = /^tlsgate standalone: notice: this one-process proxy runs without /m;

/** A GatewayClass only: with --watch, enough for standalone to start, report ready and wait. */
function manifest(t: TestContext): string {
  const yaml = ['apiVersion: gateway.networking.k8s.io/v1', 'kind: GatewayClass', 'metadata:', '  name: notice-class', 'spec:', '  controllerName: tlsgate.dev/gateway-controller', ''].join('\n');
  return writeFile(makeTempDir(t), 'class.yaml', yaml);
}

async function startedOutput(t: TestContext, workers: number, env: NodeJS.ProcessEnv, nodeArgs: readonly string[] = []): Promise<string> {
  const cli = startCli(t, ['standalone', '-f', manifest(t), '--workers', String(workers), '--watch'], env, nodeArgs);
  await cli.waitFor(/^ready: serving 0 Gateway\(s\)/m);
  return cli.stderr;
}

test('one process with neither: one notice names both and the command line that has them', async (t) => {
  const stderr = await startedOutput(t, 1, { GLIBC_TUNABLES: undefined });
  assert.match(stderr, NOTICE);
  assert.equal(stderr.match(/notice:/g)?.length, 1, 'said once');
  assert.match(stderr, new RegExp(`\`GLIBC_TUNABLES=${PROXY_GLIBC_TUNABLES.replace(/\./g, '\\.')} node --initial-old-space-size=64 --expose-gc \\S*bin/tlsgate\\.js standalone -f `));
});

test('one process with the allocator setting but not the V8 flags: the notice asks only for the flags', async (t) => {
  const stderr = await startedOutput(t, 1, { GLIBC_TUNABLES: PROXY_GLIBC_TUNABLES });
  assert.match(stderr, NOTICE);
  assert.doesNotMatch(stderr, /GLIBC_TUNABLES/);
  assert.match(stderr, /`node --initial-old-space-size=64 --expose-gc \S*bin\/tlsgate\.js standalone /);
});

test('one process with both, or with values of the operator\'s own: no notice', async (t) => {
  assert.doesNotMatch(await startedOutput(t, 1, { GLIBC_TUNABLES: PROXY_GLIBC_TUNABLES }, PROXY_NODE_FLAGS), /notice:/);
  assert.doesNotMatch(await startedOutput(t, 1, { GLIBC_TUNABLES: 'glibc.malloc.arena_max=2' }, ['--expose_gc', '--initial-old-space-size=128']), /notice:/);
});

test('forked workers with neither in the primary: no notice (the primary passes both on)', async (t) => {
  assert.doesNotMatch(await startedOutput(t, 2, { GLIBC_TUNABLES: undefined }), /notice:/);
});
