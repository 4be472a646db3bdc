// One client connection, from accept to close: read the ClientHello, route, then reject,
// pass through, or terminate. Handlers are module-level functions that find their
// Connection through a symbol on the socket, so a connection costs one object and no
// closures; every socket gets exactly one 'error' and one 'close' handler, and every path
// ends in finish(), which runs once. One timer per connection serves every phase: the
// ClientHello/handshake deadline, the backend connect deadline, then coarse idle checks that
// compare byte counters (a socket timeout would re-arm a timer on every chunk relayed).
import net from 'node:net';
import tls from 'node:tls';
import { accessLogLine, type AccessLogSink } from './access-log.js';
import { chooseCertificate, secureContextFor } from './certificates.js';
import { ClientHelloAssembler, type ClientHello, type ClientHelloError } from './clienthello.js';
import type { ConnectionResult, Metrics, OutcomeCounts } from './metrics.js';
import { countRelayedBytes } from './read-buffer-scavenger.js';
import type { HttpFront } from './http/front.js';
import type { HttpConnectionFacts } from './http/exchange.js';
import { nextEndpoint, pickBackend, type CompiledBackend, type CompiledListener, type CompiledRoute, type PortTable } from './routing.js';
import type { EndpointConfig } from '../src/proxy-config.js';

/** A listening port; the engine swaps `table` on config changes, connections read it once. */
export interface PortSlot {
  table: PortTable;
}

export type { AccessLogSink } from './access-log.js';

/** What a connection needs from the engine that owns it. */
export interface ConnectionHost {
  metrics: Metrics;
  accessLog: AccessLogSink | null;
  /** Serves the connections of HTTP and HTTPS listeners (proxy/http/). */
  http: HttpFront;
  /** Called once when the connection has fully closed. */
  connectionClosed(conn: Connection): void;
}


/** Connect attempts per connection across a backend's endpoints. */
export const MAX_CONNECT_ATTEMPTS = 3;

/**
 * Idle checks per idle timeout: a relayed connection is closed after this many consecutive
 * checks (idleTimeoutMs / IDLE_CHECKS apart) saw no new byte, i.e. between 1 and 1.25 idle
 * timeouts after its last byte.
 */
const IDLE_CHECKS = 4;

const kConn = Symbol('tlsgate.connection');
type Tagged<T> = T & { [kConn]?: Connection };

/** An SNI of digits and dots is an IPv4 literal, which never matches a hostname (RFC 6066). */
function isIpv4Literal(name: string): boolean {
  const last = name.charCodeAt(name.length - 1);
  if (last < 0x30 || last > 0x39) return false; // fast exit for every real hostname
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c !== 0x2e && (c < 0x30 || c > 0x39)) return false;
  }
  return true;
}

const enum Phase {
  Hello,
  Handshake,
  Connecting,
  Relaying,
  /**
   * The backend has closed; its last bytes are flushed to the client before it is closed too.
   * Idle checks go on: a client that stops reading would otherwise hold the connection forever.
   */
  Draining,
  /** Handed to the HTTP front: its servers own the socket's reads; requests log themselves. */
  Http,
  Closing,
}

export class Connection {
  readonly host: ConnectionHost;
  readonly client: net.Socket;
  readonly clientAddress: string;
  readonly startedAt = performance.now();
  readonly table: PortTable;
  /** The port's slot (HTTP connections read the current table per request). */
  readonly slot: PortSlot;
  phase = Phase.Hello;
  /** Served by the HTTP front: its requests have their own access-log lines. */
  servedHttp = false;

  assembler: ClientHelloAssembler | null;
  /** The one timer of the current phase (see onTimer). */
  timer: NodeJS.Timeout | null = null;
  /** Relaying: bytes read on both sockets at the last idle check, and quiet checks since. */
  seenBytes = 0;
  quietChecks = 0;
  hello: ClientHello | null = null;
  listener: CompiledListener | null = null;
  route: CompiledRoute | null = null;
  backend: CompiledBackend | null = null;
  endpoint: EndpointConfig | null = null;
  /** The socket facing the client: the accepted socket, or the TLSSocket over it. */
  front: net.Socket;
  secure: tls.TLSSocket | null = null;
  upstream: net.Socket | null = null;
  attempts = 0;
  connectStartedAt = 0;
  handshakeStartedAt = 0;
  counted = false; // counted in listener.load
  frontClosed = false;
  upstreamClosed = true;
  finished = false;
  result: ConnectionResult = 'ok';
  reason = '';

