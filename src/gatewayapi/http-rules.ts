/**
 * One HTTPRoute's rules compiled for the proxy (src/proxy-config.ts HttpRouteConfig): matches
 * with upstream defaults, filters, weighted backends with their own filters, timeouts. Compiled
 * once per route and shared by every listener it attaches to.
 *
 * A rule the proxy cannot honour as written (a filter type tlsgate does not implement, a match
 * or value it cannot evaluate, experimental fields) is kept with no backends and no filters,
 * so that the proxy answers its requests with 500: the spec forbids skipping an unsupported
 * filter, and dropping the rule would hand its requests to a less specific rule instead. The
 * route step reports such rules (PartiallyInvalid, or Accepted=False when no rule is left).
 */
import type { HttpBackendConfig, HttpFilterConfig, HttpRouteConfig, HttpRuleConfig } from '../proxy-config.js';
import { resolveBackendRef } from './backends.js';
import { parseGatewayDuration } from './durations.js';
import { compileFilters } from './http-filters.js';
import { compileMatch, MATCH_EVERYTHING } from './http-matches.js';
import type { AttachedHttpRoute, Problem } from './model.js';
import { objects } from './safe.js';
import { namespaceOf, type SnapshotIndex } from './snapshot-index.js';
import type { HTTPRoute, HTTPRouteRule } from './types.js';

export interface CompiledHttpRoute {
  config: HttpRouteConfig;
  matches: AttachedHttpRoute['matches'];
  /** Rules that answer 500 because tlsgate cannot serve them as written, in rule order. */
  invalidRules: { index: number; problem: Problem }[];
  /** ResolvedRefs=False problems of every rule's backendRefs, in spec order. */
  backendProblems: Problem[];
}

const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** `timeouts` in milliseconds (0 means none, so it is left out), or the field that is not a duration. */
function compileTimeouts(rule: HTTPRouteRule, field: string): { ok: true; timeouts: HttpRuleConfig['timeouts'] } | { ok: false; error: string } {
  const spec = rule.timeouts;
  if (spec === undefined || spec === null) return { ok: true, timeouts: undefined };
  if (typeof spec !== 'object') return { ok: false, error: `${field}.timeouts must be a mapping` };
  const out: NonNullable<HttpRuleConfig['timeouts']> = {};
  for (const [specKey, configKey] of [
    ['backendRequest', 'backendRequestMs'],
    ['request', 'requestMs'],
  ] as const) {
    const text = spec[specKey];
    if (text === undefined) continue;
    const ms = parseGatewayDuration(text);
    if (ms === undefined) return { ok: false, error: `${field}.timeouts.${specKey} "${String(text)}" is not a Gateway API duration (e.g. 10s, 500ms, 1h2m)` };
    // Node timers (and the proxy) take at most 2^31-1 ms, about 24.8 days.
    if (ms > MAX_TIMEOUT_MS) return { ok: false, error: `${field}.timeouts.${specKey} "${text}" is longer than the ${MAX_TIMEOUT_MS} ms the proxy supports` };
    if (ms > 0) out[configKey] = ms;
  }
  return { ok: true, timeouts: Object.keys(out).length > 0 ? out : undefined };
}

/** ReplacePrefixMatch rewrites the matched prefix: only defined when every match is a PathPrefix. */
function prefixRewriteError(filters: readonly HttpFilterConfig[], field: string, pathTypes: readonly string[]): string | undefined {
  const usesPrefix = filters.some((f) => (f.type === 'RequestRedirect' || f.type === 'URLRewrite') && f.path?.type === 'ReplacePrefixMatch');
  if (!usesPrefix || pathTypes.every((t) => t === 'PathPrefix')) return undefined;
  return `${field}: ReplacePrefixMatch needs every match of the rule to be a PathPrefix match`;
}

function backendWithFilters(backend: HttpBackendConfig, filters: HttpFilterConfig[]): HttpBackendConfig {
  if (filters.length === 0) return backend;
  // Rebuilt so that `filters` sits in sorted key order (canonical-json.ts).
  return {
    endpoints: backend.endpoints,
    filters,
    ref: backend.ref,
    ...(backend.reject !== undefined ? { reject: backend.reject } : {}),
    weight: backend.weight,
  };
}

