// Schema and CEL rules of the v1.6.1 HTTPRoute CRD (v1). The CRD defaults that CEL depends
// on are applied first, as the API server does: an absent `rules` is one rule matching
// PathPrefix "/", an absent `matches` is that one match, an absent path is PathPrefix "/",
// a path without type is a PathPrefix and one without value is "/", a backendRef without
// group/kind is a core Service. Filters are checked in http-filter-rules.ts, parentRefs and
// backend references in route-rules.ts (shared with TLSRoute).
import type {
  HttpRouteSpec,
  HttpRouteSpecRules,
  HttpRouteSpecRulesFilters,
  HttpRouteSpecRulesMatches,
} from '../../../imports/gwapi-gateway.networking.k8s.io.js';
import { gatewayDurationMs } from './durations.js';
import { reportDuplicateKeys, validateFilters } from './http-filter-rules.js';
import { IssueCollector, type ValidationIssue } from './issues.js';
import { DNS_SUBDOMAIN, GATEWAY_DURATION, HOSTNAME, HTTP_HEADER_NAME, HTTP_PATH_CHARACTERS } from './patterns.js';
import { validateParentRefs, validateWeightedBackendRef } from './route-rules.js';

export const MSG_TOTAL_MATCHES = 'While 16 rules and 64 matches per rule are allowed, the total number of matches across all rules in a route must be less than 128';
export const MSG_REDIRECT_WITH_BACKENDS = 'RequestRedirect filter must not be used together with backendRefs';
export const MSG_REDIRECT_PREFIX_MATCH = 'When using RequestRedirect filter with path.replacePrefixMatch, exactly one PathPrefix match must be specified';
export const MSG_REWRITE_PREFIX_MATCH = 'When using URLRewrite filter with path.replacePrefixMatch, exactly one PathPrefix match must be specified';
export const MSG_BACKEND_REDIRECT_PREFIX_MATCH = 'Within backendRefs, when using RequestRedirect filter with path.replacePrefixMatch, exactly one PathPrefix match must be specified';
// "When" is capitalised upstream; kept verbatim so that the message can be searched for.
export const MSG_BACKEND_REWRITE_PREFIX_MATCH = 'Within backendRefs, When using URLRewrite filter with path.replacePrefixMatch, exactly one PathPrefix match must be specified';
export const MSG_TIMEOUTS = 'backendRequest timeout cannot be longer than request timeout';
export const MSG_PATH_TYPE = "type must be one of ['Exact', 'PathPrefix', 'RegularExpression']";
export const MSG_PATH_ABSOLUTE = "value must be an absolute path and start with '/' when type one of ['Exact', 'PathPrefix']";
export const MSG_PATH_CHARACTERS =
  "must only contain valid characters (matching ^(?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|[%][0-9a-fA-F]{2})+$) for types ['Exact', 'PathPrefix']";
/** The CEL rules on Exact and PathPrefix values that forbid a substring or a suffix, in the CRD's order. */
const PATH_FORBIDDEN: readonly (readonly ['contain' | 'end with', string])[] = [
  ['contain', '//'],
  ['contain', '/./'],
  ['contain', '/../'],
  ['contain', '%2f'],
  ['contain', '%2F'],
  ['contain', '#'],
  ['end with', '/..'],
  ['end with', '/.'],
];
export const msgPathForbidden = (how: 'contain' | 'end with', text: string): string => `must not ${how} '${text}' when type one of ['Exact', 'PathPrefix']`;

const PATH_TYPES = ['Exact', 'PathPrefix', 'RegularExpression'] as const;
const VALUE_MATCH_TYPES = ['Exact', 'RegularExpression'] as const;
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH'] as const;
const DEFAULT_PATH = { type: 'PathPrefix', value: '/' } as const;

export function validateHttpRouteSpec(spec: HttpRouteSpec): ValidationIssue[] {
  const c = new IssueCollector();
  validateParentRefs(c, spec.parentRefs);
  validateHostnames(c, spec.hostnames);
  validateRules(c, spec.rules);
  return c.issues;
}

function validateHostnames(c: IssueCollector, hostnames: readonly string[] | undefined): void {
  if (hostnames === undefined) return;
  c.count('spec.hostnames', hostnames, 0, 16, 'hostnames');
  hostnames.forEach((hostname, i) => {
    c.string(`spec.hostnames[${i}]`, hostname, { minLength: 1, maxLength: 253, pattern: HOSTNAME, patternName: 'a DNS name with an optional "*." first label, in lower case' });
  });
}

