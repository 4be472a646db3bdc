// src/gatewayapi has no import cycles (type-only imports included): translate's steps import
// the shared shapes (model.ts) and the helpers they use, never each other in a circle, so that
// each step can be read, tested and changed on its own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fromRoot } from '../../helpers/paths.js';

const DIR = fromRoot('src', 'gatewayapi');
const IMPORT = /(?:^|[\s;])(?:import|export)\s(?:[^'"`;]*?\sfrom\s)?['"](\.\/[^'"]+)['"]/g;

function graph(): Map<string, string[]> {
  const edges = new Map<string, string[]>();
  for (const file of readdirSync(DIR).filter((f) => f.endsWith('.ts'))) {
    const text = readFileSync(path.join(DIR, file), 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
    edges.set(file, [...text.matchAll(IMPORT)].map((m) => m[1]!.slice(2).replace(/\.js$/, '.ts')));
  }
  return edges;
}

/** One cycle as a path `a → b → a`, or undefined. */
function findCycle(edges: Map<string, string[]>): string[] | undefined {
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string): string[] | undefined => {
    if (state.get(node) === 'done') return undefined;
    if (state.get(node) === 'visiting') return [...stack.slice(stack.indexOf(node)), node];
    state.set(node, 'visiting');
    stack.push(node);
    for (const next of edges.get(node) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(node, 'done');
    return undefined;
  };
  for (const node of edges.keys()) {
    const cycle = visit(node);
    if (cycle) return cycle;
  }
  return undefined;
}

test('src/gatewayapi has no import cycles', () => {
  const edges = graph();
  assert.ok(edges.size > 20 && (edges.get('translate.ts') ?? []).includes('model.ts'), 'the scanner sees the modules and their imports');
  const cycle = findCycle(edges);
  assert.equal(cycle, undefined, `import cycle: ${cycle?.join(' → ')}`);
});

test('the cycle finder finds a cycle', () => {
  // Guards the guard: a finder that never reports would make the test above pass vacuously.
  const edges = new Map([
    ['a.ts', ['b.ts']],
    ['b.ts', ['c.ts']],
    ['c.ts', ['a.ts']],
  ]);
  assert.deepEqual(findCycle(edges), ['a.ts', 'b.ts', 'c.ts', 'a.ts']);
});
