// Compiles an HTTP or HTTPS listener's `http` part (src/proxy-config.ts, "HTTP (HTTPRoute)")
// once per config: virtual hosts into a HostnameTable, regular expressions built, header names
// lowercased, path modifiers checked, backends in the shape the weighted pick works on. A
// request then costs a hostname lookup and a walk over its virtual host's matches.
import type { HttpBackendConfig, HttpFilterConfig, HttpListenerConfig, HttpMatchConfig, HttpPathModifierConfig, HttpRuleConfig } from '../../src/proxy-config.js';
import { HostnameTable } from '../hostname-table.js';
import type { CompiledBackend } from '../routing.js';
import type { HttpRouteStats } from './stats.js';

export interface CompiledHttpListener {
  virtualHosts: HostnameTable<CompiledVirtualHost>;
  routes: CompiledHttpRoute[];
}

export interface CompiledHttpRoute {
  /** `namespace/name` of the HTTPRoute. */
  name: string;
  nameJson: string;
  /** Its request counters; looked up on first use, per listener (label cardinality is the config's). */
  stats: HttpRouteStats | null;
}

export interface CompiledVirtualHost {
  hostname: string;
  matches: CompiledMatch[];
}

export const enum PathMatch {
  Exact,
  Prefix,
  Regex,
}

export interface CompiledValueMatch {
  name: string;
  /** Exact value, or null for a regular expression. */
  exact: string | null;
  regex: RegExp | null;
}

export interface CompiledMatch {
  route: CompiledHttpRoute;
  rule: CompiledRule;
  pathType: PathMatch;
  /** Exact or prefix value (prefix without trailing slash, except `/`). */
  path: string;
  pathRegex: RegExp | null;
  headers: CompiledValueMatch[];
  queryParams: CompiledValueMatch[];
  method: string | null;
}

export interface HeaderModifier {
  /** Lowercase name → the name as written and the value. */
  set: { lower: string; name: string; value: string }[];
  add: { lower: string; name: string; value: string }[];
  /** Lowercase names. */
  remove: Set<string>;
}

export interface Redirect {
  scheme: string | null;
  hostname: string | null;
  path: HttpPathModifierConfig | null;
  port: number | null;
  statusCode: number;
}

export interface Rewrite {
  hostname: string | null;
  path: HttpPathModifierConfig | null;
}

/** Filters of a rule or a backend, by kind (several of one kind apply in order). */
export interface CompiledFilters {
  requestHeaders: HeaderModifier[];
  responseHeaders: HeaderModifier[];
  redirect: Redirect | null;
  rewrite: Rewrite | null;
}

export interface CompiledRule {
  /** The rule's name, or its index as a string (for logs). */
  name: string;
  filters: CompiledFilters;
  backends: CompiledHttpBackend[];
  requestTimeoutMs: number;
  backendRequestTimeoutMs: number;
}

export interface CompiledHttpBackend extends CompiledBackend {
  filters: CompiledFilters;
}

export const NO_FILTERS: CompiledFilters = Object.freeze({ requestHeaders: [], responseHeaders: [], redirect: null, rewrite: null });

/** Regular expressions match the whole value (RE2 semantics as in Envoy: full match). */
function fullMatch(source: string, where: string): RegExp {
  try {
    return new RegExp(`^(?:${source})$`);
  } catch (err) {
    throw new Error(`${where}: invalid regular expression ${JSON.stringify(source)}: ${(err as Error).message}`);
  }
}

function compileModifier(filter: { set: { name: string; value: string }[]; add: { name: string; value: string }[]; remove: string[] }): HeaderModifier {
  return {
    set: filter.set.map((h) => ({ lower: h.name.toLowerCase(), name: h.name, value: h.value })),
    add: filter.add.map((h) => ({ lower: h.name.toLowerCase(), name: h.name, value: h.value })),
    remove: new Set(filter.remove.map((n) => n.toLowerCase())),
  };
}

