// One HTTP request from the front to its end: what was routed where, the timers, the byte
// counts, and the single place that records it (metrics and one access-log line). Answers the
// proxy makes itself (404, 421, 500, 502, 504, redirects) go through answer(), for HTTP/1.1,
// HTTP/2 and upgrade requests (which have a raw socket instead of a response object) alike.
import type http from 'node:http';
import http2 from 'node:http2';
import { STATUS_CODES } from 'node:http';
import type net from 'node:net';
import { isoNow, type AccessLogSink } from '../access-log.js';
import type { Metrics } from '../metrics.js';
import type { CompiledBackend, CompiledListener, PortTable } from '../routing.js';
import type { EndpointConfig } from '../../src/proxy-config.js';
import type { CompiledHttpRoute, CompiledMatch } from './compile.js';
import { headersObject } from './headers.js';
import { recordRequest, type HttpRouteStats } from './stats.js';
import type { RawHeaders } from './filters.js';

/** What one client connection tells every request on it (captured when the front took the connection). */
export interface HttpConnectionFacts {
  /** The port's slot: each request reads the table current when it starts. */
  slot: { table: PortTable };
  secure: boolean;
  /** HTTPS: the SNI that chose the listener. */
  sni: string | null;
  clientIp: string;
  /** `ip:port` for the access log. */
  clientAddress: string;
  /** The port the client connected to (for redirects on an ephemeral test port). */
  localPort: number;
}

export type ClientRequest = http.IncomingMessage | http2.Http2ServerRequest;
export type ClientResponse = http.ServerResponse | http2.Http2ServerResponse;

export interface ExchangeHost {
  metrics: Metrics;
  accessLog: AccessLogSink | null;
  exchangeEnded(exchange: Exchange): void;
}

export class Exchange {
  readonly startedAt = performance.now();
  readonly host: ExchangeHost;
  readonly facts: HttpConnectionFacts;
  readonly req: ClientRequest;
  /** Null for an upgrade request: its answers go to `socket`. */
  readonly res: ClientResponse | null;
  readonly socket: net.Socket | null;
  readonly http2: boolean;
  /** The table current when the request started: the whole request uses it. */
  readonly table: PortTable;
  method: string;
  /** Host without port, lowercased. */
  hostname = '';
  /** The Host header / :authority as sent. */
  authority = '';
  path = '';
  /** `?…` or ''. */
  query = '';
  listener: CompiledListener | null = null;
  match: CompiledMatch | null = null;
  route: CompiledHttpRoute | null = null;
  backend: CompiledBackend | null = null;
  endpoint: EndpointConfig | null = null;
  status = 0;
  reason = '';
  bytesFromClient = 0;
  bytesToClient = 0;
  timer: NodeJS.Timeout | null = null;
  backendTimer: NodeJS.Timeout | null = null;
  /** Set when a timeout ended the request (the backend's error that follows is expected). */
  timedOut = false;
  ended = false;
  /** Stops the current backend attempt (set by the backend leg). */
  cancel: (() => void) | null = null;
  /** The client's body is being piped into `upstream`. */
  bodyPiped = false;

  constructor(host: ExchangeHost, facts: HttpConnectionFacts, req: ClientRequest, res: ClientResponse | null, socket: net.Socket | null) {
    this.host = host;
    this.facts = facts;
    this.req = req;
    this.res = res;
    this.socket = socket;
    this.http2 = req.httpVersionMajor === 2;
    this.table = facts.slot.table;
    this.method = req.method ?? 'GET';
  }

  get responseStarted(): boolean {
    return this.res !== null ? this.res.headersSent : this.status !== 0;
  }

