// Schema and CEL rules of the v1.6.1 Gateway CRD (v1) for the fields the Gateway construct
// renders (gatewayClassName, listeners, addresses, infrastructure). CRD defaults that CEL
// depends on (tls.mode = Terminate, address type = IPAddress) are applied first, as the
// API server does, so each rule keeps its meaning.
import { isIPv4, isIPv6 } from 'node:net';
import type {
  GatewaySpec,
  GatewaySpecAddresses,
  GatewaySpecInfrastructure,
  GatewaySpecListeners,
} from '../../../imports/gwapi-gateway.networking.k8s.io.js';
import { IssueCollector, type ValidationIssue } from './issues.js';
import { ADDRESS_TYPE, DNS_SUBDOMAIN, GROUP, HOSTNAME, KIND, LABEL_KEY, LABEL_VALUE, NAMESPACE, PROTOCOL } from './patterns.js';

export const MSG_TLS_NOT_ALLOWED = "tls must not be specified for protocols ['HTTP', 'TCP', 'UDP']";
export const MSG_HTTPS_MODE = 'tls mode must be Terminate for protocol HTTPS';
export const MSG_TLS_MODE_REQUIRED = 'tls mode must be set for protocol TLS';
export const MSG_HOSTNAME_NOT_ALLOWED = "hostname must not be specified for protocols ['TCP', 'UDP']";
export const MSG_LISTENER_NAME_UNIQUE = 'Listener name must be unique within the Gateway';
export const MSG_LISTENER_UNIQUE = 'Combination of port, protocol and hostname must be unique for each listener';
export const MSG_TERMINATE_NEEDS_CERTS = 'certificateRefs or options must be specified when mode is Terminate';
export const MSG_IP_UNIQUE = 'IPAddress values must be unique';
export const MSG_HOSTNAME_ADDRESS_UNIQUE = 'Hostname values must be unique';
export const MSG_HOSTNAME_ADDRESS =
  'Hostname value must be empty or contain only valid characters (matching ^(\\*\\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$)';
export const MSG_LABEL_KEY = 'Label keys must be in the form of an optional DNS subdomain prefix followed by a required name segment of up to 63 characters.';
export const MSG_LABEL_KEY_PREFIX = "If specified, the label key's prefix must be a DNS subdomain not longer than 253 characters in total.";
export const MSG_ANNOTATION_KEY =
  'Annotation keys must be in the form of an optional DNS subdomain prefix followed by a required name segment of up to 63 characters.';
export const MSG_ANNOTATION_KEY_PREFIX = "If specified, the annotation key's prefix must be a DNS subdomain not longer than 253 characters in total.";

const TLS_MODES = ['Terminate', 'Passthrough'] as const;
const ROUTE_NAMESPACES_FROM = ['All', 'Selector', 'Same'] as const;
const LISTENER_NAMESPACES_FROM = ['All', 'Selector', 'Same', 'None'] as const;

export function validateGatewaySpec(spec: GatewaySpec): ValidationIssue[] {
  const c = new IssueCollector();
  if (c.required('spec.gatewayClassName', spec.gatewayClassName, 'set gatewayClass to a GatewayClass construct or its name')) {
    c.string('spec.gatewayClassName', spec.gatewayClassName, { minLength: 1, maxLength: 253 });
  }
  if (c.required('spec.listeners', spec.listeners, 'add at least one listener')) {
    validateListenerList(c, spec.listeners);
  }
  const allowedListeners = spec.allowedListeners?.namespaces;
  if (allowedListeners) {
    c.allowedValue('spec.allowedListeners.namespaces.from', allowedListeners.from, LISTENER_NAMESPACES_FROM);
    (allowedListeners.selector?.matchExpressions ?? []).forEach((expr, i) => {
      const g = `spec.allowedListeners.namespaces.selector.matchExpressions[${i}]`;
      c.required(`${g}.key`, expr.key, 'set the label key');
      c.required(`${g}.operator`, expr.operator, 'set operator: In, NotIn, Exists or DoesNotExist');
    });
  }
  if (spec.addresses) validateAddresses(c, spec.addresses);
  if (spec.infrastructure) validateInfrastructure(c, spec.infrastructure);
  return c.issues;
}

