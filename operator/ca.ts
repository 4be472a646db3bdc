// The operator's internal CA: a trust bundle with overlap, the certificates it issues, and its
// Kubernetes Secret form. Pure functions (no I/O, the clock is a parameter): the operator reads
// the Secret, calls `reconcileAuthorities`, writes the Secret back when it changed, and issues
// leaf certificates with `issueServerCertificate` / `issueGatewayClientCertificate`.
//
// Rotation without a flag day. Two parties trust the bundle and learn about changes late:
// config-server replicas (they verify proxy client certificates) and proxies (they verify the
// server certificate, from their mounted Secret, which the kubelet refreshes after a delay). So:
//   1. a new CA is added to the bundle with `signsFrom = now + propagation`: it is trusted
//      everywhere before anything it signs is presented;
//   2. from `signsFrom` on, it signs every new leaf; leaves of the old CA are renewed early
//      (`needsRenewal` says so once their issuer is no longer the signer);
//   3. the old CA stays in the bundle until every leaf it signed has expired
//      (`successor.signsFrom + maxLeafLifetime`), or earlier, once the caller's list of live
//      leaves (`liveLeafCertificates`) has shown none signed by it for a whole propagation
//      delay (holders see re-issued leaves late), and never past its own expiry.
// Keys are ECDSA P-256 (see delivery/x509.ts for how node-forge and node:crypto share the work).
import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto';
import { issueKeyAndCertificate, type KeyAndCertificate } from './delivery/x509.js';
import type { ObjectRef } from '../src/proxy-config.js';
import { gatewayFromSubjectAltName, gatewayIdentityUri } from '../src/config-protocol.js';

export { GATEWAY_IDENTITY_PREFIX, gatewayFromSubjectAltName, gatewayIdentityUri } from '../src/config-protocol.js';

export type { KeyAndCertificate } from './delivery/x509.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** Leaves are backdated a little so that a node whose clock is slightly behind accepts them. */
const CLOCK_SKEW_MS = 5 * MINUTE;

export interface CaPolicy {
  /** Lifetime of a CA certificate. */
  caLifetimeMs: number;
  /** Start a rotation when the signing CA has less than this left. */
  caRotateBeforeMs: number;
  /** How long a new CA sits in the bundle before it signs (Secret propagation to every holder). */
  propagationMs: number;
  /** Lifetime of proxy client certificates (short-lived: renewal is automatic). */
  clientCertificateLifetimeMs: number;
  /** Lifetime of the config server's certificate. */
  serverCertificateLifetimeMs: number;
  /** Renew a leaf once this fraction of its lifetime has passed. */
  renewAtFraction: number;
}

export const DEFAULT_CA_POLICY: CaPolicy = {
  caLifetimeMs: 365 * DAY,
  caRotateBeforeMs: 30 * DAY,
  propagationMs: 10 * MINUTE,
  clientCertificateLifetimeMs: 24 * HOUR,
  serverCertificateLifetimeMs: 7 * DAY,
  renewAtFraction: 2 / 3,
};

export interface AuthorityEntry extends KeyAndCertificate {
  /** ISO 8601: from when this CA signs new leaves. Before that it is only trusted. */
  signsFrom: string;
  /** ISO 8601, set once a superseded CA was seen unused: it leaves the bundle at this time. */
  retireAfter?: string;
}

/** Every CA currently trusted, sorted by `signsFrom` ascending. */
export interface AuthorityState {
  authorities: AuthorityEntry[];
}

export interface ReconcileResult {
  state: AuthorityState;
  changed: boolean;
  /** Why it changed, for logs and Events (never key material). */
  reasons: string[];
}

/** An issued leaf certificate. */
export interface IssuedCertificate extends KeyAndCertificate {
  notBefore: string;
  notAfter: string;
}

// ---------------------------------------------------------------------------------------------
// Lifecycle of the bundle

/**
 * A state with one fresh CA (first install: nothing to overlap with). It signs from its
 * notBefore, not from `now`: another replica that reads the new Secret with a clock a moment
 * behind (or a `now` taken just before the Secret was written) must find it signing already.
 */
