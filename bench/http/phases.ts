/**
 * The measured phases of the HTTP benchmark. A rate phase is preceded by an unmeasured warm-up
 * of the same work and measured on the proxy's side by the CPU time of its whole process tree,
 * from just before the work starts until the proxy is quiet again afterwards (its connections
 * closed, its CPU idle), as bench:proxy does (docs/performance.md, "Normalising by proxy CPU time").
 */
import type { RateMeasurement } from '../proxy/phases.js';
import { sleep } from '../proxy/proxy-process.js';
import { cpuSecondsOf, openFilesOf, processTree } from '../proxy/system.js';
import type { HttpLoadGenerators } from './load-side.js';
import type { HttpTarget } from './targets.js';
import { BENCH_HOST, BIG_BODY_BYTES, PATHS, SMALL_BODY_BYTES, type HttpLoadCommand, type HttpRequestSpec } from './workloads.js';

export type HttpRatePhaseId = 'keepAliveSmall' | 'httpsNewConnection' | 'bigResponse' | 'bigUpload';

export interface HttpRatePhase {
  id: HttpRatePhaseId;
  title: string;
  /** Clients in flight (keep-alive connections, or connections being opened, for HTTPS). */
  connections: number;
  /** The request, given where the target listens; undefined when the target cannot serve it (direct has no HTTPS). */
  request(target: HttpTarget): HttpRequestSpec | undefined;
  /** MB moved per request, for the MB/s columns; 0 when bytes do not matter. */
  megabytesPerRequest: number;
}

function plainRequest(target: HttpTarget, method: 'GET' | 'POST', path: string, uploadBytes: number, expectBodyBytes: number): HttpRequestSpec {
  return { endpoint: target.http, tls: false, servername: BENCH_HOST, host: BENCH_HOST, method, path, uploadBytes, expectBodyBytes, newConnectionPerRequest: false };
}

/** The HTTP/1.1 keep-alive request with a small answer: the latency phases send it too. */
export function smallRequest(target: HttpTarget): HttpRequestSpec {
  return plainRequest(target, 'GET', PATHS.small, 0, SMALL_BODY_BYTES);
}

export const HTTP_RATE_PHASES: readonly HttpRatePhase[] = [
  { id: 'keepAliveSmall', title: 'HTTP/1.1 keep-alive, 128-byte responses', connections: 64, megabytesPerRequest: 0, request: smallRequest },
  {
    id: 'httpsNewConnection',
    title: 'HTTPS, a new TLS 1.3 connection per request',
    connections: 32,
    megabytesPerRequest: 0,
    request: (target) =>
      target.https && { endpoint: target.https, tls: true, servername: BENCH_HOST, host: BENCH_HOST, method: 'GET', path: PATHS.small, uploadBytes: 0, expectBodyBytes: SMALL_BODY_BYTES, newConnectionPerRequest: true },
  },
  { id: 'bigResponse', title: 'HTTP/1.1 keep-alive, 1 MiB responses', connections: 16, megabytesPerRequest: BIG_BODY_BYTES / 1e6, request: (t) => plainRequest(t, 'GET', PATHS.big, 0, BIG_BODY_BYTES) },
  { id: 'bigUpload', title: 'HTTP/1.1 keep-alive, 1 MiB uploads', connections: 16, megabytesPerRequest: BIG_BODY_BYTES / 1e6, request: (t) => plainRequest(t, 'POST', PATHS.upload, BIG_BODY_BYTES, SMALL_BODY_BYTES) },
];

/** Clients serving the open-loop arrivals: enough that a request rarely waits for one at half of nginx's rate. */
export const OPEN_LOOP_CONNECTIONS = 64;

/** A rate phase's measurement: `amount` counts requests answered correctly. */
export type HttpRateMeasurement = RateMeasurement;

export interface PhaseTiming {
  durationMs: number;
  warmupMs: number;
}

// ---- quiet: the previous phase has finished ----------------------------------------------------

const QUIET_TIMEOUT_MS = 60000;
/** Less CPU than this over QUIET_WINDOW_MS counts as idle (one 10 ms tick at most). */
const QUIET_CPU_SECONDS = 0.011;
const QUIET_WINDOW_MS = 250;

