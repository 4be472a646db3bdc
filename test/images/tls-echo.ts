// An HTTP and HTTPS echo backend in the style of the conformance echo-basic: every request
// is answered with JSON describing it (path, host, method, headers, pod context) and, over
// TLS, the SNI the server saw (`tls.serverName` and `sni`), so a test can prove which name
// reached the backend through a passthrough or terminating gateway. GET /health answers OK.
// Env: HTTP_PORT (3000), HTTPS_PORT (8443), TLS_SERVER_CERT and TLS_SERVER_PRIVKEY (file
// paths; HTTPS is served only when both are set).
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import type tls from 'node:tls';
import { readFileSync } from 'node:fs';
import { podContext, envPort, isEntrypoint, exitOnSignals, type PodContext } from './pod-context.js';

export interface EchoResponse extends PodContext {
  path: string;
  host: string;
  method: string;
  proto: string;
  headers: Record<string, string[]>;
  tls?: { version: string; serverName: string; negotiatedProtocol?: string; cipherSuite: string };
  sni: string;
}

export interface HttpEchoOptions {
  host?: string;
  httpPort: number;
  https?: { port: number; cert: string | Buffer; key: string | Buffer };
  context?: PodContext;
}

export interface HttpEchoServer {
  httpPort: number;
  httpsPort: number | undefined;
  close(): Promise<void>;
}

function describe(req: http.IncomingMessage, context: PodContext): EchoResponse {
  const headers: Record<string, string[]> = {};
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!;
    (headers[name] ??= []).push(req.rawHeaders[i + 1]!);
  }
  const socket = req.socket as net.Socket & Partial<tls.TLSSocket> & { servername?: string | false };
  const secure = typeof socket.getProtocol === 'function';
  const serverName = secure ? socket.servername || '' : '';
  return {
    path: req.url ?? '/',
    host: req.headers.host ?? '',
    method: req.method ?? '',
    proto: `HTTP/${req.httpVersion}`,
    headers,
    ...context,
    ...(secure ? {
      tls: {
        version: socket.getProtocol!() ?? '',
        serverName,
        ...(socket.alpnProtocol ? { negotiatedProtocol: socket.alpnProtocol } : {}),
        cipherSuite: socket.getCipher!()?.standardName ?? '',
      },
    } : {}),
    sni: serverName,
  };
}

function handler(context: PodContext): http.RequestListener {
  return (req, res) => {
    req.on('error', () => res.destroy());
    req.resume();
    if (req.url === '/health') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('OK');
      return;
    }
    const status = /^\/status\/(\d{3})$/.exec(req.url ?? '');
    if (status) {
      res.writeHead(Number(status[1])).end();
      return;
    }
    const body = JSON.stringify(describe(req, context), null, 1);
    res.writeHead(200, { 'content-type': 'application/json', 'x-content-type-options': 'nosniff' }).end(body);
  };
}

function listen(server: http.Server, port: number, host: string | undefined): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as net.AddressInfo).port);
    });
  });
}

export async function startHttpEcho(options: HttpEchoOptions): Promise<HttpEchoServer> {
  const context = options.context ?? podContext();
  const plain = http.createServer(handler(context));
  const httpPort = await listen(plain, options.httpPort, options.host);
  let secure: https.Server | undefined;
  let httpsPort: number | undefined;
  if (options.https) {
    secure = https.createServer({ cert: options.https.cert, key: options.https.key }, handler(context));
    secure.on('tlsClientError', (_error, socket) => socket.destroy());
    httpsPort = await listen(secure, options.https.port, options.host);
  }
  const close = (server: http.Server | undefined): Promise<void> => new Promise((resolve) => {
    if (!server) { resolve(); return; }
    server.close(() => resolve());
    server.closeAllConnections();
  });
  return { httpPort, httpsPort, close: async () => { await Promise.all([close(plain), close(secure)]); } };
}

export function httpEchoOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): HttpEchoOptions {
  const certFile = env.TLS_SERVER_CERT;
  const keyFile = env.TLS_SERVER_PRIVKEY;
  return {
    ...(env.BIND_ADDRESS ? { host: env.BIND_ADDRESS } : {}),
    httpPort: envPort('HTTP_PORT', 3000, env),
    ...(certFile && keyFile ? { https: { port: envPort('HTTPS_PORT', 8443, env), cert: readFileSync(certFile), key: readFileSync(keyFile) } } : {}),
    context: podContext(env),
  };
}

if (isEntrypoint(import.meta.url)) {
  const server = await startHttpEcho(httpEchoOptionsFromEnv());
  console.log(`tls-echo: http on ${server.httpPort}${server.httpsPort ? `, https on ${server.httpsPort}` : ''}`);
  exitOnSignals(() => server.close());
}
