// Hostname rules of the TLSRoute CRD (CEL on spec.hostnames) and the hostname intersection
// of gateway-api-tls-spec.md 3.3, which the constructs use to check that a route can attach.
import { isIP } from 'node:net';

/** The RFC 1123 subdomain regex the TLSRoute CEL rules use for names without `*`. */
const RFC1123 = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*)$/;

/** CEL `isIP(h)`: a textual IPv4 or IPv6 address. */
export function isIpAddress(hostname: string): boolean {
  return isIP(hostname) !== 0;
}

/** CEL: `!h.contains('*') ? h.matches(RFC1123) : true`. */
export function violatesRfc1123(hostname: string): boolean {
  return !hostname.includes('*') && !RFC1123.test(hostname);
}

/** CEL: `h.contains('*') ? (h.startsWith('*.') && h.substring(2).matches(RFC1123)) : true`. */
export function violatesWildcardRule(hostname: string): boolean {
  return hostname.includes('*') && !(hostname.startsWith('*.') && RFC1123.test(hostname.substring(2)));
}

const isWildcardName = (h: string): boolean => h.startsWith('*.');

/**
 * `*.S` matches a name that ends in `.S` with at least one more label in front: the
 * wildcard spans one or more labels (spec 3.3), unlike the single-label certificate rule.
 */
function wildcardMatches(pattern: string, name: string): boolean {
  const suffix = pattern.slice(1); // ".S"
  return name.length > suffix.length && name.endsWith(suffix);
}

/**
 * The hostname a route hostname serves on a listener, or undefined when they do not
 * intersect. A listener without hostname matches everything. Case-insensitive.
 */
export function hostnameIntersection(listenerHostname: string | undefined, routeHostname: string): string | undefined {
  const route = routeHostname.toLowerCase();
  if (listenerHostname === undefined || listenerHostname === '') return route;
  const listener = listenerHostname.toLowerCase();
  const listenerWild = isWildcardName(listener);
  const routeWild = isWildcardName(route);
  if (!listenerWild && !routeWild) return listener === route ? route : undefined;
  if (listenerWild && !routeWild) return wildcardMatches(listener, route) ? route : undefined;
  if (!listenerWild && routeWild) return wildcardMatches(route, listener) ? listener : undefined;
  const a = listener.slice(2);
  const b = route.slice(2);
  if (a === b) return route;
  if (a.endsWith('.' + b)) return listener;
  if (b.endsWith('.' + a)) return route;
  return undefined;
}
