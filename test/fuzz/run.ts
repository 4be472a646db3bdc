/**
 * The ClientHello fuzzing campaign (issue 17): mutated hellos from real clients' seeds
 * (seeds.ts, mutate.ts) sent to a running proxy (target.ts) over loopback, `concurrency` at a
 * time, with the invariants checked on every input:
 *  - each connection ends, within `deadlineMs`, either routed (a Passthrough route: the backend's
 *    echo equals exactly the bytes sent), terminated (the Mixed port's Terminate listener: what
 *    comes back is TLS records from the proxy's own TLS), or closed without a single byte;
 *  - a hello that stayed valid and names a Passthrough route is routed (no false rejection);
 * and once the inputs are done: the proxy process is still running, its active connections
 * are back to zero, and its memory (RSS, heap) is reported at start, peak and end.
 */
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { mutate, type FuzzInput } from './mutate.js';
import { randomSource } from './clienthello-model.js';
import { captureSeeds, type Seed } from './seeds.js';
import { startTarget, type ProxyFigures, type ProxyTarget } from './target.js';

export interface FuzzOptions {
  /** Stop after this many inputs (default: unbounded, then `seconds` decides). */
  inputs?: number;
  /** Stop after this long (default: unbounded, then `inputs` decides). */
  seconds?: number;
  concurrency?: number;
  /** Input n uses the random stream of (seed, n): a failing input is reproduced from both. */
  seed?: number;
  workers?: number;
  /** A connection not ended by then is a violation (the proxy's ClientHello timeout is 10 s). */
  deadlineMs?: number;
  log?: (line: string) => void;
  /** A proxy already running (the abuse tests share one); default: one started for the run. */
  target?: ProxyTarget;
}

export interface FuzzReport {
  seed: number;
  inputs: number;
  seconds: number;
  inputsPerSecond: number;
  routed: number;
  terminated: number;
  closedWithoutBytes: number;
  /** Inputs that had to be routed (valid hello, Passthrough name). */
  mustRoute: number;
  violations: string[];
  violationCount: number;
  proxyRunning: boolean;
  activeConnectionsAfter: number;
  start: Pick<ProxyFigures, 'rssBytes' | 'heapUsedBytes' | 'openFds'>;
  peakRssBytes: number;
  end: Pick<ProxyFigures, 'rssBytes' | 'heapUsedBytes' | 'openFds'>;
  seeds: string[];
  missingSeeds: string[];
}

type Outcome = 'routed' | 'terminated' | 'closed';

const MAX_VIOLATIONS_KEPT = 20;

function send(port: number, input: FuzzInput, deadlineMs: number): Promise<{ received: Buffer; ended: boolean }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = net.connect(port, '127.0.0.1');
    let done = false;
    const finish = (ended: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ received: Buffer.concat(chunks), ended });
    };
    const timer = setTimeout(() => finish(false), deadlineMs);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => undefined); // a reset is one way to be closed; 'close' follows
    socket.on('close', () => finish(true));
    socket.once('connect', async () => {
      let offset = 0;
      for (let i = 0; i < input.writes.length && !socket.destroyed; i++) {
        if (i > 0) await new Promise((next) => (input.gapMs > 0 ? setTimeout(next, input.gapMs) : setImmediate(next)));
        socket.write(input.bytes.subarray(offset, offset + input.writes[i]!));
        offset += input.writes[i]!;
      }
      if (!socket.destroyed) socket.end();
    });
  });
}

/**
 * An alert or handshake record, whole. Not its version: OpenSSL answers a hello whose record
 * version a mutation broke (0x0203) with a protocol_version alert in that same version.
 */
function isTlsRecords(bytes: Buffer): boolean {
  return bytes.length >= 5 && (bytes[0] === 0x15 || bytes[0] === 0x16) && 5 + bytes.readUInt16BE(3) <= bytes.length;
}

async function waitForIdle(target: ProxyTarget, timeoutMs: number): Promise<number> {
  const until = performance.now() + timeoutMs;
  let active = (await target.figures()).activeConnections;
  while (active > 0 && performance.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    active = (await target.figures()).activeConnections;
  }
  return active;
}