  constructor(host: ConnectionHost, client: net.Socket, slot: PortSlot) {
    this.host = host;
    this.client = client;
    this.front = client;
    // The table current at accept is the one this connection uses for its whole life; a
    // config swap affects only later connections.
    this.table = slot.table;
    this.slot = slot;
    // Read now (it is gone once the socket closes), and only when it will be logged: a
    // getpeername() syscall per connection is not free.
    this.clientAddress = host.accessLog !== null ? peerAddress(client) : '';
    this.assembler = new ClientHelloAssembler(this.table.settings.maxClientHelloBytes);
  }
}

/**
 * `address:port` of the peer, or '' when the kernel no longer knows it: a client that reset
 * while its connection waited in the accept queue is accepted with no peer (getpeername()
 * fails with ENOTCONN), and no later read can recover it.
 */
function peerAddress(socket: net.Socket): string {
  const address = socket.remoteAddress;
  return address === undefined ? '' : `${address}:${socket.remotePort}`;
}

/** Entry point for every accepted socket. */
export function acceptConnection(host: ConnectionHost, socket: net.Socket, slot: PortSlot): Connection {
  const conn = new Connection(host, socket, slot);
  conn.table.gatewayLoad.active++;
  (socket as Tagged<net.Socket>)[kConn] = conn;
  socket.setNoDelay(true);
  socket.on('error', onClientError);
  socket.on('close', onClientClose);
  if (conn.table.httpOnly) {
    // A plain HTTP port: no ClientHello to read; each request chooses its listener by Host.
    serveHttp(conn, socket, null);
    return conn;
  }
  socket.on('data', onHelloData);
  socket.on('end', onHelloEnd);
  conn.timer = setTimeout(onTimer, conn.table.settings.clientHelloTimeoutMs, conn);
  return conn;
}

function connOf(socket: net.Socket): Connection {
  return (socket as Tagged<net.Socket>)[kConn] as Connection;
}

// ---- ClientHello phase ------------------------------------------------------------------

function onHelloData(this: net.Socket, chunk: Buffer): void {
  const conn = connOf(this);
  const result = (conn.assembler as ClientHelloAssembler).push(chunk);
  if (result.kind === 'more') return;
  this.removeListener('data', onHelloData);
  this.removeListener('end', onHelloEnd);
  this.pause();
  if (result.kind === 'error') {
    if (result.hello !== undefined) conn.hello = result.hello; // no_sni: keep ALPN for the log
    helloFailed(conn, result.reason);
    return;
  }
  conn.hello = result.hello;
  routeConnection(conn);
}

function onHelloEnd(this: net.Socket): void {
  const conn = connOf(this);
  this.removeListener('data', onHelloData);
  helloFailed(conn, 'truncated');
}

/** The connection's timer fired: what it means depends on the phase. */
function onTimer(conn: Connection): void {
  switch (conn.phase) {
    case Phase.Hello:
      conn.timer = null;
      conn.client.removeListener('data', onHelloData);
      conn.client.removeListener('end', onHelloEnd);
      helloFailed(conn, 'timeout');
      return;
    case Phase.Handshake:
      conn.timer = null;
      conn.host.metrics.handshakeErrors.inc({ reason: 'timeout' });
      fail(conn, 'handshake_failed', 'handshake_timeout');
      return;
    case Phase.Connecting:
      conn.timer = null;
      connectFailed(conn, conn.upstream as net.Socket, 'timeout');
      return;
    case Phase.Relaying:
    case Phase.Draining:
      idleCheck(conn);
      return;
    case Phase.Http:
    case Phase.Closing:
      conn.timer = null;
      return;
  }
}

