/**
 * translate: the pure heart of tlsgate. One snapshot of Kubernetes objects in, the status
 * every object should have and one proxy config per Gateway out. No I/O, no clock (the
 * caller passes `now`), deterministic ordering everywhere, so that equal inputs give
 * byte-identical outputs and proxy config versions can be content hashes.
 */
import type { ProxyConfig, ProxySettings } from '../proxy-config.js';
import { attachParentRef, type AttachContext } from './attachment.js';
import { resolveBackends, type ResolvedBackends } from './backends.js';
import { ConditionSet, generationOf } from './conditions.js';
import { evaluateListeners, markUnavailablePorts, type EvaluatedListener, type Problem } from './listeners.js';
import { SUPPORTED_FEATURES } from './protocols.js';
import { objects, strings } from './safe.js';
import { buildProxyConfig, type AttachedRoute } from './proxy-configs.js';
import { key, namespaceOf, SnapshotIndex } from './snapshot-index.js';
import {
  GATEWAY_API_GROUP,
  GATEWAY_PARAMETERS_KIND,
  TLSGATE_GROUP,
  type Condition,
  type ListenerStatus,
  type ParentReference,
} from './types.js';
import type {
  EndpointSlice,
  Gateway,
  GatewayClass,
  HTTPRoute,
  GatewayClassStatus,
  GatewayParameters,
  GatewayStatus,
  Namespace,
  ReferenceGrant,
  RouteParentStatus,
  Secret,
  Service,
  TLSRoute,
} from './types.js';

export const CONTROLLER_NAME = 'tlsgate.dev/gateway-controller';

/** Plain Kubernetes objects as read from the API or from YAML. */
export interface Snapshot {
  gatewayClasses: GatewayClass[];
  gateways: Gateway[];
  tlsRoutes: TLSRoute[];
  httpRoutes: HTTPRoute[];
  referenceGrants: ReferenceGrant[];
  services: Service[];
  endpointSlices: EndpointSlice[];
  secrets: Secret[];
  namespaces: Namespace[];
  gatewayParameters?: GatewayParameters[];
}

/** What the caller knows about a Gateway's data plane. */
export interface GatewayRuntime {
  addresses: { type: 'IPAddress' | 'Hostname'; value: string }[];
  /** Proxy-config version a ready proxy has ACKed. */
  acknowledgedVersion?: string;
  /** e.g. a proxy NACK error, shown in Programmed=False. */
  message?: string;
}

export interface TranslateInput {
  snapshot: Snapshot;
  now: Date;
  controllerName?: string;
  /** Keyed by "namespace/name" of the Gateway. */
  runtime?: Record<string, GatewayRuntime>;
  /**
   * Ports the data plane cannot bind, per Gateway ("namespace/name"): port → why, e.g.
   * "cannot listen on 0.0.0.0:443: EACCES" or "it is the proxy's admin port". Listeners on
   * them get Accepted=False/PortUnavailable and are left out of the proxy config, so that the
   * rest of the Gateway is served. When that leaves no listener, the Gateway is not Accepted but
   * keeps a proxy config with no ports (its proxies stay to try the ports again). Kept apart from
   * `runtime` because it changes the proxy config.
   */
  unavailablePorts?: Record<string, Record<number, string>>;
}

export interface TranslateOutput {
  /** Ours only, sorted by name. */
  gatewayClasses: { name: string; status: GatewayClassStatus }[];
  /** Gateways of our classes, sorted by namespace/name. */
  gateways: { namespace: string; name: string; status: GatewayStatus }[];
  /**
   * Every route with at least one of our parent entries (or one that must be removed);
   * parents = other controllers' entries untouched + ours. Sorted by namespace/name.
   */
  tlsRoutes: { namespace: string; name: string; status: { parents: RouteParentStatus[] } }[];
  /** HTTPRoutes, as for `tlsRoutes`. */
  httpRoutes: { namespace: string; name: string; status: { parents: RouteParentStatus[] } }[];
  /**
   * One per Gateway we serve, sorted by namespace/name: every Accepted Gateway, and one that is
   * not Accepted only because all its listeners are on unavailable ports (a config with no ports).
   */
  proxyConfigs: ProxyConfig[];
}


