/**
 * Instructions per unit of proxy work, counted by valgrind's callgrind in the proxy process
 * only (all its threads, user space; the kernel's share is not counted). On a shared machine
 * CPU time moves by tens of percent from run to run; instruction counts repeat within about
 * 2 %, so this is how a change to the hot path is judged (docs/performance.md).
 *
 *   node dist/bench/proxy/instructions.js [--target tlsgate|node|nginx] [--work connect|handshake|bulk] [--count N]
 *     [--warmup N] [--keep DIR] [--node-option FLAG]... [--bare]
 *
 * connect: a recorded ClientHello through the Passthrough listener, the backend's 1,200-byte
 * answer, a graceful close; 8 at a time. handshake: a full TLS 1.3 handshake (Node client)
 * through the Terminate listener and the backend's greeting; 8 at a time. bulk: one Passthrough
 * connection reads 64 MiB that the backend streams (per MB = per 2^20 bytes).
 * The proxy runs on CPU 0 under callgrind; counters are zeroed after a warm-up and dumped
 * after the measured work. Needs valgrind (Debian: apt-get install valgrind).
 * --keep DIR copies the measured window's callgrind files to DIR, for
 * `callgrind_annotate --inclusive=yes DIR/callgrind.out.*` (where the instructions go);
 * --node-option passes a flag to the proxy's node (e.g. --max-semi-space-size=8), to weigh
 * V8 settings by the same count. --bare runs the same work without valgrind and counts
 * nothing: for node's own profilers (--node-option=--cpu-prof, --node-option=--log-ic).
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { startBackends } from './children.js';
import { recordClientHello } from './client-hello.js';
import type { NodeFloorConfig } from './node-floor.js';
import { issueBenchCertificates } from './pki.js';
import { sleep } from './proxy-process.js';
import { nginxConfig, nodeProxyArgs, nodeProxyEnv, PROJECT_ROOT, tlsgateManifests, type TargetContext } from './targets.js';
import { nginxStreamModulePath } from './system.js';
import { PASS_HELLO_ANSWER_BYTES, SNI, TERM_GREETING, WORKLOADS } from './workloads.js';

const HOST = '127.0.0.1';
const BULK_BYTES = 64 * 1024 * 1024;
const CONCURRENCY = 8;

type Work = 'connect' | 'handshake' | 'bulk';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      target: { type: 'string', default: 'tlsgate' },
      work: { type: 'string', default: 'connect' },
      count: { type: 'string' },
      'port-base': { type: 'string', default: '6000' },
      warmup: { type: 'string' },
      keep: { type: 'string' },
      bare: { type: 'boolean', default: false },
      'node-option': { type: 'string', multiple: true, default: [] },
    },
  });
  const target = values.target;
  const work = values.work as Work;
  if (target !== 'tlsgate' && target !== 'node' && target !== 'nginx') throw new Error(`--target: tlsgate, node or nginx, got ${target}`);
  if (!['connect', 'handshake', 'bulk'].includes(work)) throw new Error(`--work: connect, handshake or bulk, got ${work}`);
  const count = Number(values.count ?? (work === 'connect' ? 300 : work === 'handshake' ? 150 : 4));
  const portBase = Number(values['port-base']);
  const warmup = Number(values.warmup ?? (work === 'connect' ? 3000 : work === 'handshake' ? 1000 : 1));

  const workDir = mkdtempSync(path.join(tmpdir(), 'tlsgate-instructions-'));
  const certificates = issueBenchCertificates(workDir);
  const backends = await startBackends('1', HOST, certificates.gateway, certificates.backend);
  let proxy: ReturnType<typeof spawn> | undefined;
  try {
    const context: TargetContext = { host: HOST, workDir, backends: backends.ports, certificates, proxyCpus: '0', workers: 1, portBase };
    let args: string[];
    let passPort: number;
    let termPort: number;
    if (target === 'tlsgate') {
      const { CONTROLLER_NAME } = await import('../../src/gatewayapi/translate.js');
      const manifests = path.join(workDir, 'manifests');
      mkdirSync(manifests);
      writeFileSync(path.join(manifests, 'bench.yaml'), tlsgateManifests(context, CONTROLLER_NAME).map((o) => stringify(o)).join('---\n'));
      args = [path.join(PROJECT_ROOT, 'bin/tlsgate.js'), 'standalone', '-f', manifests, '--address', HOST, '--port-offset', String(portBase), '--workers', '1'];
      passPort = portBase + 443;
      termPort = portBase + 8443;
    } else if (target === 'nginx') {
      // The benchmark's configuration, in one process (no master) so that callgrind sees the work.
      passPort = portBase + 1443;
      termPort = portBase + 9443;
      const config = nginxConfig(context, { passthrough: passPort, terminate: termPort }, nginxStreamModulePath()).replace('master_process on;', 'master_process off;');
      writeFileSync(path.join(workDir, 'nginx.conf'), config);
      args = ['-p', workDir, '-e', path.join(workDir, 'nginx-error.log'), '-c', path.join(workDir, 'nginx.conf')];
    } else {
      passPort = portBase + 3443;
      termPort = portBase + 4443;
      const config: NodeFloorConfig = {
        host: HOST,
        passthroughPort: passPort,
        terminatePort: termPort,
        routes: Object.fromEntries(WORKLOADS.map((w) => [SNI[w], backends.ports[w]])),
        certificatePem: certificates.gateway.certificatePem,
        privateKeyPem: certificates.gateway.privateKeyPem,
        workers: 1,
      };
      writeFileSync(path.join(workDir, 'node-floor.json'), JSON.stringify(config));
      args = [fileURLToPath(new URL('./node-floor.js', import.meta.url)), path.join(workDir, 'node-floor.json')];
    }
    // The access log goes to a file, as in bench:proxy.
    const log = openSync(path.join(workDir, 'proxy.log'), 'a');
    const out = path.join(workDir, 'callgrind.out');
    const nodeOptions = values['node-option'] ?? [];
    const bare = values.bare === true;
    const program = target === 'nginx' ? ['nginx'] : [process.execPath, ...nodeProxyArgs({ nodeArgs: nodeOptions })];
    const command = bare ? [...program, ...args] : ['valgrind', '--tool=callgrind', `--callgrind-out-file=${out}`, ...program, ...args];
    const child = spawn('taskset', ['-c', '0', ...command], {
      stdio: ['ignore', log, log],
      cwd: workDir,
      // As in bench:proxy: the Node proxies with the allocator setting they ship with (without
      // it, passthrough bulk cost tlsgate 858-1,310 µs of kernel time per MB against 584-682).
      ...(target === 'nginx' ? {} : { env: nodeProxyEnv() }),
    });
    proxy = child;
    const port = work === 'handshake' ? termPort : passPort;
    await waitAccepting(port, 120_000, () => child.exitCode !== null);
    const hello = await recordClientHello(SNI[work === 'bulk' ? 'passBulk' : 'passHello']);
    const one = (): Promise<void> => (work === 'handshake' ? handshake(termPort) : work === 'bulk' ? bulk(passPort, hello) : connect(passPort, hello));
    // Warm-up, not counted: long enough that V8 has optimised the hot path (with 100
    // connections, half the counted instructions were TurboFan compiling it).
    await runMany(one, warmup, work === 'bulk' ? 1 : CONCURRENCY);
    if (bare) {
      // Without valgrind, the CPU time the proxy spent in the counted window, split into user
      // and kernel (a noisy figure on a shared machine, but where the kernel's share shows).
      const before = cpuTicks(child.pid as number);
      await runMany(one, count, work === 'bulk' ? 1 : CONCURRENCY);
      await sleep(200);
      const after = cpuTicks(child.pid as number);
      const unitsDone = work === 'bulk' ? (count * BULK_BYTES) / (1024 * 1024) : count;
      const micros = (ticks: number): string => ((ticks * 10_000) / unitsDone).toFixed(1); // 100 ticks per second
      process.stdout.write(
        `${target} ${work}: ${warmup} + ${count} without valgrind; CPU per ${work === 'bulk' ? 'MB' : work}: ` +
          `user ${micros(after.user - before.user)} µs, kernel ${micros(after.system - before.system)} µs\n`,
      );
      return;
    }
    execFileSync('callgrind_control', ['-z', String(child.pid)], { stdio: 'ignore' });
    await runMany(one, count, work === 'bulk' ? 1 : CONCURRENCY);
    await sleep(1000); // the closes' last callbacks
    execFileSync('callgrind_control', ['-d', 'measured', String(child.pid)], { stdio: 'ignore' });
    let total = 0;
    let compiling = 0;
    for (const file of readdirSync(workDir).filter((f) => f.startsWith('callgrind.out'))) {
      const text = readFileSync(path.join(workDir, file), 'utf8');
      if (!text.includes('measured')) continue;
      const summary = /^summary: (\d+)$/m.exec(text);
      if (summary) total += Number(summary[1]);
      compiling += optimizingCompilerInstructions(path.join(workDir, file));
      if (values.keep !== undefined) {
        mkdirSync(values.keep, { recursive: true });
        writeFileSync(path.join(values.keep, file), text);
      }
    }
    if (total === 0) throw new Error('callgrind wrote no counts for the measured window');
    const units = work === 'bulk' ? (count * BULK_BYTES) / (1024 * 1024) : count;
    const unit = work === 'bulk' ? 'MB' : work === 'handshake' ? 'handshake' : 'connection';
    const per = (n: number): string => Math.round(n / units).toLocaleString('en-US');
    process.stdout.write(
      `${target} ${work}: ${per(total)} instructions per ${unit} (${count} × ${work}, ${total.toLocaleString('en-US')} in all); ` +
        `without TurboFan's background compiling (${per(compiling)} per ${unit}, a start-up cost that is still tapering off): ${per(total - compiling)}\n`,
    );
  } finally {
    if (proxy && proxy.exitCode === null) {
      const exited = new Promise((resolve) => proxy!.once('exit', resolve));
      proxy.kill('SIGTERM');
      await Promise.race([exited, sleep(30_000)]);
    }
    await backends.stop();
    rmSync(workDir, { recursive: true, force: true });
  }
}

/**
 * Instructions spent in V8's optimizing compiler threads: functions that get hot late are
 * still being compiled after the warm-up, and how much of that falls into the counted window
 * varies from run to run (about 50,000 per connection after 3,000 connections). Read with
 * callgrind_annotate's inclusive totals; 0 when it is missing.
 */
