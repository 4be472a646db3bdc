/**
 * `npm run bench:convergence`: how long a user's route change takes to become real on the
 * cluster in a box, with the operator installed as users install it (pods, own RBAC).
 *
 * One Gateway (a Passthrough and a Terminate listener) in front of two echo backends; then
 * N changes, one at a time. Each change is what a user does: create a TLSRoute for a new
 * hostname (`--kind create`), or point an existing route at the other backend
 * (`--kind switch`). From the moment the API call returns, three things are timed:
 *   - traffic: a real Node TLS client, a new connection every ~15 ms with the route's SNI to
 *     the Gateway's address, first reaches the expected backend (which names itself);
 *   - status: a watch sees the route's Accepted=True for the new generation;
 *   - Programmed: a watch sees the Gateway Programmed=True for a config that includes the
 *     change (a new "serves config" version, and the listener's attachedRoutes).
 *
 * This is a benchmark, not a test: it asserts nothing about timings. It does check that
 * every probe that counts reached the right backend through the right kind of listener.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { integerOption } from '../options.js';
import * as k8s from '@kubernetes/client-node';
import { CONTROLLER_NAME } from '../../src/gatewayapi/translate.js';
import { deleteNamespace, freshNamespace, kubeconfigPath, loadTestKubeConfig } from '../../test/cluster/client.js';
import { projectRoot } from '../../test/helpers/paths.js';
import {
  INSTALL_GATEWAY_CLASS,
  OPERATOR_NAME,
  OPERATOR_NAMESPACE,
  gatewayEndpoint,
  installOperator,
  operatorDiagnostics,
  uninstallOperator,
} from '../../test/integration/install-support.js';
import { cpuCount, cpuModel } from '../proxy/system.js';
import { deliveryOf, readDeliveryLog } from './breakdown.js';
import { clusterDown, clusterReady, clusterUp, operatorState } from './cluster.js';
import { probeUntilRouted, type ProbeTarget } from './probe.js';
import { plannedRoutes, type PlanOptions } from './plan.js';
import { renderBreakdown, renderTable, summaries, type ChangeResult } from './report.js';
import {
  BACKENDS,
  DOMAIN,
  GATEWAY_NAME,
  LISTENERS,
  createBenchObjects,
  createRoute,
  issueBenchPki,
  switchRouteBackend,
  type BenchPki,
  type ListenerMode,
  type RouteSpec,
} from './setup.js';
import { ObjectWatch, attachedRoutes, conditionOf, programmed, routeAcceptedAt, type Condition } from './watch.js';

interface BenchOptions extends PlanOptions {
  probeIntervalMs: number;
  pauseMs: number;
  timeoutSeconds: number;
  keep: boolean;
}

const USAGE = `Usage: npm run bench:convergence -- [options]
  --changes N            route changes, applied one at a time (default 50)
  --kind create|switch   create a TLSRoute for a new hostname (default), or switch an existing
                         route's backend to the other echo Service
  --listeners LIST       passthrough,terminate (default both, alternating)
  --probe-interval-ms N  start a new probe connection every N ms (default 15)
  --pause-ms N           quiet time after one change converged, before the next (default 300)
  --timeout-s N          give up on one change after N s (default 30; counts as "timeout")
  --keep                 keep the benchmark namespace, the operator install and a cluster this
                         run started, for inspection
The cluster in a box is brought up when it is not running, and torn down again afterwards;
the operator is installed from install/ (as dist/install.yaml) when it is not installed, and
removed afterwards. Another run against the same cluster: wrap it in
flock /tmp/tlsgate-cluster.lock.`;

function parseOptions(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      changes: { type: 'string', default: '50' },
      kind: { type: 'string', default: 'create' },
      listeners: { type: 'string', default: 'passthrough,terminate' },
      'probe-interval-ms': { type: 'string', default: '15' },
      'pause-ms': { type: 'string', default: '300' },
      'timeout-s': { type: 'string', default: '30' },
      keep: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const integer = integerOption;
  if (values.kind !== 'create' && values.kind !== 'switch') throw new Error(`--kind must be create or switch, got "${values.kind}"`);
  const modes = values.listeners.split(',').map((name) => {
    const mode = (Object.keys(LISTENERS) as ListenerMode[]).find((m) => LISTENERS[m].name === name.trim());
    if (!mode) throw new Error(`--listeners: unknown listener "${name}" (known: passthrough, terminate)`);
    return mode;
  });
  return {
    changes: integer('changes', values.changes, 1, 1000),
    kind: values.kind,
    modes,
    probeIntervalMs: integer('probe-interval-ms', values['probe-interval-ms'], 1, 1000),
    pauseMs: integer('pause-ms', values['pause-ms'], 0, 60_000),
    timeoutSeconds: integer('timeout-s', values['timeout-s'], 1, 600),
    keep: values.keep,
  };
}

const log = (line: string): void => void process.stderr.write(`[bench ${new Date().toISOString().slice(11, 23)}] ${line}\n`);

function loadAverage(): string {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
}

function machineDescription(): string {
  return `${cpuModel()}, ${cpuCount()} CPUs, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Linux ${os.release()}; Node ${process.version}`;
}

function probeTarget(address: string, route: RouteSpec, pki: BenchPki): ProbeTarget {
  return {
    host: address,
    port: route.listener.port,
    serverName: route.hostname,
    // Passthrough: the backend's own certificate; Terminate: the gateway's. One CA signs both,
    // and the backend checks in probe.ts tell the two paths apart.
    ca: pki.ca.certificatePem,
    expectedService: route.backend,
    passthrough: route.listener.mode === 'Passthrough',
  };
}

/** Waits until traffic for `route` reaches its backend (setup, unmeasured). */
async function waitRouted(address: string, route: RouteSpec, pki: BenchPki, timeoutMs: number): Promise<void> {
  const loop = probeUntilRouted(probeTarget(address, route, pki), 200, 2000);
  const timer = setTimeout(() => loop.stop(), timeoutMs);
  try {
    await loop.reached;
  } catch (error) {
    throw new Error(`route ${route.name} (${route.hostname} on ${route.listener.name}) never reached ${route.backend}: ${(error as Error).message}`);
  } finally {
    clearTimeout(timer);
  }
}

