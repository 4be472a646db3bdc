// The first match of a virtual host that a request satisfies. Matches are already in the
// spec's precedence order (translate sorted them), so the walk stops at the first hit.
import { PathMatch, type CompiledMatch, type CompiledValueMatch, type CompiledVirtualHost } from './compile.js';
import { firstHeader, type RawHeaders } from './filters.js';

export interface MatchableRequest {
  method: string;
  /** The path without the query string, as sent. */
  path: string;
  /** The query string without `?` ('' when none). */
  query: string;
  headers: RawHeaders;
}

function pathMatches(match: CompiledMatch, path: string): boolean {
  switch (match.pathType) {
    case PathMatch.Exact:
      return path === match.path;
    case PathMatch.Prefix: {
      const prefix = match.path;
      if (prefix === '/') return true;
      // Whole segments: /foo matches /foo, /foo/ and /foo/bar, never /foobar.
      return path.startsWith(prefix) && (path.length === prefix.length || path.charCodeAt(prefix.length) === 0x2f);
    }
    case PathMatch.Regex:
      return (match.pathRegex as RegExp).test(path);
  }
}

function valueMatches(m: CompiledValueMatch, value: string | undefined): boolean {
  if (value === undefined) return false;
  return m.exact !== null ? value === m.exact : (m.regex as RegExp).test(value);
}

function decode(component: string): string {
  const plus = component.replace(/\+/g, ' ');
  try {
    return decodeURIComponent(plus);
  } catch {
    return plus; // a malformed escape is compared as sent
  }
}

/** The first value of each query parameter (names compared exactly, after percent-decoding). */
export function parseQuery(query: string): Map<string, string> {
  const params = new Map<string, string>();
  if (query === '') return params;
  for (const pair of query.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const name = decode(eq === -1 ? pair : pair.slice(0, eq));
    if (!params.has(name)) params.set(name, eq === -1 ? '' : decode(pair.slice(eq + 1)));
  }
  return params;
}

export function findMatch(vhost: CompiledVirtualHost, request: MatchableRequest): CompiledMatch | null {
  let query: Map<string, string> | null = null;
  for (const match of vhost.matches) {
    if (!pathMatches(match, request.path)) continue;
    if (match.method !== null && match.method !== request.method) continue;
    let ok = true;
    for (const h of match.headers) {
      if (!valueMatches(h, firstHeader(request.headers, h.name))) {
        ok = false;
        break;
      }
    }
    if (!ok) continue;
    if (match.queryParams.length > 0) {
      query ??= parseQuery(request.query);
      for (const q of match.queryParams) {
        if (!valueMatches(q, query.get(q.name))) {
          ok = false;
          break;
        }
      }
      if (!ok) continue;
    }
    return match;
  }
  return null;
}
