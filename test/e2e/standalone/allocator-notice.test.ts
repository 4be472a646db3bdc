/**
 * The built CLI's notice about the allocator setting (docs/proxy.md, "Memory allocator
 * setting"): a one-process standalone proxy started without GLIBC_TUNABLES says so once at
 * start; with it, or with forked workers (which the primary gives it to), it says nothing.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { PROXY_GLIBC_TUNABLES } from '../../../src/proxy-process-env.js';
import { makeTempDir, startCli, writeFile } from './support.js';

const NOTICE = /^tlsgate standalone: notice: GLIBC_TUNABLES is not set.*GLIBC_TUNABLES=glibc\.malloc\.trim_threshold=33554432/m;

/** A GatewayClass only: with --watch, enough for standalone to start, report ready and wait. */
function manifest(t: TestContext): string {
  const yaml = ['apiVersion: gateway.networking.k8s.io/v1', 'kind: GatewayClass', 'metadata:', '  name: notice-class', 'spec:', '  controllerName: tlsgate.dev/gateway-controller', ''].join('\n');
  return writeFile(makeTempDir(t), 'class.yaml', yaml);
}

async function startedOutput(t: TestContext, workers: number, env: NodeJS.ProcessEnv): Promise<string> {
  const cli = startCli(t, ['standalone', '-f', manifest(t), '--workers', String(workers), '--watch'], env);
  await cli.waitFor(/^ready: serving 0 Gateway\(s\)/m);
  return cli.stderr;
}

test('one process without GLIBC_TUNABLES: the notice names the setting', async (t) => {
  const stderr = await startedOutput(t, 1, { GLIBC_TUNABLES: undefined });
  assert.match(stderr, NOTICE);
  assert.equal(stderr.match(/notice: GLIBC_TUNABLES/g)?.length, 1, 'said once');
});

test('one process with the setting, or with a value of the operator\'s own: no notice', async (t) => {
  assert.doesNotMatch(await startedOutput(t, 1, { GLIBC_TUNABLES: PROXY_GLIBC_TUNABLES }), /GLIBC_TUNABLES/);
  assert.doesNotMatch(await startedOutput(t, 1, { GLIBC_TUNABLES: 'glibc.malloc.arena_max=2' }), /GLIBC_TUNABLES/);
});

test('forked workers without it in the environment: no notice (the primary passes the setting on)', async (t) => {
  assert.doesNotMatch(await startedOutput(t, 2, { GLIBC_TUNABLES: undefined }), /GLIBC_TUNABLES/);
});
