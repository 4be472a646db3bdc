// A TCP (and optionally TLS) line server that speaks first, like the Gateway API
// conformance echo-basic with TCP_ECHO_SERVER=1: on connect it sends
// "Gateway API Test TCP Server\n", then answers lines:
//   PING   -> PONG
//   IS_TLS -> true | false
//   TEST   -> one line of JSON: pod context, isTLS and, over TLS, version/serverName/cipher
// Other lines are ignored. Env: TCP_PORT (3000), TLS_PORT (8443), TLS_SERVER_CERT and
// TLS_SERVER_PRIV_KEY (file paths; TLS is served only when both are set).
import net from 'node:net';
import tls from 'node:tls';
import { readFileSync } from 'node:fs';
import { podContext, envPort, isEntrypoint, exitOnSignals, type PodContext } from './pod-context.js';

export const welcomeMessage = 'Gateway API Test TCP Server\n';

export interface TcpEchoOptions {
  host?: string;
  tcpPort: number;
  /** Serve TLS too when given. */
  tls?: { port: number; cert: string | Buffer; key: string | Buffer };
  context?: PodContext;
}

export interface TcpEchoServer {
  tcpPort: number;
  tlsPort: number | undefined;
  close(): Promise<void>;
}

function handle(socket: net.Socket, context: PodContext, ports: { tcp: number; tls: number | undefined }): void {
  // Errors (a client reset) only end this connection.
  socket.on('error', () => socket.destroy());
  const secure = socket instanceof tls.TLSSocket;
  const assertions = () => {
    const base = { ...context, tcpport: String(ports.tcp), ...(ports.tls ? { tlsport: String(ports.tls) } : {}), isTLS: secure };
    if (!secure) return base;
    const s = socket as tls.TLSSocket;
    const servername = (s as tls.TLSSocket & { servername?: string | false }).servername;
    return { ...base, tls: { version: s.getProtocol() ?? '', serverName: servername || '', negotiatedProtocol: s.alpnProtocol || undefined, cipherSuite: s.getCipher()?.standardName ?? '' } };
  };
  socket.write(welcomeMessage);
  let buffered = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    buffered += chunk;
    let newline: number;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline).replace(/\r$/, '');
      buffered = buffered.slice(newline + 1);
      if (line === 'PING') socket.write('PONG\n');
      else if (line === 'IS_TLS') socket.write(`${secure}\n`);
      else if (line === 'TEST') socket.write(`${JSON.stringify(assertions())}\n`);
    }
    // A client that never sends a newline cannot make us buffer without bound.
    if (buffered.length > 64 * 1024) socket.destroy();
  });
  socket.on('end', () => socket.end());
}

function listen(server: net.Server, port: number, host: string | undefined): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as net.AddressInfo).port);
    });
  });
}

export async function startTcpEcho(options: TcpEchoOptions): Promise<TcpEchoServer> {
  const context = options.context ?? podContext();
  const ports: { tcp: number; tls: number | undefined } = { tcp: options.tcpPort, tls: options.tls?.port };
  // Tracked so close() ends open connections instead of waiting for them.
  const sockets = new Set<net.Socket>();
  const accept = (socket: net.Socket): void => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    handle(socket, context, ports);
  };
  const plain = net.createServer(accept);
  ports.tcp = await listen(plain, options.tcpPort, options.host);
  let secure: tls.Server | undefined;
  if (options.tls) {
    secure = tls.createServer({ cert: options.tls.cert, key: options.tls.key, minVersion: 'TLSv1.2' }, accept);
    // A failed handshake is the client's problem; it must not take the server down.
    secure.on('tlsClientError', (_error, socket) => socket.destroy());
    ports.tls = await listen(secure, options.tls.port, options.host);
  }
  const close = (server: net.Server | undefined): Promise<void> =>
    new Promise((resolve) => (server ? server.close(() => resolve()) : resolve()));
  return {
    tcpPort: ports.tcp,
    tlsPort: ports.tls,
    close: async () => {
      const closed = Promise.all([close(plain), close(secure)]);
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

/** Options from the environment, as the conformance manifests set them. */
export function tcpEchoOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): TcpEchoOptions {
  const certFile = env.TLS_SERVER_CERT;
  const keyFile = env.TLS_SERVER_PRIV_KEY;
  return {
    ...(env.BIND_ADDRESS ? { host: env.BIND_ADDRESS } : {}),
    tcpPort: envPort('TCP_PORT', 3000, env),
    ...(certFile && keyFile ? { tls: { port: envPort('TLS_PORT', 8443, env), cert: readFileSync(certFile), key: readFileSync(keyFile) } } : {}),
    context: podContext(env),
  };
}

if (isEntrypoint(import.meta.url)) {
  const server = await startTcpEcho(tcpEchoOptionsFromEnv());
  console.log(`tcp-echo: tcp on ${server.tcpPort}${server.tlsPort ? `, tls on ${server.tlsPort}` : ''}`);
  exitOnSignals(() => server.close());
}
