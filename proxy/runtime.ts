// The proxy runtime: the one entry point standalone mode, the proxy command and the
// benchmarks use. workers <= 1 runs the engine in this process; workers > 1 makes this
// process a node:cluster primary whose workers share the listening ports and accept from
// them directly (proxy/cluster-primary.ts).
import { randomBytes } from 'node:crypto';
import type { ProxyConfig, ProxySettings } from '../src/proxy-config.js';
import { startAdminServer, type AdminServer } from './admin.js';
import { rotateTicketKeyRing, sharedTicketKeyRing, TICKET_KEY_BYTES } from './certificates.js';
import { ProxyEngine, type BoundPort } from './engine.js';
import { createMetrics } from './metrics.js';
import { gatewayKey } from './routing.js';
import { settingsProblem } from './settings.js';

export interface ProxyRuntimeOptions {
  /** Bind address for listener ports, e.g. '127.0.0.1' or '0.0.0.0'. */
  address: string;
  /** Added to every listener port (standalone: 443 → 443+N). */
  portOffset?: number;
  /** N worker processes sharing the listeners (node:cluster); 1 = in-process. */
  workers?: number;
  /** 'host:port' for /healthz /readyz /metrics /config_dump; omit = none. */
  adminAddress?: string;
  /** Defaults for limits/timeouts (a config's own settings override them). */
  settings?: ProxySettings;
  /** JSON lines, one per connection; default process.stdout; null = no access log. */
  accessLog?: NodeJS.WritableStream | null;
  /** How often the session-ticket key is replaced (default TICKET_KEY_ROTATION_MS). */
  ticketKeyRotationMs?: number;
}

export interface ProxyRuntime {
  /** Validate and apply the full set of configs (one per Gateway) atomically; resolves when every
   *  port is bound in every worker; rejects with an Error (nothing changed) when a config is invalid
   *  or a port cannot be bound. */
  apply(configs: ProxyConfig[]): Promise<void>;
  readonly appliedVersions: ReadonlyMap<string /* ns/name */, string>;
  ready(): boolean;
  /** Why it is not ready (for /readyz): no config yet, a port not bound, draining; null when ready. */
  notReadyReason(): string | null;
  /** Replaces the session-ticket key now (the schedule does it every ticketKeyRotationMs); tickets
   *  under the key it replaces still resume until the next rotation. Resolves when every worker has it. */
  rotateTicketKeys(): Promise<void>;
  /** Stop accepting, report not ready, drain for graceMs, then close everything. */
  shutdown(graceMs?: number): Promise<void>;
  /** Ports actually bound, per gateway and listener port (useful with port 0 in tests). */
  boundPorts(): { gateway: string; port: number; boundPort: number }[];
  /** The admin server's bound port (useful with adminAddress '127.0.0.1:0'); null without one. */
  adminPort(): number | null;
}

export const DEFAULT_SHUTDOWN_GRACE_MS = 10_000;
/**
 * Session-ticket keys are replaced this often. A key encrypts new tickets for one interval and
 * decrypts for two; tickets are valid for one interval (DEFAULT_TICKET_LIFETIME_SECONDS in
 * certificates.ts), so every ticket resumes for its whole lifetime, also across a rotation.
 */
export const TICKET_KEY_ROTATION_MS = 60 * 60 * 1000;

export async function startProxyRuntime(options: ProxyRuntimeOptions): Promise<ProxyRuntime> {
  checkOptions(options);
  if ((options.workers ?? 1) > 1) {
    const { startClusterRuntime } = await import('./cluster-primary.js');
    return startClusterRuntime(options);
  }
  return startLocalRuntime(options);
}

function checkOptions(options: ProxyRuntimeOptions): void {
  if (typeof options.address !== 'string' || options.address === '') throw new Error('proxy runtime: address is required');
  const offset = options.portOffset ?? 0;
  if (!Number.isInteger(offset) || offset < 0 || offset > 65535) throw new Error(`proxy runtime: portOffset must be an integer 0..65535, got ${offset}`);
  const workers = options.workers ?? 1;
  if (!Number.isInteger(workers) || workers < 1) throw new Error(`proxy runtime: workers must be a positive integer, got ${workers}`);
  const rotation = options.ticketKeyRotationMs ?? TICKET_KEY_ROTATION_MS;
  // setInterval's limit is 2^31 - 1 ms (about 24.8 days).
  if (!Number.isInteger(rotation) || rotation < 1 || rotation > 2 ** 31 - 1) {
    throw new Error(`proxy runtime: ticketKeyRotationMs must be an integer 1..${2 ** 31 - 1}, got ${rotation}`);
  }
  const problem = settingsProblem(options.settings, 'proxy runtime: settings');
  if (problem !== null) throw new Error(problem);
}

