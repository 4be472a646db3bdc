// The ClientHello reader: reassembles a TLS ClientHello from the first bytes a client sends,
// across any number of TCP segments and TLS records, and extracts what routing and
// certificate choice need. It never throws on input: every outcome is a value, and every
// failure carries a reason that the engine counts and logs.
//
// Wire format (RFC 8446 §5.1, §4.1.2; RFC 5246 §6.2): records of
//   type(1)=22 handshake | version(2) 0x03xx | length(2) <= 2^14 | fragment
// whose fragments concatenate to the handshake message
//   type(1)=1 client_hello | length(3) | body.

export type ClientHelloError =
  | 'not_tls' // first bytes are not a TLS handshake record (plain HTTP, SSLv2, garbage)
  | 'too_large' // more than the configured cap buffered before the hello completed
  | 'malformed' // a TLS record stream that does not hold a well-formed ClientHello
  | 'truncated' // the client closed before the hello was complete
  | 'timeout' // the hello did not complete within the configured time
  | 'no_sni'; // a well-formed hello without a server_name (routing needs one)

/** Signature-scheme families the client accepts, as a bit set (for certificate choice). */
export const KEY_RSA = 1;
export const KEY_EC = 2;
export const KEY_ED25519 = 4;
export const KEY_ED448 = 8;
export const KEY_ANY = KEY_RSA | KEY_EC | KEY_ED25519 | KEY_ED448;

export interface ClientHello {
  /** Lowercase host_name of the server_name extension, without a trailing dot; null if absent. */
  sni: string | null;
  /** ALPN protocol names in client order; empty when the extension is absent. */
  alpn: string[];
  /** signature_algorithms code points in client order; empty when absent. */
  signatureAlgorithms: number[];
  /** Key types the client can verify (KEY_* bits); KEY_ANY when it did not say. */
  keyTypes: number;
  /** Highest version offered (0x0303 TLS 1.2, 0x0304 TLS 1.3), from supported_versions if present. */
  maxVersion: number;
  /** Length of the handshake message (header included). */
  messageLength: number;
  /**
   * The first 16 bytes of the session ticket the client offers (TLS 1.2 session_ticket, or the
   * first TLS 1.3 pre_shared_key identity), in hex: OpenSSL's ticket key name, which picks the
   * ticket key that can decrypt it (proxy/certificates.ts). null when no ticket is offered.
   * A string, so that a connection does not keep its first read's buffer alive through it.
   */
  ticketKeyName: string | null;
}

export type ParseResult =
  | { kind: 'more' }
  | { kind: 'done'; hello: ClientHello }
  | { kind: 'error'; reason: ClientHelloError; detail: string; hello?: ClientHello };

const MORE: ParseResult = Object.freeze({ kind: 'more' });
const RECORD_HEADER = 5;
const HANDSHAKE_HEADER = 4;
const MAX_RECORD_FRAGMENT = 16384;
const CONTENT_HANDSHAKE = 22;
const HANDSHAKE_CLIENT_HELLO = 1;
/** OpenSSL's session tickets start with a 16-byte key name (TLSEXT_KEYNAME_LENGTH). */
const TICKET_KEY_NAME_BYTES = 16;

function fail(reason: ClientHelloError, detail: string): ParseResult {
  return { kind: 'error', reason, detail };
}

/**
 * Incremental assembler for one connection. push() every chunk the client sends, in order;
 * it returns 'more' until the ClientHello is complete or proven bad. The bytes received are
 * kept (`bytes()`) so that they can be replayed exactly to a backend or a TLS server.
 *
 * Fast path: a hello that arrives whole in the first chunk is parsed in place, no copy.
 */
export class ClientHelloAssembler {
  private readonly maxBytes: number;
  /** All bytes received so far: the first chunk itself, or a growing copy on the slow path. */
  private raw: Buffer | null = null;
  private rawLength = 0;
  /** Offset in raw of the next record header not yet consumed. */
  private recordOffset = 0;
  /** Handshake bytes collected from complete records (slow path only). */
  private handshake: Buffer | null = null;
  private handshakeLength = 0;
  private finished: ParseResult | null = null;

  constructor(maxBytes: number) {
    this.maxBytes = maxBytes;
  }

  /** Everything received so far (the exact bytes to replay). */
  bytes(): Buffer {
    if (this.raw === null) return Buffer.alloc(0);
    return this.rawLength === this.raw.length ? this.raw : this.raw.subarray(0, this.rawLength);
  }

  get receivedLength(): number {
    return this.rawLength;
  }

