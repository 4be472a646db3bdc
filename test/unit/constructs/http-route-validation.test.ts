// One test per HTTPRoute CRD rule (schema and CEL), each asserting construct path, field,
// message and that a fix is given; raw-spec tests for what the typed props cannot express.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HttpRoute, type HttpRouteFilter, type HttpRouteProps, type HttpRouteRuleOptions, validateHttpRouteSpec } from '../../../src/constructs/index.js';
import { synth, synthError } from './helpers.js';

const backend = { name: 'svc', port: 80 };
const base: HttpRouteProps = { parents: [{ name: 'gw' }], hostnames: ['app.example.com'], rules: [{ backends: [backend] }] };

function routeError(props: Partial<HttpRouteProps>): string {
  return synthError((chart) => new HttpRoute(chart, 'route', { ...base, ...props }));
}

/** A route whose single rule is `rule`. */
function ruleError(rule: HttpRouteRuleOptions): string {
  return routeError({ rules: [rule] });
}

/** A route whose single rule has `filters` (and no backends, so that redirects are allowed). */
function filterError(...filters: HttpRouteFilter[]): string {
  return ruleError({ filters });
}

function assertReports(error: string, ...parts: string[]): void {
  for (const part of ['[test/route]', ...parts, 'Fix:']) assert.ok(error.includes(part), `expected ${JSON.stringify(part)} in:\n${error}`);
}

const many = <T>(n: number, make: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => make(i));
const header = (name: string, value = 'v') => ({ name, value });
const rhm = (m: object): HttpRouteFilter => ({ type: 'RequestHeaderModifier', requestHeaderModifier: m }) as HttpRouteFilter;
const redirect = (r: object): HttpRouteFilter => ({ type: 'RequestRedirect', requestRedirect: r }) as HttpRouteFilter;
const rewrite = (r: object): HttpRouteFilter => ({ type: 'URLRewrite', urlRewrite: r }) as HttpRouteFilter;
const mirror = (m: object): HttpRouteFilter => ({ type: 'RequestMirror', requestMirror: { backend, ...m } }) as HttpRouteFilter;
const cors = (c: object): HttpRouteFilter => ({ type: 'CORS', cors: c }) as HttpRouteFilter;
const prefixRewrite = rewrite({ path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/v2' } });
const prefixRedirect = redirect({ path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/v2' } });
const exact = { path: { type: 'Exact' as const, value: '/a' } };

test('a valid HTTPRoute synthesizes exactly what was given, without defaults', () => {
  const [obj] = synth((chart) => new HttpRoute(chart, 'route', {
    metadata: { name: 'r' },
    ...base,
    rules: [
      {
        name: 'api',
        matches: [{ path: { type: 'PathPrefix', value: '/api' }, headers: [{ name: 'env', value: 'canary' }], queryParams: [{ type: 'RegularExpression', name: 'v', value: '^[0-9]+$' }], method: 'GET' }],
        filters: [{ type: 'RequestHeaderModifier', requestHeaderModifier: { set: [header('x-a', '1')], add: [header('x-b', '2')], remove: ['x-c'] } }],
        backends: [{ name: 'api', port: 8080, weight: 3, filters: [{ type: 'ResponseHeaderModifier', responseHeaderModifier: { add: [header('x-backend', 'api')] } }] }],
        timeouts: { request: '10s', backendRequest: '2s' },
      },
      { filters: [{ type: 'RequestRedirect', requestRedirect: { scheme: 'https', statusCode: 301 } }] },
    ],
  }));
  assert.deepStrictEqual(obj, {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: 'r' },
    spec: {
      parentRefs: [{ name: 'gw' }],
      hostnames: ['app.example.com'],
      rules: [
        {
          name: 'api',
          matches: [{ path: { type: 'PathPrefix', value: '/api' }, headers: [{ name: 'env', value: 'canary' }], queryParams: [{ type: 'RegularExpression', name: 'v', value: '^[0-9]+$' }], method: 'GET' }],
          filters: [{ type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'x-a', value: '1' }], add: [{ name: 'x-b', value: '2' }], remove: ['x-c'] } }],
          backendRefs: [{ name: 'api', port: 8080, weight: 3, filters: [{ type: 'ResponseHeaderModifier', responseHeaderModifier: { add: [{ name: 'x-backend', value: 'api' }] } }] }],
          timeouts: { request: '10s', backendRequest: '2s' },
        },
        { filters: [{ type: 'RequestRedirect', requestRedirect: { scheme: 'https', statusCode: 301 } }] },
      ],
    },
  });
});

test('an HTTPRoute without hostnames and rules leaves both out (the CRD defaults apply)', () => {
  const [obj] = synth((chart) => new HttpRoute(chart, 'route', { metadata: { name: 'r' }, parents: [{ name: 'gw' }] }));
  assert.deepStrictEqual(obj!.spec, { parentRefs: [{ name: 'gw' }] });
});

const P = 'spec.rules[0]';
const M = `${P}.matches[0]`;
const F = `${P}.filters[0]`;

