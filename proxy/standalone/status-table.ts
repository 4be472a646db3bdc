/**
 * The status table standalone prints after every (re)load: Gateways, ListenerSets, listeners and routes in
 * the spirit of `kubectl get`, so that a user sees at a glance what is served and why
 * something is not. It reads the statuses translate computed (never re-deriving semantics)
 * and the specs for the columns statuses do not carry (class, port, mode, hostnames).
 */
import { parentGatewayKey } from '../../src/gatewayapi/listenersets.js';
import type { Snapshot, TranslateOutput } from '../../src/gatewayapi/translate.js';
import type { Condition, Gateway, Listener, ListenerStatus, ParentReference } from '../../src/gatewayapi/types.js';

export interface StatusTableContext {
  snapshot: Snapshot;
  output: TranslateOutput;
  controllerName: string;
  /** Where each listener port is actually served: key `namespace/name:port`, value `host:port`. */
  servedOn: ReadonlyMap<string, string>;
}

export interface Problem {
  /** e.g. `Gateway default/example-gateway listener tls`. */
  object: string;
  condition: string;
  reason: string;
  message: string;
}

export interface StatusReport {
  text: string;
  problems: Problem[];
}

/** Renders the three tables and the list of problems (every condition that is not healthy). */
export function renderStatusReport(context: StatusTableContext): StatusReport {
  const problems: Problem[] = [];
  const gatewaySpecs = new Map(context.snapshot.gateways.map((g) => [keyOf(g.metadata), g]));

  const classSpecs = new Map(context.snapshot.gatewayClasses.map((c) => [c.metadata.name, c]));
  const classRows = context.output.gatewayClasses.map((gatewayClass) => {
    const conditions = gatewayClass.status.conditions ?? [];
    collectProblems(`GatewayClass ${gatewayClass.name}`, conditions, problems);
    return [
      gatewayClass.name,
      classSpecs.get(gatewayClass.name)?.spec.controllerName ?? '',
      conditionStatus(conditions, 'Accepted'),
      firstUnhealthyReason(conditions),
    ];
  });

  const gatewayRows: string[][] = [];
  const listenerRows: string[][] = [];
  /** One listener row; `servedBy` is the Gateway whose proxy serves the port (a ListenerSet's parent). */
  const listenerRow = (object: string, namespace: string, parent: string, servedBy: string, listener: ListenerStatus, listenerSpec: Listener | undefined): void => {
    collectProblems(`${object} listener ${listener.name}`, listener.conditions, problems);
    const port = listenerSpec?.port;
    listenerRows.push([
      namespace,
      parent,
      listener.name,
      port === undefined ? '' : String(port),
      port === undefined ? '' : context.servedOn.get(`${servedBy}:${port}`) ?? '<not served>',
      listenerSpec ? modeOf(listenerSpec.protocol, listenerSpec.tls?.mode) : '',
      listenerSpec?.hostname ?? '*',
      String(listener.attachedRoutes),
      conditionStatus(listener.conditions, 'Accepted'),
      conditionStatus(listener.conditions, 'Programmed'),
      firstUnhealthyReason(listener.conditions),
    ]);
  };
  for (const gateway of context.output.gateways) {
    const key = `${gateway.namespace}/${gateway.name}`;
    const spec = gatewaySpecs.get(key);
    const conditions = gateway.status.conditions ?? [];
    collectProblems(`Gateway ${key}`, conditions, problems);
    gatewayRows.push([
      gateway.namespace,
      gateway.name,
      spec?.spec.gatewayClassName ?? '',
      (gateway.status.addresses ?? []).map((a) => a.value).join(',') || '<none>',
      conditionStatus(conditions, 'Accepted'),
      conditionStatus(conditions, 'Programmed'),
      firstUnhealthyReason(conditions),
    ]);
    for (const listener of gateway.status.listeners ?? []) {
      listenerRow(`Gateway ${key}`, gateway.namespace, gateway.name, key, listener, spec?.spec.listeners.find((l) => l.name === listener.name));
    }
  }

  // ListenerSets (translate writes a status only for those whose parent is a Gateway of ours);
  // their listeners are rows of the listener table, served on their parent Gateway's ports.
  const listenerSetSpecs = new Map((context.snapshot.listenerSets ?? []).map((s) => [keyOf(s.metadata), s]));
  const listenerSetRows: string[][] = [];
  for (const listenerSet of context.output.listenerSets ?? []) {
    const key = `${listenerSet.namespace}/${listenerSet.name}`;
    const spec = listenerSetSpecs.get(key);
    const gatewayKey = spec ? parentGatewayKey(spec) ?? '' : '';
    const conditions = listenerSet.status.conditions ?? [];
    collectProblems(`ListenerSet ${key}`, conditions, problems);
    listenerSetRows.push([
      listenerSet.namespace,
      listenerSet.name,
      gatewayKey,
      conditionStatus(conditions, 'Accepted'),
      conditionStatus(conditions, 'Programmed'),
      firstUnhealthyReason(conditions),
    ]);
    for (const listener of listenerSet.status.listeners ?? []) {
      listenerRow(`ListenerSet ${key}`, listenerSet.namespace, `ListenerSet/${listenerSet.name}`, gatewayKey, listener, spec?.spec.listeners.find((l) => l.name === listener.name));
    }
  }

  const routeRows = [
    ...routeTableRows('TLSRoute', context.snapshot.tlsRoutes, context.output.tlsRoutes, context.controllerName, problems),
    ...routeTableRows('HTTPRoute', context.snapshot.httpRoutes ?? [], context.output.httpRoutes ?? [], context.controllerName, problems),
  ];

  const sections = [
    formatTable(['GATEWAYCLASS', 'CONTROLLER', 'ACCEPTED', 'REASON'], classRows, 'No GatewayClass of ours.'),
    formatTable(['NAMESPACE', 'NAME', 'CLASS', 'ADDRESS', 'ACCEPTED', 'PROGRAMMED', 'REASON'], gatewayRows, 'No Gateways of our class.'),
    // Printed only when there are some: most standalone setups have none.
    ...(listenerSetRows.length > 0 ? [formatTable(['NAMESPACE', 'LISTENERSET', 'GATEWAY', 'ACCEPTED', 'PROGRAMMED', 'REASON'], listenerSetRows, '')] : []),
    formatTable(
      ['NAMESPACE', 'PARENT', 'LISTENER', 'PORT', 'SERVED-ON', 'MODE', 'HOSTNAME', 'ATTACHED', 'ACCEPTED', 'PROGRAMMED', 'REASON'],
      listenerRows,
      'No listeners.',
    ),
    formatTable(['KIND', 'NAMESPACE', 'NAME', 'HOSTNAMES', 'PARENT', 'ACCEPTED', 'RESOLVED', 'REASON'], routeRows, 'No routes.'),
  ];
  let text = sections.join('\n');
  if (problems.length > 0) {
    text += '\nProblems:\n' + problems.map((p) => `  ${p.object}: ${p.condition} ${p.reason}: ${p.message}`).join('\n') + '\n';
  }
  return { text, problems };
}

