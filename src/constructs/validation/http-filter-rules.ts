// Schema and CEL rules of the v1.6.1 HTTPRoute CRD on filters. Rule filters
// (`spec.rules[].filters`) and per-backend filters (`spec.rules[].backendRefs[].filters`)
// have the same schema and the same rules, so one validator serves both. Defaults the CEL
// rules depend on (mirror backendRef group/kind, fraction denominator 100) are applied
// first, as the API server does.
import type { HttpRouteSpecRulesFilters } from '../../../imports/gwapi-gateway.networking.k8s.io.js';
import type { IssueCollector } from './issues.js';
import { CORS_ORIGIN, GROUP, HTTP_HEADER_NAME, KIND, PRECISE_HOSTNAME } from './patterns.js';
import { validateBackendObjectRef } from './route-rules.js';

export const MSG_REDIRECT_AND_REWRITE = 'May specify either httpRouteFilterRequestRedirect or httpRouteFilterRequestRewrite, but not both';
export const msgFilterRepeated = (type: string): string => `${type} filter cannot be repeated`;
export const msgFieldMustBeNil = (field: string, type: string): string => `filter.${field} must be nil if the filter.type is not ${type}`;
export const msgFieldRequired = (field: string, type: string): string => `filter.${field} must be specified for ${type} filter.type`;
export const MSG_MIRROR_PERCENT_OR_FRACTION = 'Only one of percent or fraction may be specified in HTTPRequestMirrorFilter';
export const MSG_MIRROR_FRACTION = 'numerator must be less than or equal to denominator';
export const MSG_FULL_PATH_REQUIRED = "replaceFullPath must be specified when type is set to 'ReplaceFullPath'";
export const MSG_FULL_PATH_TYPE = "type must be 'ReplaceFullPath' when replaceFullPath is set";
export const MSG_PREFIX_REQUIRED = "replacePrefixMatch must be specified when type is set to 'ReplacePrefixMatch'";
export const MSG_PREFIX_TYPE = "type must be 'ReplacePrefixMatch' when replacePrefixMatch is set";
// Upstream's message for allowHeaders says "methods"; kept verbatim so that it can be searched for.
export const MSG_CORS_ALLOW_HEADERS_WILDCARD = "AllowHeaders cannot contain '*' alongside other methods";
export const MSG_CORS_ALLOW_METHODS_WILDCARD = "AllowMethods cannot contain '*' alongside other methods";
export const MSG_CORS_ALLOW_ORIGINS_WILDCARD = "AllowOrigins cannot contain '*' alongside other origins";

export const FILTER_TYPES = ['RequestHeaderModifier', 'ResponseHeaderModifier', 'RequestMirror', 'RequestRedirect', 'URLRewrite', 'ExtensionRef', 'CORS'] as const;
/** Each filter type and the field that carries its configuration. */
const FILTER_FIELDS: readonly (readonly [type: string, field: keyof HttpRouteSpecRulesFilters])[] = [
  ['CORS', 'cors'],
  ['RequestHeaderModifier', 'requestHeaderModifier'],
  ['ResponseHeaderModifier', 'responseHeaderModifier'],
  ['RequestMirror', 'requestMirror'],
  ['RequestRedirect', 'requestRedirect'],
  ['URLRewrite', 'urlRewrite'],
  ['ExtensionRef', 'extensionRef'],
];
const NOT_REPEATABLE = ['CORS', 'RequestHeaderModifier', 'ResponseHeaderModifier', 'RequestRedirect', 'URLRewrite'] as const;
const REDIRECT_SCHEMES = ['http', 'https'] as const;
const REDIRECT_STATUS_CODES = [301, 302, 303, 307, 308] as const;
const PATH_MODIFIER_TYPES = ['ReplaceFullPath', 'ReplacePrefixMatch'] as const;
const CORS_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH', '*'] as const;
const INT32_MAX = 2_147_483_647;

