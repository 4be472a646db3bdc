// The backend leg of a request: HTTP/1.1 over undici, one keep-alive Pool per endpoint,
// requests through the dispatch API (undici rather than Node's http.Agent: measured, see
// docs/proxy.md "Backend pools"). The client's body goes through a PassThrough that is fed only
// once undici has a connected socket for the request (onConnect), so a failed connect fails
// over to the next endpoint, as the TLS relay does, without a body byte lost. The response is
// written to the client chunk by chunk, pausing undici when the client's buffer is full
// (onData returning false) and resuming on 'drain'. WebSocket upgrades become two piped sockets
// after the 101.
import type http from 'node:http';
import type http2 from 'node:http2';
import type net from 'node:net';
import { PassThrough, type Duplex } from 'node:stream';
import { Pool, type Dispatcher } from 'undici';
import { MAX_CONNECT_ATTEMPTS } from '../connection.js';
import { nextEndpoint } from '../routing.js';
import type { EndpointConfig } from '../../src/proxy-config.js';
import type { Exchange } from './exchange.js';
import { modifyHeaders, type RawHeaders } from './filters.js';
import { headersObject, responseHeadersForClient } from './headers.js';
import { countRelayedBytes } from '../read-buffer-scavenger.js';
import type { CompiledHttpBackend, HeaderModifier } from './compile.js';

/** Idle pooled backend connections are closed after this. */
export const BACKEND_IDLE_TIMEOUT_MS = 30_000;

export interface UpstreamRequest {
  backend: CompiledHttpBackend;
  method: string;
  /** Path and query as the backend gets them. */
  path: string;
  headers: RawHeaders;
  /** The client sends a body (its length known or not); it is streamed once a backend is connected. */
  hasBody: boolean;
  /** The rule's, then the backend's ResponseHeaderModifiers. */
  responseModifiers: HeaderModifier[];
  /** The client's bytes read past an upgrade request's head (Node hands them over with the socket). */
  upgradeHead: Buffer | null;
  attempts: number;
  retriedReused: boolean;
  bodyStarted: boolean;
  connectTimeoutMs: number;
  backendRequestTimeoutMs: number;
}

/** Keep-alive pools per endpoint, shared by every route and kept across config swaps. */
export class BackendPools {
  private readonly pools = new Map<string, Pool>();

  poolFor(endpoint: EndpointConfig, connectTimeoutMs: number): Pool {
    const key = `${endpoint.address}|${endpoint.port}|${connectTimeoutMs}`;
    let pool = this.pools.get(key);
    if (pool === undefined) {
      const host = endpoint.address.includes(':') ? `[${endpoint.address}]` : endpoint.address;
      pool = new Pool(`http://${host}:${endpoint.port}`, {
        connect: { timeout: connectTimeoutMs },
        // The route's timeouts govern; undici's own (300 s each) would cut long streams.
        headersTimeout: 0,
        bodyTimeout: 0,
        keepAliveTimeout: BACKEND_IDLE_TIMEOUT_MS,
        pipelining: 1,
      });
      this.pools.set(key, pool);
    }
    return pool;
  }

  close(): void {
    for (const pool of this.pools.values()) void pool.destroy().catch(() => undefined);
    this.pools.clear();
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
    case 'UND_ERR_CONNECT_TIMEOUT':
      return 'timeout';
    default:
      return 'other';
  }
}

/** undici refuses these in a request's headers; it frames the body and says upgrade itself. */
const UNDICI_OWNS = new Set(['transfer-encoding', 'connection', 'upgrade', 'keep-alive', 'expect']);

function undiciHeaders(headers: RawHeaders): string[] {
  const out: string[] = [];
  for (let i = 0; i < headers.length; i += 2) {
    if (UNDICI_OWNS.has((headers[i] as string).toLowerCase())) continue;
    out.push(headers[i] as string, headers[i + 1] as string);
  }
  return out;
}

function latin1(raw: Buffer[] | string[] | null): string[] {
  if (raw === null) return [];
  return raw.map((v) => (typeof v === 'string' ? v : v.toString('latin1')));
}

/** Sends the request to the backend's next endpoint (round robin), failing over on connect errors. */
export function forward(ex: Exchange, pools: BackendPools, up: UpstreamRequest): void {
  attempt(ex, pools, up, nextEndpoint(up.backend));
}

