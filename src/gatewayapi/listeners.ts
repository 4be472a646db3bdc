/**
 * Step A of attachment (spec 3.1): evaluate every listener of one Gateway on its own and
 * against its neighbours on the same port. The result says whether the listener is
 * Accepted, which route kinds it supports, what is wrong with its references, and which
 * certificates it serves. Route attachment (attachment.ts) only reads these results.
 */
import type { CertificateConfig } from '../proxy-config.js';
import type { EvaluatedListener, Problem } from './model.js';
import { parseCertificateSecret, describeRelative, validityError } from './certificates.js';
import { isValidHostname, normalizeHostname } from './hostnames.js';
import { protocolSupport, TLS_MODE_MIXED_SUPPORTED, TLS_MODE_TERMINATE_SUPPORTED } from './protocols.js';
import { objects } from './safe.js';
import { key, namespaceOf, type SnapshotIndex } from './snapshot-index.js';
import { GATEWAY_API_GROUP, type Gateway, type Listener, type RouteGroupKind } from './types.js';

/**
 * Listeners on a port the data plane cannot bind: Accepted=False/PortUnavailable (spec 4.4)
 * unless they are already not Accepted for a reason of their own, and never in the proxy config.
 */
export function markUnavailablePorts(listeners: EvaluatedListener[], unavailable: ReadonlyMap<number, string>): void {
  for (const l of listeners) {
    const reason = unavailable.get(l.port);
    if (reason === undefined) continue;
    l.portUnavailable = reason;
    if (l.notAccepted) continue;
    l.notAccepted = { reason: 'PortUnavailable', message: `Listener ${l.name}: port ${l.port} is unavailable: ${reason}` };
    l.supportedKinds = [];
  }
}

export function canTakeRoutes(listener: EvaluatedListener): boolean {
  return !listener.notAccepted && listener.supportedKinds.length > 0 && protocolSupport(listener.protocol)?.served === true;
}

export function supportsKind(listener: EvaluatedListener, group: string, kind: string): boolean {
  return listener.supportedKinds.some((k) => (k.group ?? GATEWAY_API_GROUP) === group && k.kind === kind);
}

function tlsModeOf(listener: Listener): string {
  // Upstream default is Terminate; CEL requires it to be explicit for TLS.
  const mode = listener.tls?.mode;
  return typeof mode === 'string' ? mode : 'Terminate';
}

/** Listeners terminating TLS with certificateRefs: TLS/Terminate and HTTPS. */
function needsCertificates(listener: Listener): boolean {
  if (listener.protocol === 'HTTPS') return tlsModeOf(listener) === 'Terminate';
  // A TLS listener without `tls` is rejected for its missing mode, not for certificates.
  return listener.protocol === 'TLS' && listener.tls !== undefined && tlsModeOf(listener) === 'Terminate';
}

function evaluateKinds(listener: Listener, out: EvaluatedListener): void {
  const support = protocolSupport(listener.protocol);
  const valid = support?.routeKinds ?? [];
  const requested = objects(listener.allowedRoutes?.kinds);
  if (requested.length === 0) {
    out.supportedKinds = valid.map((k) => ({ group: k.group, kind: k.kind }));
    return;
  }
  const supported: RouteGroupKind[] = [];
  const invalid: string[] = [];
  for (const kind of requested) {
    const group = kind.group ?? GATEWAY_API_GROUP;
    const ok = valid.some((v) => v.group === group && v.kind === kind.kind);
    if (ok) {
      if (!supported.some((s) => s.group === group && s.kind === kind.kind)) supported.push({ group, kind: kind.kind });
    } else {
      invalid.push(group ? `${group}/${kind.kind}` : kind.kind);
    }
  }
  out.supportedKinds = supported;
  if (invalid.length > 0) {
    out.refProblems.push({
      reason: 'InvalidRouteKinds',
      message: `Listener ${listener.name}: allowedRoutes.kinds ${invalid.join(', ')} not supported on protocol ${listener.protocol}`,
    });
  }
}