  /**
   * Answers the request from the proxy itself (no backend). `headers` are extra raw headers
   * (Location for redirects). Ignored once a response has started.
   */
  answer(status: number, reason: string, headers: RawHeaders = []): void {
    if (this.responseStarted || this.ended) return;
    this.reason = reason;
    this.status = status;
    const body = status >= 300 && status < 400 ? '' : `${status} ${STATUS_CODES[status] ?? ''}: ${reason}\n`;
    const length = Buffer.byteLength(body);
    const all: RawHeaders = ['Content-Type', 'text/plain; charset=utf-8', 'Content-Length', String(length), ...headers];
    this.bytesToClient += length;
    if (this.res === null) {
      // An upgrade request: the socket is ours, write the response and close it.
      const socket = this.socket as net.Socket;
      let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nConnection: close\r\n`;
      for (let i = 0; i < all.length; i += 2) head += `${all[i]}: ${all[i + 1]}\r\n`;
      if (!socket.destroyed) socket.end(`${head}\r\n${body}`);
      this.end();
      return;
    }
    const res = this.res;
    if (this.http2) (res as http2.Http2ServerResponse).writeHead(status, headersObject(all));
    else (res as http.ServerResponse).writeHead(status, all);
    res.end(body);
  }

  /** The client closed its side (stream or connection) before the response ended. */
  clientGone(): boolean {
    if (this.res === null) return (this.socket as net.Socket).destroyed;
    if (this.http2) return (this.res as http2.Http2ServerResponse).stream.destroyed;
    return (this.res as http.ServerResponse).destroyed;
  }

  /**
   * Ends the request without a complete response (the backend failed mid-way, or a timeout hit
   * after the response started): the client sees a cut connection (HTTP/1.1) or a reset
   * stream (HTTP/2), never a short body that looks complete.
   */
  abort(reason: string): void {
    if (this.ended) return;
    this.reason = reason;
    this.cancel?.();
    if (this.res === null) (this.socket as net.Socket).destroy();
    // A reset stream with an error code: destroy() alone resets it with NO_ERROR, which the
    // client would read as the normal end of a shorter body.
    else if (this.http2) (this.res as http2.Http2ServerResponse).stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
    else this.res.destroy();
    this.end();
  }

  clearTimers(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    if (this.backendTimer !== null) clearTimeout(this.backendTimer);
    this.timer = null;
    this.backendTimer = null;
  }

  /** Records the request once: the route's stats, the access-log line. */
  end(reason?: string): void {
    if (this.ended) return;
    this.ended = true;
    this.clearTimers();
    if (reason !== undefined && this.reason === '') this.reason = reason;
    const seconds = (performance.now() - this.startedAt) / 1000;
    recordRequest(this.statsOf(), this.status, seconds);
    const log = this.host.accessLog;
    if (log !== null) log.write(accessLogLine(this, seconds));
    this.host.exchangeEnded(this);
  }

  private statsOf(): HttpRouteStats {
    const stats = this.host.metrics.httpStats;
    const listener = this.listener;
    const route = this.route;
    if (route !== null && listener !== null) return (route.stats ??= stats.statsFor(this.table.gateway, listener.name, route.name));
    return stats.statsFor(this.table.gateway, listener !== null ? listener.name : '', '');
  }
}

/** One JSON line per request; client-sent strings (host, path, method) go through JSON.stringify. */
export function accessLogLine(ex: Exchange, seconds: number): string {
  const endpoint = ex.endpoint;
  return (
    `{"time":"${isoNow()}","client":${JSON.stringify(ex.facts.clientAddress)},"gateway":${ex.table.gatewayJson},"port":${ex.table.port}` +
    `,"listener":${ex.listener !== null ? ex.listener.nameJson : 'null'},"protocol":"${ex.http2 ? 'HTTP/2' : `HTTP/1.${ex.req.httpVersionMinor}`}"` +
    `,"method":${JSON.stringify(ex.method)},"host":${JSON.stringify(ex.hostname)},"path":${JSON.stringify(ex.path)},"status":${ex.status}` +
    `,"route":${ex.route !== null ? ex.route.nameJson : 'null'},"backend":${ex.backend !== null ? ex.backend.refJson : 'null'}` +
    `,"endpoint":${endpoint !== null ? JSON.stringify(`${endpoint.address}:${endpoint.port}`) : 'null'}` +
    `,"bytes_from_client":${ex.bytesFromClient},"bytes_to_client":${ex.bytesToClient}` +
    `,"duration_ms":${Math.round(seconds * 1e6) / 1000},"reason":${ex.reason === '' ? 'null' : JSON.stringify(ex.reason)}}\n`
  );
}