const within = <T>(promise: Promise<T>, ms: number): Promise<T | null> =>
  new Promise((resolve) => {
    const timer = setTimeout(() => resolve(null), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      () => resolve(null), // a probe loop stopped before it reached the backend
    );
  });

interface RunContext {
  kc: k8s.KubeConfig;
  namespace: string;
  address: string;
  pki: BenchPki;
  routes: ObjectWatch;
  gateways: ObjectWatch;
  options: BenchOptions;
}

async function measureChange(context: RunContext, index: number, route: RouteSpec): Promise<ChangeResult> {
  const { kc, namespace, routes, gateways, options } = context;
  const before = gateways.latest(GATEWAY_NAME);
  const servedBefore = programmed(before)?.message;
  const attachedBefore = attachedRoutes(before, route.listener.name);
  const expectedAttached = options.kind === 'create' ? attachedBefore + 1 : attachedBefore;

  const apply = options.kind === 'create' ? createRoute : switchRouteBackend;
  const { generation } = await apply(kc, namespace, route).catch((error: Error) => {
    const verb = options.kind === 'create' ? 'create' : 'patch spec.rules[0].backendRefs of';
    throw new Error(`change ${index}: ${verb} TLSRoute ${namespace}/${route.name}: ${error.message}`);
  });
  const t0 = performance.now();
  const appliedAt = Date.now();
  const loop = probeUntilRouted(probeTarget(context.address, route, context.pki), options.probeIntervalMs, 2000);
  const status = routes.when(route.name, (r) => routeAcceptedAt(r, CONTROLLER_NAME, generation));
  const gatewayProgrammed = gateways.when(GATEWAY_NAME, (g) => {
    const condition = programmed(g);
    return condition !== undefined && condition.message !== servedBefore && attachedRoutes(g, route.listener.name) === expectedAttached;
  });
  const timeoutMs = options.timeoutSeconds * 1000;
  const [traffic, statusAt, programmedAt] = await Promise.all([within(loop.reached, timeoutMs), within(status, timeoutMs), within(gatewayProgrammed, timeoutMs)]);
  loop.stop();
  const programmedFalseSeen = gateways.observedSince(GATEWAY_NAME, t0).some((g) => conditionOf(g.status?.conditions as Condition[] | undefined, 'Programmed')?.status === 'False');
  routes.cancel(route.name);
  gateways.cancel(GATEWAY_NAME);
  const since = (at: number | null): number | null => (at === null ? null : Math.max(0, at - t0));
  return {
    index,
    kind: options.kind,
    route: route.name,
    hostname: route.hostname,
    listener: route.listener.name,
    backend: route.backend,
    generation,
    trafficMs: since(traffic?.at ?? null),
    statusMs: since(statusAt),
    programmedMs: since(programmedAt),
    probes: traffic?.probes ?? 0,
    ...(traffic?.lastFailure ? { lastProbeFailure: traffic.lastFailure } : {}),
    programmedFalseSeen,
    appliedAt,
  };
}

