// Object names and namespaces as the API server checks them for every object (not in the
// CRD schemas, but a bad name fails the apply just the same).
import { IssueCollector, type ValidationIssue } from './issues.js';
import { DNS_SUBDOMAIN, NAMESPACE } from './patterns.js';

export function validateMetadata(name: string, namespace: string | undefined): ValidationIssue[] {
  const c = new IssueCollector();
  c.string('metadata.name', name, { minLength: 1, maxLength: 253, pattern: DNS_SUBDOMAIN, patternName: 'an RFC 1123 subdomain (lower-case letters, digits, "-" and ".")' });
  c.string('metadata.namespace', namespace, { minLength: 1, maxLength: 63, pattern: NAMESPACE, patternName: 'an RFC 1123 label (lower-case letters, digits and "-")' });
  return c.issues;
}