/**
 * Progress on both sockets: bytes read either way, and bytes the client's kernel buffer took
 * from ours (what moves while the backend is gone and the last bytes drain to the client).
 */
function bytesSeen(conn: Connection): number {
  const front = conn.front;
  return front.bytesRead + (conn.upstream as net.Socket).bytesRead + front.bytesWritten - front.writableLength;
}

function idleCheck(conn: Connection): void {
  const timer = conn.timer as NodeJS.Timeout;
  const seen = bytesSeen(conn);
  if (seen !== conn.seenBytes) {
    conn.seenBytes = seen;
    conn.quietChecks = 0;
  } else if (++conn.quietChecks >= IDLE_CHECKS) {
    conn.timer = null;
    conn.result = 'idle_timeout';
    conn.reason = 'idle_timeout';
    conn.phase = Phase.Closing;
    conn.front.destroy();
    (conn.upstream as net.Socket).destroy();
    return;
  }
  timer.refresh();
}

function helloFailed(conn: Connection, reason: ClientHelloError): void {
  conn.host.metrics.clientHelloErrors.inc({ reason });
  reject(conn, reason);
}

// ---- Routing ------------------------------------------------------------------------------

function routeConnection(conn: Connection): void {
  const sni = (conn.hello as ClientHello).sni as string;
  const table = conn.table;
  if (isIpv4Literal(sni)) return reject(conn, 'no_listener');
  const listener = table.listeners.lookup(sni);
  if (listener === undefined) return reject(conn, 'no_listener');
  conn.listener = listener;
  if (listener.reject !== undefined) return reject(conn, 'listener_rejected');
  if (listener.protocol === 'HTTPS') {
    // Routes are chosen per request, after the handshake (proxy/http/).
    if (listener.load.active >= table.settings.maxConnectionsPerListener) return reject(conn, 'max_connections');
    listener.load.active++;
    conn.counted = true;
    startTermination(conn, listener);
    return;
  }
  const route = listener.routes.lookup(sni);
  if (route === undefined) return reject(conn, 'no_route');
  conn.route = route;
  const backend = pickBackend(route);
  if (backend === null) return reject(conn, 'no_backend');
  conn.backend = backend;
  if (backend.reject !== undefined) return reject(conn, 'backend_rejected');
  if (listener.load.active >= table.settings.maxConnectionsPerListener) return reject(conn, 'max_connections');
  listener.load.active++;
  conn.counted = true;
  if (listener.mode === 'Passthrough') {
    connectUpstream(conn); // replaces the ClientHello deadline with the connect deadline
  } else {
    startTermination(conn, listener);
  }
}

/** Closes the client without writing a byte (no TLS alert): FIN, or RST if it sent more. */
function reject(conn: Connection, reason: string): void {
  clearTimer(conn);
  conn.result = 'rejected';
  conn.reason = reason;
  conn.host.metrics.rejections.inc({ gateway: conn.table.gateway, reason });
  conn.phase = Phase.Closing;
  conn.client.destroy();
}

function clearTimer(conn: Connection): void {
  if (conn.timer !== null) {
    clearTimeout(conn.timer);
    conn.timer = null;
  }
}

// ---- Terminate ----------------------------------------------------------------------------

function startTermination(conn: Connection, listener: CompiledListener): void {
  const hello = conn.hello as ClientHello;
  const cert = chooseCertificate(listener.certificates, hello.sni as string, hello.keyTypes);
  const client = conn.client;
  // Replay the bytes already read: TLSSocket feeds whatever the wrapped socket has buffered
  // into OpenSSL before reading from the handle.
  client.unshift((conn.assembler as ClientHelloAssembler).bytes());
  conn.assembler = null;
  conn.phase = Phase.Handshake;
  conn.handshakeStartedAt = performance.now();
  // The context whose ticket key made the ticket the client offers (the previous key after a
  // rotation), so a session ticket issued before a rotation still resumes.
  const secure = new tls.TLSSocket(client, {
    isServer: true,
    secureContext: secureContextFor(cert, hello.ticketKeyName),
    requestCert: false,
    // HTTPS listeners speak HTTP/2 or HTTP/1.1; TLS listeners negotiate nothing (as before).
    ...(listener.protocol === 'HTTPS' ? { ALPNProtocols: HTTP_ALPN } : {}),
  });
  (secure as Tagged<tls.TLSSocket>)[kConn] = conn;
  conn.secure = secure;
  conn.front = secure;
  secure.on('error', onSecureError);
  secure.on('close', onSecureClose);
  secure.on('end', onHandshakeEnd);
  secure.once('secure', onSecure);
}

