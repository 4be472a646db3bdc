// Property tests (fast-check) for hostname intersection and precedence (spec 3.3, 3.4).
// Concrete names and patterns come from a tiny label alphabet so that overlaps, suffix
// relations and ties are frequent rather than astronomically rare.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  compareHostnamePrecedence,
  intersectHostnames,
  isWildcard,
  matchesHostname,
  specificity,
} from '../../../src/gatewayapi/hostnames.js';

const label = fc.constantFrom('a', 'b', 'example', 'com', 'x');
const name = fc.array(label, { minLength: 1, maxLength: 5 }).map((ls) => ls.join('.'));
const pattern = fc.tuple(fc.boolean(), name).map(([wild, n]) => (wild ? `*.${n}` : n));
const listenerPattern = fc.option(pattern, { nil: null });

test('intersection is symmetric for two hostnames', () => {
  fc.assert(fc.property(pattern, pattern, (a, b) => intersectHostnames(a, b) === intersectHostnames(b, a)));
});

test('a listener without hostname keeps the route hostname', () => {
  fc.assert(fc.property(pattern, (r) => intersectHostnames(null, r) === r));
});

test('intersection is sound: what it matches, both sides match', () => {
  fc.assert(
    fc.property(listenerPattern, pattern, name, (l, r, sni) => {
      const h = intersectHostnames(l, r);
      if (h !== null && matchesHostname(h, sni)) {
        assert.ok(matchesHostname(l, sni), `listener ${l} must match ${sni} (intersection ${h})`);
        assert.ok(matchesHostname(r, sni), `route ${r} must match ${sni} (intersection ${h})`);
      }
    }),
  );
});

test('intersection is complete: a name both sides match is matched by the intersection', () => {
  fc.assert(
    fc.property(listenerPattern, pattern, name, (l, r, sni) => {
      if (matchesHostname(l, sni) && matchesHostname(r, sni)) {
        const h = intersectHostnames(l, r);
        assert.ok(h !== null, `${l} and ${r} both match ${sni} but do not intersect`);
        assert.ok(matchesHostname(h, sni), `intersection ${h} of ${l} and ${r} must match ${sni}`);
      }
    }),
  );
});

test('intersection is the more specific side (never a new pattern)', () => {
  fc.assert(
    fc.property(listenerPattern, pattern, (l, r) => {
      const h = intersectHostnames(l, r);
      if (h !== null) assert.ok(h === l || h === r);
    }),
  );
});

test('a wildcard spans one or more labels, never zero', () => {
  fc.assert(
    fc.property(name, fc.array(label, { minLength: 1, maxLength: 3 }), (suffix, prefix) => {
      assert.ok(matchesHostname(`*.${suffix}`, `${prefix.join('.')}.${suffix}`));
      assert.ok(!matchesHostname(`*.${suffix}`, suffix));
    }),
  );
});

test('precedence is a total order consistent with specificity', () => {
  fc.assert(
    fc.property(listenerPattern, listenerPattern, listenerPattern, (a, b, c) => {
      const ab = compareHostnamePrecedence(a, b);
      assert.equal(Math.sign(ab), -Math.sign(compareHostnamePrecedence(b, a)) || 0);
      assert.equal(ab === 0, a === b);
      if (ab < 0 && compareHostnamePrecedence(b, c) < 0) assert.ok(compareHostnamePrecedence(a, c) < 0, 'transitive');
      if (specificity(a) > specificity(b)) assert.ok(ab < 0, `${a} is more specific than ${b}`);
    }),
  );
});

test('among patterns matching one SNI, the first by precedence is covered by every other', () => {
  fc.assert(
    fc.property(fc.uniqueArray(listenerPattern, { minLength: 2, maxLength: 6 }), name, (patterns, sni) => {
      const matching = patterns.filter((p) => matchesHostname(p, sni)).sort(compareHostnamePrecedence);
      if (matching.length < 2) return;
      const [best, ...rest] = matching;
      for (const other of rest) {
        // The winner is the more specific one: intersecting it with any other gives itself.
        if (best !== null) assert.equal(intersectHostnames(other, best), best, `${best} before ${other} for ${sni}`);
        assert.ok(specificity(best ?? null) > specificity(other), `${best} more specific than ${other}`);
      }
    }),
  );
});

test('exact names always beat wildcards, and wildcards beat no hostname', () => {
  fc.assert(
    fc.property(pattern, pattern, (a, b) => {
      if (!isWildcard(a) && isWildcard(b)) assert.ok(compareHostnamePrecedence(a, b) < 0);
      assert.ok(compareHostnamePrecedence(a, null) < 0);
    }),
  );
});