function evaluateCertificates(owner: ListenerOwner, listener: Listener, out: EvaluatedListener, index: SnapshotIndex, now: Date): void {
  const ownerNamespace = owner.namespace;
  const refs = objects(listener.tls?.certificateRefs);
  if (refs.length === 0) {
    out.refProblems.push({
      reason: 'InvalidCertificateRef',
      message:
        listener.tls === undefined
          ? `Listener ${listener.name}: tls is not set; protocol HTTPS needs tls.certificateRefs`
          : `Listener ${listener.name}: tls.certificateRefs is empty; ${listener.protocol === 'HTTPS' ? 'protocol HTTPS' : 'mode Terminate'} needs a certificate`,
    });
    out.unusable = 'no certificate';
    return;
  }
  const notPermitted: string[] = [];
  const invalid: string[] = [];
  const certificates: CertificateConfig[] = [];
  for (const [i, ref] of refs.entries()) {
    const namespace = ref.namespace || ownerNamespace;
    const group = ref.group ?? '';
    const kind = ref.kind ?? 'Secret';
    const field = `tls.certificateRefs[${i}]`;
    // Grant first, so that existence never leaks across namespaces (spec 3.1 step 5).
    // A ListenerSet's references need grants to the ListenerSet: the Gateway's are not inherited (GEP-1713).
    const permitted = index.grants.permits(
      { group: GATEWAY_API_GROUP, kind: owner.kind, namespace: ownerNamespace },
      { group, kind, namespace, name: ref.name },
    );
    if (!permitted) {
      notPermitted.push(`${field} ${namespace}/${ref.name} is in another namespace and no ReferenceGrant allows it`);
      continue;
    }
    if (group !== '' || kind !== 'Secret') {
      invalid.push(`${field} ${group ? group + '/' : ''}${kind} ${ref.name} is not a core Secret`);
      continue;
    }
    const secret = index.secrets.get(key(namespace, ref.name));
    if (!secret) {
      // The operator watches only Secrets of type kubernetes.io/tls (and its own): another type is
      // not seen there, so the message names both causes.
      invalid.push(`${field} Secret ${namespace}/${ref.name} does not exist or is not of type kubernetes.io/tls`);
      continue;
    }
    const parsed = parseCertificateSecret(secret);
    if (!parsed.ok) {
      invalid.push(`${field} ${parsed.error}`);
      continue;
    }
    const label = `${namespace}/${ref.name}`;
    const expired = validityError(parsed, label, now);
    if (expired) {
      invalid.push(`${field} ${expired}`);
      continue;
    }
    out.certificateNotes.push(
      `certificate ${label} expires ${parsed.notAfter.toISOString()} (${describeRelative(parsed.notAfter, now)})`,
    );
    const c = parsed.certificate;
    // Keys in sorted order (canonical-json.ts).
    certificates.push({
      certificatePem: c.certificatePem,
      dnsNames: c.dnsNames,
      keyType: c.keyType,
      notAfter: c.notAfter,
      privateKeyPem: c.privateKeyPem,
      secret: { name: ref.name, namespace },
    });
  }
  if (notPermitted.length > 0) {
    out.refProblems.push({ reason: 'RefNotPermitted', message: `Listener ${listener.name}: ${notPermitted.join('; ')}` });
  }
  if (invalid.length > 0) {
    out.refProblems.push({ reason: 'InvalidCertificateRef', message: `Listener ${listener.name}: ${invalid.join('; ')}` });
  }
  if (notPermitted.length > 0 || invalid.length > 0) {
    out.unusable = notPermitted.length > 0 ? 'certificate reference not permitted' : 'invalid certificate';
  } else {
    out.certificates = certificates;
  }
}

/**
 * Conflicts between listeners sharing a port (spec 2.2 distinctness, 3.1 step 3). Protocols
 * may share a port only when their connections start alike (protocols.ts `portSharing`): TLS
 * with HTTPS (chosen by SNI), HTTP with HTTP (chosen by Host). On a shared port, equal
 * hostnames conflict whatever the protocol, since SNI cannot tell an HTTPS listener from a
 * TLS listener with the same hostname.
 */
