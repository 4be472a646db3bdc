/**
 * One fuzz input from a seed ClientHello: a few structure-aware mutations (server name, length
 * fields, extensions, fields, record framing, bytes, truncation, trailing bytes) and a cut into
 * TCP writes. `mustRoute` is set when every mutation kept the hello valid and its server name
 * routed: the proxy must then pass it on, not merely close it without a byte.
 */
import { frame, handshakeBytes, parseClientHello, sniData, SNI_EXTENSION, type ClientHello, type LengthErrors, type LengthField } from './clienthello-model.js';

export interface FuzzTarget {
  /** Server names routed on the port the input goes to. */
  routedNames: string[];
}

export interface FuzzInput {
  bytes: Buffer;
  /** Sizes of the TCP writes, summing to bytes.length. */
  writes: number[];
  /** Pause before each write after the first, ms (0 = next event-loop turn). */
  gapMs: number;
  mustRoute: boolean;
  /** The routed server name the hello carries (in some spelling), null when it carries another or none. */
  serverName: string | null;
  /** What was done, for the report of a failing input. */
  mutations: string[];
}

const MAX_HELLO_BYTES = 16 * 1024; // the proxy's default maxClientHelloBytes
const LENGTH_FIELDS: LengthField[] = ['record', 'handshake', 'sessionId', 'cipherSuites', 'compression', 'extensions', 'sniList', 'sniName'];
const LENGTH_DELTAS = [-65536, -300, -5, -2, -1, 1, 2, 5, 300, 0x8000];

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]!;
}

function int(random: () => number, max: number): number {
  return Math.floor(random() * (max + 1));
}

function randomBytes(random: () => number, count: number): Buffer {
  const out = Buffer.alloc(count);
  for (let i = 0; i < count; i++) out[i] = int(random, 255);
  return out;
}

function clone(hello: ClientHello): ClientHello {
  return { ...hello, extensions: hello.extensions.map((e) => ({ type: e.type, data: Buffer.from(e.data) })) };
}

function setServerName(hello: ClientHello, name: Buffer, errors: LengthErrors = {}): void {
  const data = sniData(name, errors);
  const existing = hello.extensions.find((e) => e.type === SNI_EXTENSION);
  if (existing) existing.data = data;
  else hello.extensions.unshift({ type: SNI_EXTENSION, data });
}

