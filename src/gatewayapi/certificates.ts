/**
 * Validating a listener certificate Secret before it reaches any proxy: type
 * `kubernetes.io/tls`, a PEM chain that parses and links (each certificate issued and
 * signed by the next), a private key that parses and matches the leaf, and validity
 * windows that contain `now` for every certificate of the chain. A bad Secret must only ever break the
 * listeners that refer to it (the EG v1.8.3 lesson, field notes 3.4).
 *
 * Pure: node:crypto parses in memory, `now` comes from the caller. Error messages name the
 * Secret and the key, never any key material.
 */
import { X509Certificate, createHash, createPrivateKey, type KeyObject } from 'node:crypto';
import type { CertificateConfig } from '../proxy-config.js';
import type { Secret } from './types.js';

export type ParsedCertificate =
  | {
      ok: true;
      certificate: Omit<CertificateConfig, 'secret'>;
      /** The leaf's validity window. */
      notBefore: Date;
      notAfter: Date;
      /** Every chain member's window, leaf first (an expired intermediate breaks TLS too). */
      chainValidity: { notBefore: Date; notAfter: Date }[];
    }
  | { ok: false; error: string };

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;
const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Parsing is the expensive part (about 3 ms per Secret under OpenSSL 3), so results are
 * memoized twice: by object identity (informer caches keep unchanged objects), and by
 * content (standalone mode re-reads files into new objects). Neither cache holds
 * clock-dependent data; expiry is judged per call against `now`. Cached errors carry no
 * Secret name, because equal content may sit in differently named Secrets.
 */
const parsedBySecret = new WeakMap<Secret, ParsedCertificate>();
const parsedByContent = new Map<string, ParsedCertificate>();
const MAX_CONTENT_ENTRIES = 4096;

/** Forget content-memoized parses (benchmarks measure cold parsing with it). */
export function clearCertificateCache(): void {
  parsedByContent.clear();
}

function secretValue(secret: Secret, key: string): string | undefined {
  const plain = secret.stringData?.[key];
  if (typeof plain === 'string') return plain;
  const encoded = secret.data?.[key];
  if (typeof encoded !== 'string') return undefined;
  return Buffer.from(encoded, 'base64').toString('utf8');
}

function keyTypeOf(key: KeyObject): CertificateConfig['keyType'] {
  switch (key.asymmetricKeyType) {
    case 'rsa':
    case 'rsa-pss':
      return 'RSA';
    case 'ec':
      return 'EC';
    case 'ed25519':
      return 'Ed25519';
    case 'ed448':
      return 'Ed448';
    default:
      return 'other';
  }
}

/** Lowercase DNS SANs, or the subject CN when the certificate has no DNS SAN. */
function dnsNamesOf(cert: X509Certificate): string[] {
  const names: string[] = [];
  for (const entry of (cert.subjectAltName ?? '').split(/,\s*/)) {
    if (entry.startsWith('DNS:')) names.push(entry.slice(4).replace(/^"|"$/g, '').toLowerCase());
  }
  if (names.length === 0) {
    const cn = cert.subject.split('\n').find((line) => line.startsWith('CN='));
    if (cn) names.push(cn.slice(3).toLowerCase());
  }
  return [...new Set(names)].sort();
}

function parseUncached(secret: Secret): ParsedCertificate {
  if (secret.type !== 'kubernetes.io/tls') {
    return { ok: false, error: `has type "${secret.type ?? ''}", expected "kubernetes.io/tls"` };
  }
  const certPem = secretValue(secret, 'tls.crt');
  const keyPem = secretValue(secret, 'tls.key');
  if (!certPem) return { ok: false, error: `has no data "tls.crt"` };
  if (!keyPem) return { ok: false, error: `has no data "tls.key"` };

  const blocks = certPem.match(PEM_CERT) ?? [];
  if (blocks.length === 0) return { ok: false, error: `"tls.crt" holds no PEM certificate` };
  const chain: X509Certificate[] = [];
  for (const [index, block] of blocks.entries()) {
    try {
      chain.push(new X509Certificate(block));
    } catch {
      return { ok: false, error: `"tls.crt" certificate #${index + 1} does not parse` };
    }
  }
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: keyPem, format: 'pem' });
  } catch {
    // The parser's own message may quote input; say only which field failed.
    return { ok: false, error: `"tls.key" is not a parseable PEM private key` };
  }
  const leaf = chain[0]!;
  if (!leaf.checkPrivateKey(key)) {
    return { ok: false, error: `"tls.key" does not match the certificate in "tls.crt"` };
  }
  for (let i = 0; i + 1 < chain.length; i++) {
    const issuer = chain[i + 1]!;
    if (!chain[i]!.checkIssued(issuer) || !chain[i]!.verify(issuer.publicKey)) {
      return { ok: false, error: `"tls.crt" certificate #${i + 2} did not issue certificate #${i + 1} (chain out of order or incomplete)` };
    }
  }
  const chainValidity = chain.map((c) => ({ notBefore: new Date(c.validFrom), notAfter: new Date(c.validTo) }));
  const { notBefore, notAfter } = chainValidity[0]!;
  return {
    ok: true,
    notBefore,
    notAfter,
    chainValidity,
    certificate: {
      certificatePem: blocks.join('\n') + '\n',
      privateKeyPem: keyPem,
      keyType: keyTypeOf(key),
      dnsNames: dnsNamesOf(leaf),
      notAfter: notAfter.toISOString(),
    },
  };
}

export function parseCertificateSecret(secret: Secret): ParsedCertificate {
  let parsed = parsedBySecret.get(secret);
  if (!parsed) {
    const contentKey = createHash('sha256')
      .update(`${secret.type ?? ''}\0${secretValue(secret, 'tls.crt') ?? ''}\0${secretValue(secret, 'tls.key') ?? ''}`)
      .digest('hex');
    parsed = parsedByContent.get(contentKey);
    if (!parsed) {
      parsed = parseUncached(secret);
      if (parsedByContent.size >= MAX_CONTENT_ENTRIES) parsedByContent.delete(parsedByContent.keys().next().value!);
      parsedByContent.set(contentKey, parsed);
    }
    parsedBySecret.set(secret, parsed);
  }
  if (parsed.ok) return parsed;
  const label = `${secret.metadata.namespace ?? 'default'}/${secret.metadata.name}`;
  return { ok: false, error: `Secret ${label} ${parsed.error}` };
}

/** "in 89 days" / "12 days ago": expiry relative to the translate's `now`. */
export function describeRelative(when: Date, now: Date): string {
  const days = Math.floor(Math.abs(when.getTime() - now.getTime()) / DAY_MS);
  const span = days === 1 ? '1 day' : `${days} days`;
  return when.getTime() >= now.getTime() ? `in ${span}` : `${span} ago`;
}

/** Validity check against `now`: an error text for any expired or not-yet-valid certificate of the chain. */
export function validityError(
  parsed: { chainValidity: { notBefore: Date; notAfter: Date }[] },
  label: string,
  now: Date,
): string | undefined {
  for (const [i, window] of parsed.chainValidity.entries()) {
    const which = i === 0 ? 'certificate' : `certificate #${i + 1} of the chain`;
    if (window.notAfter.getTime() < now.getTime()) {
      return `Secret ${label} ${which} expired ${window.notAfter.toISOString()} (${describeRelative(window.notAfter, now)})`;
    }
    if (window.notBefore.getTime() > now.getTime()) {
      return `Secret ${label} ${which} is not valid before ${window.notBefore.toISOString()} (${describeRelative(window.notBefore, now)})`;
    }
  }
  return undefined;
}
