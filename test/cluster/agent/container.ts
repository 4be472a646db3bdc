// One container of a pod as a local process: started inside the pod's network namespace and
// its own mount namespace, restarted per restartPolicy with a back-off, probed, and stopped
// with SIGTERM then SIGKILL after the grace period.
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, appendFileSync } from 'node:fs';
import { constants } from 'node:os';
import type * as k8s from '@kubernetes/client-node';
import { mountScript, type BindMount } from './mounts.js';
import { ProbeLoop } from './probes.js';

export type ContainerState =
  | { kind: 'waiting'; reason: string; message?: string }
  | { kind: 'running'; startedAt: Date }
  | { kind: 'terminated'; exitCode: number; signal?: number; reason: string; message?: string; startedAt: Date; finishedAt: Date };

export interface LaunchSpec {
  argv: string[];
  env: Record<string, string>;
  cwd: string;
  mounts: BindMount[];
  /** The pod's directory on the host (volume sources live under it). */
  podDir: string;
  netns: string;
  logFile: string;
}

/** Thrown by `prepare` with the kubelet's waiting reason (e.g. CreateContainerConfigError). */
export class LaunchError extends Error {
  constructor(readonly reason: string, message: string) { super(message); }
}

/** Restart back-off: 1 s doubling to 20 s (the kubelet uses 10 s to 5 min; tests want speed). */
const backoffMs = (restarts: number): number => Math.min(1000 * 2 ** Math.min(restarts, 5), 20_000);

export class ContainerRunner {
  state: ContainerState = { kind: 'waiting', reason: 'ContainerCreating' };
  lastState: ContainerState | undefined;
  restartCount = 0;
  ready = false;
  /** True once the startup probe (if any) succeeded. */
  started = false;
  private child: ChildProcess | undefined;
  private stopping = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private probes: ProbeLoop[] = [];
  private exited: Promise<void> = Promise.resolve();