function markConflicts(listeners: EvaluatedListener[]): void {
  const byPort = new Map<number, EvaluatedListener[]>();
  for (const l of listeners) {
    const transport = protocolSupport(l.protocol)?.transport;
    if (transport !== 'tcp') continue; // unknown protocols and UDP do not take part
    const list = byPort.get(l.port);
    if (list) list.push(l);
    else byPort.set(l.port, [l]);
  }
  for (const [port, group] of byPort) {
    const sharing = new Set(group.map((l) => protocolSupport(l.protocol)!.portSharing));
    if (sharing.size > 1) {
      const names = [...new Set(group.map((l) => l.protocol))].sort().join(', ');
      for (const l of group) {
        l.conflict = {
          reason: 'ProtocolConflict',
          message: `Port ${port} is shared by protocols ${names}, which cannot share a port (only TLS and HTTPS can: both start with a ClientHello)`,
        };
      }
      continue;
    }
    const modes = new Set(group.filter((l) => l.protocol === 'TLS').map((l) => tlsModeOf(l.spec)));
    if (modes.size > 1 && !TLS_MODE_MIXED_SUPPORTED) {
      for (const l of group) {
        l.conflict = { reason: 'ProtocolConflict', message: `Port ${port} mixes TLS modes Passthrough and Terminate, which is not supported` };
      }
      continue;
    }
    const byHostname = new Map<string, EvaluatedListener[]>();
    for (const l of group) {
      const h = l.hostname ?? '';
      const list = byHostname.get(h);
      if (list) list.push(l);
      else byHostname.set(h, [l]);
    }
    for (const [hostname, same] of byHostname) {
      if (same.length < 2) continue;
      const names = same.map((l) => l.name).join(', ');
      const protocolSet = [...new Set(same.map((l) => l.protocol))].sort();
      const protocols = `${protocolSet.length > 1 ? 'protocols' : 'protocol'} ${protocolSet.join(' and ')}`;
      for (const l of same) {
        l.conflict = {
          reason: 'HostnameConflict',
          message: `Listeners ${names} share port ${port}, ${protocols} and hostname "${hostname || '(none)'}"`,
        };
      }
    }
  }
}

/** The object whose listeners are evaluated: certificates resolve from its namespace, grants name its kind. */
export interface ListenerOwner {
  kind: 'Gateway' | 'ListenerSet';
  namespace: string;
}

/**
 * Whether `listener` conflicts with listeners that take precedence over it (a ListenerSet's
 * listener against its Gateway's and older ListenerSets' listeners, GEP-1713): by the rules of
 * markConflicts, but only the newcomer loses. Undefined when it may join them.
 */
export function conflictWithListeners(listener: EvaluatedListener, earlier: readonly EvaluatedListener[], describeEarlier: (l: EvaluatedListener) => string): Problem | undefined {
  const sharing = protocolSupport(listener.protocol);
  if (sharing?.transport !== 'tcp') return undefined;
  const samePort = earlier.filter((l) => l.port === listener.port && protocolSupport(l.protocol)?.transport === 'tcp');
  const otherProtocol = samePort.find((l) => protocolSupport(l.protocol)!.portSharing !== sharing.portSharing);
  if (otherProtocol) {
    return {
      reason: 'ProtocolConflict',
      message: `Listener ${listener.name}: port ${listener.port} is already used with protocol ${otherProtocol.protocol} by ${describeEarlier(otherProtocol)}, which takes precedence; protocol ${listener.protocol} cannot share it`,
    };
  }
  if (listener.protocol === 'TLS' && !TLS_MODE_MIXED_SUPPORTED) {
    const mode = tlsModeOf(listener.spec);
    const otherMode = samePort.find((l) => l.protocol === 'TLS' && tlsModeOf(l.spec) !== mode);
    if (otherMode) {
      return { reason: 'ProtocolConflict', message: `Listener ${listener.name}: port ${listener.port} mixes TLS modes with ${describeEarlier(otherMode)}, which is not supported` };
    }
  }
  const sameHostname = samePort.find((l) => (l.hostname ?? '') === (listener.hostname ?? ''));
  if (sameHostname) {
    return {
      reason: 'HostnameConflict',
      message: `Listener ${listener.name}: port ${listener.port} and hostname "${listener.hostname ?? '(none)'}" are already used by ${describeEarlier(sameHostname)}, which takes precedence`,
    };
  }
  return undefined;
}

export function evaluateListeners(gateway: Gateway, index: SnapshotIndex, now: Date): EvaluatedListener[] {
  return evaluateListenerEntries({ kind: 'Gateway', namespace: namespaceOf(gateway) }, gateway.spec?.listeners, index, now);
}

/**
 * A Gateway's or a ListenerSet's listeners, each on its own and against its neighbours in the
 * same object. `conflictWithEarlier` (ListenerSets) checks each listener against listeners that
 * take precedence first: one that loses there is Accepted=False with that conflict, whatever
 * else is wrong with it, and takes no part in its own object's conflicts (GEP-1713 merges all
 * listeners in precedence order, so it never joins the list its siblings are checked against).
 */