function validateListenerFields(c: IssueCollector, l: GatewaySpecListeners, f: string): void {
  if (c.required(`${f}.name`, l.name, 'give the listener a name (routes refer to it as sectionName)')) {
    c.string(`${f}.name`, l.name, { minLength: 1, maxLength: 253, pattern: DNS_SUBDOMAIN, patternName: 'an RFC 1123 subdomain' });
  }
  c.string(`${f}.hostname`, l.hostname, { minLength: 1, maxLength: 253, pattern: HOSTNAME, patternName: 'a DNS name with an optional "*." first label' });
  if (c.required(`${f}.port`, l.port, 'set the port the listener accepts connections on')) c.integer(`${f}.port`, l.port, 1, 65535);
  if (c.required(`${f}.protocol`, l.protocol, 'set protocol, e.g. "TLS"')) {
    c.string(`${f}.protocol`, l.protocol, { minLength: 1, maxLength: 255, pattern: PROTOCOL, patternName: 'a protocol name or a domain-prefixed protocol' });
  }
  const tls = l.tls;
  if (tls) {
    c.allowedValue(`${f}.tls.mode`, tls.mode, TLS_MODES);
    c.count(`${f}.tls.certificateRefs`, tls.certificateRefs, 0, 64, 'certificateRefs');
    (tls.certificateRefs ?? []).forEach((ref, i) => {
      const g = `${f}.tls.certificateRefs[${i}]`;
      c.string(`${g}.group`, ref.group, { maxLength: 253, pattern: GROUP, patternName: 'empty or an RFC 1123 subdomain' });
      c.string(`${g}.kind`, ref.kind, { minLength: 1, maxLength: 63, pattern: KIND, patternName: 'a Kind name' });
      if (c.required(`${g}.name`, ref.name, 'set the name of the certificate Secret')) c.string(`${g}.name`, ref.name, { minLength: 1, maxLength: 253 });
      c.string(`${g}.namespace`, ref.namespace, { minLength: 1, maxLength: 63, pattern: NAMESPACE, patternName: 'an RFC 1123 label' });
    });
    c.properties(`${f}.tls.options`, tls.options, 16, 'options');
    for (const [key, value] of Object.entries(tls.options ?? {})) {
      c.string(`${f}.tls.options["${key}"]`, value, { minLength: 0, maxLength: 4096 });
    }
    const mode = tls.mode ?? 'Terminate'; // CRD default, applied before CEL runs
    const certCount = tls.certificateRefs?.length ?? 0;
    const optionCount = Object.keys(tls.options ?? {}).length;
    if (mode === 'Terminate' && certCount === 0 && optionCount === 0) {
      c.add(`${f}.tls`, `${MSG_TERMINATE_NEEDS_CERTS} (listener "${l.name}")`, 'add a certificate (a cdk8s-plus Secret or {name, namespace}) or use mode Passthrough');
    }
  }
  const routes = l.allowedRoutes;
  if (routes) {
    c.count(`${f}.allowedRoutes.kinds`, routes.kinds, 0, 8, 'kinds');
    (routes.kinds ?? []).forEach((kind, i) => {
      const g = `${f}.allowedRoutes.kinds[${i}]`;
      c.string(`${g}.group`, kind.group, { maxLength: 253, pattern: GROUP, patternName: 'empty or an RFC 1123 subdomain' });
      if (c.required(`${g}.kind`, kind.kind, 'set kind, e.g. "TLSRoute"')) {
        c.string(`${g}.kind`, kind.kind, { minLength: 1, maxLength: 63, pattern: KIND, patternName: 'a Kind name' });
      }
    });
    c.allowedValue(`${f}.allowedRoutes.namespaces.from`, routes.namespaces?.from, ROUTE_NAMESPACES_FROM);
    (routes.namespaces?.selector?.matchExpressions ?? []).forEach((expr, i) => {
      const g = `${f}.allowedRoutes.namespaces.selector.matchExpressions[${i}]`;
      c.required(`${g}.key`, expr.key, 'set the label key');
      c.required(`${g}.operator`, expr.operator, 'set operator: In, NotIn, Exists or DoesNotExist');
    });
  }
}

