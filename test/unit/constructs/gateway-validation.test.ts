// One test per Gateway CRD rule (schema and CEL) for the fields the construct renders, and
// per listener check tlsgate adds. Each asserts the construct path, the field, the message.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as kplus from 'cdk8s-plus-28';
import { Gateway, type GatewayListenerOptions, type GatewayProps, validateGatewaySpec } from '../../../src/constructs/index.js';
import { synth, synthError } from './helpers.js';

const pass: GatewayListenerOptions = { name: 'tls', port: 443, mode: 'Passthrough' };
const term: GatewayListenerOptions = { name: 'term', port: 8443, mode: 'Terminate', certificates: [{ name: 'cert' }] };
const https: GatewayListenerOptions = { name: 'https', port: 443, protocol: 'HTTPS', certificates: [{ name: 'cert' }] };

function gatewayError(props: Partial<GatewayProps>): string {
  return synthError((chart) => new Gateway(chart, 'gw', { gatewayClass: 'cls', listeners: [pass], ...props }));
}

function listenerError(...listeners: GatewayListenerOptions[]): string {
  return gatewayError({ listeners });
}

function assertReports(error: string, ...parts: string[]): void {
  for (const part of ['[test/gw]', ...parts, 'Fix:']) assert.ok(error.includes(part), `expected ${JSON.stringify(part)} in:\n${error}`);
}

const many = <T>(n: number, make: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => make(i));

test('a valid Gateway synthesizes with protocol TLS by default and no extra fields', () => {
  const [obj] = synth((chart) => new Gateway(chart, 'gw', { metadata: { name: 'gw' }, gatewayClass: 'cls', listeners: [pass] }));
  assert.deepStrictEqual(obj, {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'Gateway',
    metadata: { name: 'gw' },
    spec: { gatewayClassName: 'cls', listeners: [{ name: 'tls', port: 443, protocol: 'TLS', tls: { mode: 'Passthrough' } }] },
  });
});

test('a listener with certificates but no mode gets the CRD default mode Terminate', () => {
  const [obj] = synth((chart) => new Gateway(chart, 'gw', { gatewayClass: 'cls', listeners: [{ name: 'a', port: 443, certificates: [{ name: 'c' }] }] }));
  assert.deepStrictEqual((obj!.spec as { listeners: { tls: unknown }[] }).listeners[0]!.tls, { mode: 'Terminate', certificateRefs: [{ name: 'c' }] });
});