/** A filter as written: the typed fields, loosely, because invalid input is what is checked. */
type FilterSpec = HttpRouteSpecRulesFilters;
type Loose = Record<string, unknown>;

/** Validates a `filters` list at field `f` (rule or backendRef level). */
export function validateFilters(c: IssueCollector, filters: readonly FilterSpec[] | undefined, f: string): void {
  if (filters === undefined) return;
  c.count(f, filters, 0, 16, 'filters');
  const types = filters.map((filter) => filter.type as string);
  if (types.includes('RequestRedirect') && types.includes('URLRewrite')) {
    c.add(f, MSG_REDIRECT_AND_REWRITE, 'a redirect answers the request itself, so nothing is forwarded to rewrite: keep one of the two (or split the rule)');
  }
  for (const type of NOT_REPEATABLE) {
    const at = types.flatMap((t, i) => (t === type ? [i] : []));
    if (at.length > 1) c.add(f, `${msgFilterRepeated(type)} (filters ${at.join(', ')})`, `merge them into one ${type} filter`);
  }
  filters.forEach((filter, i) => validateFilter(c, filter, `${f}[${i}]`));
}

function validateFilter(c: IssueCollector, filter: FilterSpec, f: string): void {
  if (c.required(`${f}.type`, filter.type, `set type to one of ${FILTER_TYPES.join(', ')}`)) {
    c.allowedValue(`${f}.type`, filter.type, FILTER_TYPES);
  }
  for (const [type, field] of FILTER_FIELDS) {
    const present = filter[field] !== undefined;
    if (present && filter.type !== type) {
      c.add(`${f}.${field}`, `${msgFieldMustBeNil(field, type)} (type is ${JSON.stringify(filter.type)})`, `remove ${field}, or set type: ${type}`);
    }
    if (!present && filter.type === type) {
      c.add(`${f}.${field}`, msgFieldRequired(field, type), `give the ${field} settings of the ${type} filter`);
    }
  }
  const settings = filter as unknown as Readonly<Record<string, Loose | undefined>>;
  const check = (field: string, validate: (c: IssueCollector, value: Loose, f: string) => void): void => {
    const value = settings[field];
    if (value !== undefined) validate(c, value, `${f}.${field}`);
  };
  check('requestHeaderModifier', validateHeaderModifier);
  check('responseHeaderModifier', validateHeaderModifier);
  check('requestMirror', validateMirror);
  check('requestRedirect', validateRedirect);
  check('urlRewrite', validateRewrite);
  check('cors', validateCors);
  check('extensionRef', validateExtensionRef);
}

function validateHeaderModifier(c: IssueCollector, m: Loose, f: string): void {
  for (const list of ['set', 'add'] as const) {
    const headers = m[list] as readonly Loose[] | undefined;
    if (headers === undefined) continue;
    c.count(`${f}.${list}`, headers, 0, 16, 'headers');
    headers.forEach((h, i) => {
      const g = `${f}.${list}[${i}]`;
      if (c.required(`${g}.name`, h.name, 'set the header name')) {
        c.string(`${g}.name`, h.name, { minLength: 1, maxLength: 256, pattern: HTTP_HEADER_NAME, patternName: 'an HTTP header name (RFC 7230 token)' });
      }
      if (c.required(`${g}.value`, h.value, 'set the header value')) c.string(`${g}.value`, h.value, { minLength: 1, maxLength: 4096 });
    });
    reportDuplicateKeys(c, headers.map((h) => h.name), `${f}.${list}`, 'header', 'the list is keyed by name: give each header once');
  }
  const remove = m.remove as readonly unknown[] | undefined;
  if (remove !== undefined) {
    c.count(`${f}.remove`, remove, 0, 16, 'header names');
    remove.forEach((name, i) => c.string(`${f}.remove[${i}]`, name, {}));
    reportDuplicateKeys(c, remove, `${f}.remove`, 'header', 'the list is a set: name each header once');
  }
}