/** A route as both kinds share it: the fields the table reads. */
interface AnyRoute {
  metadata: { namespace?: string; name: string };
  spec: { hostnames?: string[]; parentRefs?: ParentReference[] };
}

/** One row per parent entry of ours (one NoParent row when there is none), sorted by namespace/name. */
function routeTableRows(
  kind: 'TLSRoute' | 'HTTPRoute',
  specs: readonly AnyRoute[],
  statuses: TranslateOutput['tlsRoutes'],
  controllerName: string,
  problems: Problem[],
): string[][] {
  const routeStatuses = new Map(statuses.map((r) => [`${r.namespace}/${r.name}`, r.status]));
  const rows: string[][] = [];
  const routes = [...specs].sort((a, b) => keyOf(a.metadata).localeCompare(keyOf(b.metadata)));
  for (const route of routes) {
    const key = keyOf(route.metadata);
    const ours = (routeStatuses.get(key)?.parents ?? []).filter((p) => p.controllerName === controllerName);
    const hostnames = (route.spec.hostnames ?? []).join(',') || '<none>';
    if (ours.length === 0) {
      // translate writes no entry for a parent that is missing or not ours; say so, since a
      // typo in a parentRef would otherwise leave the route silently unserved.
      const message = `no parentRef resolves to a Gateway of controller ${controllerName}: ${describeParents(route)}`;
      problems.push({ object: `${kind} ${key}`, condition: 'Accepted', reason: 'NoParent', message });
      rows.push([kind, namespaceOf(route.metadata), route.metadata.name, hostnames, '<none>', '-', '-', 'NoParent']);
      continue;
    }
    for (const parent of ours) {
      collectProblems(`${kind} ${key} parent ${describeParent(parent.parentRef, route)}`, parent.conditions, problems);
      rows.push([
        kind,
        namespaceOf(route.metadata),
        route.metadata.name,
        hostnames,
        describeParent(parent.parentRef, route),
        conditionStatus(parent.conditions, 'Accepted'),
        conditionStatus(parent.conditions, 'ResolvedRefs'),
        firstUnhealthyReason(parent.conditions),
      ]);
    }
  }
  return rows;
}

