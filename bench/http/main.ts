/**
 * `npm run bench:http`: tlsgate's HTTP engine beside nginx, HAProxy and a plain Node HTTP
 * proxy, in one run on loopback, all in front of the same Go backend: HTTP/1.1 keep-alive with
 * small responses, HTTPS with a new TLS 1.3 connection per request, 1 MiB responses and
 * uploads, added latency one request at a time and at a constant arrival rate of half nginx's
 * saturated rate. Everything per proxy CPU-second, as bench:proxy (docs/performance.md, "HTTP").
 *
 * This is a benchmark, not a test: it asserts nothing about timings. It does check, before
 * measuring, that every side answers every kind of request correctly (verify.ts), and the load
 * generator counts only correct answers.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { release, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { integerOption } from '../options.js';
import { buildGoLoadSide } from '../proxy/load-side.js';
import { percentile } from '../proxy/report.js';
import { sleep } from '../proxy/proxy-process.js';
import { acquireRunLock, commandExists, cpuCount, cpuModel, ensureDebianPackages, pinProcess, toolVersion } from '../proxy/system.js';
import { CURRENT_NODE, PROJECT_ROOT, nodeRuntime, type NodeRuntime } from '../proxy/targets.js';
import { HttpLoadGenerators, startHttpBackend, type RunningHttpBackend } from './load-side.js';
import { HTTP_RATE_PHASES, measureHttpRate, measureOpenLoopLatency, measureSequentialLatency, waitForQuiet, type HttpRatePhaseId, type PhaseTiming } from './phases.js';
import { openLoopRate, renderHttpRun, type HttpRunResults, type HttpTargetStatus } from './report.js';
import { HTTP_TARGETS, issueHttpBenchCertificates, startHttpTarget, type HttpBenchCertificates, type HttpTarget, type HttpTargetContext, type HttpTargetName } from './targets.js';
import { verifyHttpTarget } from './verify.js';

const HOST = '127.0.0.1';
const PHASE_NAMES = [...HTTP_RATE_PHASES.map((p) => p.id), 'sequential', 'openLoop'] as const;
type PhaseName = (typeof PHASE_NAMES)[number];

interface HttpBenchOptions {
  durationSeconds: number;
  repeat: number;
  workers: number[];
  targets: HttpTargetName[];
  phases: Set<PhaseName>;
  openRate: number | undefined;
  latencyCount: number;
  portBase: number;
  loadProcesses: number;
  install: boolean;
  keep: boolean;
  node: NodeRuntime;
}

const USAGE = `Usage: npm run bench:http -- [options]
  --duration S            seconds per measured phase (default 5); warm-ups: min(S, 3) s before a
                          target's first repetition of a phase, 0.5 s before the others
  --repeat N              repetitions, each measuring every target back to back in a rotating
                          order; ratios are paired within a repetition (default 3)
  --workers LIST          worker counts to run, comma-separated (default 1; e.g. 1,2)
  --targets LIST          any of ${HTTP_TARGETS.join(',')} (default all)
  --phases LIST           any of ${PHASE_NAMES.join(',')} (default all)
  --open-rate N           the open loop's arrival rate in requests/s (default: half of nginx's
                          keep-alive small-response rate measured in this run)
  --latency-count N       requests of the one-at-a-time latency phase (default 2000)
  --port-base N           listener ports are derived from N (default 24000; all below 32768)
  --load-processes N      Go load generator processes, all on the load core (default 2)
  --no-install            do not apt-get install nginx/HAProxy when missing
  --keep                  keep the work directory (configs, logs) for inspection
  --node PATH             run the Node.js proxies (tlsgate, node) with this Node.js binary`;

function parseOptions(argv: string[]): HttpBenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      duration: { type: 'string', default: '5' },
      repeat: { type: 'string', default: '3' },
      workers: { type: 'string', default: '1' },
      targets: { type: 'string', default: HTTP_TARGETS.join(',') },
      phases: { type: 'string', default: PHASE_NAMES.join(',') },
      'open-rate': { type: 'string' },
      'latency-count': { type: 'string', default: '2000' },
      'port-base': { type: 'string', default: '24000' },
      'load-processes': { type: 'string', default: '2' },
      'no-install': { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
      node: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const list = (text: string): string[] => text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const targets = list(values.targets);
  for (const target of targets) if (!(HTTP_TARGETS as readonly string[]).includes(target)) throw new Error(`--targets: unknown target "${target}" (known: ${HTTP_TARGETS.join(', ')})`);
  const phases = list(values.phases);
  for (const phase of phases) if (!(PHASE_NAMES as readonly string[]).includes(phase)) throw new Error(`--phases: unknown phase "${phase}" (known: ${PHASE_NAMES.join(', ')})`);
  const duration = Number(values.duration);
  if (!Number.isFinite(duration) || duration < 0.2 || duration > 600) throw new Error(`--duration must be a number of seconds from 0.2 to 600, got "${values.duration}"`);
  return {
    durationSeconds: duration,
    repeat: integerOption('repeat', values.repeat, 1, 20),
    workers: list(values.workers).map((w) => integerOption('workers', w, 1, 64)),
    targets: targets as HttpTargetName[],
    phases: new Set(phases as PhaseName[]),
    openRate: values['open-rate'] !== undefined ? integerOption('open-rate', values['open-rate'], 1, 1_000_000) : undefined,
    latencyCount: integerOption('latency-count', values['latency-count'], 10, 1_000_000),
    // The highest derived port is base + 3443; the Go clients' ephemeral ports start at 32768.
    portBase: integerOption('port-base', values['port-base'], 1024, 29000),
    loadProcesses: integerOption('load-processes', values['load-processes'], 1, 16),
    install: !values['no-install'],
    keep: values.keep,
    node: values.node !== undefined ? nodeRuntime(values.node) : CURRENT_NODE,
  };
}

const log = (line: string): void => void process.stderr.write(`[bench:http ${new Date().toISOString().slice(11, 19)}] ${line}\n`);

/** Proxies currently running, so that an interrupted run (Ctrl-C) stops them too. */
const runningTargets = new Set<HttpTarget>();