/** The CEL rules on `spec.listeners` (all-listener rules), in the CRD's order. */
function validateListenerListRules(c: IssueCollector, listeners: readonly GatewaySpecListeners[]): void {
  listeners.forEach((l, i) => {
    const f = `spec.listeners[${i}]`;
    if (['HTTP', 'TCP', 'UDP'].includes(l.protocol) && l.tls !== undefined) {
      c.add(`${f}.tls`, `${MSG_TLS_NOT_ALLOWED} (listener "${l.name}" has protocol ${l.protocol})`, 'remove mode, certificates and TLS options from this listener, or use protocol TLS or HTTPS');
    }
    if (l.protocol === 'HTTPS' && l.tls !== undefined && !((l.tls.mode ?? 'Terminate') === 'Terminate')) {
      c.add(`${f}.tls.mode`, `${MSG_HTTPS_MODE} (listener "${l.name}")`, 'use mode Terminate, or protocol TLS for Passthrough');
    }
    // After defaulting, a present `tls` without mode has mode Terminate: only a missing `tls`
    // (or an explicit empty mode) breaks this rule.
    if (l.protocol === 'TLS' && (l.tls === undefined || (l.tls.mode as string | undefined) === '')) {
      c.add(`${f}.tls.mode`, `${MSG_TLS_MODE_REQUIRED} (listener "${l.name}")`, "set mode: 'Passthrough' or 'Terminate'");
    }
    if (['TCP', 'UDP'].includes(l.protocol) && l.hostname !== undefined && l.hostname !== '') {
      c.add(`${f}.hostname`, `${MSG_HOSTNAME_NOT_ALLOWED} (listener "${l.name}")`, 'remove the hostname from this listener');
    }
  });
  reportDuplicates(c, listeners, (l) => l.name, (l, first) =>
    [`${MSG_LISTENER_NAME_UNIQUE} (name "${l.name}" is also listener ${first})`, 'rename one of the listeners']);
  reportDuplicates(c, listeners, (l) => `${l.port}\u0000${l.protocol}\u0000${l.hostname === undefined ? '\u0001' : l.hostname}`, (l, first) => [
    `${MSG_LISTENER_UNIQUE} (listener "${l.name}" repeats port ${l.port}, protocol ${l.protocol} and ${l.hostname === undefined ? 'no hostname' : `hostname "${l.hostname}"`} of listener ${first})`,
    'give one of the listeners another port or hostname, or merge them',
  ]);
}

function reportDuplicates(
  c: IssueCollector,
  listeners: readonly GatewaySpecListeners[],
  key: (l: GatewaySpecListeners) => string,
  describe: (l: GatewaySpecListeners, firstIndex: number) => [string, string],
): void {
  const first = new Map<string, number>();
  listeners.forEach((l, i) => {
    const k = key(l);
    const seen = first.get(k);
    if (seen === undefined) first.set(k, i);
    else {
      const [message, fix] = describe(l, seen);
      c.add(`spec.listeners[${i}]`, message, fix);
    }
  });
}

/**
 * The schema and CEL rules of `spec.listeners` shared by Gateway and ListenerSet (the v1.6.1
 * ListenerSet CRD repeats the Gateway's listener rules and messages word for word).
 */
export function validateListenerList(c: IssueCollector, listeners: readonly GatewaySpecListeners[]): void {
  c.count('spec.listeners', listeners, 1, 64, 'listeners');
  listeners.forEach((listener, i) => validateListenerFields(c, listener, `spec.listeners[${i}]`));
  validateListenerListRules(c, listeners);
}

