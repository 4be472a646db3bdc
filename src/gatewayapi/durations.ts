/**
 * Gateway API durations (GEP-2257, the `Duration` type of HTTPRouteTimeouts): one to four
 * `<1-5 digits><unit>` groups, units `h`, `m`, `s`, `ms`, summed: `1s`, `500ms`, `1h2m`,
 * `1m30s`. A subset of Go's time.ParseDuration: no fractions, no signs, no `us`/`ns`.
 */

const DURATION = /^([0-9]{1,5}(h|m|s|ms)){1,4}$/;
const GROUP = /([0-9]{1,5})(ms|h|m|s)/g;
const UNIT_MS: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1_000, ms: 1 };

/** Milliseconds of a Gateway API duration, or undefined when the text is not one. */
export function parseGatewayDuration(text: unknown): number | undefined {
  if (typeof text !== 'string' || !DURATION.test(text)) return undefined;
  let total = 0;
  for (const [, digits, unit] of text.matchAll(GROUP)) total += Number(digits) * UNIT_MS[unit!]!;
  return total;
}