export function createAuthorityState(now: Date, policy: CaPolicy = DEFAULT_CA_POLICY): AuthorityState {
  return { authorities: [newAuthority(now, new Date(now.getTime() - CLOCK_SKEW_MS), policy)] };
}

/**
 * Add a new CA that takes over signing after the propagation delay. Used by
 * `reconcileAuthorities` near expiry, and directly for a manual rotation.
 */
export function beginRotation(state: AuthorityState, now: Date, policy: CaPolicy = DEFAULT_CA_POLICY): AuthorityState {
  const signsFrom = new Date(now.getTime() + policy.propagationMs);
  return { authorities: [...state.authorities, newAuthority(now, signsFrom, policy)] };
}

/**
 * Bring the bundle up to date at `now`: create a CA when there is none, start a rotation when
 * the signer nears its expiry, and drop CAs that nothing can still depend on.
 * `liveLeafCertificates` (optional): every leaf certificate currently handed out (the server's,
 * every Gateway's); when given, a superseded CA that signed none of them is marked
 * `retireAfter = now + propagationMs` and dropped at the first reconcile after that.
 */
export function reconcileAuthorities(
  state: AuthorityState | undefined,
  now: Date,
  policy: CaPolicy = DEFAULT_CA_POLICY,
  liveLeafCertificates?: string[],
): ReconcileResult {
  checkPolicy(policy);
  const reasons: string[] = [];
  if (!state || state.authorities.length === 0) {
    return { state: createAuthorityState(now, policy), changed: true, reasons: ['created the first CA'] };
  }
  let authorities = [...state.authorities].sort(bySignsFrom);

  // Drop what can no longer matter.
  const maxLeafLifetime = Math.max(policy.clientCertificateLifetimeMs, policy.serverCertificateLifetimeMs) + CLOCK_SKEW_MS;
  const live = liveLeafCertificates?.map((pem) => new X509Certificate(pem));
  const sorted = authorities;
  authorities = [];
  sorted.forEach((entry, index) => {
    const certificate = new X509Certificate(entry.certificatePem);
    if (Date.parse(certificate.validTo) <= now.getTime()) {
      reasons.push(`dropped CA ${certificate.serialNumber}: expired`);
      return;
    }
    const successor = sorted.slice(index + 1).find((later) => Date.parse(later.signsFrom) <= now.getTime());
    if (!successor) return void authorities.push(entry); // the signer, or a CA still waiting to sign
    const everyLeafExpiredAt = Date.parse(successor.signsFrom) + maxLeafLifetime;
    if (now.getTime() >= everyLeafExpiredAt) {
      reasons.push(`dropped CA ${certificate.serialNumber}: superseded and every leaf it signed has expired`);
      return;
    }
    if (!live) return void authorities.push(entry);
    // Early retirement. The caller's list shows what is *written* (Secrets); holders learn of
    // re-issued leaves late (kubelet sync), so a CA goes only after it has been unused for a
    // whole propagation delay, and is kept again if one of its leaves shows up meanwhile.
    const inUse = live.some((leaf) => leaf.checkIssued(certificate) && leaf.verify(certificate.publicKey));
    if (inUse) {
      if (entry.retireAfter === undefined) return void authorities.push(entry);
      reasons.push(`kept CA ${certificate.serialNumber}: a live leaf is signed by it again`);
      const { retireAfter: _cancelled, ...kept } = entry;
      return void authorities.push(kept);
    }
    if (entry.retireAfter === undefined) {
      const retireAfter = new Date(now.getTime() + policy.propagationMs).toISOString();
      reasons.push(`CA ${certificate.serialNumber} is superseded and no live leaf is signed by it: retiring after ${retireAfter}`);
      return void authorities.push({ ...entry, retireAfter });
    }
    if (now.getTime() >= Date.parse(entry.retireAfter)) {
      reasons.push(`dropped CA ${certificate.serialNumber}: superseded and no live leaf has been signed by it since ${entry.retireAfter}`);
      return;
    }
    authorities.push(entry);
  });
  if (authorities.length === 0) {
    return { state: createAuthorityState(now, policy), changed: true, reasons: [...reasons, 'created a new CA (none was valid)'] };
  }

  // Rotate when the newest CA (the signer or a pending successor) is close to expiry.
  const newest = new X509Certificate(authorities[authorities.length - 1]!.certificatePem);
  if (Date.parse(newest.validTo) - now.getTime() < policy.caRotateBeforeMs) {
    authorities = beginRotation({ authorities }, now, policy).authorities;
    reasons.push(`began rotation: CA ${newest.serialNumber} expires ${new Date(newest.validTo).toISOString()}`);
  }
  const changed = reasons.length > 0;
  return { state: changed ? { authorities } : state, changed, reasons };
}

