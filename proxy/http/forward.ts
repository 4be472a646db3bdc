// The backend leg of a request: HTTP/1.1 over a keep-alive pool per endpoint (Node's
// http.Agent; bench/http/pool-choice.ts and docs/proxy.md say why not undici), endpoint
// failover on connect errors as the TLS relay does, the body streamed both ways with
// backpressure (pipe), and WebSocket upgrades relayed as two sockets after the 101.
import http from 'node:http';
import type net from 'node:net';
import { MAX_CONNECT_ATTEMPTS } from '../connection.js';
import { nextEndpoint } from '../routing.js';
import type { EndpointConfig } from '../../src/proxy-config.js';
import type { CompiledHttpBackend, HeaderModifier } from './compile.js';
import type { Exchange } from './exchange.js';
import { modifyHeaders, type RawHeaders } from './filters.js';
import { headersObject, responseHeadersForClient } from './headers.js';
import { countRelayedBytes } from '../read-buffer-scavenger.js';

export interface BackendPools {
  agentFor(endpoint: EndpointConfig): http.Agent;
}

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

/** Sends the request to the backend's next endpoint (round robin), failing over on connect errors. */
export function forward(ex: Exchange, pools: BackendPools, up: UpstreamRequest): void {
  attempt(ex, pools, up, nextEndpoint(up.backend));
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
    case 'ETIMEDOUT':
      return 'timeout';
    default:
      return 'other';
  }
}

