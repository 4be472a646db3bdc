/**
 * The HTTPRoute step: each HTTPRoute's parentRefs against our Gateways (attachment.ts, HTTP and
 * HTTPS listeners), its rules compiled once (http-rules.ts), its status per parent, and the
 * route recorded on the listeners it attached to, for their virtual hosts (http-config.ts).
 *
 * Status per parent:
 * - Accepted: the attachment's reason (NoMatchingParent, NotAllowedByListeners,
 *   NoMatchingListenerHostname); attached but with no rule tlsgate can serve:
 *   False/UnsupportedValue (or IncompatibleFilters), and the route is not attached;
 *   otherwise True.
 * - PartiallyInvalid=True (only with Accepted=True, only when some rules are invalid): the
 *   message starts with "Dropped Rule", as the spec asks, and says those rules answer 500.
 * - ResolvedRefs: the first invalid backendRef's reason (InvalidKind, RefNotPermitted,
 *   BackendNotFound, UnsupportedProtocol) with every problem in the message; an HTTPRoute
 *   without backendRefs has nothing to resolve (True).
 */
import { attachParentRef } from './attachment.js';
import { compileHttpRoute, type CompiledHttpRoute } from './http-rules.js';
import type { RouteStatusEntry } from './model.js';
import { recordAttachments, routeParentStatuses, type RouteStepContext } from './route-parents.js';
import { strings } from './safe.js';
import { key, namespaceOf } from './snapshot-index.js';
import type { HTTPRoute } from './types.js';

/** Statuses of the routes (sorted by namespace/name on input), attachments recorded on the Gateway states. */
export function translateHttpRoutes(routes: readonly HTTPRoute[], context: RouteStepContext): RouteStatusEntry[] {
  const statuses: RouteStatusEntry[] = [];
  for (const route of routes) {
    const routeNamespace = namespaceOf(route);
    const routeKey = key(routeNamespace, route.metadata.name);
    const hostnames = strings(route.spec?.hostnames);
    let compiled: CompiledHttpRoute | undefined;
    const status = routeParentStatuses(route, context, (ref, gw, c, parent) => {
      compiled ??= compileHttpRoute(route, context.index);
      const result = attachParentRef(ref, 'HTTPRoute', routeNamespace, hostnames, parent, context.index);
      const invalid = compiled.invalidRules;
      const ruleCount = compiled.config.rules.length;
      if (!result.accepted) {
        c.set('Accepted', 'False', result.problem.reason, result.problem.message);
      } else if (invalid.length === ruleCount) {
        const first = invalid[0]!.problem;
        c.set('Accepted', 'False', first.reason, `No rule can be served: ${invalid.map((r) => r.problem.message).join('; ')}`);
      } else {
        c.set('Accepted', 'True', 'Accepted', `Attached to listener(s) ${result.attachments.map((a) => a.listener.name).join(', ')}`);
        if (invalid.length > 0) {
          const which = invalid.map((r) => `spec.rules[${r.index}]`).join(', ');
          c.set(
            'PartiallyInvalid',
            'True',
            invalid[0]!.problem.reason,
            `Dropped Rule(s) ${which}: the requests they match get HTTP 500 (${invalid.map((r) => r.problem.message).join('; ')})`,
          );
        }
        const routeRules = compiled;
        recordAttachments(gw.httpAttached, routeKey, result.attachments, (served) => ({
          namespace: routeNamespace,
          name: route.metadata.name,
          creationTimestamp: route.metadata.creationTimestamp,
          config: routeRules.config,
          matches: routeRules.matches,
          hostnames: served,
        }));
      }
      const problems = compiled.backendProblems;
      if (problems.length > 0) c.set('ResolvedRefs', 'False', problems[0]!.reason, problems.map((p) => p.message).join('; '));
      else c.set('ResolvedRefs', 'True', 'ResolvedRefs', 'All backend references resolved');
    });
    if (status) statuses.push(status);
  }
  return statuses;
}