function validateAddresses(c: IssueCollector, addresses: readonly GatewaySpecAddresses[]): void {
  c.count('spec.addresses', addresses, 0, 16, 'addresses');
  addresses.forEach((a, i) => {
    const f = `spec.addresses[${i}]`;
    const type = a.type ?? 'IPAddress';
    c.string(`${f}.type`, a.type, { minLength: 1, maxLength: 253, pattern: ADDRESS_TYPE, patternName: 'IPAddress, Hostname, NamedAddress or a domain-prefixed type' });
    c.string(`${f}.value`, a.value, { maxLength: 253 });
    if (type === 'IPAddress' && a.value !== undefined && !isIPv4(a.value) && !isIPv6(a.value)) {
      c.add(`${f}.value`, `"${a.value}" must be an IPv4 or IPv6 address for type IPAddress`, 'give an IP address, or use type Hostname');
    }
    if (type === 'Hostname' && a.value !== undefined && !HOSTNAME.test(a.value)) {
      c.add(`${f}.value`, MSG_HOSTNAME_ADDRESS, 'give a DNS name such as "gw.example.com"');
    }
  });
  for (const [type, message] of [['IPAddress', MSG_IP_UNIQUE], ['Hostname', MSG_HOSTNAME_ADDRESS_UNIQUE]] as const) {
    const seen = new Set<string>();
    addresses.forEach((a, i) => {
      if ((a.type ?? 'IPAddress') !== type || a.value === undefined) return;
      if (seen.has(a.value)) c.add(`spec.addresses[${i}]`, `${message} ("${a.value}")`, 'remove the duplicate address');
      seen.add(a.value);
    });
  }
}

function validateInfrastructure(c: IssueCollector, infra: GatewaySpecInfrastructure): void {
  const f = 'spec.infrastructure';
  c.properties(`${f}.labels`, infra.labels, 8, 'labels');
  for (const [key, value] of Object.entries(infra.labels ?? {})) {
    if (!LABEL_KEY.test(key)) c.add(`${f}.labels`, `${MSG_LABEL_KEY} (key "${key}")`, 'use a key like "example.com/team" or "team"');
    if (key.split('/')[0]!.length >= 253) c.add(`${f}.labels`, `${MSG_LABEL_KEY_PREFIX} (key "${key}")`, 'shorten the key prefix');
    c.string(`${f}.labels["${key}"]`, value, { minLength: 0, maxLength: 63, pattern: LABEL_VALUE, patternName: 'a label value' });
  }
  c.properties(`${f}.annotations`, infra.annotations, 16, 'annotations');
  for (const [key, value] of Object.entries(infra.annotations ?? {})) {
    if (!LABEL_KEY.test(key)) c.add(`${f}.annotations`, `${MSG_ANNOTATION_KEY} (key "${key}")`, 'use a key like "example.com/owner"');
    if (key.split('/')[0]!.length >= 253) c.add(`${f}.annotations`, `${MSG_ANNOTATION_KEY_PREFIX} (key "${key}")`, 'shorten the key prefix');
    c.string(`${f}.annotations["${key}"]`, value, { minLength: 0, maxLength: 4096 });
  }
  const ref = infra.parametersRef;
  if (ref) {
    const g = `${f}.parametersRef`;
    if (c.required(`${g}.group`, ref.group, 'set the group of the parameters resource')) {
      c.string(`${g}.group`, ref.group, { maxLength: 253, pattern: GROUP, patternName: 'empty or an RFC 1123 subdomain' });
    }
    if (c.required(`${g}.kind`, ref.kind, 'set the kind of the parameters resource')) {
      c.string(`${g}.kind`, ref.kind, { minLength: 1, maxLength: 63, pattern: KIND, patternName: 'a Kind name' });
    }
    if (c.required(`${g}.name`, ref.name, 'set the name of the parameters resource')) c.string(`${g}.name`, ref.name, { minLength: 1, maxLength: 253 });
  }
}