export async function runFuzz(options: FuzzOptions): Promise<FuzzReport> {
  const log = options.log ?? (() => undefined);
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 31);
  const concurrency = options.concurrency ?? 32;
  const deadlineMs = options.deadlineMs ?? 15_000;
  const maxInputs = options.inputs ?? Number.POSITIVE_INFINITY;
  const stopAt = options.seconds !== undefined ? performance.now() + options.seconds * 1000 : Number.POSITIVE_INFINITY;
  if (!Number.isFinite(maxInputs) && !Number.isFinite(stopAt)) throw new Error('fuzz: give --inputs or --seconds');

  const { seeds, missing } = await captureSeeds();
  if (seeds.length === 0) throw new Error(`fuzz: no seed ClientHello could be captured (tried ${missing.join(', ')})`);
  const target = options.target ?? (await startTarget({ workers: options.workers ?? 1 }));
  try {
    const start = await target.figures();
    let peakRssBytes = start.rssBytes;
    const counts: Record<Outcome, number> = { routed: 0, terminated: 0, closed: 0 };
    const violations: string[] = [];
    let violationCount = 0;
    let mustRoute = 0;
    let next = 0;
    const began = performance.now();
    let lastReport = began;

    const violation = (n: number, seedClient: string, input: FuzzInput, what: string): void => {
      violationCount++;
      if (violations.length < MAX_VIOLATIONS_KEPT) violations.push(`input ${n} (seed ${seed}, ${seedClient}; ${input.mutations.join(' ') || 'unmutated'}): ${what}`);
    };

    const runOne = async (n: number): Promise<void> => {
      const random = randomSource((seed ^ Math.imul(n + 1, 0x9e3779b1)) >>> 0);
      const seedHello: Seed = seeds[n % seeds.length]!;
      const onMixed = n % 2 === 1;
      const port = onMixed ? target.mixedPort : target.passthroughPort;
      const names = onMixed ? [...target.mixedPassthroughNames, ...target.mixedTerminateNames] : target.passthroughNames;
      const input = mutate(seedHello.wire, { routedNames: names }, random);
      const passthroughName = input.serverName !== null && !target.mixedTerminateNames.includes(input.serverName);
      const { received, ended } = await send(port, input, deadlineMs);
      if (!ended) return violation(n, seedHello.client, input, `the connection was neither routed nor closed within ${deadlineMs} ms (${received.length} bytes came back)`);
      let outcome: Outcome;
      if (received.length === 0) outcome = 'closed';
      else if (received.equals(input.bytes)) outcome = 'routed';
      else if (onMixed && isTlsRecords(received)) outcome = 'terminated';
      else return violation(n, seedHello.client, input, `${received.length} bytes came back that are neither the echo of the ${input.bytes.length} sent nor TLS records: ${received.subarray(0, 16).toString('hex')}`);
      counts[outcome]++;
      if (input.mustRoute && passthroughName) {
        mustRoute++;
        if (outcome !== 'routed') violation(n, seedHello.client, input, `a valid hello for the Passthrough name ${input.serverName} was ${outcome}, not routed`);
      }
    };

    const sampler = setInterval(() => {
      target.figures().then(
        (figures) => (peakRssBytes = Math.max(peakRssBytes, figures.rssBytes)),
        () => undefined,
      );
    }, 1000);
    try {
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next < maxInputs && performance.now() < stopAt) {
            await runOne(next++);
            const now = performance.now();
            if (now - lastReport >= 10_000) {
              lastReport = now;
              log(`${next} inputs, ${Math.round(next / ((now - began) / 1000))}/s, ${violationCount} violations`);
            }
          }
        }),
      );
    } finally {
      clearInterval(sampler);
    }
    const seconds = (performance.now() - began) / 1000;
    const proxyRunning = target.process.exitCode === null && target.process.signalCode === null;
    const activeConnectionsAfter = proxyRunning ? await waitForIdle(target, 15_000) : -1;
    const end = proxyRunning ? await target.figures() : { rssBytes: 0, heapUsedBytes: 0, openFds: 0 };
    peakRssBytes = Math.max(peakRssBytes, end.rssBytes);
    return {
      seed,
      inputs: next,
      seconds,
      inputsPerSecond: next / seconds,
      routed: counts.routed,
      terminated: counts.terminated,
      closedWithoutBytes: counts.closed,
      mustRoute,
      violations,
      violationCount,
      proxyRunning,
      activeConnectionsAfter,
      start: { rssBytes: start.rssBytes, heapUsedBytes: start.heapUsedBytes, openFds: start.openFds },
      peakRssBytes,
      end: { rssBytes: end.rssBytes, heapUsedBytes: end.heapUsedBytes, openFds: end.openFds },
      seeds: seeds.map((s) => `${s.client} (${s.wire.length} B)`),
      missingSeeds: missing,
    };
  } finally {
    if (options.target === undefined) await target.stop();
  }
}