  constructor(
    readonly spec: k8s.V1Container,
    private readonly restartPolicy: string,
    private readonly isInit: boolean,
    private readonly podIp: string,
    private readonly prepare: () => Promise<LaunchSpec>,
    private readonly onChange: () => void,
    private readonly log: (msg: string) => void,
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Finished for good: terminated and not going to be restarted. */
  get finished(): boolean {
    return this.state.kind === 'terminated' && !this.willRestart(this.state.exitCode) && this.retryTimer === undefined;
  }

  start(): void {
    if (this.stopping) return;
    void this.launch();
  }

  private willRestart(exitCode: number): boolean {
    if (this.stopping) return false;
    if (this.restartPolicy === 'Always') return !this.isInit || exitCode !== 0;
    if (this.restartPolicy === 'OnFailure') return exitCode !== 0;
    return false;
  }

  private scheduleRetry(): void {
    const delay = backoffMs(this.restartCount);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.restartCount++;
      void this.launch();
    }, delay);
  }

  private async launch(): Promise<void> {
    if (this.stopping) return;
    let spec: LaunchSpec;
    try {
      spec = await this.prepare();
    } catch (error) {
      const reason = error instanceof LaunchError ? error.reason : 'CreateContainerConfigError';
      const message = error instanceof Error ? error.message : String(error);
      if (this.state.kind !== 'waiting' || this.state.message !== message) this.log(`container ${this.spec.name}: ${reason}: ${message}`);
      this.state = { kind: 'waiting', reason, message };
      this.onChange();
      // Config errors (a missing Secret, say) may heal; retry without counting a restart.
      if (!this.stopping) this.retryTimer = setTimeout(() => { this.retryTimer = undefined; void this.launch(); }, 2000);
      return;
    }
    if (this.stopping) return;
    const startedAt = new Date();
    appendFileSync(spec.logFile, `--- ${startedAt.toISOString()} start #${this.restartCount}: ${spec.argv.join(' ')}\n`);
    const fd = openSync(spec.logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn('ip', ['netns', 'exec', spec.netns, 'unshare', '--mount', '--propagation', 'private',
        '/bin/sh', '-c', mountScript(spec.mounts, spec.podDir), 'container-init', ...spec.argv],
      { detached: true, cwd: spec.cwd, env: spec.env, stdio: ['ignore', fd, fd] });
    } finally {
      closeSync(fd);
    }
    this.child = child;
    this.state = { kind: 'running', startedAt };
    this.started = this.spec.startupProbe === undefined;
    this.ready = false;
    this.exited = new Promise((resolve) => {
      let done = false;
      const finish = (exitCode: number, signal: number | undefined, reason: string, message?: string): void => {
        if (done) return;
        done = true;
        this.onExit(startedAt, exitCode, signal, reason, message);
        resolve();
      };
      child.on('error', (error) => finish(128, undefined, 'StartError', error.message));
      child.on('exit', (code, signal) => {
        const signalNumber = signal ? constants.signals[signal] : undefined;
        const exitCode = code ?? 128 + (signalNumber ?? 0);
        finish(exitCode, signalNumber, exitCode === 0 ? 'Completed' : 'Error');
      });
    });
    this.startProbes();
    this.onChange();
  }

  private onExit(startedAt: Date, exitCode: number, signal: number | undefined, reason: string, message?: string): void {
    this.stopProbes();
    this.child = undefined;
    this.ready = false;
    this.state = { kind: 'terminated', exitCode, reason, startedAt, finishedAt: new Date(), ...(signal ? { signal } : {}), ...(message ? { message } : {}) };
    this.log(`container ${this.spec.name} exited with ${exitCode}${signal ? ` (signal ${signal})` : ''}`);
    if (this.willRestart(exitCode)) {
      this.lastState = this.state;
      this.state = { kind: 'waiting', reason: 'CrashLoopBackOff', message: `back-off ${backoffMs(this.restartCount) / 1000}s restarting failed container=${this.spec.name}` };
      this.scheduleRetry();
    }
    this.onChange();
  }

  private startProbes(): void {
    const target = { podIp: this.podIp, container: this.spec, pid: () => this.pid };
    const startRegular = (): void => {
      if (this.spec.readinessProbe) {
        const loop = new ProbeLoop(this.spec.readinessProbe, target, (ok) => {
          if (this.ready !== ok) { this.ready = ok; this.onChange(); }
        });
        this.probes.push(loop);
        loop.start();
      } else {
        this.ready = true;
      }
      if (this.spec.livenessProbe) {
        const loop = new ProbeLoop(this.spec.livenessProbe, target, (ok, detail) => {
          if (!ok) void this.restartUnhealthy(`liveness probe failed: ${detail}`);
        });
        this.probes.push(loop);
        loop.start();
      }
    };
    if (this.isInit) return;
    if (this.spec.startupProbe) {
      const loop = new ProbeLoop(this.spec.startupProbe, target, (ok, detail) => {
        if (ok && !this.started) {
          this.started = true;
          loop.stop();
          startRegular();
          this.onChange();
        } else if (!ok) {
          void this.restartUnhealthy(`startup probe failed: ${detail}`);
        }
      });
      this.probes.push(loop);
      loop.start();
    } else {
      startRegular();
    }
  }

  private stopProbes(): void {
    for (const probe of this.probes) probe.stop();
    this.probes = [];
  }

  /** Kills the process (with the pod's grace period); the exit handler restarts it per policy. */
  private async restartUnhealthy(why: string): Promise<void> {
    this.log(`container ${this.spec.name}: ${why}; killing it`);
    this.stopProbes();
    await this.kill(this.graceSeconds * 1000);
  }

  graceSeconds = 30;

  private async kill(graceMs: number): Promise<void> {
    const child = this.child;
    if (!child?.pid) return;
    const signal = (sig: NodeJS.Signals): void => {
      try { process.kill(-child.pid!, sig); } catch { try { child.kill(sig); } catch { /* gone */ } }
    };
    signal('SIGTERM');
    const exited = this.exited;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      exited.then(() => false),
      new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(true), graceMs); }),
    ]);
    clearTimeout(timer);
    if (timedOut) {
      signal('SIGKILL');
      await exited;
    }
  }

  /** Stops for good: no more restarts; SIGTERM, then SIGKILL after `graceMs`. */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    if (this.retryTimer) { clearTimeout(this.retryTimer); this.retryTimer = undefined; }
    this.stopProbes();
    await this.kill(graceMs);
  }
}