/**
 * The client's FIN before the handshake completed. The accepted socket allows half-open
 * connections (the relay passes half-closes on), so the TLSSocket only emits 'end' and would
 * wait for the rest of the handshake until the deadline; the handshake cannot finish.
 */
function onHandshakeEnd(this: tls.TLSSocket): void {
  const conn = connOf(this);
  if (conn.phase !== Phase.Handshake) return;
  conn.host.metrics.handshakeErrors.inc({ reason: 'client_closed' });
  fail(conn, 'handshake_failed', 'client_closed');
}

/** ALPN for HTTPS listeners, in the server's order of preference. */
const HTTP_ALPN = ['h2', 'http/1.1'];

function onSecure(this: tls.TLSSocket): void {
  const conn = connOf(this);
  this.removeListener('end', onHandshakeEnd);
  conn.host.metrics.handshakeDuration.observe((performance.now() - conn.handshakeStartedAt) / 1000);
  if ((conn.listener as CompiledListener).protocol === 'HTTPS') {
    serveHttp(conn, this, conn.hello?.sni ?? null);
    return;
  }
  connectUpstream(conn);
}

/**
 * Hands the connection to the HTTP front. The client's address is read here, while the socket
 * is surely open (X-Forwarded-For needs it; the access log must not read it after a close).
 */
function serveHttp(conn: Connection, socket: net.Socket, sni: string | null): void {
  clearTimer(conn);
  conn.phase = Phase.Http;
  conn.servedHttp = true;
  const client = conn.client;
  const ip = client.remoteAddress ?? '';
  const facts: HttpConnectionFacts = {
    slot: conn.slot,
    secure: socket !== client,
    sni,
    clientIp: ip,
    clientAddress: conn.clientAddress !== '' ? conn.clientAddress : peerAddress(client),
    localPort: client.localPort ?? 0,
  };
  if (socket === client) conn.host.http.servePlain(socket, facts);
  else conn.host.http.serveSecure(socket as tls.TLSSocket, facts);
}

function onSecureError(this: tls.TLSSocket, err: NodeJS.ErrnoException): void {
  const conn = connOf(this);
  if (conn.phase === Phase.Handshake) {
    const reason = handshakeReason(err);
    conn.host.metrics.handshakeErrors.inc({ reason });
    fail(conn, 'handshake_failed', reason);
  } else {
    clientFailed(conn, err);
  }
}

function onSecureClose(this: tls.TLSSocket): void {
  const conn = connOf(this);
  if (conn.phase === Phase.Handshake) {
    conn.host.metrics.handshakeErrors.inc({ reason: 'client_closed' });
    fail(conn, 'handshake_failed', 'client_closed');
  }
  frontClosed(conn);
}

/** A short, bounded label for a failed handshake: OpenSSL's reason code in lower case. */
function handshakeReason(err: NodeJS.ErrnoException): string {
  const code = err.code ?? '';
  if (code.startsWith('ERR_SSL_')) return code.slice(8).toLowerCase();
  if (code === 'ECONNRESET') return 'client_reset';
  return code ? code.toLowerCase() : 'other';
}

// ---- Backend connect with bounded failover ------------------------------------------------

/**
 * The backend socket's options. The last three are the values net.Socket sets on its copy of
 * the options anyway; listed here, Node 20's constructor assigns existing properties instead of
 * adding new ones. Adding them gave every copy a new hidden class (V8 11.3 does not cache the
 * transitions from a cloned object's map), so every later read of the options in the Socket and
 * stream constructors missed V8's inline caches: about 45,000 instructions per socket.
 */
