import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { clientSecretData } from '../../../operator/credentials.js';
import { beginRotation, createAuthorityState } from '../../../operator/ca.js';

const gateway = { namespace: 'team-a', name: 'edge' };
const now = new Date('2026-11-27T06:00:00Z');
const pem = (data: Record<string, string>, key: string) => Buffer.from(data[key]!, 'base64').toString('utf8');

test('a missing Secret gets a fresh client certificate naming the Gateway, with the trust bundle', () => {
  const state = createAuthorityState(now);
  const { data, reissued } = clientSecretData(undefined, gateway, state, now);
  assert.equal(reissued, 'missing');
  const leaf = new X509Certificate(pem(data, 'tls.crt'));
  assert.match(leaf.subjectAltName ?? '', /URI:tlsgate:\/\/gateway\/team-a\/edge/);
  assert.match(pem(data, 'tls.key'), /PRIVATE KEY/);
  assert.equal(pem(data, 'ca.crt'), state.authorities[0]!.certificatePem);
});

test('a good Secret is reused as it is (no churn on every reconcile)', () => {
  const state = createAuthorityState(now);
  const first = clientSecretData(undefined, gateway, state, now);
  const again = clientSecretData({ data: first.data }, gateway, state, new Date(now.getTime() + 60_000));
  assert.equal(again.reissued, undefined);
  assert.deepEqual(again.data, first.data);
});

test("re-issued when due, when it names another Gateway, or when the trust bundle changed", () => {
  const state = createAuthorityState(now);
  const first = clientSecretData(undefined, gateway, state, now);
  assert.equal(clientSecretData({ data: first.data }, gateway, state, new Date(now.getTime() + 23 * 3600_000)).reissued, 'expiring');
  assert.equal(clientSecretData({ data: first.data }, { namespace: 'team-b', name: 'edge' }, state, now).reissued, 'names another gateway');
  const rotated = beginRotation(state, now);
  const afterRotation = clientSecretData({ data: first.data }, gateway, rotated, now);
  assert.equal(afterRotation.reissued, 'trust bundle changed');
  assert.equal(pem(afterRotation.data, 'ca.crt').match(/BEGIN CERTIFICATE/g)?.length, 2, 'both CAs trusted during the overlap');
  assert.equal(clientSecretData({ data: { ...first.data, 'tls.crt': Buffer.from('garbage').toString('base64') } }, gateway, state, now).reissued, 'unreadable certificate');
});
