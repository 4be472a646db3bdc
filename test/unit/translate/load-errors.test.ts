// loadManifests on hostile and empty input (issue 17 defect 7): an alias bomb's error names
// the file and the document, an empty file is reported by name instead of passing silently.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadManifests, ManifestError } from '../../../src/manifests/load.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'tlsgate-load-errors-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, text: string): Promise<string> {
  const p = path.join(dir, name);
  await writeFile(p, text);
  return p;
}

const GATEWAY_CLASS = `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: c}
spec: {controllerName: tlsgate.dev/gateway-controller}
`;

/** "Billion laughs": each level doubles ten times, 10^9 strings if expanded. */
function aliasBomb(): string {
  const lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  const names = 'bcdefghi';
  for (let i = 0; i < names.length; i++) {
    const previous = i === 0 ? 'a' : names[i - 1];
    lines.push(`${names[i]}: &${names[i]} [${Array(9).fill(`*${previous}`).join(',')}]`);
  }
  return lines.join('\n') + '\n';
}

test('an alias bomb is refused with an error naming the file and the document', async () => {
  const p = await file('bomb.yaml', `${GATEWAY_CLASS}---\n${aliasBomb()}`);
  await assert.rejects(loadManifests([p]), (err: unknown) => {
    assert.ok(err instanceof ManifestError, String(err));
    assert.equal(err.file, p);
    assert.equal(err.documentIndex, 1);
    assert.match(err.message, new RegExp(`^${p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}, document 1: cannot be read: .*alias`, 'i'));
    return true;
  });
});

test('an empty file is a warning that names it; a file of only comments or separators too', async () => {
  const empty = await file('empty.yaml', '');
  const blank = await file('blank.yaml', '# nothing here yet\n---\n---\n');
  const real = await file('class.yaml', GATEWAY_CLASS);
  const { snapshot, warnings } = await loadManifests([empty, blank, real]);
  assert.equal(snapshot.gatewayClasses.length, 1);
  assert.deepEqual(warnings, [
    `${empty}: no Kubernetes object in the file (it is empty), nothing loaded from it`,
    `${blank}: no Kubernetes object in the file (it is empty), nothing loaded from it`,
  ]);
});
