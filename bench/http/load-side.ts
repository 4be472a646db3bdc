/**
 * The HTTP benchmark's load side: the Go program of bench/proxy/go in its `http-backends` and
 * `http-loadgen` roles, pinned to the load core and spoken to in JSON lines on stdin/stdout
 * (message shapes in workloads.ts). Several load generator processes share each command.
 */
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { shares } from '../proxy/children.js';
import { spawnPinned } from '../proxy/system.js';
import {
  BIG_BODY_BYTES,
  SMALL_BODY_BYTES,
  type HttpBackendReadyMessage,
  type HttpBackendStartMessage,
  type HttpLoadCommand,
  type HttpLoadResult,
} from './workloads.js';

type Role = 'http-loadgen' | 'http-backends';

interface GoChild {
  process: ChildProcess;
  /** Resolves with the first JSON line that `accept` takes, or rejects when the process exits first. */
  next<T>(what: string, accept: (message: Record<string, unknown>) => boolean): Promise<T>;
  send(message: object): void;
  stop(): Promise<void>;
}

function startGoChild(binary: string, role: Role, cpus: string): GoChild {
  // One P: the process is pinned to one core anyway (the open-loop command takes a second P for its scheduler thread itself).
  const child = spawnPinned(binary, [role], { cpus, stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, GOMAXPROCS: '1' } });
  const waiting = new Set<{ accept: (m: Record<string, unknown>) => boolean; resolve: (m: unknown) => void }>();
  createInterface({ input: child.stdout! }).on('line', (line) => {
    let message: Record<string, unknown>;
    try {
      message = JSON.parse(line) as Record<string, unknown>;
    } catch {
      process.stderr.write(`bench ${role}: not a JSON line on stdout: ${line.slice(0, 200)}\n`);
      return;
    }
    for (const waiter of waiting) {
      if (!waiter.accept(message)) continue;
      waiting.delete(waiter);
      waiter.resolve(message);
      return;
    }
  });
  // EPIPE once it has exited; the exit itself is what next() reports.
  child.stdin!.on('error', () => undefined);
  let exit: string | undefined;
  const exitWaiters = new Set<(reason: string) => void>();
  const onGone = (reason: string): void => {
    exit ??= reason;
    for (const reject of exitWaiters) reject(exit);
    exitWaiters.clear();
  };
  child.once('exit', (code, signal) => onGone(signal ?? `code ${code}`));
  child.once('error', (error) => onGone(error.message));
  return {
    process: child,
    next: <T>(what: string, accept: (message: Record<string, unknown>) => boolean) =>
      new Promise<T>((resolve, reject) => {
        const fail = (reason: string): void => {
          waiting.delete(waiter);
          reject(new Error(`${what}: the ${role} process ended (${reason}) before answering`));
        };
        const waiter = {
          accept,
          resolve: (m: unknown) => {
            exitWaiters.delete(fail);
            resolve(m as T);
          },
        };
        if (exit !== undefined) return fail(exit);
        waiting.add(waiter);
        exitWaiters.add(fail);
      }),
    send: (message) => void child.stdin!.write(`${JSON.stringify(message)}\n`),
    stop: () =>
      new Promise<void>((resolve) => {
        if (exit !== undefined) return resolve();
        const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        if (child.stdin!.writable) child.stdin!.end(`${JSON.stringify({ type: 'stop' })}\n`);
        else child.kill('SIGTERM');
      }),
  };
}

export interface RunningHttpBackend {
  port: number;
  pid: number;
  stop(): Promise<void>;
}

/** The backend every target forwards to (and the `direct` column talks to). */
export async function startHttpBackend(binary: string, cpus: string, host: string): Promise<RunningHttpBackend> {
  const child = startGoChild(binary, 'http-backends', cpus);
  const ready = child.next<HttpBackendReadyMessage>('bench HTTP backend', (m) => m.type === 'ready');
  const start: HttpBackendStartMessage = { type: 'start', host, smallBodyBytes: SMALL_BODY_BYTES, bigBodyBytes: BIG_BODY_BYTES };
  child.send(start);
  try {
    const { port } = await ready;
    return { port, pid: child.process.pid!, stop: () => child.stop() };
  } catch (error) {
    await child.stop();
    throw error;
  }
}

/** n commands that together do what `command` says: connections and rate split, latency on one process. */
export function splitHttpCommand(command: HttpLoadCommand, processes: number): HttpLoadCommand[] {
  switch (command.kind) {
    case 'sequential':
      return [command];
    case 'closed':
      return shares(command.connections, processes).map((connections) => ({ ...command, connections }));
    case 'open': {
      const connections = shares(command.connections, processes);
      return connections.map((share) => ({ ...command, connections: share, ratePerSecond: command.ratePerSecond / connections.length }));
    }
  }
}

export function mergeHttpResults(results: HttpLoadResult[]): HttpLoadResult {
  const merged: HttpLoadResult = { ops: 0, bytes: 0, errors: 0, elapsedMs: 0 };
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

export class HttpLoadGenerators {
  private nextId = 1;

  private constructor(private readonly children: GoChild[]) {}

  static start(binary: string, count: number, cpus: string): HttpLoadGenerators {
    return new HttpLoadGenerators(Array.from({ length: count }, () => startGoChild(binary, 'http-loadgen', cpus)));
  }

  get pids(): number[] {
    return this.children.flatMap((c) => (c.process.pid !== undefined ? [c.process.pid] : []));
  }

  async run(command: HttpLoadCommand): Promise<HttpLoadResult> {
    const parts = splitHttpCommand(command, this.children.length);
    const results = await Promise.all(
      parts.map((part, i) => {
        const child = this.children[i]!;
        const id = this.nextId++;
        const reply = child.next<{ result: HttpLoadResult }>('bench HTTP load generator', (m) => m.type === 'result' && m.id === id);
        child.send({ type: 'run', id, command: part });
        return reply.then((m) => m.result);
      }),
    );
    return mergeHttpResults(results);
  }

  async stop(): Promise<void> {
    await Promise.all(this.children.map((c) => c.stop()));
  }
}