function attempt(ex: Exchange, pools: BackendPools, up: UpstreamRequest, endpoint: EndpointConfig): void {
  ex.endpoint = endpoint;
  up.attempts++;
  const body = up.hasBody ? new PassThrough() : null;
  let connected = false;
  let abort: ((err?: Error) => void) | null = null;
  let done = false;
  const metrics = ex.host.metrics;
  const client = ex.res;
  ex.cancel = () => {
    done = true;
    if (abort !== null) abort();
    body?.destroy();
  };
  if (up.backendRequestTimeoutMs > 0) {
    if (ex.backendTimer !== null) clearTimeout(ex.backendTimer);
    ex.backendTimer = setTimeout(timedOut, up.backendRequestTimeoutMs, ex, 'backend_request_timeout');
  }
  let paused = false;
  let resume: (() => void) | null = null;
  const onDrain = (): void => {
    if (!paused) return;
    paused = false;
    resume?.();
  };
  const handler: Dispatcher.DispatchHandler = {
    onConnect(a) {
      abort = a;
      if (done) return a();
      connected = true;
      if (body !== null && !up.bodyStarted) {
        up.bodyStarted = true;
        ex.bodyPiped = true;
        ex.req.on('data', (chunk: Buffer) => {
          ex.bytesFromClient += chunk.length;
          countRelayedBytes(chunk.length);
        });
        ex.req.pipe(body);
      }
    },
    onError(err: Error) {
      if (done || ex.ended || ex.timedOut) return;
      done = true;
      const e = err as NodeJS.ErrnoException;
      if (!connected) {
        const reason = connectFailureReason(e);
        metrics.backendConnectFailures.inc({ gateway: ex.table.gateway, reason });
        if (up.attempts < Math.min(MAX_CONNECT_ATTEMPTS, up.backend.endpoints.length) && !ex.clientGone()) {
          attempt(ex, pools, up, nextEndpoint(up.backend));
          return;
        }
        ex.answer(502, `backend_connect_${reason}`);
        return;
      }
      // A pooled connection the backend closed just as it was reused: the request never got there.
      if (e.code === 'UND_ERR_SOCKET' && !up.retriedReused && !up.bodyStarted && !ex.responseStarted) {
        up.retriedReused = true;
        attempt(ex, pools, up, endpoint);
        return;
      }
      if (ex.bodyPiped) {
        ex.req.unpipe();
        ex.req.resume();
      }
      if (!ex.responseStarted) ex.answer(502, `backend_${(e.code ?? 'error').toLowerCase()}`);
      else ex.abort('backend_reset');
    },
    onHeaders(statusCode, rawHeaders, resumeFn, statusText) {
      if (done || ex.ended) return false;
      if (statusCode < 200) return true; // 1xx: the front handled 100-continue itself
      resume = resumeFn;
      ex.status = statusCode;
      const headers = responseHeadersForClient(latin1(rawHeaders));
      for (const modifier of up.responseModifiers) modifyHeaders(headers, modifier);
      if (client === null) {
        // An upgrade the backend declined: its answer goes to the raw socket, framed by the close.
        const socket = ex.socket as net.Socket;
        let head = `HTTP/1.1 ${statusCode} ${statusText}\r\nConnection: close\r\n`;
        for (let i = 0; i < headers.length; i += 2) if ((headers[i] as string).toLowerCase() !== 'content-length') head += `${headers[i]}: ${headers[i + 1]}\r\n`;
        socket.write(`${head}\r\n`);
        socket.on('drain', onDrain);
        return true;
      }
      try {
        if (ex.http2) (client as http2.Http2ServerResponse).writeHead(statusCode, headersObject(headers));
        else (client as http.ServerResponse).writeHead(statusCode, statusText, headers);
      } catch (err) {
        done = true;
        abort?.();
        ex.answer(502, `backend_invalid_response: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
        return false;
      }
      client.on('drain', onDrain);
      return true;
    },
    onData(chunk) {
      if (done || ex.ended) return false;
      ex.bytesToClient += chunk.length;
      countRelayedBytes(chunk.length);
      const target = (client ?? ex.socket) as NodeJS.WritableStream;
      if (!target.write(chunk)) {
        paused = true;
        return false;
      }
      return true;
    },
    onComplete() {
      if (done || ex.ended) return;
      done = true;
      if (client === null) {
        (ex.socket as net.Socket).end();
        ex.end();
        return;
      }
      client.end();
    },
    onUpgrade(statusCode, rawHeaders, socket: Duplex) {
      const front = ex.socket as net.Socket;
      if (done || ex.ended || front.destroyed) {
        socket.destroy();
        return;
      }
      done = true;
      ex.clearTimers(); // a tunnel lives as long as its two sockets
      ex.status = statusCode;
      const headers = latin1(rawHeaders);
      for (const modifier of up.responseModifiers) modifyHeaders(headers, modifier);
      let text = `HTTP/1.1 ${statusCode} Switching Protocols\r\n`;
      for (let i = 0; i < headers.length; i += 2) text += `${headers[i]}: ${headers[i + 1]}\r\n`;
      front.write(`${text}\r\n`);
      if (up.upgradeHead !== null && up.upgradeHead.length > 0) socket.write(up.upgradeHead);
      front.on('data', (chunk: Buffer) => (ex.bytesFromClient += chunk.length));
      socket.on('data', (chunk: Buffer) => (ex.bytesToClient += chunk.length));
      front.pipe(socket);
      socket.pipe(front);
      const close = (): void => {
        if (!socket.destroyed) socket.destroy();
        if (!front.destroyed) front.destroySoon();
        ex.end();
      };
      socket.on('error', () => undefined);
      socket.on('close', close);
      front.on('close', close);
    },
  };
  const options: Dispatcher.DispatchOptions = {
    path: up.path,
    method: up.method as Dispatcher.HttpMethod,
    headers: undiciHeaders(up.headers),
    body,
  };
  if (ex.socket !== null) {
    for (let i = 0; i < up.headers.length; i += 2) if ((up.headers[i] as string).toLowerCase() === 'upgrade') options.upgrade = up.headers[i + 1] as string;
  }
  try {
    pools.poolFor(endpoint, up.connectTimeoutMs).dispatch(options, handler);
  } catch (err) {
    ex.answer(400, `unforwardable_request: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}

/** A route timeout fired: 504 if nothing was sent yet, else the response is cut. */
export function timedOut(ex: Exchange, reason: string): void {
  if (ex.ended) return;
  ex.timedOut = true;
  if (ex.bodyPiped) {
    ex.req.unpipe();
    ex.req.resume();
  }
  ex.cancel?.();
  if (!ex.responseStarted) ex.answer(504, reason);
  else ex.abort(reason);
}