const crdCases: [string, () => string, string[]][] = [
  ['gatewayClassName must not be empty', () => gatewayError({ gatewayClass: '' }), ['spec.gatewayClassName', 'must have at least 1 character']],
  ['gatewayClassName at most 253 characters', () => gatewayError({ gatewayClass: 'c'.repeat(254) }), ['spec.gatewayClassName', 'must have at most 253 characters']],
  ['at least one listener', () => gatewayError({ listeners: [] }), ['spec.listeners', 'must have at least 1 listeners, got 0']],
  ['at most 64 listeners', () => gatewayError({ listeners: many(65, (i) => ({ ...pass, name: `l${i}`, port: 1000 + i })) }), ['spec.listeners', 'must have at most 64 listeners, got 65']],
  ['listener name is an RFC 1123 subdomain', () => listenerError({ ...pass, name: 'TLS' }), ['spec.listeners[0].name', '"TLS" must be an RFC 1123 subdomain']],
  ['listener name at most 253 characters', () => listenerError({ ...pass, name: 'a'.repeat(254) }), ['spec.listeners[0].name', 'must have at most 253 characters']],
  ['listener hostname pattern (wildcard only first)', () => listenerError({ ...pass, hostname: 'foo.*.example.com' }), ['spec.listeners[0].hostname', '"foo.*.example.com" must be a DNS name with an optional "*." first label']],
  ['listener hostname at most 253 characters', () => listenerError({ ...pass, hostname: `${'a'.repeat(60)}.`.repeat(5) + 'com' }), ['spec.listeners[0].hostname', 'must have at most 253 characters']],
  ['listener port at least 1', () => listenerError({ ...pass, port: 0 }), ['spec.listeners[0].port', 'must be between 1 and 65535, got 0']],
  ['listener port at most 65535', () => listenerError({ ...pass, port: 65536 }), ['spec.listeners[0].port', 'must be between 1 and 65535, got 65536']],
  ['listener port is an integer', () => listenerError({ ...pass, port: 443.5 }), ['spec.listeners[0].port', 'must be an integer']],
  ['protocol pattern', () => listenerError({ ...pass, protocol: 'TL S' }), ['spec.listeners[0].protocol', '"TL S" must be a protocol name or a domain-prefixed protocol']],
  ['protocol at most 255 characters', () => listenerError({ ...pass, protocol: 'P'.repeat(256) }), ['spec.listeners[0].protocol', 'must have at most 255 characters']],
  ['tls.mode is Terminate or Passthrough', () => listenerError({ ...pass, mode: 'Mixed' as never }), ['spec.listeners[0].tls.mode', 'Unsupported value: "Mixed": supported values: "Terminate", "Passthrough"']],
  ['at most 64 certificateRefs', () => listenerError({ ...term, certificates: many(65, (i) => ({ name: `c${i}` })) }), ['spec.listeners[0].tls.certificateRefs', 'must have at most 64 certificateRefs, got 65']],
  ['certificateRef name must not be empty', () => listenerError({ ...term, certificates: [{ name: '' }] }), ['spec.listeners[0].tls.certificateRefs[0].name', 'must have at least 1 character']],
  ['certificateRef group pattern', () => listenerError({ ...term, certificates: [{ name: 'c', group: 'Core' }] }), ['spec.listeners[0].tls.certificateRefs[0].group', 'must be empty or an RFC 1123 subdomain']],
  ['certificateRef kind pattern', () => listenerError({ ...term, certificates: [{ name: 'c', kind: 'Secret!' }] }), ['spec.listeners[0].tls.certificateRefs[0].kind', 'must be a Kind name']],
  ['certificateRef namespace pattern', () => listenerError({ ...term, certificates: [{ name: 'c', namespace: 'certs.prod' }] }), ['spec.listeners[0].tls.certificateRefs[0].namespace', 'must be an RFC 1123 label']],
  ['at most 16 tls options', () => listenerError({ ...term, tlsOptions: Object.fromEntries(many(17, (i) => [`example.com/o${i}`, 'v'])) }), ['spec.listeners[0].tls.options', 'must have at most 16 options, got 17']],
  ['tls option values at most 4096 characters', () => listenerError({ ...term, tlsOptions: { 'example.com/o': 'v'.repeat(4097) } }), ['spec.listeners[0].tls.options["example.com/o"]', 'must have at most 4096 characters']],
  ['CEL: certificateRefs or options must be specified when mode is Terminate', () => listenerError({ name: 't', port: 443, mode: 'Terminate' }), ['spec.listeners[0].tls', 'certificateRefs or options must be specified when mode is Terminate (listener "t")']],
  ['at most 8 allowedRoutes kinds', () => listenerError({ ...pass, allowedRoutes: { kinds: many(9, () => ({ kind: 'TLSRoute' })) } }), ['spec.listeners[0].allowedRoutes.kinds', 'must have at most 8 kinds, got 9']],
  ['allowedRoutes kind pattern', () => listenerError({ ...pass, allowedRoutes: { kinds: [{ kind: 'TLS Route' }] } }), ['spec.listeners[0].allowedRoutes.kinds[0].kind', 'must be a Kind name']],
  ['allowedRoutes kind group pattern', () => listenerError({ ...pass, allowedRoutes: { kinds: [{ group: 'Gateway', kind: 'TLSRoute' }] } }), ['spec.listeners[0].allowedRoutes.kinds[0].group', 'must be empty or an RFC 1123 subdomain']],
  ['allowedRoutes namespaces.from enum', () => listenerError({ ...pass, allowedRoutes: { namespaces: { from: 'None' } as never } }), ['spec.listeners[0].allowedRoutes.namespaces.from', 'Unsupported value: "None": supported values: "All", "Selector", "Same"']],
  ["CEL: tls must not be specified for protocols ['HTTP', 'TCP', 'UDP']", () => listenerError({ name: 'h', port: 80, protocol: 'HTTP', mode: 'Passthrough' }), ['spec.listeners[0].tls', "tls must not be specified for protocols ['HTTP', 'TCP', 'UDP'] (listener \"h\" has protocol HTTP)"]],
  ['CEL: tls mode must be Terminate for protocol HTTPS', () => listenerError({ name: 's', port: 443, protocol: 'HTTPS', mode: 'Passthrough' }), ['spec.listeners[0].tls.mode', 'tls mode must be Terminate for protocol HTTPS (listener "s")']],
  ['CEL: tls mode must be set for protocol TLS', () => listenerError({ name: 'tls', port: 443 }), ['spec.listeners[0].tls.mode', 'tls mode must be set for protocol TLS (listener "tls")']],
  ["CEL: hostname must not be specified for protocols ['TCP', 'UDP']", () => listenerError({ name: 'u', port: 53, protocol: 'UDP', hostname: 'dns.example.com' }), ['spec.listeners[0].hostname', "hostname must not be specified for protocols ['TCP', 'UDP'] (listener \"u\")"]],
  ['CEL: Listener name must be unique within the Gateway', () => listenerError(pass, { ...pass, port: 444 }), ['spec.listeners[1]', 'Listener name must be unique within the Gateway (name "tls" is also listener 0)']],
  ['CEL: Combination of port, protocol and hostname must be unique', () => listenerError(pass, { ...pass, name: 'other' }), ['spec.listeners[1]', 'Combination of port, protocol and hostname must be unique for each listener', 'no hostname']],
  ['at most 16 addresses', () => gatewayError({ addresses: many(17, (i) => ({ value: `10.0.0.${i}` })) }), ['spec.addresses', 'must have at most 16 addresses, got 17']],
  ['IPAddress values must be IP addresses', () => gatewayError({ addresses: [{ value: 'gw.example.com' }] }), ['spec.addresses[0].value', '"gw.example.com" must be an IPv4 or IPv6 address for type IPAddress']],
  ['CEL: Hostname address value must be valid', () => gatewayError({ addresses: [{ type: 'Hostname', value: 'GW.example.com' }] }), ['spec.addresses[0].value', 'Hostname value must be empty or contain only valid characters']],
  ['address type pattern', () => gatewayError({ addresses: [{ type: 'hostname!' }] }), ['spec.addresses[0].type', 'must be IPAddress, Hostname, NamedAddress or a domain-prefixed type']],
  ['address value at most 253 characters', () => gatewayError({ addresses: [{ type: 'NamedAddress', value: 'a'.repeat(254) }] }), ['spec.addresses[0].value', 'must have at most 253 characters']],
  ['CEL: IPAddress values must be unique', () => gatewayError({ addresses: [{ value: '10.0.0.1' }, { type: 'IPAddress', value: '10.0.0.1' }] }), ['spec.addresses[1]', 'IPAddress values must be unique ("10.0.0.1")']],
  ['CEL: Hostname values must be unique', () => gatewayError({ addresses: [{ type: 'Hostname', value: 'a.example.com' }, { type: 'Hostname', value: 'a.example.com' }] }), ['spec.addresses[1]', 'Hostname values must be unique ("a.example.com")']],
  ['at most 8 infrastructure labels', () => gatewayError({ infrastructure: { labels: Object.fromEntries(many(9, (i) => [`l${i}`, 'v'])) } }), ['spec.infrastructure.labels', 'must have at most 8 labels, got 9']],
  ['CEL: label keys', () => gatewayError({ infrastructure: { labels: { '-team': 'a' } } }), ['spec.infrastructure.labels', 'Label keys must be in the form of an optional DNS subdomain prefix followed by a required name segment of up to 63 characters. (key "-team")']],
  ['CEL: label key prefix shorter than 253', () => gatewayError({ infrastructure: { labels: { [`${'a'.repeat(60)}.`.repeat(5) + 'com/team']: 'a' } } }), ['spec.infrastructure.labels', "If specified, the label key's prefix must be a DNS subdomain not longer than 253 characters in total."]],
  ['label values pattern', () => gatewayError({ infrastructure: { labels: { team: 'a b' } } }), ['spec.infrastructure.labels["team"]', 'must be a label value']],
  ['label values at most 63 characters', () => gatewayError({ infrastructure: { labels: { team: 'a'.repeat(64) } } }), ['spec.infrastructure.labels["team"]', 'must have at most 63 characters']],
  ['at most 16 infrastructure annotations', () => gatewayError({ infrastructure: { annotations: Object.fromEntries(many(17, (i) => [`a${i}`, 'v'])) } }), ['spec.infrastructure.annotations', 'must have at most 16 annotations, got 17']],
  ['CEL: annotation keys', () => gatewayError({ infrastructure: { annotations: { 'example.com/': 'v' } } }), ['spec.infrastructure.annotations', 'Annotation keys must be in the form of an optional DNS subdomain prefix']],
  ['CEL: annotation key prefix shorter than 253', () => gatewayError({ infrastructure: { annotations: { [`${'a'.repeat(60)}.`.repeat(5) + 'com/x']: 'v' } } }), ['spec.infrastructure.annotations', "If specified, the annotation key's prefix must be a DNS subdomain not longer than 253 characters in total."]],
  ['annotation values at most 4096 characters', () => gatewayError({ infrastructure: { annotations: { note: 'v'.repeat(4097) } } }), ['spec.infrastructure.annotations["note"]', 'must have at most 4096 characters']],
  ['infrastructure parametersRef kind pattern', () => gatewayError({ infrastructure: { parametersRef: { group: 'example.com', kind: '1P', name: 'p' } } }), ['spec.infrastructure.parametersRef.kind', 'must be a Kind name']],
  ['infrastructure parametersRef name must not be empty', () => gatewayError({ infrastructure: { parametersRef: { group: 'example.com', kind: 'P', name: '' } } }), ['spec.infrastructure.parametersRef.name', 'must have at least 1 character']],
];