function proxyPids(target: HttpTarget): number[] {
  return target.process ? processTree(target.process.pid) : [];
}

/**
 * Waits until the proxy is idle: no CPU used and no descriptor opened or closed over a window.
 * Not "back to its idle descriptor count" as in bench:proxy: every proxy here keeps pooled
 * keep-alive connections to the backend open between phases by design (nginx up to its
 * `keepalive`, tlsgate's pools for 30 s), so the count after a phase is legitimately higher
 * than at start. False when the proxy did not settle in time.
 */
export async function waitForQuiet(target: HttpTarget): Promise<boolean> {
  if (!target.process) return true;
  const deadline = Date.now() + QUIET_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const pids = proxyPids(target);
    const cpuBefore = cpuSecondsOf(pids);
    const filesBefore = openFilesOf(pids);
    await sleep(QUIET_WINDOW_MS);
    if (cpuSecondsOf(pids) - cpuBefore < QUIET_CPU_SECONDS && openFilesOf(pids) === filesBefore) return true;
  }
  return false;
}

// ---- the measurements ---------------------------------------------------------------------------

export async function measureHttpRate(
  target: HttpTarget,
  generators: HttpLoadGenerators,
  phase: HttpRatePhase,
  timing: PhaseTiming,
  loadPids: readonly number[],
): Promise<HttpRateMeasurement | undefined> {
  const request = phase.request(target);
  if (!request) return undefined;
  const command = (durationMs: number): HttpLoadCommand => ({ kind: 'closed', request, connections: phase.connections, durationMs });
  if (timing.warmupMs > 0) await generators.run(command(timing.warmupMs));
  const quietBefore = await waitForQuiet(target);
  const pids = proxyPids(target);
  const loadBefore = cpuSecondsOf([...loadPids]);
  const cpuBefore = cpuSecondsOf(pids);
  const result = await generators.run(command(timing.durationMs));
  const loadCpuSeconds = cpuSecondsOf([...loadPids]) - loadBefore;
  // Closing this phase's connections is this phase's work; the idle window adds at most a tick.
  const quietAfter = await waitForQuiet(target);
  const cpuAfter = cpuSecondsOf(pids);
  return {
    amount: result.ops,
    elapsedSeconds: result.elapsedMs / 1000,
    proxyCpuSeconds: target.process ? cpuAfter - cpuBefore : undefined,
    loadCpuSeconds,
    errors: result.errors,
    ...(result.firstError !== undefined ? { firstError: result.firstError } : {}),
    ...(quietBefore && quietAfter ? {} : { notQuiet: true }),
  };
}

export interface HttpLatencyMeasurement {
  samplesUs: number[];
  errors: number;
  firstError?: string;
  /** Open loop only: the arrival rate asked for, requests per second. */
  ratePerSecond?: number;
}

/** One keep-alive request at a time: what a request costs in time when nothing queues. */
export async function measureSequentialLatency(target: HttpTarget, generators: HttpLoadGenerators, count: number): Promise<HttpLatencyMeasurement> {
  const request = smallRequest(target);
  // A warm-up so that first-request costs (JIT, a new pooled backend connection) are not sampled.
  await generators.run({ kind: 'sequential', request, count: Math.min(200, count) });
  const result = await generators.run({ kind: 'sequential', request, count });
  return { samplesUs: result.samplesUs ?? [], errors: result.errors, ...(result.firstError !== undefined ? { firstError: result.firstError } : {}) };
}

/** A constant arrival rate for the phase's duration; each sample from the request's scheduled start. */
export async function measureOpenLoopLatency(target: HttpTarget, generators: HttpLoadGenerators, ratePerSecond: number, timing: PhaseTiming): Promise<HttpLatencyMeasurement> {
  const request = smallRequest(target);
  if (timing.warmupMs > 0) await generators.run({ kind: 'open', request, connections: OPEN_LOOP_CONNECTIONS, ratePerSecond, durationMs: timing.warmupMs });
  const result = await generators.run({ kind: 'open', request, connections: OPEN_LOOP_CONNECTIONS, ratePerSecond, durationMs: timing.durationMs });
  return { samplesUs: result.samplesUs ?? [], errors: result.errors, ratePerSecond, ...(result.firstError !== undefined ? { firstError: result.firstError } : {}) };
}
