// The dependency rules of docs/architecture.md, checked on the real import graph: the proxy
// never reaches the Kubernetes client or the operator, and src/ reaches neither the proxy
// nor the operator. A rule broken anywhere along a chain of relative imports fails here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../helpers/paths.js';

const IMPORT_RE = /(?:^|[\s;])(?:import|export)\s(?:[^'"`;]*?\sfrom\s)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) out.push(...sourceFiles(full));
    else if (entry.endsWith('.ts') && !entry.endsWith('.d.ts')) out.push(full);
  }
  return out;
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
  const specs: string[] = [];
  for (const m of text.matchAll(IMPORT_RE)) specs.push((m[1] ?? m[2]) as string);
  return specs;
}

function resolveRelative(from: string, spec: string): string | null {
  const target = path.resolve(path.dirname(from), spec.replace(/\.js$/, '.ts'));
  return existsSync(target) ? target : null;
}

/** Every module reachable from `entries`, with the chain that reached each bare import. */
function reach(entries: string[]): { files: Map<string, string[]>; packages: Map<string, string[]> } {
  const files = new Map<string, string[]>();
  const packages = new Map<string, string[]>();
  const queue = entries.map((f) => ({ file: f, chain: [path.relative(projectRoot, f)] }));
  while (queue.length > 0) {
    const { file, chain } = queue.shift()!;
    if (files.has(file)) continue;
    files.set(file, chain);
    for (const spec of importsOf(file)) {
      if (spec.startsWith('.')) {
        const target = resolveRelative(file, spec);
        if (target !== null) queue.push({ file: target, chain: [...chain, path.relative(projectRoot, target)] });
      } else if (!packages.has(spec)) {
        packages.set(spec, chain);
      }
    }
  }
  return { files, packages };
}

const under = (folder: string) => (file: string) => path.relative(projectRoot, file).startsWith(folder + path.sep);

test('the proxy never imports @kubernetes/client-node or operator code', () => {
  const { files, packages } = reach(sourceFiles(path.join(projectRoot, 'proxy')));
  assert.ok(files.size > 10, 'the proxy sources were found');
  const client = packages.get('@kubernetes/client-node');
  assert.equal(client, undefined, `proxy reaches @kubernetes/client-node via ${client?.join(' → ')}`);
  const operatorFile = [...files.keys()].find(under('operator'));
  assert.equal(operatorFile, undefined, `proxy reaches ${operatorFile} via ${files.get(operatorFile ?? '')?.join(' → ')}`);
});

test('src/ imports neither the proxy, the operator, nor the Kubernetes client', () => {
  const { files, packages } = reach(sourceFiles(path.join(projectRoot, 'src')));
  const bad = [...files.keys()].find((f) => under('proxy')(f) || under('operator')(f) || under('cli')(f));
  assert.equal(bad, undefined, `src reaches ${bad} via ${files.get(bad ?? '')?.join(' → ')}`);
  assert.equal(packages.get('@kubernetes/client-node'), undefined);
});

test('the import scanner sees static, re-export and dynamic imports', () => {
  // Guards the guard: if the regex stopped matching, the tests above would pass vacuously.
  const cli = importsOf(path.join(projectRoot, 'cli', 'main.ts'));
  assert.ok(cli.includes('commander'));
  assert.ok(cli.includes('../proxy/cli-proxy.js'), 'dynamic import() is seen');
  const index = importsOf(path.join(projectRoot, 'src', 'index.ts'));
  assert.ok(index.includes('./proxy-config.js'), 'export … from is seen');
});
