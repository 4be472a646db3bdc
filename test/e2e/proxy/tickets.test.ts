// Session tickets with real TLS clients: the key ring (current + previous key) lets a ticket
// issued before a rotation resume after it, and not after a second rotation; with workers the
// keys come from the primary, so a ticket resumes on workers that did not issue it, also on
// replacement workers, and every worker follows a rotation.
import assert from 'node:assert/strict';
import cluster from 'node:cluster';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { ClientHelloAssembler } from '../../../proxy/clienthello.js';
import { buildServingCertificate, rotateTicketKeyRing, secureContextFor, setTicketKeys, TICKET_KEY_BYTES, type ServingCertificate } from '../../../proxy/certificates.js';
import { startProxyRuntime, type ProxyRuntime } from '../../../proxy/runtime.js';
import { backendRef, eventually, listener, makeCert, opensslClient, plainBackend, proxyConfig, tempDir, type Backend, type TestCert } from './helpers.js';

type Version = 'TLSv1.2' | 'TLSv1.3';
/** The runtime's port in the suite that runs (the bare servers use others). */
let proxyPort = -1;

/**
 * One handshake; resolves with whether the offered session was reused and the last ticket the
 * server sent (null when it sent none, as on a TLS 1.2 resumption). The proxy's backend speaks
 * first, after the proxy's tickets; the bare server below ends the connection instead (Node
 * may report a ticket after data that came in the same read, never after 'close').
 */
function handshake(port: number, version: Version, session?: Buffer, viaProxy = port === proxyPort): Promise<{ reused: boolean; ticket: Buffer | null }> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ port, host: '127.0.0.1', servername: 'a.example.com', rejectUnauthorized: false, minVersion: version, maxVersion: version, ...(session ? { session } : {}) });
    let reused = false;
    let ticket: Buffer | null = null;
    const timer = setTimeout(() => reject(new Error('no data from the server within 5 s')), 5000);
    s.once('secureConnect', () => (reused = s.isSessionReused()));
    s.on('session', (t: Buffer) => (ticket = t));
    const settle = () => {
      clearTimeout(timer);
      s.destroy();
      resolve({ reused, ticket });
    };
    if (viaProxy) s.once('data', settle);
    else s.once('close', settle);
    s.resume();
    s.on('error', reject);
  });
}

/** A full handshake's ticket. */
async function ticketOf(port: number, version: Version): Promise<Buffer> {
  const first = await handshake(port, version);
  assert.equal(first.reused, false);
  assert.ok(first.ticket, `${version}: the server sent a session ticket`);
  return first.ticket;
}

/**
 * A bare TLS server that picks its context the way the engine's Terminate path does: read the
 * ClientHello, then the certificate's context for the ticket the client offers.
 */