export function evaluateListenerEntries(
  owner: ListenerOwner,
  specs: readonly Listener[] | undefined,
  index: SnapshotIndex,
  now: Date,
  conflictWithEarlier?: (listener: EvaluatedListener) => Problem | undefined,
): EvaluatedListener[] {
  const seen = new Set<string>();
  const listeners: EvaluatedListener[] = [];
  for (const spec of objects(specs)) {
    // Names are unique, non-empty strings by CEL; a listener without one cannot even have a
    // status (it is keyed by name), and if a duplicate slipped through, the first wins.
    if (typeof spec.name !== 'string' || spec.name === '' || seen.has(spec.name)) continue;
    seen.add(spec.name);
    listeners.push({
      spec,
      name: spec.name,
      port: spec.port,
      protocol: spec.protocol,
      hostname: typeof spec.hostname === 'string' && spec.hostname !== '' ? normalizeHostname(spec.hostname) : null,
      supportedKinds: [],
      refProblems: [],
      certificates: [],
      certificateNotes: [],
      attachedRoutes: 0,
    });
  }
  const losers = new Set<EvaluatedListener>();
  if (conflictWithEarlier) {
    for (const l of listeners) {
      const problem = conflictWithEarlier(l);
      if (problem) {
        l.conflict = problem;
        losers.add(l);
      }
    }
  }
  markConflicts(losers.size > 0 ? listeners.filter((l) => !losers.has(l)) : listeners);

  for (const l of listeners) {
    const support = protocolSupport(l.protocol);
    evaluateKinds(l.spec, l);
    // References are checked for every known protocol, served or not, so that status shows
    // every problem at once; certificates only where TLS is terminated.
    if (support && needsCertificates(l.spec)) evaluateCertificates(owner, l.spec, l, index, now);

    if (!(Number.isInteger(l.port) && l.port >= 1 && l.port <= 65535)) {
      l.notAccepted = { reason: 'UnsupportedValue', message: `Listener ${l.name}: port ${JSON.stringify(l.spec.port)} is not a port 1..65535` };
    } else if (support && support.served && l.hostname !== null && !isValidHostname(l.hostname)) {
      // A name that slipped past CEL must not reach the proxy config (the proxy refuses it whole).
      l.notAccepted = { reason: 'UnsupportedValue', message: `Listener ${l.name}: hostname ${JSON.stringify(l.spec.hostname)} is not a valid hostname` };
    } else if (!support || !support.served) {
      l.notAccepted = { reason: 'UnsupportedProtocol', message: `Listener ${l.name}: protocol ${l.protocol} is not supported by tlsgate` };
    } else if (l.conflict) {
      l.notAccepted = l.conflict;
    } else if (l.protocol === 'HTTP') {
      // CEL forbids tls here; a listener that slipped past it says so instead of being guessed at.
      if (l.spec.tls !== undefined) l.notAccepted = { reason: 'UnsupportedValue', message: `Listener ${l.name}: tls must not be specified for protocol HTTP` };
    } else if (l.protocol === 'HTTPS') {
      const mode = tlsModeOf(l.spec);
      if (mode === 'Terminate') l.mode = 'Terminate';
      else l.notAccepted = { reason: 'UnsupportedValue', message: `Listener ${l.name}: tls.mode must be Terminate for protocol HTTPS, not ${mode}` };
    } else if (l.protocol === 'TLS') {
      const mode = tlsModeOf(l.spec);
      if (!l.spec.tls) {
        l.notAccepted = { reason: 'UnsupportedValue', message: `Listener ${l.name}: tls.mode must be set for protocol TLS` };
      } else if (mode === 'Passthrough') {
        l.mode = 'Passthrough';
      } else if (mode === 'Terminate' && TLS_MODE_TERMINATE_SUPPORTED) {
        l.mode = 'Terminate';
      } else {
        l.notAccepted = { reason: 'UnsupportedValue', message: `Listener ${l.name}: tls.mode ${mode} is not supported` };
      }
    }
    if (losers.has(l)) l.notAccepted = l.conflict;
    if (l.notAccepted) l.supportedKinds = [];
  }
  return listeners;
}
