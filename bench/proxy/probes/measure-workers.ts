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
import { fork } from 'node:child_process';
import cluster from 'node:cluster';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { churn, processCpuSeconds } from './churn.js';
import { startProxyRuntime } from '../../../proxy/runtime.js';
import { backendRef, captureClientHello, listener, plainBackend, proxyConfig } from '../../../test/e2e/proxy/helpers.js';


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
const before = { primary: process.cpuUsage(), workers: workerPids.map(processCpuSeconds) };
const started = performance.now();
loader.send({ proxyPort: port });
await loaded;
const seconds = (performance.now() - started) / 1000;
const primaryUsage = process.cpuUsage(before.primary);
const primary = (primaryUsage.user + primaryUsage.system) / 1e6;
const workers = workerPids.map((pid, i) => processCpuSeconds(pid) - before.workers[i]!);
const workerTotal = workers.reduce((a, b) => a + b, 0);
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
  }),
);
await runtime.shutdown(100);
