// Schema and CEL rules of the v1.6.1 TLSRoute CRD (v1), with the CRD defaults applied
// first (parentRef group/kind, backendRef group/kind), as the API server does before it
// evaluates CEL, so that each rule keeps its meaning. The parentRefs and backendRef rules
// are shared with HTTPRoute (route-rules.ts).
import type { TlsRouteSpec } from '../../../imports/gwapi-gateway.networking.k8s.io.js';
import { isIpAddress, violatesRfc1123, violatesWildcardRule } from './hostnames.js';
import { IssueCollector, type ValidationIssue } from './issues.js';
import { DNS_SUBDOMAIN } from './patterns.js';
import { validateParentRefs, validateWeightedBackendRef } from './route-rules.js';

export { MSG_BACKEND_PORT, MSG_SECTION_NAME_REQUIRED, MSG_SECTION_NAME_UNIQUE } from './route-rules.js';
export const MSG_HOSTNAME_IP = 'Hostnames cannot contain an IP';
export const MSG_HOSTNAME_RFC1123 = 'Hostnames must be valid based on RFC-1123';
export const MSG_HOSTNAME_WILDCARD = 'Wildcards on hostnames must be the first label, and the rest of hostname must be valid based on RFC-1123';

export function validateTlsRouteSpec(spec: TlsRouteSpec): ValidationIssue[] {
  const c = new IssueCollector();
  validateParentRefs(c, spec.parentRefs);
  validateHostnames(c, spec.hostnames);
  validateRules(c, spec);
  return c.issues;
}

function validateHostnames(c: IssueCollector, hostnames: readonly string[] | undefined): void {
  if (!c.required('spec.hostnames', hostnames, 'add at least one hostname the route serves (the SNI clients send)')) return;
  c.count('spec.hostnames', hostnames, 1, 1024, 'hostnames');
  hostnames!.forEach((hostname, i) => {
    const f = `spec.hostnames[${i}]`;
    if (typeof hostname !== 'string') {
      c.add(f, `must be a string, got ${JSON.stringify(hostname)}`, 'give a DNS name such as "app.example.com"');
      return;
    }
    c.string(f, hostname, { minLength: 1, maxLength: 253 });
    if (hostname.length === 0) return;
    if (isIpAddress(hostname)) {
      c.add(f, `${MSG_HOSTNAME_IP}: "${hostname}"`, 'use a DNS name; TLS clients never send an IP address as SNI');
    } else if (violatesWildcardRule(hostname)) {
      c.add(f, `${MSG_HOSTNAME_WILDCARD}: "${hostname}"`, 'put "*." only at the start, e.g. "*.example.com", with lower-case labels after it');
    } else if (violatesRfc1123(hostname)) {
      c.add(f, `${MSG_HOSTNAME_RFC1123}: "${hostname}"`, 'use lower-case letters, digits, "-" and "." only, with labels that start and end with a letter or digit');
    }
  });
}

function validateRules(c: IssueCollector, spec: TlsRouteSpec): void {
  const rules = spec.rules;
  if (!c.required('spec.rules', rules, 'add exactly one rule with the backends')) return;
  if (rules.length !== 1) {
    c.add('spec.rules', `must have exactly 1 rule (minItems 1, maxItems 1), got ${rules.length}`, 'put all backends into one rule');
  }
  rules.forEach((rule, r) => {
    const f = `spec.rules[${r}]`;
    c.string(`${f}.name`, rule.name, { minLength: 1, maxLength: 253, pattern: DNS_SUBDOMAIN, patternName: 'an RFC 1123 subdomain' });
    if (!c.required(`${f}.backendRefs`, rule.backendRefs, 'add at least one backend')) return;
    c.count(`${f}.backendRefs`, rule.backendRefs, 1, 16, 'backendRefs');
    rule.backendRefs.forEach((ref, b) => validateWeightedBackendRef(c, ref, `${f}.backendRefs[${b}]`));
  });
}