  push(chunk: Buffer): ParseResult {
    if (this.finished !== null) return this.finished;
    if (chunk.length === 0) return MORE;
    if (this.raw === null) {
      this.raw = chunk;
      this.rawLength = chunk.length;
    } else {
      this.append(chunk);
    }
    const result = this.advance();
    if (result.kind !== 'more') {
      this.finished = result;
    } else if (this.rawLength > this.maxBytes) {
      this.finished = fail('too_large', `more than ${this.maxBytes} bytes buffered without a complete ClientHello`);
      return this.finished;
    }
    return result;
  }

  private append(chunk: Buffer): void {
    const raw = this.raw as Buffer;
    const needed = this.rawLength + chunk.length;
    // The first chunk belongs to the socket; copy before writing. Grow geometrically, bounded
    // by the cap plus this chunk (so an overflow is still seen and reported).
    if (!this.owned || needed > raw.length) {
      const capacity = Math.max(needed, Math.min(Math.max(this.rawLength * 2, 1024), this.maxBytes + chunk.length));
      const grown = Buffer.allocUnsafe(capacity);
      raw.copy(grown, 0, 0, this.rawLength);
      this.raw = grown;
      this.owned = true;
    }
    chunk.copy(this.raw as Buffer, this.rawLength);
    this.rawLength = needed;
  }

  /** True once raw is our own copy (the first chunk is never written into). */
  private owned = false;

  private advance(): ParseResult {
    const raw = this.raw as Buffer;
    const end = this.rawLength;
    // Cheap early verdict on the first bytes: most non-TLS input is rejected at byte one.
    if (this.recordOffset === 0) {
      if (raw[0] !== CONTENT_HANDSHAKE) return fail('not_tls', `first byte 0x${hex2(raw[0] as number)} is not a TLS handshake record`);
      if (end >= 2 && raw[1] !== 3) return fail('not_tls', `record version major ${raw[1]} is not 3`);
    }
    for (;;) {
      if (end - this.recordOffset < RECORD_HEADER) return MORE;
      const at = this.recordOffset;
      const type = raw[at] as number;
      if (type !== CONTENT_HANDSHAKE) {
        return at === 0
          ? fail('not_tls', `first byte 0x${hex2(type)} is not a TLS handshake record`)
          : fail('malformed', `record of content type ${type} before the ClientHello was complete`);
      }
      if (raw[at + 1] !== 3) return at === 0 ? fail('not_tls', 'record version major is not 3') : fail('malformed', 'record version major is not 3');
      const fragmentLength = raw.readUInt16BE(at + 3);
      if (fragmentLength === 0) return fail('malformed', 'empty handshake record');
      if (fragmentLength > MAX_RECORD_FRAGMENT) return fail('malformed', `record length ${fragmentLength} exceeds 2^14`);
      if (at === 0 && end > 5 && raw[5] !== HANDSHAKE_CLIENT_HELLO) {
        return fail('malformed', `first handshake message type ${raw[5]} is not ClientHello`);
      }
      const fragmentEnd = at + RECORD_HEADER + fragmentLength;
      if (fragmentEnd > end) {
        // Say early when the declared sizes alone exceed the cap.
        if (fragmentEnd > this.maxBytes) return fail('too_large', `record ends at byte ${fragmentEnd}, cap is ${this.maxBytes}`);
        return MORE;
      }
      // Fast path: the first record holds the whole handshake message.
      if (at === 0 && this.handshake === null && fragmentLength >= HANDSHAKE_HEADER) {
        const messageLength = HANDSHAKE_HEADER + raw.readUIntBE(6, 3);
        if (messageLength <= fragmentLength) {
          if (RECORD_HEADER + messageLength > this.maxBytes) return fail('too_large', `ClientHello of ${messageLength} bytes, cap is ${this.maxBytes}`);
          return parseClientHelloMessage(raw, RECORD_HEADER, RECORD_HEADER + messageLength);
        }
      }
      this.collect(raw, at + RECORD_HEADER, fragmentEnd);
      this.recordOffset = fragmentEnd;
      if (this.handshakeLength >= HANDSHAKE_HEADER) {
        const hs = this.handshake as Buffer;
        if (hs[0] !== HANDSHAKE_CLIENT_HELLO) return fail('malformed', `first handshake message type ${hs[0]} is not ClientHello`);
        const messageLength = HANDSHAKE_HEADER + hs.readUIntBE(1, 3);
        if (messageLength > this.maxBytes) return fail('too_large', `ClientHello declares ${messageLength} bytes, cap is ${this.maxBytes}`);
        if (this.handshakeLength >= messageLength) return parseClientHelloMessage(hs, 0, messageLength);
      }
    }
  }

