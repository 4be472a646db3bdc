/** Canonical JSON (object keys sorted, no whitespace) and its sha256, for content versions. */
import { createHash } from 'node:crypto';

/**
 * Canonical JSON: object keys sorted, no whitespace, `undefined` members dropped (as
 * JSON.stringify does). `memo` caches the text of objects by identity: translate shares
 * one endpoint list between every backend of a Service port and one backend list between
 * every listener of a route, so each shared subtree is serialized once per translate.
 * Objects in the memo must not be mutated afterwards (translate never does).
 */
export function canonicalJson(value: unknown, memo?: WeakMap<object, string>): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  const cached = memo?.get(value);
  if (cached !== undefined) return cached;
  let text: string;
  if (Array.isArray(value)) {
    const parts: string[] = [];
    for (const v of value) parts.push(v === undefined ? 'null' : canonicalJson(v, memo));
    text = '[' + parts.join(',') + ']';
  } else {
    const obj = value as Record<string, unknown>;
    const parts: string[] = [];
    for (const k of Object.keys(obj).sort()) {
      const v = obj[k];
      if (v !== undefined && typeof v !== 'function') parts.push(JSON.stringify(k) + ':' + canonicalJson(v, memo));
    }
    text = '{' + parts.join(',') + '}';
  }
  memo?.set(value, text);
  return text;
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