const fmt = (value: number | null): string => (value === null ? 'timeout' : `${Math.round(value)} ms`);

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  let options: BenchOptions;
  try {
    options = parseOptions(argv);
  } catch (error) {
    process.stderr.write(`bench:convergence: ${(error as Error).message}\n${USAGE}\n`);
    process.exitCode = 2;
    return;
  }
  const command = `npm run bench:convergence${argv.length > 0 ? ` -- ${argv.join(' ')}` : ''}`;
  const loadAtStart = loadAverage();
  const startedAt = new Date();
  const cleanups: Array<{ what: string; run: () => Promise<void> | void }> = [];
  let cleaning: Promise<void> | undefined;
  const cleanup = (): Promise<void> =>
    (cleaning ??= (async () => {
      for (const step of cleanups.reverse()) {
        try {
          log(`cleanup: ${step.what}`);
          await step.run();
        } catch (error) {
          log(`cleanup: ${step.what} failed: ${(error as Error).message}`);
        }
      }
    })());
  process.once('SIGINT', () => {
    log('interrupted; cleaning up');
    void cleanup().finally(() => process.exit(130));
  });

  try {
    let clusterStartedByRun = false;
    if (clusterReady()) {
      log(`cluster in a box: already up (${kubeconfigPath}); it stays up afterwards`);
    } else {
      log('cluster in a box: not running; starting it with `npm run cluster:up` (this run will tear it down afterwards)');
      clusterStartedByRun = true;
      if (!options.keep) cleanups.push({ what: 'npm run cluster:down (this run started the cluster)', run: () => clusterDown() });
      clusterUp();
    }
    const kc = loadTestKubeConfig();

    const state = await operatorState(kc, OPERATOR_NAMESPACE, OPERATOR_NAME);
    let operatorInstalledByRun = false;
    if (state.readyPods > 0) {
      log(`operator: already installed (${state.readyPods} ready pod(s) in ${OPERATOR_NAMESPACE}); using it as it is and leaving it installed`);
    } else if (state.namespaceExists && !state.terminating) {
      throw new Error(`namespace ${OPERATOR_NAMESPACE} exists but no operator pod is ready; fix or remove that install first\n${operatorDiagnostics()}`);
    } else {
      log('operator: installing it as users do (kubectl apply --server-side of the install manifest; 2 replicas, leader-elected)');
      operatorInstalledByRun = true;
      if (!options.keep) cleanups.push({ what: 'uninstall the operator (this run installed it)', run: () => uninstallOperator(kc) });
      const install = await installOperator(kc, { fieldManager: 'bench-convergence' });
      log(`operator: ready in ${(install.tookMs / 1000).toFixed(1)} s; leader ${install.leader}`);
    }

    const namespace = await freshNamespace(kc, 'bench-convergence');
    if (!options.keep) cleanups.push({ what: `delete namespace ${namespace}`, run: () => deleteNamespace(kc, namespace) });
    else log(`--keep: namespace ${namespace} stays`);
    const pki = issueBenchPki();
    log(`namespace ${namespace}: two echo backends, Gateway ${GATEWAY_NAME} (Passthrough :443, Terminate :8443, *.${DOMAIN})`);
    await createBenchObjects(kc, namespace, INSTALL_GATEWAY_CLASS, pki);
    const address = await gatewayEndpoint(kc, namespace, GATEWAY_NAME, 180_000);
    log(`Gateway Programmed at ${address}`);

    // Both paths work end to end before anything is timed: a route per listener, one per backend.
    const plan = plannedRoutes(options);
    const warmups: RouteSpec[] = options.modes.map((mode, i) => ({
      name: `warmup-${LISTENERS[mode].name}`,
      hostname: `warmup-${LISTENERS[mode].name}.${DOMAIN}`,
      listener: LISTENERS[mode],
      backend: BACKENDS[i % BACKENDS.length]!,
    }));
    for (const route of [...warmups, ...plan.initial]) await createRoute(kc, namespace, route);
    for (const route of [...warmups, ...plan.initial]) await waitRouted(address, route, pki, 180_000);
    log(`traffic flows through both listeners to both backends (${warmups.length + plan.initial.length} routes set up)`);

    const routes = new ObjectWatch(kc, namespace, 'tlsroutes', log);
    const gateways = new ObjectWatch(kc, namespace, 'gateways', log);
    await routes.start();
    await gateways.start();
    cleanups.push({ what: 'stop the watches', run: () => { routes.stop(); gateways.stop(); } });
    // Let the reconciles of the setup finish (the last ACK writes Programmed) before timing.
    await gateways.when(GATEWAY_NAME, (g) => programmed(g) !== undefined && (options.kind === 'switch' || warmups.every((w) => attachedRoutes(g, w.listener.name) >= 1)));
    await new Promise((resolve) => setTimeout(resolve, 1000));

    const context: RunContext = { kc, namespace, address, pki, routes, gateways, options };
    const results: ChangeResult[] = [];
    for (const [i, route] of plan.changes.entries()) {
      const result = await measureChange(context, i + 1, route);
      results.push(result);
      log(
        `change ${i + 1}/${plan.changes.length} ${options.kind} ${route.name} (${route.listener.name} → ${route.backend}): ` +
          `traffic ${fmt(result.trafficMs)} (${result.probes} probes), status ${fmt(result.statusMs)}, Programmed ${fmt(result.programmedMs)}`,
      );
      await new Promise((resolve) => setTimeout(resolve, options.pauseMs));
    }

    // The operator and proxy logs say where the time went (read before the namespace goes).
    const deliveryLog = readDeliveryLog(OPERATOR_NAMESPACE, `${OPERATOR_NAME}-`, namespace, `tlsgate-${GATEWAY_NAME}-`, `${namespace}/${GATEWAY_NAME}`);
    for (const result of results) {
      const delivery = deliveryOf(deliveryLog, result.appliedAt);
      if (delivery) result.delivery = { version: delivery.version, publishedMs: delivery.publishedMs, proxyAppliedMs: delivery.appliedMs, ackedMs: delivery.ackedMs };
    }
    const rows = summaries(results);
    const loadAtEnd = loadAverage();
    const lines = [
      `### Convergence benchmark, ${startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC`,
      '',
      `- Command: \`${command}\``,
      `- Machine: ${machineDescription()}`,
      `- Load average (1, 5, 15 min) at start / end: ${loadAtStart} / ${loadAtEnd} (the machine is shared; other work ran meanwhile)`,
      `- Cluster in a box: ${clusterStartedByRun ? 'started by this run, torn down after it' : 'already running, left running'}; ` +
        `operator: ${operatorInstalledByRun ? 'installed by this run (2 replicas, shipped flags: debounce 75 ms)' : 'found installed, used as it was'}`,
      `- ${results.length} changes (${options.kind === 'create' ? 'create a TLSRoute for a new hostname' : "switch an existing route's backend"}), ` +
        `one at a time, on listeners ${options.modes.map((m) => LISTENERS[m].name).join(', ')}; a probe connection every ${options.probeIntervalMs} ms; ` +
        `${options.pauseMs} ms pause after each change converged; timeout ${options.timeoutSeconds} s per change`,
      `- Time 0 = the API call returned. p99 of ${results.length} samples is the nearest-rank value${results.length < 100 ? ' (with fewer than 100 samples it is the maximum)' : ''}.`,
      '- No ratio to a reference implementation: none runs on this cluster.',
      '',
      renderTable(rows),
      '',
      `Where the time goes (from the operator's and the proxy's own logs, millisecond timestamps; ${results.filter((r) => r.delivery).length} of ${results.length} changes found in them):`,
      '',
      renderBreakdown(results),
      '',
      `The Gateway was seen \`Programmed=False\` while ${results.filter((r) => r.programmedFalseSeen).length} of ${results.length} changes converged ` +
        '(the operator writes `Pending` when no proxy acknowledged a new config within its ACK wait, 2 s; 0 means no flapping).',
      '',
    ];
    const report = `${lines.join('\n')}\n`;
    process.stdout.write(`\n${report}`);
    const outDir = path.join(projectRoot, '.cache', 'bench');
    mkdirSync(outDir, { recursive: true });
    const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
    const base = path.join(outDir, `convergence-${stamp}`);
    writeFileSync(`${base}.md`, report);
    writeFileSync(
      `${base}.json`,
      JSON.stringify(
        {
          command,
          startedAt: startedAt.toISOString(),
          machine: machineDescription(),
          loadAverage: { start: loadAtStart, end: loadAtEnd },
          clusterStartedByRun,
          operatorInstalledByRun,
          options,
          watchRestarts: { routes: routes.restartCount, gateways: gateways.restartCount },
          summary: rows,
          changes: results,
        },
        null,
        1,
      ),
    );
    log(`saved ${base}.md and .json`);
  } finally {
    await cleanup();
  }
}

main().catch((error: Error) => {
  log(`failed: ${error.stack ?? error.message}`);
  process.exitCode = 1;
});
