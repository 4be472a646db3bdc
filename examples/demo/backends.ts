/**
 * The demo's three backends, on loopback ephemeral ports:
 *
 * - foo-svc: a TLS server with its own certificate for foo.example.com. Reached through a
 *   Passthrough listener, so the client sees THIS certificate, and the backend sees the
 *   client's SNI (it says so in its greeting).
 * - bar-svc: a plain TCP echo. Reached through a Terminate listener: the gateway's
 *   certificate faces the client, plain bytes reach this server.
 *
 * - app-svc: a plain HTTP/1.1 app. Reached through an HTTPS listener on the same port as the
 *   Passthrough listener: the gateway terminates TLS (and HTTP/2) and routes by HTTPRoute.
 *
 * foo-svc and bar-svc speak first (a greeting line), like the conformance suite's TCP backend,
 * which shows that the gateway relays server-first data at once.
 */
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import type { IssuedCertificate } from './pki.js';

export const FOO_GREETING = 'foo-svc: TLS backend';
export const BAR_GREETING = 'bar-svc: plain TCP echo';
export const APP_GREETING = 'app-svc: HTTP app';

export interface DemoBackend {
  name: string;
  host: string;
  port: number;
  close(): Promise<void>;
}

export async function startFooBackend(certificate: IssuedCertificate, host = '127.0.0.1'): Promise<DemoBackend> {
  const server = tls.createServer({ cert: certificate.certificatePem, key: certificate.privateKeyPem, minVersion: 'TLSv1.2' }, (socket) => {
    socket.on('error', () => socket.destroy());
    const sni = socket.servername || '(none)';
    socket.write(`${FOO_GREETING}, your SNI was ${sni}; I echo what you send\n`);
    socket.pipe(socket);
  });
  // Failed handshakes (a client rejecting our certificate, a port scan) are not the demo's concern.
  server.on('tlsClientError', (_error, socket) => socket.destroy());
  return listen('foo-svc', server, host);
}

export async function startBarBackend(host = '127.0.0.1'): Promise<DemoBackend> {
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    socket.on('error', () => socket.destroy());
    socket.write(`${BAR_GREETING}, plain bytes from the gateway; I echo what you send\n`);
    socket.pipe(socket);
  });
  return listen('bar-svc', server, host);
}

/**
 * app-svc, the web app behind the HTTPS listener: plain HTTP/1.1 (the gateway terminates TLS and
 * HTTP/2), answering with what it was asked, so a client sees what the gateway forwarded.
 */
export async function startAppBackend(host = '127.0.0.1'): Promise<DemoBackend> {
  const server = http.createServer((request, response) => {
    request.resume();
    const body = {
      backend: APP_GREETING,
      method: request.method,
      host: request.headers.host,
      path: request.url,
      forwardedFor: request.headers['x-forwarded-for'],
      forwardedProto: request.headers['x-forwarded-proto'],
    };
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(`${JSON.stringify(body)}\n`);
  });
  return listen('app-svc', server, host);
}

function listen(name: string, server: net.Server, host: string): Promise<DemoBackend> {
  const sockets = new Set<net.Socket>();
  server.on('connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port: 0 }, () => {
      server.off('error', reject);
      server.on('error', () => undefined); // after listening, errors are per connection
      const { port } = server.address() as net.AddressInfo;
      resolve({
        name,
        host,
        port,
        close: () =>
          new Promise<void>((done) => {
            for (const socket of sockets) socket.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}