interface ClassState {
  name: string;
  problem?: Problem;
  settings: ProxySettings | undefined;
}

interface GatewayState {
  gateway: Gateway;
  namespace: string;
  name: string;
  listeners: EvaluatedListener[];
  /** Accepted=False problem of the Gateway as a whole. */
  problem?: Problem;
  /**
   * Not Accepted only because every listener's port is unavailable (a data-plane condition the
   * user did not write): it still gets a proxy config, so that its proxies keep running and the
   * ports are tried again on them.
   */
  onlyPortsUnavailable: boolean;
  settings: ProxySettings | undefined;
  attached: Map<EvaluatedListener, Map<string, AttachedRoute>>;
}

/** Sorted, so settings objects come out with sorted keys (canonical-json.ts). */
const PROXY_SETTING_KEYS = [
  'clientHelloTimeoutMs',
  'connectTimeoutMs',
  'idleTimeoutMs',
  'maxClientHelloBytes',
  'maxConnectionsPerListener',
] as const;

/** The numeric proxy settings of a GatewayParameters object (spec.proxy), ignoring anything else. */
function settingsOf(params: GatewayParameters | undefined): ProxySettings | undefined {
  const proxy = params?.spec?.proxy;
  if (!proxy) return undefined;
  const settings: ProxySettings = {};
  for (const k of PROXY_SETTING_KEYS) {
    const v = proxy[k];
    if (typeof v === 'number' && Number.isFinite(v) && v > 0) settings[k] = v;
  }
  return Object.keys(settings).length > 0 ? settings : undefined;
}

function mergeSettings(a: ProxySettings | undefined, b: ProxySettings | undefined): ProxySettings | undefined {
  if (!a) return b;
  if (!b) return a;
  // Rebuilt in a fixed key order so that the config hash never depends on merge order.
  const merged: ProxySettings = {};
  for (const k of PROXY_SETTING_KEYS) {
    const v = b[k] ?? a[k];
    if (v !== undefined) merged[k] = v;
  }
  return merged;
}

/**
 * The snapshot without entries that cannot be Kubernetes objects (no metadata.name): the
 * API server never returns such objects, but translate must not crash on a caller's bad
 * input. Everything else, however malformed, is handled where it is read.
 */
function wellFormed(snapshot: Snapshot): Snapshot {
  const keep = <T extends { metadata: { name: string } }>(items: readonly T[] | undefined): T[] =>
    Array.isArray(items)
      ? items.filter((o) => typeof o === 'object' && o !== null && typeof o.metadata === 'object' && o.metadata !== null && typeof o.metadata.name === 'string')
      : [];
  return {
    gatewayClasses: keep(snapshot.gatewayClasses),
    gateways: keep(snapshot.gateways),
    tlsRoutes: keep(snapshot.tlsRoutes),
    httpRoutes: keep(snapshot.httpRoutes),
    referenceGrants: keep(snapshot.referenceGrants),
    services: keep(snapshot.services),
    endpointSlices: keep(snapshot.endpointSlices),
    secrets: keep(snapshot.secrets),
    namespaces: keep(snapshot.namespaces),
    gatewayParameters: keep(snapshot.gatewayParameters),
  };
}

/** Objects sorted by `namespace/name`, with each key computed once (10,000 routes). */
function sortByNamespacedName<T extends { metadata: { namespace?: string; name: string } }>(items: readonly T[]): T[] {
  return items
    .map((item) => ({ item, k: key(namespaceOf(item), item.metadata.name) }))
    .sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0))
    .map((entry) => entry.item);
}