function attempt(ex: Exchange, pools: BackendPools, up: UpstreamRequest, endpoint: EndpointConfig): void {
  ex.endpoint = endpoint;
  up.attempts++;
  let request: http.ClientRequest;
  try {
    request = http.request({
      agent: pools.agentFor(endpoint),
      host: endpoint.address,
      port: endpoint.port,
      method: up.method,
      path: up.path,
      headers: up.headers,
      setHost: false,
    });
  } catch (err) {
    // Node's client is stricter than its server about what a request line and headers may
    // hold (ERR_UNESCAPED_CHARACTERS, ERR_INVALID_CHAR): such a request cannot be forwarded.
    ex.answer(400, `unforwardable_request: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
    return;
  }
  ex.upstream = request;
  ex.cancel = () => {
    if (!request.destroyed) request.destroy();
  };
  let connected = false;
  let connectTimer: NodeJS.Timeout | null = null;
  const startedAt = performance.now();
  const metrics = ex.host.metrics;
  const onConnected = (): void => {
    if (connectTimer !== null) clearTimeout(connectTimer);
    connected = true;
    if (up.hasBody && !up.bodyStarted) {
      // Only now: a body read before the connect succeeded could not be replayed on failover.
      up.bodyStarted = true;
      ex.bodyPiped = true;
      ex.req.on('data', (chunk: Buffer) => {
        ex.bytesFromClient += chunk.length;
        countRelayedBytes(chunk.length);
      });
      ex.req.pipe(request);
    }
  };
  request.on('socket', (socket: net.Socket) => {
    if (!socket.connecting) return onConnected();
    connectTimer = setTimeout(() => request.destroy(Object.assign(new Error('backend connect timeout'), { code: 'ETIMEDOUT' })), up.connectTimeoutMs);
    socket.once('connect', () => {
      metrics.backendConnectDuration.observe((performance.now() - startedAt) / 1000);
      onConnected();
    });
  });
  if (up.backendRequestTimeoutMs > 0) {
    if (ex.backendTimer !== null) clearTimeout(ex.backendTimer);
    ex.backendTimer = setTimeout(timedOut, up.backendRequestTimeoutMs, ex, 'backend_request_timeout');
  }
  request.on('error', (err: NodeJS.ErrnoException) => {
    if (connectTimer !== null) clearTimeout(connectTimer);
    if (ex.ended || ex.timedOut || ex.upstream !== request) return;
    if (!connected) {
      const reason = connectFailureReason(err);
      metrics.backendConnectFailures.inc({ gateway: ex.table.gateway, reason });
      if (up.attempts < Math.min(MAX_CONNECT_ATTEMPTS, up.backend.endpoints.length) && !ex.clientGone()) {
        attempt(ex, pools, up, nextEndpoint(up.backend));
        return;
      }
      stopBody(ex, request);
      ex.answer(502, `backend_connect_${reason}`);
      return;
    }
    // A pooled connection the backend had just closed: the request never reached it.
    if (request.reusedSocket && !up.retriedReused && !up.bodyStarted && !ex.responseStarted) {
      up.retriedReused = true;
      attempt(ex, pools, up, endpoint);
      return;
    }
    stopBody(ex, request);
    if (!ex.responseStarted) ex.answer(502, `backend_${(err.code ?? 'error').toLowerCase()}`);
    else ex.abort('backend_reset');
  });
  request.on('response', (res: http.IncomingMessage) => relayResponse(ex, up, request, res));
  if (ex.res === null) request.on('upgrade', (res: http.IncomingMessage, socket: net.Socket, head: Buffer) => relayUpgrade(ex, up, res, socket, head));
  if (!up.hasBody) request.end();
}

/** The client's body stops going to a request that failed; what is left of it is read and dropped. */
function stopBody(ex: Exchange, request: http.ClientRequest): void {
  if (!ex.bodyPiped) return;
  ex.req.unpipe(request);
  ex.req.resume();
}

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

function finalHeaders(up: UpstreamRequest, raw: RawHeaders): RawHeaders {
  for (const modifier of up.responseModifiers) modifyHeaders(raw, modifier);
  return raw;
}

function relayResponse(ex: Exchange, up: UpstreamRequest, request: http.ClientRequest, res: http.IncomingMessage): void {
  if (ex.ended || ex.timedOut || ex.upstream !== request) {
    res.destroy();
    return;
  }
  const status = res.statusCode ?? 502;
  ex.status = status;
  const headers = finalHeaders(up, responseHeadersForClient(res.rawHeaders));
  res.on('data', (chunk: Buffer) => {
    ex.bytesToClient += chunk.length;
    countRelayedBytes(chunk.length);
  });
  // Cut before its end (reset, or closed without the promised length): the client must not
  // take a truncated body for a complete one.
  res.on('close', () => {
    if (!res.complete && !ex.ended) ex.abort('backend_reset');
  });
  const client = ex.res;
  if (client === null) {
    // An upgrade the backend declined: its answer goes to the raw socket, framed by the close.
    const socket = ex.socket as net.Socket;
    let head = `HTTP/1.1 ${status} ${res.statusMessage ?? ''}\r\nConnection: close\r\n`;
    for (let i = 0; i < headers.length; i += 2) if ((headers[i] as string).toLowerCase() !== 'content-length') head += `${headers[i]}: ${headers[i + 1]}\r\n`;
    socket.write(`${head}\r\n`);
    res.pipe(socket);
    res.on('end', () => ex.end());
    return;
  }
  try {
    if (ex.http2) (client as import('node:http2').Http2ServerResponse).writeHead(status, headersObject(headers));
    else (client as http.ServerResponse).writeHead(status, res.statusMessage, headers);
  } catch (err) {
    // A header the backend sent that the client's protocol cannot carry (HTTP/2 is stricter).
    res.destroy();
    ex.status = 0;
    ex.answer(502, `backend_invalid_response: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
    return;
  }
  res.pipe(client as NodeJS.WritableStream);
}

function relayUpgrade(ex: Exchange, up: UpstreamRequest, res: http.IncomingMessage, upstream: net.Socket, head: Buffer): void {
  const client = ex.socket as net.Socket;
  if (ex.ended || ex.timedOut || client.destroyed) {
    upstream.destroy();
    return;
  }
  ex.clearTimers(); // a tunnel lives as long as its two sockets
  ex.status = res.statusCode ?? 101;
  const headers = finalHeaders(up, [...res.rawHeaders]);
  let text = `HTTP/1.1 ${ex.status} ${res.statusMessage ?? 'Switching Protocols'}\r\n`;
  for (let i = 0; i < headers.length; i += 2) text += `${headers[i]}: ${headers[i + 1]}\r\n`;
  client.write(`${text}\r\n`);
  if (head.length > 0) client.write(head);
  if (up.upgradeHead !== null && up.upgradeHead.length > 0) upstream.write(up.upgradeHead);
  upstream.setNoDelay(true);
  client.on('data', (chunk: Buffer) => (ex.bytesFromClient += chunk.length));
  upstream.on('data', (chunk: Buffer) => (ex.bytesToClient += chunk.length));
  client.pipe(upstream);
  upstream.pipe(client);
  const close = (): void => {
    if (!upstream.destroyed) upstream.destroy();
    if (!client.destroyed) client.destroySoon();
    ex.end();
  };
  upstream.on('error', () => undefined);
  upstream.on('close', close);
  client.on('close', close);
}
