// Background processes that outlive `npm run cluster:up`: started detached with their output
// in a log file, stopped later by PID (checked against /proc so a recycled PID is never hit).
import { spawn } from 'node:child_process';
import { openSync, closeSync, readFileSync, existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { logPath } from '../state.js';

export interface StartedProcess {
  pid: number;
  log: string;
}

export function startDetached(component: string, command: string, args: string[], env: NodeJS.ProcessEnv = process.env): StartedProcess {
  const log = logPath(component);
  const fd = openSync(log, 'a');
  try {
    // detached: own process group and session, so it survives the npm process and a
    // terminal's Ctrl-C; stdin closed so nothing waits on the terminal.
    const child = spawn(command, args, { detached: true, stdio: ['ignore', fd, fd], env });
    if (child.pid === undefined) throw new Error(`${component}: could not start ${command}`);
    child.on('error', () => { /* reported through the missing pid / readiness wait */ });
    child.unref();
    return { pid: child.pid, log };
  } finally {
    closeSync(fd);
  }
}

/** The command line of a live process, or undefined when it has exited (zombies count as exited). */
function commandLine(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (/\) Z /.test(stat)) return undefined;
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return undefined;
  }
}

/** Whether `pid` is alive and still runs something whose command line contains `expected`. */
export function isRunning(pid: number, expected: string): boolean {
  const cmd = commandLine(pid);
  return cmd !== undefined && cmd.includes(expected);
}

/** SIGTERM, wait up to `graceMs`, then SIGKILL; the whole process group when it leads one. */
export async function stopProcess(pid: number, expected: string, graceMs = 10_000): Promise<'stopped' | 'killed' | 'not running'> {
  if (!isRunning(pid, expected)) return 'not running';
  const signal = (sig: NodeJS.Signals): void => {
    try { process.kill(-pid, sig); } catch { try { process.kill(pid, sig); } catch { /* already gone */ } }
  };
  signal('SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isRunning(pid, expected)) return 'stopped';
    await sleep(100);
  }
  signal('SIGKILL');
  for (let i = 0; i < 50 && isRunning(pid, expected); i++) await sleep(100);
  return 'killed';
}

/** The last `lines` lines of a log, for error messages. */
export function logTail(file: string, lines = 30): string {
  if (!existsSync(file)) return `(no log at ${file})`;
  const text = readFileSync(file, 'utf8').trimEnd().split('\n');
  return text.slice(-lines).map((l) => `    ${l}`).join('\n');
}