function evaluateClass(gc: GatewayClass, index: SnapshotIndex): ClassState {
  const ref = gc.spec?.parametersRef;
  if (!ref) return { name: gc.metadata.name, settings: undefined };
  const label = `spec.parametersRef ${ref.group}/${ref.kind} ${ref.namespace ? ref.namespace + '/' : ''}${ref.name}`;
  if (ref.group !== TLSGATE_GROUP || ref.kind !== GATEWAY_PARAMETERS_KIND) {
    return {
      name: gc.metadata.name,
      settings: undefined,
      problem: { reason: 'InvalidParameters', message: `${label}: only ${TLSGATE_GROUP}/${GATEWAY_PARAMETERS_KIND} is supported` },
    };
  }
  if (!ref.namespace) {
    return {
      name: gc.metadata.name,
      settings: undefined,
      problem: { reason: 'InvalidParameters', message: `${label}: namespace is required (${GATEWAY_PARAMETERS_KIND} is namespaced)` },
    };
  }
  const params = index.gatewayParameters.get(key(ref.namespace, ref.name));
  if (!params) {
    return { name: gc.metadata.name, settings: undefined, problem: { reason: 'InvalidParameters', message: `${label} does not exist` } };
  }
  return { name: gc.metadata.name, settings: settingsOf(params) };
}

/** The caller's unavailable ports of one Gateway, ignoring entries that cannot be ports. */
function unavailablePortsOf(input: TranslateInput['unavailablePorts'], gatewayKey: string): Map<number, string> {
  const ports = new Map<number, string>();
  const entry = input?.[gatewayKey];
  if (typeof entry !== 'object' || entry === null) return ports;
  for (const [port, reason] of Object.entries(entry)) {
    const number = Number(port);
    if (Number.isInteger(number) && number >= 1 && number <= 65535 && typeof reason === 'string') ports.set(number, reason);
  }
  return ports;
}

function evaluateGateway(gateway: Gateway, cls: ClassState, index: SnapshotIndex, now: Date, unavailable: ReadonlyMap<number, string>): GatewayState {
  const namespace = namespaceOf(gateway);
  const name = gateway.metadata.name;
  const listeners = evaluateListeners(gateway, index, now);
  if (unavailable.size > 0) markUnavailablePorts(listeners, unavailable);
  const state: GatewayState = { gateway, namespace, name, listeners, settings: cls.settings, attached: new Map(), onlyPortsUnavailable: false };
  const ref = gateway.spec?.infrastructure?.parametersRef;
  if (cls.problem) {
    state.problem = { reason: 'Invalid', message: `GatewayClass ${cls.name} is not Accepted: ${cls.problem.message}` };
  } else if (ref && (ref.group !== TLSGATE_GROUP || ref.kind !== GATEWAY_PARAMETERS_KIND)) {
    state.problem = {
      reason: 'InvalidParameters',
      message: `spec.infrastructure.parametersRef ${ref.group}/${ref.kind} ${ref.name}: only ${TLSGATE_GROUP}/${GATEWAY_PARAMETERS_KIND} is supported`,
    };
  } else if (ref && !index.gatewayParameters.has(key(namespace, ref.name))) {
    state.problem = {
      reason: 'InvalidParameters',
      message: `spec.infrastructure.parametersRef ${GATEWAY_PARAMETERS_KIND} ${namespace}/${ref.name} does not exist`,
    };
  } else if (objects(gateway.spec?.addresses).length > 0) {
    state.problem = { reason: 'UnsupportedAddress', message: 'spec.addresses: requesting specific addresses is not supported' };
  } else if (listeners.every((l) => l.notAccepted)) {
    state.problem = { reason: 'ListenersNotValid', message: 'No listener is valid' + problemsSuffix(listeners) };
    state.onlyPortsUnavailable = listeners.length > 0 && listeners.every((l) => l.notAccepted?.reason === 'PortUnavailable');
  }
  if (ref && (!state.problem || state.onlyPortsUnavailable)) state.settings = mergeSettings(cls.settings, settingsOf(index.gatewayParameters.get(key(namespace, ref.name))));
  return state;
}

/** `port 443 is unavailable: why`, once per port, for a Gateway none of whose listeners is served. */
function unavailablePortsSummary(listeners: EvaluatedListener[]): string {
  const reasons = new Map<number, string>();
  for (const l of listeners) if (l.portUnavailable !== undefined) reasons.set(l.port, l.portUnavailable);
  return [...reasons.entries()]
    .sort(([a], [b]) => a - b)
    .map(([port, why]) => `port ${port} is unavailable: ${why}`)
    .join('; ');
}