function upstreamOptions(endpoint: EndpointConfig): net.NetConnectOpts {
  return {
    host: endpoint.address,
    port: endpoint.port,
    allowHalfOpen: true,
    noDelay: true,
    emitClose: false,
    autoDestroy: true,
    decodeStrings: false,
  } as net.NetConnectOpts;
}

function connectUpstream(conn: Connection): void {
  const backend = conn.backend as CompiledBackend;
  const endpoint = nextEndpoint(backend);
  conn.endpoint = endpoint;
  conn.attempts++;
  conn.phase = Phase.Connecting;
  conn.connectStartedAt = performance.now();
  const upstream = net.connect(upstreamOptions(endpoint));
  (upstream as Tagged<net.Socket>)[kConn] = conn;
  conn.upstream = upstream;
  conn.upstreamClosed = false;
  clearTimer(conn);
  conn.timer = setTimeout(onTimer, conn.table.settings.connectTimeoutMs, conn);
  upstream.on('error', onUpstreamError);
  upstream.on('close', onUpstreamClose);
  upstream.once('connect', onUpstreamConnect);
}

function onUpstreamConnect(this: net.Socket): void {
  const conn = connOf(this);
  if (conn.upstream !== this || conn.phase !== Phase.Connecting) return;
  conn.host.metrics.backendConnectDuration.observe((performance.now() - conn.connectStartedAt) / 1000);
  conn.phase = Phase.Relaying;
  const front = conn.front;
  if (conn.secure === null) {
    // Passthrough: the exact ClientHello bytes first, then the raw stream.
    this.write((conn.assembler as ClientHelloAssembler).bytes());
    conn.assembler = null;
  }
  // What pipe() would do, minus its per-connection bookkeeping (about six listeners added
  // and removed per direction): each side's data is written to the other, a full write
  // buffer pauses the reader until 'drain', and an end is passed on as a half-close.
  front.on('data', onRelayData);
  front.on('end', onRelayEnd);
  front.on('drain', onRelayDrain);
  this.on('data', onRelayData);
  this.on('end', onRelayEnd);
  this.on('drain', onRelayDrain);
  front.resume(); // paused since the ClientHello was read
  // A client that sent its FIN right after the hello has already had its 'end' (net emits it
  // even while paused, once nothing is buffered): pass the half-close on now.
  if (front.readableEnded) this.end();
  conn.seenBytes = bytesSeen(conn);
  conn.quietChecks = 0;
  clearTimer(conn); // the connect deadline; idle checks from here on
  conn.timer = setTimeout(onTimer, Math.max(1, Math.ceil(conn.table.settings.idleTimeoutMs / IDLE_CHECKS)), conn);
}

// ---- Relay --------------------------------------------------------------------------------

/** The socket on the other side of the relay from `socket`. */
function peerOf(conn: Connection, socket: net.Socket): net.Socket {
  return socket === conn.upstream ? conn.front : (conn.upstream as net.Socket);
}

function onRelayData(this: net.Socket, chunk: Buffer): void {
  const conn = connOf(this);
  if (!peerOf(conn, this).write(chunk)) this.pause();
  countRelayedBytes(chunk.length);
}

function onRelayDrain(this: net.Socket): void {
  const conn = connOf(this);
  if (conn.phase === Phase.Relaying) peerOf(conn, this).resume();
}

function onRelayEnd(this: net.Socket): void {
  const conn = connOf(this);
  const peer = peerOf(conn, this);
  if (!peer.writableEnded && !peer.destroyed) peer.end();
}

function onUpstreamError(this: net.Socket, err: NodeJS.ErrnoException): void {
  const conn = connOf(this);
  if (conn.upstream !== this) return; // a failed attempt already replaced
  if (conn.phase === Phase.Connecting) {
    connectFailed(conn, this, connectFailureReason(err));
    return;
  }
  if (conn.phase === Phase.Relaying) {
    conn.result = 'error';
    conn.reason = err.code === 'ECONNRESET' ? 'backend_reset' : `backend_${(err.code ?? 'error').toLowerCase()}`;
    conn.phase = Phase.Closing;
    // Mirror a backend reset as a reset toward the client, so it cannot mistake the cut
    // for a clean end of stream.
    if (err.code === 'ECONNRESET') resetFront(conn);
    else destroyFront(conn);
  }
}

