// A quick measurement (not a test, not the benchmark): how a 2-worker runtime spreads new
// passthrough connections over its workers, and what the primary spends, under the cluster
// scheduling policy in force. Run it once per policy and compare:
//
//   npm run build
//   NODE_CLUSTER_SCHED_POLICY=rr   node dist/bench/proxy/probes/measure-workers.js [connections] [concurrency]
//   NODE_CLUSTER_SCHED_POLICY=none node dist/bench/proxy/probes/measure-workers.js [connections] [concurrency]
//   node dist/bench/proxy/probes/measure-workers.js [connections] [concurrency] 1    (one in-process engine, for reference)
//
// (Without the variable the runtime uses 'none'.) The load runs in a child process so that
// the primary's CPU time is its own. CPU times come from /proc/<pid>/stat (utime + stime).
//
// PERF=1 also counts, per connection and per process, with `perf stat` attached to each worker
// and the primary for the load's duration: syscalls, context switches, CPU migrations, accept4
// calls and those that failed (EAGAIN: another worker took the connection), epoll waits. That
// shows whether both workers wake for every connection on the shared socket (a thundering herd).
// With `--import ./dist/bench/proxy/probes/reuse-port.js` and REUSEPORT=1 every worker binds its
// own SO_REUSEPORT socket instead (Node >= 22.12), with tlsgate's real engine:
//
//   PERF=1 node dist/bench/proxy/probes/measure-workers.js 6000 16 1
//   PERF=1 node dist/bench/proxy/probes/measure-workers.js 6000 16 2
//   PERF=1 REUSEPORT=1 $(scripts/fetch-node.sh 24) --import ./dist/bench/proxy/probes/reuse-port.js dist/bench/proxy/probes/measure-workers.js 6000 16 2
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import cluster from 'node:cluster';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { churn, processCpuSeconds } from './churn.js';
import { startProxyRuntime } from '../../../proxy/runtime.js';
import { backendRef, captureClientHello, listener, plainBackend, proxyConfig } from '../../../test/e2e/proxy/helpers.js';


const PERF_EVENTS = [
  ['syscalls', 'raw_syscalls:sys_enter'],
  ['contextSwitches', 'context-switches'],
  ['cpuMigrations', 'cpu-migrations'],
  ['accept4', 'syscalls:sys_enter_accept4'],
  ['accept4Failed', 'syscalls:sys_exit_accept4', 'ret < 0'],
  ['epollWaits', 'syscalls:sys_exit_epoll_wait'],
  ['epollPwaits', 'syscalls:sys_exit_epoll_pwait'],
  ['epollWaitsEmpty', 'syscalls:sys_exit_epoll_pwait', 'ret == 0'],
] as const;

/** `perf stat` on each process (all its threads); stop() gives each one's counts per connection. */
async function startPerf(pids: number[]): Promise<{ stop(connections: number): Promise<Record<string, Record<string, number>>> }> {
  const runs: Array<{ pid: number; file: string; child: ChildProcess; exited: Promise<void> }> = [];
  for (const pid of pids) {
    const file = path.join(tmpdir(), `measure-workers-perf-${process.pid}-${pid}.csv`);
    const args = ['stat', '-x', ',', '-o', file, '-p', String(pid)];
    for (const [, event, filter] of PERF_EVENTS) args.push('-e', event, ...(filter !== undefined ? ['--filter', filter] : []));
    const child = spawn('perf', args, { stdio: ['ignore', 'ignore', 'inherit'] });
    const exited = new Promise<void>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', () => resolve());
    });
    runs.push({ pid, file, child, exited });
  }
  await new Promise((resolve) => setTimeout(resolve, 500)); // perf attaches
  return {
    async stop(connections) {
      const result: Record<string, Record<string, number>> = {};
      for (const run of runs) {
        run.child.kill('SIGINT');
        await run.exited;
        // One CSV line per -e, in the order given (value,unit,event,...).
        const lines = readFileSync(run.file, 'utf8').split('\n').filter((l) => l !== '' && !l.startsWith('#')).map((l) => l.split(','));
        const name = run.pid === process.pid ? (workerCount > 1 ? 'primary' : 'engine') : `worker ${run.pid}`;
        result[name] = Object.fromEntries(
          PERF_EVENTS.map(([key, event], i) => {
            const line = lines[i];
            if (line?.[2] !== event) throw new Error(`perf stat output for ${run.pid}: expected ${event} in line ${i + 1}, got ${line?.join(',')}`);
            return [key, Number((Number(line[0]) / connections).toFixed(2))];
          }),
        );
      }
      return result;
    },
  };
}