for (const [rule, error, expected] of crdCases) {
  test(`Gateway: ${rule}`, () => assertReports(error(), ...expected));
}

test('Gateway: gatewayClassName and listeners are required (validator on a raw spec)', () => {
  assert.deepStrictEqual(validateGatewaySpec({} as never).map((i) => `${i.field}: ${i.message}`), ['spec.gatewayClassName: Required value', 'spec.listeners: Required value']);
});

test('Gateway: listener name, port, protocol and selector expression key/operator are required (validator on a raw spec)', () => {
  const spec = { gatewayClassName: 'c', listeners: [{ allowedRoutes: { namespaces: { from: 'Selector', selector: { matchExpressions: [{}] } } } }] };
  const fields = validateGatewaySpec(spec as never).filter((i) => i.message === 'Required value').map((i) => i.field);
  assert.deepStrictEqual(fields, [
    'spec.listeners[0].name',
    'spec.listeners[0].port',
    'spec.listeners[0].protocol',
    'spec.listeners[0].allowedRoutes.namespaces.selector.matchExpressions[0].key',
    'spec.listeners[0].allowedRoutes.namespaces.selector.matchExpressions[0].operator',
  ]);
});

test('Gateway: parametersRef group, kind and name are required (validator on a raw spec)', () => {
  const spec = { gatewayClassName: 'c', listeners: [{ name: 'a', port: 1, protocol: 'TLS', tls: { mode: 'Passthrough' } }], infrastructure: { parametersRef: {} } };
  assert.deepStrictEqual(validateGatewaySpec(spec as never).map((i) => i.field), ['spec.infrastructure.parametersRef.group', 'spec.infrastructure.parametersRef.kind', 'spec.infrastructure.parametersRef.name']);
});

