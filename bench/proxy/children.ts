/**
 * The orchestrator's handles on its helper processes: the backends process and the load
 * generator processes, all pinned to the load side's cores. The load side is the Go program in
 * bench/proxy/go (JSON lines on stdin/stdout) by default, or the former Node.js one (IPC), kept
 * to compare with: both speak the message shapes of workloads.ts.
 */
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { spawnPinned } from './system.js';
import {
  PASS_HELLO_ANSWER_BYTES,
  TERM_GREETING,
  type BackendPorts,
  type BackendsReadyMessage,
  type BackendsStartMessage,
  type LoadCommand,
  type LoadReplyMessage,
  type LoadRequestMessage,
  type LoadResult,
  type PemPair,
} from './workloads.js';

/** Which programs make the load: the Go binary (its path) or the Node.js scripts. */
export type LoadSide = { kind: 'go'; binary: string } | { kind: 'node' };

function startNodeChild(script: string, cpus: string): ChildProcess {
  return spawnPinned(process.execPath, [fileURLToPath(new URL(script, import.meta.url))], { cpus, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
}

/**
 * Starts the Go binary in `role`, one OS thread of Go code (it is pinned to one core anyway).
 * Its stdout lines are re-emitted as 'message' events on the child, as Node's IPC does, so
 * both load sides are read the same way.
 */
function startGoChild(binary: string, role: 'loadgen' | 'backends', cpus: string): ChildProcess {
  const child = spawnPinned(binary, [role], { cpus, stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, GOMAXPROCS: '1' } });
  createInterface({ input: child.stdout! }).on('line', (line) => {
    let message: unknown;
    try {
      message = JSON.parse(line);
    } catch {
      process.stderr.write(`bench ${role}: not a JSON line on stdout: ${line.slice(0, 200)}\n`);
      return;
    }
    child.emit('message', message);
  });
  // EPIPE once it has exited; the exit itself is what firstMessage() reports.
  child.stdin!.on('error', () => undefined);
  return child;
}

function sendTo(child: ChildProcess, message: object): void {
  if (child.stdin) child.stdin.write(`${JSON.stringify(message)}\n`);
  else child.send(message);
}

function startChild(side: LoadSide, role: 'loadgen' | 'backends', cpus: string): ChildProcess {
  return side.kind === 'go' ? startGoChild(side.binary, role, cpus) : startNodeChild(`./${role}.js`, cpus);
}

/** Resolves with the first message of `type`, or rejects when the child exits first. */
function firstMessage<T extends { type: string }>(child: ChildProcess, what: string, accept: (message: T) => boolean): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: T): void => {
      if (!accept(message)) return;
      cleanup();
      resolve(message);
    };
    const onExit = (code: number | null, signal: string | null): void => {
      cleanup();
      reject(new Error(`${what} exited (${signal ?? `code ${code}`}) before answering`));
    };
    const onError = (error: Error): void => {
      cleanup();
      reject(new Error(`${what}: ${error.message}`));
    };
    const cleanup = (): void => {
      child.off('message', onMessage);
      child.off('exit', onExit);
      child.off('error', onError);
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
    child.once('error', onError);
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    if (child.connected) child.send({ type: 'stop' });
    else if (child.stdin?.writable) child.stdin.end(`${JSON.stringify({ type: 'stop' })}\n`);
    else child.kill('SIGTERM');
  });
}

export interface RunningBackends {
  ports: BackendPorts;
  pid: number;
  stop(): Promise<void>;
}

/** `side` defaults to the Node.js backends for instructions.ts, whose counts do not depend on the load side's speed. */
export async function startBackends(cpus: string, host: string, gateway: PemPair, backend: PemPair, side: LoadSide = { kind: 'node' }): Promise<RunningBackends> {
  const child = startChild(side, 'backends', cpus);
  const ready = firstMessage<BackendsReadyMessage>(child, 'bench backends', (m) => m.type === 'ready');
  const start: BackendsStartMessage = {
    type: 'start',
    host,
    gatewayCertificate: gateway,
    backendCertificate: backend,
    termGreeting: TERM_GREETING,
    passHelloAnswerBytes: PASS_HELLO_ANSWER_BYTES,
  };
  sendTo(child, start);
  const { ports } = await ready;
  return { ports, pid: child.pid!, stop: () => stopChild(child) };
}

class LoadGenerator {
  private nextId = 1;
  constructor(private readonly child: ChildProcess) {}

  get pid(): number | undefined {
    return this.child.pid;
  }

  run(command: LoadCommand): Promise<LoadResult> {
    const id = this.nextId++;
    const reply = firstMessage<LoadReplyMessage>(this.child, 'bench load generator', (m) => m.type === 'result' && m.id === id);
    const request: LoadRequestMessage = { type: 'run', id, command };
    sendTo(this.child, request);
    return reply.then((m) => m.result);
  }

  stop(): Promise<void> {
    return stopChild(this.child);
  }
}

/** Several load generator processes that share each command's work. */
export class LoadGenerators {
  private constructor(private readonly generators: LoadGenerator[]) {}

  static start(side: LoadSide, count: number, cpus: string): LoadGenerators {
    return new LoadGenerators(Array.from({ length: count }, () => new LoadGenerator(startChild(side, 'loadgen', cpus))));
  }

  get count(): number {
    return this.generators.length;
  }

  get pids(): number[] {
    return this.generators.flatMap((g) => (g.pid !== undefined ? [g.pid] : []));
  }

  /** Splits the command's concurrency (or count) across the processes and merges the results. */
  async run(command: LoadCommand): Promise<LoadResult> {
    const shares = splitCommand(command, this.generators.length);
    const results = await Promise.all(shares.map((share, i) => this.generators[i]!.run(share)));
    return mergeResults(results);
  }

  async stop(): Promise<void> {
    await Promise.all(this.generators.map((g) => g.stop()));
  }
}

/** n shares of `total` that differ by at most one, without empty shares. */
export function shares(total: number, n: number): number[] {
  const parts = Math.min(n, Math.max(total, 1));
  return Array.from({ length: parts }, (_, i) => Math.floor(total / parts) + (i < total % parts ? 1 : 0));
}

export function splitCommand(command: LoadCommand, processes: number): LoadCommand[] {
  switch (command.kind) {
    case 'connect-rate':
      return shares(command.concurrency, processes).map((concurrency) => ({ ...command, concurrency }));
    case 'bulk':
      return shares(command.connections, processes).map((connections) => ({ ...command, connections }));
    case 'latency':
      // Latency is measured one connection at a time, by one process.
      return [command];
    case 'hold': {
      const counts = shares(command.count, processes);
      const concurrency = shares(command.concurrency, counts.length);
      return counts.map((count, i) => ({ ...command, count, concurrency: Math.max(1, concurrency[i] ?? 1) }));
    }
    case 'release':
      return Array.from({ length: processes }, () => command);
  }
}

export function mergeResults(results: LoadResult[]): LoadResult {
  const merged: LoadResult = { ops: 0, bytes: 0, errors: 0, elapsedMs: 0 };
  for (const result of results) {
    merged.ops += result.ops;
    merged.bytes += result.bytes;
    merged.errors += result.errors;
    merged.elapsedMs = Math.max(merged.elapsedMs, result.elapsedMs);
    if (result.firstError !== undefined) merged.firstError ??= result.firstError;
    if (result.samplesUs) merged.samplesUs = [...(merged.samplesUs ?? []), ...result.samplesUs];
  }
  return merged;
}
