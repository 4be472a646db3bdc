// The HTTPRoute filters as pure functions over a request's parts: header modifiers on raw
// header lists, the RequestRedirect Location, and URLRewrite's path. Headers are kept as a
// flat [name, value, name, value, ...] list (Node's rawHeaders format), so repeated headers
// and the backend's spelling survive; names are compared case-insensitively.
import type { HttpPathModifierConfig } from '../../src/proxy-config.js';
import { PathMatch, type CompiledMatch, type HeaderModifier, type Redirect } from './compile.js';

export type RawHeaders = string[];

function removeAll(headers: RawHeaders, lower: string): void {
  let out = 0;
  for (let i = 0; i < headers.length; i += 2) {
    if ((headers[i] as string).toLowerCase() === lower) continue;
    headers[out++] = headers[i] as string;
    headers[out++] = headers[i + 1] as string;
  }
  headers.length = out;
}

/** Applies one modifier in the spec's order of effect: set replaces, add appends, remove drops. */
export function modifyHeaders(headers: RawHeaders, modifier: HeaderModifier): void {
  for (const h of modifier.set) {
    removeAll(headers, h.lower);
    headers.push(h.name, h.value);
  }
  for (const h of modifier.add) headers.push(h.name, h.value);
  for (const lower of modifier.remove) removeAll(headers, lower);
}

/** The first value of a header (lowercase name), or undefined. */
export function firstHeader(headers: RawHeaders, lower: string): string | undefined {
  for (let i = 0; i < headers.length; i += 2) if ((headers[i] as string).toLowerCase() === lower) return headers[i + 1];
  return undefined;
}

/**
 * A path after a prefix replacement. `prefix` is the matched PathPrefix (no trailing slash
 * except `/`); the rest of the path keeps its own slash, so `/foo/bar` with prefix `/foo` and
 * replacement `/xyz` or `/xyz/` gives `/xyz/bar`, and an empty result is `/`.
 */
export function replacePrefix(path: string, prefix: string, replacement: string): string {
  const rest = prefix === '/' ? path : path.slice(prefix.length);
  const base = replacement.endsWith('/') ? replacement.replace(/\/+$/, '') : replacement;
  if (rest === '' || rest === '/') return rest === '/' ? `${base}/` : base || '/';
  return base + (rest.startsWith('/') ? rest : `/${rest}`);
}

/**
 * The path a path modifier gives. ReplacePrefixMatch replaces what the match's PathPrefix (or
 * Exact value) matched; after a RegularExpression match there is no prefix, so the whole path
 * is replaced (translate refuses that combination; this is what the proxy does if it gets it).
 */
export function modifiedPath(path: string, modifier: HttpPathModifierConfig, match: CompiledMatch): string {
  if (modifier.type === 'ReplaceFullPath') return modifier.value;
  if (match.pathType === PathMatch.Regex) return modifier.value;
  return replacePrefix(path, match.path, modifier.value);
}

const WELL_KNOWN_PORTS: Record<string, number> = { http: 80, https: 443 };

export interface RedirectRequest {
  scheme: 'http' | 'https';
  /** Request host without port. */
  host: string;
  /** Path without the query. */
  path: string;
  /** `?…` or ''. */
  query: string;
  /** The Gateway listener's port. */
  listenerPort: number;
}

/**
 * The absolute Location of a RequestRedirect. Port (Gateway API): the filter's port if set;
 * else, when the filter changes the scheme, the new scheme's well-known port; else the
 * listener's port. A port that is the resulting scheme's well-known port is left out.
 */
export function redirectLocation(redirect: Redirect, request: RedirectRequest, match: CompiledMatch): string {
  const scheme = redirect.scheme ?? request.scheme;
  const host = redirect.hostname ?? request.host;
  let port: number | null;
  if (redirect.port !== null) port = redirect.port;
  else if (redirect.scheme !== null && redirect.scheme !== request.scheme) port = null;
  else port = request.listenerPort;
  if (port !== null && WELL_KNOWN_PORTS[scheme] === port) port = null;
  const path = redirect.path !== null ? modifiedPath(request.path, redirect.path, match) : request.path;
  const authority = host.includes(':') ? `[${host}]` : host; // an IPv6 literal
  return `${scheme}://${authority}${port !== null ? `:${port}` : ''}${path}${request.query}`;
}