interface Shared {
  options: HttpBenchOptions;
  workDir: string;
  certificates: HttpBenchCertificates;
  backend: RunningHttpBackend;
  generators: HttpLoadGenerators;
  proxyCpusFor(workers: number): string;
  loadCpus: string;
}

/** The order of the targets in one repetition: rotated, so that slow drifts in machine load spread evenly. */
function rotated<T>(items: T[], repetition: number): T[] {
  return items.map((_, i) => items[(i + repetition) % items.length]!);
}

async function runWithWorkers(shared: Shared, workers: number): Promise<HttpRunResults> {
  const { options, generators } = shared;
  const loadPids = [...generators.pids, shared.backend.pid, process.pid];
  const proxyCpus = shared.proxyCpusFor(workers);
  const workDir = path.join(shared.workDir, `workers-${workers}`);
  mkdirSync(workDir, { recursive: true });
  const context: HttpTargetContext = { host: HOST, workDir, backendPort: shared.backend.port, certificates: shared.certificates, proxyCpus, workers, portBase: options.portBase, node: options.node };
  const results: HttpRunResults = { workers, proxyCpus, loadCpus: shared.loadCpus, targets: [], rates: {}, sequential: {} };
  const running: HttpTarget[] = [];
  const durationMs = options.durationSeconds * 1000;
  const timing = (repetition: number): PhaseTiming => ({ durationMs, warmupMs: repetition === 0 ? Math.min(durationMs, 3000) : 500 });
  try {
    for (const name of options.targets) {
      const status: HttpTargetStatus = { name, version: '' };
      results.targets.push(status);
      let target: HttpTarget | undefined;
      try {
        target = await startHttpTarget(name, context);
        runningTargets.add(target);
        status.version = target.version;
        await verifyHttpTarget(target, shared.certificates.ca.certificatePem);
        running.push(target);
        log(`${name} (${workers} worker${workers > 1 ? 's' : ''}) is up and answers correctly`);
      } catch (error) {
        status.failure = (error as Error).message;
        log(`${name}: ${status.failure}`);
        if (target) {
          await target.stop();
          runningTargets.delete(target);
        }
      }
    }

    const ratePhases = HTTP_RATE_PHASES.filter((p) => options.phases.has(p.id));
    for (let repetition = 0; repetition < options.repeat; repetition++) {
      for (const phase of ratePhases) {
        for (const target of rotated(running, repetition)) {
          log(`${phase.title}: ${target.name} (repetition ${repetition + 1}/${options.repeat})`);
          const measurement = await measureHttpRate(target, generators, phase, timing(repetition), loadPids);
          if (measurement) ((results.rates[phase.id as HttpRatePhaseId] ??= {})[target.name] ??= []).push(measurement);
        }
      }
    }

    if (options.phases.has('sequential')) {
      for (let repetition = 0; repetition < options.repeat; repetition++) {
        for (const target of rotated(running, repetition)) {
          log(`one request at a time: ${target.name} (repetition ${repetition + 1}/${options.repeat})`);
          await waitForQuiet(target);
          (results.sequential[target.name] ??= []).push(await measureSequentialLatency(target, generators, options.latencyCount));
        }
      }
    }

    if (options.phases.has('openLoop')) {
      const rate = openLoopRate(results, options.openRate);
      if ('missing' in rate) {
        log(`open loop skipped: ${rate.missing}`);
      } else {
        results.openLoop = { ...rate, results: {} };
        for (let repetition = 0; repetition < options.repeat; repetition++) {
          for (const target of rotated(running, repetition)) {
            log(`open loop at ${rate.ratePerSecond} requests/s: ${target.name} (repetition ${repetition + 1}/${options.repeat})`);
            await waitForQuiet(target);
            (results.openLoop.results[target.name] ??= []).push(await measureOpenLoopLatency(target, generators, rate.ratePerSecond, timing(repetition)));
          }
        }
      }
    }
    return results;
  } finally {
    for (const target of running) {
      await target.stop();
      runningTargets.delete(target);
    }
  }
}

