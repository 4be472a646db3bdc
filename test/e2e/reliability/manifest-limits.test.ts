// Issue 17, defect 8: one huge manifest file could cost the process gigabytes (a 100 MB file of
// an ignored kind took 3.5 GB to parse). Standalone refuses a file over the limit before reading
// it, naming the file, at start and on a --watch reload (which keeps the last good config);
// `tlsgate translate` reads files with the same loader and the same limit.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { environmentYaml, freePort, gatewayYaml, routeYaml, setUpExample, startCli, tlsExchange } from '../standalone/support.js';
import { fromRoot } from '../../helpers/paths.js';

/** A ConfigMap (a kind tlsgate ignores) of about `bytes` bytes: valid YAML, cheap to write. */
function bigConfigMap(bytes: number): string {
  const line = `  k${'x'.repeat(90)}: ${'y'.repeat(100)}\n`;
  return `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: big}\ndata:\n` + Array.from({ length: Math.ceil(bytes / line.length) }, (_, i) => line.replace('k', `k${i}`)).join('');
}

test('a manifest file over the default limit (16 MiB) is refused at start, naming the file and the limit', async (t) => {
  const { dir } = await setUpExample(t);
  const file = path.join(dir, 'huge.yaml');
  writeFileSync(file, bigConfigMap(17 * 1024 * 1024));
  const cli = startCli(t, ['standalone', '-f', dir, '--workers', '1']);
  const { code } = await cli.exited;
  assert.notEqual(code, 0);
  assert.match(cli.stderr, new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: \\d+ bytes is over the manifest file limit of 16777216 bytes \\(--max-file-mib 16\\)`));
});

test('--watch: a file that grows over --max-file-mib is refused on reload and the last good config keeps serving', async (t) => {
  const { dir, pki, foo, bar } = await setUpExample(t);
  const passthroughPort = await freePort();
  const terminatePort = await freePort();
  writeFileSync(path.join(dir, 'gateway.yaml'), gatewayYaml({ name: 'example-gateway', passthroughPort, terminatePort }));
  writeFileSync(path.join(dir, 'environment.yaml'), environmentYaml(pki, foo, bar));
  writeFileSync(path.join(dir, 'routes.yaml'), routeYaml('bar-route', 'example-gateway', 'tls-terminate', ['bar.example.com'], 'bar-svc', 8080));
  const cli = startCli(t, ['standalone', '-f', dir, '--watch', '--workers', '1', '--max-file-mib', '1']);
  await cli.waitForReadyCount(1);

  const extra = path.join(dir, 'extra.yaml');
  writeFileSync(extra, bigConfigMap(2 * 1024 * 1024));
  await cli.waitFor(/reload failed, still serving the last good config: .*extra\.yaml: \d+ bytes is over the manifest file limit of 1048576 bytes/);
  const served = await tlsExchange(terminatePort, 'bar.example.com', pki.ca.certificatePem);
  assert.match(served.greeting, /^bar-svc: plain TCP echo/);
  assert.equal(cli.readyCount(), 1, 'nothing was applied from the refused set of files');
});

test('tlsgate translate refuses a file over --max-file-mib before reading any file, naming it, and exits non-zero', async (t) => {
  const { dir } = await setUpExample(t);
  const file = path.join(dir, 'big.yaml');
  writeFileSync(file, bigConfigMap(2 * 1024 * 1024));
  writeFileSync(path.join(dir, 'gateway.yaml'), 'apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: small, namespace: default}\nspec:\n  gatewayClassName: tlsgate\n  listeners: [{name: tls, port: 443, protocol: TLS, tls: {mode: Passthrough}}]\n');
  const translate = (mib: string) => spawnSync(process.execPath, [fromRoot('bin', 'tlsgate.js'), 'translate', '-f', dir, '--max-file-mib', mib], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const refused = translate('1');
  assert.notEqual(refused.status, 0);
  assert.match(refused.stderr, new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: \\d+ bytes is over the manifest file limit of 1048576 bytes \\(--max-file-mib 1\\); nothing was loaded`));
  assert.equal(refused.stdout, '', 'nothing is printed from the other files');
  const accepted = translate('3');
  assert.equal(accepted.status, 0, accepted.stderr);
  assert.match(accepted.stdout, /kind: Gateway/);
});