  private collect(raw: Buffer, start: number, end: number): void {
    const length = end - start;
    if (this.handshake === null) this.handshake = Buffer.allocUnsafe(Math.max(length, 1024));
    let hs = this.handshake;
    if (this.handshakeLength + length > hs.length) {
      const grown = Buffer.allocUnsafe(Math.max(this.handshakeLength + length, hs.length * 2));
      hs.copy(grown, 0, 0, this.handshakeLength);
      this.handshake = hs = grown;
    }
    raw.copy(hs, this.handshakeLength, start, end);
    this.handshakeLength += length;
  }
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}

/** Parses one whole ClientHello handshake message held in buf[start, end). Never throws. */
export function parseClientHelloMessage(buf: Buffer, start: number, end: number): ParseResult {
  const messageLength = end - start;
  let p = start + HANDSHAKE_HEADER;
  // legacy_version(2) random(32)
  if (p + 34 > end) return fail('malformed', 'ClientHello shorter than version and random');
  const legacyVersion = buf.readUInt16BE(p);
  p += 34;
  // legacy_session_id<0..32>
  const sessionIdLength = buf[p++] as number;
  if (sessionIdLength > 32 || p + sessionIdLength > end) return fail('malformed', 'bad session id length');
  p += sessionIdLength;
  // cipher_suites<2..2^16-2>
  if (p + 2 > end) return fail('malformed', 'missing cipher suites');
  const suitesLength = buf.readUInt16BE(p);
  p += 2;
  if (suitesLength < 2 || suitesLength % 2 !== 0 || p + suitesLength > end) return fail('malformed', 'bad cipher suites length');
  p += suitesLength;
  // legacy_compression_methods<1..2^8-1>
  if (p + 1 > end) return fail('malformed', 'missing compression methods');
  const compressionLength = buf[p++] as number;
  if (compressionLength < 1 || p + compressionLength > end) return fail('malformed', 'bad compression methods length');
  p += compressionLength;

  const hello: ClientHello = {
    sni: null,
    alpn: [],
    signatureAlgorithms: [],
    keyTypes: KEY_ANY,
    maxVersion: legacyVersion,
    messageLength,
    ticketKeyName: null,
  };
  if (p === end) return { kind: 'error', reason: 'no_sni', detail: 'ClientHello has no extensions', hello };
  if (p + 2 > end) return fail('malformed', 'truncated extensions length');
  const extensionsLength = buf.readUInt16BE(p);
  p += 2;
  if (p + extensionsLength !== end) return fail('malformed', 'extensions length does not match the message length');

  let seen = 0; // bit set of the few extensions we parse, to refuse duplicates
  while (p < end) {
    if (p + 4 > end) return fail('malformed', 'truncated extension header');
    const type = buf.readUInt16BE(p);
    const length = buf.readUInt16BE(p + 2);
    p += 4;
    const extEnd = p + length;
    if (extEnd > end) return fail('malformed', `extension ${type} overruns the message`);
    let problem: string | null = null;
    switch (type) {
      case 0: // server_name
        if (seen & 1) return fail('malformed', 'duplicate server_name extension');
        seen |= 1;
        problem = parseServerName(buf, p, extEnd, hello);
        break;
      case 16: // application_layer_protocol_negotiation
        if (seen & 2) return fail('malformed', 'duplicate ALPN extension');
        seen |= 2;
        problem = parseAlpn(buf, p, extEnd, hello);
        break;
      case 13: // signature_algorithms
        if (seen & 4) return fail('malformed', 'duplicate signature_algorithms extension');
        seen |= 4;
        problem = parseSignatureAlgorithms(buf, p, extEnd, hello);
        break;
      case 43: // supported_versions
        if (seen & 8) return fail('malformed', 'duplicate supported_versions extension');
        seen |= 8;
        problem = parseSupportedVersions(buf, p, extEnd, hello);
        break;
      case 35: // session_ticket (TLS 1.2): the ticket itself, often empty
        if (length >= TICKET_KEY_NAME_BYTES) hello.ticketKeyName = buf.toString('hex', p, p + TICKET_KEY_NAME_BYTES);
        break;
      case 41: // pre_shared_key (TLS 1.3): identities<u16> of identity<u16> + age(4); binders follow
        if (length >= 4 + TICKET_KEY_NAME_BYTES && buf.readUInt16BE(p + 2) >= TICKET_KEY_NAME_BYTES) {
          hello.ticketKeyName = buf.toString('hex', p + 4, p + 4 + TICKET_KEY_NAME_BYTES);
        }
        break;
      default:
        break;
    }
    if (problem !== null) return fail('malformed', problem);
    p = extEnd;
  }
  if (hello.sni === null) return { kind: 'error', reason: 'no_sni', detail: 'ClientHello has no server_name', hello };
  return { kind: 'done', hello };
}