function machineDescription(): string {
  const opensslSystem = commandExists('openssl') ? toolVersion('openssl version') : 'not installed';
  return `${cpuModel()}, ${cpuCount()} CPUs, Linux ${release()}; Node ${process.version} (OpenSSL ${process.versions.openssl}); system ${opensslSystem}`;
}

/** The 1-minute load average: on a shared machine, how much else was running. */
function loadAverage(): string {
  return readFileSync('/proc/loadavg', 'utf8').split(' ')[0] ?? '?';
}

function renderReport(options: HttpBenchOptions, argv: string[], runs: HttpRunResults[], loadAtStart: string): string {
  const versions = new Map<HttpTargetName, string>();
  for (const run of runs) for (const target of run.targets) if (target.version) versions.set(target.name, target.version);
  const lines: string[] = [];
  lines.push(`### HTTP benchmark, ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`);
  lines.push('');
  lines.push(`- Command: \`npm run bench:http${argv.length > 0 ? ` -- ${argv.join(' ')}` : ''}\``);
  lines.push(`- Machine: ${machineDescription()}`);
  lines.push(`- Load average (1 min) at start / end: ${loadAtStart} / ${loadAverage()} (the machine is shared; other work may have run meanwhile)`);
  lines.push(`- Sides: ${[...versions.entries()].map(([n, v]) => `${n}: ${v}`).join('; ')}`);
  lines.push(
    `- Phases: ${options.durationSeconds} s each after a warm-up, ${options.repeat} repetition(s) (per-target cells: median (min–max)); ` +
      `${options.loadProcesses} Go load generator process(es) (bench/proxy/go); one request at a time: ${options.latencyCount} requests per repetition.`,
  );
  for (const run of runs) {
    const rendered = renderHttpRun(run);
    lines.push('');
    lines.push(`#### ${run.workers} worker${run.workers > 1 ? 's' : ''} per proxy (proxy on CPU ${run.proxyCpus}, load generators and backend on CPU ${run.loadCpus})`);
    lines.push('');
    lines.push('Per proxy CPU-second and added latency (the direct connection’s subtracted, per repetition); ratios are tlsgate ÷ reference, the median of the ratios within each repetition:');
    lines.push('');
    lines.push(rendered.normalized);
    lines.push('');
    lines.push('Raw rates, with the proxy’s CPU use and the load side’s (load generators, backend and orchestrator; 100% = one core busy), and raw latencies:');
    lines.push('');
    lines.push(rendered.raw);
    if (rendered.notes.length > 0) {
      lines.push('');
      for (const note of rendered.notes) lines.push(`- ${note}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  let options: HttpBenchOptions;
  try {
    options = parseOptions(argv);
  } catch (error) {
    process.stderr.write(`bench:http: ${(error as Error).message}\n${USAGE}\n`);
    process.exitCode = 2;
    return;
  }
  const cpus = cpuCount();
  const loadCpus = cpus >= 2 ? String(cpus - 1) : '0';
  const proxyCpusFor = (workers: number): string => (cpus < 2 ? '0' : workers === 1 ? '0' : `0-${cpus - 1}`);
  if (cpus < 2) log('warning: one CPU only; the proxy and the load side share it, so only the per-CPU-second figures mean anything');
  if (options.install && (options.targets.includes('nginx') || options.targets.includes('haproxy'))) ensureDebianPackages(log);
  // Before the lock: a missing Go fails the run at once, and a build does not hold up another run.
  const binary = buildGoLoadSide();
  pinProcess(process.pid, loadCpus);
  // The same lock as bench:proxy: either benchmark would measure the other on the pinned cores.
  const releaseLock = await acquireRunLock(path.join(tmpdir(), 'tlsgate-bench-proxy.lock'), log);

  const loadAtStart = loadAverage();
  const workDir = mkdtempSync(path.join(tmpdir(), 'tlsgate-bench-http-'));
  const cleanups: Array<() => Promise<void>> = [];
  const cleanup = async (): Promise<void> => {
    for (const target of runningTargets) await target.stop().catch((error: Error) => log(`stopping ${target.name}: ${error.message}`));
    runningTargets.clear();
    for (const step of cleanups.reverse()) await step().catch((error: Error) => log(`cleanup: ${error.message}`));
    if (!options.keep) rmSync(workDir, { recursive: true, force: true });
    else log(`work directory kept: ${workDir}`);
    releaseLock();
  };
  // Ctrl-C, `kill` and a closed terminal alike: the proxies, backend and load generators are
  // separate processes that would otherwise keep holding the bench's ports and cores.
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]] as const) {
    process.once(signal, () => {
      log(`${signal}; stopping everything`);
      void cleanup().finally(() => process.exit(code));
    });
  }

  try {
    log(`work directory ${workDir}; load average ${loadAtStart}; backend and ${options.loadProcesses} load generators on CPU ${loadCpus}`);
    const certificates = issueHttpBenchCertificates(workDir);
    const backend = await startHttpBackend(binary, loadCpus, HOST);
    cleanups.push(() => backend.stop());
    const generators = HttpLoadGenerators.start(binary, options.loadProcesses, loadCpus);
    cleanups.push(() => generators.stop());
    await sleep(100);

    const shared: Shared = { options, workDir, certificates, backend, generators, proxyCpusFor, loadCpus };
    const runs: HttpRunResults[] = [];
    for (const workers of options.workers) runs.push(await runWithWorkers(shared, workers));

    const report = renderReport(options, argv, runs, loadAtStart);
    process.stdout.write(`\n${report}`);
    const outDir = path.join(PROJECT_ROOT, '.cache', 'bench');
    mkdirSync(outDir, { recursive: true });
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    writeFileSync(path.join(outDir, `http-${stamp}.md`), report);
    // Percentiles instead of the samples: tens of thousands of numbers per target add nothing.
    const summarizeSamples = (key: string, value: unknown): unknown =>
      key === 'samplesUs' && Array.isArray(value) ? { count: value.length, p50: percentile(value as number[], 50), p90: percentile(value as number[], 90), p99: percentile(value as number[], 99) } : value;
    const compact = runs.map((run) => JSON.parse(JSON.stringify(run, summarizeSamples)) as unknown);
    writeFileSync(path.join(outDir, `http-${stamp}.json`), JSON.stringify({ options: { ...options, phases: [...options.phases] }, runs: compact }, null, 1));
    log(`saved ${path.join(outDir, `http-${stamp}.md`)} and .json`);
  } finally {
    await cleanup();
  }
}

main().catch((error: Error) => {
  log(`failed: ${error.stack ?? error.message}`);
  process.exitCode = 1;
});