/** The load: `total` passthrough connections, `concurrency` at a time; each waits for the backend's greeting. */
async function load(port: number, total: number, concurrency: number): Promise<void> {
  const hello = await captureClientHello({ servername: 'a.example.com' });
  await churn(total, concurrency, () =>
    new Promise<void>((resolve) => {
      const s = net.connect({ port, host: '127.0.0.1' }, () => s.write(hello));
      s.once('data', () => s.end());
      s.on('error', () => undefined);
      s.on('close', () => resolve());
    }),
  );
}

// The load side (backend and clients) runs in a child, so that the primary's CPU is its own.
if (process.argv[2] === 'load') {
  const backend = await plainBackend('A');
  process.send?.({ backendPort: backend.port });
  const { proxyPort } = await new Promise<{ proxyPort: number }>((resolve) => process.once('message', resolve));
  await load(proxyPort, Number(process.argv[3]), Number(process.argv[4]));
  await backend.close();
  process.exit(0);
}

const total = Number(process.argv[2] ?? 4000);
const concurrency = Number(process.argv[3] ?? 16);
const workerCount = Number(process.argv[4] ?? 2);
const loader = fork(fileURLToPath(import.meta.url), ['load', String(total), String(concurrency)]);
const loaded = new Promise<void>((resolve, reject) => loader.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`load exited ${code}`)))));
const backend = { port: (await new Promise<{ backendPort: number }>((resolve) => loader.once('message', resolve))).backendPort };
const runtime = await startProxyRuntime({ address: '127.0.0.1', workers: workerCount, accessLog: null });
await runtime.apply([
  proxyConfig('measure', 'v1', [{ port: 0, listeners: [listener({ name: 'pt', hostname: null, mode: 'Passthrough', routes: [{ hostnames: ['*.example.com'], backends: [backendRef('b', backend.port)] }] })] }]),
]);
const port = runtime.boundPorts()[0]!.boundPort;
const workerPids = Object.values(cluster.workers ?? {}).map((w) => w!.process.pid!);
const perf = process.env.PERF === '1' ? await startPerf(workerCount > 1 ? [...workerPids, process.pid] : [process.pid]) : null;
const before = { primary: process.cpuUsage(), workers: workerPids.map(processCpuSeconds) };
const started = performance.now();
loader.send({ proxyPort: port });
await loaded;
const seconds = (performance.now() - started) / 1000;
const primaryUsage = process.cpuUsage(before.primary);
const primary = (primaryUsage.user + primaryUsage.system) / 1e6;
const workers = workerPids.map((pid, i) => processCpuSeconds(pid) - before.workers[i]!);
const workerTotal = workers.reduce((a, b) => a + b, 0);
const counts = perf === null ? null : await perf.stop(total);
const policy = workerCount === 1 ? 'in-process' : cluster.schedulingPolicy === cluster.SCHED_NONE ? 'none' : 'rr';
console.log(
  JSON.stringify({
    policy,
    workers: workerCount,
    connections: total,
    concurrency,
    connectionsPerSecond: Math.round(total / seconds),
    workerCpuSeconds: workers.map((w) => Number(w.toFixed(2))),
    workerShare: workers.map((w) => Number((w / workerTotal).toFixed(2))),
    primaryCpuSeconds: Number(primary.toFixed(2)),
    connectionsPerWorkerCpuSecond: workerCount > 1 ? Math.round(total / workerTotal) : null,
    connectionsPerProxyCpuSecond: Math.round(total / (workerTotal + primary)),
    node: process.version,
    reusePort: process.env.REUSEPORT === '1',
    ...(counts !== null ? { perConnection: counts } : {}),
  }),
);
await runtime.shutdown(100);