async function ringServer(cert: ServingCertificate, useRing: boolean): Promise<{ port: number; close(): void }> {
  const server = net.createServer((socket) => {
    const assembler = new ClientHelloAssembler(16384);
    socket.on('error', () => undefined);
    socket.on('data', function onData(chunk: Buffer) {
      const result = assembler.push(chunk);
      if (result.kind === 'more') return;
      socket.removeListener('data', onData);
      if (result.kind === 'error') return void socket.destroy();
      socket.pause(); // as the engine does: the TLSSocket takes over the paused socket
      socket.unshift(assembler.bytes());
      const context = useRing ? secureContextFor(cert, result.hello.ticketKeyName) : cert.context;
      const secure = new tls.TLSSocket(socket, { isServer: true, secureContext: context });
      secure.on('error', () => undefined);
      secure.on('secure', () => secure.end('hello\n'));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as net.AddressInfo).port, close: () => server.close() };
}

describe('session-ticket key ring', () => {
  const dir = tempDir('tlsgate-tickets-');
  let testCert: TestCert;
  before(async () => {
    testCert = await makeCert(dir.dir, ['*.example.com']);
  });
  after(() => dir.remove());

  for (const version of ['TLSv1.3', 'TLSv1.2'] as const) {
    it(`${version}: a ticket from before a rotation resumes after it, and not after a second one`, async () => {
      let ring: Buffer = randomBytes(TICKET_KEY_BYTES);
      const cert = buildServingCertificate(testCert.config('gw'), ring, 'test');
      const server = await ringServer(cert, true);
      try {
        const first = { ticket: await ticketOf(server.port, version) };
        assert.equal((await handshake(server.port, version, first.ticket)).reused, true, 'resumes under the current key');
        ring = rotateTicketKeyRing(ring, randomBytes(TICKET_KEY_BYTES));
        setTicketKeys(cert, ring);
        assert.equal((await handshake(server.port, version, first.ticket)).reused, true, 'resumes under the previous key after a rotation');
        const fresh = { ticket: await ticketOf(server.port, version) };
        ring = rotateTicketKeyRing(ring, randomBytes(TICKET_KEY_BYTES));
        setTicketKeys(cert, ring);
        assert.equal((await handshake(server.port, version, first.ticket)).reused, false, 'its key is gone after two rotations');
        assert.equal((await handshake(server.port, version, fresh.ticket)).reused, true, 'the ticket issued between the rotations still resumes');
      } finally {
        server.close();
      }
    });
  }

  it('without the previous key (the context alone), a rotation ends resumption at once', async () => {
    let ring: Buffer = randomBytes(TICKET_KEY_BYTES);
    const cert = buildServingCertificate(testCert.config('gw'), ring, 'test');
    const server = await ringServer(cert, false);
    try {
      const first = { ticket: await ticketOf(server.port, 'TLSv1.3') };
      assert.equal((await handshake(server.port, 'TLSv1.3', first.ticket)).reused, true);
      ring = rotateTicketKeyRing(ring, randomBytes(TICKET_KEY_BYTES));
      setTicketKeys(cert, ring);
      assert.equal((await handshake(server.port, 'TLSv1.3', first.ticket)).reused, false);
    } finally {
      server.close();
    }
  });

  it('the ClientHello names the ticket key the client offers (TLS 1.2 session_ticket, TLS 1.3 pre_shared_key)', async () => {
    const ring = randomBytes(TICKET_KEY_BYTES);
    const cert = buildServingCertificate(testCert.config('gw'), ring, 'test');
    const seen: (string | null)[] = [];
    const server = net.createServer((socket) => {
      const assembler = new ClientHelloAssembler(16384);
      socket.on('error', () => undefined);
      socket.on('data', function onData(chunk: Buffer) {
        const result = assembler.push(chunk);
        if (result.kind === 'more') return;
        socket.removeListener('data', onData);
        if (result.kind === 'done') seen.push(result.hello.ticketKeyName);
        socket.pause();
        socket.unshift(assembler.bytes());
        const secure = new tls.TLSSocket(socket, { isServer: true, secureContext: cert.context });
        secure.on('error', () => undefined);
        secure.on('secure', () => secure.end('hello\n'));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    try {
      for (const version of ['TLSv1.3', 'TLSv1.2'] as const) {
        seen.length = 0;
        const ticket = await ticketOf(port, version);
        assert.equal((await handshake(port, version, ticket)).reused, true);
        assert.equal(seen[0], null, `${version}: a first handshake offers no ticket`);
        assert.equal(seen[1], ring.toString('hex', 0, 16), `${version}: the resumption offers a ticket named after the current key`);
      }
    } finally {
      server.close();
    }
  });
});

for (const workers of [1, 2]) {
  describe(`session tickets through the runtime (workers: ${workers})`, () => {
    const dir = tempDir('tlsgate-tickets-rt-');
    let runtime: ProxyRuntime;
    let backend: Backend;
    let port: number;

    before(async () => {
      const cert = await makeCert(dir.dir, ['*.example.com']);
      backend = await plainBackend('A');
      runtime = await startProxyRuntime({ address: '127.0.0.1', workers, accessLog: null });
      await runtime.apply([
        proxyConfig('tickets', 'v1', [
          { port: 0, listeners: [listener({ name: 'term', hostname: null, mode: 'Terminate', certificates: [cert.config('gw')], routes: [{ hostnames: ['*.example.com'], backends: [backendRef('b', backend.port)] }] })] },
        ]),
      ]);
      port = runtime.boundPorts()[0]!.boundPort;
      proxyPort = port;
    });

    after(async () => {
      await runtime?.shutdown(500);
      await backend?.close();
      dir.remove();
    });

    if (workers > 1) {
      it('a ticket resumes on replacement workers that never saw it (the keys come from the primary)', async () => {
        const first = { ticket: await ticketOf(port, 'TLSv1.3') };
        for (const w of Object.values(cluster.workers ?? {})) {
          const id = w!.id;
          w!.process.kill('SIGKILL');
          await eventually(() => !(id in (cluster.workers ?? {})) && runtime.ready(), 'a ready replacement', 10_000);
        }
        assert.equal((await handshake(port, 'TLSv1.3', first.ticket)).reused, true);
      });

      it('openssl s_client resumes a TLS 1.2 session from a file (-sess_out / -sess_in)', async () => {
        const file = path.join(dir.dir, 'session.pem');
        writeFileSync(file, '');
        const out1 = await opensslClient(port, 'a.example.com', ['-tls1_2', '-sess_out', file]);
        assert.match(out1, /^New, TLSv1\.2/m);
        const out2 = await opensslClient(port, 'a.example.com', ['-tls1_2', '-sess_in', file]);
        assert.match(out2, /^Reused, TLSv1\.2/m);
      });
    }

    for (const version of ['TLSv1.3', 'TLSv1.2'] as const) {
      it(`${version}: a ticket issued before one rotation still resumes through the proxy, not after a second`, async () => {
        const ticket = await ticketOf(port, version);
        await runtime.rotateTicketKeys();
        // Several tries, so that with two workers both are asked (each accepts for itself).
        for (let i = 0; i < 6; i++) assert.equal((await handshake(port, version, ticket)).reused, true, `after one rotation, try ${i}`);
        await runtime.rotateTicketKeys();
        for (let i = 0; i < 6; i++) assert.equal((await handshake(port, version, ticket)).reused, false, `after two rotations, try ${i}`);
      });
    }

    it('rotateTicketKeys() reaches every worker: new tickets resume, tickets two keys old do not', async () => {
      const old = { ticket: await ticketOf(port, 'TLSv1.3') };
      assert.equal((await handshake(port, 'TLSv1.3', old.ticket)).reused, true);
      await runtime.rotateTicketKeys();
      await runtime.rotateTicketKeys();
      // Several tries, so that with two workers both are asked (each accepts for itself).
      for (let i = 0; i < 6; i++) assert.equal((await handshake(port, 'TLSv1.3', old.ticket)).reused, false, `old ticket, try ${i}`);
      const fresh = { ticket: await ticketOf(port, 'TLSv1.3') };
      for (let i = 0; i < 6; i++) assert.equal((await handshake(port, 'TLSv1.3', fresh.ticket)).reused, true, `new ticket, try ${i}`);
    });
  });
}