function connectFailureReason(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'ECONNREFUSED':
      return 'refused';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'unreachable';
    case 'ECONNRESET':
      return 'reset';
    default:
      return 'other';
  }
}

function connectFailed(conn: Connection, upstream: net.Socket, reason: string): void {
  conn.host.metrics.backendConnectFailures.inc({ gateway: conn.table.gateway, reason });
  upstream.destroy();
  const backend = conn.backend as CompiledBackend;
  const client = conn.front;
  if (conn.attempts < Math.min(MAX_CONNECT_ATTEMPTS, backend.endpoints.length) && !client.destroyed) {
    connectUpstream(conn); // failover to the next endpoint
    return;
  }
  conn.upstream = null;
  conn.upstreamClosed = true;
  conn.result = 'backend_failed';
  conn.reason = `connect_${reason}`;
  conn.phase = Phase.Closing;
  // Passthrough has written nothing to the client yet, so this is a byte-less close too.
  destroyFront(conn);
}

function onUpstreamClose(this: net.Socket): void {
  const conn = connOf(this);
  if (conn.upstream !== this) return;
  conn.upstreamClosed = true;
  if (!conn.frontClosed) {
    // The backend is gone; once its data is flushed to the client, close the client too.
    if (conn.phase === Phase.Relaying) {
      conn.phase = Phase.Draining;
      const front = conn.front;
      if (!front.writableEnded) front.end();
      front.destroySoon();
    } else {
      destroyFront(conn);
    }
    return;
  }
  finish(conn);
}

// ---- Client side --------------------------------------------------------------------------

function onClientError(this: net.Socket, err: NodeJS.ErrnoException): void {
  const conn = connOf(this);
  if (conn.secure !== null) {
    // After wrapping, errors belong to the TLSSocket; make sure it goes down.
    if (!conn.secure.destroyed) conn.secure.destroy();
    return;
  }
  if (conn.phase === Phase.Hello) {
    clearTimer(conn);
    conn.host.metrics.clientHelloErrors.inc({ reason: 'truncated' });
    conn.result = 'rejected';
    conn.reason = 'truncated';
    conn.host.metrics.rejections.inc({ gateway: conn.table.gateway, reason: 'truncated' });
    return;
  }
  clientFailed(conn, err);
}

function clientFailed(conn: Connection, err: NodeJS.ErrnoException): void {
  if (conn.phase === Phase.Closing) return;
  conn.result = 'error';
  conn.reason = err.code === 'ECONNRESET' ? 'client_reset' : `client_${(err.code ?? 'error').toLowerCase()}`;
  conn.phase = Phase.Closing;
  if (conn.upstream !== null && !conn.upstream.destroyed) conn.upstream.destroy();
}

function onClientClose(this: net.Socket): void {
  const conn = connOf(this);
  if (conn.secure !== null) return; // the TLSSocket's 'close' tracks the front side
  frontClosed(conn);
}

function frontClosed(conn: Connection): void {
  if (conn.frontClosed) return;
  conn.frontClosed = true;
  clearTimer(conn);
  if (conn.phase === Phase.Hello) {
    // Closed (FIN+close or RST) before a full hello; 'end'/'error' may not have said so.
    if (conn.reason === '') {
      conn.host.metrics.clientHelloErrors.inc({ reason: 'truncated' });
      conn.host.metrics.rejections.inc({ gateway: conn.table.gateway, reason: 'truncated' });
      conn.result = 'rejected';
      conn.reason = 'truncated';
    }
  }
  if (conn.upstream !== null && !conn.upstreamClosed) {
    if (conn.phase === Phase.Connecting) {
      conn.result = 'error';
      conn.reason = 'client_closed_during_connect';
    }
    conn.phase = Phase.Closing;
    // The client is gone for good; whatever the backend still sends has nowhere to go.
    conn.upstream.destroy();
    return;
  }
  finish(conn);
}

