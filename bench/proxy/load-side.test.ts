/**
 * Tests of the benchmark's Go load side (bench/proxy/go), not of anyone's speed: it is built
 * (or taken from the cache) and then counts against real local servers exactly what happened:
 * completed lifecycles, bytes, and every kind of failure, once per connection. The Go backends
 * pass the same routing checks (verify.ts, real Node TLS clients) as every proxy does.
 *
 * Run: `npm run build && node --test dist/bench/proxy/load-side.test.js`
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { LoadGenerators, startBackends, type LoadSide, type RunningBackends } from './children.js';
import { recordClientHello } from './client-hello.js';
import { buildGoLoadSide } from './load-side.js';
import { issueBenchCertificates } from './pki.js';
import { cpuCount } from './system.js';
import { directTarget } from './targets.js';
import { verifyTarget } from './verify.js';
import { PASS_HELLO_ANSWER_BYTES, SNI, TERM_GREETING, TLS_HANDSHAKE, tlsRecords, type ConnectionSpec, type LoadCommand } from './workloads.js';

const HOST = '127.0.0.1';
const ALL_CPUS = `0-${cpuCount() - 1}`;
const workDir = mkdtempSync(path.join(tmpdir(), 'tlsgate-load-side-test-'));
const certificates = issueBenchCertificates(workDir);

let side: LoadSide;
let generators: LoadGenerators;
let hello: Buffer;

before(async () => {
  side = { kind: 'go', binary: buildGoLoadSide() };
  generators = LoadGenerators.start(side, 1, ALL_CPUS);
  hello = await recordClientHello(SNI.passHello);
});
after(async () => {
  await generators?.stop();
  rmSync(workDir, { recursive: true, force: true });
});

/** A server on loopback that remembers what each connection did; closed after the test. */
async function serve(t: { after(fn: () => Promise<void>): void }, server: net.Server): Promise<number> {
  const sockets = new Set<net.Socket>();
  server.on('connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen({ host: HOST, port: 0 }, resolve));
  t.after(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return (server.address() as net.AddressInfo).port;
}

function rawSpec(port: number, expectBytes = PASS_HELLO_ANSWER_BYTES): ConnectionSpec {
  return { endpoint: { host: HOST, port }, protocol: 'raw', helloBase64: hello.toString('base64'), servername: SNI.passHello, expectBytes };
}

/** A passHello-like server: waits for the whole ClientHello, answers `answerBytes`, ends when the client ends (or not). */
function helloServer(counts: { hellos: number; graceful: number }, answerBytes: number, endOnEnd = true): net.Server {
  return net.createServer({ allowHalfOpen: true }, (socket) => {
    let received = Buffer.alloc(0);
    socket.on('error', () => socket.destroy());
    socket.on('data', (chunk: Buffer) => {
      const wasShort = received.length < hello.length;
      received = Buffer.concat([received, chunk]);
      if (!wasShort || received.length < hello.length) return;
      if (received.equals(hello)) counts.hellos += 1;
      if (answerBytes < PASS_HELLO_ANSWER_BYTES) socket.end(tlsRecords(TLS_HANDSHAKE, answerBytes));
      else socket.write(tlsRecords(TLS_HANDSHAKE, answerBytes));
    });
    socket.on('end', () => {
      counts.graceful += 1;
      if (endOnEnd) socket.end();
    });
  });
}

describe('Go load generator', () => {
  test('connect-rate counts full lifecycles against a server that answers and closes gracefully', async (t) => {
    const counts = { hellos: 0, graceful: 0 };
    const port = await serve(t, helloServer(counts, PASS_HELLO_ANSWER_BYTES));
    const result = await generators.run({ kind: 'connect-rate', connection: rawSpec(port), concurrency: 8, durationMs: 300 });
    assert.equal(result.errors, 0, result.firstError);
    assert.ok(result.ops > 0);
    // Every counted connection sent the recorded ClientHello byte for byte and closed gracefully.
    assert.equal(counts.hellos, result.ops);
    assert.equal(counts.graceful, result.ops);
  });

  test('connect-rate counts a connection closed before the expected bytes as an error, once', async (t) => {
    const counts = { hellos: 0, graceful: 0 };
    const port = await serve(t, helloServer(counts, 600));
    const result = await generators.run({ kind: 'connect-rate', connection: rawSpec(port), concurrency: 4, durationMs: 200 });
    assert.equal(result.ops, 0);
    assert.ok(result.errors > 0);
    assert.equal(result.errors, counts.hellos);
    assert.match(result.firstError ?? '', /closed after 600 of 1200 expected bytes/);
  });

  test('connect-rate counts connections the server never ends as errors after the grace period', async (t) => {
    const counts = { hellos: 0, graceful: 0 };
    const port = await serve(t, helloServer(counts, PASS_HELLO_ANSWER_BYTES, false));
    const result = await generators.run({ kind: 'connect-rate', connection: rawSpec(port), concurrency: 3, durationMs: 100 });
    // Each of the three connections got its answer, then hung: none completes a lifecycle.
    assert.equal(result.ops, 0);
    assert.equal(result.errors, 3);
    assert.equal(result.firstError, 'connection still open after the phase ended');
  });

  test('connect-rate counts each refused connection', async () => {
    // A port that was just freed: nothing listens there.
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen({ host: HOST, port: 0 }, resolve));
    const freePort = (closed.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const result = await generators.run({ kind: 'connect-rate', connection: rawSpec(freePort), concurrency: 2, durationMs: 100 });
    assert.equal(result.ops, 0);
    assert.ok(result.errors > 0);
    assert.match(result.firstError ?? '', /refused/);
  });

  test('TLS 1.3 full handshakes against a real Node TLS server with the bench certificates, no resumption', async (t) => {
    const seen = { handshakes: 0, resumed: 0, otherSni: 0, otherProtocol: 0 };
    const server = tls.createServer({ cert: certificates.gateway.certificatePem, key: certificates.gateway.privateKeyPem }, (socket) => {
      seen.handshakes += 1;
      if (socket.isSessionReused()) seen.resumed += 1;
      if (socket.servername !== SNI.termHello) seen.otherSni += 1;
      if (socket.getProtocol() !== 'TLSv1.3') seen.otherProtocol += 1;
      socket.on('error', () => socket.destroy());
      socket.write(TERM_GREETING);
      socket.on('end', () => socket.end());
    });
    const port = await serve(t, server);
    const connection: ConnectionSpec = { endpoint: { host: HOST, port }, protocol: 'tls', servername: SNI.termHello, expectBytes: Buffer.byteLength(TERM_GREETING) };
    const result = await generators.run({ kind: 'connect-rate', connection, concurrency: 4, durationMs: 300 });
    assert.equal(result.errors, 0, result.firstError);
    assert.ok(result.ops > 0);
    assert.equal(seen.handshakes, result.ops);
    assert.deepEqual({ resumed: seen.resumed, otherSni: seen.otherSni, otherProtocol: seen.otherProtocol }, { resumed: 0, otherSni: 0, otherProtocol: 0 });
  });

  test('bulk counts exactly the bytes the server sent', async (t) => {
    const perConnection = 3 * 1024 * 1024 + 17;
    let hellos = 0;
    const server = net.createServer((socket) => {
      socket.on('error', () => socket.destroy());
      socket.once('data', () => {
        hellos += 1;
        socket.write(Buffer.alloc(perConnection, 0x62)); // then stays open, as a stream would
      });
    });
    const port = await serve(t, server);
    const result = await generators.run({ kind: 'bulk', connection: rawSpec(port), connections: 3, durationMs: 500 });
    assert.equal(result.errors, 0, result.firstError);
    assert.equal(hellos, 3);
    assert.equal(result.bytes, 3 * perConnection);
  });

  test('bulk counts a stream that ends before the phase as an error', async (t) => {
    const server = net.createServer((socket) => {
      socket.on('error', () => socket.destroy());
      socket.once('data', () => socket.end(Buffer.alloc(1000)));
    });
    const port = await serve(t, server);
    const result = await generators.run({ kind: 'bulk', connection: rawSpec(port), connections: 2, durationMs: 300 });
    assert.equal(result.bytes, 2000);
    assert.equal(result.errors, 2);
    assert.equal(result.firstError, 'bulk connection closed before the phase ended');
  });

  test('latency samples one connection at a time; hold keeps connections open until release', async (t) => {
    const counts = { hellos: 0, graceful: 0 };
    let open = 0;
    let maxOpen = 0;
    const server = helloServer(counts, PASS_HELLO_ANSWER_BYTES);
    server.on('connection', (socket: net.Socket) => {
      maxOpen = Math.max(maxOpen, ++open);
      socket.on('close', () => (open -= 1));
    });
    const port = await serve(t, server);
    const latency = await generators.run({ kind: 'latency', connection: rawSpec(port), count: 20 });
    assert.equal(latency.errors, 0, latency.firstError);
    assert.equal(latency.ops, 20);
    assert.equal(latency.samplesUs?.length, 20);
    assert.ok(latency.samplesUs!.every((us) => us > 0));
    assert.equal(maxOpen, 1);
    await waitFor(() => open === 0);

    const held = await generators.run({ kind: 'hold', connection: rawSpec(port), count: 50, concurrency: 10 });
    assert.equal(held.errors, 0, held.firstError);
    assert.equal(held.ops, 50);
    assert.equal(open, 50);
    const released = await generators.run({ kind: 'release' } satisfies LoadCommand);
    assert.equal(released.ops, 50);
    await waitFor(() => open === 0);
  });
});

describe('Go backends', () => {
  let backends: RunningBackends;
  before(async () => {
    backends = await startBackends(ALL_CPUS, HOST, certificates.gateway, certificates.backend, side);
  });
  after(() => backends?.stop());

  test('route like the Node backends: real TLS clients see the right certificates, SNI and answers', async () => {
    const direct = directTarget({ host: HOST, workDir, backends: backends.ports, certificates, proxyCpus: '0', workers: 1, portBase: 20000 });
    await verifyTarget(direct, certificates.ca.certificatePem, hello);
  });

  test('serve the load generator without errors: new connections, handshakes, bulk', async () => {
    const direct = directTarget({ host: HOST, workDir, backends: backends.ports, certificates, proxyCpus: '0', workers: 1, portBase: 20000 });
    const passHello = { ...rawSpec(direct.endpoint('passHello').port), endpoint: direct.endpoint('passHello') };
    const connects = await generators.run({ kind: 'connect-rate', connection: passHello, concurrency: 4, durationMs: 200 });
    assert.equal(connects.errors, 0, connects.firstError);
    assert.ok(connects.ops > 0);
    const termHello: ConnectionSpec = { endpoint: direct.endpoint('termHello'), protocol: 'tls', servername: SNI.termHello, expectBytes: Buffer.byteLength(TERM_GREETING) };
    const handshakes = await generators.run({ kind: 'connect-rate', connection: termHello, concurrency: 4, durationMs: 200 });
    assert.equal(handshakes.errors, 0, handshakes.firstError);
    assert.ok(handshakes.ops > 0);
    const bulkHello = (await recordClientHello(SNI.passBulk)).toString('base64');
    const streams = await generators.run({ kind: 'bulk', connection: { ...passHello, endpoint: direct.endpoint('passBulk'), helloBase64: bulkHello }, connections: 2, durationMs: 200 });
    assert.equal(streams.errors, 0, streams.firstError);
    assert.ok(streams.bytes > 0);
  });
});

async function waitFor(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met within 5 s');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
