/**
 * Writes the statuses translate computed, only where they differ from the server's.
 *
 * - GatewayClass, Gateway and ListenerSet: tlsgate owns their whole status (a Gateway of our
 *   class is ours, and so is a ListenerSet whose parent is one), so a JSON merge patch of
 *   /status with the fields we compute is enough.
 * - TLSRoute and HTTPRoute: `status.parents` is an atomic list shared with other controllers, so it is a
 *   GET, a merge of our entries into the fresh list, and a replace carrying the
 *   resourceVersion we read; a 409 (someone wrote in between) re-reads and retries.
 */
import * as k8s from '@kubernetes/client-node';
import { GATEWAY_GROUP, objectKey, type Condition } from '../objects.js';
import { statusOf } from '../sources/informer.js';
import {
  carryStatusTimes,
  mergeRouteParents,
  statusUpToDate,
  type ObjectStatusWithConditions,
  type RouteParentStatus,
} from './merge.js';

export interface DesiredStatuses {
  gatewayClasses: { name: string; status: ObjectStatusWithConditions }[];
  gateways: { namespace: string; name: string; status: ObjectStatusWithConditions }[];
  tlsRoutes: RouteStatuses;
  httpRoutes: RouteStatuses;
  /** ListenerSets whose parent is one of our Gateways (translate's `listenerSets`). */
  listenerSets?: { namespace: string; name: string; status: ObjectStatusWithConditions }[];
}

type RouteStatuses = { namespace: string; name: string; status: { parents: RouteParentStatus[] } }[];

/** The route kinds whose `status.parents` we share with other controllers, and their API plural. */
export type RouteKind = 'TLSRoute' | 'HTTPRoute';
const ROUTE_PLURALS: Record<RouteKind, string> = { TLSRoute: 'tlsroutes', HTTPRoute: 'httproutes' };

/** What the cache says the server has, to skip writes without a round trip. */
export interface CachedStatuses {
  gatewayClass(name: string): ObjectStatusWithConditions | undefined;
  gateway(namespace: string, name: string): ObjectStatusWithConditions | undefined;
  listenerSet?(namespace: string, name: string): ObjectStatusWithConditions | undefined;
  routeParents(kind: RouteKind, namespace: string, name: string): RouteParentStatus[] | undefined;
}

/** A status that was written, with what it replaced (for events). */
export interface StatusChange {
  kind: 'GatewayClass' | 'Gateway' | 'ListenerSet' | RouteKind;
  namespace?: string;
  name: string;
  before: ObjectStatusWithConditions | { parents?: RouteParentStatus[] } | undefined;
  after: ObjectStatusWithConditions | { parents: RouteParentStatus[] };
  /** The object as returned by the write (uid, resourceVersion for event references). */
  object: { metadata?: { uid?: string; resourceVersion?: string } };
}

export interface StatusWriterOptions {
  controllerName: string;
  log: (message: string) => void;
  maxConflictRetries?: number;
  /** Counts each write by kind and result (operator/metrics.ts); unchanged statuses are not writes. */
  record?: (kind: StatusChange['kind'], result: 'success' | 'error' | 'conflict') => void;
}

/** What one `write` did: the statuses written, and the objects whose write failed (to retry). */
export interface StatusWriteResult {
  changes: StatusChange[];
  failed: string[];
}

export interface RouteWithStatus {
  metadata: { resourceVersion?: string };
  status?: { parents?: RouteParentStatus[] };
}

const MERGE_PATCH = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);

export class StatusWriter {
  private readonly custom: k8s.CustomObjectsApi;

  constructor(kubeConfig: k8s.KubeConfig, private readonly options: StatusWriterOptions) {
    this.custom = kubeConfig.makeApiClient(k8s.CustomObjectsApi);
  }

  /** Writes every changed status; failures are logged per object and do not stop the rest. */
  async write(desired: DesiredStatuses, cached: CachedStatuses): Promise<StatusChange[]> {
    return (await this.writeAll(desired, cached)).changes;
  }

