// The committed CRDs must be the upstream files, and imports/ must be exactly what
// `cdk8s import` generates from them: nobody edits generated code by hand.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, cpSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fromRoot, upstreamDir } from '../helpers/paths.js';

test('crds/ holds the upstream v1.6.1 standard CRDs byte for byte', () => {
  const vendored = readdirSync(fromRoot('crds')).filter((f) => f.startsWith('gateway.networking.k8s.io_'));
  assert.ok(vendored.length >= 5, `expected the Gateway API CRDs in crds/, found ${vendored.join(', ')}`);
  for (const file of vendored) {
    const ours = readFileSync(fromRoot('crds', file));
    const theirs = readFileSync(path.join(upstreamDir, 'crds', 'standard', file));
    assert.ok(ours.equals(theirs), `crds/${file} differs from upstream`);
  }
});

test('the combined import file is the concatenation of the vendored CRDs', async () => {
  const { combinedCrds } = (await import(fromRoot('scripts', 'combine-crds.mjs'))) as { combinedCrds: () => string };
  assert.equal(readFileSync(fromRoot('crds', 'gateway-api-import.yaml'), 'utf8'), combinedCrds());
});

test('imports/ is what `cdk8s import` generates from crds/', () => {
  const work = mkdtempSync(path.join(os.tmpdir(), 'tlsgate-import-'));
  try {
    cpSync(fromRoot('crds'), path.join(work, 'crds'), { recursive: true });
    writeFileSync(path.join(work, 'cdk8s.yaml'), readFileSync(fromRoot('cdk8s.yaml')));
    execFileSync(fromRoot('node_modules', '.bin', 'cdk8s'), ['import', '--no-check-upgrade', '--output', 'imports'], {
      cwd: work,
      stdio: 'pipe',
    });
    for (const file of readdirSync(fromRoot('imports'))) {
      const committed = readFileSync(fromRoot('imports', file), 'utf8');
      const regenerated = readFileSync(path.join(work, 'imports', file), 'utf8');
      assert.ok(committed === regenerated, `imports/${file} is stale: run \`npm run import\``);
    }
    assert.deepEqual(readdirSync(path.join(work, 'imports')).sort(), readdirSync(fromRoot('imports')).sort());
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
