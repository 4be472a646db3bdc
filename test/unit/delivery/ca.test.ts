import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  DEFAULT_CA_POLICY,
  authorityStateFromSecretData,
  authorityStateToSecretData,
  beginRotation,
  createAuthorityState,
  gatewayClientSecretData,
  gatewayFromSubjectAltName,
  issueGatewayClientCertificate,
  issueServerCertificate,
  needsRenewal,
  reconcileAuthorities,
  renewalDueAt,
  signingAuthority,
  trustBundlePem,
  type CaPolicy,
} from '../../../operator/ca.js';
import { splitPemCertificates } from '../../../operator/delivery/x509.js';
import { GATEWAY_A, tempDir } from './fixtures.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const t0 = new Date('2026-01-01T00:00:00Z');
const at = (ms: number): Date => new Date(t0.getTime() + ms);

/** `openssl verify` of a leaf against a bundle, at a given time; true when OpenSSL accepts it. */
function opensslVerifies(dir: string, bundlePem: string, leafPem: string, purpose: 'sslclient' | 'sslserver', when: Date): boolean {
  const bundle = path.join(dir, 'bundle.pem');
  const leaf = path.join(dir, 'leaf.pem');
  writeFileSync(bundle, bundlePem);
  writeFileSync(leaf, leafPem);
  try {
    execFileSync('openssl', ['verify', '-CAfile', bundle, '-purpose', purpose, '-attime', String(Math.floor(when.getTime() / 1000)), leaf], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

describe('internal CA', () => {
  const tmp = tempDir();
  after(tmp.cleanup);

  it('issues ECDSA P-256 certificates that OpenSSL verifies for their purpose', () => {
    const state = createAuthorityState(t0);
    const server = issueServerCertificate(state, { dnsNames: ['config.tlsgate-system.svc'], ipAddresses: ['127.0.0.1'] }, t0);
    const client = issueGatewayClientCertificate(state, GATEWAY_A, t0);
    const bundle = trustBundlePem(state);

    const key = createPrivateKey(client.privateKeyPem);
    assert.equal(key.asymmetricKeyType, 'ec');
    assert.equal(key.asymmetricKeyDetails?.namedCurve, 'prime256v1');

    assert.equal(opensslVerifies(tmp.dir, bundle, server.certificatePem, 'sslserver', at(HOUR)), true);
    assert.equal(opensslVerifies(tmp.dir, bundle, client.certificatePem, 'sslclient', at(HOUR)), true);
    // Each leaf is only good for its own side.
    assert.equal(opensslVerifies(tmp.dir, bundle, server.certificatePem, 'sslclient', at(HOUR)), false);
    assert.equal(opensslVerifies(tmp.dir, bundle, client.certificatePem, 'sslserver', at(HOUR)), false);
    // Short-lived: the client certificate is expired a day later.
    assert.equal(opensslVerifies(tmp.dir, bundle, client.certificatePem, 'sslclient', at(DAY + HOUR)), false);

    const x509 = new X509Certificate(client.certificatePem);
    assert.equal(x509.subjectAltName, 'URI:tlsgate://gateway/team-a/gw-a');
    assert.match(x509.subject, /CN=team-a\/gw-a/);
    assert.deepEqual(gatewayFromSubjectAltName(x509.subjectAltName!), GATEWAY_A);
    const serverX509 = new X509Certificate(server.certificatePem);
    assert.equal(serverX509.subjectAltName, 'DNS:config.tlsgate-system.svc, IP Address:127.0.0.1');
    assert.equal(serverX509.checkHost('config.tlsgate-system.svc'), 'config.tlsgate-system.svc');
  });

  it('a first CA already signs for a replica whose clock is a little behind the creator\'s', () => {
    const state = createAuthorityState(t0);
    // Seen on the cluster: the follower took `now` just before the leader wrote the new CA.
    const slightlyEarlier = new Date(t0.getTime() - 1500);
    assert.equal(signingAuthority(state, slightlyEarlier), state.authorities[0]);
    const client = issueGatewayClientCertificate(state, GATEWAY_A, slightlyEarlier);
    assert.equal(opensslVerifies(tmp.dir, trustBundlePem(state), client.certificatePem, 'sslclient', at(HOUR)), true);
  });

  it('never issues a leaf that outlives its CA', () => {
    const policy: CaPolicy = { ...DEFAULT_CA_POLICY, caLifetimeMs: 40 * DAY };
    const state = createAuthorityState(t0, policy);
    const nearEnd = at(40 * DAY - HOUR);
    const leaf = issueGatewayClientCertificate(state, GATEWAY_A, nearEnd, policy);
    const caExpiry = Date.parse(new X509Certificate(state.authorities[0]!.certificatePem).validTo);
    assert.ok(Date.parse(leaf.notAfter) <= caExpiry, `leaf notAfter ${leaf.notAfter} is after the CA's expiry`);
  });

  it('round-trips through a Secret data map and refuses a tampered one without leaking keys', () => {
    const state = beginRotation(createAuthorityState(t0), at(HOUR));
    const data = authorityStateToSecretData(state);
    assert.deepEqual(Object.keys(data).sort(), ['authorities.json', 'ca.crt']);
    const back = authorityStateFromSecretData(data, 'tlsgate-system/tlsgate-ca');
    assert.deepEqual(back, state);
    assert.equal(splitPemCertificates(Buffer.from(data['ca.crt']!, 'base64').toString()).length, 2);

    // Swap the keys of the two CAs: each key now belongs to the other certificate.
    const entries = JSON.parse(Buffer.from(data['authorities.json']!, 'base64').toString());
    [entries[0].privateKeyPem, entries[1].privateKeyPem] = [entries[1].privateKeyPem, entries[0].privateKeyPem];
    const tampered = { ...data, 'authorities.json': Buffer.from(JSON.stringify(entries)).toString('base64') };
    assert.throws(
      () => authorityStateFromSecretData(tampered, 'tlsgate-system/tlsgate-ca'),
      (err: Error) => {
        assert.match(err.message, /tlsgate-system\/tlsgate-ca: data\["authorities.json"\]\[0\]\.privateKeyPem does not belong to certificate/);
        assert.doesNotMatch(err.message, /PRIVATE KEY|BEGIN/);
        return true;
      },
    );
    assert.throws(() => authorityStateFromSecretData({}, 'x/y'), /x\/y: data\["authorities.json"\] is missing/);
    assert.throws(() => authorityStateFromSecretData({ 'authorities.json': Buffer.from('{').toString('base64') }, 'x/y'), /not base64-encoded JSON/);
  });

  it('writes a Gateway Secret in the kubernetes.io/tls layout plus the trust bundle', () => {
    const state = createAuthorityState(t0);
    const issued = issueGatewayClientCertificate(state, GATEWAY_A, t0);
    const data = gatewayClientSecretData(issued, state);
    assert.equal(Buffer.from(data['tls.crt']!, 'base64').toString(), issued.certificatePem);
    assert.equal(Buffer.from(data['tls.key']!, 'base64').toString(), issued.privateKeyPem);
    assert.equal(Buffer.from(data['ca.crt']!, 'base64').toString(), trustBundlePem(state));
  });

  it('rotates with overlap: trusted before it signs, the old CA kept until its leaves are gone', () => {
    const policy: CaPolicy = { ...DEFAULT_CA_POLICY, caLifetimeMs: 60 * DAY, caRotateBeforeMs: 20 * DAY };
    const maxLeaf = policy.serverCertificateLifetimeMs;

    const created = reconcileAuthorities(undefined, t0, policy);
    assert.equal(created.changed, true);
    const first = created.state.authorities[0]!;
    assert.equal(reconcileAuthorities(created.state, at(DAY), policy).changed, false);

    // 41 days in, less than 20 days are left: a successor joins the bundle but does not sign yet.
    const rotateAt = at(41 * DAY);
    const leafBefore = issueGatewayClientCertificate(created.state, GATEWAY_A, rotateAt, policy);
    const rotating = reconcileAuthorities(created.state, rotateAt, policy);
    assert.equal(rotating.changed, true);
    assert.match(rotating.reasons.join(), /began rotation/);
    assert.equal(rotating.state.authorities.length, 2);
    const second = rotating.state.authorities[1]!;
    assert.equal(signingAuthority(rotating.state, rotateAt), first);
    assert.equal(reconcileAuthorities(rotating.state, at(41 * DAY + 1000), policy).changed, false, 'no second rotation while one is pending');
    assert.equal(needsRenewal(leafBefore.certificatePem, rotating.state, rotateAt, policy), null);

    // After the propagation delay the successor signs; leaves of the old CA are renewed early.
    const switchAt = new Date(Date.parse(second.signsFrom));
    assert.equal(signingAuthority(rotating.state, switchAt), second);
    assert.equal(needsRenewal(leafBefore.certificatePem, rotating.state, switchAt, policy), 'issuer-superseded');
    const leafAfter = issueGatewayClientCertificate(rotating.state, GATEWAY_A, switchAt, policy);
    assert.equal(needsRenewal(leafAfter.certificatePem, rotating.state, switchAt, policy), null);
    // Both leaves verify against the bundle during the overlap.
    const bundle = trustBundlePem(rotating.state);
    assert.equal(opensslVerifies(tmp.dir, bundle, leafBefore.certificatePem, 'sslclient', at(41 * DAY + 2 * HOUR)), true);
    assert.equal(opensslVerifies(tmp.dir, bundle, leafAfter.certificatePem, 'sslclient', at(41 * DAY + 2 * HOUR)), true);

    // The old CA stays while a leaf it signed may still be live...
    const stillOverlapping = reconcileAuthorities(rotating.state, new Date(switchAt.getTime() + maxLeaf - HOUR), policy);
    assert.equal(stillOverlapping.state.authorities.length, 2);
    // ...and goes once every leaf it signed has expired.
    const retired = reconcileAuthorities(rotating.state, new Date(switchAt.getTime() + maxLeaf + HOUR), policy);
    assert.deepEqual(retired.state.authorities, [second]);
    assert.match(retired.reasons.join(), /every leaf it signed has expired/);
    assert.equal(needsRenewal(leafBefore.certificatePem, retired.state, at(48 * DAY), policy), 'issuer-untrusted');
  });

  it('retires a superseded CA early once no live leaf has been signed by it for a propagation delay', () => {
    const policy = DEFAULT_CA_POLICY;
    const state = beginRotation(createAuthorityState(t0, policy), at(HOUR), policy);
    const switchAt = new Date(Date.parse(state.authorities[1]!.signsFrom));
    const oldLeaf = issueGatewayClientCertificate(state, GATEWAY_A, at(HOUR), policy);
    const newLeaf = issueGatewayClientCertificate(state, GATEWAY_A, switchAt, policy);
    const later = new Date(switchAt.getTime() + HOUR);
    assert.equal(reconcileAuthorities(state, later, policy, [oldLeaf.certificatePem, newLeaf.certificatePem]).state.authorities.length, 2);
    // Unused: marked, but kept for a propagation delay (holders may still present old leaves).
    const marked = reconcileAuthorities(state, later, policy, [newLeaf.certificatePem]);
    assert.equal(marked.changed, true);
    assert.equal(marked.state.authorities.length, 2);
    assert.equal(marked.state.authorities[0]!.retireAfter, new Date(later.getTime() + policy.propagationMs).toISOString());
    assert.deepEqual(authorityStateFromSecretData(authorityStateToSecretData(marked.state)), marked.state, 'retireAfter survives the Secret');
    const stillThere = reconcileAuthorities(marked.state, new Date(later.getTime() + policy.propagationMs - 1000), policy, [newLeaf.certificatePem]);
    assert.equal(stillThere.changed, false);
    // An old leaf showing up again cancels the retirement.
    const revived = reconcileAuthorities(marked.state, new Date(later.getTime() + 1000), policy, [oldLeaf.certificatePem]);
    assert.equal(revived.state.authorities[0]!.retireAfter, undefined);
    assert.match(revived.reasons.join(), /signed by it again/);
    // Unused for the whole delay: dropped.
    const dropped = reconcileAuthorities(marked.state, new Date(later.getTime() + policy.propagationMs), policy, [newLeaf.certificatePem]);
    assert.deepEqual(dropped.state.authorities, [state.authorities[1]]);
    assert.match(dropped.reasons.join(), /no live leaf has been signed by it since/);
  });

  it('schedules renewal at two thirds of the lifetime', () => {
    const state = createAuthorityState(t0);
    const leaf = issueGatewayClientCertificate(state, GATEWAY_A, t0);
    const due = renewalDueAt(leaf.certificatePem);
    assert.equal(needsRenewal(leaf.certificatePem, state, new Date(due.getTime() - 1000)), null);
    assert.equal(needsRenewal(leaf.certificatePem, state, due), 'expiring');
    assert.equal(needsRenewal(leaf.certificatePem, state, t0, DEFAULT_CA_POLICY, 'URI:tlsgate://gateway/team-a/other'), 'names-changed');
  });

  it('refuses a policy whose rotation window cannot cover the overlap', () => {
    assert.throws(() => reconcileAuthorities(undefined, t0, { ...DEFAULT_CA_POLICY, caRotateBeforeMs: HOUR }), /caRotateBeforeMs/);
  });

  it('reads exactly one Gateway identity from a subjectAltName, nothing smuggled', () => {
    assert.deepEqual(gatewayFromSubjectAltName('URI:tlsgate://gateway/ns/name'), { namespace: 'ns', name: 'name' });
    assert.deepEqual(gatewayFromSubjectAltName('DNS:x.example, URI:tlsgate://gateway/ns/a.b-c'), { namespace: 'ns', name: 'a.b-c' });
    assert.equal(gatewayFromSubjectAltName('URI:tlsgate://gateway/a/b, URI:tlsgate://gateway/c/d'), null);
    assert.equal(gatewayFromSubjectAltName('URI:tlsgate://gateway/a/b/c'), null);
    assert.equal(gatewayFromSubjectAltName('URI:tlsgate://gateway/A/b'), null);
    assert.deepEqual(gatewayFromSubjectAltName('URI:tlsgate://gateway/a/b, DNS:evil'), { namespace: 'a', name: 'b' });
    assert.equal(gatewayFromSubjectAltName('DNS:tlsgate://gateway/a/b'), null);
    assert.equal(gatewayFromSubjectAltName(''), null);
  });
});