/** The CA that signs at `now`: the newest whose `signsFrom` has passed. */
export function signingAuthority(state: AuthorityState, now: Date): AuthorityEntry {
  const signers = state.authorities.filter((entry) => Date.parse(entry.signsFrom) <= now.getTime()).sort(bySignsFrom);
  const signer = signers[signers.length - 1];
  if (!signer) throw new Error(`CA state: no authority signs at ${now.toISOString()} (every signsFrom is later)`);
  return signer;
}

/** Every trusted CA certificate, PEM-concatenated: the `ca` of both sides of the connection. */
export function trustBundlePem(state: AuthorityState): string {
  return state.authorities.map((entry) => entry.certificatePem).join('');
}

// ---------------------------------------------------------------------------------------------
// Leaves

export interface ServerCertificateOptions {
  dnsNames: string[];
  ipAddresses?: string[];
}

/** The config server's certificate; its SANs are the names proxies dial (Service DNS names). */
export function issueServerCertificate(
  state: AuthorityState,
  names: ServerCertificateOptions,
  now: Date,
  policy: CaPolicy = DEFAULT_CA_POLICY,
): IssuedCertificate {
  if (names.dnsNames.length === 0 && (names.ipAddresses ?? []).length === 0) {
    throw new Error('issueServerCertificate: names.dnsNames and names.ipAddresses are both empty; a server certificate needs a SAN');
  }
  return issueLeaf(state, now, policy.serverCertificateLifetimeMs, {
    kind: 'server',
    commonName: names.dnsNames[0] ?? names.ipAddresses![0]!,
    altNames: { dnsNames: names.dnsNames, ipAddresses: names.ipAddresses ?? [] },
  });
}

/** A client certificate for the proxies of one Gateway: URI SAN `tlsgate://gateway/<ns>/<name>`. */
export function issueGatewayClientCertificate(
  state: AuthorityState,
  gateway: ObjectRef,
  now: Date,
  policy: CaPolicy = DEFAULT_CA_POLICY,
): IssuedCertificate {
  return issueLeaf(state, now, policy.clientCertificateLifetimeMs, {
    kind: 'client',
    commonName: `${gateway.namespace}/${gateway.name}`,
    altNames: { uris: [gatewayIdentityUri(gateway)] },
  });
}

function issueLeaf(
  state: AuthorityState,
  now: Date,
  lifetimeMs: number,
  request: { kind: 'server' | 'client'; commonName: string; altNames: { dnsNames?: string[]; ipAddresses?: string[]; uris?: string[] } },
): IssuedCertificate {
  const signer = signingAuthority(state, now);
  const signerExpiry = Date.parse(new X509Certificate(signer.certificatePem).validTo);
  const notBefore = new Date(now.getTime() - CLOCK_SKEW_MS);
  // A leaf never outlives its issuer: chains with an expired CA fail verification.
  const notAfter = new Date(Math.min(now.getTime() + lifetimeMs, signerExpiry));
  const issued = issueKeyAndCertificate({ ...request, notBefore, notAfter }, signer);
  return { ...issued, notBefore: notBefore.toISOString(), notAfter: isoValidTo(issued.certificatePem) };
}

export type RenewalReason = 'expiring' | 'issuer-superseded' | 'issuer-untrusted' | 'names-changed';

