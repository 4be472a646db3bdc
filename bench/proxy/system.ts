/**
 * The machine side of the proxy benchmark: Debian packages, CPU pinning, file limits, and
 * what /proc says about a proxy's process tree (CPU time and resident memory).
 *
 * Why /proc and not process.cpuUsage(): nginx and HAProxy are not Node processes, and every
 * proxy is measured the same way, from outside, including all of its processes (nginx's
 * master and worker, tlsgate's cluster primary and workers).
 */
import { execFileSync, spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from 'node:fs';
import net from 'node:net';

/** These machines allow 20,000 open files per process; 9,000 proxied connections need ~18,000. */
export const OPEN_FILES_LIMIT = 20000;

/** The Debian packages the references need: nginx with its dynamic stream module, and HAProxy. */
const DEBIAN_PACKAGES = ['nginx', 'libnginx-mod-stream', 'haproxy'];

/** Installs nginx (with the stream module) and HAProxy with apt-get when missing; once per run. */
export function ensureDebianPackages(log: (line: string) => void): void {
  const missing = DEBIAN_PACKAGES.filter((name) => !isDebianPackageInstalled(name));
  if (missing.length === 0) return;
  if (!commandExists('apt-get')) throw new Error(`missing packages ${missing.join(', ')} and no apt-get to install them`);
  log(`installing ${missing.join(', ')} with apt-get (once)`);
  // Debian's maintainer scripts would start the system services on :80; the bench runs its own
  // instances, so RUNLEVEL=1 makes invoke-rc.d leave the services alone.
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive', RUNLEVEL: '1' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: ['ignore', 'ignore', 'inherit'], env });
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { stdio: ['ignore', 'ignore', 'inherit'], env });
}

function isDebianPackageInstalled(name: string): boolean {
  try {
    const status = execFileSync('dpkg-query', ['-W', '-f=${Status}', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return status.includes('install ok installed');
  } catch {
    return false;
  }
}

export function commandExists(name: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** The first line a tool prints for its version (nginx writes it to stderr, so both are read). */
export function toolVersion(shellCommand: string): string {
  try {
    return execFileSync('sh', ['-c', `${shellCommand} 2>&1`], { encoding: 'utf8' }).split('\n')[0]!.trim();
  } catch {
    return 'unknown';
  }
}

/** Where Debian keeps nginx's dynamic stream module (the package installs it here). */
export function nginxStreamModulePath(): string {
  const candidates = ['/usr/lib/nginx/modules/ngx_stream_module.so', '/usr/share/nginx/modules/ngx_stream_module.so'];
  const found = candidates.find((candidate) => existsSync(candidate));
  if (!found) throw new Error(`nginx stream module not found (looked in ${candidates.join(', ')}); is libnginx-mod-stream installed?`);
  return found;
}

export interface PinnedSpawnOptions {
  /** CPU list for taskset, e.g. '0' or '0,1'. */
  cpus: string;
  stdio: StdioOptions;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/**
 * Starts `command` pinned to `cpus` with the open-files limit raised. prlimit and taskset exec
 * the command in place, so the returned pid is the command's own pid, and an IPC channel
 * (stdio 'ipc') survives the two execs.
 */
export function spawnPinned(command: string, args: string[], options: PinnedSpawnOptions): ChildProcess {
  return spawn('prlimit', [`--nofile=${OPEN_FILES_LIMIT}:${OPEN_FILES_LIMIT}`, '--', 'taskset', '-c', options.cpus, command, ...args], {
    stdio: options.stdio,
    env: options.env ?? process.env,
    ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
  });
}

/** Pins every thread of an already running process (the bench's own orchestrator). */
export function pinProcess(pid: number, cpus: string): void {
  execFileSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { stdio: 'ignore' });
}

export function cpuCount(): number {
  return readFileSync('/proc/cpuinfo', 'utf8').split('\n').filter((line) => line.startsWith('processor')).length;
}

export function cpuModel(): string {
  const line = readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('model name'));
  return line ? line.split(':')[1]!.trim() : 'unknown CPU';
}

/** Kernel clock ticks per second, the unit of utime and stime in /proc/<pid>/stat. */
export const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

interface ProcStat {
  pid: number;
  ppid: number;
  comm: string;
  /** utime + stime, in seconds; includes every thread of the process. */
  cpuSeconds: number;
  /** Page faults served without I/O (minflt): first touches of fresh memory, e.g. heap pages malloc gave back and took again. */
  minorFaults: number;
}

/** Parses /proc/<pid>/stat; the command name may hold spaces and parentheses, so split after the last ')'. */
export function parseProcStat(text: string): ProcStat {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) throw new Error(`unexpected /proc stat line: ${text.slice(0, 80)}`);
  const pid = Number(text.slice(0, open).trim());
  const comm = text.slice(open + 1, close);
  // After ") ": field 3 (state) is index 0, so field N is index N - 3.
  const fields = text.slice(close + 2).trim().split(/\s+/);
  const ppid = Number(fields[4 - 3]);
  const utime = Number(fields[14 - 3]);
  const stime = Number(fields[15 - 3]);
  const minorFaults = Number(fields[10 - 3]);
  if (![pid, ppid, utime, stime, minorFaults].every(Number.isFinite)) throw new Error(`unexpected /proc stat fields for pid ${pid}`);
  return { pid, ppid, comm, cpuSeconds: (utime + stime) / CLOCK_TICKS, minorFaults };
}

function readProcStat(pid: number): ProcStat | undefined {
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined; // the process ended between listing and reading
  }
}