function validateMirror(c: IssueCollector, m: Loose, f: string): void {
  const backend = m.backendRef as Loose | undefined;
  if (c.required(`${f}.backendRef`, backend, 'name the Service that receives the copies')) {
    validateBackendObjectRef(c, backend as never, `${f}.backendRef`);
  }
  c.integer(`${f}.percent`, m.percent, 0, 100);
  const fraction = m.fraction as Loose | undefined;
  if (fraction !== undefined) {
    if (c.required(`${f}.fraction.numerator`, fraction.numerator, 'set the numerator of the share of requests to mirror')) {
      c.integer(`${f}.fraction.numerator`, fraction.numerator, 0, INT32_MAX);
    }
    c.integer(`${f}.fraction.denominator`, fraction.denominator, 1, INT32_MAX);
    const denominator = fraction.denominator ?? 100; // CRD default, applied before CEL runs
    if (typeof fraction.numerator === 'number' && typeof denominator === 'number' && fraction.numerator > denominator) {
      c.add(`${f}.fraction`, `${MSG_MIRROR_FRACTION} (${fraction.numerator}/${denominator})`, 'mirror at most every request: numerator ≤ denominator (which defaults to 100)');
    }
  }
  if (m.percent !== undefined && fraction !== undefined) {
    c.add(f, MSG_MIRROR_PERCENT_OR_FRACTION, 'give the share of mirrored requests as percent or as fraction, not both');
  }
}

function validateRedirect(c: IssueCollector, r: Loose, f: string): void {
  c.string(`${f}.hostname`, r.hostname, { minLength: 1, maxLength: 253, pattern: PRECISE_HOSTNAME, patternName: 'a DNS name without wildcard' });
  if (r.path !== undefined) validatePathModifier(c, r.path as Loose, `${f}.path`);
  c.integer(`${f}.port`, r.port, 1, 65535);
  c.allowedValue(`${f}.scheme`, r.scheme, REDIRECT_SCHEMES);
  if (r.statusCode !== undefined && !(REDIRECT_STATUS_CODES as readonly unknown[]).includes(r.statusCode)) {
    c.add(`${f}.statusCode`, `Unsupported value: ${JSON.stringify(r.statusCode)}: supported values: ${REDIRECT_STATUS_CODES.join(', ')}`, `use one of ${REDIRECT_STATUS_CODES.join(', ')}`);
  }
}

function validateRewrite(c: IssueCollector, r: Loose, f: string): void {
  c.string(`${f}.hostname`, r.hostname, { minLength: 1, maxLength: 253, pattern: PRECISE_HOSTNAME, patternName: 'a DNS name without wildcard' });
  if (r.path !== undefined) validatePathModifier(c, r.path as Loose, `${f}.path`);
}

/** RequestRedirect and URLRewrite `path`: the type names the one value field that must be set. */
function validatePathModifier(c: IssueCollector, p: Loose, f: string): void {
  if (c.required(`${f}.type`, p.type, 'set type: ReplaceFullPath or ReplacePrefixMatch')) c.allowedValue(`${f}.type`, p.type, PATH_MODIFIER_TYPES);
  c.string(`${f}.replaceFullPath`, p.replaceFullPath, { maxLength: 1024 });
  c.string(`${f}.replacePrefixMatch`, p.replacePrefixMatch, { maxLength: 1024 });
  if (p.type === 'ReplaceFullPath' && p.replaceFullPath === undefined) c.add(f, MSG_FULL_PATH_REQUIRED, 'give replaceFullPath, the path that replaces the whole request path');
  if (p.replaceFullPath !== undefined && p.type !== 'ReplaceFullPath') c.add(f, `${MSG_FULL_PATH_TYPE} (type is ${JSON.stringify(p.type)})`, "set type: 'ReplaceFullPath', or give replacePrefixMatch instead");
  if (p.type === 'ReplacePrefixMatch' && p.replacePrefixMatch === undefined) c.add(f, MSG_PREFIX_REQUIRED, 'give replacePrefixMatch, the prefix that replaces the matched PathPrefix');
  if (p.replacePrefixMatch !== undefined && p.type !== 'ReplacePrefixMatch') c.add(f, `${MSG_PREFIX_TYPE} (type is ${JSON.stringify(p.type)})`, "set type: 'ReplacePrefixMatch', or give replaceFullPath instead");
}

