/**
 * The demo's self-check (`npm start -- --once`): what the printed `openssl s_client` commands
 * show by hand, asserted with Node's tls client over real loopback sockets.
 *
 * - foo.example.com → the Passthrough listener: the certificate is foo-svc's own, and foo-svc
 *   saw the client's SNI;
 * - bar.example.com → the Terminate listener: the certificate is the gateway's, and the plain
 *   TCP echo behind it answers;
 * - an unknown SNI is rejected the way the Gateway API requires: the connection is accepted
 *   and closed without a single byte (no TLS alert);
 * - app.example.com on the Passthrough listener's port → the HTTPS listener: the certificate is
 *   the app's Secret, HTTP/2 is negotiated, and app-svc answers through the HTTPRoute.
 */
import { X509Certificate } from 'node:crypto';
import http2 from 'node:http2';
import net from 'node:net';
import { Duplex } from 'node:stream';
import tls from 'node:tls';
import { APP_GREETING, BAR_GREETING, FOO_GREETING } from './backends.js';
import type { IssuedCertificate } from './pki.js';

export interface CheckResult {
  name: string;
  ok: boolean;
  detail: string;
}

export interface SelfCheckTargets {
  host: string;
  passthroughPort: number;
  terminatePort: number;
  ca: IssuedCertificate;
  fooBackend: IssuedCertificate;
  gateway: IssuedCertificate;
  app: IssuedCertificate;
  timeoutMs?: number;
}

export async function runSelfCheck(targets: SelfCheckTargets): Promise<CheckResult[]> {
  const timeoutMs = targets.timeoutMs ?? 10_000;
  const results: CheckResult[] = [];
  const fingerprint = (pem: string): string => new X509Certificate(pem).fingerprint256;

  results.push(
    await check('passthrough: foo.example.com presents foo-svc\'s own certificate', async () => {
      const session = await tlsExchange(targets.host, targets.passthroughPort, 'foo.example.com', targets.ca.certificatePem, timeoutMs);
      expect(session.peerFingerprint === fingerprint(targets.fooBackend.certificatePem), `certificate ${session.peerSubject}, expected foo-svc's`);
      expect(session.greeting.startsWith(FOO_GREETING), `greeting "${session.greeting}"`);
      expect(session.greeting.includes('your SNI was foo.example.com'), `foo-svc did not see the SNI: "${session.greeting}"`);
      expect(session.echo === session.sent, `echo "${session.echo}"`);
      return `certificate "${session.peerSubject}", backend said "${session.greeting}"`;
    }, timeoutMs),
  );
  results.push(
    await check('terminate: bar.example.com presents the gateway\'s certificate, then plain TCP echo', async () => {
      const session = await tlsExchange(targets.host, targets.terminatePort, 'bar.example.com', targets.ca.certificatePem, timeoutMs);
      expect(session.peerFingerprint === fingerprint(targets.gateway.certificatePem), `certificate ${session.peerSubject}, expected the gateway's`);
      expect(session.greeting.startsWith(BAR_GREETING), `greeting "${session.greeting}"`);
      expect(session.echo === session.sent, `echo "${session.echo}"`);
      return `certificate "${session.peerSubject}", backend said "${session.greeting}"`;
    }, timeoutMs),
  );
  results.push(
    await check('rejection: an unknown SNI is closed without a single byte', async () => {
      const received = await bytesBeforeClose(targets.host, targets.passthroughPort, 'unknown.example.com', timeoutMs);
      expect(received === 0, `received ${received} bytes (a TLS alert or handshake)`);
      return 'accepted, then closed with 0 bytes';
    }, timeoutMs),
  );
  results.push(
    await check('https: app.example.com on the same port reaches app-svc over HTTP/2 with the app\'s certificate', async () => {
      const answer = await http2Get(targets.host, targets.passthroughPort, 'app.example.com', '/self-check', targets.ca.certificatePem, timeoutMs);
      expect(answer.peerFingerprint === fingerprint(targets.app.certificatePem), `certificate ${answer.peerSubject}, expected the app-certificate Secret's`);
      expect(answer.alpn === 'h2', `ALPN ${answer.alpn}, expected h2`);
      expect(answer.status === 200, `status ${answer.status}: ${answer.body}`);
      const body = JSON.parse(answer.body) as { backend?: string; path?: string; forwardedProto?: string };
      expect(body.backend === APP_GREETING, `answered by ${body.backend ?? 'nobody'}`);
      expect(body.path === '/self-check', `app-svc saw path ${body.path}`);
      expect(body.forwardedProto === 'https', `app-svc saw X-Forwarded-Proto ${body.forwardedProto}`);
      return `certificate "${answer.peerSubject}", ${answer.alpn}, app-svc said ${answer.body.trim()}`;
    }, timeoutMs),
  );
  return results;
}