function validateRules(c: IssueCollector, rules: readonly HttpRouteSpecRules[] | undefined): void {
  if (rules === undefined) return; // the CRD default: one rule matching every request
  c.count('spec.rules', rules, 1, 16, 'rules');
  const total = rules.slice(0, 16).reduce((sum, rule) => sum + defaultedMatches(rule).length, 0);
  if (total > 128) {
    c.add('spec.rules', `${MSG_TOTAL_MATCHES} (${total} matches)`, 'merge matches, or split the rules over several HTTPRoutes');
  }
  rules.forEach((rule, r) => validateRule(c, rule, `spec.rules[${r}]`));
}

function validateRule(c: IssueCollector, rule: HttpRouteSpecRules, f: string): void {
  c.string(`${f}.name`, rule.name, { minLength: 1, maxLength: 253, pattern: DNS_SUBDOMAIN, patternName: 'an RFC 1123 subdomain' });
  if (rule.matches !== undefined) {
    c.count(`${f}.matches`, rule.matches, 0, 64, 'matches');
    rule.matches.forEach((match, m) => validateMatch(c, match, `${f}.matches[${m}]`));
  }
  validateFilters(c, rule.filters, `${f}.filters`);
  if (rule.backendRefs !== undefined) {
    c.count(`${f}.backendRefs`, rule.backendRefs, 0, 16, 'backendRefs');
    rule.backendRefs.forEach((ref, b) => {
      const g = `${f}.backendRefs[${b}]`;
      validateWeightedBackendRef(c, ref, g);
      validateFilters(c, ref.filters as HttpRouteSpecRulesFilters[] | undefined, `${g}.filters`);
    });
  }
  if (rule.timeouts !== undefined) validateTimeouts(c, rule.timeouts, `${f}.timeouts`);
  for (const fired of prefixMatchRulesFired(rule)) c.add(f, `${fired} (${describeMatches(rule)})`, 'give the rule exactly one match, with a PathPrefix path: ReplacePrefixMatch replaces that prefix');
  if ((rule.backendRefs?.length ?? 0) > 0 && (rule.filters ?? []).some((filter) => filter.requestRedirect !== undefined)) {
    c.add(f, MSG_REDIRECT_WITH_BACKENDS, 'a redirect answers the request itself: remove the backendRefs, or move the redirect to a rule of its own');
  }
}

function validateMatch(c: IssueCollector, match: HttpRouteSpecRulesMatches, f: string): void {
  if (match.path !== undefined) {
    const type = match.path.type ?? DEFAULT_PATH.type;
    const value = match.path.value ?? DEFAULT_PATH.value;
    const g = `${f}.path`;
    if (!(PATH_TYPES as readonly unknown[]).includes(type)) {
      c.add(`${g}.type`, `${MSG_PATH_TYPE} (got ${JSON.stringify(type)})`, `use one of ${PATH_TYPES.join(', ')}`);
    }
    c.string(`${g}.value`, value, { maxLength: 1024 });
    if ((type === 'Exact' || type === 'PathPrefix') && typeof value === 'string') checkPathValue(c, value, `${g}.value`);
  }
  for (const [list, maxValue] of [['headers', 4096], ['queryParams', 1024]] as const) {
    const entries = match[list];
    if (entries === undefined) continue;
    const what = list === 'headers' ? 'header' : 'query parameter';
    c.count(`${f}.${list}`, entries, 0, 16, list === 'headers' ? 'header matches' : 'query parameter matches');
    entries.forEach((entry, i) => {
      const g = `${f}.${list}[${i}]`;
      if (c.required(`${g}.name`, entry.name, `set the ${what} name`)) {
        c.string(`${g}.name`, entry.name, { minLength: 1, maxLength: 256, pattern: HTTP_HEADER_NAME, patternName: `a ${what} name (RFC 7230 token)` });
      }
      c.allowedValue(`${g}.type`, entry.type, VALUE_MATCH_TYPES);
      if (c.required(`${g}.value`, entry.value, `set the ${what} value to match`)) c.string(`${g}.value`, entry.value, { minLength: 1, maxLength: maxValue });
    });
    reportDuplicateKeys(c, entries.map((e) => e.name), `${f}.${list}`, what, `the list is keyed by name: match each ${what} once`);
  }
  c.allowedValue(`${f}.method`, match.method, METHODS);
}