test('Gateway: CEL defaulting — tls without mode on a TLS listener counts as mode Terminate (as on the apiserver)', () => {
  const withCert = { gatewayClassName: 'c', listeners: [{ name: 't', port: 443, protocol: 'TLS', tls: { certificateRefs: [{ name: 'c' }] } }] };
  assert.deepStrictEqual(validateGatewaySpec(withCert as never), []);
  const empty = { gatewayClassName: 'c', listeners: [{ name: 't', port: 443, protocol: 'TLS', tls: {} }] };
  assert.deepStrictEqual(validateGatewaySpec(empty as never).map((i) => i.message), ['certificateRefs or options must be specified when mode is Terminate (listener "t")']);
});

test('Gateway: CEL defaulting — tls without mode on HTTPS is Terminate and needs certificates', () => {
  const spec = { gatewayClassName: 'c', listeners: [{ name: 's', port: 443, protocol: 'HTTPS', tls: {} }] };
  assert.deepStrictEqual(validateGatewaySpec(spec as never).map((i) => i.message), ['certificateRefs or options must be specified when mode is Terminate (listener "s")']);
});

const semanticCases: [string, () => string, string[]][] = [
  ['a Terminate listener needs a certificate, TLS options are not one', () => listenerError({ name: 't', port: 443, mode: 'Terminate', tlsOptions: { 'example.com/x': 'y' } }), ['spec.listeners[0].tls.certificateRefs', 'listener "t" terminates TLS but has no certificate']],
  ['a listener hostname must not be an IP address', () => listenerError({ ...pass, hostname: '192.0.2.1' }), ['spec.listeners[0].hostname', 'has the IP address "192.0.2.1" as hostname; SNI never carries an IP address']],
  ['a TLS listener takes only TLSRoutes', () => listenerError({ ...pass, allowedRoutes: { kinds: [{ kind: 'TCPRoute' }] } }), ['spec.listeners[0].allowedRoutes.kinds[0]', 'cannot take routes of kind gateway.networking.k8s.io/TCPRoute; it would be rejected with InvalidRouteKinds']],
  ['a Selector needs labels or expressions', () => listenerError({ ...pass, allowedRoutes: { namespaces: { from: 'Selector', selector: {} } } }), ['spec.listeners[0].allowedRoutes.namespaces.selector', 'the selector is empty']],
  ['selector operators are In, NotIn, Exists, DoesNotExist', () => listenerError({ ...pass, allowedRoutes: { namespaces: { from: 'Selector', selector: { matchExpressions: [{ key: 'k', operator: 'Equals', values: ['v'] }] } } } }), ['matchExpressions[0].operator', '"Equals" is not a label selector operator']],
  ['In needs values', () => listenerError({ ...pass, allowedRoutes: { namespaces: { from: 'Selector', selector: { matchExpressions: [{ key: 'k', operator: 'In' }] } } } }), ['matchExpressions[0].values', 'operator In needs at least one value']],
  ['Exists takes no values', () => listenerError({ ...pass, allowedRoutes: { namespaces: { from: 'Selector', selector: { matchExpressions: [{ key: 'k', operator: 'Exists', values: ['v'] }] } } } }), ['matchExpressions[0].values', 'operator Exists takes no values']],
  ['TCP cannot share a port with TLS', () => listenerError(pass, { name: 'tcp', port: 443, protocol: 'TCP' }), ['spec.listeners[1].port', 'listeners "tls" (TLS), "tcp" (TCP) share port 443 with protocols that cannot share it (ProtocolConflict)']],
  ['HTTP cannot share a port with TLS', () => listenerError(pass, { name: 'web', port: 443, protocol: 'HTTP' }), ['spec.listeners[1].port', 'listeners "tls" (TLS), "web" (HTTP) share port 443 with protocols that cannot share it (ProtocolConflict)', 'move the HTTP listener to a port of its own']],
  ['HTTP cannot share a port with HTTPS', () => listenerError(https, { name: 'web', port: 443, protocol: 'HTTP', hostname: 'www.example.com' }), ['spec.listeners[1].port', 'listeners "https" (HTTPS), "web" (HTTP) share port 443 with protocols that cannot share it (ProtocolConflict)']],
  ['TCP cannot share a port with HTTPS', () => listenerError(https, { name: 'tcp', port: 443, protocol: 'TCP' }), ['spec.listeners[1].port', 'listeners "https" (HTTPS), "tcp" (TCP) share port 443']],
  ['a TLS and an HTTPS listener on one port need different hostnames', () => listenerError({ ...pass, hostname: 'app.example.com' }, { ...https, hostname: 'APP.example.com' }),
    ['spec.listeners[1].hostname', 'listeners "tls" (TLS) and "https" (HTTPS) share port 443 and hostname "app.example.com", so the SNI cannot choose between them (HostnameConflict)']],
  ['a TLS and an HTTPS listener without hostnames on one port conflict', () => listenerError(pass, https), ['spec.listeners[1].hostname', 'share port 443 and both have no hostname']],
  ['an HTTPS listener needs a certificate', () => listenerError({ name: 'https', port: 443, protocol: 'HTTPS' }), ['spec.listeners[0].tls', 'listener "https" has protocol HTTPS but no certificate, so it cannot terminate TLS', 'add certificates']],
  ['an HTTPS listener needs a certificate, TLS options are not one', () => listenerError({ name: 'https', port: 443, protocol: 'HTTPS', tlsOptions: { 'example.com/x': 'y' } }), ['spec.listeners[0].tls.certificateRefs', 'listener "https" terminates TLS but has no certificate']],
  ['an HTTP listener takes only HTTPRoutes', () => listenerError({ name: 'web', port: 80, protocol: 'HTTP', allowedRoutes: { kinds: [{ kind: 'TLSRoute' }] } }), ['spec.listeners[0].allowedRoutes.kinds[0]', 'listener "web" (protocol HTTP) cannot take routes of kind gateway.networking.k8s.io/TLSRoute', 'allow only gateway.networking.k8s.io/HTTPRoute']],
  ['a certificate in another namespace needs a Gateway namespace for its grant', () => synthError((chart) => {
    const secret = new kplus.Secret(chart, 'cert', { metadata: { name: 'cert', namespace: 'certs' } });
    new Gateway(chart, 'gw', { gatewayClass: 'cls', listeners: [{ ...term, certificates: [secret] }] });
  }), ['spec.listeners[0].tls.certificateRefs[0]', 'the certificate Secret "certs/cert" is in another namespace, but this Gateway has no namespace']],
];

