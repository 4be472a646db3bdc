/**
 * A ClientHello as structure, for mutating it the way a fuzzer that knows TLS would: the
 * handshake's fields and extensions as values, written back with lengths that are either right
 * or deliberately wrong, then framed into records and cut into TCP writes of chosen sizes.
 * Everything random comes from one seeded generator, so an input is reproduced from its number.
 */

/** mulberry32: small, fast, good enough to drive mutations; a seed gives the same stream. */
export function randomSource(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Extension {
  type: number;
  data: Buffer;
}

export interface ClientHello {
  legacyVersion: number;
  random: Buffer;
  sessionId: Buffer;
  cipherSuites: Buffer;
  compression: Buffer;
  extensions: Extension[];
  /** The record layer version of the first record. */
  recordVersion: number;
}

/** Length fields a mutation may set wrong, by how much (added to the right value, then masked to the field's width). */
export type LengthField = 'record' | 'handshake' | 'sessionId' | 'cipherSuites' | 'compression' | 'extensions' | 'sniList' | 'sniName';
export type LengthErrors = Partial<Record<LengthField, number>>;

export const SNI_EXTENSION = 0;

/** The handshake message of a captured hello (its records' fragments joined), parsed; throws on what a real client never sends. */
export function parseClientHello(wire: Buffer): ClientHello {
  const fragments: Buffer[] = [];
  let offset = 0;
  const recordVersion = wire.readUInt16BE(1);
  while (offset + 5 <= wire.length) {
    const length = wire.readUInt16BE(offset + 3);
    fragments.push(wire.subarray(offset + 5, offset + 5 + length));
    offset += 5 + length;
  }
  const message = Buffer.concat(fragments);
  if (message[0] !== 1) throw new Error('not a ClientHello');
  const body = message.subarray(4, 4 + message.readUIntBE(1, 3));
  let at = 0;
  const legacyVersion = body.readUInt16BE(at);
  at += 2;
  const random = body.subarray(at, at + 32);
  at += 32;
  const sessionId = body.subarray(at + 1, at + 1 + body[at]!);
  at += 1 + sessionId.length;
  const cipherSuites = body.subarray(at + 2, at + 2 + body.readUInt16BE(at));
  at += 2 + cipherSuites.length;
  const compression = body.subarray(at + 1, at + 1 + body[at]!);
  at += 1 + compression.length;
  const extensions: Extension[] = [];
  const end = at + 2 + body.readUInt16BE(at);
  at += 2;
  while (at + 4 <= end) {
    const type = body.readUInt16BE(at);
    const length = body.readUInt16BE(at + 2);
    extensions.push({ type, data: Buffer.from(body.subarray(at + 4, at + 4 + length)) });
    at += 4 + length;
  }
  return { legacyVersion, random: Buffer.from(random), sessionId: Buffer.from(sessionId), cipherSuites: Buffer.from(cipherSuites), compression: Buffer.from(compression), extensions, recordVersion };
}

function uint(value: number, bytes: number): Buffer {
  const out = Buffer.alloc(bytes);
  out.writeUIntBE(((value % 2 ** (8 * bytes)) + 2 ** (8 * bytes)) % 2 ** (8 * bytes), 0, bytes);
  return out;
}

/** The SNI extension's data for `name`, with optional wrong lengths. */
export function sniData(name: Buffer, errors: LengthErrors = {}): Buffer {
  const entry = Buffer.concat([Buffer.from([0]), uint(name.length + (errors.sniName ?? 0), 2), name]);
  return Buffer.concat([uint(entry.length + (errors.sniList ?? 0), 2), entry]);
}

/** The handshake message (type, length, body). */
export function handshakeBytes(hello: ClientHello, errors: LengthErrors = {}): Buffer {
  const extensions = Buffer.concat(hello.extensions.map((e) => Buffer.concat([uint(e.type, 2), uint(e.data.length, 2), e.data])));
  const body = Buffer.concat([
    uint(hello.legacyVersion, 2),
    hello.random,
    uint(hello.sessionId.length + (errors.sessionId ?? 0), 1),
    hello.sessionId,
    uint(hello.cipherSuites.length + (errors.cipherSuites ?? 0), 2),
    hello.cipherSuites,
    uint(hello.compression.length + (errors.compression ?? 0), 1),
    hello.compression,
    uint(extensions.length + (errors.extensions ?? 0), 2),
    extensions,
  ]);
  return Buffer.concat([Buffer.from([1]), uint(body.length + (errors.handshake ?? 0), 3), body]);
}

/** Frames a handshake message into records of at most `maxFragment` bytes (the last record's length may be set wrong). */
export function frame(message: Buffer, recordVersion: number, maxFragment: number, errors: LengthErrors = {}): Buffer {
  const records: Buffer[] = [];
  for (let start = 0; start < message.length || start === 0; start += maxFragment) {
    const fragment = message.subarray(start, start + maxFragment);
    const last = start + maxFragment >= message.length;
    records.push(Buffer.concat([Buffer.from([22]), uint(recordVersion, 2), uint(fragment.length + (last ? (errors.record ?? 0) : 0), 2), fragment]));
    if (fragment.length === 0) break;
  }
  return Buffer.concat(records);
}

export function serverNameOf(hello: ClientHello): string | null {
  const sni = hello.extensions.find((e) => e.type === SNI_EXTENSION);
  if (sni === undefined || sni.data.length < 5) return null;
  return sni.data.subarray(5, 5 + sni.data.readUInt16BE(3)).toString('latin1');
}