/**
 * Whether a leaf must be re-issued at `now`, and why: it is past `renewAtFraction` of its
 * lifetime, its issuer no longer signs (rotation: renew early so the old CA can retire), its
 * issuer left the bundle, or (when `expectedSans` is given) its SANs differ.
 */
export function needsRenewal(
  certificatePem: string,
  state: AuthorityState,
  now: Date,
  policy: CaPolicy = DEFAULT_CA_POLICY,
  expectedSans?: string,
): RenewalReason | null {
  const leaf = new X509Certificate(certificatePem);
  const issuer = state.authorities.find((entry) => issuedBy(leaf, entry));
  if (!issuer) return 'issuer-untrusted';
  if (issuer !== signingAuthority(state, now)) return 'issuer-superseded';
  if (expectedSans !== undefined && leaf.subjectAltName !== expectedSans) return 'names-changed';
  return now.getTime() >= renewalDueAt(certificatePem, policy).getTime() ? 'expiring' : null;
}

/** When a leaf becomes due for renewal (for scheduling a timer). */
export function renewalDueAt(certificatePem: string, policy: CaPolicy = DEFAULT_CA_POLICY): Date {
  const leaf = new X509Certificate(certificatePem);
  const from = Date.parse(leaf.validFrom);
  const to = Date.parse(leaf.validTo);
  return new Date(from + (to - from) * policy.renewAtFraction);
}

/** The Gateway a client certificate names, or null when it names none (or several). */
export function gatewayFromCertificate(certificate: X509Certificate): ObjectRef | null {
  return gatewayFromSubjectAltName(certificate.subjectAltName ?? '');
}

// ---------------------------------------------------------------------------------------------
// Kubernetes Secret form

/** Secret data key with every authority (JSON); `ca.crt` is the bundle, for people and mounts. */
export const AUTHORITIES_KEY = 'authorities.json';
export const BUNDLE_KEY = 'ca.crt';

/** The CA Secret's `data` map (base64 values, as the API expects). */
export function authorityStateToSecretData(state: AuthorityState): Record<string, string> {
  const authorities = [...state.authorities].sort(bySignsFrom);
  return {
    [AUTHORITIES_KEY]: base64(
      JSON.stringify(
        authorities.map(({ certificatePem, privateKeyPem, signsFrom, retireAfter }) => ({ certificatePem, privateKeyPem, signsFrom, ...(retireAfter !== undefined ? { retireAfter } : {}) })),
      ),
    ),
    [BUNDLE_KEY]: base64(trustBundlePem(state)),
  };
}

/**
 * Read the CA Secret's `data` map back. Every entry is checked: a parsable CA certificate, a
 * private key that belongs to it, a valid date. Errors name the Secret key and the entry, and
 * never include key material.
 */
