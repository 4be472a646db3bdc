// The cluster primary behind `workers > 1`: forks the workers, checks every config once
// before any worker sees it, sends it to all of them and resolves apply() only when all have
// applied it. A worker that dies is replaced and given the current config. The primary owns
// the admin server (metrics aggregated across workers), the access-log stream and the
// session-ticket keys (one ring for all workers, so a ticket from one resumes on another).
//
// Scheduling: the workers accept from the shared listening sockets themselves
// (cluster.SCHED_NONE) instead of the primary accepting every connection and passing it on
// (round robin, Node's default), which cost more CPU per connection than a single worker
// (docs/performance.md, "Workers"). NODE_CLUSTER_SCHED_POLICY=rr still selects round robin.
import cluster, { type Worker } from 'node:cluster';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import client from 'prom-client';
import type { ProxyConfig } from '../src/proxy-config.js';
import { startAdminServer, type AdminServer } from './admin.js';
import { buildServingCertificate, rotateTicketKeyRing, sharedTicketKeyRing, TICKET_KEY_BYTES, type TicketKeyRing } from './certificates.js';
import { splitConfigs } from './config-transfer.js';
import { prepareConfigs, slotKey, type BoundPort } from './engine.js';
import { isWorkerMessage, WORKER_OPTIONS_ENV, type PrimaryMessage, type WorkerBootOptions, type WorkerMessage } from './ipc.js';
import { PortsUnavailableError, type PortFailure } from './port-failures.js';
import { gatewayKey } from './routing.js';
import { accessLogSink, DEFAULT_SHUTDOWN_GRACE_MS, TICKET_KEY_ROTATION_MS, versionsOf, withRefusal, type ProxyRuntime, type ProxyRuntimeOptions } from './runtime.js';
import { proxyGlibcTunables, proxyWorkerExecArgv } from '../src/proxy-process-env.js';

interface ApplyReply {
  error: string | null;
  failures?: PortFailure[];
  bound: BoundPort[];
}

interface WorkerState {
  worker: Worker;
  /** Resolves when the worker is ready for messages, or has exited (check isConnected()). */
  started: Promise<void>;
  /** The id of the last apply this worker acknowledged successfully. */
  appliedId: number;
  pending: Map<number, (reply: ApplyReply) => void>;
  /** Ticket-key rotations sent and not yet confirmed. */
  rotations: Map<number, () => void>;
}

