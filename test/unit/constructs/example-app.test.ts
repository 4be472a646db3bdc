// The example app's entry point (what `npx cdk8s synth` runs, see cdk8s.yaml) writes one
// manifest per chart into CDK8S_OUTDIR, with the same objects the golden tests check.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { fromRoot } from '../../helpers/paths.js';

test('the example app synthesizes every chart into CDK8S_OUTDIR', () => {
  const outdir = mkdtempSync(path.join(os.tmpdir(), 'tlsgate-synth-'));
  try {
    execFileSync(process.execPath, [fromRoot('dist', 'examples', 'app', 'main.js')], { env: { ...process.env, CDK8S_OUTDIR: outdir }, stdio: 'pipe' });
    assert.deepStrictEqual(readdirSync(outdir).sort(), ['http-routing.k8s.yaml', 'shared-gateway.k8s.yaml', 'simple-http-https.k8s.yaml', 'tls-routing.k8s.yaml']);
    const kinds = (file: string): string[] =>
      parseAllDocuments(readFileSync(path.join(outdir, file), 'utf8')).map((d) => (d.toJS() as { kind: string }).kind).sort();
    assert.deepStrictEqual(kinds('tls-routing.k8s.yaml'), ['Gateway', 'TLSRoute', 'TLSRoute']);
    assert.deepStrictEqual(kinds('http-routing.k8s.yaml'), ['Gateway', 'HTTPRoute', 'HTTPRoute', 'HTTPRoute']);
    assert.deepStrictEqual(kinds('simple-http-https.k8s.yaml'), ['Gateway', 'HTTPRoute', 'HTTPRoute', 'HTTPRoute']);
    assert.deepStrictEqual(kinds('shared-gateway.k8s.yaml'), ['Gateway', 'GatewayClass', 'Namespace', 'Namespace', 'ReferenceGrant', 'Service', 'Service', 'Service', 'TLSRoute', 'TLSRoute']);
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
});
