/**
 * HTTPRoute matches: the upstream defaults applied (a rule without matches matches every
 * request; a match without path is PathPrefix `/`; header and query matches are Exact), values
 * checked so that the proxy never meets one it cannot evaluate, and the spec's precedence
 * between matches of all routes on one hostname (HTTPRouteRule.matches docs).
 */
import type { HttpMatchConfig, HttpValueMatch } from '../proxy-config.js';
import { objects } from './safe.js';
import type { HTTPRouteMatch } from './types.js';

export type MatchResult = { ok: true; match: HttpMatchConfig } | { ok: false; error: string };

/** The methods the HTTPRoute CRD allows (HTTPMethod enum). */
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH']);

/** RFC 7230 token: what a header name may be (the CRD's HTTPHeaderName pattern). */
export const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$/;

/** The rule's matches when it has none: every request (upstream default). */
export const MATCH_EVERYTHING: HttpMatchConfig = { headers: [], path: { type: 'PathPrefix', value: '/' }, queryParams: [] };

/**
 * The error of a regular expression the proxy could not use: it must compile as written and as
 * the proxy runs it, anchored to the whole value (`^(?:...)$`; `a)(b` compiles only anchored).
 */
export function regexError(value: string): string | undefined {
  try {
    new RegExp(value);
    new RegExp(`^(?:${value})$`);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/** `/a/b/` and `/a/b//` become `/a/b`: prefixes match whole path segments, a trailing slash adds nothing. */
export function normalizePathPrefix(value: string): string {
  const trimmed = value.replace(/\/+$/, '');
  return trimmed === '' ? '/' : trimmed;
}

function valueMatches(list: unknown, field: string, kind: 'header' | 'query'): { ok: true; values: HttpValueMatch[] } | { ok: false; error: string } {
  const values: HttpValueMatch[] = [];
  for (const [i, m] of objects(list as HttpValueMatch[] | undefined).entries()) {
    const f = `${field}[${i}]`;
    if (typeof m.name !== 'string' || m.name === '') return { ok: false, error: `${f}.name is required` };
    if (kind === 'header' && !HEADER_NAME.test(m.name)) return { ok: false, error: `${f}.name "${m.name}" is not a valid header name` };
    if (typeof m.value !== 'string') return { ok: false, error: `${f}.value is required` };
    const type = m.type ?? 'Exact';
    if (type !== 'Exact' && type !== 'RegularExpression') return { ok: false, error: `${f}.type ${String(type)} is not supported (Exact, RegularExpression)` };
    if (type === 'RegularExpression') {
      const error = regexError(m.value);
      if (error) return { ok: false, error: `${f}.value is not a valid regular expression: ${error}` };
    }
    // Header names compare case-insensitively: the proxy reads them lowercased.
    values.push({ name: kind === 'header' ? m.name.toLowerCase() : m.name, type, value: m.value });
  }
  return { ok: true, values };
}

/** One spec match with upstream defaults applied; keys in sorted order (canonical-json.ts). */
export function compileMatch(match: HTTPRouteMatch, field: string): MatchResult {
  const path = typeof match.path === 'object' && match.path !== null ? match.path : {};
  const type = path.type ?? 'PathPrefix';
  const raw = path.value ?? '/';
  if (typeof raw !== 'string' || !raw.startsWith('/')) return { ok: false, error: `${field}.path.value must start with "/"` };
  let value: string;
  if (type === 'PathPrefix') value = normalizePathPrefix(raw);
  else if (type === 'Exact') value = raw;
  else if (type === 'RegularExpression') {
    const error = regexError(raw);
    if (error) return { ok: false, error: `${field}.path.value is not a valid regular expression: ${error}` };
    value = raw;
  } else return { ok: false, error: `${field}.path.type ${String(type)} is not supported (Exact, PathPrefix, RegularExpression)` };
  const headers = valueMatches(match.headers, `${field}.headers`, 'header');
  if (!headers.ok) return headers;
  const queryParams = valueMatches(match.queryParams, `${field}.queryParams`, 'query');
  if (!queryParams.ok) return queryParams;
  const compiled: HttpMatchConfig = { headers: headers.values, path: { type, value }, queryParams: queryParams.values };
  if (match.method !== undefined) {
    if (typeof match.method !== 'string' || !METHODS.has(match.method)) return { ok: false, error: `${field}.method ${String(match.method)} is not an HTTP method the API allows` };
    // Rebuilt so that `method` sits in sorted key order.
    return { ok: true, match: { headers: compiled.headers, method: match.method, path: compiled.path, queryParams: compiled.queryParams } };
  }
  return { ok: true, match: compiled };
}

const PATH_RANK = { Exact: 0, PathPrefix: 1, RegularExpression: 2 } as const;

/**
 * Precedence of two matches of one hostname, by what they match (spec order): Exact path, then
 * PathPrefix by length (longest first), then RegularExpression paths (their precedence is ours
 * to choose: after every prefix, longer expressions first); then a method match; then more
 * header matches; then more query-parameter matches. 0 when they tie: then route age, name,
 * rule and match order decide (httproutes.ts). Negative when `a` goes first.
 */
export function compareMatchSpecificity(a: HttpMatchConfig, b: HttpMatchConfig): number {
  const byKind = PATH_RANK[a.path.type] - PATH_RANK[b.path.type];
  if (byKind !== 0) return byKind;
  const byLength = b.path.value.length - a.path.value.length;
  if (byLength !== 0) return byLength;
  const byMethod = (b.method !== undefined ? 1 : 0) - (a.method !== undefined ? 1 : 0);
  if (byMethod !== 0) return byMethod;
  const byHeaders = b.headers.length - a.headers.length;
  if (byHeaders !== 0) return byHeaders;
  return b.queryParams.length - a.queryParams.length;
}