function problemsSuffix(listeners: EvaluatedListener[]): string {
  const bad = listeners.filter((l) => l.notAccepted).map((l) => `${l.name}: ${l.notAccepted!.reason}`);
  return bad.length > 0 ? ` (${bad.join(', ')})` : '';
}

/** The parentRef as written, with group and kind defaulted (the suite compares them). */
function echoParentRef(ref: ParentReference): ParentReference {
  const echo = { group: ref.group ?? GATEWAY_API_GROUP, kind: ref.kind ?? 'Gateway' } as ParentReference;
  if (ref.namespace !== undefined) echo.namespace = ref.namespace;
  echo.name = ref.name;
  if (ref.sectionName !== undefined) echo.sectionName = ref.sectionName;
  if (ref.port !== undefined) echo.port = ref.port;
  return echo;
}

function sameParentRef(a: ParentReference, b: ParentReference, routeNamespace: string): boolean {
  return (
    (a.group ?? GATEWAY_API_GROUP) === (b.group ?? GATEWAY_API_GROUP) &&
    (a.kind ?? 'Gateway') === (b.kind ?? 'Gateway') &&
    (a.namespace || routeNamespace) === (b.namespace || routeNamespace) &&
    a.name === b.name &&
    a.sectionName === b.sectionName &&
    a.port === b.port
  );
}

function listenerStatus(l: EvaluatedListener, generation: number, previous: ListenerStatus | undefined, now: string, programmed: Problem | undefined): ListenerStatus {
  const c = new ConditionSet(generation, previous?.conditions, now);
  if (l.notAccepted) c.set('Accepted', 'False', l.notAccepted.reason, l.notAccepted.message);
  else c.set('Accepted', 'True', 'Accepted', 'Listener is valid');
  if (l.conflict) c.set('Conflicted', 'True', l.conflict.reason, l.conflict.message);
  else c.set('Conflicted', 'False', 'NoConflicts', 'No conflicts');
  if (l.refProblems.length > 0) {
    c.set('ResolvedRefs', 'False', l.refProblems[0]!.reason, l.refProblems.map((p) => p.message).join('; '));
  } else {
    const notes = l.certificateNotes.length > 0 ? `; ${l.certificateNotes.join('; ')}` : '';
    c.set('ResolvedRefs', 'True', 'ResolvedRefs', `All references resolved${notes}`);
  }
  if (l.notAccepted) c.set('Programmed', 'False', 'Invalid', 'Listener is not Accepted');
  else if (l.unusable) c.set('Programmed', 'False', 'Invalid', `Listener cannot serve: ${l.unusable}; its connections are rejected`);
  // Listener Programmed reasons are Programmed, Invalid and Pending (AddressNotAssigned is Gateway-level).
  else if (programmed) c.set('Programmed', 'False', programmed.reason === 'Invalid' ? 'Invalid' : 'Pending', programmed.message);
  else c.set('Programmed', 'True', 'Programmed', 'Listener is served');
  return { name: l.name, supportedKinds: l.supportedKinds, attachedRoutes: l.attachedRoutes, conditions: c.list() };
}