  /** As `write`, also naming the objects whose write failed (the caller retries them later). */
  async writeAll(desired: DesiredStatuses, cached: CachedStatuses): Promise<StatusWriteResult> {
    const changes: StatusChange[] = [];
    const failed: string[] = [];
    const attempt = async (what: string, write: () => Promise<StatusChange | undefined>) => {
      const kind = what.slice(0, what.indexOf(' ')) as StatusChange['kind'];
      try {
        const change = await write();
        if (change) {
          changes.push(change);
          this.options.record?.(kind, 'success');
        }
      } catch (err) {
        if (statusOf(err) === 404) return; // deleted since the snapshot; its informer will tell us
        this.options.record?.(kind, 'error');
        failed.push(what);
        this.options.log(`status of ${what}: ${describe(err)}`);
      }
    };
    for (const gc of desired.gatewayClasses) {
      await attempt(`GatewayClass ${gc.name}`, () => this.writeGatewayClass(gc.name, gc.status, cached.gatewayClass(gc.name)));
    }
    for (const gw of desired.gateways) {
      await attempt(`Gateway ${objectKey(gw.namespace, gw.name)}`, () =>
        this.writeOwnedStatus('Gateway', gw.namespace, gw.name, gw.status, cached.gateway(gw.namespace, gw.name)),
      );
    }
    for (const ls of desired.listenerSets ?? []) {
      await attempt(`ListenerSet ${objectKey(ls.namespace, ls.name)}`, () =>
        this.writeOwnedStatus('ListenerSet', ls.namespace, ls.name, ls.status, cached.listenerSet?.(ls.namespace, ls.name)),
      );
    }
    const routes: [RouteKind, RouteStatuses][] = [
      ['TLSRoute', desired.tlsRoutes],
      ['HTTPRoute', desired.httpRoutes],
    ];
    for (const [kind, statuses] of routes) {
      for (const route of statuses) {
        const ours = route.status.parents.filter((p) => p.controllerName === this.options.controllerName);
        const cachedParents = cached.routeParents(kind, route.namespace, route.name);
        // Cheap pre-check against the cache; the write itself re-checks against a fresh read.
        if (cachedParents && mergeRouteParents(cachedParents, ours, this.options.controllerName) === undefined) continue;
        await attempt(`${kind} ${objectKey(route.namespace, route.name)}`, () => this.writeRouteParents(route.namespace, route.name, ours, kind));
      }
    }
    return { changes, failed };
  }

  async writeGatewayClass(name: string, desired: ObjectStatusWithConditions, current: ObjectStatusWithConditions | undefined): Promise<StatusChange | undefined> {
    const status = carryStatusTimes(desired, current);
    if (statusUpToDate(status, current)) return undefined;
    const object = await this.custom.patchClusterCustomObjectStatus(
      { group: GATEWAY_GROUP, version: 'v1', plural: 'gatewayclasses', name, body: { status } },
      MERGE_PATCH,
    );
    return { kind: 'GatewayClass', name, before: current, after: status, object };
  }

  /**
   * Gateway and ListenerSet: objects whose whole status is ours, written by a merge patch of
   * /status when it differs from the server's.
   */
  async writeOwnedStatus(
    kind: 'Gateway' | 'ListenerSet',
    namespace: string,
    name: string,
    desired: ObjectStatusWithConditions,
    current: ObjectStatusWithConditions | undefined,
  ): Promise<StatusChange | undefined> {
    const status = carryStatusTimes(desired, current);
    if (statusUpToDate(status, current)) return undefined;
    const plural = kind === 'Gateway' ? 'gateways' : 'listenersets';
    const object = await this.custom.patchNamespacedCustomObjectStatus(
      { group: GATEWAY_GROUP, version: 'v1', plural, namespace, name, body: { status } },
      MERGE_PATCH,
    );
    return { kind, namespace, name, before: current, after: status, object };
  }

  /** A fresh read of a route (with its status and resourceVersion). */
  protected async readRoute(namespace: string, name: string, kind: RouteKind = 'TLSRoute'): Promise<RouteWithStatus> {
    const plural = ROUTE_PLURALS[kind];
    return (await this.custom.getNamespacedCustomObjectStatus({ group: GATEWAY_GROUP, version: 'v1', plural, namespace, name })) as RouteWithStatus;
  }

  /** GET, merge ours into the fresh list, replace with its resourceVersion; retry on 409. */
  async writeRouteParents(namespace: string, name: string, ours: RouteParentStatus[], kind: RouteKind = 'TLSRoute'): Promise<StatusChange | undefined> {
    const retries = this.options.maxConflictRetries ?? 5;
    for (let attempt = 0; ; attempt++) {
      const route = await this.readRoute(namespace, name, kind);
      const before = route.status?.parents;
      const parents = mergeRouteParents(before, ours, this.options.controllerName);
      if (!parents) return undefined;
      const body = { ...route, status: { ...route.status, parents } };
      try {
        const object = await this.custom.replaceNamespacedCustomObjectStatus({
          group: GATEWAY_GROUP,
          version: 'v1',
          plural: ROUTE_PLURALS[kind],
          namespace,
          name,
          body,
        });
        return { kind, namespace, name, before: { parents: before ?? [] }, after: { parents }, object };
      } catch (err) {
        if (statusOf(err) !== 409 || attempt >= retries) throw err;
        this.options.record?.(kind, 'conflict');
        this.options.log(`status of ${kind} ${objectKey(namespace, name)}: conflict, re-reading (attempt ${attempt + 1})`);
      }
    }
  }
}

export function describe(err: unknown): string {
  const status = statusOf(err);
  const body = (err as { body?: unknown }).body;
  let detail = err instanceof Error ? err.message.split('\n')[0]! : String(err);
  if (typeof body === 'string') {
    try {
      detail = (JSON.parse(body) as { message?: string }).message ?? detail;
    } catch {
      /* not JSON: keep the message */
    }
  }
  return status ? `HTTP ${status}: ${detail}` : detail;
}

export type { Condition };
