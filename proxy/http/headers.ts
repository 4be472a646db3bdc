// Header lists between client and backend: what a proxy must not pass on (hop-by-hop headers,
// RFC 9110 section 7.6.1, and the HTTP/2 pseudo-headers), what it adds (X-Forwarded-*), and
// the shapes Node's HTTP/1.1 and HTTP/2 responses take.
import type { OutgoingHttpHeaders } from 'node:http';
import type { RawHeaders } from './filters.js';

/** Connection-specific headers never forwarded in either direction. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'upgrade', 'trailer', 'http2-settings']);

/** The header names a Connection header lists (they are hop-by-hop for this message). */
function connectionTokens(raw: RawHeaders): Set<string> | null {
  let tokens: Set<string> | null = null;
  for (let i = 0; i < raw.length; i += 2) {
    if ((raw[i] as string).toLowerCase() !== 'connection') continue;
    for (const token of (raw[i + 1] as string).split(',')) {
      const name = token.trim().toLowerCase();
      if (name !== '') (tokens ??= new Set()).add(name);
    }
  }
  return tokens;
}

export interface ForwardedFacts {
  /** The Host header the backend gets (the client's, or URLRewrite's hostname). */
  host: string;
  /** The host the client asked for (X-Forwarded-Host). */
  originalHost: string;
  clientIp: string;
  scheme: 'http' | 'https';
  /** A WebSocket (or other) upgrade: keep Upgrade and say Connection: upgrade. */
  upgrade: boolean;
  /** The client's body has no known length (chunked, or HTTP/2 without content-length). */
  chunkedBody: boolean;
}

/**
 * The request headers for the backend, in the client's order: hop-by-hop headers and those
 * the Connection header names are dropped (TE survives only as `trailers`), the Host is set,
 * and X-Forwarded-For is appended to while X-Forwarded-Proto and -Host are replaced.
 */
export function requestHeadersForBackend(raw: RawHeaders, facts: ForwardedFacts): RawHeaders {
  const named = connectionTokens(raw);
  const out: RawHeaders = ['Host', facts.host];
  let forwardedFor: string | null = null;
  let cookie: string | null = null;
  let upgrade: string | null = null;
  let teTrailers = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    const value = raw[i + 1] as string;
    if (name.charCodeAt(0) === 0x3a) continue; // HTTP/2 pseudo-header
    const lower = name.toLowerCase();
    switch (lower) {
      case 'host':
      case 'expect': // the front answered 100-continue itself
      case 'x-forwarded-proto':
      case 'x-forwarded-host':
        continue;
      case 'x-forwarded-for':
        forwardedFor = forwardedFor === null ? value : `${forwardedFor}, ${value}`;
        continue;
      case 'cookie':
        // HTTP/2 clients may split cookies over several fields; HTTP/1.1 wants one (RFC 9113 8.2.3).
        cookie = cookie === null ? value : `${cookie}; ${value}`;
        continue;
      case 'te':
        if (/(^|,)\s*trailers\s*(;|,|$)/i.test(value)) teTrailers = true;
        continue;
      case 'upgrade':
        if (facts.upgrade) upgrade = value;
        continue;
    }
    if (HOP_BY_HOP.has(lower) || (named !== null && named.has(lower))) continue;
    out.push(name, value);
  }
  if (cookie !== null) out.push('Cookie', cookie);
  if (teTrailers) out.push('TE', 'trailers');
  if (facts.upgrade && upgrade !== null) out.push('Connection', 'upgrade', 'Upgrade', upgrade);
  if (facts.chunkedBody) out.push('Transfer-Encoding', 'chunked');
  out.push('X-Forwarded-For', forwardedFor === null ? facts.clientIp : `${forwardedFor}, ${facts.clientIp}`);
  out.push('X-Forwarded-Proto', facts.scheme);
  out.push('X-Forwarded-Host', facts.originalHost);
  return out;
}

/** The backend's response headers without hop-by-hop ones (Node frames the body for the client itself). */
export function responseHeadersForClient(raw: RawHeaders): RawHeaders {
  const named = connectionTokens(raw);
  const out: RawHeaders = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || (named !== null && named.has(lower))) continue;
    out.push(name, raw[i + 1] as string);
  }
  return out;
}

/** HTTP/2 wants lowercase names in an object; repeated headers become arrays (set-cookie). */
export function headersObject(raw: RawHeaders): OutgoingHttpHeaders {
  const out: Record<string, string | string[]> = {};
  for (let i = 0; i < raw.length; i += 2) {
    const name = (raw[i] as string).toLowerCase();
    const value = raw[i + 1] as string;
    const existing = out[name];
    if (existing === undefined) out[name] = value;
    else if (Array.isArray(existing)) existing.push(value);
    else out[name] = [existing, value];
  }
  return out;
}

/** The host a request names, lowercased, without port or trailing dot ('' when absent). */
export function hostOf(authority: string | undefined): string {
  if (authority === undefined || authority === '') return '';
  let host = authority;
  if (host.charCodeAt(0) === 0x5b) {
    const close = host.indexOf(']');
    host = close === -1 ? host : host.slice(1, close); // [v6]:port
  } else {
    const colon = host.lastIndexOf(':');
    if (colon !== -1) host = host.slice(0, colon);
  }
  if (host.endsWith('.')) host = host.slice(0, -1);
  return host.toLowerCase();
}
