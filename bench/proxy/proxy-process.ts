/**
 * A proxy under test as an operating-system process: started pinned to the proxy's cores with
 * its output in a log file, ready once its ports accept connections, stopped with SIGTERM and,
 * failing that, SIGKILL for the whole process tree (nginx workers, cluster workers).
 */
import { closeSync, openSync, readFileSync } from 'node:fs';
import net from 'node:net';
import type { ChildProcess } from 'node:child_process';
import { processStartTime, processTree, spawnPinned } from './system.js';
import type { Endpoint } from './workloads.js';

export interface ProxyProcessOptions {
  name: string;
  command: string;
  args: string[];
  cpus: string;
  logFile: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

export class ProxyProcess {
  private exitDescription: string | undefined;

  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
    readonly logFile: string,
  ) {
    child.on('exit', (code, signal) => {
      this.exitDescription = signal ? `killed by ${signal}` : `exited with code ${code}`;
    });
  }

  static start(options: ProxyProcessOptions): ProxyProcess {
    const log = openSync(options.logFile, 'a');
    try {
      const child = spawnPinned(options.command, options.args, {
        cpus: options.cpus,
        stdio: ['ignore', log, log],
        ...(options.env !== undefined ? { env: options.env } : {}),
        ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
      });
      const proxy = new ProxyProcess(options.name, child, options.logFile);
      child.on('error', (error) => {
        proxy.exitDescription = `could not start: ${error.message}`;
      });
      return proxy;
    } finally {
      closeSync(log); // the child holds its own copy
    }
  }

  get pid(): number {
    if (this.child.pid === undefined) throw new Error(`${this.name}: the process did not start (${this.exitDescription ?? 'no pid'})`);
    return this.child.pid;
  }

  get exited(): boolean {
    return this.exitDescription !== undefined;
  }

  /** Waits until every endpoint accepts TCP connections (and `extraCheck` passes), or fails with the log's tail. */
  async waitReady(endpoints: Endpoint[], timeoutMs: number, extraCheck?: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.exitDescription !== undefined) throw new Error(`${this.name} ${this.exitDescription}; log tail:\n${this.logTail()}`);
      const accepting = await Promise.all(endpoints.map(accepts));
      if (accepting.every(Boolean) && (!extraCheck || (await extraCheck()))) return;
      await sleep(100);
    }
    throw new Error(`${this.name} was not ready within ${timeoutMs} ms; log tail:\n${this.logTail()}`);
  }

  logTail(lines = 15): string {
    try {
      return readFileSync(this.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  /** SIGTERM, then SIGKILL for whatever of the tree is still there after `graceMs`. */
  async stop(graceMs = 5000): Promise<void> {
    if (this.child.pid === undefined || this.exitDescription !== undefined) return;
    // Remember the tree and each process's start time, so that a leftover is killed only if it
    // is still the same process (not a new one that reuses the pid).
    const tree = processTree(this.child.pid).map((pid) => ({ pid, startTime: processStartTime(pid) }));
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGTERM');
    const timedOut = await Promise.race([exited.then(() => false), sleep(graceMs).then(() => true)]);
    for (const { pid, startTime } of tree) {
      if (startTime === undefined || processStartTime(pid) !== startTime) continue;
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone meanwhile, as it should be
      }
    }
    if (timedOut) await exited;
  }
}

function accepts(endpoint: Endpoint): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: endpoint.host, port: endpoint.port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