function validateCors(c: IssueCollector, cors: Loose, f: string): void {
  const lists: readonly [field: string, max: number, check: (value: unknown, g: string) => void, wildcardMessage?: string][] = [
    ['allowOrigins', 64, (v, g) => c.string(g, v, { minLength: 1, maxLength: 253, pattern: CORS_ORIGIN, patternName: 'an origin such as "https://app.example.com", "https://*.example.com" or "*"' }), MSG_CORS_ALLOW_ORIGINS_WILDCARD],
    ['allowMethods', 9, (v, g) => c.allowedValue(g, v, CORS_METHODS), MSG_CORS_ALLOW_METHODS_WILDCARD],
    ['allowHeaders', 64, (v, g) => c.string(g, v, { minLength: 1, maxLength: 256, pattern: HTTP_HEADER_NAME, patternName: 'an HTTP header name (RFC 7230 token)' }), MSG_CORS_ALLOW_HEADERS_WILDCARD],
    ['exposeHeaders', 64, (v, g) => c.string(g, v, { minLength: 1, maxLength: 256, pattern: HTTP_HEADER_NAME, patternName: 'an HTTP header name (RFC 7230 token)' })],
  ];
  for (const [field, max, check, wildcardMessage] of lists) {
    const values = cors[field] as readonly unknown[] | undefined;
    if (values === undefined) continue;
    c.count(`${f}.${field}`, values, 0, max, `${field} entries`);
    values.forEach((v, i) => check(v, `${f}.${field}[${i}]`));
    reportDuplicateKeys(c, values, `${f}.${field}`, 'entry', 'the list is a set: give each value once');
    if (wildcardMessage !== undefined && values.includes('*') && values.length > 1) {
      c.add(`${f}.${field}`, wildcardMessage, `"*" already allows everything: keep only "*", or list the values without it`);
    }
  }
  if (cors.allowCredentials !== undefined && typeof cors.allowCredentials !== 'boolean') {
    c.add(`${f}.allowCredentials`, `must be a boolean, got ${JSON.stringify(cors.allowCredentials)}`, 'give true or false');
  }
  c.integer(`${f}.maxAge`, cors.maxAge, 1, INT32_MAX);
}

function validateExtensionRef(c: IssueCollector, ref: Loose, f: string): void {
  if (c.required(`${f}.group`, ref.group, 'set the API group of the filter resource ("" for core)')) {
    c.string(`${f}.group`, ref.group, { maxLength: 253, pattern: GROUP, patternName: 'empty or an RFC 1123 subdomain' });
  }
  if (c.required(`${f}.kind`, ref.kind, 'set the kind of the filter resource')) {
    c.string(`${f}.kind`, ref.kind, { minLength: 1, maxLength: 63, pattern: KIND, patternName: 'a Kind name' });
  }
  if (c.required(`${f}.name`, ref.name, 'set the name of the filter resource')) c.string(`${f}.name`, ref.name, { minLength: 1, maxLength: 253 });
}

/**
 * `x-kubernetes-list-type: map` (keyed by name) and `set` lists: the API server rejects a key
 * that appears twice ("Duplicate value"). Keys compare exactly, as the API server compares them.
 */
export function reportDuplicateKeys(c: IssueCollector, keys: readonly unknown[], f: string, what: string, fix: string): void {
  const first = new Map<unknown, number>();
  keys.forEach((key, i) => {
    if (key === undefined) return;
    const seen = first.get(key);
    if (seen === undefined) first.set(key, i);
    else c.add(`${f}[${i}]`, `Duplicate value: ${what} ${JSON.stringify(key)} is also ${f.slice(f.lastIndexOf('.') + 1)}[${seen}]`, fix);
  });
}
