// The HTTP front of one engine: the HTTP/1.1 and HTTP/2 servers that every HTTP connection
// is handed to once the engine knows it speaks HTTP (a plain HTTP port at accept; an HTTPS
// listener after its TLS handshake, by ALPN), and the keep-alive pools to backends. The
// servers never listen themselves: sockets arrive with emit('connection'), so one accept path
// per port stays in proxy/connection.ts, and the facts of the connection (slot, SNI, client
// address) travel on the socket or the HTTP/2 session.
import http from 'node:http';
import http2 from 'node:http2';
import type net from 'node:net';
import type tls from 'node:tls';
import type { AccessLogSink } from '../access-log.js';
import type { Metrics } from '../metrics.js';
import type { Exchange, HttpConnectionFacts } from './exchange.js';
import { handleRequest, type RequestHost } from './handler.js';
import { BackendPools, forward, type UpstreamRequest } from './forward.js';

const kFacts = Symbol('tlsgate.httpFacts');
type Tagged<T> = T & { [kFacts]?: HttpConnectionFacts };

/** Node's default: an idle HTTP/1.1 keep-alive connection is closed after this. */
export const KEEP_ALIVE_TIMEOUT_MS = 5_000;
/** The request head must arrive within this (slow-header clients are cut off). */
export const HEADERS_TIMEOUT_MS = 60_000;
/** No byte either way on an HTTP connection (or HTTP/2 session) for this long closes it. */
export const HTTP_IDLE_TIMEOUT_MS = 120_000;

export class HttpFront implements RequestHost {
  readonly metrics: Metrics;
  readonly accessLog: AccessLogSink | null;
  draining = false;
  private readonly h1: http.Server;
  private readonly h2: http2.Http2Server;
  private readonly sessions = new Set<http2.ServerHttp2Session>();
  /** The facts of the connection being handed to the HTTP/2 server (its 'session' event is synchronous). */
  private pendingFacts: HttpConnectionFacts | null = null;
  private inFlight = 0;
  private readonly pools = new BackendPools();

  constructor(metrics: Metrics, accessLog: AccessLogSink | null) {
    this.metrics = metrics;
    this.accessLog = accessLog;
    // requestTimeout 0: a long upload must not be cut by a whole-request deadline (routes set
    // their own timeouts); the head still has HEADERS_TIMEOUT_MS.
    this.h1 = http.createServer({ requestTimeout: 0, headersTimeout: HEADERS_TIMEOUT_MS, keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS, noDelay: true });
    this.h1.timeout = HTTP_IDLE_TIMEOUT_MS;
    this.h1.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => this.onRequest(req, res));
    this.h1.on('upgrade', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => this.onUpgrade(req, socket, head));
    this.h1.on('clientError', onClientError);
    // The server never listens; its connection tracking (which enforces headersTimeout and
    // lets closeIdleConnections() work) is set up on 'listening', so announce it.
    this.h1.emit('listening');
    this.h2 = http2.createServer({ maxSessionMemory: 32 });
    this.h2.setTimeout(HTTP_IDLE_TIMEOUT_MS);
    this.h2.on('session', (session: http2.ServerHttp2Session) => {
      (session as Tagged<http2.ServerHttp2Session>)[kFacts] = this.pendingFacts as HttpConnectionFacts;
      this.sessions.add(session);
      session.on('close', () => this.sessions.delete(session));
      session.on('error', () => undefined); // the session closes; its streams see their own errors
      if (this.draining) session.close();
    });
    this.h2.on('request', (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => {
      const facts = (req.stream.session as Tagged<http2.ServerHttp2Session> | undefined)?.[kFacts];
      if (facts === undefined) return void res.stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
      this.track();
      handleRequest(this, facts, req, res, null, null);
    });
    this.h2.on('sessionError', () => undefined);
  }

  /** A connection on a plain HTTP port, straight from accept. */
  servePlain(socket: net.Socket, facts: HttpConnectionFacts): void {
    (socket as Tagged<net.Socket>)[kFacts] = facts;
    this.h1.emit('connection', socket);
  }

  /** A TLS connection of an HTTPS listener after its handshake: HTTP/2 when ALPN chose it. */
  serveSecure(socket: tls.TLSSocket, facts: HttpConnectionFacts): void {
    if (socket.alpnProtocol === 'h2') {
      // A server TLSSocket made outside a tls.Server keeps secureConnecting true after its
      // handshake (only tls.Server clears it), and an HTTP/2 session over such a socket would
      // wait for a 'secureConnect' that servers never emit.
      (socket as { secureConnecting?: boolean }).secureConnecting = false;
      this.pendingFacts = facts;
      try {
        this.h2.emit('connection', socket);
      } finally {
        this.pendingFacts = null;
      }
      return;
    }
    (socket as Tagged<net.Socket>)[kFacts] = facts;
    this.h1.emit('connection', socket);
  }

  forward(ex: Exchange, up: UpstreamRequest): void {
    forward(ex, this.pools, up);
  }

  exchangeEnded(_exchange: Exchange): void {
    this.inFlight--;
  }

  /** Requests started and not yet ended (for tests and draining). */
  get requestsInFlight(): number {
    return this.inFlight;
  }

  private track(): void {
    this.inFlight++;
  }

  private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const facts = (req.socket as Tagged<net.Socket>)[kFacts];
    if (facts === undefined) return void res.destroy();
    this.track();
    handleRequest(this, facts, req, res, null, null);
  }

  private onUpgrade(req: http.IncomingMessage, socket: net.Socket, head: Buffer): void {
    const facts = (socket as Tagged<net.Socket>)[kFacts];
    if (facts === undefined) return void socket.destroy();
    this.track();
    handleRequest(this, facts, req, null, socket, head);
  }

  /**
   * Shutting down: idle HTTP/1.1 connections close now, busy ones after their current
   * response, HTTP/2 sessions get a GOAWAY and close when their streams are done.
   */
  drain(): void {
    this.draining = true;
    this.h1.closeIdleConnections();
    for (const session of this.sessions) session.close();
  }

  /** Closes the pooled backend connections. */
  close(): void {
    this.pools.close();
  }
}

/** A malformed request head: answer 400 when the socket can still take it, as Node would. */
function onClientError(err: NodeJS.ErrnoException, socket: net.Socket): void {
  if (socket.writable && err.code !== 'ECONNRESET' && err.code !== 'HPE_HEADER_OVERFLOW' && err.code !== 'ERR_HTTP_REQUEST_TIMEOUT') {
    socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    return;
  }
  if (socket.writable && err.code === 'HPE_HEADER_OVERFLOW') {
    socket.end('HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    return;
  }
  socket.destroy();
}