export function compileHttpRoute(route: HTTPRoute, index: SnapshotIndex): CompiledHttpRoute {
  const routeNamespace = namespaceOf(route);
  const specRules = objects(route.spec?.rules);
  // No rules: the CRD default, one rule matching everything with no backends (500).
  const rules: HTTPRouteRule[] = specRules.length > 0 ? specRules : [{}];
  const compiled: CompiledHttpRoute = {
    config: { name: route.metadata.name, namespace: routeNamespace, rules: [] },
    matches: [],
    invalidRules: [],
    backendProblems: [],
  };
  for (const [i, rule] of rules.entries()) {
    const field = `spec.rules[${i}]`;
    const problems: Problem[] = [];
    const unsupported = (message: string, reason = 'UnsupportedValue'): void => void problems.push({ reason, message });

    const specMatches = objects(rule.matches);
    const matches: { match: typeof MATCH_EVERYTHING; index: number }[] = [];
    const pathTypes: string[] = [];
    if (specMatches.length === 0) matches.push({ match: MATCH_EVERYTHING, index: 0 });
    for (const [j, m] of specMatches.entries()) {
      const result = compileMatch(m, `${field}.matches[${j}]`);
      if (result.ok) matches.push({ match: result.match, index: j });
      else unsupported(result.error);
    }
    for (const m of matches) pathTypes.push(m.match.path.type);

    const filters = compileFilters(rule.filters, `${field}.filters`, 'rule');
    if (!filters.ok) unsupported(filters.error, filters.reason);
    const ruleFilters = filters.ok ? filters.filters : [];
    const prefixError = prefixRewriteError(ruleFilters, `${field}.filters`, pathTypes);
    if (prefixError) unsupported(prefixError);

    const backendRefs = objects(rule.backendRefs);
    if (backendRefs.length > 0 && ruleFilters.some((f) => f.type === 'RequestRedirect')) {
      unsupported(`${field}: a RequestRedirect answers the request itself and cannot be combined with backendRefs`, 'IncompatibleFilters');
    }
    const backends: HttpBackendConfig[] = [];
    for (const [j, ref] of backendRefs.entries()) {
      const refField = `${field}.backendRefs[${j}]`;
      const resolved = resolveBackendRef(ref, { routeKind: 'HTTPRoute', routeNamespace, field: refField, checkAppProtocol: true }, index);
      if (resolved.problem) compiled.backendProblems.push(resolved.problem);
      if (resolved.invalidValue) unsupported(resolved.invalidValue);
      const own = compileFilters(ref.filters, `${refField}.filters`, 'backend');
      if (!own.ok) {
        unsupported(own.error, own.reason);
        continue;
      }
      const ownPrefixError = prefixRewriteError(own.filters, `${refField}.filters`, pathTypes);
      if (ownPrefixError) unsupported(ownPrefixError);
      backends.push(backendWithFilters(resolved.backend, own.filters));
    }

    const timeouts = compileTimeouts(rule, field);
    if (!timeouts.ok) unsupported(timeouts.error);
    for (const experimental of ['retry', 'sessionPersistence'] as const) {
      if (rule[experimental] !== undefined) unsupported(`${field}.${experimental} is not supported by tlsgate`);
    }

    const name = typeof rule.name === 'string' && rule.name !== '' ? { name: rule.name } : {};
    if (problems.length > 0) {
      compiled.invalidRules.push({ index: i, problem: { reason: problems[0]!.reason, message: problems.map((p) => p.message).join('; ') } });
      compiled.config.rules.push({ backends: [], filters: [], ...name });
    } else {
      compiled.config.rules.push({ backends, filters: ruleFilters, ...name, ...(timeouts.ok && timeouts.timeouts ? { timeouts: timeouts.timeouts } : {}) });
    }
    compiled.matches.push(matches);
  }
  return compiled;
}