function optimizingCompilerInstructions(file: string): number {
  let text: string;
  try {
    text = execFileSync('callgrind_annotate', ['--inclusive=yes', '--threshold=100', file], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  } catch {
    return 0;
  }
  // Node 20's V8 names the task OptimizingCompileDispatcher::CompileTask, Node 24's
  // OptimizingCompileTaskExecutor::CompileTask.
  const line = text.split('\n').find((l) => /OptimizingCompile\w+::CompileTask::Run/.test(l));
  return line === undefined ? 0 : Number(line.trim().split(' ')[0]!.replaceAll(',', ''));
}

/** utime and stime of a process, in clock ticks (/proc/PID/stat fields 14 and 15). */
function cpuTicks(pid: number): { user: number; system: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: Number(fields[11]), system: Number(fields[12]) };
}

async function waitAccepting(port: number, timeoutMs: number, gone: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (gone()) throw new Error('the proxy exited before accepting connections');
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, HOST);
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(200);
  }
  throw new Error(`nothing accepted on port ${port} within ${timeoutMs} ms`);
}

async function runMany(one: () => Promise<void>, count: number, concurrency: number): Promise<void> {
  let started = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (started < count) {
        started += 1;
        await one();
      }
    }),
  );
}

function finished(socket: net.Socket, want: number, done: (socket: net.Socket) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    let received = 0;
    let complete = false;
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (!complete && received >= want) {
        complete = true;
        done(socket);
      }
    });
    socket.on('error', reject);
    socket.on('close', () => (complete ? resolve() : reject(new Error(`closed after ${received} of ${want} bytes`))));
  });
}

function connect(port: number, hello: Buffer): Promise<void> {
  const socket = net.connect({ port, host: HOST, noDelay: true });
  socket.once('connect', () => socket.write(hello));
  return finished(socket, PASS_HELLO_ANSWER_BYTES, (s) => s.end());
}

function bulk(port: number, hello: Buffer): Promise<void> {
  const socket = net.connect({ port, host: HOST, noDelay: true });
  socket.once('connect', () => socket.write(hello));
  return finished(socket, BULK_BYTES, (s) => s.destroy());
}

function handshake(port: number): Promise<void> {
  const socket = tls.connect({ port, host: HOST, servername: SNI.termHello, minVersion: 'TLSv1.3', rejectUnauthorized: false });
  return finished(socket, Buffer.byteLength(TERM_GREETING), (s) => s.end());
}

main().catch((error: Error) => {
  process.stderr.write(`instructions: ${error.message}\n`);
  process.exitCode = 1;
});