export function mutate(seedWire: Buffer, target: FuzzTarget, random: () => number): FuzzInput {
  const hello = clone(parseClientHello(seedWire));
  const mutations: string[] = [];
  const lengthErrors: LengthErrors = {};
  let valid = true;
  let routedName = true;
  let maxFragment = 16384;
  let recordType = 22;

  // Most inputs aim at a routed name, so that what follows the hello is exercised too.
  const name = pick(random, target.routedNames);
  const nameForm = int(random, 9);
  if (nameForm <= 4) {
    setServerName(hello, Buffer.from(name));
  } else if (nameForm === 5) {
    setServerName(hello, Buffer.from(name.toUpperCase() + '.'));
    mutations.push('sni:upper+dot');
  } else {
    routedName = false;
    const odd = pick(random, ['unrouted.invalid', '', 'a'.repeat(300), '127.0.0.1', 'a\u0000b.example', '\u00ff\u00fe', `x.${name}`, '*.' + name]);
    setServerName(hello, Buffer.from(odd, 'latin1'));
    mutations.push(`sni:${JSON.stringify(odd.slice(0, 20))}`);
  }

  const rounds = 1 + int(random, 2);
  for (let round = 0; round < rounds; round++) {
    switch (int(random, 11)) {
      case 0: {
        const field = pick(random, LENGTH_FIELDS);
        const delta = pick(random, LENGTH_DELTAS);
        lengthErrors[field] = (lengthErrors[field] ?? 0) + delta;
        mutations.push(`length:${field}${delta > 0 ? '+' : ''}${delta}`);
        valid = false;
        if (field === 'sniList' || field === 'sniName') setServerName(hello, Buffer.from(name), lengthErrors);
        break;
      }
      case 1: {
        if (hello.extensions.length === 0) break;
        const index = int(random, hello.extensions.length - 1);
        const [removed] = hello.extensions.splice(index, 1);
        mutations.push(`drop-extension:${removed!.type}`);
        if (removed!.type === SNI_EXTENSION) routedName = false;
        break;
      }
      case 2: {
        if (hello.extensions.length === 0) break;
        const extension = pick(random, hello.extensions);
        hello.extensions.push({ type: extension.type, data: Buffer.from(extension.data) });
        mutations.push(`duplicate-extension:${extension.type}`);
        valid = false;
        break;
      }
      case 3: {
        for (let i = hello.extensions.length - 1; i > 0; i--) {
          const j = int(random, i);
          [hello.extensions[i], hello.extensions[j]] = [hello.extensions[j]!, hello.extensions[i]!];
        }
        mutations.push('shuffle-extensions');
        break;
      }
      case 4: {
        // An unknown extension (padding-like): big ones make the hello span several records.
        const size = pick(random, [0, 1, 200, 1500, 5000, 12000]);
        hello.extensions.splice(int(random, hello.extensions.length), 0, { type: 0xfa00 + int(random, 255), data: randomBytes(random, size) });
        mutations.push(`add-extension:${size}`);
        break;
      }
      case 5: {
        const field = pick(random, ['sessionId', 'cipherSuites', 'compression'] as const);
        const size = field === 'sessionId' ? pick(random, [0, 32, 33, 255]) : pick(random, [0, 1, 3, 200]);
        hello[field] = randomBytes(random, size);
        mutations.push(`field:${field}=${size}`);
        if (!(field === 'sessionId' && size <= 32)) valid = false;
        break;
      }
      case 6:
        maxFragment = pick(random, [1, 2, 5, 64, 300, 1000]);
        mutations.push(`records:${maxFragment}`);
        break;
      case 7:
        recordType = pick(random, [0, 20, 21, 23, 0x80, 255]);
        mutations.push(`record-type:${recordType}`);
        valid = false;
        break;
      case 8:
        hello.legacyVersion = pick(random, [0x0300, 0x0301, 0x0302, 0x0304, 0xffff]);
        mutations.push(`legacy-version:${hello.legacyVersion.toString(16)}`);
        valid = false;
        break;
      default:
        break; // the seed's structure unchanged (framing and writes below still vary)
    }
  }

  let bytes = frame(handshakeBytes(hello, lengthErrors), hello.recordVersion, maxFragment, lengthErrors);
  if (recordType !== 22) bytes[0] = recordType;
  const helloWireBytes = bytes.length;
  const tail = int(random, 9);
  if (tail === 0) {
    const flips = 1 + int(random, 4);
    for (let i = 0; i < flips; i++) bytes[int(random, bytes.length - 1)] ^= 1 << int(random, 7);
    mutations.push(`flip:${flips}`);
    valid = false;
  } else if (tail === 1) {
    bytes = bytes.subarray(0, int(random, bytes.length - 1));
    mutations.push(`truncate:${bytes.length}`);
    valid = false;
  } else if (tail === 2) {
    bytes = Buffer.concat([bytes, randomBytes(random, 1 + int(random, 3000))]);
    mutations.push('trailing-bytes');
  }

  // TCP writes: one, a few, or byte by byte at the start.
  const writes: number[] = [];
  const style = int(random, 3);
  if (style === 0 || bytes.length === 0) {
    writes.push(bytes.length);
  } else {
    let left = bytes.length;
    while (left > 0) {
      const size = Math.min(left, style === 1 ? 1 + int(random, 7) : 1 + int(random, 1500));
      writes.push(size);
      left -= size;
    }
    if (writes.length > 40) writes.splice(40, writes.length - 40, writes.slice(40).reduce((a, b) => a + b, 0));
    mutations.push(`writes:${writes.length}`);
  }
  return { bytes, writes, gapMs: int(random, 3) === 0 ? 1 : 0, mustRoute: valid && routedName && helloWireBytes <= MAX_HELLO_BYTES, serverName: routedName ? name : null, mutations };
}
