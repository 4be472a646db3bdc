// Which listener ports a Gateway's proxies cannot bind, as learned from their NACKs, so that the
// operator can publish the Gateway's config without those listeners (they get
// Accepted=False/PortUnavailable) instead of every change of that Gateway being refused.
//
// A proxy refuses a config atomically and keeps serving the one it has, so trying the full config
// again costs nothing but the try: after a backoff (1 min, doubling to 10 min) a port is left out
// of translate's input once; if the proxies NACK it again, it is remembered again with the longer
// backoff; if they ACK, it is forgotten. A new Gateway generation (the user changed the spec)
// forgets everything about that Gateway at once.
import type { NackPortFailure } from '../src/config-protocol.js';

export const INITIAL_PORT_RETRY_MS = 60_000;
export const MAX_PORT_RETRY_MS = 10 * 60_000;

export interface PortAvailabilityOptions {
  initialRetryMs?: number;
  maxRetryMs?: number;
}

interface GatewayPorts {
  generation: number;
  /** Listener port → why the proxies cannot bind it. */
  ports: Map<number, string>;
  backoffMs: number;
  /** When the full config is tried again (ms since epoch). */
  retryAt: number;
  /** The full config is published right now, as a retry. */
  retrying: boolean;
}

/** What changed, for the operator's log and Events. */
export interface PortAvailabilityChange {
  gateway: string;
  kind: 'unavailable' | 'available';
  ports: number[];
  detail: string;
}

/** `cannot listen on 0.0.0.0:443: EACCES`, from the NACK's (validated) fields only. */
export function describeNackPort(failure: NackPortFailure): string {
  const host = failure.address.includes(':') ? `[${failure.address}]` : failure.address;
  return `cannot listen on ${host}:${failure.port}: ${failure.code}`;
}

export class PortAvailability {
  private readonly gateways = new Map<string, GatewayPorts>();
  private readonly initialRetryMs: number;
  private readonly maxRetryMs: number;

  constructor(options: PortAvailabilityOptions = {}) {
    this.initialRetryMs = options.initialRetryMs ?? INITIAL_PORT_RETRY_MS;
    this.maxRetryMs = options.maxRetryMs ?? MAX_PORT_RETRY_MS;
  }

  /** Forgets Gateways that are gone or whose spec changed (a new generation is a new try). */
  prune(generations: ReadonlyMap<string, number>): void {
    for (const [gateway, entry] of this.gateways) {
      if (generations.get(gateway) !== entry.generation) this.gateways.delete(gateway);
    }
  }

  /**
   * A NACK of the config currently published for `gateway` named these ports. Returns the change
   * when it adds a port (a NACK repeated on reconnect changes nothing).
   */
  learn(gateway: string, generation: number, failures: readonly NackPortFailure[], now: number): PortAvailabilityChange | null {
    if (failures.length === 0) return null;
    let entry = this.gateways.get(gateway);
    if (!entry || entry.generation !== generation) {
      entry = { generation, ports: new Map(), backoffMs: this.initialRetryMs, retryAt: now + this.initialRetryMs, retrying: false };
      this.gateways.set(gateway, entry);
    }
    const added: number[] = [];
    for (const failure of failures) {
      const reason = describeNackPort(failure);
      if (entry.ports.get(failure.port) !== reason) added.push(failure.port);
      entry.ports.set(failure.port, reason);
    }
    if (entry.retrying) {
      // The retry was refused: wait longer before the next one.
      entry.retrying = false;
      entry.retryAt = now + entry.backoffMs;
    }
    if (added.length === 0) return null;
    return { gateway, kind: 'unavailable', ports: added, detail: added.map((p) => entry.ports.get(p)!).join('; ') };
  }

  /** The proxies ACKed the config that is published now: if that was a retry, the ports are served. */
  confirmServed(gateway: string): PortAvailabilityChange | null {
    const entry = this.gateways.get(gateway);
    if (!entry?.retrying) return null;
    this.gateways.delete(gateway);
    return { gateway, kind: 'available', ports: [...entry.ports.keys()], detail: 'the proxies serve the full config again' };
  }

  /**
   * translate's `unavailablePorts` for this reconcile. A Gateway whose retry is due is left out
   * (its full config is published once more) and its next backoff doubles.
   */
  input(now: number): Record<string, Record<number, string>> {
    const input: Record<string, Record<number, string>> = {};
    for (const [gateway, entry] of this.gateways) {
      if (entry.retrying) continue;
      if (now >= entry.retryAt) {
        entry.retrying = true;
        entry.backoffMs = Math.min(entry.backoffMs * 2, this.maxRetryMs);
        continue;
      }
      input[gateway] = Object.fromEntries(entry.ports);
    }
    return input;
  }

