/**
 * HTTPRoute filters into the proxy config (src/proxy-config.ts HttpFilterConfig): the core and
 * extended filters the proxy implements (RequestHeaderModifier, ResponseHeaderModifier,
 * RequestRedirect, URLRewrite), checked so that the proxy never meets a header it cannot set or
 * a redirect it cannot write. Every other filter type (RequestMirror, CORS, ExtensionRef,
 * ExternalAuth, unknown) is an error: the spec says such a filter must not be skipped, so the
 * caller makes its rule answer 500 instead (httproutes.ts).
 */
import type { HttpFilterConfig, HttpHeaderModifierConfig, HttpPathModifierConfig } from '../proxy-config.js';
import { isValidHostname } from './hostnames.js';
import { HEADER_NAME } from './http-matches.js';
import { objects, strings } from './safe.js';
import type { HTTPHeaderFilter, HTTPPathModifier, HTTPRouteFilter } from './types.js';

export type FilterResult = { ok: true; filter: HttpFilterConfig } | { ok: false; error: string; reason: 'UnsupportedValue' | 'IncompatibleFilters' };

/** Where a filter list sits: a rule's `filters`, or a backendRef's (no redirects there). */
export type FilterPlace = 'rule' | 'backend';

const REDIRECT_STATUS_CODES = new Set([301, 302, 303, 307, 308]);
/** A header value the proxy can write: no CR, LF or NUL (they would split or end the header). */
const UNSAFE_HEADER_VALUE = /[\r\n\0]/;

const unsupported = (error: string): FilterResult => ({ ok: false, error, reason: 'UnsupportedValue' });

function headerModifier(modifier: HTTPHeaderFilter | undefined, field: string): { ok: true; config: HttpHeaderModifierConfig } | { ok: false; error: string } {
  if (typeof modifier !== 'object' || modifier === null) return { ok: false, error: `${field} is required for this filter type` };
  const entries = (list: unknown, f: string): { name: string; value: string }[] | string => {
    const out: { name: string; value: string }[] = [];
    for (const [i, h] of objects(list as { name: string; value: string }[] | undefined).entries()) {
      if (typeof h.name !== 'string' || !HEADER_NAME.test(h.name)) return `${f}[${i}].name "${String(h.name)}" is not a valid header name`;
      if (typeof h.value !== 'string' || UNSAFE_HEADER_VALUE.test(h.value)) return `${f}[${i}].value must be a string without CR, LF or NUL`;
      out.push({ name: h.name, value: h.value });
    }
    return out;
  };
  const set = entries(modifier.set, `${field}.set`);
  if (typeof set === 'string') return { ok: false, error: set };
  const add = entries(modifier.add, `${field}.add`);
  if (typeof add === 'string') return { ok: false, error: add };
  const remove = strings(modifier.remove);
  const badRemove = remove.find((name) => !HEADER_NAME.test(name));
  if (badRemove !== undefined) return { ok: false, error: `${field}.remove "${badRemove}" is not a valid header name` };
  return { ok: true, config: { add, remove, set } };
}

function pathModifier(path: HTTPPathModifier | undefined, field: string): { ok: true; config: HttpPathModifierConfig | undefined } | { ok: false; error: string } {
  if (path === undefined || path === null) return { ok: true, config: undefined };
  if (typeof path !== 'object') return { ok: false, error: `${field} must be a mapping` };
  const key = path.type === 'ReplaceFullPath' ? 'replaceFullPath' : path.type === 'ReplacePrefixMatch' ? 'replacePrefixMatch' : undefined;
  if (key === undefined) return { ok: false, error: `${field}.type ${String(path.type)} is not supported (ReplaceFullPath, ReplacePrefixMatch)` };
  const value = path[key];
  if (typeof value !== 'string') return { ok: false, error: `${field}.${key} is required for type ${path.type}` };
  // The proxy writes it as the request path: absolute, or empty for "the prefix removed".
  if (value !== '' && !value.startsWith('/')) return { ok: false, error: `${field}.${key} "${value}" must start with "/"` };
  return { ok: true, config: { type: path.type as HttpPathModifierConfig['type'], value } };
}

/** A redirect or rewrite hostname: a precise (non-wildcard) hostname, lowercase in the config. */
function hostnameError(hostname: unknown, field: string): string | undefined {
  if (hostname === undefined) return undefined;
  if (typeof hostname !== 'string' || hostname.startsWith('*') || !isValidHostname(hostname.toLowerCase())) return `${field} ${JSON.stringify(hostname)} is not a hostname`;
  return undefined;
}

