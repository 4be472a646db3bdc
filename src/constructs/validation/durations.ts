// Gateway API durations (GEP-2257), read as the CRD's CEL `duration()` reads them, for the
// HTTPRoute timeouts rule. The schema pattern admits up to four number+unit parts; like
// Go's time.ParseDuration, repeated units add up ("1m1m" is two minutes).
import { GATEWAY_DURATION } from './patterns.js';

const UNIT_MS: Readonly<Record<string, number>> = { h: 3_600_000, m: 60_000, s: 1_000, ms: 1 };

/** Milliseconds, or undefined when the value does not match the schema pattern. */
export function gatewayDurationMs(value: string): number | undefined {
  if (!GATEWAY_DURATION.test(value)) return undefined;
  let total = 0;
  // `ms` before `m`: "5ms" is five milliseconds, "5m5s" five minutes and five seconds.
  for (const [, amount, unit] of value.matchAll(/([0-9]+)(ms|h|m|s)/g)) total += Number(amount) * UNIT_MS[unit!]!;
  return total;
}
