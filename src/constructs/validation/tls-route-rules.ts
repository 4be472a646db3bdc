// Schema and CEL rules of the v1.6.1 TLSRoute CRD (v1), with the CRD defaults applied
// first (parentRef group/kind, backendRef group/kind), as the API server does before it
// evaluates CEL, so that each rule keeps its meaning.
import type { TlsRouteSpec, TlsRouteSpecParentRefs } from '../../../imports/gwapi-gateway.networking.k8s.io.js';
import { isIpAddress, violatesRfc1123, violatesWildcardRule } from './hostnames.js';
import { IssueCollector, type ValidationIssue } from './issues.js';
import { DNS_SUBDOMAIN, GATEWAY_GROUP, GROUP, KIND, NAMESPACE } from './patterns.js';

export const MSG_SECTION_NAME_REQUIRED = 'sectionName must be specified when parentRefs includes 2 or more references to the same parent';
export const MSG_SECTION_NAME_UNIQUE = 'sectionName must be unique when parentRefs includes 2 or more references to the same parent';
export const MSG_HOSTNAME_IP = 'Hostnames cannot contain an IP';
export const MSG_HOSTNAME_RFC1123 = 'Hostnames must be valid based on RFC-1123';
export const MSG_HOSTNAME_WILDCARD = 'Wildcards on hostnames must be the first label, and the rest of hostname must be valid based on RFC-1123';
export const MSG_BACKEND_PORT = 'Must have port for Service reference';

export function validateTlsRouteSpec(spec: TlsRouteSpec): ValidationIssue[] {
  const c = new IssueCollector();
  validateParentRefs(c, spec.parentRefs);
  validateHostnames(c, spec.hostnames);
  validateRules(c, spec);
  return c.issues;
}

function validateParentRefs(c: IssueCollector, refs: readonly TlsRouteSpecParentRefs[] | undefined): void {
  if (refs === undefined) return;
  c.count('spec.parentRefs', refs, 0, 32, 'parentRefs');
  refs.forEach((ref, i) => {
    const f = `spec.parentRefs[${i}]`;
    c.string(`${f}.group`, ref.group, { maxLength: 253, pattern: GROUP, patternName: 'empty or an RFC 1123 subdomain' });
    c.string(`${f}.kind`, ref.kind, { minLength: 1, maxLength: 63, pattern: KIND, patternName: 'a Kind name' });
    if (c.required(`${f}.name`, ref.name, 'set the name of the parent Gateway')) {
      c.string(`${f}.name`, ref.name, { minLength: 1, maxLength: 253 });
    }
    c.string(`${f}.namespace`, ref.namespace, { minLength: 1, maxLength: 63, pattern: NAMESPACE, patternName: 'an RFC 1123 label' });
    c.string(`${f}.sectionName`, ref.sectionName, { minLength: 1, maxLength: 253, pattern: DNS_SUBDOMAIN, patternName: 'an RFC 1123 subdomain (a listener name)' });
    c.integer(`${f}.port`, ref.port, 1, 65535);
  });
  checkSectionNameRules(c, refs);
}

/** The two parentRefs CEL rules, evaluated on defaulted refs grouped by parent. */
function checkSectionNameRules(c: IssueCollector, refs: readonly TlsRouteSpecParentRefs[]): void {
  const byParent = new Map<string, number[]>();
  refs.forEach((ref, i) => {
    const key = [ref.group ?? GATEWAY_GROUP, ref.kind ?? 'Gateway', ref.name, ref.namespace ?? ''].join('\u0000');
    byParent.set(key, [...(byParent.get(key) ?? []), i]);
  });
  for (const indexes of byParent.values()) {
    if (indexes.length < 2) continue;
    const parent = describeParent(refs[indexes[0]!]!);
    const sections = indexes.map((i) => refs[i]!.sectionName ?? '');
    const withSection = indexes.filter((_, k) => sections[k] !== '');
    if (withSection.length > 0 && withSection.length < indexes.length) {
      c.add('spec.parentRefs', `${MSG_SECTION_NAME_REQUIRED} (${parent}: parentRefs ${indexes.join(', ')})`,
        'give every reference to this parent a sectionName (a listener name), or keep one reference without sectionName');
    }
    const seen = new Map<string, number>();
    indexes.forEach((i, k) => {
      const first = seen.get(sections[k]!);
      if (first === undefined) {
        seen.set(sections[k]!, i);
        return;
      }
      const section = sections[k] === '' ? 'no sectionName' : `sectionName "${sections[k]}"`;
      c.add(`spec.parentRefs[${i}]`, `${MSG_SECTION_NAME_UNIQUE} (${parent} with ${section} is also parentRefs[${first}])`,
        'remove the duplicate reference or give each reference a different sectionName');
    });
  }
}

function describeParent(ref: TlsRouteSpecParentRefs): string {
  const ns = ref.namespace ? `${ref.namespace}/` : '';
  return `${ref.kind ?? 'Gateway'} "${ns}${ref.name}"`;
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
    rule.backendRefs.forEach((ref, b) => {
      const g = `${f}.backendRefs[${b}]`;
      c.string(`${g}.group`, ref.group, { maxLength: 253, pattern: GROUP, patternName: 'empty or an RFC 1123 subdomain' });
      c.string(`${g}.kind`, ref.kind, { minLength: 1, maxLength: 63, pattern: KIND, patternName: 'a Kind name' });
      if (c.required(`${g}.name`, ref.name, 'set the name of the backend Service')) {
        c.string(`${g}.name`, ref.name, { minLength: 1, maxLength: 253 });
      }
      c.string(`${g}.namespace`, ref.namespace, { minLength: 1, maxLength: 63, pattern: NAMESPACE, patternName: 'an RFC 1123 label' });
      c.integer(`${g}.port`, ref.port, 1, 65535);
      c.integer(`${g}.weight`, ref.weight, 0, 1_000_000);
      const group = ref.group ?? '';
      const kind = ref.kind ?? 'Service';
      if (group.length === 0 && kind === 'Service' && ref.port === undefined) {
        c.add(g, `${MSG_BACKEND_PORT} (backend "${ref.name}")`, 'set port to the Service port (not the targetPort) the traffic goes to');
      }
    });
  });
}
