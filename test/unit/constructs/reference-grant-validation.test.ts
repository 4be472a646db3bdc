// One test per ReferenceGrant CRD rule.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReferenceGrant, type ReferenceGrantProps, validateReferenceGrantSpec } from '../../../src/constructs/index.js';
import { synthError } from './helpers.js';

const from = { group: 'gateway.networking.k8s.io', kind: 'TLSRoute', namespace: 'apps' };
const to = { group: '', kind: 'Service' };

function grantError(props: ReferenceGrantProps): string {
  return synthError((chart) => new ReferenceGrant(chart, 'grant', { metadata: { namespace: 'backends' }, ...props }));
}

const cases: [string, ReferenceGrantProps, string[]][] = [
  ['from needs at least one entry', { from: [], to: [to] }, ['spec.from', 'must have at least 1 from entries, got 0']],
  ['from has at most 16 entries', { from: Array(17).fill(from), to: [to] }, ['spec.from', 'must have at most 16 from entries, got 17']],
  ['to needs at least one entry', { from: [from], to: [] }, ['spec.to', 'must have at least 1 to entries, got 0']],
  ['to has at most 16 entries', { from: [from], to: Array(17).fill(to) }, ['spec.to', 'must have at most 16 to entries, got 17']],
  ['from.group must be empty or a subdomain', { from: [{ ...from, group: 'Gateway_API' }], to: [to] }, ['spec.from[0].group', 'must be empty or an RFC 1123 subdomain']],
  ['from.kind must be a Kind name', { from: [{ ...from, kind: '' }], to: [to] }, ['spec.from[0].kind', 'must have at least 1 character']],
  ['from.namespace must be an RFC 1123 label', { from: [{ ...from, namespace: 'Apps' }], to: [to] }, ['spec.from[0].namespace', 'must be an RFC 1123 label']],
  ['to.kind at most 63 characters', { from: [from], to: [{ ...to, kind: 'K'.repeat(64) }] }, ['spec.to[0].kind', 'must have at most 63 characters']],
  ['to.group must be empty or a subdomain', { from: [from], to: [{ ...to, group: '-bad' }] }, ['spec.to[0].group', 'must be empty or an RFC 1123 subdomain']],
  ['to.name must not be empty', { from: [from], to: [{ ...to, name: '' }] }, ['spec.to[0].name', 'must have at least 1 character']],
];

for (const [rule, props, expected] of cases) {
  test(`ReferenceGrant: ${rule}`, () => {
    const error = grantError(props);
    for (const part of ['[test/grant]', ...expected]) assert.ok(error.includes(part), `expected ${JSON.stringify(part)} in:\n${error}`);
  });
}

test('ReferenceGrant: from and to require group, kind and namespace (validator on a raw spec)', () => {
  const issues = validateReferenceGrantSpec({ from: [{}], to: [{}] } as never);
  assert.deepStrictEqual(issues.map((i) => `${i.field}: ${i.message}`), [
    'spec.from[0].group: Required value',
    'spec.from[0].kind: Required value',
    'spec.from[0].namespace: Required value',
    'spec.to[0].group: Required value',
    'spec.to[0].kind: Required value',
  ]);
});
