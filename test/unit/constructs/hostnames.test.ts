// Hostname intersection (gateway-api-tls-spec.md 3.3): the table, plus properties.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { hostnameIntersection } from '../../../src/constructs/index.js';

const table: [string | undefined, string, string | undefined][] = [
  ['www.example.com', 'www.example.com', 'www.example.com'],
  ['*.example.com', 'www.example.com', 'www.example.com'],
  ['*.example.com', 'sub.domain.example.com', 'sub.domain.example.com'],
  ['www.example.com', '*.example.com', 'www.example.com'],
  ['sub.domain.example.com', '*.example.com', 'sub.domain.example.com'],
  ['*.example.com', '*.example.com', '*.example.com'],
  ['*.com', '*.example.com', '*.example.com'],
  ['*.example.com', '*.com', '*.example.com'],
  [undefined, 'www.example.com', 'www.example.com'],
  ['*.example.com', 'example.com', undefined],
  ['*.example.com', 'test.example.net', undefined],
  ['www.example.com', 'api.example.com', undefined],
  ['*.example.com', '*.example.net', undefined],
  ['*.ample.com', '*.example.com', undefined],
  ['*.ample.com', 'www.example.com', undefined],
  ['WWW.Example.com', 'www.example.com', 'www.example.com'],
];

for (const [listener, route, expected] of table) {
  test(`listener ${listener ?? '(none)'} ∩ route ${route} = ${expected ?? 'nothing'}`, () => {
    assert.equal(hostnameIntersection(listener, route), expected);
  });
}

const label = fc.stringMatching(/^[a-z0-9]{1,5}$/);
const name = fc.array(label, { minLength: 1, maxLength: 4 }).map((l) => l.join('.'));
const pattern = fc.oneof(name, name.map((n) => `*.${n}`));

test('intersection is symmetric and, when found, matches both sides', () => {
  fc.assert(fc.property(pattern, pattern, (a, b) => {
    const ab = hostnameIntersection(a, b);
    assert.equal(ab, hostnameIntersection(b, a));
    if (ab !== undefined) {
      assert.equal(hostnameIntersection(a, ab), ab);
      assert.equal(hostnameIntersection(b, ab), ab);
    }
  }));
});
