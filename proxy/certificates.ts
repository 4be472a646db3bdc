// Terminate certificates: one SecureContext per certificate, built once when a config is
// applied (context creation is expensive under OpenSSL 3), and a per-connection choice that
// is a short loop over the listener's few certificates.
import { createHash, createPrivateKey, X509Certificate } from 'node:crypto';
import tls from 'node:tls';
import { SESSION_TICKET_KEY_BYTES, type CertificateConfig, type ProxyConfig } from '../src/proxy-config.js';
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
  /** Session-ticket state: which key the context encrypts with, and the previous key (rotation overlap). */
  tickets: TicketState;
}

/**
 * Session-ticket keys as one Buffer (it passes unchanged through the engine and IPC): the
 * current 48-byte key (16 name, 16 HMAC, 16 AES), optionally followed by the previous one.
 * New tickets use the current key; tickets under the previous key still resume (the overlap).
 */
export type TicketKeyRing = Buffer;
export const TICKET_KEY_BYTES = SESSION_TICKET_KEY_BYTES;
const TICKET_KEY_NAME_BYTES = 16;

/** The ring after a rotation: `next` becomes current, the former current becomes previous. */
export function rotateTicketKeyRing(ring: TicketKeyRing, next: Buffer): TicketKeyRing {
  if (next.length !== TICKET_KEY_BYTES) throw new Error(`ticket keys: a key is ${TICKET_KEY_BYTES} bytes, got ${next.length}`);
  return Buffer.concat([next, ring.subarray(0, TICKET_KEY_BYTES)]);
}

/**
 * The ring the operator sent with the configs (ProxyConfig.sessionTicketKeys), or null when
 * none carries one. validateProxyConfigs has checked the keys and that the configs agree.
 */
export function sharedTicketKeyRing(configs: readonly ProxyConfig[]): TicketKeyRing | null {
  const keys = configs.find((c) => c.sessionTicketKeys !== undefined)?.sessionTicketKeys;
  return keys === undefined ? null : Buffer.concat(keys.map((k) => Buffer.from(k, 'base64')));
}

export function ticketKeyRingProblem(ring: Buffer): string | null {
  return ring.length === TICKET_KEY_BYTES || ring.length === 2 * TICKET_KEY_BYTES ? null : `must be ${TICKET_KEY_BYTES} or ${2 * TICKET_KEY_BYTES} bytes, got ${ring.length}`;
}

interface TicketState {
  currentName: Buffer;
  previousKey: Buffer | null;
  /** The previous key's name in hex, as ClientHello.ticketKeyName gives it. */
  previousName: string | null;
  /** Built on the first handshake that offers a ticket under the previous key (most never do). */
  previousContext: tls.SecureContext | null;
  /** Seconds a ticket stays valid (OpenSSL's session timeout; also the client's lifetime hint). */
  lifetimeSeconds: number;
  build(ticketKey: Buffer): tls.SecureContext;
}

/** Tickets live as long as a key stays current, so every ticket resumes for its whole lifetime. */
export const DEFAULT_TICKET_LIFETIME_SECONDS = 60 * 60;

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
export function buildServingCertificate(
  cert: CertificateConfig,
  ticketKeys: TicketKeyRing,
  where: string,
  ticketLifetimeSeconds = DEFAULT_TICKET_LIFETIME_SECONDS,
): ServingCertificate {
  const secret = `${cert.secret.namespace}/${cert.secret.name}`;
  const build = (ticketKey: Buffer): tls.SecureContext =>
    tls.createSecureContext({
      cert: cert.certificatePem,
      key: cert.privateKeyPem,
      minVersion: 'TLSv1.2',
      maxVersion: 'TLSv1.3',
      ticketKeys: ticketKey,
      sessionTimeout: ticketLifetimeSeconds,
    });
  let context: tls.SecureContext;
  try {
    context = build(ticketKeys.subarray(0, TICKET_KEY_BYTES));
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
    tickets: {
      currentName: Buffer.from(ticketKeys.subarray(0, TICKET_KEY_NAME_BYTES)),
      previousKey: ticketKeys.length >= 2 * TICKET_KEY_BYTES ? Buffer.from(ticketKeys.subarray(TICKET_KEY_BYTES, 2 * TICKET_KEY_BYTES)) : null,
      previousName: ticketKeys.length >= 2 * TICKET_KEY_BYTES ? ticketKeys.toString('hex', TICKET_KEY_BYTES, TICKET_KEY_BYTES + TICKET_KEY_NAME_BYTES) : null,
      previousContext: null,
      lifetimeSeconds: ticketLifetimeSeconds,
      build,
    },
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

/**
 * Rotation: the ring's current key becomes the context's encryption key, and the key it had
 * stays usable for decryption (a context for it is built only when a client offers such a
 * ticket). A ring whose current key is already in place changes nothing.
 */
export function setTicketKeys(cert: ServingCertificate, ring: TicketKeyRing): void {
  const current = ring.subarray(0, TICKET_KEY_BYTES);
  const tickets = cert.tickets;
  if (current.subarray(0, TICKET_KEY_NAME_BYTES).equals(tickets.currentName)) return;
  // tls.Server#setTicketKeys does the same on its own context; a SecureContext exposes the
  // native handle as `.context`.
  (cert.context as unknown as { context: { setTicketKeys(k: Buffer): void } }).context.setTicketKeys(current);
  tickets.currentName = Buffer.from(current.subarray(0, TICKET_KEY_NAME_BYTES));
  tickets.previousKey = ring.length >= 2 * TICKET_KEY_BYTES ? Buffer.from(ring.subarray(TICKET_KEY_BYTES, 2 * TICKET_KEY_BYTES)) : null;
  tickets.previousName = ring.length >= 2 * TICKET_KEY_BYTES ? ring.toString('hex', TICKET_KEY_BYTES, TICKET_KEY_BYTES + TICKET_KEY_NAME_BYTES) : null;
  tickets.previousContext = null;
}

/**
 * The context for one handshake: the current one, unless the client offers a ticket made
 * under the previous key (its first 16 bytes name the key, see ClientHello.ticketKeyName).
 * Node's SecureContext holds one ticket key, so the overlap needs a second context; a session
 * resumed there gets its new ticket under the previous key, which lives one more rotation.
 */
export function secureContextFor(cert: ServingCertificate, ticketKeyName: string | null): tls.SecureContext {
  const tickets = cert.tickets;
  if (ticketKeyName === null || ticketKeyName !== tickets.previousName || tickets.previousKey === null) return cert.context;
  if (tickets.previousContext === null) {
    try {
      tickets.previousContext = tickets.build(tickets.previousKey);
    } catch {
      // It built once already; should it fail now (memory), a full handshake is the fallback.
      return cert.context;
    }
  }
  return tickets.previousContext;
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
