/**
 * `npm run bench:proxy`: tlsgate standalone, nginx, HAProxy and a direct connection, side by side
 * on loopback in one run, with the same backends and the same ECDSA P-256 certificates.
 * The proxy under test is pinned to CPU 0, the load generators and backends to CPU 1, and every
 * result is also expressed per proxy CPU-second (read from /proc), so the comparison holds even
 * when the load side is the bottleneck. Then the same again with two workers per proxy.
 *
 * This is a benchmark, not a test: it asserts nothing about timings. It does check, before
 * measuring, that every proxy routes as configured (see verify.ts).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { release, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { integerOption } from '../options.js';
import { LoadGenerators, startBackends, type LoadSide, type RunningBackends } from './children.js';
import { recordClientHello } from './client-hello.js';
import { buildGoLoadSide } from './load-side.js';
import {
  FULL_SETTINGS,
  QUICK_SETTINGS,
  idleOpenFiles,
  RATE_PHASES,
  connectionFor,
  measureIdleMemory,
  measureLatency,
  measureRate,
  type PhaseSettings,
} from './phases.js';
import { sleep } from './proxy-process.js';
import { issueBenchCertificates, type BenchCertificates } from './pki.js';
import { renderRun, type RunResults, type TargetStatus } from './report.js';
import { acquireRunLock, commandExists, cpuCount, cpuModel, ensureDebianPackages, pinProcess, toolVersion } from './system.js';
import { CURRENT_NODE, PROJECT_ROOT, directTarget, nodeRuntime, startHaproxy, startNginx, startNodeFloor, startTlsgate, type BenchTarget, type NodeRuntime, type TargetContext, type TargetName } from './targets.js';
import { verifyTarget } from './verify.js';
import { SNI, type Workload } from './workloads.js';

const HOST = '127.0.0.1';
const ALL_TARGETS: TargetName[] = ['direct', 'tlsgate', 'nginx', 'haproxy', 'node'];

interface BenchOptions {
  quick: boolean;
  workers: number[];
  repeat: number;
  targets: TargetName[];
  portBase: number;
  loadProcesses: number;
  loadSide: LoadSide['kind'];
  install: boolean;
  keep: boolean;
  /** Which phases run (all by default); handy when investigating one of them. */
  phases: Set<PhaseName>;
  /** Write V8 CPU profiles of the Node.js proxies (tlsgate, node) into this directory. */
  profileDir: string | undefined;
  /** The Node.js binary the Node.js proxies run on (--node); the orchestrator's own without it. */
  node: NodeRuntime;
}

const PHASE_NAMES = ['memory', ...RATE_PHASES.map((p) => p.id), 'latency'] as const;
type PhaseName = (typeof PHASE_NAMES)[number];

const USAGE = `Usage: npm run bench:proxy -- [options]
  --quick                 short phases, 2,000 idle connections, one repetition
  --workers LIST          worker counts to run, comma-separated (default 1,2)
  --repeat N              repetitions of the rate phases; medians are reported (default 3, quick 1)
  --targets LIST          any of direct,tlsgate,nginx,haproxy,node (default all)
  --port-base N           listener ports are derived from N (default 20000; all below 32768)
  --load-processes N      load generator processes, all on the load core (default 2)
  --load-side go|node     the load generators and backends: the Go program in bench/proxy/go
                          (default; needs Go) or the former Node.js ones, to compare with
  --no-install            do not apt-get install nginx/HAProxy when missing
  --keep                  keep the work directory (configs, logs) for inspection
  --phases LIST           only these phases: ${PHASE_NAMES.join(',')} (default all)
  --profile DIR           run the Node.js proxies (tlsgate, node) with --cpu-prof, profiles into DIR
                          (profiling slows them: read the profiles, not that run's numbers)
  --node PATH             run the Node.js proxies (tlsgate, node) with this Node.js binary instead of
                          the one running the bench, e.g. \$(scripts/fetch-node.sh 24)`;

