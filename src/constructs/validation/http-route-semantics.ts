// Checks on an HTTPRoute spec that no CRD rule makes but that the API server would let
// through to a route that does not do what it says: the request would never match, a match
// would be ignored, or the controller would reject the rule.
import type { HttpRouteSpec, HttpRouteSpecRules } from '../../../imports/gwapi-gateway.networking.k8s.io.js';
import { isIpAddress } from './hostnames.js';
import { describeMatches, hasOnePathPrefixMatch, prefixMatchRulesFired, replacesPrefix } from './http-route-rules.js';
import { IssueCollector, type ValidationIssue } from './issues.js';

export function checkHttpRouteSemantics(spec: HttpRouteSpec): ValidationIssue[] {
  const c = new IssueCollector();
  (spec.hostnames ?? []).forEach((hostname, i) => {
    // The schema pattern admits dotted digits; the Gateway API says hostnames are never IPs.
    if (typeof hostname === 'string' && isIpAddress(hostname)) {
      c.add(`spec.hostnames[${i}]`, `"${hostname}" is an IP address; HTTPRoute hostnames must be DNS names (the Gateway API does not allow IPs)`,
        'use a DNS name, or leave hostnames out to serve every host the listener accepts');
    }
  });
  (spec.rules ?? []).forEach((rule, r) => checkRule(c, rule, `spec.rules[${r}]`));
  return c.issues;
}

function checkRule(c: IssueCollector, rule: HttpRouteSpecRules, f: string): void {
  (rule.matches ?? []).forEach((match, m) => {
    const g = `${f}.matches[${m}]`;
    if (match.path?.type === 'RegularExpression' && typeof match.path.value === 'string') checkRegex(c, match.path.value, `${g}.path.value`);
    for (const list of ['headers', 'queryParams'] as const) {
      (match[list] ?? []).forEach((entry, i) => {
        if (entry.type === 'RegularExpression' && typeof entry.value === 'string') checkRegex(c, entry.value, `${g}.${list}[${i}].value`);
      });
    }
    // Names that differ only in case are distinct keys to the API server but the same header
    // to HTTP; the spec then considers only the first entry, so the second is silently dropped.
    const firstByName = new Map<string, number>();
    (match.headers ?? []).forEach((h, i) => {
      if (typeof h.name !== 'string') return;
      const key = h.name.toLowerCase();
      const first = firstByName.get(key);
      if (first === undefined) firstByName.set(key, i);
      else if (match.headers![first]!.name !== h.name) {
        c.add(`${g}.headers[${i}].name`, `header "${h.name}" is header "${match.headers![first]!.name}" (headers[${first}]): HTTP header names are case-insensitive, and only the first of equivalent names is matched`,
          'match each header once; to accept several values use one RegularExpression match');
      }
    });
  });
  checkPrefixReplacementBeyondCel(c, rule, f);
}

/**
 * The CEL rules on ReplacePrefixMatch use `exists_one`: with two filters (or two backends)
 * that replace the prefix they do not fire, yet the replacement still has no single
 * PathPrefix match to replace. Report that case, which the CRD lets through.
 */
function checkPrefixReplacementBeyondCel(c: IssueCollector, rule: HttpRouteSpecRules, f: string): void {
  if (hasOnePathPrefixMatch(rule) || prefixMatchRulesFired(rule).length > 0) return;
  const filters = [...(rule.filters ?? []), ...(rule.backendRefs ?? []).flatMap((b) => b.filters ?? [])];
  const replacing = filters.filter((filter) => replacesPrefix(filter, 'requestRedirect') || replacesPrefix(filter, 'urlRewrite'));
  if (replacing.length === 0) return;
  c.add(f, `${replacing.length} filters replace the matched path prefix (path.replacePrefixMatch), but ${describeMatches(rule)}; ReplacePrefixMatch needs exactly one PathPrefix match (the CRD's rules only catch a single such filter)`,
    'give the rule exactly one match with a PathPrefix path, or use ReplaceFullPath');
}

/**
 * The spec leaves the regular expression dialect to the implementation; tlsgate's proxy runs
 * RegularExpression matches as JavaScript regular expressions, so one must compile there.
 */
function checkRegex(c: IssueCollector, source: string, f: string): void {
  try {
    // Both as written and as the proxy anchors it for a whole-value match: "a)(b" compiles
    // only in the second form, so each form alone would let it through.
    new RegExp(source);
    new RegExp(`^(?:${source})$`);
  } catch (err) {
    c.add(f, `${JSON.stringify(source)} is not a valid regular expression: ${(err as Error).message}`,
      'write an expression that both RE2 and JavaScript accept (for example no inline flags such as (?i))');
  }
}