export function authorityStateFromSecretData(data: Record<string, string> | undefined, secretName = 'CA Secret'): AuthorityState {
  const encoded = data?.[AUTHORITIES_KEY];
  if (encoded === undefined) throw new Error(`${secretName}: data["${AUTHORITIES_KEY}"] is missing`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(encoded, 'base64').toString('utf8'));
  } catch {
    throw new Error(`${secretName}: data["${AUTHORITIES_KEY}"] is not base64-encoded JSON`);
  }
  if (!Array.isArray(parsed)) throw new Error(`${secretName}: data["${AUTHORITIES_KEY}"] must be a JSON array`);
  const authorities = parsed.map((raw: unknown, index): AuthorityEntry => {
    const where = `${secretName}: data["${AUTHORITIES_KEY}"][${index}]`;
    const entry = raw as Partial<AuthorityEntry> | null;
    if (!entry || typeof entry.certificatePem !== 'string') throw new Error(`${where}.certificatePem must be a PEM string`);
    if (typeof entry.privateKeyPem !== 'string') throw new Error(`${where}.privateKeyPem must be a PEM string`);
    if (typeof entry.signsFrom !== 'string' || Number.isNaN(Date.parse(entry.signsFrom))) throw new Error(`${where}.signsFrom must be an ISO 8601 date`);
    let certificate: X509Certificate;
    try {
      certificate = new X509Certificate(entry.certificatePem);
    } catch {
      throw new Error(`${where}.certificatePem is not a valid certificate`);
    }
    if (!certificate.ca) throw new Error(`${where}.certificatePem is not a CA certificate (basicConstraints CA:FALSE)`);
    let keyMatches = false;
    try {
      keyMatches = certificate.checkPrivateKey(createPrivateKey(entry.privateKeyPem));
    } catch {
      throw new Error(`${where}.privateKeyPem is not a valid private key`);
    }
    if (!keyMatches) throw new Error(`${where}.privateKeyPem does not belong to certificate ${certificate.serialNumber}`);
    if (entry.retireAfter !== undefined && (typeof entry.retireAfter !== 'string' || Number.isNaN(Date.parse(entry.retireAfter)))) {
      throw new Error(`${where}.retireAfter must be an ISO 8601 date when present`);
    }
    return {
      certificatePem: entry.certificatePem,
      privateKeyPem: entry.privateKeyPem,
      signsFrom: new Date(entry.signsFrom).toISOString(),
      ...(entry.retireAfter !== undefined ? { retireAfter: new Date(entry.retireAfter).toISOString() } : {}),
    };
  });
  if (authorities.length === 0) throw new Error(`${secretName}: data["${AUTHORITIES_KEY}"] holds no authority`);
  return { authorities: authorities.sort(bySignsFrom) };
}

/**
 * The `data` map of a Gateway's proxy Secret, in the kubernetes.io/tls layout plus the trust
 * bundle: mount it and pass `--cert tls.crt --key tls.key --ca ca.crt` to `tlsgate proxy`.
 * Rewrite it when the leaf is renewed or the bundle changes.
 */
export function gatewayClientSecretData(issued: KeyAndCertificate, state: AuthorityState): Record<string, string> {
  return {
    'tls.crt': base64(issued.certificatePem),
    'tls.key': base64(issued.privateKeyPem),
    [BUNDLE_KEY]: base64(trustBundlePem(state)),
  };
}

// ---------------------------------------------------------------------------------------------

/** A rotation must start early enough for the overlap: propagation, then a full leaf lifetime. */
function checkPolicy(policy: CaPolicy): void {
  const needed = policy.propagationMs + Math.max(policy.clientCertificateLifetimeMs, policy.serverCertificateLifetimeMs);
  if (policy.caRotateBeforeMs < needed) {
    throw new Error(`CaPolicy.caRotateBeforeMs (${policy.caRotateBeforeMs} ms) must be at least propagationMs + the longest leaf lifetime (${needed} ms)`);
  }
  if (policy.caLifetimeMs <= policy.caRotateBeforeMs) {
    throw new Error(`CaPolicy.caLifetimeMs (${policy.caLifetimeMs} ms) must exceed caRotateBeforeMs (${policy.caRotateBeforeMs} ms)`);
  }
}

function newAuthority(now: Date, signsFrom: Date, policy: CaPolicy): AuthorityEntry {
  const issued = issueKeyAndCertificate(
    {
      kind: 'ca',
      commonName: `tlsgate CA ${now.toISOString()}`,
      notBefore: new Date(now.getTime() - CLOCK_SKEW_MS),
      notAfter: new Date(now.getTime() + policy.caLifetimeMs),
    },
    null,
  );
  return { ...issued, signsFrom: signsFrom.toISOString() };
}

function issuedBy(leaf: X509Certificate, entry: AuthorityEntry): boolean {
  const authority = new X509Certificate(entry.certificatePem);
  return leaf.checkIssued(authority) && leaf.verify(createPublicKey(entry.certificatePem));
}

function isoValidTo(certificatePem: string): string {
  return new Date(new X509Certificate(certificatePem).validTo).toISOString();
}

function bySignsFrom(a: AuthorityEntry, b: AuthorityEntry): number {
  return Date.parse(a.signsFrom) - Date.parse(b.signsFrom);
}

function base64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}
