/**
 * Defensive reads of fields that CEL or the loader would normally guarantee. The operator
 * hands translate raw objects, and a malformed one must only ever affect itself, never
 * crash the translate of everything else. These return empty values for wrong types.
 */

/** The entries of an array field that are objects; [] when the field is not an array. */
export function objects<T>(value: readonly T[] | undefined | null): T[] {
  return Array.isArray(value) ? value.filter((v): v is T => typeof v === 'object' && v !== null) : [];
}

/** The string entries of an array field; [] when the field is not an array. */
export function strings(value: readonly unknown[] | undefined | null): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/** A string-to-string map field, keeping only string values; {} for anything else. */
export function stringMap(value: Record<string, unknown> | undefined | null): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return {};
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) if (typeof v === 'string') out[k] = v;
  return out;
}

/** A timestamp field as epoch milliseconds; +Infinity (newest) when missing or invalid. */
export function timeOf(value: unknown): number {
  const t = typeof value === 'string' ? Date.parse(value) : Number.NaN;
  return Number.isNaN(t) ? Number.POSITIVE_INFINITY : t;
}
