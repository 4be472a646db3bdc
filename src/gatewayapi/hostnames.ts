/**
 * Hostname matching, intersection and precedence for TLS routing (spec 3.3, 3.4).
 *
 * A wildcard `*.S` matches a name that ends with `.S` and has at least one more label: the
 * `*` spans ONE OR MORE labels (`*.com` matches `other.example.com`). This is what the
 * v1.6.1 conformance tests route by; the single-label RFC 2818 rule is about certificate
 * names and must not be used here. `null` stands for a listener without hostname (`*`).
 */

/**
 * A lowercase RFC 1123 name with an optional `*.` first label (the Gateway API Hostname
 * pattern; `_` as the proxy also accepts it). Names that slipped past CEL must not reach a
 * proxy config: the proxy refuses the whole config for one bad name.
 */
const VALID_HOSTNAME = /^(\*\.)?[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*$/;

/** Is the (normalized) name a hostname or `*.suffix` wildcard? */
export function isValidHostname(hostname: string): boolean {
  return hostname.length <= 253 && VALID_HOSTNAME.test(hostname);
}

export function isWildcard(hostname: string): boolean {
  return hostname.startsWith('*.');
}

/** Lowercase, without a trailing dot: the form every comparison uses. */
export function normalizeHostname(hostname: string): string {
  const lower = hostname.toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

/** Number of labels after the `*` of a wildcard, or of the whole name for exact names. */
export function labelCount(hostname: string): number {
  const body = isWildcard(hostname) ? hostname.slice(2) : hostname;
  return body === '' ? 0 : body.split('.').length;
}

/** True when the exact `name` is covered by the wildcard suffix `suffix` (without `*.`). */
function underSuffix(name: string, suffix: string): boolean {
  return name.length > suffix.length + 1 && name.endsWith('.' + suffix);
}

/** Does `pattern` (exact, `*.suffix`, or null = any) match the concrete name `name`? */
export function matchesHostname(pattern: string | null, name: string): boolean {
  if (pattern === null) return true;
  if (isWildcard(pattern)) return underSuffix(name, pattern.slice(2));
  return pattern === name;
}

/**
 * The hostnames a route hostname serves on a listener: the more specific of the two when
 * one covers the other, null when they do not intersect. Inputs must be normalized.
 */
export function intersectHostnames(listener: string | null, route: string): string | null {
  if (listener === null) return route;
  const listenerWild = isWildcard(listener);
  const routeWild = isWildcard(route);
  if (!listenerWild && !routeWild) return listener === route ? listener : null;
  if (listenerWild && !routeWild) return underSuffix(route, listener.slice(2)) ? route : null;
  if (!listenerWild && routeWild) return underSuffix(listener, route.slice(2)) ? listener : null;
  const a = listener.slice(2);
  const b = route.slice(2);
  if (a === b) return listener;
  if (underSuffix(a, b)) return listener;
  if (underSuffix(b, a)) return route;
  return null;
}

/**
 * Orders hostnames by precedence, most specific first: exact names (alphabetically), then
 * wildcards by label count descending (then alphabetically), then null (no hostname).
 * This is the order of listeners on a port and of a listener's hostname table.
 */
export function compareHostnamePrecedence(a: string | null, b: string | null): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  const aWild = isWildcard(a);
  const bWild = isWildcard(b);
  if (aWild !== bWild) return aWild ? 1 : -1;
  if (aWild) {
    const byLabels = labelCount(b) - labelCount(a);
    if (byLabels !== 0) return byLabels;
  }
  return a < b ? -1 : 1;
}

/**
 * Specificity of a hostname as a single comparable number: exact names beat every
 * wildcard; among wildcards more labels win. Higher is more specific.
 */
export function specificity(hostname: string | null): number {
  if (hostname === null) return 0;
  if (isWildcard(hostname)) return 1 + labelCount(hostname);
  return 1_000_000;
}
