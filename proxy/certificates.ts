// Terminate certificates: one SecureContext per certificate, built once when a config is
// applied (context creation is expensive under OpenSSL 3), and a per-connection choice that
// is a short loop over the listener's few certificates.
import { createHash, createPrivateKey, X509Certificate } from 'node:crypto';
import tls from 'node:tls';
import type { CertificateConfig } from '../src/proxy-config.js';
import { KEY_EC, KEY_ED25519, KEY_ED448, KEY_RSA } from './clienthello.js';

export interface ServingCertificate {
  /** `namespace/name` of the Secret, for logs and metrics. */
  secret: string;
  context: tls.SecureContext;
  /** KEY_* bit of the leaf key (0 for 'other': offered only as a last resort). */
  keyBit: number;
  exactNames: ReadonlySet<string>;
  /** Suffixes of `*.suffix` names (certificate wildcards cover exactly one label). */
  wildcardSuffixes: ReadonlySet<string>;
  notAfterSeconds: number;
}

const KEY_BITS: Record<CertificateConfig['keyType'], number> = {
  RSA: KEY_RSA,
  EC: KEY_EC,
  Ed25519: KEY_ED25519,
  Ed448: KEY_ED448,
  other: 0,
};

/**
 * Builds the context. Throws an Error naming `where` and the Secret, never the key material
 * (OpenSSL's message says what is wrong, e.g. "key values mismatch").
 */
export function buildServingCertificate(cert: CertificateConfig, ticketKeys: Buffer, where: string): ServingCertificate {
  const secret = `${cert.secret.namespace}/${cert.secret.name}`;
  let context: tls.SecureContext;
  try {
    context = tls.createSecureContext({
      cert: cert.certificatePem,
      key: cert.privateKeyPem,
      minVersion: 'TLSv1.2',
      maxVersion: 'TLSv1.3',
      ticketKeys,
    });
    // OpenSSL silently drops a key that does not match the certificate (handshakes then
    // fail later); check the pair here so the config is refused with a reason instead.
    if (!new X509Certificate(cert.certificatePem).checkPrivateKey(createPrivateKey(cert.privateKeyPem))) {
      throw new Error('the private key does not match the certificate');
    }
  } catch (err) {
    const reason = (err as Error).message.replace(/-----BEGIN[\s\S]*?-----END[^-]*-----/g, '<pem>');
    throw new Error(`${where} (Secret ${secret}): cannot load certificate and key: ${reason}`);
  }
  const exactNames = new Set<string>();
  const wildcardSuffixes = new Set<string>();
  for (const raw of cert.dnsNames) {
    const name = raw.toLowerCase();
    if (name.startsWith('*.')) wildcardSuffixes.add(name.slice(2));
    else exactNames.add(name);
  }
  const notAfter = Date.parse(cert.notAfter);
  return {
    secret,
    context,
    keyBit: KEY_BITS[cert.keyType] ?? 0,
    exactNames,
    wildcardSuffixes,
    notAfterSeconds: Number.isFinite(notAfter) ? Math.floor(notAfter / 1000) : 0,
  };
}

/** How well a certificate's names cover the SNI: 0 none, else longer (more specific) is better. */
function nameScore(cert: ServingCertificate, sni: string): number {
  if (cert.exactNames.has(sni)) return 2 * sni.length + 1; // exact beats any wildcard
  const dot = sni.indexOf('.', 1);
  if (dot !== -1 && cert.wildcardSuffixes.has(sni.slice(dot + 1))) return 2 * (sni.length - dot);
  return 0;
}

/**
 * Chooses the certificate for a handshake: the longest name match for the SNI, and among
 * equally good matches one whose key type the client can verify (so an RSA + ECDSA pair
 * serves each client what it supports). Ties keep the listener's certificateRefs order.
 */
export function chooseCertificate(certs: readonly ServingCertificate[], sni: string, clientKeyTypes: number): ServingCertificate {
  if (certs.length === 1) return certs[0] as ServingCertificate;
  let best: ServingCertificate | undefined;
  let bestScore = -1;
  for (const cert of certs) {
    const supported = (cert.keyBit & clientKeyTypes) !== 0;
    const score = 2 * nameScore(cert, sni) + (supported ? 1 : 0);
    if (score > bestScore) {
      best = cert;
      bestScore = score;
    }
  }
  return best as ServingCertificate;
}

/** Replaces the session-ticket keys of contexts already built (rotation). */
export function setTicketKeys(cert: ServingCertificate, keys: Buffer): void {
  // tls.Server#setTicketKeys does the same on its own context; a SecureContext exposes the
  // native handle as `.context`.
  (cert.context as unknown as { context: { setTicketKeys(k: Buffer): void } }).context.setTicketKeys(keys);
}

/**
 * Reuses the SecureContexts of certificates that did not change between applies (most
 * config changes touch routes, not certificates, and building a context is the expensive part
 * of an apply). Entries not used by the last successful apply are dropped.
 */
export class CertificateCache {
  private current = new Map<string, ServingCertificate>();
  private next: Map<string, ServingCertificate> | null = null;
  private readonly ticketKeys: () => Buffer;

  constructor(ticketKeys: () => Buffer) {
    this.ticketKeys = ticketKeys;
  }

  begin(): void {
    this.next = new Map();
  }

  load(cert: CertificateConfig, where: string): ServingCertificate {
    const key = createHash('sha256').update(JSON.stringify(cert)).digest('hex');
    const next = this.next ?? new Map<string, ServingCertificate>();
    this.next = next;
    const serving = next.get(key) ?? this.current.get(key) ?? buildServingCertificate(cert, this.ticketKeys(), where);
    next.set(key, serving);
    return serving;
  }

  /** The apply succeeded: keep exactly what it used. */
  commit(): void {
    if (this.next !== null) this.current = this.next;
    this.next = null;
  }

  abort(): void {
    this.next = null;
  }

  all(): Iterable<ServingCertificate> {
    return this.current.values();
  }
}
