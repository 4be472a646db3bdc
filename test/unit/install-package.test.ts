// The npm package as a user gets it: `npm pack`, then the tarball installed into a fresh cdk8s
// app that brings its own (older, compatible) cdk8s, the newest constructs 10.x and the
// cdk8s-plus of another Kubernetes version. The peer dependencies must resolve to the app's
// copies (a second cdk8s makes synth fail with "can't render non-simple object of type
// 'Lazy'"), and the tarball must hold runtime files only.
//
// Needs the npm registry or a warm npm cache (the versions are pinned, so the cache serves
// every run after the first).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { fromRoot, projectRoot } from '../helpers/paths.js';

const execFileAsync = promisify(execFile);

/** What the app pins: differs from this repo's cdk8s 2.70.106 and cdk8s-plus-28. */
const APP_CDK8S = '2.69.74';
const APP_CONSTRUCTS = '10.8.1';
const APP_PLUS_PACKAGE = 'cdk8s-plus-33';
const APP_PLUS_VERSION = '2.5.57';

/** Budget for what `npm pack` ships (unpacked): today 2.6 MB in 275 files. */
const UNPACKED_BUDGET_BYTES = 4 * 1024 * 1024;
const FILE_COUNT_BUDGET = 400;

interface PackResult {
  filename: string;
  size: number;
  unpackedSize: number;
  entryCount: number;
  files: { path: string }[];
}

const APP_SOURCE = `
import { App, Chart } from 'cdk8s';
import * as kplus from '${APP_PLUS_PACKAGE}';
import { Gateway, TlsRoute } from 'tlsgate/constructs';

const app = new App({ outdir: 'out' });
const chart = new Chart(app, 'tls', { disableResourceNameHashes: true });
// A Deployment from the app's own cdk8s-plus beside our constructs: both render in one synth.
new kplus.Deployment(chart, 'backend', { containers: [{ image: 'example/backend:1', portNumber: 8443 }] });
const gateway = new Gateway(chart, 'gw', { metadata: { name: 'gw' }, gatewayClass: 'tlsgate' });
const tls = gateway.addListener({ name: 'tls', port: 443, mode: 'Passthrough' });
new TlsRoute(chart, 'route', {
  metadata: { name: 'route' },
  parents: [tls],
  hostnames: ['foo.example.com'],
  backends: [{ name: 'foo-svc', port: 443 }],
});
app.synth();
`;

