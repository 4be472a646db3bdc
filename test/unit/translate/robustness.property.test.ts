// Translate must not crash on objects that slipped past CEL or the loader (the operator
// hands it raw objects from the API): delete or scramble random fields of the golden
// scenarios' objects and check that translate still returns a deterministic result, and
// proxy configs the proxy accepts (it refuses a whole config for one bad field, so whatever
// slipped past CEL must be caught by translate, not reach a proxy).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { translate, type Snapshot } from '../../../src/gatewayapi/translate.js';
import { listScenarios, runScenario } from '../../golden/golden.js';
import { validateProxyConfigs } from '../../../proxy/validate.js';

const snapshots = new Map<string, Snapshot>(listScenarios().map((name) => [name, runScenario(name).snapshot]));
const names = [...snapshots.keys()];
const now = new Date('2027-01-01T00:00:00Z');

/** Every path to a value inside the snapshot's objects (not the top-level lists themselves). */
function paths(value: unknown, prefix: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  if (value === null || typeof value !== 'object') return out;
  const entries = Array.isArray(value) ? value.map((v, i) => [i, v] as const) : Object.entries(value);
  for (const [k, v] of entries) {
    const p = [...prefix, k];
    if (p.length > 2) out.push(p);
    paths(v, p, out);
  }
  return out;
}

const junk = fc.constantFrom<unknown>(undefined, null, '', 0, -1, 'x', [], {}, [{}], 'kubernetes.io/tls');

test('translate survives missing and malformed fields anywhere', () => {
  fc.assert(
    fc.property(fc.constantFrom(...names), fc.array(fc.tuple(fc.nat(), junk), { minLength: 1, maxLength: 6 }), (name, edits) => {
      const snapshot = structuredClone(snapshots.get(name)!);
      const all = paths(snapshot);
      for (const [pick, replacement] of edits) {
        const p = all[pick % all.length]!;
        let parent: any = snapshot;
        for (const k of p.slice(0, -1)) parent = parent?.[k];
        if (parent !== null && typeof parent === 'object') parent[p[p.length - 1]!] = structuredClone(replacement);
      }
      const a = translate({ snapshot, now });
      const b = translate({ snapshot: structuredClone(snapshot), now });
      assert.equal(JSON.stringify(a), JSON.stringify(b));
      for (const config of a.proxyConfigs) validateProxyConfigs([config]);
    }),
    { numRuns: 300 },
  );
});

test('every golden proxy config is one the proxy accepts', () => {
  for (const name of names) {
    for (const config of runScenario(name).output.proxyConfigs) assert.doesNotThrow(() => validateProxyConfigs([config]), `${name} ${config.gateway.name}`);
  }
});
