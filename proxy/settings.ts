// The engine's limits and timeouts, with their documented defaults (docs/proxy.md).
// Precedence: a Gateway's config.settings, then the runtime's options.settings, then these.
import type { ProxySettings } from '../src/proxy-config.js';

export type ResolvedSettings = Required<ProxySettings>;

export const DEFAULT_SETTINGS: ResolvedSettings = Object.freeze({
  /** Whole ClientHello (and, for Terminate, the TLS handshake) must arrive within this. */
  clientHelloTimeoutMs: 10_000,
  /** Bytes buffered while waiting for a complete ClientHello. */
  maxClientHelloBytes: 16 * 1024,
  /** Per backend connect attempt. */
  connectTimeoutMs: 5_000,
  /** No byte in either direction for this long closes the connection. */
  idleTimeoutMs: 60 * 60 * 1000,
  /** Concurrent connections routed to one listener; more are rejected. */
  maxConnectionsPerListener: 10_000,
});

const FIELDS = Object.keys(DEFAULT_SETTINGS) as (keyof ProxySettings)[];

/** Checks every present field is a positive integer; returns the first problem or null. */
export function settingsProblem(settings: ProxySettings | undefined, where: string): string | null {
  if (settings === undefined || settings === null) return null;
  if (typeof settings !== 'object') return `${where}: must be an object`;
  for (const field of FIELDS) {
    const value = settings[field];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
      return `${where}.${field}: must be a positive integer, got ${JSON.stringify(value)}`;
    }
  }
  return null;
}

export function resolveSettings(...layers: (ProxySettings | undefined)[]): ResolvedSettings {
  const out: ResolvedSettings = { ...DEFAULT_SETTINGS };
  for (const layer of layers) {
    if (!layer) continue;
    for (const field of FIELDS) {
      const value = layer[field];
      if (value !== undefined) out[field] = value;
    }
  }
  return out;
}

/**
 * The share of maxConnectionsPerListener that one of N workers enforces, so that the whole
 * process never holds more than the configured limit on a listener: floor(limit / N), at least
 * 1 (a limit below N then admits up to N). Workers do not see each other's counts, so the
 * process may refuse a connection while another worker still has room (up to N - 1 below the
 * limit when it does not divide evenly, more when the kernel spreads connections unevenly).
 */
export function perWorkerConnectionLimit(limit: number, workers: number): number {
  return Math.max(1, Math.floor(limit / Math.max(1, workers)));
}