/** The process and all its descendants (nginx workers, cluster workers), found by ppid. */
export function processTree(rootPid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readProcStat(Number(entry));
    if (!stat) continue;
    const siblings = children.get(stat.ppid);
    if (siblings) siblings.push(stat.pid);
    else children.set(stat.ppid, [stat.pid]);
  }
  const tree: number[] = [];
  const queue = [rootPid];
  while (queue.length > 0) {
    const pid = queue.shift()!;
    if (!existsSync(`/proc/${pid}`)) continue;
    tree.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return tree;
}

/** Field 22 of /proc/<pid>/stat (start time in ticks): with the pid, it names one process for good. */
export function processStartTime(pid: number): string | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).trim().split(/\s+/)[22 - 3];
  } catch {
    return undefined;
  }
}

/** Sum of utime + stime over the processes, in seconds. */
export function cpuSecondsOf(pids: number[]): number {
  let total = 0;
  for (const pid of pids) total += readProcStat(pid)?.cpuSeconds ?? 0;
  return total;
}

/** Sum of minor page faults over the processes since they started. */
export function minorFaultsOf(pids: number[]): number {
  let total = 0;
  for (const pid of pids) total += readProcStat(pid)?.minorFaults ?? 0;
  return total;
}

/** Sum of resident memory (VmRSS) over the processes, in bytes. */
export function residentBytesOf(pids: number[]): number {
  let total = 0;
  for (const pid of pids) {
    try {
      const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (match) total += Number(match[1]) * 1024;
    } catch {
      // ended meanwhile: contributes nothing
    }
  }
  return total;
}

/** Open file descriptors of the processes: a proxy is quiet again when this is back to its idle count. */
export function openFilesOf(pids: number[]): number {
  let total = 0;
  for (const pid of pids) {
    try {
      total += readdirSync(`/proc/${pid}/fd`).length;
    } catch {
      // ended meanwhile
    }
  }
  return total;
}

/**
 * One benchmark at a time on a machine: two runs would share the pinned cores and the listener
 * ports, and measure each other. The lock is a file holding the owner's pid; a lock whose owner
 * is gone is taken over.
 */
export async function acquireRunLock(file: string, log: (line: string) => void): Promise<() => void> {
  let announced = false;
  for (;;) {
    try {
      const fd = openSync(file, 'wx', 0o644);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(file, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = Number(readFileSafe(file).trim());
    if (!Number.isInteger(owner) || owner <= 0 || !processAlive(owner)) {
      rmSync(file, { force: true }); // stale: its owner is gone
      continue;
    }
    if (!announced) log(`another bench:proxy run (pid ${owner}) is in progress; waiting for it to finish`);
    announced = true;
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}

function readFileSafe(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Resolves with the ports of `ports` that something else already listens on (or holds) at `host`. */
export async function portsInUse(host: string, ports: number[]): Promise<number[]> {
  const busy: number[] = [];
  for (const port of ports) {
    const free = await new Promise<boolean>((resolve) => {
      const server = net.createServer();
      server.once('error', () => resolve(false));
      server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
    });
    if (!free) busy.push(port);
  }
  return busy;
}