describe('npm package: packed and used in another cdk8s app', () => {
  let work = '';
  let pack: PackResult;

  before(() => {
    work = mkdtempSync(path.join(os.tmpdir(), 'tlsgate-pack-'));
    const out = execFileSync('npm', ['pack', '--json', '--pack-destination', work], { cwd: projectRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    pack = (JSON.parse(out) as PackResult[])[0]!;
  });
  after(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('the tarball ships runtime files only, within its size budget', () => {
    const files = pack.files.map((f) => f.path);
    const stray = files.filter((f) => /^(dist\/)?(test|bench|examples|install|scripts|conformance)\//.test(f) || f.endsWith('.map') || f.endsWith('.ts') && !f.endsWith('.d.ts'));
    assert.deepEqual(stray, [], 'tests, benchmarks, sources or source maps in the tarball');
    for (const required of ['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md', 'bin/tlsgate.js', 'dist/cli/main.js', 'dist/src/index.js', 'dist/src/constructs/index.d.ts', 'dist/operator/cli.js', 'dist/proxy/cli-proxy.js', 'crds/tlsgate.dev_gatewayparameters.yaml']) {
      assert.ok(files.includes(required), `${required} missing from the tarball`);
    }
    assert.ok(pack.unpackedSize <= UNPACKED_BUDGET_BYTES, `unpacked ${pack.unpackedSize} bytes > budget ${UNPACKED_BUDGET_BYTES}`);
    assert.ok(pack.entryCount <= FILE_COUNT_BUDGET, `${pack.entryCount} files > budget ${FILE_COUNT_BUDGET}`);
  });

  test('cdk8s, cdk8s-plus-28 and constructs are peers, never bundled', () => {
    const manifest = JSON.parse(readFileSync(fromRoot('package.json'), 'utf8')) as Record<string, Record<string, string> | undefined>;
    for (const name of ['cdk8s', 'cdk8s-plus-28', 'constructs']) {
      assert.ok(manifest.peerDependencies?.[name], `${name} is not a peerDependency`);
      assert.equal(manifest.dependencies?.[name], undefined, `${name} is a hard dependency`);
    }
  });

  test(`synthesizes a Gateway and a TLSRoute in an app on cdk8s ${APP_CDK8S} with ${APP_PLUS_PACKAGE}`, { timeout: 600_000 }, async () => {
    const app = path.join(work, 'app');
    execFileSync('mkdir', ['-p', app]);
    writeFileSync(
      path.join(app, 'package.json'),
      JSON.stringify({
        name: 'adopter-app',
        private: true,
        type: 'module',
        dependencies: {
          cdk8s: APP_CDK8S,
          constructs: APP_CONSTRUCTS,
          [APP_PLUS_PACKAGE]: APP_PLUS_VERSION,
          tlsgate: `file:${path.join(work, pack.filename)}`,
        },
      }),
    );
    writeFileSync(path.join(app, 'main.mjs'), APP_SOURCE);
    try {
      await execFileAsync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts'], { cwd: app, timeout: 540_000, maxBuffer: 16 * 1024 * 1024 });
    } catch (error) {
      const e = error as Error & { stderr?: string };
      assert.fail(`npm install of the tarball failed: ${e.stderr?.trim() || e.message}`);
    }
    // One cdk8s and one constructs in the tree: the app's.
    assert.equal(existsSync(path.join(app, 'node_modules', 'tlsgate', 'node_modules', 'cdk8s')), false, 'tlsgate got its own cdk8s');
    assert.equal(existsSync(path.join(app, 'node_modules', 'tlsgate', 'node_modules', 'constructs')), false, 'tlsgate got its own constructs');
    const installedCdk8s = JSON.parse(readFileSync(path.join(app, 'node_modules', 'cdk8s', 'package.json'), 'utf8')) as { version: string };
    assert.equal(installedCdk8s.version, APP_CDK8S);

    let stderr = '';
    try {
      ({ stderr } = await execFileAsync(process.execPath, ['main.mjs'], { cwd: app, timeout: 120_000 }));
    } catch (error) {
      const e = error as Error & { stderr?: string };
      assert.fail(`synth failed: ${e.stderr?.trim() || e.message}`);
    }
    assert.doesNotMatch(stderr, /Lazy/);
    const objects = parseAllDocuments(readFileSync(path.join(app, 'out', 'tls.k8s.yaml'), 'utf8')).map((d) => d.toJS() as Record<string, any>);
    const kinds = objects.map((o) => `${o.apiVersion}/${o.kind}`).sort();
    assert.deepEqual(kinds, ['apps/v1/Deployment', 'gateway.networking.k8s.io/v1/Gateway', 'gateway.networking.k8s.io/v1/TLSRoute']);
    const gateway = objects.find((o) => o.kind === 'Gateway')!;
    assert.deepEqual(gateway.spec, { gatewayClassName: 'tlsgate', listeners: [{ name: 'tls', port: 443, protocol: 'TLS', tls: { mode: 'Passthrough' } }] });
    const route = objects.find((o) => o.kind === 'TLSRoute')!;
    assert.deepEqual(route.spec.hostnames, ['foo.example.com']);
    assert.deepEqual(route.spec.parentRefs, [{ name: 'gw', sectionName: 'tls' }]);
    assert.deepEqual(route.spec.rules, [{ backendRefs: [{ name: 'foo-svc', port: 443 }] }]);

    // The bin of the installed package answers --version with the package's version.
    const { stdout } = await execFileAsync(path.join(app, 'node_modules', '.bin', 'tlsgate'), ['--version'], { cwd: app, timeout: 60_000 });
    const ours = JSON.parse(readFileSync(fromRoot('package.json'), 'utf8')) as { version: string };
    assert.equal(stdout.trim(), ours.version);
  });
});