const cases: [string, () => string, string[]][] = [
  // parentRefs (shared with TLSRoute)
  ['at most 32 parentRefs', () => routeError({ parents: many(33, (i) => ({ name: `gw${i}` })) }), ['spec.parentRefs', 'must have at most 32 parentRefs, got 33']],
  ['parentRef group pattern', () => routeError({ parents: [{ name: 'gw', group: 'Gateway.Networking' }] }), ['spec.parentRefs[0].group', 'must be empty or an RFC 1123 subdomain']],
  ['parentRef kind pattern', () => routeError({ parents: [{ name: 'gw', kind: 'Gate way' }] }), ['spec.parentRefs[0].kind', 'must be a Kind name']],
  ['parentRef name must not be empty', () => routeError({ parents: [{ name: '' }] }), ['spec.parentRefs[0].name', 'must have at least 1 character']],
  ['parentRef namespace is an RFC 1123 label', () => routeError({ parents: [{ name: 'gw', namespace: 'a.b' }] }), ['spec.parentRefs[0].namespace', 'must be an RFC 1123 label']],
  ['parentRef sectionName pattern', () => routeError({ parents: [{ name: 'gw', sectionName: 'HTTP' }] }), ['spec.parentRefs[0].sectionName', 'must be an RFC 1123 subdomain (a listener name)']],
  ['parentRef port range', () => routeError({ parents: [{ name: 'gw', port: 65536 }] }), ['spec.parentRefs[0].port', 'must be between 1 and 65535, got 65536']],
  ['CEL: sectionName must be specified for 2+ references to one parent', () => routeError({ parents: [{ name: 'gw' }, { name: 'gw', sectionName: 'http' }] }), ['spec.parentRefs', 'sectionName must be specified when parentRefs includes 2 or more references to the same parent']],
  ['CEL: sectionName must be unique for 2+ references to one parent', () => routeError({ parents: [{ name: 'gw', sectionName: 'http' }, { name: 'gw', sectionName: 'http' }] }), ['spec.parentRefs[1]', 'sectionName must be unique when parentRefs includes 2 or more references to the same parent']],
  // hostnames
  ['at most 16 hostnames', () => routeError({ hostnames: many(17, (i) => `h${i}.example.com`) }), ['spec.hostnames', 'must have at most 16 hostnames, got 17']],
  ['hostname must not be empty', () => routeError({ hostnames: [''] }), ['spec.hostnames[0]', 'must have at least 1 character']],
  ['hostname at most 253 characters', () => routeError({ hostnames: [`${'a'.repeat(60)}.`.repeat(5) + 'com'] }), ['spec.hostnames[0]', 'must have at most 253 characters']],
  ['hostname pattern: lower case', () => routeError({ hostnames: ['App.example.com'] }), ['spec.hostnames[0]', '"App.example.com" must be a DNS name with an optional "*." first label']],
  ['hostname pattern: wildcard only as the first label', () => routeError({ hostnames: ['app.*.example.com'] }), ['spec.hostnames[0]', '"app.*.example.com" must be a DNS name with an optional "*." first label']],
  // rules
  ['at most 16 rules', () => routeError({ rules: many(17, () => ({ backends: [backend] })) }), ['spec.rules', 'must have at most 16 rules, got 17']],
  ['CEL: at most 128 matches across all rules', () => routeError({ rules: many(3, (r) => ({ matches: many(r === 0 ? 64 : 33, (i) => ({ path: { value: `/r${r}/m${i}` } })), backends: [backend] })) }),
    ['spec.rules', 'While 16 rules and 64 matches per rule are allowed, the total number of matches across all rules in a route must be less than 128 (130 matches)']],
  ['CEL: a rule without matches counts as one match', () => routeError({ rules: [{ matches: many(64, (i) => ({ path: { value: `/a${i}` } })) }, { matches: many(64, (i) => ({ path: { value: `/b${i}` } })) }, {}] }),
    ['spec.rules', '(129 matches)']],
  ['rule name pattern', () => ruleError({ name: 'Main', backends: [backend] }), [`${P}.name`, '"Main" must be an RFC 1123 subdomain']],
  ['rule name at most 253 characters', () => ruleError({ name: 'r'.repeat(254), backends: [backend] }), [`${P}.name`, 'must have at most 253 characters']],
  // matches
  ['at most 64 matches per rule', () => ruleError({ matches: many(65, (i) => ({ path: { value: `/m${i}` } })) }), [`${P}.matches`, 'must have at most 64 matches, got 65']],
  ['CEL: path type must be one of Exact, PathPrefix, RegularExpression', () => ruleError({ matches: [{ path: { type: 'Regex' as never, value: '/a' } }] }), [`${M}.path.type`, "type must be one of ['Exact', 'PathPrefix', 'RegularExpression'] (got \"Regex\")"]],
  ['path value at most 1024 characters', () => ruleError({ matches: [{ path: { value: `/${'a'.repeat(1024)}` } }] }), [`${M}.path.value`, 'must have at most 1024 characters, got 1025']],
  ['CEL: an Exact or PathPrefix path must start with /', () => ruleError({ matches: [{ path: { value: 'api' } }] }), [`${M}.path.value`, "value must be an absolute path and start with '/' when type one of ['Exact', 'PathPrefix'] (got \"api\")"]],
  ["CEL: path must not contain '//'", () => ruleError({ matches: [{ path: { value: '/a//b' } }] }), [`${M}.path.value`, "must not contain '//' when type one of ['Exact', 'PathPrefix']"]],
  ["CEL: path must not contain '/./'", () => ruleError({ matches: [exact, { path: { type: 'Exact', value: '/a/./b' } }] }), [`${P}.matches[1].path.value`, "must not contain '/./' when type one of ['Exact', 'PathPrefix']"]],
  ["CEL: path must not contain '/../'", () => ruleError({ matches: [{ path: { value: '/a/../b' } }] }), [`${M}.path.value`, "must not contain '/../' when type one of ['Exact', 'PathPrefix']"]],
  ["CEL: path must not contain '%2f'", () => ruleError({ matches: [{ path: { value: '/a%2fb' } }] }), [`${M}.path.value`, "must not contain '%2f' when type one of ['Exact', 'PathPrefix']"]],
  ["CEL: path must not contain '%2F'", () => ruleError({ matches: [{ path: { value: '/a%2Fb' } }] }), [`${M}.path.value`, "must not contain '%2F' when type one of ['Exact', 'PathPrefix']"]],
  ["CEL: path must not contain '#'", () => ruleError({ matches: [{ path: { value: '/a#b' } }] }), [`${M}.path.value`, "must not contain '#' when type one of ['Exact', 'PathPrefix']"]],
  ["CEL: path must not end with '/..'", () => ruleError({ matches: [{ path: { value: '/a/..' } }] }), [`${M}.path.value`, "must not end with '/..' when type one of ['Exact', 'PathPrefix']"]],
  ["CEL: path must not end with '/.'", () => ruleError({ matches: [{ path: { value: '/a/.' } }] }), [`${M}.path.value`, "must not end with '/.' when type one of ['Exact', 'PathPrefix']"]],
  ['CEL: path must only contain valid characters', () => ruleError({ matches: [{ path: { value: '/a b' } }] }), [`${M}.path.value`, "must only contain valid characters (matching ^(?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|[%][0-9a-fA-F]{2})+$) for types ['Exact', 'PathPrefix'] (got \"/a b\")"]],
  ['at most 16 header matches', () => ruleError({ matches: [{ headers: many(17, (i) => header(`h${i}`)) }] }), [`${M}.headers`, 'must have at most 16 header matches, got 17']],
  ['header match name pattern', () => ruleError({ matches: [{ headers: [header('x header')] }] }), [`${M}.headers[0].name`, '"x header" must be a header name (RFC 7230 token)']],
  ['header match name at most 256 characters', () => ruleError({ matches: [{ headers: [header('h'.repeat(257))] }] }), [`${M}.headers[0].name`, 'must have at most 256 characters']],
  ['header match type enum', () => ruleError({ matches: [{ headers: [{ ...header('h'), type: 'Prefix' as never }] }] }), [`${M}.headers[0].type`, 'Unsupported value: "Prefix": supported values: "Exact", "RegularExpression"']],
  ['header match value must not be empty', () => ruleError({ matches: [{ headers: [header('h', '')] }] }), [`${M}.headers[0].value`, 'must have at least 1 character']],
  ['header match value at most 4096 characters', () => ruleError({ matches: [{ headers: [header('h', 'v'.repeat(4097))] }] }), [`${M}.headers[0].value`, 'must have at most 4096 characters']],
  ['header matches are keyed by name', () => ruleError({ matches: [{ headers: [header('env', 'a'), header('env', 'b')] }] }), [`${M}.headers[1]`, 'Duplicate value: header "env" is also headers[0]']],
  ['at most 16 query parameter matches', () => ruleError({ matches: [{ queryParams: many(17, (i) => header(`q${i}`)) }] }), [`${M}.queryParams`, 'must have at most 16 query parameter matches, got 17']],
  ['query parameter name pattern', () => ruleError({ matches: [{ queryParams: [header('a=b')] }] }), [`${M}.queryParams[0].name`, '"a=b" must be a query parameter name']],
  ['query parameter value at most 1024 characters', () => ruleError({ matches: [{ queryParams: [header('q', 'v'.repeat(1025))] }] }), [`${M}.queryParams[0].value`, 'must have at most 1024 characters']],
  ['query parameter type enum', () => ruleError({ matches: [{ queryParams: [{ ...header('q'), type: 'Prefix' as never }] }] }), [`${M}.queryParams[0].type`, 'Unsupported value: "Prefix"']],
  ['query parameter matches are keyed by name', () => ruleError({ matches: [{ queryParams: [header('q'), header('q')] }] }), [`${M}.queryParams[1]`, 'Duplicate value: query parameter "q" is also queryParams[0]']],
  ['method enum', () => ruleError({ matches: [{ method: 'get' as never }] }), [`${M}.method`, 'Unsupported value: "get": supported values: "GET", "HEAD"']],
  // filters
  ['at most 16 filters', () => ruleError({ filters: many(17, () => ({ type: 'ExtensionRef', extensionRef: { group: 'example.com', kind: 'F', name: 'f' } })) }), [`${P}.filters`, 'must have at most 16 filters, got 17']],
  ['filter type enum', () => filterError({ type: 'Retry' } as never), [`${F}.type`, 'Unsupported value: "Retry": supported values: "RequestHeaderModifier"']],
  ['CEL: RequestRedirect and URLRewrite not both', () => ruleError({ filters: [redirect({ scheme: 'https' }), rewrite({ hostname: 'a.example.com' })] }), [`${P}.filters`, 'May specify either httpRouteFilterRequestRedirect or httpRouteFilterRequestRewrite, but not both']],
  ['CEL: CORS filter cannot be repeated', () => filterError(cors({ allowOrigins: ['*'] }), cors({ allowOrigins: ['*'] })), [`${P}.filters`, 'CORS filter cannot be repeated (filters 0, 1)']],
  ['CEL: RequestHeaderModifier filter cannot be repeated', () => filterError(rhm({ add: [header('a')] }), rhm({ add: [header('b')] })), [`${P}.filters`, 'RequestHeaderModifier filter cannot be repeated']],
  ['CEL: ResponseHeaderModifier filter cannot be repeated', () => filterError(...many(2, () => ({ type: 'ResponseHeaderModifier', responseHeaderModifier: { remove: ['x'] } }) as HttpRouteFilter)), [`${P}.filters`, 'ResponseHeaderModifier filter cannot be repeated']],
  ['CEL: RequestRedirect filter cannot be repeated', () => filterError(redirect({ scheme: 'https' }), redirect({ port: 8443 })), [`${P}.filters`, 'RequestRedirect filter cannot be repeated']],
  ['CEL: URLRewrite filter cannot be repeated', () => filterError(rewrite({ hostname: 'a.example.com' }), rewrite({ hostname: 'b.example.com' })), [`${P}.filters`, 'URLRewrite filter cannot be repeated']],
  // field/type agreement: one test per CEL rule pair
  ...(['cors:CORS', 'requestHeaderModifier:RequestHeaderModifier', 'responseHeaderModifier:ResponseHeaderModifier', 'requestMirror:RequestMirror', 'requestRedirect:RequestRedirect', 'urlRewrite:URLRewrite', 'extensionRef:ExtensionRef'] as const).flatMap(
    (pair): [string, () => string, string[]][] => {
      const [field, type] = pair.split(':') as [string, string];
      const other = type === 'CORS' ? 'ExtensionRef' : 'CORS';
      return [
        [`CEL: filter.${field} must be nil if the filter.type is not ${type}`, () => filterError({ type: other, [field]: {}, [other === 'CORS' ? 'cors' : 'extensionRef']: other === 'CORS' ? {} : { group: '', kind: 'F', name: 'f' } } as never),
          [`${F}.${field}`, `filter.${field} must be nil if the filter.type is not ${type} (type is "${other}")`]],
        [`CEL: filter.${field} must be specified for ${type} filter.type`, () => filterError({ type } as never), [`${F}.${field}`, `filter.${field} must be specified for ${type} filter.type`]],
      ];
    },
  ),
  // header modifiers
  ['at most 16 headers to set', () => filterError(rhm({ set: many(17, (i) => header(`h${i}`)) })), [`${F}.requestHeaderModifier.set`, 'must have at most 16 headers, got 17']],
  ['at most 16 headers to add', () => filterError(rhm({ add: many(17, (i) => header(`h${i}`)) })), [`${F}.requestHeaderModifier.add`, 'must have at most 16 headers, got 17']],
  ['at most 16 headers to remove', () => filterError(rhm({ remove: many(17, (i) => `h${i}`) })), [`${F}.requestHeaderModifier.remove`, 'must have at most 16 header names, got 17']],
  ['header modifier name pattern', () => filterError(rhm({ set: [header('x:y')] })), [`${F}.requestHeaderModifier.set[0].name`, '"x:y" must be an HTTP header name (RFC 7230 token)']],
  ['header modifier name at most 256 characters', () => filterError(rhm({ add: [header('h'.repeat(257))] })), [`${F}.requestHeaderModifier.add[0].name`, 'must have at most 256 characters']],
  ['header modifier value must not be empty', () => filterError(rhm({ set: [header('h', '')] })), [`${F}.requestHeaderModifier.set[0].value`, 'must have at least 1 character']],
  ['header modifier value at most 4096 characters', () => filterError({ type: 'ResponseHeaderModifier', responseHeaderModifier: { add: [header('h', 'v'.repeat(4097))] } }), [`${F}.responseHeaderModifier.add[0].value`, 'must have at most 4096 characters']],
  ['headers to set are keyed by name', () => filterError(rhm({ set: [header('h'), header('h')] })), [`${F}.requestHeaderModifier.set[1]`, 'Duplicate value: header "h" is also set[0]']],
  ['headers to add are keyed by name', () => filterError(rhm({ add: [header('h'), header('h')] })), [`${F}.requestHeaderModifier.add[1]`, 'Duplicate value: header "h" is also add[0]']],
  ['headers to remove are a set', () => filterError(rhm({ remove: ['h', 'h'] })), [`${F}.requestHeaderModifier.remove[1]`, 'Duplicate value: header "h" is also remove[0]']],
  // RequestRedirect
  ['redirect hostname has no wildcard', () => filterError(redirect({ hostname: '*.example.com' })), [`${F}.requestRedirect.hostname`, '"*.example.com" must be a DNS name without wildcard']],
  ['redirect hostname at most 253 characters', () => filterError(redirect({ hostname: `${'a'.repeat(60)}.`.repeat(5) + 'com' })), [`${F}.requestRedirect.hostname`, 'must have at most 253 characters']],
  ['redirect port range', () => filterError(redirect({ port: 0 })), [`${F}.requestRedirect.port`, 'must be between 1 and 65535, got 0']],
  ['redirect scheme enum', () => filterError(redirect({ scheme: 'HTTPS' })), [`${F}.requestRedirect.scheme`, 'Unsupported value: "HTTPS": supported values: "http", "https"']],
  ['redirect statusCode enum', () => filterError(redirect({ statusCode: 300 })), [`${F}.requestRedirect.statusCode`, 'Unsupported value: 300: supported values: 301, 302, 303, 307, 308']],
  ['redirect path type enum', () => filterError(redirect({ path: { type: 'ReplaceAll', replaceFullPath: '/' } })), [`${F}.requestRedirect.path.type`, 'Unsupported value: "ReplaceAll"']],
  ['redirect replaceFullPath at most 1024 characters', () => filterError(redirect({ path: { type: 'ReplaceFullPath', replaceFullPath: `/${'a'.repeat(1024)}` } })), [`${F}.requestRedirect.path.replaceFullPath`, 'must have at most 1024 characters']],
  ['redirect replacePrefixMatch at most 1024 characters', () => ruleError({ matches: [{ path: { value: '/a' } }], filters: [redirect({ path: { type: 'ReplacePrefixMatch', replacePrefixMatch: `/${'a'.repeat(1024)}` } })] }), [`${F}.requestRedirect.path.replacePrefixMatch`, 'must have at most 1024 characters']],
  ["CEL: redirect replaceFullPath must be specified when type is 'ReplaceFullPath'", () => filterError(redirect({ path: { type: 'ReplaceFullPath' } })), [`${F}.requestRedirect.path`, "replaceFullPath must be specified when type is set to 'ReplaceFullPath'"]],
  ["CEL: redirect type must be 'ReplaceFullPath' when replaceFullPath is set", () => ruleError({ matches: [{ path: { value: '/a' } }], filters: [redirect({ path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/b', replaceFullPath: '/c' } })] }), [`${F}.requestRedirect.path`, "type must be 'ReplaceFullPath' when replaceFullPath is set (type is \"ReplacePrefixMatch\")"]],
  ["CEL: redirect replacePrefixMatch must be specified when type is 'ReplacePrefixMatch'", () => filterError(redirect({ path: { type: 'ReplacePrefixMatch' } })), [`${F}.requestRedirect.path`, "replacePrefixMatch must be specified when type is set to 'ReplacePrefixMatch'"]],
  ["CEL: redirect type must be 'ReplacePrefixMatch' when replacePrefixMatch is set", () => filterError(redirect({ path: { type: 'ReplaceFullPath', replaceFullPath: '/a', replacePrefixMatch: '/b' } })), [`${F}.requestRedirect.path`, "type must be 'ReplacePrefixMatch' when replacePrefixMatch is set (type is \"ReplaceFullPath\")"]],
  // URLRewrite
  ['rewrite hostname has no wildcard', () => filterError(rewrite({ hostname: '*.example.com' })), [`${F}.urlRewrite.hostname`, 'must be a DNS name without wildcard']],
  ["CEL: rewrite replaceFullPath must be specified when type is 'ReplaceFullPath'", () => filterError(rewrite({ path: { type: 'ReplaceFullPath' } })), [`${F}.urlRewrite.path`, "replaceFullPath must be specified when type is set to 'ReplaceFullPath'"]],
  ["CEL: rewrite type must be 'ReplaceFullPath' when replaceFullPath is set", () => ruleError({ matches: [{ path: { value: '/a' } }], filters: [rewrite({ path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/b', replaceFullPath: '/c' } })] }), [`${F}.urlRewrite.path`, "type must be 'ReplaceFullPath' when replaceFullPath is set"]],
  ["CEL: rewrite replacePrefixMatch must be specified when type is 'ReplacePrefixMatch'", () => filterError(rewrite({ path: { type: 'ReplacePrefixMatch' } })), [`${F}.urlRewrite.path`, "replacePrefixMatch must be specified when type is set to 'ReplacePrefixMatch'"]],
  ["CEL: rewrite type must be 'ReplacePrefixMatch' when replacePrefixMatch is set", () => filterError(rewrite({ path: { type: 'ReplaceFullPath', replaceFullPath: '/a', replacePrefixMatch: '/b' } })), [`${F}.urlRewrite.path`, "type must be 'ReplacePrefixMatch' when replacePrefixMatch is set"]],
  // RequestMirror
  ['CEL: mirror backend needs a port for a Service', () => filterError(mirror({ backend: { name: 'copy' } })), [`${F}.requestMirror.backendRef`, 'Must have port for Service reference (backend "copy")']],
  ['mirror backend kind pattern', () => filterError(mirror({ backend: { name: 'copy', port: 1, kind: 'Svc!' } })), [`${F}.requestMirror.backendRef.kind`, 'must be a Kind name']],
  ['mirror backend port range', () => filterError(mirror({ backend: { name: 'copy', port: 0 } })), [`${F}.requestMirror.backendRef.port`, 'must be between 1 and 65535, got 0']],
  ['mirror percent at most 100', () => filterError(mirror({ percent: 101 })), [`${F}.requestMirror.percent`, 'must be between 0 and 100, got 101']],
  ['mirror fraction numerator at least 0', () => filterError(mirror({ fraction: { numerator: -1 } })), [`${F}.requestMirror.fraction.numerator`, 'must be between 0 and 2147483647, got -1']],
  ['mirror fraction denominator at least 1', () => filterError(mirror({ fraction: { numerator: 0, denominator: 0 } })), [`${F}.requestMirror.fraction.denominator`, 'must be between 1 and 2147483647, got 0']],
  ['CEL: mirror numerator must be at most the denominator', () => filterError(mirror({ fraction: { numerator: 3, denominator: 2 } })), [`${F}.requestMirror.fraction`, 'numerator must be less than or equal to denominator (3/2)']],
  ['CEL: mirror numerator is compared with the default denominator 100', () => filterError(mirror({ fraction: { numerator: 101 } })), [`${F}.requestMirror.fraction`, 'numerator must be less than or equal to denominator (101/100)']],
  ['CEL: mirror takes percent or fraction, not both', () => filterError(mirror({ percent: 10, fraction: { numerator: 1 } })), [`${F}.requestMirror`, 'Only one of percent or fraction may be specified in HTTPRequestMirrorFilter']],
  // CORS
  ['CORS origin pattern', () => filterError(cors({ allowOrigins: ['example.com'] })), [`${F}.cors.allowOrigins[0]`, '"example.com" must be an origin such as "https://app.example.com"']],
  ['CORS origin at most 253 characters', () => filterError(cors({ allowOrigins: [`https://${'a'.repeat(250)}`] })), [`${F}.cors.allowOrigins[0]`, 'must have at most 253 characters']],
  ['at most 64 CORS origins', () => filterError(cors({ allowOrigins: many(65, (i) => `https://o${i}.example.com`) })), [`${F}.cors.allowOrigins`, 'must have at most 64 allowOrigins entries, got 65']],
  ['CORS origins are a set', () => filterError(cors({ allowOrigins: ['https://a.example.com', 'https://a.example.com'] })), [`${F}.cors.allowOrigins[1]`, 'Duplicate value: entry "https://a.example.com" is also allowOrigins[0]']],
  ["CEL: AllowOrigins cannot contain '*' alongside other origins", () => filterError(cors({ allowOrigins: ['*', 'https://a.example.com'] })), [`${F}.cors.allowOrigins`, "AllowOrigins cannot contain '*' alongside other origins"]],
  ['CORS method enum', () => filterError(cors({ allowMethods: ['FETCH'] })), [`${F}.cors.allowMethods[0]`, 'Unsupported value: "FETCH"']],
  ['at most 9 CORS methods', () => filterError(cors({ allowMethods: ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH', 'GET'] })), [`${F}.cors.allowMethods`, 'must have at most 9 allowMethods entries, got 10']],
  ["CEL: AllowMethods cannot contain '*' alongside other methods", () => filterError(cors({ allowMethods: ['*', 'GET'] })), [`${F}.cors.allowMethods`, "AllowMethods cannot contain '*' alongside other methods"]],
  ['CORS allowHeaders pattern', () => filterError(cors({ allowHeaders: ['x y'] })), [`${F}.cors.allowHeaders[0]`, 'must be an HTTP header name']],
  ['at most 64 CORS allowHeaders', () => filterError(cors({ allowHeaders: many(65, (i) => `h${i}`) })), [`${F}.cors.allowHeaders`, 'must have at most 64 allowHeaders entries, got 65']],
  ["CEL: AllowHeaders cannot contain '*' alongside other headers", () => filterError(cors({ allowHeaders: ['*', 'x-a'] })), [`${F}.cors.allowHeaders`, "AllowHeaders cannot contain '*' alongside other methods"]],
  ['CORS exposeHeaders pattern', () => filterError(cors({ exposeHeaders: ['x,y'] })), [`${F}.cors.exposeHeaders[0]`, 'must be an HTTP header name']],
  ['at most 64 CORS exposeHeaders', () => filterError(cors({ exposeHeaders: many(65, (i) => `h${i}`) })), [`${F}.cors.exposeHeaders`, 'must have at most 64 exposeHeaders entries, got 65']],
  ['CORS allowCredentials is a boolean', () => filterError(cors({ allowCredentials: 'yes' })), [`${F}.cors.allowCredentials`, 'must be a boolean, got "yes"']],
  ['CORS maxAge at least 1', () => filterError(cors({ maxAge: 0 })), [`${F}.cors.maxAge`, 'must be between 1 and 2147483647, got 0']],
  // ExtensionRef
  ['extensionRef group pattern', () => filterError({ type: 'ExtensionRef', extensionRef: { group: 'Example.com', kind: 'F', name: 'f' } }), [`${F}.extensionRef.group`, 'must be empty or an RFC 1123 subdomain']],
  ['extensionRef kind pattern', () => filterError({ type: 'ExtensionRef', extensionRef: { group: '', kind: '1F', name: 'f' } }), [`${F}.extensionRef.kind`, 'must be a Kind name']],
  ['extensionRef name must not be empty', () => filterError({ type: 'ExtensionRef', extensionRef: { group: '', kind: 'F', name: '' } }), [`${F}.extensionRef.name`, 'must have at least 1 character']],
  // backendRefs
  ['at most 16 backendRefs', () => ruleError({ backends: many(17, (i) => ({ name: `s${i}`, port: 1 })) }), [`${P}.backendRefs`, 'must have at most 16 backendRefs, got 17']],
  ['backendRef name must not be empty', () => ruleError({ backends: [{ name: '', port: 1 }] }), [`${P}.backendRefs[0].name`, 'must have at least 1 character']],
  ['backendRef group pattern', () => ruleError({ backends: [{ name: 's', group: 'Multicluster', kind: 'ServiceImport' }] }), [`${P}.backendRefs[0].group`, 'must be empty or an RFC 1123 subdomain']],
  ['backendRef kind pattern', () => ruleError({ backends: [{ name: 's', port: 1, kind: 'Service/v1' }] }), [`${P}.backendRefs[0].kind`, 'must be a Kind name']],
  ['backendRef namespace is an RFC 1123 label', () => ruleError({ backends: [{ name: 's', port: 1, namespace: '-apps' }] }), [`${P}.backendRefs[0].namespace`, 'must be an RFC 1123 label']],
  ['backendRef port at most 65535', () => ruleError({ backends: [{ name: 's', port: 65536 }] }), [`${P}.backendRefs[0].port`, 'must be between 1 and 65535, got 65536']],
  ['backendRef weight at most 1,000,000', () => ruleError({ backends: [{ name: 's', port: 1, weight: 1_000_001 }] }), [`${P}.backendRefs[0].weight`, 'must be between 0 and 1000000, got 1000001']],
  ['CEL: Must have port for Service reference', () => ruleError({ backends: [{ name: 'svc' }] }), [`${P}.backendRefs[0]`, 'Must have port for Service reference (backend "svc")']],
  ['at most 16 filters per backend', () => ruleError({ backends: [{ ...backend, filters: many(17, () => ({ type: 'ExtensionRef', extensionRef: { group: '', kind: 'F', name: 'f' } })) }] }), [`${P}.backendRefs[0].filters`, 'must have at most 16 filters, got 17']],
  ['CEL: per-backend filters cannot repeat RequestHeaderModifier', () => ruleError({ backends: [{ ...backend, filters: [rhm({ add: [header('a')] }), rhm({ add: [header('b')] })] }] }), [`${P}.backendRefs[0].filters`, 'RequestHeaderModifier filter cannot be repeated']],
  ['CEL: per-backend filters take either RequestRedirect or URLRewrite', () => ruleError({ backends: [{ ...backend, filters: [redirect({ scheme: 'https' }), rewrite({ hostname: 'a.example.com' })] }] }), [`${P}.backendRefs[0].filters`, 'May specify either httpRouteFilterRequestRedirect or httpRouteFilterRequestRewrite, but not both']],
  ['CEL: per-backend filter field must match its type', () => ruleError({ backends: [{ ...backend, filters: [{ type: 'URLRewrite', requestHeaderModifier: {} } as never] }] }), [`${P}.backendRefs[0].filters[0].requestHeaderModifier`, 'filter.requestHeaderModifier must be nil if the filter.type is not RequestHeaderModifier']],
  // rule-level CEL
  ['CEL: RequestRedirect filter must not be used together with backendRefs', () => ruleError({ filters: [redirect({ scheme: 'https' })], backends: [backend] }), [P, 'RequestRedirect filter must not be used together with backendRefs']],
  ['CEL: a rule RequestRedirect with replacePrefixMatch needs exactly one PathPrefix match', () => ruleError({ matches: [exact], filters: [prefixRedirect] }),
    [P, "When using RequestRedirect filter with path.replacePrefixMatch, exactly one PathPrefix match must be specified (the rule's match has path type Exact)"]],
  ['CEL: a rule URLRewrite with replacePrefixMatch needs exactly one PathPrefix match', () => ruleError({ matches: [{ path: { value: '/a' } }, { path: { value: '/b' } }], filters: [prefixRewrite], backends: [backend] }),
    [P, 'When using URLRewrite filter with path.replacePrefixMatch, exactly one PathPrefix match must be specified (the rule has 2 matches)']],
  ['CEL: a backend RequestRedirect with replacePrefixMatch needs exactly one PathPrefix match', () => ruleError({ matches: [exact], backends: [{ ...backend, filters: [prefixRedirect] }] }),
    [P, 'Within backendRefs, when using RequestRedirect filter with path.replacePrefixMatch, exactly one PathPrefix match must be specified']],
  ['CEL: a backend URLRewrite with replacePrefixMatch needs exactly one PathPrefix match', () => ruleError({ matches: [{ path: { type: 'RegularExpression', value: '/a.*' } }], backends: [{ ...backend, filters: [prefixRewrite] }] }),
    [P, 'Within backendRefs, When using URLRewrite filter with path.replacePrefixMatch, exactly one PathPrefix match must be specified']],
  // timeouts
  ['request timeout pattern', () => ruleError({ backends: [backend], timeouts: { request: '1.5s' } }), [`${P}.timeouts.request`, '"1.5s" must be a duration such as "10s"']],
  ['backendRequest timeout pattern', () => ruleError({ backends: [backend], timeouts: { backendRequest: '10' } }), [`${P}.timeouts.backendRequest`, '"10" must be a duration']],
  ['timeouts have at most 4 parts', () => ruleError({ backends: [backend], timeouts: { request: '1h1m1s1ms1h' } }), [`${P}.timeouts.request`, 'must be a duration']],
  ['CEL: backendRequest timeout cannot be longer than request timeout', () => ruleError({ backends: [backend], timeouts: { request: '1m', backendRequest: '1m500ms' } }),
    [`${P}.timeouts`, 'backendRequest timeout cannot be longer than request timeout (backendRequest 1m500ms, request 1m)']],
];

for (const [rule, error, expected] of cases) {
  test(`HTTPRoute: ${rule}`, () => assertReports(error(), ...expected));
}

test('HTTPRoute: the ReplacePrefixMatch rules do not fire with exactly one PathPrefix match, or with the default match', () => {
  for (const matches of [[{ path: { type: 'PathPrefix' as const, value: '/api' } }], [{ path: { value: '/api' } }], undefined]) {
    const objects = synth((chart) => new HttpRoute(chart, 'route', { ...base, rules: [{ ...(matches ? { matches } : {}), filters: [prefixRewrite], backends: [{ ...backend, filters: [prefixRewrite] }] }] }));
    assert.equal(objects.length, 1);
  }
});

test('HTTPRoute: a request timeout of 0s (none) allows any backendRequest timeout, and units add up as in Go', () => {
  for (const timeouts of [{ request: '0s', backendRequest: '1h' }, { request: '1m1m', backendRequest: '119s' }, { request: '1s', backendRequest: '999ms' }, { request: '1s', backendRequest: '1000ms' }]) {
    assert.equal(synth((chart) => new HttpRoute(chart, 'route', { ...base, rules: [{ backends: [backend], timeouts }] })).length, 1, JSON.stringify(timeouts));
  }
  assertReports(ruleError({ backends: [backend], timeouts: { request: '1s', backendRequest: '1001ms' } }), 'backendRequest timeout cannot be longer than request timeout');
});

test('HTTPRoute: a RegularExpression path is not held to the Exact/PathPrefix path rules', () => {
  const objects = synth((chart) => new HttpRoute(chart, 'route', { ...base, rules: [{ matches: [{ path: { type: 'RegularExpression', value: '^/a//b#c$' } }], backends: [backend] }] }));
  assert.equal(objects.length, 1);
});

test('HTTPRoute: a backend of another kind needs no port', () => {
  const objects = synth((chart) => new HttpRoute(chart, 'route', { ...base, rules: [{ backends: [{ name: 'imp', group: 'multicluster.x-k8s.io', kind: 'ServiceImport' }] }] }));
  assert.equal(objects.length, 1);
});

const raw = (spec: object): string[] => validateHttpRouteSpec(spec as never).map((i) => `${i.field}: ${i.message}`);

test('HTTPRoute: at least one rule when rules are given (validator on a raw spec)', () => {
  assert.deepStrictEqual(raw({ rules: [] }), ['spec.rules: must have at least 1 rules, got 0']);
});

test('HTTPRoute: an explicitly empty match list is no single PathPrefix match (validator on a raw spec)', () => {
  const issues = raw({ rules: [{ matches: [], filters: [{ type: 'URLRewrite', urlRewrite: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/' } } }] }] });
  assert.deepStrictEqual(issues, ['spec.rules[0]: When using URLRewrite filter with path.replacePrefixMatch, exactly one PathPrefix match must be specified (the rule has 0 matches)']);
});

test('HTTPRoute: required fields (validator on a raw spec)', () => {
  const issues = raw({
    parentRefs: [{}],
    rules: [{
      matches: [{ headers: [{}], queryParams: [{ name: 'q' }] }],
      filters: [
        {},
        { type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ value: 'v' }], add: [{ name: 'h' }] } },
        { type: 'RequestMirror', requestMirror: { fraction: {} } },
        { type: 'URLRewrite', urlRewrite: { path: {} } },
        { type: 'ExtensionRef', extensionRef: {} },
      ],
      backendRefs: [{ port: 1 }],
    }],
  });
  assert.deepStrictEqual(issues.filter((i) => i.endsWith('Required value')), [
    'spec.parentRefs[0].name: Required value',
    'spec.rules[0].matches[0].headers[0].name: Required value',
    'spec.rules[0].matches[0].headers[0].value: Required value',
    'spec.rules[0].matches[0].queryParams[0].value: Required value',
    'spec.rules[0].filters[0].type: Required value',
    'spec.rules[0].filters[1].requestHeaderModifier.set[0].name: Required value',
    'spec.rules[0].filters[1].requestHeaderModifier.add[0].value: Required value',
    'spec.rules[0].filters[2].requestMirror.backendRef: Required value',
    'spec.rules[0].filters[2].requestMirror.fraction.numerator: Required value',
    'spec.rules[0].filters[3].urlRewrite.path.type: Required value',
    'spec.rules[0].filters[4].extensionRef.group: Required value',
    'spec.rules[0].filters[4].extensionRef.kind: Required value',
    'spec.rules[0].filters[4].extensionRef.name: Required value',
    'spec.rules[0].backendRefs[0].name: Required value',
  ]);
});

test('HTTPRoute: every CEL message the CRD defines is one the validators can report', async () => {
  // The CRD is the source of truth: read its messages and find each in the test cases above
  // or in the validators' output for them, so that a rule added upstream cannot go unnoticed.
  const { readFileSync } = await import('node:fs');
  const { parse } = await import('yaml');
  const { fromRoot } = await import('../../helpers/paths.js');
  const crd = parse(readFileSync(fromRoot('crds', 'gateway.networking.k8s.io_httproutes.yaml'), 'utf8')) as { spec: { versions: { name: string; schema: unknown }[] } };
  const messages = new Set<string>();
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node !== null && typeof node === 'object') {
      for (const [key, value] of Object.entries(node)) {
        if (key === 'x-kubernetes-validations') for (const rule of value as { message: string }[]) messages.add(rule.message);
        else walk(value);
      }
    }
  };
  walk(crd.spec.versions.find((v) => v.name === 'v1')!.schema);
  const reported = cases.map(([, error]) => error()).join('\n');
  const missing = [...messages].filter((m) => !reported.includes(m));
  assert.deepStrictEqual(missing, []);
  assert.equal(messages.size, 50, 'the v1.6.1 HTTPRoute CRD has 50 distinct CEL messages');
});