function parseOptions(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      workers: { type: 'string', default: '1,2' },
      repeat: { type: 'string' },
      targets: { type: 'string', default: ALL_TARGETS.join(',') },
      'port-base': { type: 'string', default: '20000' },
      'load-processes': { type: 'string', default: '2' },
      'load-side': { type: 'string', default: 'go' },
      'no-install': { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
      phases: { type: 'string', default: PHASE_NAMES.join(',') },
      profile: { type: 'string' },
      node: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const integer = integerOption;
  const targets = values.targets.split(',').map((t) => t.trim());
  for (const target of targets) if (!ALL_TARGETS.includes(target as TargetName)) throw new Error(`--targets: unknown target "${target}" (known: ${ALL_TARGETS.join(', ')})`);
  const phases = values.phases.split(',').map((p) => p.trim());
  for (const phase of phases) if (!(PHASE_NAMES as readonly string[]).includes(phase)) throw new Error(`--phases: unknown phase "${phase}" (known: ${PHASE_NAMES.join(', ')})`);
  return {
    quick: values.quick,
    workers: values.workers.split(',').map((w) => integer('workers', w.trim(), 1, 64)),
    repeat: integer('repeat', values.repeat ?? (values.quick ? '1' : '3'), 1, 20),
    targets: targets as TargetName[],
    portBase: integer('port-base', values['port-base'], 1024, 20000),
    loadProcesses: integer('load-processes', values['load-processes'], 1, 16),
    loadSide: loadSideOption(values['load-side']),
    install: !values['no-install'],
    keep: values.keep,
    phases: new Set(phases as PhaseName[]),
    profileDir: values.profile !== undefined ? path.resolve(values.profile) : undefined,
    node: values.node !== undefined ? nodeRuntime(values.node) : CURRENT_NODE,
  };
}

function loadSideOption(value: string): LoadSide['kind'] {
  if (value !== 'go' && value !== 'node') throw new Error(`--load-side: "${value}" is neither go nor node`);
  return value;
}

const log = (line: string): void => void process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);

/** Proxies currently running, so that an interrupted run (Ctrl-C) stops them too. */
const runningTargets = new Set<BenchTarget>();

interface Shared {
  options: BenchOptions;
  settings: PhaseSettings;
  workDir: string;
  certificates: BenchCertificates;
  backends: RunningBackends;
  generators: LoadGenerators;
  hellos: Map<Workload, Buffer>;
  proxyCpusFor(workers: number): string;
  loadCpus: string;
}

async function startTarget(name: TargetName, context: TargetContext): Promise<BenchTarget> {
  switch (name) {
    case 'direct':
      return directTarget(context);
    case 'tlsgate': {
      // Loaded only when tlsgate runs, so that nginx and HAProxy can be measured on their own
      // while the project's own modules are being changed.
      const { CONTROLLER_NAME } = await import('../../src/gatewayapi/translate.js');
      return startTlsgate(context, CONTROLLER_NAME);
    }
    case 'nginx':
      return startNginx(context);
    case 'haproxy':
      return startHaproxy(context);
    case 'node':
      return startNodeFloor(context);
  }
}

