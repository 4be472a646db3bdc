/**
 * Slow and idle attackers against a running proxy while good clients keep connecting: the
 * attackers open `attackers` connections at once, a third idle (nothing sent), a third slow (a
 * real ClientHello one byte every 500 ms), a third stalled (half a hello, then nothing); a good
 * client opens a connection every `goodEveryMs` with a whole hello and must get its echo back
 * through the Passthrough route within `deadlineMs`. Afterwards every attacker must have been
 * closed by the proxy (the ClientHello timeout, 10 s by default) without a single byte, and the
 * proxy's active connections must be back to zero.
 */
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { captureSeeds } from './seeds.js';
import { frame, handshakeBytes, parseClientHello, sniData, SNI_EXTENSION } from './clienthello-model.js';
import type { ProxyTarget } from './target.js';

export interface AbuseOptions {
  target: ProxyTarget;
  attackers: number;
  /** How long good clients keep connecting while the attackers are held. */
  goodForMs: number;
  goodEveryMs?: number;
  deadlineMs?: number;
  /** How long the proxy gets to close every attacker (its ClientHello timeout plus slack). */
  attackerCloseWithinMs?: number;
}

export interface AbuseReport {
  attackersOpened: number;
  attackersClosedByProxy: number;
  attackersThatGotBytes: number;
  good: number;
  goodFailures: string[];
  goodLatencyMs: { p50: number; p99: number; max: number };
  activeConnectionsAfter: number;
  peakOpenFds: number;
}

function helloFor(seedWire: Buffer, name: string): Buffer {
  const hello = parseClientHello(seedWire);
  const sni = hello.extensions.find((e) => e.type === SNI_EXTENSION);
  if (sni !== undefined) sni.data = sniData(Buffer.from(name));
  return frame(handshakeBytes(hello), hello.recordVersion, 16384);
}

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;
}

export async function runAbuse(options: AbuseOptions): Promise<AbuseReport> {
  const { target } = options;
  const deadlineMs = options.deadlineMs ?? 5000;
  const { seeds } = await captureSeeds();
  const hello = helloFor(seeds[0]!.wire, target.passthroughNames[0]!);

  // The attackers.
  const attackers: { socket: net.Socket; closed: Promise<{ bytes: number }> }[] = [];
  const drips: NodeJS.Timeout[] = [];
  for (let i = 0; i < options.attackers; i++) {
    const socket = net.connect(i % 2 === 0 ? target.passthroughPort : target.mixedPort, '127.0.0.1');
    let bytes = 0;
    socket.on('data', (chunk: Buffer) => (bytes += chunk.length));
    socket.on('error', () => undefined);
    const closed = new Promise<{ bytes: number }>((resolve) => socket.once('close', () => resolve({ bytes })));
    const kind = i % 3;
    socket.once('connect', () => {
      if (kind === 1) {
        let sent = 0;
        const drip = setInterval(() => {
          if (socket.destroyed || sent >= hello.length - 1) return clearInterval(drip);
          socket.write(hello.subarray(sent, sent + 1));
          sent++;
        }, 500);
        drips.push(drip);
      } else if (kind === 2) {
        socket.write(hello.subarray(0, Math.floor(hello.length / 2)));
      }
    });
    attackers.push({ socket, closed });
    if (i % 200 === 199) await new Promise((resolve) => setImmediate(resolve)); // let the accepts keep up
  }
  let peakOpenFds = (await target.figures()).openFds;

  // The good clients, meanwhile.
  const latencies: number[] = [];
  const goodFailures: string[] = [];
  const goods: Promise<void>[] = [];
  const goodOne = (n: number): Promise<void> =>
    new Promise((resolve) => {
      const started = performance.now();
      const socket = net.connect(target.passthroughPort, '127.0.0.1');
      let received = Buffer.alloc(0);
      const timer = setTimeout(() => done(`no echo within ${deadlineMs} ms (${received.length} of ${hello.length} bytes back)`), deadlineMs);
      let finished = false;
      const done = (failure: string | null): void => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        socket.destroy();
        if (failure !== null) goodFailures.push(`good connection ${n}: ${failure}`);
        else latencies.push(performance.now() - started);
        resolve();
      };
      socket.on('error', (error) => done(error.message));
      socket.on('data', (chunk: Buffer) => {
        received = Buffer.concat([received, chunk]);
        if (received.length >= hello.length) done(received.equals(hello) ? null : 'the echo differs from what was sent');
      });
      socket.on('close', () => done('closed before the echo'));
      socket.write(hello);
    });
  const goodEnd = performance.now() + options.goodForMs;
  for (let n = 0; performance.now() < goodEnd; n++) {
    goods.push(goodOne(n));
    await new Promise((resolve) => setTimeout(resolve, options.goodEveryMs ?? 50));
    if (n % 20 === 0) peakOpenFds = Math.max(peakOpenFds, (await target.figures()).openFds);
  }
  await Promise.all(goods);

  // Every attacker must be closed by the proxy, without a byte.
  const closeWithin = options.attackerCloseWithinMs ?? 20_000;
  const outcomes = await Promise.all(
    attackers.map(({ closed }) => Promise.race([closed, new Promise<null>((resolve) => setTimeout(() => resolve(null), closeWithin).unref())])),
  );
  for (const drip of drips) clearInterval(drip);
  for (const { socket } of attackers) socket.destroy();
  let activeConnectionsAfter = (await target.figures()).activeConnections;
  for (let i = 0; i < 40 && activeConnectionsAfter > 0; i++) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    activeConnectionsAfter = (await target.figures()).activeConnections;
  }
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    attackersOpened: attackers.length,
    attackersClosedByProxy: outcomes.filter((o) => o !== null).length,
    attackersThatGotBytes: outcomes.filter((o) => o !== null && o.bytes > 0).length,
    good: latencies.length + goodFailures.length,
    goodFailures,
    goodLatencyMs: { p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted.at(-1) ?? 0 },
    activeConnectionsAfter,
    peakOpenFds,
  };
}