export function translate(input: TranslateInput): TranslateOutput {
  const controllerName = input.controllerName ?? CONTROLLER_NAME;
  const nowIso = input.now.toISOString();
  const snapshot = wellFormed(input.snapshot);
  const index = new SnapshotIndex(snapshot);

  // GatewayClasses: ours only; others are not ours to write.
  const classes = new Map<string, ClassState>();
  const gatewayClasses: TranslateOutput['gatewayClasses'] = [];
  for (const gc of [...snapshot.gatewayClasses].sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1))) {
    if (gc.spec?.controllerName !== controllerName) continue;
    const state = evaluateClass(gc, index);
    classes.set(gc.metadata.name, state);
    const c = new ConditionSet(generationOf(gc.metadata), gc.status?.conditions, nowIso);
    if (state.problem) c.set('Accepted', 'False', state.problem.reason, state.problem.message);
    else c.set('Accepted', 'True', 'Accepted', `Handled by ${controllerName}`);
    c.set('SupportedVersion', 'True', 'SupportedVersion', 'Gateway API v1.6.1');
    gatewayClasses.push({
      name: gc.metadata.name,
      status: { conditions: c.list(), supportedFeatures: SUPPORTED_FEATURES.map((name) => ({ name })) },
    });
  }

  // Gateways of our classes: step A.
  const gatewayStates = new Map<string, GatewayState>();
  for (const gateway of sortByNamespacedName(snapshot.gateways)) {
    const cls = classes.get(gateway.spec?.gatewayClassName);
    if (!cls) continue;
    const unavailable = unavailablePortsOf(input.unavailablePorts, key(namespaceOf(gateway), gateway.metadata.name));
    const state = evaluateGateway(gateway, cls, index, input.now, unavailable);
    gatewayStates.set(key(state.namespace, state.name), state);
  }

  // TLSRoutes: step B, per parentRef.
  const tlsRoutes: TranslateOutput['tlsRoutes'] = [];
  const routes = sortByNamespacedName(snapshot.tlsRoutes);
  for (const route of routes) {
    const routeNamespace = namespaceOf(route);
    const routeName = route.metadata.name;
    const routeKey = key(routeNamespace, routeName);
    const generation = generationOf(route.metadata);
    const previousParents = objects(route.status?.parents).filter((p) => typeof p.parentRef === 'object' && p.parentRef !== null);
    const hostnames = strings(route.spec?.hostnames);
    let backends: ResolvedBackends | undefined;
    const ours: RouteParentStatus[] = [];
    const handled: ParentReference[] = [];
    for (const ref of objects(route.spec?.parentRefs)) {
      if ((ref.group ?? GATEWAY_API_GROUP) !== GATEWAY_API_GROUP || (ref.kind ?? 'Gateway') !== 'Gateway') continue;
      const gw = gatewayStates.get(key(ref.namespace || routeNamespace, ref.name));
      if (!gw) continue; // missing or another controller's Gateway: no entry of ours
      if (handled.some((h) => sameParentRef(h, ref, routeNamespace))) continue;
      handled.push(ref);
      backends ??= resolveBackends(route, index);
      const context: AttachContext = {
        gatewayNamespace: gw.namespace,
        gatewayName: gw.name,
        listeners: gw.listeners,
        ...(gw.problem ? { gatewayProblem: gw.problem.message } : {}),
      };
      const result = attachParentRef(ref, 'TLSRoute', routeNamespace, hostnames, context, index);
      const previous = previousParents.find(
        (p) => p.controllerName === controllerName && sameParentRef(p.parentRef, ref, routeNamespace),
      );
      const c = new ConditionSet(generation, previous?.conditions, nowIso);
      if (result.accepted) {
        const where = result.attachments.map((a) => a.listener.name).join(', ');
        c.set('Accepted', 'True', 'Accepted', `Attached to listener(s) ${where}`);
        for (const attachment of result.attachments) {
          let byRoute = gw.attached.get(attachment.listener);
          if (!byRoute) gw.attached.set(attachment.listener, (byRoute = new Map()));
          const existing = byRoute.get(routeKey);
          if (existing) {
            for (const h of attachment.hostnames) {
              if (!existing.hostnames.some((e) => e.hostname === h.hostname && e.original === h.original)) existing.hostnames.push(h);
            }
          } else {
            byRoute.set(routeKey, {
              namespace: routeNamespace,
              name: routeName,
              creationTimestamp: route.metadata.creationTimestamp,
              backends: backends.backends,
              hostnames: [...attachment.hostnames],
            });
          }
        }
      } else {
        c.set('Accepted', 'False', result.problem.reason, result.problem.message);
      }
      if (backends.problems.length > 0) {
        c.set('ResolvedRefs', 'False', backends.problems[0]!.reason, backends.problems.map((p) => p.message).join('; '));
      } else {
        c.set('ResolvedRefs', 'True', 'ResolvedRefs', 'All backend references resolved');
      }
      ours.push({ parentRef: echoParentRef(ref), controllerName, conditions: c.list() });
    }
    const others = previousParents.filter((p) => p.controllerName !== controllerName);
    const hadOurs = others.length !== previousParents.length;
    if (ours.length > 0 || hadOurs) {
      tlsRoutes.push({ namespace: routeNamespace, name: routeName, status: { parents: [...others, ...ours] } });
    }
  }

  // Attached route counts (each route once per listener), proxy configs and Gateway status.
  const gateways: TranslateOutput['gateways'] = [];
  const proxyConfigs: ProxyConfig[] = [];
  for (const gw of gatewayStates.values()) {
    const attachedByListener = new Map<EvaluatedListener, AttachedRoute[]>();
    for (const [listener, byRoute] of gw.attached) {
      listener.attachedRoutes = byRoute.size;
      attachedByListener.set(listener, [...byRoute.values()]);
    }
    const generation = generationOf(gw.gateway.metadata);
    const previous = gw.gateway.status;
    const c = new ConditionSet(generation, previous?.conditions, nowIso);
    const runtime = input.runtime?.[key(gw.namespace, gw.name)];
    let notProgrammed: Problem | undefined;
    if (gw.problem) {
      c.set('Accepted', 'False', gw.problem.reason, gw.problem.message);
      if (gw.onlyPortsUnavailable) {
        // A config with none of its listeners: the proxies stay (pods, Service, address) and a
        // retry of the full config reaches the same pods (docs/operator.md, "Ports that cannot be bound").
        proxyConfigs.push(buildProxyConfig({ namespace: gw.namespace, name: gw.name }, gw.listeners, new Map(), gw.settings));
        notProgrammed = { reason: 'Invalid', message: `No listener is served: ${unavailablePortsSummary(gw.listeners)}` };
      } else {
        notProgrammed = { reason: 'Invalid', message: 'Gateway is not Accepted; no proxy is run for it' };
      }
    } else {
      const invalid = gw.listeners.some((l) => l.notAccepted || l.conflict);
      if (invalid) c.set('Accepted', 'True', 'ListenersNotValid', 'Some listeners are not valid' + problemsSuffix(gw.listeners));
      else c.set('Accepted', 'True', 'Accepted', 'Gateway is valid');
      const config = buildProxyConfig({ namespace: gw.namespace, name: gw.name }, gw.listeners, attachedByListener, gw.settings);
      proxyConfigs.push(config);
      const detail = runtime?.message ? `: ${runtime.message}` : '';
      if (!runtime || runtime.addresses.length === 0) {
        notProgrammed = { reason: 'AddressNotAssigned', message: `No address assigned to the Gateway yet${detail}` };
      } else if (runtime.acknowledgedVersion !== config.version) {
        notProgrammed = { reason: 'Pending', message: `Waiting for a ready proxy to serve config ${config.version.slice(0, 12)}${detail}` };
      }
    }
    if (notProgrammed) c.set('Programmed', 'False', notProgrammed.reason, notProgrammed.message);
    else c.set('Programmed', 'True', 'Programmed', `Proxy serves config ${proxyConfigs[proxyConfigs.length - 1]!.version.slice(0, 12)}`);
    const listenerProblem = notProgrammed && !gw.problem ? notProgrammed : gw.problem ? { reason: 'Invalid', message: 'Gateway is not Accepted' } : undefined;
    const listeners = gw.listeners.map((l) =>
      listenerStatus(l, generation, objects(previous?.listeners).find((p) => p.name === l.name), nowIso, listenerProblem),
    );
    const status: GatewayStatus = {};
    if (runtime && runtime.addresses.length > 0) status.addresses = runtime.addresses.map((a) => ({ type: a.type, value: a.value }));
    status.conditions = c.list();
    status.listeners = listeners;
    gateways.push({ namespace: gw.namespace, name: gw.name, status });
  }

  return { gatewayClasses, gateways, tlsRoutes, httpRoutes: [], proxyConfigs };
}

/** Conditions of one type, for callers that inspect output (CLI, tests). */
export function findCondition(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}
