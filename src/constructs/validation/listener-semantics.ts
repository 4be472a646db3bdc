// Checks on a Gateway's listeners that no CRD rule makes but that decide whether tlsgate
// can serve them (gateway-api-tls-spec.md 2.2, 3.1, 4.4): the API server would accept
// these Gateways, and the listener would then be rejected, conflicted or never match.
import type { GatewaySpecListeners } from '../../../imports/gwapi-gateway.networking.k8s.io.js';
import { isIpAddress } from './hostnames.js';
import { IssueCollector, type ValidationIssue } from './issues.js';
import { GATEWAY_GROUP } from './patterns.js';

const ROUTE_KIND_FOR_PROTOCOL: Readonly<Record<string, string>> = { TLS: 'TLSRoute', HTTPS: 'HTTPRoute', HTTP: 'HTTPRoute' };
const SELECTOR_OPERATORS = ['In', 'NotIn', 'Exists', 'DoesNotExist'];

export function checkListenerSemantics(listeners: readonly GatewaySpecListeners[]): ValidationIssue[] {
  const c = new IssueCollector();
  listeners.forEach((l, i) => {
    const f = `spec.listeners[${i}]`;
    const mode = l.tls ? (l.tls.mode ?? 'Terminate') : undefined;
    const terminates = (l.protocol === 'TLS' || l.protocol === 'HTTPS') && mode === 'Terminate';
    // No CRD rule asks an HTTPS listener for `tls` at all (only TLS listeners must have it).
    if (l.protocol === 'HTTPS' && l.tls === undefined) {
      c.add(`${f}.tls`, `listener "${l.name}" has protocol HTTPS but no certificate, so it cannot terminate TLS`,
        'add certificates: a cdk8s-plus Secret of type kubernetes.io/tls or {name, namespace} of one');
    }
    // With neither certificates nor options the CRD rule already reports it.
    if (terminates && (l.tls?.certificateRefs?.length ?? 0) === 0 && Object.keys(l.tls?.options ?? {}).length > 0) {
      c.add(`${f}.tls.certificateRefs`, `listener "${l.name}" terminates TLS but has no certificate; TLS options alone give no certificate to serve`,
        'add a certificate: a cdk8s-plus Secret of type kubernetes.io/tls or {name, namespace} of one');
    }
    if (l.hostname !== undefined && isIpAddress(l.hostname)) {
      c.add(`${f}.hostname`, `listener "${l.name}" has the IP address "${l.hostname}" as hostname; SNI never carries an IP address, so no connection would ever match`,
        'use a DNS name, or leave hostname out to match every SNI');
    }
    checkRouteKinds(c, l, f);
    checkNamespaceSelector(c, l, f);
  });
  checkPortSharing(c, listeners);
  return c.issues;
}

/** Kinds a listener cannot serve end up as ResolvedRefs=False/InvalidRouteKinds. */
function checkRouteKinds(c: IssueCollector, l: GatewaySpecListeners, f: string): void {
  const valid = ROUTE_KIND_FOR_PROTOCOL[l.protocol];
  if (!valid) return;
  (l.allowedRoutes?.kinds ?? []).forEach((k, i) => {
    const group = k.group ?? GATEWAY_GROUP;
    if (group !== GATEWAY_GROUP || k.kind !== valid) {
      c.add(`${f}.allowedRoutes.kinds[${i}]`, `listener "${l.name}" (protocol ${l.protocol}) cannot take routes of kind ${group}/${k.kind}; it would be rejected with InvalidRouteKinds`,
        `allow only ${GATEWAY_GROUP}/${valid}, or leave kinds out`);
    }
  });
}