  /** Whether the config published for `gateway` is a retry of the full one. */
  isRetrying(gateway: string): boolean {
    return this.gateways.get(gateway)?.retrying === true;
  }

  /** The earliest pending retry (ms since epoch), to schedule a reconcile then. */
  nextRetryAt(): number | undefined {
    let next: number | undefined;
    for (const entry of this.gateways.values()) {
      if (entry.retrying) continue;
      if (next === undefined || entry.retryAt < next) next = entry.retryAt;
    }
    return next;
  }
}

/** The part of a Gateway's delivery status this needs (operator/config-server.ts). */
export interface DeliveryReport {
  currentVersion?: string;
  ackedProxies: number;
  nack?: { version: string | null; ports?: NackPortFailure[] };
}

/**
 * Reads what the proxies answered to the configs published now: a NACK of the current version
 * that names ports is learned, an ACK of a retried full config forgets them. Returns what changed;
 * a refused retry counts as a change too (the reduced config must be published again).
 */
export function absorbDeliveryReports(
  ports: PortAvailability,
  generations: ReadonlyMap<string, number>,
  reportOf: (gateway: string) => DeliveryReport | undefined,
  now: number,
): PortAvailabilityChange[] {
  ports.prune(generations);
  const changes: PortAvailabilityChange[] = [];
  for (const [gateway, generation] of generations) {
    const report = reportOf(gateway);
    if (report?.currentVersion === undefined) continue;
    const nack = report.nack;
    const refusesCurrent = nack !== undefined && nack.version === report.currentVersion;
    if (refusesCurrent && nack.ports && nack.ports.length > 0) {
      const retried = ports.isRetrying(gateway);
      const change = ports.learn(gateway, generation, nack.ports, now);
      if (change) changes.push(change);
      else if (retried) changes.push({ gateway, kind: 'unavailable', ports: nack.ports.map((p) => p.port), detail: 'still unavailable' });
      continue;
    }
    if (!refusesCurrent && report.ackedProxies > 0) {
      const change = ports.confirmServed(gateway);
      if (change) changes.push(change);
    }
  }
  return changes;
}

/** The parts of a ListenerSet the admin-port check reads. */
interface ListenerSetPorts {
  metadata: { namespace?: string; name: string };
  spec?: { parentRef?: { group?: string; kind?: string; name?: string; namespace?: string }; listeners?: readonly { port?: unknown }[] };
}

/**
 * Listener ports that are the proxy's own admin port in its pod: known up front, so reported as
 * PortUnavailable without publishing a config the proxy can only refuse. A ListenerSet's
 * listeners are served by its parent Gateway's proxies, so a set's listener there marks the
 * port on the parent (translate applies a Gateway's unavailable ports to its sets' listeners).
 */
export function adminPortConflicts(
  gateways: readonly { metadata: { namespace?: string; name: string }; spec?: { listeners?: readonly { port?: unknown }[] } }[],
  adminPort: number,
  listenerSets: readonly ListenerSetPorts[] = [],
): Record<string, Record<number, string>> {
  const conflicts: Record<string, Record<number, string>> = {};
  const why = `port ${adminPort} is the proxy's own admin port (health, metrics) in its pod`;
  const onAdminPort = (listeners: unknown): boolean => Array.isArray(listeners) && listeners.some((l: { port?: unknown } | null) => l?.port === adminPort);
  for (const gateway of gateways) {
    if (!onAdminPort(gateway.spec?.listeners)) continue;
    conflicts[`${gateway.metadata.namespace ?? 'default'}/${gateway.metadata.name}`] = { [adminPort]: why };
  }
  for (const set of listenerSets) {
    const parent = set.spec?.parentRef;
    if (!parent?.name || !onAdminPort(set.spec?.listeners)) continue;
    if ((parent.group ?? 'gateway.networking.k8s.io') !== 'gateway.networking.k8s.io' || (parent.kind ?? 'Gateway') !== 'Gateway') continue;
    conflicts[`${parent.namespace ?? set.metadata.namespace ?? 'default'}/${parent.name}`] = { [adminPort]: why };
  }
  return conflicts;
}

/** Both inputs together; a port in both keeps the admin-port reason (it is the one that never changes). */
export function mergeUnavailable(...inputs: Record<string, Record<number, string>>[]): Record<string, Record<number, string>> {
  const merged: Record<string, Record<number, string>> = {};
  for (const input of inputs) {
    for (const [gateway, ports] of Object.entries(input)) merged[gateway] = { ...merged[gateway], ...ports };
  }
  return merged;
}
