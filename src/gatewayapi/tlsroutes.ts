/**
 * The TLSRoute step: each TLSRoute's parentRefs against our Gateways (attachment.ts), its
 * backends (backends.ts), its status per parent, and the routes recorded on the listeners they
 * attached to, for the hostname tables of the proxy config.
 */
import { attachParentRef } from './attachment.js';
import { resolveTlsRouteBackends, type ResolvedBackends } from './backends.js';
import type { RouteStatusEntry } from './model.js';
import { recordAttachments, routeParentStatuses, type RouteStepContext } from './route-parents.js';
import { strings } from './safe.js';
import { key, namespaceOf } from './snapshot-index.js';
import type { TLSRoute } from './types.js';

/** Statuses of the routes (sorted by namespace/name on input), attachments recorded on the Gateway states. */
export function translateTlsRoutes(routes: readonly TLSRoute[], context: RouteStepContext): RouteStatusEntry[] {
  const statuses: RouteStatusEntry[] = [];
  for (const route of routes) {
    const routeNamespace = namespaceOf(route);
    const routeKey = key(routeNamespace, route.metadata.name);
    const hostnames = strings(route.spec?.hostnames);
    let backends: ResolvedBackends | undefined;
    const status = routeParentStatuses(route, context, (ref, gw, c, parent) => {
      backends ??= resolveTlsRouteBackends(route, context.index);
      const result = attachParentRef(ref, 'TLSRoute', routeNamespace, hostnames, parent, context.index);
      if (result.accepted && backends.invalidValues.length > 0) {
        c.set('Accepted', 'False', 'UnsupportedValue', backends.invalidValues.join('; '));
      } else if (result.accepted) {
        c.set('Accepted', 'True', 'Accepted', `Attached to listener(s) ${result.attachments.map((a) => a.listener.name).join(', ')}`);
        const resolved = backends;
        recordAttachments(gw.tlsAttached, routeKey, result.attachments, (served) => ({
          namespace: routeNamespace,
          name: route.metadata.name,
          creationTimestamp: route.metadata.creationTimestamp,
          backends: resolved.backends,
          hostnames: served,
        }));
      } else {
        c.set('Accepted', 'False', result.problem.reason, result.problem.message);
      }
      if (backends.problems.length > 0) {
        c.set('ResolvedRefs', 'False', backends.problems[0]!.reason, backends.problems.map((p) => p.message).join('; '));
      } else {
        c.set('ResolvedRefs', 'True', 'ResolvedRefs', 'All backend references resolved');
      }
    });
    if (status) statuses.push(status);
  }
  return statuses;
}
