// Schema rules of the v1.6.1 ReferenceGrant CRD (v1; the CRD has no CEL rules).
import type { ReferenceGrantSpec } from '../../../imports/gwapi-gateway.networking.k8s.io.js';
import { IssueCollector, type ValidationIssue } from './issues.js';
import { GROUP, KIND, NAMESPACE } from './patterns.js';

export function validateReferenceGrantSpec(spec: ReferenceGrantSpec): ValidationIssue[] {
  const c = new IssueCollector();
  c.count('spec.from', spec.from ?? [], 1, 16, 'from entries');
  (spec.from ?? []).forEach((from, i) => {
    const f = `spec.from[${i}]`;
    if (c.required(`${f}.group`, from.group, 'set group ("gateway.networking.k8s.io" for Gateways and TLSRoutes)')) {
      c.string(`${f}.group`, from.group, { maxLength: 253, pattern: GROUP, patternName: 'empty or an RFC 1123 subdomain' });
    }
    if (c.required(`${f}.kind`, from.kind, 'set kind, e.g. "TLSRoute" or "Gateway"')) {
      c.string(`${f}.kind`, from.kind, { minLength: 1, maxLength: 63, pattern: KIND, patternName: 'a Kind name' });
    }
    if (c.required(`${f}.namespace`, from.namespace, 'set the namespace the referencing objects live in')) {
      c.string(`${f}.namespace`, from.namespace, { minLength: 1, maxLength: 63, pattern: NAMESPACE, patternName: 'an RFC 1123 label' });
    }
  });
  c.count('spec.to', spec.to ?? [], 1, 16, 'to entries');
  (spec.to ?? []).forEach((to, i) => {
    const f = `spec.to[${i}]`;
    if (c.required(`${f}.group`, to.group, 'set group ("" for Services and Secrets)')) {
      c.string(`${f}.group`, to.group, { maxLength: 253, pattern: GROUP, patternName: 'empty or an RFC 1123 subdomain' });
    }
    if (c.required(`${f}.kind`, to.kind, 'set kind, e.g. "Service" or "Secret"')) {
      c.string(`${f}.kind`, to.kind, { minLength: 1, maxLength: 63, pattern: KIND, patternName: 'a Kind name' });
    }
    c.string(`${f}.name`, to.name, { minLength: 1, maxLength: 253 });
  });
  return c.issues;
}
