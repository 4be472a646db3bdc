// Routing one request: the listener (plain HTTP: by Host; HTTPS: the one the SNI chose, and a
// Host that another listener of the port would serve is misdirected, 421), the virtual host,
// the first match, the rule's filters, one backend by weight, then the backend's filters.
import type http from 'node:http';
import type net from 'node:net';
import { pickBackend } from '../routing.js';
import type { CompiledFilters, CompiledHttpBackend, HeaderModifier } from './compile.js';
import { Exchange, type ClientRequest, type ClientResponse, type ExchangeHost, type HttpConnectionFacts } from './exchange.js';
import { modifiedPath, modifyHeaders, redirectLocation } from './filters.js';
import { timedOut, type UpstreamRequest } from './forward.js';
import { hostOf, requestHeadersForBackend } from './headers.js';
import { findMatch } from './match.js';

export interface RequestHost extends ExchangeHost {
  /** Sends the request to the backend (proxy/http/forward.ts). */
  forward(ex: Exchange, up: UpstreamRequest): void;
  /** Shutting down: HTTP/1.1 responses close their connection. */
  readonly draining: boolean;
}

/** Splits a request-target into path and query (an absolute-form target loses its scheme and authority). */
function splitTarget(target: string): { path: string; query: string } {
  let t = target;
  if (t.charCodeAt(0) !== 0x2f) {
    const scheme = t.indexOf('://');
    if (scheme !== -1) {
      const slash = t.indexOf('/', scheme + 3);
      t = slash === -1 ? '/' : t.slice(slash);
    } else if (t === '*') {
      return { path: '*', query: '' };
    } else {
      t = `/${t}`;
    }
  }
  const q = t.indexOf('?');
  return q === -1 ? { path: t, query: '' } : { path: t.slice(0, q), query: t.slice(q) };
}

function hasBody(ex: Exchange): boolean {
  const headers = ex.req.headers;
  if (ex.http2) {
    const length = headers['content-length'];
    if (length !== undefined) return length !== '0';
    return !(ex.req as import('node:http2').Http2ServerRequest).stream.endAfterHeaders;
  }
  if (headers['transfer-encoding'] !== undefined) return true;
  const length = headers['content-length'];
  return length !== undefined && length !== '0';
}

/** Entry for every request (and, with `socket`, every HTTP/1.1 upgrade request). */
export function handleRequest(host: RequestHost, facts: HttpConnectionFacts, req: ClientRequest, res: ClientResponse | null, socket: net.Socket | null, head: Buffer | null): void {
  const ex = new Exchange(host, facts, req, res, socket);
  if (res !== null) {
    if (host.draining && !ex.http2) (res as http.ServerResponse).shouldKeepAlive = false;
    res.on('finish', () => ex.end());
    res.on('close', () => {
      if (ex.ended) return;
      // The client went away before the response was complete.
      ex.cancel?.();
      ex.end('client_closed');
    });
  }
  route(ex, host, head);
}

function route(ex: Exchange, host: RequestHost, head: Buffer | null): void {
  const req = ex.req;
  const table = ex.table;
  const facts = ex.facts;
  ex.authority = (ex.http2 ? (req.headers[':authority'] as string | undefined) : undefined) ?? req.headers.host ?? '';
  ex.hostname = hostOf(ex.authority);
  const { path, query } = splitTarget(req.url ?? '/');
  ex.path = path;
  ex.query = query;
  let listener;
  if (facts.secure) {
    // The certificate was chosen for the SNI; a request for a host another listener serves
    // must be sent on a connection of its own (RFC 9110 section 15.5.20).
    listener = table.listeners.lookup(facts.sni ?? '');
    if (listener === undefined || listener.protocol !== 'HTTPS') return ex.answer(421, 'no_https_listener_for_sni');
    ex.listener = listener;
    if (table.listeners.lookup(ex.hostname) !== listener) return ex.answer(421, 'misdirected');
  } else {
    if (!table.httpOnly) return ex.answer(421, 'port_no_longer_http');
    listener = table.listeners.lookup(ex.hostname);
    if (listener === undefined) return ex.answer(404, 'no_listener');
    ex.listener = listener;
  }
  if (listener.reject !== undefined) return ex.answer(500, 'listener_rejected');
  const vhost = listener.http?.virtualHosts.lookup(ex.hostname);
  if (vhost === undefined) return ex.answer(404, 'no_route');
  const match = findMatch(vhost, { method: ex.method, path, query: query === '' ? '' : query.slice(1), headers: req.rawHeaders });
  if (match === null) return ex.answer(404, 'no_match');
  ex.match = match;
  ex.route = match.route;
  const rule = match.rule;
  if (rule.requestTimeoutMs > 0) ex.timer = setTimeout(timedOut, rule.requestTimeoutMs, ex, 'request_timeout');
  const redirect = rule.filters.redirect;
  if (redirect !== null) {
    const location = redirectLocation(
      redirect,
      { scheme: facts.secure ? 'https' : 'http', host: ex.hostname, path, query, listenerPort: table.port !== 0 ? table.port : facts.localPort },
      match,
    );
    return ex.answer(redirect.statusCode, 'redirect', ['Location', location]);
  }
  const backend = pickBackend(rule);
  if (backend === null) return ex.answer(500, 'no_backend');
  ex.backend = backend;
  if (backend.reject !== undefined) return ex.answer(500, 'backend_rejected');
  sendToBackend(ex, host, backend, rule.filters, head, rule.backendRequestTimeoutMs);
}

function sendToBackend(ex: Exchange, host: RequestHost, backend: CompiledHttpBackend, ruleFilters: CompiledFilters, head: Buffer | null, backendRequestTimeoutMs: number): void {
  let hostHeader = ex.authority;
  let path = ex.path;
  const requestModifiers: HeaderModifier[] = [];
  const responseModifiers: HeaderModifier[] = [];
  for (const filters of [ruleFilters, backend.filters]) {
    requestModifiers.push(...filters.requestHeaders);
    responseModifiers.push(...filters.responseHeaders);
    const rewrite = filters.rewrite;
    if (rewrite !== null) {
      if (rewrite.hostname !== null) hostHeader = rewrite.hostname;
      if (rewrite.path !== null) path = modifiedPath(path, rewrite.path, ex.match!);
    }
  }
  const body = ex.socket === null && hasBody(ex);
  // Only WebSocket upgrades pass through. Anything else (curl's h2c on http://) is sent as a
  // plain request; its answer goes to the raw socket and the connection closes.
  const upgrade = ex.socket !== null && /^\s*websocket\s*$/i.test(String(ex.req.headers.upgrade ?? ''));
  const headers = requestHeadersForBackend(ex.req.rawHeaders, {
    host: hostHeader,
    originalHost: ex.authority,
    clientIp: ex.facts.clientIp,
    scheme: ex.facts.secure ? 'https' : 'http',
    upgrade,
    chunkedBody: body && ex.req.headers['content-length'] === undefined,
  });
  for (const modifier of requestModifiers) modifyHeaders(headers, modifier);
  host.forward(ex, {
    backend,
    method: ex.method,
    path: path + ex.query,
    headers,
    hasBody: body,
    responseModifiers,
    upgradeHead: head,
    attempts: 0,
    retriedReused: false,
    bodyStarted: false,
    connectTimeoutMs: ex.table.settings.connectTimeoutMs,
    backendRequestTimeoutMs,
  });
}