/** Picks a free port for a port-0 listener so that all workers share that one port. */
async function freePort(address: string): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', reject);
    probe.listen({ host: address, port: 0 }, resolve);
  });
  const port = (probe.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

export async function startClusterRuntime(options: ProxyRuntimeOptions): Promise<ProxyRuntime> {
  const count = options.workers ?? 1;
  const portOffset = options.portOffset ?? 0;
  const sink = accessLogSink(options.accessLog);
  let ticketKeys: TicketKeyRing = randomBytes(TICKET_KEY_BYTES);
  /** While the configs carry the operator's ring, it rotates the keys, not this schedule. */
  let sharedRing = false;
  const boot: WorkerBootOptions = {
    address: options.address,
    portOffset,
    settings: options.settings,
    accessLog: sink !== null,
    ticketKeysHex: ticketKeys.toString('hex'),
    workers: count,
  };
  // Frozen by the first setupPrimary() of this process; the environment variable wins.
  if (process.env.NODE_CLUSTER_SCHED_POLICY === undefined) cluster.schedulingPolicy = cluster.SCHED_NONE;
  cluster.setupPrimary({
    exec: fileURLToPath(new URL('./worker-main.js', import.meta.url)),
    args: [],
    // The primary's flags and the proxy's V8 flags (PROXY_NODE_FLAGS), not the test runner's.
    execArgv: proxyWorkerExecArgv(process.execArgv),
  });
  const aggregator = new client.AggregatorRegistry();
  const workers = new Map<number, WorkerState>();
  let stopping = false;
  let applyId = 0;
  let current: { id: number; configs: ProxyConfig[]; ephemeralPorts: Record<string, number> } | null = null;
  let appliedVersions = new Map<string, string>();
  let bound: BoundPort[] = [];
  /** Why the last apply failed, while no config has been applied (for /readyz). */
  let lastRefusal: string | null = null;
  let chain: Promise<void> = Promise.resolve();
  let starting = true;
  let startupFailed!: (err: Error) => void;
  const startupFailure = new Promise<never>((_, reject) => (startupFailed = reject));
  startupFailure.catch(() => undefined); // observed by the race below; never unhandled

  function fork(): WorkerState {
    const worker = cluster.fork({
      [WORKER_OPTIONS_ENV]: JSON.stringify({ ...boot, ticketKeysHex: ticketKeys.toString('hex') }),
      // Read by glibc when the worker starts; the primary's own heap is not on the data path.
      GLIBC_TUNABLES: proxyGlibcTunables(process.env),
    });
    let markStarted!: () => void;
    const state: WorkerState = { worker, started: new Promise((r) => (markStarted = r)), appliedId: -1, pending: new Map(), rotations: new Map() };
    workers.set(worker.id, state);
    worker.on('message', (message: unknown) => {
      if (!isWorkerMessage(message)) return;
      const m = message as WorkerMessage;
      if (m.type === 'tlsgate:started') markStarted();
      else if (m.type === 'tlsgate:log') sink?.write(m.lines);
      else if (m.type === 'tlsgate:applied') {
        if (m.error === null) state.appliedId = Math.max(state.appliedId, m.id);
        state.pending.get(m.id)?.({ error: m.error, ...(m.failures ? { failures: m.failures } : {}), bound: m.bound });
        state.pending.delete(m.id);
      } else if (m.type === 'tlsgate:ticket-keys-set') {
        state.rotations.get(m.id)?.();
        state.rotations.delete(m.id);
      }
    });
    worker.on('error', () => undefined); // IPC errors surface as 'exit' below
    worker.on('exit', (code, signal) => {
      workers.delete(worker.id);
      // Nobody may wait forever for a worker that died before it started (startup has its own path).
      if (!starting) markStarted();
      for (const resolve of state.pending.values()) resolve({ error: `worker ${worker.id} exited (${signal ?? code})`, bound: [] });
      state.pending.clear();
      for (const resolve of state.rotations.values()) resolve();
      state.rotations.clear();
      if (stopping) return;
      if (starting) {
        // A worker that cannot even start would crash-loop; fail startup instead.
        startupFailed(new Error(`proxy runtime: worker ${worker.id} exited during startup (${signal ?? code})`));
        return;
      }
      process.stderr.write(`tlsgate proxy: worker ${worker.id} exited (${signal ?? code}); starting a replacement\n`);
      const replacement = fork();
      if (current !== null) void sendApply(replacement, current.id, current.configs, current.ephemeralPorts).catch(() => undefined);
    });
    return state;
  }

  async function sendApply(state: WorkerState, id: number, configs: ProxyConfig[], ephemeralPorts: Record<string, number>): Promise<ApplyReply> {
    await state.started;
    if (!state.worker.isConnected()) return { error: `worker ${state.worker.id} exited before it applied the config`, bound: [] };
    return new Promise<ApplyReply>((resolve) => {
      state.pending.set(id, resolve);
      // In pieces: a worker parses each message in one go, between its connections' events.
      const { skeleton, pieces } = splitConfigs(configs);
      const message: PrimaryMessage = { type: 'tlsgate:apply', id, configs: skeleton, ephemeralPorts, pieceCount: pieces.length };
      state.worker.send(message);
      for (const piece of pieces) state.worker.send({ type: 'tlsgate:apply-piece', id, piece } satisfies PrimaryMessage);
    });
  }

  async function applyNow(configs: ProxyConfig[]): Promise<void> {
    if (stopping) throw new Error('apply: the proxy is shutting down');
    // Check once here (structure, ports, every certificate), so workers never disagree.
    prepareConfigs(configs, portOffset, options.settings, (cert, where) => buildServingCertificate(cert, ticketKeys, where), () => ({ active: 0 }));
    const ephemeralPorts: Record<string, number> = {};
    for (const config of configs) {
      const gateway = gatewayKey(config);
      for (let i = 0; i < config.ports.length; i++) {
        if (config.ports[i]!.port !== 0) continue;
        const key = slotKey(gateway, i, 0, portOffset);
        ephemeralPorts[key] = current?.ephemeralPorts[key] ?? (await freePort(options.address));
      }
    }
    const id = ++applyId;
    const states = [...workers.values()];
    const replies = await Promise.all(states.map((s) => sendApply(s, id, configs, ephemeralPorts)));
    const failed = replies.find((r) => r.error !== null);
    if (failed) {
      // Put every worker back on the previous config, so that "nothing changed" holds.
      if (current !== null) {
        const previous = current;
        const rollbackId = ++applyId;
        await Promise.all([...workers.values()].map((s) => sendApply(s, rollbackId, previous.configs, previous.ephemeralPorts)));
        current = { ...previous, id: rollbackId };
      }
      // The workers share one set of sockets, so a port one cannot bind none can: the first
      // refusal's port failures stand for all of them.
      throw failed.failures && failed.failures.length > 0 ? new PortsUnavailableError(failed.failures) : new Error(failed.error as string);
    }
    current = { id, configs, ephemeralPorts };
    appliedVersions = versionsOf(configs);
    bound = replies[0]?.bound ?? [];
    // After the apply, so a refused config changes nothing; on the contexts in place, so hitless.
    const ring = sharedTicketKeyRing(configs);
    sharedRing = ring !== null;
    if (ring !== null && !ring.equals(ticketKeys)) await sendTicketKeys(ring);
  }

  let rotationId = 0;
  /** A new current key for every worker; the former one still decrypts until the next rotation. */
  function rotateTicketKeys(): Promise<void> {
    return sendTicketKeys(rotateTicketKeyRing(ticketKeys, randomBytes(TICKET_KEY_BYTES)));
  }
  /** Resolves when every worker has the ring. */
  async function sendTicketKeys(ring: TicketKeyRing): Promise<void> {
    ticketKeys = ring;
    const message: PrimaryMessage = { type: 'tlsgate:ticket-keys', id: ++rotationId, keysHex: ticketKeys.toString('hex') };
    await Promise.all(
      [...workers.values()].map(async (s) => {
        await s.started;
        if (!s.worker.isConnected()) return;
        await new Promise<void>((resolve) => {
          s.rotations.set(message.id, resolve);
          s.worker.send(message);
        });
      }),
    );
  }
  const rotation = setInterval(() => {
    if (!sharedRing) void rotateTicketKeys();
  }, options.ticketKeyRotationMs ?? TICKET_KEY_ROTATION_MS).unref();

  const runtime: ProxyRuntime = {
    apply(configs) {
      const run = chain.then(() => applyNow(configs)).then(
        () => void (lastRefusal = null),
        (err: Error) => {
          lastRefusal = err.message;
          throw err;
        },
      );
      chain = run.catch(() => undefined);
      return run;
    },
    get appliedVersions() {
      return appliedVersions;
    },
    ready() {
      return runtime.notReadyReason() === null;
    },
    notReadyReason() {
      if (stopping) return 'draining: the proxy is shutting down';
      if (current === null) return withRefusal('no config applied yet', lastRefusal);
      if (workers.size !== count) return `${count - workers.size} of ${count} workers are being replaced`;
      for (const s of workers.values()) if (s.appliedId !== current.id) return `worker ${s.worker.id} has not applied the current config yet`;
      return null;
    },
    async shutdown(graceMs = DEFAULT_SHUTDOWN_GRACE_MS) {
      if (stopping) return;
      stopping = true;
      clearInterval(rotation);
      const exits = [...workers.values()].map(
        (s) =>
          new Promise<void>((resolve) => {
            if (s.worker.isDead()) return resolve();
            s.worker.once('exit', () => resolve());
            const kill = setTimeout(() => s.worker.process.kill('SIGKILL'), graceMs + 5000);
            s.worker.once('exit', () => clearTimeout(kill));
            const message: PrimaryMessage = { type: 'tlsgate:shutdown', graceMs };
            if (s.worker.isConnected()) s.worker.send(message);
            else s.worker.process.kill('SIGTERM');
          }),
      );
      await Promise.all(exits);
      await admin?.close();
    },
    rotateTicketKeys,
    boundPorts: () => bound.map((b) => ({ ...b })),
    adminPort: () => admin?.port ?? null,
  };

  let admin: AdminServer | undefined;
  try {
    for (let i = 0; i < count; i++) fork();
    await Promise.race([Promise.all([...workers.values()].map((s) => s.started)), startupFailure]);
    if (options.adminAddress) {
      admin = await startAdminServer(options.adminAddress, {
        ready: () => runtime.ready(),
        notReadyReason: () => runtime.notReadyReason(),
        metrics: async () => ({ contentType: aggregator.contentType, body: await aggregator.clusterMetrics() }),
        configs: () => current?.configs ?? [],
        get appliedVersions() {
          return appliedVersions;
        },
      });
    }
  } catch (err) {
    // Leave no workers behind when startup fails (admin address taken, worker crash).
    await runtime.shutdown(0);
    throw err;
  }
  starting = false;
  return runtime;
}
