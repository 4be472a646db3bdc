// The ClientHello reader against real ClientHellos from Node's TLS client, hostile inputs,
// and property-based fuzzing (fast-check): it never throws, and any way of splitting a
// valid hello into TCP chunks yields the same result.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import fc from 'fast-check';
import { ClientHelloAssembler, KEY_EC, KEY_RSA, type ParseResult } from '../../../proxy/clienthello.js';
import { captureClientHello, splitIntoRecords } from '../../e2e/proxy/helpers.js';

function parseChunks(chunks: Buffer[], maxBytes = 16384): ParseResult {
  const assembler = new ClientHelloAssembler(maxBytes);
  let result: ParseResult = { kind: 'more' };
  for (const chunk of chunks) {
    result = assembler.push(chunk);
    if (result.kind !== 'more') break;
  }
  return result;
}

function splitAt(buf: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (buf.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of points) {
    out.push(buf.subarray(prev, p));
    prev = p;
  }
  out.push(buf.subarray(prev));
  return out;
}

describe('ClientHello reader', () => {
  let hello: Buffer;
  let helloNoSni: Buffer;
  let helloAlpn: Buffer;
  let helloRsaOnly: Buffer;

  before(async () => {
    hello = await captureClientHello({ servername: 'Foo.Example.COM' });
    helloNoSni = await captureClientHello({}); // Node sends no SNI without servername
    helloAlpn = await captureClientHello({ servername: 'a.example.com', ALPNProtocols: ['h2', 'http/1.1'] });
    helloRsaOnly = await captureClientHello({ servername: 'a.example.com', sigalgs: 'rsa_pss_rsae_sha256:RSA+SHA256', maxVersion: 'TLSv1.2' });
  });

  it('extracts the SNI (lowercased), ALPN and the key types from real hellos', () => {
    const r = parseChunks([hello]);
    assert.equal(r.kind, 'done');
    assert.equal(r.kind === 'done' && r.hello.sni, 'foo.example.com');
    assert.ok(r.kind === 'done' && (r.hello.keyTypes & KEY_EC) !== 0 && (r.hello.keyTypes & KEY_RSA) !== 0);
    assert.ok(r.kind === 'done' && r.hello.maxVersion === 0x0304);
    const a = parseChunks([helloAlpn]);
    assert.deepEqual(a.kind === 'done' && a.hello.alpn, ['h2', 'http/1.1']);
    const rsa = parseChunks([helloRsaOnly]);
    assert.equal(rsa.kind === 'done' && rsa.hello.keyTypes, KEY_RSA);
    assert.equal(rsa.kind === 'done' && rsa.hello.maxVersion, 0x0303);
  });

  it('refuses an SNI holding a wildcard or bytes no DNS name has', async () => {
    for (const bad of ['*.example.com', 'a b.example.com']) {
      const h = await captureClientHello({ servername: 'x'.repeat(bad.length) });
      const at = h.indexOf(Buffer.from('x'.repeat(bad.length)));
      Buffer.from(bad, 'latin1').copy(h, at);
      const r = parseChunks([h]);
      assert.equal(r.kind === 'error' && r.reason, 'malformed', bad);
    }
  });

  it('reports no_sni for a hello without server_name, keeping what it parsed', () => {
    const r = parseChunks([helloNoSni]);
    assert.equal(r.kind, 'error');
    assert.equal(r.kind === 'error' && r.reason, 'no_sni');
    assert.ok(r.kind === 'error' && r.hello !== undefined);
  });

  it('reassembles 1-byte chunks and a hello split across several TLS records', () => {
    const oneByte = [...hello].map((b) => Buffer.from([b]));
    const r1 = parseChunks(oneByte);
    assert.equal(r1.kind === 'done' && r1.hello.sni, 'foo.example.com');
    for (const size of [1, 7, 100, 256]) {
      const records = splitIntoRecords(hello, size);
      const r = parseChunks([records], 64 * 1024);
      assert.equal(r.kind === 'done' && r.hello.sni, 'foo.example.com', `records of ${size} bytes`);
    }
  });

  it('keeps every received byte for replay, including bytes after the hello', () => {
    const trailing = Buffer.from('early data');
    const assembler = new ClientHelloAssembler(16384);
    assert.equal(assembler.push(hello.subarray(0, 10)).kind, 'more');
    const r = assembler.push(Buffer.concat([hello.subarray(10), trailing]));
    assert.equal(r.kind, 'done');
    assert.deepEqual(assembler.bytes(), Buffer.concat([hello, trailing]));
  });

  it('rejects non-TLS input at the first byte', () => {
    for (const text of ['GET / HTTP/1.1\r\n', '\x80\x2e\x01', 'SSH-2.0-OpenSSH']) {
      const r = parseChunks([Buffer.from(text, 'latin1')]);
      assert.equal(r.kind === 'error' && r.reason, 'not_tls', text);
    }
  });

  it('rejects a hello larger than the cap as too_large, also when it trickles in', () => {
    const small = 256;
    assert.equal((parseChunks([hello], small) as { reason?: string }).reason, 'too_large');
    const chunks = [...splitIntoRecords(hello, 16)].map((b) => Buffer.from([b]));
    assert.equal((parseChunks(chunks, small) as { reason?: string }).reason, 'too_large');
  });

  it('rejects structurally bad hellos as malformed', () => {
    const wrongType = Buffer.from(hello);
    wrongType[5] = 2; // ServerHello
    assert.equal((parseChunks([wrongType]) as { reason?: string }).reason, 'malformed');
    const badExtLen = Buffer.from(hello);
    badExtLen.writeUInt16BE(badExtLen.readUInt16BE(3) + 0, 3);
    // Claim a longer handshake body than the record carries, then end the record stream with an alert record.
    const alertAfter = Buffer.concat([splitIntoRecords(hello, 50).subarray(0, 55), Buffer.from([21, 3, 3, 0, 2, 2, 40])]);
    assert.equal((parseChunks([alertAfter]) as { reason?: string }).reason, 'malformed');
    const zeroRecord = Buffer.from([22, 3, 1, 0, 0]);
    assert.equal((parseChunks([zeroRecord]) as { reason?: string }).reason, 'malformed');
  });

  it('waits for more on a truncated hello (the engine turns EOF into truncated)', () => {
    assert.equal(parseChunks([hello.subarray(0, hello.length - 1)]).kind, 'more');
    assert.equal(parseChunks([hello.subarray(0, 3)]).kind, 'more');
  });

  it('property: never throws on arbitrary bytes, arbitrarily chunked', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 8 }), fc.boolean(), (chunks, tlsPrefix) => {
        const bufs = chunks.map((c) => Buffer.from(c));
        if (tlsPrefix) bufs.unshift(Buffer.from([22, 3, 1]));
        const r = parseChunks(bufs, 1024);
        assert.ok(r.kind === 'more' || r.kind === 'done' || r.kind === 'error');
      }),
      { numRuns: 2000 },
    );
  });

  it('property: never throws on mutated real hellos', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }), fc.nat(), (mutations, cut) => {
        const mutated = Buffer.from(helloAlpn);
        for (const [at, value] of mutations) mutated[at % mutated.length] = value;
        const r = parseChunks(splitAt(mutated, [cut]));
        if (r.kind === 'done') assert.equal(typeof r.hello.sni, 'string');
      }),
      { numRuns: 3000 },
    );
  });

  it('property: any split of a valid hello (also re-framed into records) yields the same result', () => {
    const whole = parseChunks([helloAlpn]);
    assert.equal(whole.kind, 'done');
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 12 }), fc.integer({ min: 0, max: 300 }), (cuts, recordSize) => {
        const input = recordSize === 0 ? helloAlpn : splitIntoRecords(helloAlpn, recordSize + 1);
        const r = parseChunks(splitAt(input, cuts), 64 * 1024);
        assert.deepEqual(r, whole);
      }),
      { numRuns: 1500 },
    );
  });
});