export function compileFilters(filters: readonly HttpFilterConfig[] | undefined): CompiledFilters {
  if (filters === undefined || filters.length === 0) return NO_FILTERS;
  const out: CompiledFilters = { requestHeaders: [], responseHeaders: [], redirect: null, rewrite: null };
  for (const filter of filters) {
    switch (filter.type) {
      case 'RequestHeaderModifier':
        out.requestHeaders.push(compileModifier(filter));
        break;
      case 'ResponseHeaderModifier':
        out.responseHeaders.push(compileModifier(filter));
        break;
      case 'RequestRedirect':
        out.redirect = {
          scheme: filter.scheme ?? null,
          hostname: filter.hostname ?? null,
          path: filter.path ?? null,
          port: filter.port ?? null,
          statusCode: filter.statusCode,
        };
        break;
      case 'URLRewrite':
        out.rewrite = { hostname: filter.hostname ?? null, path: filter.path ?? null };
        break;
    }
  }
  return out;
}

function compileBackend(backend: HttpBackendConfig): CompiledHttpBackend {
  const reject = backend.reject || (backend.endpoints.length === 0 ? 'no ready endpoints' : undefined);
  return {
    ref: backend.ref,
    refJson: JSON.stringify(backend.ref),
    weight: backend.weight,
    reject,
    endpoints: backend.endpoints,
    nextEndpoint: 0,
    current: 0,
    filters: compileFilters(backend.filters),
  };
}

function compileRule(rule: HttpRuleConfig, index: number): CompiledRule {
  return {
    name: rule.name ?? String(index),
    filters: compileFilters(rule.filters),
    backends: rule.backends.map(compileBackend),
    requestTimeoutMs: rule.timeouts?.requestMs ?? 0,
    backendRequestTimeoutMs: rule.timeouts?.backendRequestMs ?? 0,
  };
}

function compileMatch(match: HttpMatchConfig, route: CompiledHttpRoute, rule: CompiledRule, where: string): CompiledMatch {
  const type = match.path.type === 'Exact' ? PathMatch.Exact : match.path.type === 'PathPrefix' ? PathMatch.Prefix : PathMatch.Regex;
  let path = match.path.value;
  if (type === PathMatch.Prefix && path.length > 1 && path.endsWith('/')) path = path.replace(/\/+$/, '') || '/';
  const values = (list: HttpMatchConfig['headers'], field: string, lower: boolean): CompiledValueMatch[] =>
    list.map((m, i) => ({
      name: lower ? m.name.toLowerCase() : m.name,
      exact: m.type === 'Exact' ? m.value : null,
      regex: m.type === 'RegularExpression' ? fullMatch(m.value, `${where}.${field}[${i}].value`) : null,
    }));
  return {
    route,
    rule,
    pathType: type,
    path,
    pathRegex: type === PathMatch.Regex ? fullMatch(match.path.value, `${where}.path.value`) : null,
    headers: values(match.headers, 'headers', true),
    queryParams: values(match.queryParams, 'queryParams', false),
    method: match.method ?? null,
  };
}

/** Throws an Error naming `where` and the field (a bad regular expression is the only case validation leaves). */
export function compileHttpListener(http: HttpListenerConfig, where: string): CompiledHttpListener {
  const routes = http.routes.map((route): CompiledHttpRoute => {
    const name = `${route.namespace}/${route.name}`;
    return { name, nameJson: JSON.stringify(name), stats: null };
  });
  const rules = http.routes.map((route) => route.rules.map(compileRule));
  const virtualHosts = new HostnameTable<CompiledVirtualHost>();
  http.virtualHosts.forEach((vhost, v) => {
    const matches = vhost.matches.map((entry, m) =>
      compileMatch(entry.match, routes[entry.route] as CompiledHttpRoute, rules[entry.route]![entry.rule] as CompiledRule, `${where}.http.virtualHosts[${v}].matches[${m}].match`),
    );
    virtualHosts.add(vhost.hostname, { hostname: vhost.hostname, matches });
  });
  return { virtualHosts, routes };
}
