// The operator's session-ticket keys: a pure derivation from one master secret, so every
// operator replica computes the same ring for a Gateway, a different one for every other
// Gateway and every period, and the config carrying it gets a version of its own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  deriveTicketKey,
  masterFromSecretData,
  msUntilNextPeriod,
  ticketKeyPeriod,
  translatedVersionOf,
  ticketKeyRing,
  withTicketKeys,
  MASTER_BYTES,
} from '../../../operator/ticket-keys.js';
import { PROXY_CONFIG_SCHEMA, REDACTED, redactProxyConfig, SESSION_TICKET_KEY_BYTES, type ProxyConfig } from '../../../src/proxy-config.js';
import { validateProxyConfigs } from '../../../proxy/validate.js';
import { TICKET_KEY_BYTES } from '../../../proxy/certificates.js';

const HOUR = 3_600_000;
const master = Buffer.from('8f1d0c7e5a3b29466e0f7d1c2b3a49586776859483a2b1c0d9e8f70615243342', 'hex');
const uidA = '3d8f6f2e-6a7e-4a4e-9f0c-1f2e3d4c5b6a';
const uidB = '9b1c2d3e-4f50-4617-8283-949596979899';
const t = Date.UTC(2026, 10, 27, 12, 30, 0);

const TRANSLATED = 'a1'.repeat(32); // a sha256 in hex, as translate makes versions
const config = (): ProxyConfig => ({
  schema: PROXY_CONFIG_SCHEMA,
  gateway: { namespace: 'team-a', name: 'edge' },
  version: TRANSLATED,
  ports: [{ port: 443, listeners: [] }],
});

test('a key is 48 bytes: the size of one key in Node\'s ticketKeys, as the proxy takes it', () => {
  assert.equal(SESSION_TICKET_KEY_BYTES, 48);
  assert.equal(TICKET_KEY_BYTES, SESSION_TICKET_KEY_BYTES);
  assert.equal(deriveTicketKey(master, uidA, 7).length, 48);
});

test('deterministic: the same master, Gateway UID and period give the same key (as two operator replicas compute it)', () => {
  const replicaOne = ticketKeyRing(Buffer.from(master), uidA, t, HOUR);
  const replicaTwo = ticketKeyRing(Buffer.from(master), uidA, t + 59_000, HOUR); // the same hour, another moment
  assert.deepEqual(replicaOne, replicaTwo);
  // A known answer pins the derivation (HKDF-SHA256, salt = UID, info = "tlsgate ticket key <e>"),
  // computed independently with: openssl kdf -keylen 48 -kdfopt digest:SHA256 -kdfopt hexkey:<master>
  //   -kdfopt salt:<uidA> -kdfopt 'info:tlsgate ticket key 0' HKDF
  assert.equal(
    deriveTicketKey(master, uidA, 0).toString('hex'),
    '6aea7087c8395a3c7084cfb2f4ff89627a8530d6ac4e5edde289ba1a3f00db8366d8b4f60f7947387a7a2f50d9dc05df',
  );
});

test('differs per Gateway UID, per period and per master', () => {
  const e = ticketKeyPeriod(t, HOUR);
  const keys = [
    deriveTicketKey(master, uidA, e),
    deriveTicketKey(master, uidB, e),
    deriveTicketKey(master, uidA, e + 1),
    deriveTicketKey(master, uidA, e - 1),
    deriveTicketKey(randomBytes(MASTER_BYTES), uidA, e),
  ].map((k) => k.toString('hex'));
  assert.equal(new Set(keys).size, keys.length, 'all different');
  // Not even the 16-byte key name is shared (it is what a ClientHello reveals).
  assert.equal(new Set(keys.map((k) => k.slice(0, 32))).size, keys.length);
});

test('the ring is [key(e), key(e-1)]: after a rotation the former current key is the previous one', () => {
  const e = ticketKeyPeriod(t, HOUR);
  const ring = ticketKeyRing(master, uidA, t, HOUR);
  assert.deepEqual(ring, [deriveTicketKey(master, uidA, e).toString('base64'), deriveTicketKey(master, uidA, e - 1).toString('base64')]);
  const next = ticketKeyRing(master, uidA, t + HOUR, HOUR);
  assert.equal(next[1], ring[0]);
  assert.notEqual(next[0], ring[0]);
});

test('periods and the time to the next boundary', () => {
  assert.equal(ticketKeyPeriod(HOUR * 5, HOUR), 5);
  assert.equal(ticketKeyPeriod(HOUR * 5 - 1, HOUR), 4);
  assert.equal(msUntilNextPeriod(HOUR * 5, HOUR), HOUR);
  assert.equal(msUntilNextPeriod(HOUR * 5 - 1, HOUR), 1);
  assert.equal(msUntilNextPeriod(t, HOUR), HOUR / 2);
});

test('refuses a short master and a Gateway without UID, without quoting the master', () => {
  assert.throws(() => deriveTicketKey(Buffer.alloc(16), uidA, 1), /at least 32 bytes, got 16/);
  assert.throws(() => deriveTicketKey(master, '', 1), /no metadata\.uid/);
  const where = 'Secret tlsgate-system/tlsgate-ticket-keys';
  assert.throws(() => masterFromSecretData(undefined, where), /tlsgate-ticket-keys: data\.master is missing/);
  const short = Buffer.from('short secret').toString('base64');
  assert.throws(() => masterFromSecretData({ master: short }, where), (err: Error) => /data\.master must hold at least 32 bytes, got 12/.test(err.message) && !err.message.includes(short));
  assert.deepEqual(masterFromSecretData({ master: master.toString('base64') }, where), master);
});

test('withTicketKeys: translate\'s version plus 16 hex digits per ring; the proxy validator accepts it; redaction hides it', () => {
  const ring = ticketKeyRing(master, uidA, t, HOUR);
  const keyed = withTicketKeys(config(), ring);
  assert.deepEqual(keyed.sessionTicketKeys, ring);
  assert.match(keyed.version, /^[0-9a-f]{80}$/);
  assert.ok(keyed.version.startsWith(TRANSLATED), 'the status, which names translate\'s version, names a prefix of what proxies serve');
  assert.equal(translatedVersionOf(keyed.version), TRANSLATED);
  assert.equal(translatedVersionOf(TRANSLATED), TRANSLATED, 'a config without a ring keeps translate\'s version');
  assert.equal(withTicketKeys(config(), ring).version, keyed.version, 'deterministic');
  assert.notEqual(withTicketKeys(config(), ticketKeyRing(master, uidA, t + HOUR, HOUR)).version, keyed.version, 'the next ring is a new version');
  const otherRoutes = { ...config(), ports: [{ port: 8443, listeners: [] }] };
  assert.notEqual(withTicketKeys(otherRoutes, ring).version, keyed.version, 'routes still count');
  validateProxyConfigs([keyed]);

  const redacted = redactProxyConfig(keyed);
  assert.deepEqual(redacted.sessionTicketKeys, [REDACTED, REDACTED]);
  const text = JSON.stringify(redacted);
  for (const key of ring) {
    assert.equal(text.includes(key), false, 'no key in the redacted config');
    assert.equal(text.includes(Buffer.from(key, 'base64').toString('hex')), false);
  }
  assert.deepEqual(keyed.sessionTicketKeys, ring, 'redaction copies, never edits the served config');
});
