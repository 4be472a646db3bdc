/**
 * The former Node.js backends, kept for `--load-side node` and instructions.ts (the Go ones in
 * bench/proxy/go are the default). The benchmark's backends, one child process pinned next to
 * the load generator (never on the proxy's core). Started by the orchestrator with an IPC
 * channel: it receives the certificates, listens on loopback ephemeral ports and reports them.
 *
 * The Passthrough backends do not run TLS: the load generator replays a recorded ClientHello
 * and the backend answers with TLS-framed bytes. A passthrough proxy does exactly the same work
 * either way (peek, parse, route, connect, replay, relay), but the load side then costs almost
 * nothing, so the proxy, not the client, becomes the bottleneck (field notes 4.4b, "saturated").
 */
import net from 'node:net';
import tls from 'node:tls';
import {
  PASS_HELLO_ANSWER_BYTES,
  TERM_GREETING,
  TLS_APPLICATION_DATA,
  TLS_HANDSHAKE,
  tlsRecords,
  type BackendPorts,
  type BackendsReadyMessage,
  type BackendsStartMessage,
} from './workloads.js';

const passHelloAnswer = tlsRecords(TLS_HANDSHAKE, PASS_HELLO_ANSWER_BYTES);
/** What bulk backends write, over and over: 256 KiB per write keeps the syscall count low. */
const bulkRecords = tlsRecords(TLS_APPLICATION_DATA, 256 * 1024);
const plainBulk = Buffer.alloc(256 * 1024, 0x62);
const termGreeting = Buffer.from(TERM_GREETING);

/** Answers the first bytes (the ClientHello) with a server flight, then waits for the end. */
function onPassHelloConnection(socket: net.Socket): void {
  socket.on('error', () => socket.destroy());
  socket.once('data', () => socket.write(passHelloAnswer));
  socket.on('data', ignore);
  socket.on('end', () => socket.end());
}

/** Streams `chunk` as fast as the peer reads it, until the connection goes away. */
function pump(socket: net.Socket, chunk: Buffer): void {
  const write = (): void => {
    while (socket.writable && socket.write(chunk)) {
      // keep writing until the kernel buffer is full; 'drain' resumes
    }
  };
  socket.on('drain', write);
  write();
}

function onPassBulkConnection(socket: net.Socket): void {
  socket.on('error', () => socket.destroy());
  socket.once('data', () => pump(socket, bulkRecords));
  socket.on('data', ignore);
  socket.on('end', () => socket.destroy());
}

function onTermHelloConnection(socket: net.Socket): void {
  socket.on('error', () => socket.destroy());
  socket.write(termGreeting);
  socket.on('data', ignore);
  socket.on('end', () => socket.end());
}

function onTermBulkConnection(socket: net.Socket): void {
  socket.on('error', () => socket.destroy());
  socket.on('data', ignore);
  socket.on('end', () => socket.destroy());
  pump(socket, plainBulk);
}

/** The real TLS backend behind the Passthrough listener: it tells the client the SNI it saw. */
function onPassTlsConnection(socket: tls.TLSSocket): void {
  socket.on('error', () => socket.destroy());
  socket.write(`tls backend: sni=${socket.servername || '(none)'}\n`);
  socket.on('data', ignore);
  socket.on('end', () => socket.end());
}

function ignore(): void {}

function listen(server: net.Server, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    // A large backlog: the memory phase opens thousands of connections in bursts.
    server.listen({ host, port: 0, backlog: 4096 }, () => {
      server.off('error', reject);
      server.on('error', (error) => process.stderr.write(`bench backends: server error: ${error.message}\n`));
      resolve((server.address() as net.AddressInfo).port);
    });
  });
}

async function start(message: BackendsStartMessage): Promise<void> {
  const tlsOptions = (pair: { certificatePem: string; privateKeyPem: string }): tls.TlsOptions => ({
    cert: pair.certificatePem,
    key: pair.privateKeyPem,
    minVersion: 'TLSv1.2',
  });
  const tlsServer = (pair: BackendsStartMessage['gatewayCertificate'], onSecure: (socket: tls.TLSSocket) => void): tls.Server => {
    const server = tls.createServer({ ...tlsOptions(pair), allowHalfOpen: true }, onSecure);
    server.on('tlsClientError', (_error, socket) => socket.destroy());
    return server;
  };
  const plain = (handler: (socket: net.Socket) => void): net.Server => net.createServer({ allowHalfOpen: true }, handler);

  const ports: BackendPorts = {
    passHello: await listen(plain(onPassHelloConnection), message.host),
    passBulk: await listen(plain(onPassBulkConnection), message.host),
    passTls: await listen(tlsServer(message.backendCertificate, onPassTlsConnection), message.host),
    termHello: await listen(plain(onTermHelloConnection), message.host),
    termBulk: await listen(plain(onTermBulkConnection), message.host),
    // "Direct" for Terminate work: the client does TLS with a server that is itself the backend.
    directTermHello: await listen(tlsServer(message.gatewayCertificate, onTermHelloConnection), message.host),
    directTermBulk: await listen(tlsServer(message.gatewayCertificate, onTermBulkConnection), message.host),
  };
  const ready: BackendsReadyMessage = { type: 'ready', ports };
  process.send!(ready);
}

process.on('message', (message: BackendsStartMessage | { type: 'stop' }) => {
  if (message.type === 'start') {
    start(message).catch((error: Error) => {
      process.stderr.write(`bench backends: ${error.message}\n`);
      process.exit(1);
    });
  } else if (message.type === 'stop') {
    process.exit(0);
  }
});
// The orchestrator went away: nothing left to serve.
process.on('disconnect', () => process.exit(0));