async function runWithWorkers(shared: Shared, workers: number): Promise<RunResults> {
  const { options, settings, generators, hellos } = shared;
  // Everything on the load core: the load side's CPU use tells whether it set the pace.
  const loadPids = [...generators.pids, shared.backends.pid, process.pid];
  const proxyCpus = shared.proxyCpusFor(workers);
  const workDir = path.join(shared.workDir, `workers-${workers}`);
  mkdirSync(workDir, { recursive: true });
  const context: TargetContext = {
    host: HOST,
    workDir,
    backends: shared.backends.ports,
    certificates: shared.certificates,
    proxyCpus,
    workers,
    portBase: options.portBase,
    node: options.node,
    ...(options.profileDir !== undefined ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${path.join(options.profileDir, `workers-${workers}`)}`] } : {}),
  };
  const results: RunResults = { workers, proxyCpus, loadCpus: shared.loadCpus, targets: [], rates: {}, latency: { passHello: {}, termHello: {} }, memory: {} };
  const running: BenchTarget[] = [];
  const idleFiles = new Map<TargetName, number>();
  try {
    for (const name of options.targets) {
      const status: TargetStatus = { name, version: '' };
      results.targets.push(status);
      try {
        const target = await startTarget(name, context);
        status.version = target.version;
        running.push(target);
        runningTargets.add(target);
        await verifyTarget(target, shared.certificates.ca.certificatePem, hellos.get('passHello')!);
        await sleep(300); // the checks' connections close
        idleFiles.set(name, idleOpenFiles(target));
        log(`${name} (${workers} worker${workers > 1 ? 's' : ''}) is up and routes correctly`);
      } catch (error) {
        status.failure = (error as Error).message;
        log(`${name}: ${status.failure}`);
        const index = running.findIndex((t) => t.name === name);
        if (index >= 0) {
          const failed = running.splice(index, 1)[0]!;
          await failed.stop();
          runningTargets.delete(failed);
        }
      }
    }
    const proxies = running.filter((t) => t.process !== undefined);

    // Memory first, on proxies that have not yet grown their heaps and pools under load.
    for (const target of options.phases.has('memory') ? proxies : []) {
      log(`${target.name}: ${settings.idleConnections} idle passthrough connections`);
      results.memory[target.name] = await measureIdleMemory(target, idleFiles.get(target.name) ?? 0, generators, connectionFor(target, hellos), settings.idleConnections);
    }
    // Then fresh processes for the rate phases: a proxy that has just opened and closed
    // thousands of connections carries that (grown heaps and pools, pending collection) into
    // the next phase, and not to the same degree for every proxy. Measured: tlsgate/node on
    // Passthrough bulk 1.39x / 0.98x (1 / 16 connections) without the memory phase before it,
    // 0.43x / 0.66x right after it, in back-to-back runs.
    const ratePhasesFollow = RATE_PHASES.some((p) => options.phases.has(p.id)) || options.phases.has('latency');
    if (options.phases.has('memory') && ratePhasesFollow) {
      for (let i = 0; i < running.length; i++) {
        const old = running[i]!;
        if (old.process === undefined) continue;
        await old.stop();
        runningTargets.delete(old);
        const fresh = await startTarget(old.name, context);
        running[i] = fresh;
        runningTargets.add(fresh);
        await verifyTarget(fresh, shared.certificates.ca.certificatePem, hellos.get('passHello')!);
        await sleep(300);
        idleFiles.set(fresh.name, idleOpenFiles(fresh));
        log(`${fresh.name}: restarted for the rate phases`);
      }
    }

    for (let repetition = 0; repetition < options.repeat; repetition++) {
      // Rotate the order each repetition so that slow drifts in machine load spread evenly.
      const order = running.map((_, i) => running[(i + repetition) % running.length]!);
      for (const phase of RATE_PHASES.filter((p) => options.phases.has(p.id))) {
        for (const target of order) {
          log(`${phase.title}: ${target.name} (repetition ${repetition + 1}/${options.repeat})`);
          const phaseSettings = repetition === 0 ? { ...settings, warmupMs: settings.firstWarmupMs } : settings;
          const measurement = await measureRate(target, idleFiles.get(target.name) ?? 0, generators, phase, connectionFor(target, hellos), phaseSettings, loadPids);
          ((results.rates[phase.id] ??= {})[target.name] ??= []).push(measurement);
        }
      }
    }

    for (const target of options.phases.has('latency') ? running : []) {
      log(`connect latency: ${target.name}`);
      const connection = connectionFor(target, hellos);
      results.latency.passHello[target.name] = await measureLatency(generators, connection, 'passHello', settings.latencyCount);
      results.latency.termHello[target.name] = await measureLatency(generators, connection, 'termHello', settings.tlsLatencyCount);
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

function renderReport(options: BenchOptions, argv: string[], runs: RunResults[], versions: Map<TargetName, string>, loadAtStart: string): string {
  const lines: string[] = [];
  lines.push(`### Proxy benchmark, ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`);
  lines.push('');
  lines.push(`- Command: \`npm run bench:proxy${argv.length > 0 ? ` -- ${argv.join(' ')}` : ''}\``);
  lines.push(`- Machine: ${machineDescription()}`);
  lines.push(`- Load average (1 min) at start / end: ${loadAtStart} / ${loadAverage()} (the machine is shared; other work ran meanwhile)`);
  lines.push(`- Proxies: ${[...versions.entries()].filter(([n]) => n !== 'direct').map(([n, v]) => `${n}: ${v}`).join('; ')}`);
  lines.push(
    `- Phases: ${options.quick ? 'quick, ' : ''}${(options.quick ? QUICK_SETTINGS : FULL_SETTINGS).durationMs / 1000} s each after a warm-up, ` +
      `median of ${options.repeat} repetition(s); ${options.loadProcesses} load generator process(es), ${options.loadSide === 'go' ? 'Go (bench/proxy/go)' : 'Node.js'} load side.`,
  );
  for (const run of runs) {
    const rendered = renderRun(run);
    lines.push('');
    lines.push(`#### ${run.workers} worker${run.workers > 1 ? 's' : ''} per proxy (proxy on CPU ${run.proxyCpus}, load generators and backends on CPU ${run.loadCpus})`);
    lines.push('');
    lines.push('Per proxy CPU-second (higher is better unless noted): each proxy’s median over the repetitions; the rate ratios are tlsgate ÷ reference, the median of the ratios within each repetition (both measured back to back; listed under Notes):');
    lines.push('');
    lines.push(rendered.normalized);
    lines.push('');
    lines.push('Raw rates in this run, with the proxy’s CPU use and the load side’s (load generators, backends and orchestrator; 100% = one core busy):');
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
  let options: BenchOptions;
  try {
    options = parseOptions(argv);
  } catch (error) {
    process.stderr.write(`bench:proxy: ${(error as Error).message}\n${USAGE}\n`);
    process.exitCode = 2;
    return;
  }
  const settings = options.quick ? QUICK_SETTINGS : FULL_SETTINGS;
  const cpus = cpuCount();
  const loadCpus = cpus >= 2 ? String(cpus - 1) : '0';
  const proxyCpusFor = (workers: number): string => (cpus < 2 ? '0' : workers === 1 ? '0' : `0-${cpus - 1}`);
  if (cpus < 2) log('warning: one CPU only; the proxy and the load side share it, so only the per-CPU-second figures mean anything');
  if (options.install && (options.targets.includes('nginx') || options.targets.includes('haproxy'))) ensureDebianPackages(log);
  // Before the lock: a missing Go fails the run at once, and a build does not hold up another run.
  const loadSide: LoadSide = options.loadSide === 'go' ? { kind: 'go', binary: buildGoLoadSide() } : { kind: 'node' };
  pinProcess(process.pid, loadCpus);
  const releaseLock = await acquireRunLock(path.join(tmpdir(), 'tlsgate-bench-proxy.lock'), log);

  const loadAtStart = loadAverage();
  const workDir = mkdtempSync(path.join(tmpdir(), 'tlsgate-bench-'));
  const cleanups: Array<() => Promise<void>> = [];
  const cleanup = async (): Promise<void> => {
    for (const target of runningTargets) await target.stop().catch((error: Error) => log(`stopping ${target.name}: ${error.message}`));
    runningTargets.clear();
    for (const step of cleanups.reverse()) await step().catch((error: Error) => log(`cleanup: ${error.message}`));
    if (!options.keep) rmSync(workDir, { recursive: true, force: true });
    else log(`work directory kept: ${workDir}`);
    releaseLock();
  };
  // Ctrl-C, `kill` and a closed terminal alike: the proxies, backends and load generators
  // are separate processes that would otherwise keep holding the bench's ports and cores.
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]] as const) {
    process.once(signal, () => {
      log(`${signal}; stopping everything`);
      void cleanup().finally(() => process.exit(code));
    });
  }

  try {
    log(`work directory ${workDir}; certificates, backends and ${options.loadProcesses} load generators (${loadSide.kind}) on CPU ${loadCpus}`);
    const certificates = issueBenchCertificates(workDir);
    const backends = await startBackends(loadCpus, HOST, certificates.gateway, certificates.backend, loadSide);
    cleanups.push(() => backends.stop());
    const generators = LoadGenerators.start(loadSide, options.loadProcesses, loadCpus);
    cleanups.push(() => generators.stop());
    const hellos = new Map<Workload, Buffer>();
    for (const workload of ['passHello', 'passBulk'] as const) hellos.set(workload, await recordClientHello(SNI[workload]));

    const shared: Shared = { options, settings, workDir, certificates, backends, generators, hellos, proxyCpusFor, loadCpus };
    const runs: RunResults[] = [];
    const versions = new Map<TargetName, string>();
    for (const workers of options.workers) {
      const run = await runWithWorkers(shared, workers);
      for (const target of run.targets) if (target.version) versions.set(target.name, target.version);
      runs.push(run);
    }

    const report = renderReport(options, argv, runs, versions, loadAtStart);
    process.stdout.write(`\n${report}`);
    const outDir = path.join(PROJECT_ROOT, '.cache', 'bench');
    mkdirSync(outDir, { recursive: true });
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    writeFileSync(path.join(outDir, `proxy-${stamp}.md`), report);
    writeFileSync(path.join(outDir, `proxy-${stamp}.json`), JSON.stringify({ options, runs }, null, 1));
    log(`saved ${path.join(outDir, `proxy-${stamp}.md`)} and .json`);
  } finally {
    await cleanup();
  }
}

main().catch((error: Error) => {
  log(`failed: ${error.stack ?? error.message}`);
  process.exitCode = 1;
});