function parseServerName(buf: Buffer, p: number, end: number, hello: ClientHello): string | null {
  if (p + 2 > end) return 'server_name list length missing';
  const listLength = buf.readUInt16BE(p);
  p += 2;
  if (p + listLength !== end || listLength === 0) return 'server_name list length does not match';
  while (p < end) {
    if (p + 3 > end) return 'truncated server_name entry';
    const nameType = buf[p] as number;
    const nameLength = buf.readUInt16BE(p + 1);
    p += 3;
    if (p + nameLength > end) return 'server_name entry overruns the extension';
    if (nameType === 0) {
      if (hello.sni !== null) return 'more than one host_name';
      const name = hostName(buf, p, p + nameLength);
      if (name === null) return 'host_name is not a valid DNS name';
      hello.sni = name;
    }
    p += nameLength;
  }
  return null;
}

/**
 * Lowercase ASCII DNS name without a trailing dot, or null when the bytes cannot be one.
 * A `*` is refused: an SNI never holds a wildcard, and must not match one as a pattern.
 */
function hostName(buf: Buffer, start: number, end: number): string | null {
  if (end > start && buf[end - 1] === 0x2e) end--; // absolute name "a.example.com."
  const length = end - start;
  if (length < 1 || length > 253) return null;
  for (let i = start; i < end; i++) {
    const c = buf[i] as number;
    const ok =
      (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2e || c === 0x5f;
    if (!ok) return null;
  }
  return buf.toString('latin1', start, end).toLowerCase();
}

function parseAlpn(buf: Buffer, p: number, end: number, hello: ClientHello): string | null {
  if (p + 2 > end) return 'ALPN list length missing';
  const listLength = buf.readUInt16BE(p);
  p += 2;
  if (p + listLength !== end || listLength === 0) return 'ALPN list length does not match';
  while (p < end) {
    const length = buf[p++] as number;
    if (length === 0 || p + length > end) return 'bad ALPN protocol length';
    hello.alpn.push(buf.toString('latin1', p, p + length));
    p += length;
  }
  return null;
}

function parseSignatureAlgorithms(buf: Buffer, p: number, end: number, hello: ClientHello): string | null {
  if (p + 2 > end) return 'signature_algorithms length missing';
  const listLength = buf.readUInt16BE(p);
  p += 2;
  if (p + listLength !== end || listLength === 0 || listLength % 2 !== 0) return 'signature_algorithms length does not match';
  let keyTypes = 0;
  for (; p < end; p += 2) {
    const scheme = buf.readUInt16BE(p);
    hello.signatureAlgorithms.push(scheme);
    keyTypes |= keyTypeOfScheme(scheme);
  }
  hello.keyTypes = keyTypes;
  return null;
}

/** Maps a SignatureScheme (RFC 8446 §4.2.3, and TLS 1.2 hash/signature pairs) to a key type. */
function keyTypeOfScheme(scheme: number): number {
  if (scheme === 0x0807) return KEY_ED25519;
  if (scheme === 0x0808) return KEY_ED448;
  if (scheme >= 0x0804 && scheme <= 0x0806) return KEY_RSA; // rsa_pss_rsae_*
  if (scheme >= 0x0809 && scheme <= 0x080b) return KEY_RSA; // rsa_pss_pss_*
  const signature = scheme & 0xff; // TLS 1.2 SignatureAndHashAlgorithm: low byte = signature
  if (signature === 1) return KEY_RSA;
  if (signature === 3) return KEY_EC;
  return 0;
}

function parseSupportedVersions(buf: Buffer, p: number, end: number, hello: ClientHello): string | null {
  if (p + 1 > end) return 'supported_versions length missing';
  const listLength = buf[p++] as number;
  if (p + listLength !== end || listLength === 0 || listLength % 2 !== 0) return 'supported_versions length does not match';
  let max = 0;
  for (; p < end; p += 2) {
    const version = buf.readUInt16BE(p);
    // GREASE values (0x?a?a) are not versions.
    if ((version & 0x0f0f) === 0x0a0a) continue;
    if (version > max && version <= 0x0304) max = version;
  }
  if (max !== 0) hello.maxVersion = max;
  return null;
}