/** kubectl-style columns: left-aligned, padded to the widest cell, three spaces apart. */
export function formatTable(headers: string[], rows: string[][], empty: string): string {
  if (rows.length === 0) return `${empty}\n`;
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]! + 3))).join('').trimEnd();
  return [line(headers), ...rows.map(line)].join('\n') + '\n';
}

/** The conditions a healthy object has True; anything else on these is a problem to report. */
const POSITIVE_CONDITIONS = new Set(['Accepted', 'Programmed', 'ResolvedRefs', 'SupportedVersion']);
/** Conditions whose True is the problem. */
const NEGATIVE_CONDITIONS = new Set(['Conflicted', 'OverlappingTLSConfig']);

function isUnhealthy(condition: Condition): boolean {
  if (POSITIVE_CONDITIONS.has(condition.type)) return condition.status !== 'True';
  if (NEGATIVE_CONDITIONS.has(condition.type)) return condition.status === 'True';
  return false;
}

function collectProblems(object: string, conditions: Condition[], problems: Problem[]): void {
  for (const condition of conditions) {
    if (isUnhealthy(condition)) {
      problems.push({ object, condition: `${condition.type}=${condition.status}`, reason: condition.reason, message: condition.message });
    }
  }
}

function conditionStatus(conditions: Condition[], type: string): string {
  return conditions.find((c) => c.type === type)?.status ?? '-';
}

/**
 * The reason that explains the most: a cause (not accepted, conflicted, unresolved refs)
 * before its consequence (not programmed).
 */
const REASON_PRIORITY = ['Accepted', 'Conflicted', 'ResolvedRefs', 'SupportedVersion', 'OverlappingTLSConfig', 'Programmed'];

function firstUnhealthyReason(conditions: Condition[]): string {
  const unhealthy = conditions.filter(isUnhealthy);
  const rank = (c: Condition): number => {
    const index = REASON_PRIORITY.indexOf(c.type);
    return index === -1 ? REASON_PRIORITY.length : index;
  };
  return unhealthy.sort((a, b) => rank(a) - rank(b))[0]?.reason ?? '';
}

function modeOf(protocol: string, mode: string | undefined): string {
  return protocol === 'TLS' || protocol === 'HTTPS' ? `${protocol}/${mode ?? 'Terminate'}` : protocol;
}

function keyOf(meta: { namespace?: string; name: string }): string {
  return `${namespaceOf(meta)}/${meta.name}`;
}

function namespaceOf(meta: { namespace?: string }): string {
  return meta.namespace ?? 'default';
}

function describeParent(ref: ParentReference, route: AnyRoute): string {
  const namespace = ref.namespace ?? namespaceOf(route.metadata);
  let text = namespace === namespaceOf(route.metadata) ? ref.name : `${namespace}/${ref.name}`;
  if (ref.kind === 'ListenerSet') text = `ListenerSet/${text}`;
  if (ref.sectionName) text += `/${ref.sectionName}`;
  if (ref.port !== undefined) text += `:${ref.port}`;
  return text;
}

function describeParents(route: AnyRoute): string {
  const refs = route.spec.parentRefs ?? [];
  if (refs.length === 0) return 'the route has no parentRefs';
  // describeParent already names a ListenerSet's kind.
  return refs.map((r) => (r.kind === 'ListenerSet' ? describeParent(r, route) : `${r.kind ?? 'Gateway'} ${describeParent(r, route)}`)).join(', ');
}

/** Gateways in the manifests that no GatewayClass of ours claims: worth a warning, never an error. */
export function foreignGateways(snapshot: Snapshot, controllerName: string): Gateway[] {
  const ourClasses = new Set(snapshot.gatewayClasses.filter((c) => c.spec.controllerName === controllerName).map((c) => c.metadata.name));
  return snapshot.gateways.filter((g) => !ourClasses.has(g.spec.gatewayClassName));
}
