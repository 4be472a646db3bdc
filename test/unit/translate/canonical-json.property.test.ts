// canonicalJson takes a fast path (native JSON.stringify with a sorted key allowlist);
// this checks it against the obvious recursive definition on arbitrary JSON values.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { canonicalJson } from '../../../src/gatewayapi/canonical-json.js';

function reference(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return '[' + value.map(reference).join(',') + ']';
  const obj = value as Record<string, unknown>;
  return '{' + Object.keys(obj).sort().filter((k) => obj[k] !== undefined).map((k) => JSON.stringify(k) + ':' + reference(obj[k])).join(',') + '}';
}

test('canonicalJson equals the recursive sorted-keys serialization', () => {
  fc.assert(fc.property(fc.jsonValue(), (value) => assert.equal(canonicalJson(value), reference(value))));
});

test('canonicalJson is independent of key insertion order and handles shared subtrees', () => {
  const shared = { b: 1, a: [1, 2] };
  const x = { z: shared, y: { d: shared, c: null }, u: undefined };
  const y = { y: { c: null, d: { a: [1, 2], b: 1 } }, z: { a: [1, 2], b: 1 } };
  assert.equal(canonicalJson(x), canonicalJson(y));
  assert.equal(canonicalJson(x), '{"y":{"c":null,"d":{"a":[1,2],"b":1}},"z":{"a":[1,2],"b":1}}');
});

test('an own "__proto__" key is serialized as a key, and no other object gains one', () => {
  // Found by the property above (fast-check seed -1250445117): the allowlist path printed
  // Object.prototype as {"__proto__":null} inside the empty object.
  const value = JSON.parse('[[[{}],{"__proto__":null,"":null}]]') as unknown;
  assert.equal(canonicalJson(value), '[[[{}],{"":null,"__proto__":null}]]');
  assert.equal(canonicalJson(value), reference(value));
});