for (const [rule, error, expected] of semanticCases) {
  test(`Gateway (semantic): ${rule}`, () => assertReports(error(), ...expected));
}

test('Gateway: HTTP and HTTPS listeners render as written: HTTPS without a mode unless one is given, HTTP without tls', () => {
  const [obj] = synth((chart) => new Gateway(chart, 'gw', {
    gatewayClass: 'cls',
    listeners: [
      { name: 'http', port: 80, protocol: 'HTTP', hostname: '*.example.com' },
      { name: 'https', port: 443, protocol: 'HTTPS', certificates: [{ name: 'cert', kind: 'Secret' }] },
      { name: 'https-explicit', port: 8443, protocol: 'HTTPS', mode: 'Terminate', certificates: [{ name: 'cert' }] },
    ],
  }));
  assert.deepStrictEqual((obj!.spec as { listeners: unknown[] }).listeners, [
    { name: 'http', port: 80, protocol: 'HTTP', hostname: '*.example.com' },
    { name: 'https', port: 443, protocol: 'HTTPS', tls: { certificateRefs: [{ name: 'cert', kind: 'Secret' }] } },
    { name: 'https-explicit', port: 8443, protocol: 'HTTPS', tls: { mode: 'Terminate', certificateRefs: [{ name: 'cert' }] } },
  ]);
});

