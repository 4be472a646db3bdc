// Schema and CEL rules that TLSRoute and HTTPRoute (v1.6.1) share word for word: the
// parentRefs list and the backend object reference. CRD defaults the CEL rules depend on
// (parentRef group/kind, backendRef group/kind) are applied first, as the API server does.
import { IssueCollector } from './issues.js';
import { DNS_SUBDOMAIN, GATEWAY_GROUP, GROUP, KIND, NAMESPACE } from './patterns.js';

export const MSG_SECTION_NAME_REQUIRED = 'sectionName must be specified when parentRefs includes 2 or more references to the same parent';
export const MSG_SECTION_NAME_UNIQUE = 'sectionName must be unique when parentRefs includes 2 or more references to the same parent';
export const MSG_BACKEND_PORT = 'Must have port for Service reference';

/** A parentRef as both route CRDs define it. */
export interface ParentRefSpec {
  readonly group?: string;
  readonly kind?: string;
  readonly name: string;
  readonly namespace?: string;
  readonly sectionName?: string;
  readonly port?: number;
}

/** A backend object reference (backendRefs, RequestMirror's backendRef) as the route CRDs define it. */
export interface BackendObjectRefSpec {
  readonly group?: string;
  readonly kind?: string;
  readonly name: string;
  readonly namespace?: string;
  readonly port?: number;
}

export function validateParentRefs(c: IssueCollector, refs: readonly ParentRefSpec[] | undefined): void {
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
function checkSectionNameRules(c: IssueCollector, refs: readonly ParentRefSpec[]): void {
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

function describeParent(ref: ParentRefSpec): string {
  const ns = ref.namespace ? `${ref.namespace}/` : '';
  return `${ref.kind ?? 'Gateway'} "${ns}${ref.name}"`;
}

/** group, kind, name, namespace, port of a backend reference, and its CEL rule on the port. */
export function validateBackendObjectRef(c: IssueCollector, ref: BackendObjectRefSpec, g: string): void {
  c.string(`${g}.group`, ref.group, { maxLength: 253, pattern: GROUP, patternName: 'empty or an RFC 1123 subdomain' });
  c.string(`${g}.kind`, ref.kind, { minLength: 1, maxLength: 63, pattern: KIND, patternName: 'a Kind name' });
  if (c.required(`${g}.name`, ref.name, 'set the name of the backend Service')) {
    c.string(`${g}.name`, ref.name, { minLength: 1, maxLength: 253 });
  }
  c.string(`${g}.namespace`, ref.namespace, { minLength: 1, maxLength: 63, pattern: NAMESPACE, patternName: 'an RFC 1123 label' });
  c.integer(`${g}.port`, ref.port, 1, 65535);
  const group = ref.group ?? '';
  const kind = ref.kind ?? 'Service';
  if (group.length === 0 && kind === 'Service' && ref.port === undefined) {
    c.add(g, `${MSG_BACKEND_PORT} (backend "${ref.name}")`, 'set port to the Service port (not the targetPort) the traffic goes to');
  }
}

/** A backendRefs entry: the object reference plus its weight. */
export function validateWeightedBackendRef(c: IssueCollector, ref: BackendObjectRefSpec & { readonly weight?: number }, g: string): void {
  validateBackendObjectRef(c, ref, g);
  c.integer(`${g}.weight`, ref.weight, 0, 1_000_000);
}
