/**
 * The `http` part of an HTTP or HTTPS listener's config (src/proxy-config.ts
 * HttpListenerConfig): its HTTPRoutes, and one virtual host per hostname they serve there, each
 * with every (rule, match) pair that applies to it in the spec's precedence order, so that the
 * proxy takes the first pair a request satisfies.
 *
 * A virtual host also holds the matches of routes whose hostname covers it less specifically
 * (`*.example.com` routes in `foo.example.com`, routes without hostnames everywhere), after the
 * more specific routes' matches: the spec gives precedence to "rules from the HTTPRoute with the
 * largest number of characters in a matching non-wildcard hostname", then "in a matching
 * hostname", and only on a tie to the matches themselves. So a request for foo.example.com that
 * no exact route matches still reaches a `*.example.com` route that does.
 */
import type { HttpListenerConfig, HttpMatchEntry, HttpVirtualHostConfig } from '../proxy-config.js';
import { compareHostnamePrecedence, intersectHostnames, isWildcard, specificity } from './hostnames.js';
import { compareMatchSpecificity } from './http-matches.js';
import type { AttachedHttpRoute, ServedHostname } from './model.js';
import { timeOf } from './safe.js';

const ANY_HOST = '*';

/** Does the served pattern `served` cover every host of the virtual host `vhost`? */
function covers(served: string, vhost: string): boolean {
  if (served === ANY_HOST) return true;
  if (vhost === ANY_HOST) return false;
  return intersectHostnames(served, vhost) === vhost;
}

/**
 * How strongly a route claims a virtual host through one served hostname; higher first: the
 * served (intersected) hostname's specificity, then the route's own hostname: exact beats
 * wildcard, then more characters; a route without hostnames last.
 */
function claim(served: ServedHostname): [number, number, number] {
  const original = served.original;
  return [
    served.hostname === ANY_HOST ? 0 : specificity(served.hostname),
    original !== null && !isWildcard(original) ? 1 : 0,
    original?.length ?? 0,
  ];
}

function compareClaims(a: [number, number, number], b: [number, number, number]): number {
  return b[0] - a[0] || b[1] - a[1] || b[2] - a[2];
}

const byNamespacedName = (a: AttachedHttpRoute, b: AttachedHttpRoute): number => {
  const ka = `${a.namespace}/${a.name}`;
  const kb = `${b.namespace}/${b.name}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
};

/** `*` sorts last, like a listener without hostname. */
const vhostOrder = (a: string, b: string): number => compareHostnamePrecedence(a === ANY_HOST ? null : a, b === ANY_HOST ? null : b);

interface Candidate {
  entry: HttpMatchEntry;
  claim: [number, number, number];
  created: number;
  matchIndex: number;
}

export function buildHttpListenerConfig(attached: readonly AttachedHttpRoute[]): HttpListenerConfig {
  const routes = [...attached].sort(byNamespacedName);
  const vhostNames = [...new Set(routes.flatMap((r) => r.hostnames.map((h) => h.hostname)))].sort(vhostOrder);
  const virtualHosts: HttpVirtualHostConfig[] = vhostNames.map((vhost) => {
    const candidates: Candidate[] = [];
    routes.forEach((route, routeIndex) => {
      let best: [number, number, number] | undefined;
      for (const served of route.hostnames) {
        if (!covers(served.hostname, vhost)) continue;
        const c = claim(served);
        if (!best || compareClaims(c, best) < 0) best = c;
      }
      if (!best) return;
      const created = timeOf(route.creationTimestamp);
      route.matches.forEach((ruleMatches, rule) => {
        for (const { match, index } of ruleMatches) {
          candidates.push({ entry: { match, route: routeIndex, rule }, claim: best!, created, matchIndex: index });
        }
      });
    });
    // Routes are indexed in namespace/name order, so the route index breaks that tie.
    candidates.sort(
      (a, b) =>
        compareClaims(a.claim, b.claim) ||
        compareMatchSpecificity(a.entry.match, b.entry.match) ||
        (a.created !== b.created ? (a.created < b.created ? -1 : 1) : 0) ||
        a.entry.route - b.entry.route ||
        a.entry.rule - b.entry.rule ||
        a.matchIndex - b.matchIndex,
    );
    return { hostname: vhost, matches: candidates.map((c) => c.entry) };
  });
  return { routes: routes.map((r) => r.config), virtualHosts };
}