function checkNamespaceSelector(c: IssueCollector, l: GatewaySpecListeners, f: string): void {
  const ns = l.allowedRoutes?.namespaces;
  if (ns?.from !== 'Selector') return;
  const g = `${f}.allowedRoutes.namespaces.selector`;
  const selector = ns.selector;
  if (!selector || (Object.keys(selector.matchLabels ?? {}).length === 0 && (selector.matchExpressions ?? []).length === 0)) {
    c.add(g, `listener "${l.name}" admits routes from namespaces matching a selector, but the selector is empty`,
      'give matchLabels or matchExpressions, or use from: All');
    return;
  }
  (selector.matchExpressions ?? []).forEach((e, i) => {
    const h = `${g}.matchExpressions[${i}]`;
    if (!SELECTOR_OPERATORS.includes(e.operator)) {
      c.add(`${h}.operator`, `"${e.operator}" is not a label selector operator`, `use one of ${SELECTOR_OPERATORS.join(', ')}`);
    } else if ((e.operator === 'In' || e.operator === 'NotIn') && (e.values ?? []).length === 0) {
      c.add(`${h}.values`, `operator ${e.operator} needs at least one value`, 'add the label values to match');
    } else if ((e.operator === 'Exists' || e.operator === 'DoesNotExist') && (e.values ?? []).length > 0) {
      c.add(`${h}.values`, `operator ${e.operator} takes no values`, 'remove values');
    }
  });
}

/**
 * One port, one way to read the first bytes. A port that starts with a ClientHello (TLS and
 * HTTPS listeners, chosen by SNI) cannot also take plain HTTP or raw TCP, and TCP next to
 * HTTP, HTTPS or TLS makes the listeners non-distinct (spec 2.2). Passthrough and Terminate TLS
 * listeners (Mixed) and HTTPS listeners share a port freely, as long as the SNI can choose
 * between them: a TLS and an HTTPS listener with the same hostname on one port conflict (two
 * listeners of the same protocol with the same hostname are the CRD's uniqueness rule).
 */
function checkPortSharing(c: IssueCollector, listeners: readonly GatewaySpecListeners[]): void {
  const byPort = new Map<number, number[]>();
  listeners.forEach((l, i) => byPort.set(l.port, [...(byPort.get(l.port) ?? []), i]));
  for (const [port, indexes] of byPort) {
    const protocols = new Set(indexes.map((i) => listeners[i]!.protocol));
    const sniPort = protocols.has('TLS') || protocols.has('HTTPS');
    const conflict = (protocols.has('TCP') && (protocols.has('HTTP') || sniPort)) || (protocols.has('HTTP') && sniPort);
    if (conflict) {
      const names = indexes.map((i) => `"${listeners[i]!.name}" (${listeners[i]!.protocol})`).join(', ');
      c.add(`spec.listeners[${indexes[indexes.length - 1]}].port`, `listeners ${names} share port ${port} with protocols that cannot share it (ProtocolConflict)`,
        protocols.has('HTTP') && sniPort ? 'move the HTTP listener to a port of its own (HTTP and HTTPS/TLS cannot share a socket)' : 'move one of them to another port');
      continue;
    }
    checkSniHostnames(c, listeners, indexes, port);
  }
}

function checkSniHostnames(c: IssueCollector, listeners: readonly GatewaySpecListeners[], indexes: readonly number[], port: number): void {
  const firstByHostname = new Map<string, number>();
  for (const i of indexes) {
    const l = listeners[i]!;
    if (l.protocol !== 'TLS' && l.protocol !== 'HTTPS') continue;
    const hostname = (l.hostname ?? '').toLowerCase();
    const first = firstByHostname.get(hostname);
    if (first === undefined) {
      firstByHostname.set(hostname, i);
      continue;
    }
    const other = listeners[first]!;
    if (other.protocol === l.protocol) continue; // the CRD's uniqueness rule reports it
    c.add(`spec.listeners[${i}].hostname`,
      `listeners "${other.name}" (${other.protocol}) and "${l.name}" (${l.protocol}) share port ${port} and ${hostname === '' ? 'both have no hostname' : `hostname "${hostname}"`}, so the SNI cannot choose between them (HostnameConflict)`,
      'give them different hostnames, or put them on different ports');
  }
}