function fail(conn: Connection, result: ConnectionResult, reason: string): void {
  clearTimer(conn);
  conn.result = result;
  conn.reason = reason;
  conn.phase = Phase.Closing;
  destroyFront(conn);
  if (conn.upstream !== null && !conn.upstream.destroyed) conn.upstream.destroy();
}

function destroyFront(conn: Connection): void {
  if (!conn.front.destroyed) conn.front.destroy();
  if (conn.front !== conn.client && !conn.client.destroyed) conn.client.destroy();
}

/**
 * Closes the client with a reset (RST), or plainly when a reset cannot be had. libuv refuses to
 * reset a socket whose shutdown is pending (end() was called and the client is not reading,
 * so the FIN waits behind unsent data), and Node then drops the handle without closing it: no
 * 'close' ever comes and the file descriptor leaks. Once the front's writable side has ended,
 * a FIN is already promised, so destroy() (close) is what is left.
 */
function resetFront(conn: Connection): void {
  const client = conn.client;
  const shutdownPending = client.writableEnded || (conn.secure !== null && conn.secure.writableEnded);
  if (client.destroyed || shutdownPending) {
    destroyFront(conn);
    return;
  }
  if (conn.secure !== null) conn.secure.destroy();
  client.resetAndDestroy();
}

// ---- The end ------------------------------------------------------------------------------

/** The outcome counters for the connection's labels, cached on the compiled route/listener/port. */
function outcomeCounts(conn: Connection): OutcomeCounts {
  const metrics = conn.host.metrics;
  const table = conn.table;
  const listener = conn.listener;
  if (listener === null) return (table.outcomes ??= metrics.outcomeCounts(table.gateway, '', ''));
  const route = conn.route;
  if (route === null) return (listener.outcomes ??= metrics.outcomeCounts(table.gateway, listener.name, ''));
  return (route.outcomes ??= metrics.outcomeCounts(table.gateway, listener.name, route.name));
}

/**
 * True when every socket of the connection is destroyed and yet it has not finished: its
 * 'close' was lost (the watchdog's test; a destroyed socket closes within an event-loop turn).
 */
export function closeLost(conn: Connection): boolean {
  if (conn.finished || !conn.client.destroyed || !conn.front.destroyed) return false;
  return conn.upstream === null || conn.upstream.destroyed;
}

/**
 * Ends a connection that did not end by itself (the watchdog, or shutdown past its grace
 * period): destroys whatever socket is left, then accounts for it and logs it at once,
 * whether or not a 'close' ever comes.
 */
export function abandon(conn: Connection, reason: string): void {
  if (conn.finished) return;
  conn.phase = Phase.Closing;
  if (conn.result === 'ok') conn.result = 'error';
  conn.reason = conn.reason === '' ? reason : `${conn.reason}, ${reason}`;
  destroyFront(conn);
  if (conn.upstream !== null && !conn.upstream.destroyed) conn.upstream.destroy();
  finish(conn);
}

function finish(conn: Connection): void {
  if (conn.finished) return;
  conn.finished = true;
  clearTimer(conn);
  conn.table.gatewayLoad.active--;
  if (conn.counted) (conn.listener as CompiledListener).load.active--;
  const upstream = conn.upstream;
  // Bytes as seen on the backend socket (Terminate: decrypted payload), ClientHello included.
  const fromClient = upstream !== null ? upstream.bytesWritten : 0;
  const toClient = upstream !== null ? upstream.bytesRead : 0;
  const host = conn.host;
  const metrics = host.metrics;
  metrics.traffic.fromClient += fromClient;
  metrics.traffic.toClient += toClient;
  outcomeCounts(conn)[conn.result]++;
  if (host.accessLog !== null && !conn.servedHttp) host.accessLog.write(accessLogLine(conn, fromClient, toClient, performance.now()));
  host.connectionClosed(conn);
}