/** One filter as the proxy runs it; keys in sorted order (canonical-json.ts). */
export function compileFilter(filter: HTTPRouteFilter, field: string, place: FilterPlace): FilterResult {
  switch (filter.type) {
    case 'RequestHeaderModifier':
    case 'ResponseHeaderModifier': {
      const key = filter.type === 'RequestHeaderModifier' ? 'requestHeaderModifier' : 'responseHeaderModifier';
      const modifier = headerModifier(filter[key], `${field}.${key}`);
      if (!modifier.ok) return unsupported(modifier.error);
      return { ok: true, filter: { add: modifier.config.add, remove: modifier.config.remove, set: modifier.config.set, type: filter.type } };
    }
    case 'RequestRedirect': {
      if (place === 'backend') return unsupported(`${field}: RequestRedirect is not supported in backendRefs[].filters (use the rule's filters)`);
      const redirect = filter.requestRedirect;
      if (typeof redirect !== 'object' || redirect === null) return unsupported(`${field}.requestRedirect is required for this filter type`);
      const statusCode = redirect.statusCode ?? 302;
      if (!REDIRECT_STATUS_CODES.has(statusCode)) return unsupported(`${field}.requestRedirect.statusCode ${String(statusCode)} is not supported (301, 302, 303, 307, 308)`);
      if (redirect.scheme !== undefined && redirect.scheme !== 'http' && redirect.scheme !== 'https') {
        return unsupported(`${field}.requestRedirect.scheme ${String(redirect.scheme)} is not supported (http, https)`);
      }
      if (redirect.port !== undefined && !(Number.isInteger(redirect.port) && redirect.port >= 1 && redirect.port <= 65535)) {
        return unsupported(`${field}.requestRedirect.port ${String(redirect.port)} is not a port`);
      }
      const badHostname = hostnameError(redirect.hostname, `${field}.requestRedirect.hostname`);
      if (badHostname) return unsupported(badHostname);
      const path = pathModifier(redirect.path, `${field}.requestRedirect.path`);
      if (!path.ok) return unsupported(path.error);
      return {
        ok: true,
        filter: {
          ...(redirect.hostname !== undefined ? { hostname: redirect.hostname.toLowerCase() } : {}),
          ...(path.config ? { path: path.config } : {}),
          ...(redirect.port !== undefined ? { port: redirect.port } : {}),
          ...(redirect.scheme !== undefined ? { scheme: redirect.scheme } : {}),
          statusCode,
          type: 'RequestRedirect',
        },
      };
    }
    case 'URLRewrite': {
      const rewrite = filter.urlRewrite;
      if (typeof rewrite !== 'object' || rewrite === null) return unsupported(`${field}.urlRewrite is required for this filter type`);
      const badHostname = hostnameError(rewrite.hostname, `${field}.urlRewrite.hostname`);
      if (badHostname) return unsupported(badHostname);
      const path = pathModifier(rewrite.path, `${field}.urlRewrite.path`);
      if (!path.ok) return unsupported(path.error);
      return {
        ok: true,
        filter: {
          ...(rewrite.hostname !== undefined ? { hostname: rewrite.hostname.toLowerCase() } : {}),
          ...(path.config ? { path: path.config } : {}),
          type: 'URLRewrite',
        },
      };
    }
    default:
      return unsupported(`${field}: filter type ${String(filter.type)} is not supported by tlsgate`);
  }
}

/**
 * A filter list in spec order, or the first error. Besides each filter's own checks: a type
 * may appear once (spec: "Specifying the same filter multiple times is not supported"), and
 * RequestRedirect never with URLRewrite (IncompatibleFilters).
 */
export function compileFilters(list: unknown, field: string, place: FilterPlace): { ok: true; filters: HttpFilterConfig[] } | Extract<FilterResult, { ok: false }> {
  const filters: HttpFilterConfig[] = [];
  for (const [i, filter] of objects(list as HTTPRouteFilter[] | undefined).entries()) {
    const compiled = compileFilter(filter, `${field}[${i}]`, place);
    if (!compiled.ok) return compiled;
    if (filters.some((f) => f.type === compiled.filter.type)) return unsupported(`${field}[${i}]: filter type ${compiled.filter.type} appears more than once`) as Extract<FilterResult, { ok: false }>;
    filters.push(compiled.filter);
  }
  if (filters.some((f) => f.type === 'RequestRedirect') && filters.some((f) => f.type === 'URLRewrite')) {
    return { ok: false, reason: 'IncompatibleFilters', error: `${field}: RequestRedirect and URLRewrite cannot be combined` };
  }
  return { ok: true, filters };
}