interface Http2Answer {
  alpn: string;
  peerFingerprint: string;
  peerSubject: string;
  status: number;
  body: string;
}

/** One HTTP/2 GET over TLS (verifying against the demo CA), with the certificate the client saw. */
function http2Get(host: string, port: number, servername: string, path: string, caPem: string, timeoutMs: number): Promise<Http2Answer> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`https://${servername}:${port}`, {
      createConnection: () => tls.connect({ host, port, servername, ca: caPem, ALPNProtocols: ['h2'], minVersion: 'TLSv1.2' }),
    });
    session.setTimeout(timeoutMs, () => session.destroy(new Error(`timed out talking to ${servername}`)));
    session.on('error', reject);
    const request = session.request({ ':path': path });
    let status = 0;
    let body = '';
    request.setEncoding('utf8');
    request.on('response', (headers) => void (status = Number(headers[':status'])));
    request.on('data', (chunk: string) => void (body += chunk));
    request.on('error', reject);
    request.on('end', () => {
      const socket = session.socket as tls.TLSSocket;
      const peer = socket.getPeerX509Certificate();
      const alpn = socket.alpnProtocol || 'none';
      session.close();
      resolve({ alpn, peerFingerprint: peer?.fingerprint256 ?? '', peerSubject: peer?.subject.replace(/\n/g, ', ') ?? '', status, body });
    });
  });
}

async function check(name: string, body: () => Promise<string>, timeoutMs: number): Promise<CheckResult> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const detail = await Promise.race([
      body(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return { name, ok: true, detail };
  } catch (error) {
    return { name, ok: false, detail: (error as Error).message };
  } finally {
    clearTimeout(timer);
  }
}

function expect(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

interface Session {
  peerFingerprint: string;
  peerSubject: string;
  greeting: string;
  sent: string;
  echo: string;
}

/** Handshake (verifying against the demo CA), read the greeting line, send a line, read it back. */
function tlsExchange(host: string, port: number, servername: string, caPem: string, timeoutMs: number): Promise<Session> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host, port, servername, ca: caPem, minVersion: 'TLSv1.2' });
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`timed out talking to ${servername}`)));
    const sent = `hello through tlsgate ${Date.now()}`;
    let buffer = '';
    let greeting: string | undefined;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      let newline: number;
      while ((newline = buffer.indexOf('\n')) !== -1) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        if (greeting === undefined) {
          greeting = line;
          socket.write(`${sent}\n`);
        } else {
          const peer = socket.getPeerX509Certificate();
          socket.end();
          resolve({ peerFingerprint: peer?.fingerprint256 ?? '', peerSubject: peer?.subject.replace(/\n/g, ', ') ?? '', greeting, sent, echo: line });
          return;
        }
      }
    });
    socket.on('error', reject);
    socket.on('close', () => reject(new Error(`connection to ${servername} closed early (greeting: ${greeting ?? 'none'})`)));
  });
}

/**
 * Sends a real ClientHello (from Node's tls client, over a plain socket we control so that
 * every byte the server sends is counted) and resolves with the byte count at close.
 */
export function bytesBeforeClose(host: string, port: number, servername: string, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const raw = net.connect({ host, port });
    let received = 0;
    raw.setTimeout(timeoutMs, () => raw.destroy(new Error('the gateway neither answered nor closed')));
    raw.on('data', (chunk: Buffer) => {
      received += chunk.length;
    });
    raw.on('error', (error: NodeJS.ErrnoException) => {
      // A reset is a valid rejection; anything else (refused, timeout) is not.
      if (error.code === 'ECONNRESET') resolve(received);
      else reject(error);
    });
    raw.on('close', () => resolve(received));
    raw.once('connect', () => {
      // Let Node produce a genuine ClientHello, but keep it from reading our socket.
      const client = tls.connect({ socket: new ClientHelloTap(raw), servername, rejectUnauthorized: false });
      client.on('error', () => undefined); // the handshake never completes, by design
      raw.once('close', () => client.destroy());
    });
  });
}

/**
 * A duplex that forwards tls writes to the raw socket and never delivers anything back,
 * so that bytesBeforeClose alone observes what the gateway sends.
 */
class ClientHelloTap extends Duplex {
  constructor(private readonly raw: net.Socket) {
    super();
  }
  override _read(): void {}
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.raw.destroyed) callback();
    else this.raw.write(chunk, () => callback());
  }
}