/** The CEL rules on an Exact or PathPrefix value, each reported as the API server would. */
function checkPathValue(c: IssueCollector, value: string, f: string): void {
  const shown = JSON.stringify(value);
  if (!value.startsWith('/')) c.add(f, `${MSG_PATH_ABSOLUTE} (got ${shown})`, 'start the path with "/", e.g. "/login"');
  for (const [how, text] of PATH_FORBIDDEN) {
    const hit = how === 'contain' ? value.includes(text) : value.endsWith(text);
    if (hit) c.add(f, `${msgPathForbidden(how, text)} (got ${shown})`, 'write the path in its normalized form: no empty, "." or ".." segments, no encoded "/" and no fragment');
  }
  if (!HTTP_PATH_CHARACTERS.test(value)) {
    c.add(f, `${MSG_PATH_CHARACTERS} (got ${shown})`, 'percent-encode other characters (a space is %20), or use type RegularExpression');
  }
}

function validateTimeouts(c: IssueCollector, timeouts: { readonly request?: string; readonly backendRequest?: string }, f: string): void {
  for (const field of ['request', 'backendRequest'] as const) {
    c.string(`${f}.${field}`, timeouts[field], { pattern: GATEWAY_DURATION, patternName: 'a duration such as "10s", "1m30s" or "500ms" (h, m, s, ms; up to 4 parts of up to 5 digits)' });
  }
  const request = timeouts.request === undefined ? undefined : gatewayDurationMs(timeouts.request);
  const backend = timeouts.backendRequest === undefined ? undefined : gatewayDurationMs(timeouts.backendRequest);
  if (request !== undefined && backend !== undefined && request !== 0 && backend > request) {
    c.add(f, `${MSG_TIMEOUTS} (backendRequest ${timeouts.backendRequest}, request ${timeouts.request})`, 'make backendRequest at most the request timeout (request "0s" means no request timeout)');
  }
}

/** `matches` after defaulting: absent is the single PathPrefix "/" match. */
export function defaultedMatches(rule: HttpRouteSpecRules): readonly HttpRouteSpecRulesMatches[] {
  return rule.matches ?? [{ path: DEFAULT_PATH as never }];
}

/** CEL: `size(self.matches) == 1 && self.matches[0].path.type == 'PathPrefix'` on defaulted matches. */
export function hasOnePathPrefixMatch(rule: HttpRouteSpecRules): boolean {
  const matches = defaultedMatches(rule);
  return matches.length === 1 && (matches[0]!.path?.type ?? DEFAULT_PATH.type) === 'PathPrefix';
}

type FilterLike = { readonly requestRedirect?: { readonly path?: unknown }; readonly urlRewrite?: { readonly path?: unknown } };

/** CEL: `has(f.X) && has(f.X.path) && f.X.path.type == 'ReplacePrefixMatch' && has(f.X.path.replacePrefixMatch)`. */
export function replacesPrefix(filter: FilterLike, field: 'requestRedirect' | 'urlRewrite'): boolean {
  const path = filter[field]?.path as { type?: string; replacePrefixMatch?: string } | undefined;
  return path !== undefined && path.type === 'ReplacePrefixMatch' && path.replacePrefixMatch !== undefined;
}

/**
 * The four CEL rules on ReplacePrefixMatch, exactly as written: each fires only when
 * *exactly one* filter (or, within backendRefs, exactly one backend) uses it (`exists_one`),
 * and the rule does not have exactly one PathPrefix match. Returns the messages that fire.
 */
export function prefixMatchRulesFired(rule: HttpRouteSpecRules): string[] {
  if (hasOnePathPrefixMatch(rule)) return [];
  const fired: string[] = [];
  const filters = (rule.filters ?? []) as readonly FilterLike[];
  const backends = rule.backendRefs ?? [];
  const exactlyOne = <T>(items: readonly T[], test: (item: T) => boolean): boolean => items.filter(test).length === 1;
  const inBackend = (field: 'requestRedirect' | 'urlRewrite') =>
    exactlyOne(backends, (b) => b.filters !== undefined && exactlyOne(b.filters as readonly FilterLike[], (f) => replacesPrefix(f, field)));
  if (exactlyOne(filters, (f) => replacesPrefix(f, 'requestRedirect'))) fired.push(MSG_REDIRECT_PREFIX_MATCH);
  if (exactlyOne(filters, (f) => replacesPrefix(f, 'urlRewrite'))) fired.push(MSG_REWRITE_PREFIX_MATCH);
  if (inBackend('requestRedirect')) fired.push(MSG_BACKEND_REDIRECT_PREFIX_MATCH);
  if (inBackend('urlRewrite')) fired.push(MSG_BACKEND_REWRITE_PREFIX_MATCH);
  return fired;
}

export function describeMatches(rule: HttpRouteSpecRules): string {
  const matches = defaultedMatches(rule);
  if (matches.length !== 1) return `the rule has ${matches.length} matches`;
  return `the rule's match has path type ${matches[0]!.path?.type ?? DEFAULT_PATH.type}`;
}
