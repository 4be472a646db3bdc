/**
 * The measured phases. Each one is bounded in time (or in connections), preceded by an
 * unmeasured warm-up of the same work, and measured on the proxy's side by the CPU time of its
 * whole process tree between just before the work starts and just after the last connection
 * closed. Dividing the work done by that CPU time ("per proxy CPU-second") compares proxies
 * fairly even when the single-core load generator, not the proxy, limits the raw rate.
 */
import type { LoadGenerators } from './children.js';
import { sleep } from './proxy-process.js';
import { cpuSecondsOf, minorFaultsOf, openFilesOf, processTree, residentBytesOf } from './system.js';
import type { BenchTarget } from './targets.js';
import { PASS_HELLO_ANSWER_BYTES, SNI, TERM_GREETING, type ConnectionSpec, type LoadCommand, type Workload } from './workloads.js';

export interface PhaseSettings {
  durationMs: number;
  warmupMs: number;
  /**
   * The warm-up before a target's first repetition of a phase. V8 keeps optimising a Node
   * proxy's hot functions for seconds after it starts (TurboFan compiles trickle in at 3–25 per
   * second, docs/performance.md "Where a connection's CPU goes"); a long-running proxy has done
   * that long before, so the measured phases should not pay for it. Every target gets it alike.
   */
  firstWarmupMs: number;
  latencyCount: number;
  tlsLatencyCount: number;
  idleConnections: number;
}

export const FULL_SETTINGS: PhaseSettings = { durationMs: 2000, warmupMs: 500, firstWarmupMs: 3000, latencyCount: 1000, tlsLatencyCount: 300, idleConnections: 9000 };
export const QUICK_SETTINGS: PhaseSettings = { durationMs: 1000, warmupMs: 300, firstWarmupMs: 1000, latencyCount: 300, tlsLatencyCount: 100, idleConnections: 2000 };

/** Connections in flight while measuring new connections (raw ClientHellos) and handshakes. */
const CONNECT_CONCURRENCY = 64;
const HANDSHAKE_CONCURRENCY = 32;
/** Connections opened at a time while building up the idle set. */
const IDLE_OPEN_CONCURRENCY = 200;

export type RatePhaseId = 'passBulk1' | 'passBulk16' | 'passConnect' | 'termHandshake' | 'termBulk16';

export interface RatePhase {
  id: RatePhaseId;
  title: string;
  /** What the rate counts: bytes (reported in MB) or connections. */
  counts: 'bytes' | 'connections';
  command(connection: (workload: Workload) => ConnectionSpec, durationMs: number): LoadCommand;
  workload: Workload;
}

export const RATE_PHASES: readonly RatePhase[] = [
  {
    id: 'passBulk1',
    title: 'Passthrough bulk, 1 connection',
    counts: 'bytes',
    workload: 'passBulk',
    command: (c, durationMs) => ({ kind: 'bulk', connection: c('passBulk'), connections: 1, durationMs }),
  },
  {
    id: 'passBulk16',
    title: 'Passthrough bulk, 16 connections',
    counts: 'bytes',
    workload: 'passBulk',
    command: (c, durationMs) => ({ kind: 'bulk', connection: c('passBulk'), connections: 16, durationMs }),
  },
  {
    id: 'passConnect',
    title: 'Passthrough new connections',
    counts: 'connections',
    workload: 'passHello',
    command: (c, durationMs) => ({ kind: 'connect-rate', connection: c('passHello'), concurrency: CONNECT_CONCURRENCY, durationMs }),
  },
  {
    id: 'termHandshake',
    title: 'Terminate TLS 1.3 full handshakes',
    counts: 'connections',
    workload: 'termHello',
    command: (c, durationMs) => ({ kind: 'connect-rate', connection: c('termHello'), concurrency: HANDSHAKE_CONCURRENCY, durationMs }),
  },
  {
    id: 'termBulk16',
    title: 'Terminate bulk, 16 connections',
    counts: 'bytes',
    workload: 'termBulk',
    command: (c, durationMs) => ({ kind: 'bulk', connection: c('termBulk'), connections: 16, durationMs }),
  },
];

/** How to reach one workload through one target. */
export function connectionFor(target: BenchTarget, hellos: ReadonlyMap<Workload, Buffer>): (workload: Workload) => ConnectionSpec {
  return (workload) => {
    const endpoint = target.endpoint(workload);
    const hello = hellos.get(workload);
    if (workload.startsWith('pass')) {
      if (!hello) throw new Error(`no recorded ClientHello for ${workload}`);
      return { endpoint, protocol: 'raw', helloBase64: hello.toString('base64'), servername: SNI[workload], expectBytes: PASS_HELLO_ANSWER_BYTES };
    }
    return { endpoint, protocol: 'tls', servername: SNI[workload], expectBytes: Buffer.byteLength(TERM_GREETING) };
  };
}

export interface RateMeasurement {
  /** Bytes or connections completed. */
  amount: number;
  elapsedSeconds: number;
  /** CPU seconds the proxy's processes used; undefined for direct. */
  proxyCpuSeconds: number | undefined;
  /** CPU seconds the load side used meanwhile (load generators, backends, orchestrator): near one core means it, not the proxy, set the pace. */
  loadCpuSeconds?: number;
  /**
   * The proxy's minor page faults over the phase; kept in the JSON, not the tables. A proxy whose
   * allocator keeps returning and re-faulting its read buffers shows several per read (that is how
   * the slow bulk repetitions were explained, docs/proxy.md "Process settings").
   */
  proxyMinorFaults?: number;
  errors: number;
  firstError?: string;
  /** The proxy was still busy with earlier work when the phase started or ended. */
  notQuiet?: boolean;
}