test('Gateway: an HTTP listener given a certificate breaks the CRD rule on tls', () => {
  const error = listenerError({ name: 'web', port: 80, protocol: 'HTTP', certificates: [{ name: 'cert' }] });
  assertReports(error, 'spec.listeners[0].tls', "tls must not be specified for protocols ['HTTP', 'TCP', 'UDP'] (listener \"web\" has protocol HTTP)");
});

test('Gateway: HTTPS and TLS listeners with different hostnames share a port, beside a Mixed pair', () => {
  const objects = synth((chart) => new Gateway(chart, 'gw', {
    gatewayClass: 'cls',
    listeners: [
      { ...pass, hostname: 'db.example.com' },
      { ...term, port: 443, hostname: 'mq.example.com' },
      { ...https, hostname: '*.example.com' },
      { ...https, name: 'https-any' },
    ],
  }));
  assert.equal(objects.length, 1);
});

test('Gateway: HTTP listeners share a port when their hostnames differ', () => {
  const objects = synth((chart) => new Gateway(chart, 'gw', {
    gatewayClass: 'cls',
    listeners: [{ name: 'a', port: 80, protocol: 'HTTP', hostname: 'a.example.com' }, { name: 'b', port: 80, protocol: 'HTTP' }],
  }));
  assert.equal(objects.length, 1);
  assertReports(listenerError({ name: 'a', port: 80, protocol: 'HTTP' }, { name: 'b', port: 80, protocol: 'HTTP' }), 'spec.listeners[1]', 'Combination of port, protocol and hostname must be unique for each listener');
});

test('Gateway: Passthrough and Terminate TLS listeners may share a port (Mixed)', () => {
  const objects = synth((chart) => new Gateway(chart, 'gw', { gatewayClass: 'cls', listeners: [pass, { ...term, port: 443, hostname: 'secure.example.com' }] }));
  assert.equal(objects.length, 1);
});
