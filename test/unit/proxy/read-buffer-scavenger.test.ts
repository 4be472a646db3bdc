/**
 * The relay's read-buffer scavenger (proxy/read-buffer-scavenger.ts), in a Node process of its
 * own so that --expose-gc is on or off as in a proxy: with it, every SCAVENGE_EVERY_BYTES counted
 * runs a young-generation collection that V8 itself reports (perf_hooks 'gc' entries of kind
 * minor); without it, counting does nothing and throws nothing.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';

const MODULE = new URL('../../../proxy/read-buffer-scavenger.js', import.meta.url).href;

const CHILD = `
import { PerformanceObserver, constants } from 'node:perf_hooks';
const { countRelayedBytes, scavengerState, SCAVENGE_EVERY_BYTES } = await import(process.argv[1]);
let minor = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) if (entry.detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR) minor++;
}).observe({ entryTypes: ['gc'] });
const settle = () => new Promise((resolve) => setTimeout(resolve, 50));
await settle();
const before = minor;
countRelayedBytes(SCAVENGE_EVERY_BYTES - 1);
const belowThreshold = scavengerState().scavenges;
countRelayedBytes(1);
const atThreshold = scavengerState().scavenges;
for (let i = 0; i < 3; i++) countRelayedBytes(SCAVENGE_EVERY_BYTES);
await settle();
console.log(JSON.stringify({ belowThreshold, atThreshold, observedMinor: minor - before, state: scavengerState() }));
`;

function runChild(nodeArgs: string[]): { belowThreshold: number; atThreshold: number; observedMinor: number; state: { enabled: boolean; scavenges: number } } {
  const out = execFileSync(process.execPath, [...nodeArgs, '--input-type=module', '-e', CHILD, MODULE], { encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').pop()!);
}

test('with --expose-gc: one young-generation collection per SCAVENGE_EVERY_BYTES relayed, as V8 reports them', () => {
  const result = runChild(['--expose-gc']);
  assert.equal(result.state.enabled, true);
  assert.equal(result.belowThreshold, 0, 'none before the threshold');
  assert.equal(result.atThreshold, 1, 'one at the threshold');
  assert.equal(result.state.scavenges, 4);
  assert.ok(result.observedMinor >= 4, `V8 reported ${result.observedMinor} minor collections, expected at least the 4 requested`);
});

test('without --expose-gc: counting does nothing and throws nothing', () => {
  const result = runChild([]);
  assert.deepEqual(result.state, { enabled: false, scavenges: 0 });
  assert.equal(result.atThreshold, 0);
});