function proxyPids(target: BenchTarget): number[] {
  return target.process ? processTree(target.process.pid) : [];
}

/** Descriptors a proxy may hold beyond its idle count and still be "quiet" (admin, IPC, logs). */
const QUIET_EXTRA_FILES = 8;
const QUIET_TIMEOUT_MS = 60000;

/** A proxy using less CPU than this over QUIET_WINDOW_MS counts as idle (one 10 ms tick at most). */
const QUIET_CPU_SECONDS = 0.011;
const QUIET_WINDOW_MS = 250;

/**
 * Waits until the proxy has finished what the previous phase left: its open files back near
 * the idle count and its CPU idle (closing thousands of connections keeps an event loop busy
 * after the descriptors are gone). One phase's teardown is then neither slowing down nor
 * charged to the next. Returns false when it did not get there in time.
 */
export async function waitForQuiet(target: BenchTarget, idleFiles: number): Promise<boolean> {
  if (!target.process) return true;
  const deadline = Date.now() + QUIET_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const pids = proxyPids(target);
    const cpuBefore = cpuSecondsOf(pids);
    await sleep(QUIET_WINDOW_MS);
    const busy = cpuSecondsOf(pids) - cpuBefore;
    if (busy < QUIET_CPU_SECONDS && openFilesOf(pids) <= idleFiles + QUIET_EXTRA_FILES) return true;
  }
  return false;
}

/** The proxy's open files when it carries no traffic; measured once after start. */
export function idleOpenFiles(target: BenchTarget): number {
  return target.process ? openFilesOf(proxyPids(target)) : 0;
}

export async function measureRate(
  target: BenchTarget,
  idleFiles: number,
  generators: LoadGenerators,
  phase: RatePhase,
  connection: (w: Workload) => ConnectionSpec,
  settings: PhaseSettings,
  loadPids: readonly number[] = [],
): Promise<RateMeasurement> {
  if (settings.warmupMs > 0) await generators.run(phase.command(connection, settings.warmupMs));
  const quietBefore = await waitForQuiet(target, idleFiles);
  const pids = proxyPids(target);
  const loadCpuBefore = cpuSecondsOf([...loadPids]);
  const cpuBefore = cpuSecondsOf(pids);
  const faultsBefore = minorFaultsOf(pids);
  const result = await generators.run(phase.command(connection, settings.durationMs));
  const loadCpuSeconds = cpuSecondsOf([...loadPids]) - loadCpuBefore;
  // The proxy's share of closing this phase's connections belongs to this phase; the idle
  // window that ends the wait adds at most one clock tick.
  const quietAfter = await waitForQuiet(target, idleFiles);
  const cpuAfter = cpuSecondsOf(pids);
  const faultsAfter = minorFaultsOf(pids);
  return {
    amount: phase.counts === 'bytes' ? result.bytes : result.ops,
    elapsedSeconds: result.elapsedMs / 1000,
    proxyCpuSeconds: target.process ? cpuAfter - cpuBefore : undefined,
    ...(loadPids.length > 0 ? { loadCpuSeconds } : {}),
    ...(target.process ? { proxyMinorFaults: faultsAfter - faultsBefore } : {}),
    errors: result.errors,
    ...(result.firstError !== undefined ? { firstError: result.firstError } : {}),
    ...(quietBefore && quietAfter ? {} : { notQuiet: true }),
  };
}

export interface LatencyMeasurement {
  samplesUs: number[];
  errors: number;
  firstError?: string;
}

export async function measureLatency(
  generators: LoadGenerators,
  connection: (w: Workload) => ConnectionSpec,
  workload: 'passHello' | 'termHello',
  count: number,
): Promise<LatencyMeasurement> {
  // A short warm-up so that first-connection costs (JIT, lazy allocations) are not sampled.
  await generators.run({ kind: 'latency', connection: connection(workload), count: Math.min(100, count) });
  const result = await generators.run({ kind: 'latency', connection: connection(workload), count });
  return { samplesUs: result.samplesUs ?? [], errors: result.errors, ...(result.firstError !== undefined ? { firstError: result.firstError } : {}) };
}

export interface MemoryMeasurement {
  opened: number;
  /** Resident memory of the proxy's processes with no connections and with `opened` idle ones. */
  residentBeforeBytes: number;
  residentWithConnectionsBytes: number;
  errors: number;
  firstError?: string;
}

/** Opens `count` Passthrough connections (each answered by the backend), holds them idle, measures RSS. */
export async function measureIdleMemory(
  target: BenchTarget,
  idleFiles: number,
  generators: LoadGenerators,
  connection: (w: Workload) => ConnectionSpec,
  count: number,
): Promise<MemoryMeasurement> {
  await waitForQuiet(target, idleFiles);
  const pids = proxyPids(target);
  const residentBeforeBytes = residentBytesOf(pids);
  const held = await generators.run({ kind: 'hold', connection: connection('passHello'), count, concurrency: IDLE_OPEN_CONCURRENCY });
  await sleep(1000); // idle means idle: let timers and deferred work settle first
  const residentWithConnectionsBytes = residentBytesOf(proxyPids(target));
  await generators.run({ kind: 'release' });
  await waitForQuiet(target, idleFiles);
  return {
    opened: held.ops,
    residentBeforeBytes,
    residentWithConnectionsBytes,
    errors: held.errors,
    ...(held.firstError !== undefined ? { firstError: held.firstError } : {}),
  };
}
