// A quick experiment (not a test, not the benchmark): how 2 node:cluster workers share one
// listening port, with nothing else in the way — each connection is accepted, answered with
// three bytes and closed. Compares the cluster's round robin ('rr'), workers accepting from the
// shared socket ('none', what the proxy runtime uses) and one SO_REUSEPORT socket per worker
// ('reuseport', Node >= 22.12 only):
//
//   npm run build
//   for m in rr none reuseport; do MODE=$m node dist/bench/proxy/probes/measure-accept.js [connections] [concurrency]; done
//
// Prints connections per CPU-second of the primary and workers together. The load runs in a
// child process; CPU times come from /proc/<pid>/stat (utime + stime).
import { fork } from 'node:child_process';
import cluster from 'node:cluster';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { churn, processCpuSeconds } from './churn.js';

type Mode = 'rr' | 'none' | 'reuseport';
const mode = (process.env.MODE ?? 'none') as Mode;
const WORKERS = 2;


async function load(port: number, total: number, concurrency: number): Promise<void> {
  await churn(total, concurrency, () =>
    new Promise<void>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('data', () => s.end());
      s.on('error', () => undefined);
      s.on('close', () => resolve());
    }),
  );
}

if (process.argv[2] === 'load') {
  await load(Number(process.argv[3]), Number(process.argv[4]), Number(process.argv[5]));
  process.exit(0);
} else if (cluster.isPrimary) {
  if (!['rr', 'none', 'reuseport'].includes(mode)) throw new Error(`MODE must be rr, none or reuseport, got ${mode}`);
  const total = Number(process.argv[2] ?? 6000);
  const concurrency = Number(process.argv[3] ?? 16);
  cluster.schedulingPolicy = mode === 'rr' ? cluster.SCHED_RR : cluster.SCHED_NONE;
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  const workers = Array.from({ length: WORKERS }, () => cluster.fork({ PORT: String(port), MODE: mode }));
  await Promise.all(
    workers.map(
      (w) =>
        new Promise<void>((resolve, reject) => {
          w.once('message', (m: unknown) => (m === 'up' ? resolve() : reject(new Error(String(m)))));
          w.once('exit', () => reject(new Error('a worker exited before listening')));
        }),
    ),
  );
  const before = workers.map((w) => processCpuSeconds(w.process.pid!));
  const primaryBefore = process.cpuUsage();
  const started = performance.now();
  await new Promise<void>((resolve) => fork(fileURLToPath(import.meta.url), ['load', String(port), String(total), String(concurrency)]).on('exit', () => resolve()));
  const seconds = (performance.now() - started) / 1000;
  const workerCpu = workers.map((w, i) => processCpuSeconds(w.process.pid!) - before[i]!);
  const usage = process.cpuUsage(primaryBefore);
  const primaryCpu = (usage.user + usage.system) / 1e6;
  console.log(
    JSON.stringify({
      node: process.version,
      mode,
      connectionsPerSecond: Math.round(total / seconds),
      workerCpuSeconds: workerCpu.map((c) => Number(c.toFixed(2))),
      primaryCpuSeconds: Number(primaryCpu.toFixed(2)),
      connectionsPerCpuSecond: Math.round(total / (workerCpu.reduce((a, b) => a + b, 0) + primaryCpu)),
    }),
  );
  for (const w of workers) w.kill();
} else {
  const server = net.createServer((s) => {
    s.on('error', () => undefined);
    s.write('hi\n');
    s.resume();
    s.on('end', () => s.end());
  });
  server.on('error', (err) => {
    process.send?.(`listen failed: ${err.message}`);
    process.exit(1);
  });
  const options: net.ListenOptions & { reusePort?: boolean } = { host: '127.0.0.1', port: Number(process.env.PORT) };
  // Each worker binds its own socket; without `exclusive` the primary would bind one for all.
  if (process.env.MODE === 'reuseport') Object.assign(options, { exclusive: true, reusePort: true });
  server.listen(options, () => process.send?.('up'));
}