/** Adapts a writable stream to the access-log sink; null when logging is off. */
export function accessLogSink(stream: NodeJS.WritableStream | null | undefined): { write(line: string): void } | null {
  if (stream === null) return null;
  const target = stream ?? process.stdout;
  // A broken log stream (EPIPE on a closed stdout, a full disk) must not take traffic down:
  // say so once and stop logging.
  let broken = false;
  target.on('error', (err: Error) => {
    if (broken) return;
    broken = true;
    process.stderr.write(`tlsgate proxy: access log stopped: ${err.message}\n`);
  });
  return {
    write: (line: string) => {
      if (!broken) target.write(line);
    },
  };
}

/** A not-ready reason, with why the last config was refused when no config serves yet. */
export function withRefusal(reason: string | null, refusal: string | null): string | null {
  if (reason === null || refusal === null) return reason;
  return `${reason}; the last config was refused: ${refusal}`;
}

export function versionsOf(configs: ProxyConfig[]): Map<string, string> {
  return new Map(configs.map((c) => [gatewayKey(c), c.version]));
}

async function startLocalRuntime(options: ProxyRuntimeOptions): Promise<ProxyRuntime> {
  let engine: ProxyEngine;
  const metrics = createMetrics({ defaultMetrics: true, activeConnections: () => engine.activeByGateway() });
  let ticketKeys: Buffer = randomBytes(TICKET_KEY_BYTES);
  engine = new ProxyEngine({
    address: options.address,
    portOffset: options.portOffset ?? 0,
    settings: options.settings,
    accessLog: accessLogSink(options.accessLog),
    metrics,
    ticketKeys,
  });
  const rotateTicketKeys = async (): Promise<void> => {
    ticketKeys = rotateTicketKeyRing(ticketKeys, randomBytes(TICKET_KEY_BYTES));
    engine.rotateTicketKeys(ticketKeys);
  };
  /** While the configs carry the operator's ring, it rotates the keys, not this schedule. */
  let sharedRing = false;
  const rotation = setInterval(() => {
    if (!sharedRing) void rotateTicketKeys();
  }, options.ticketKeyRotationMs ?? TICKET_KEY_ROTATION_MS).unref();
  let appliedVersions = new Map<string, string>();
  let stopping = false;
  let lastRefusal: string | null = null;
  const runtime: ProxyRuntime = {
    async apply(configs) {
      try {
        await engine.apply(configs);
      } catch (err) {
        lastRefusal = (err as Error).message;
        throw err;
      }
      lastRefusal = null;
      appliedVersions = versionsOf(configs);
      // After the apply, so a refused config changes nothing; on the contexts in place, so hitless.
      const ring = sharedTicketKeyRing(configs);
      sharedRing = ring !== null;
      if (ring !== null && !ring.equals(ticketKeys)) {
        ticketKeys = ring;
        engine.rotateTicketKeys(ring);
      }
    },
    get appliedVersions() {
      return appliedVersions;
    },
    ready: () => !stopping && engine.ready(),
    notReadyReason: () => (stopping ? 'draining: the proxy is shutting down' : withRefusal(engine.notReadyReason(), engine.appliedOnce ? null : lastRefusal)),
    rotateTicketKeys,
    async shutdown(graceMs = DEFAULT_SHUTDOWN_GRACE_MS) {
      if (stopping) return;
      stopping = true;
      clearInterval(rotation);
      await engine.shutdown(graceMs);
      await admin?.close();
    },
    boundPorts: (): BoundPort[] => engine.boundPorts(),
    adminPort: () => admin?.port ?? null,
  };
  let admin: AdminServer | undefined;
  if (options.adminAddress) {
    admin = await startAdminServer(options.adminAddress, {
      ready: () => runtime.ready(),
      notReadyReason: () => runtime.notReadyReason(),
      metrics: async () => ({ contentType: metrics.registry.contentType, body: await metrics.registry.metrics() }),
      configs: () => engine.appliedConfigs(),
      get appliedVersions() {
        return appliedVersions;
      },
    }).catch((err: Error) => {
      clearInterval(rotation);
      throw err;
    });
  }
  return runtime;
}
