/**
 * Tests of the benchmark's own parts (not of anyone's speed): the generated nginx and HAProxy
 * configurations pass the real binaries' config checks, the tlsgate manifests translate into
 * the intended listeners and routes, the recorded ClientHello carries the SNI it was made for,
 * /proc parsing, the statistics, the work split between load generator processes, and that
 * `--node` runs the Node.js proxies on the binary it names.
 *
 * Run: `npm run build && node --test dist/bench/proxy/`
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { ClientHelloAssembler } from '../../proxy/clienthello.js';
import { emptySnapshot, addDocument } from '../../src/manifests/load.js';
import { CONTROLLER_NAME, translate } from '../../src/gatewayapi/translate.js';
import { mergeResults, shares, splitCommand } from './children.js';
import { recordClientHello } from './client-hello.js';
import { issueBenchCertificates } from './pki.js';
import { markdownTable, median, pairedRatio, percentile, summarizeRate } from './report.js';
import { CLOCK_TICKS, nginxStreamModulePath, parseProcStat, portsInUse } from './system.js';
import { CURRENT_NODE, PROJECT_ROOT, haproxyConfig, nginxConfig, nodeRuntime, startNodeFloor, startTlsgate, tlsgateManifests, type BenchTarget, type TargetContext } from './targets.js';
import { SNI, type BackendPorts, type ConnectionSpec } from './workloads.js';

const workDir = mkdtempSync(path.join(tmpdir(), 'tlsgate-bench-test-'));
after(() => rmSync(workDir, { recursive: true, force: true }));

const backends: BackendPorts = { passHello: 41001, passBulk: 41002, passTls: 41003, termHello: 41004, termBulk: 41005, directTermHello: 41006, directTermBulk: 41007 };
const context: TargetContext = {
  host: '127.0.0.1',
  workDir,
  backends,
  certificates: issueBenchCertificates(workDir),
  proxyCpus: '0',
  workers: 1,
  portBase: 20000,
};

describe('reference proxy configurations', () => {
  test('nginx accepts the generated stream configuration (nginx -t)', () => {
    const file = path.join(workDir, 'nginx-test.conf');
    writeFileSync(file, nginxConfig(context, { passthrough: 21443, terminate: 29443 }, nginxStreamModulePath()));
    const output = execFileSync('sh', ['-c', `nginx -t -p ${workDir} -e ${workDir}/nginx-test-error.log -c ${file} 2>&1`], { encoding: 'utf8' });
    assert.match(output, /syntax is ok/);
    assert.match(output, /test is successful/);
  });

  test('the nginx configuration routes every SNI to its own backend', () => {
    const config = nginxConfig(context, { passthrough: 21443, terminate: 29443 }, '/x.so');
    assert.match(config, new RegExp(`${SNI.passBulk.replace(/\./g, '\\.')} 127\\.0\\.0\\.1:${backends.passBulk};`));
    assert.match(config, new RegExp(`${SNI.termHello.replace(/\./g, '\\.')} 127\\.0\\.0\\.1:${backends.termHello};`));
    assert.match(config, /worker_processes 1;/);
  });

  test('HAProxy accepts the generated configuration (haproxy -c)', () => {
    const file = path.join(workDir, 'haproxy-test.cfg');
    writeFileSync(file, haproxyConfig({ ...context, workers: 2 }, { passthrough: 22443, terminate: 30443 }));
    const output = execFileSync('sh', ['-c', `haproxy -c -f ${file} 2>&1`], { encoding: 'utf8' });
    assert.match(output, /Configuration file is valid/);
    assert.match(haproxyConfig({ ...context, workers: 2 }, { passthrough: 22443, terminate: 30443 }), /nbthread 2/);
  });
});

describe('tlsgate manifests', () => {
  test('translate into one Passthrough and one Terminate port with a route per workload', () => {
    const snapshot = emptySnapshot();
    const warnings: string[] = [];
    for (const [i, object] of tlsgateManifests(context, CONTROLLER_NAME).entries()) addDocument(snapshot, warnings, object, { file: 'bench.yaml', document: i });
    assert.deepEqual(warnings, []);
    const output = translate({ snapshot, now: new Date(), controllerName: CONTROLLER_NAME });
    assert.equal(output.proxyConfigs.length, 1);
    const ports = output.proxyConfigs[0]!.ports;
    assert.deepEqual(
      ports.map((p) => [p.port, p.listeners.map((l) => l.mode)]),
      [
        [443, ['Passthrough']],
        [8443, ['Terminate']],
      ],
    );
    const endpointBySni = new Map<string, number>();
    for (const port of ports) {
      const listener = port.listeners[0]!;
      assert.equal(listener.reject, undefined, `listener ${listener.name} is rejected: ${listener.reject}`);
      for (const entry of listener.hostnames) endpointBySni.set(entry.hostname, listener.routes[entry.route]!.backends[0]!.endpoints[0]!.port);
    }
    for (const workload of ['passHello', 'passBulk', 'passTls', 'termHello', 'termBulk'] as const) assert.equal(endpointBySni.get(SNI[workload]), backends[workload], workload);
    // nginx's worker_connections, not the default 10,000 split between workers: 9,000 idle connections fit in either worker.
    assert.equal(output.proxyConfigs[0]!.settings?.maxConnectionsPerListener, 20_000);
  });
});

describe('recorded ClientHello', () => {
  test('is one complete TLS handshake record that names the SNI it was recorded for', async () => {
    const hello = await recordClientHello(SNI.passBulk);
    assert.equal(hello[0], 0x16);
    assert.equal(hello.length, 5 + hello.readUInt16BE(3));
    const result = new ClientHelloAssembler(16384).push(hello);
    assert.equal(result.kind, 'done');
    assert.equal(result.kind === 'done' ? result.hello.sni : null, SNI.passBulk);
  });
});

describe('/proc parsing', () => {
  test('reads pid, ppid, CPU time and minor faults even when the command name has spaces and parentheses', () => {
    // Fields after the name: state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime ...
    const line = '4242 (tls gate) (x)) S 17 4242 4242 0 -1 4194560 137 0 0 0 250 50 0 0 20 0 1 0 12345 1000 100';
    const stat = parseProcStat(line);
    assert.equal(stat.pid, 4242);
    assert.equal(stat.ppid, 17);
    assert.equal(stat.comm, 'tls gate) (x)');
    assert.equal(stat.cpuSeconds, (250 + 50) / CLOCK_TICKS);
    assert.equal(stat.minorFaults, 137);
  });

  test('rejects text that is not a stat line', () => {
    assert.throws(() => parseProcStat('garbage'), /unexpected \/proc stat line/);
  });
});

describe('port check', () => {
  test('reports a port something listens on, and not a free one', async () => {
    const net = await import('node:net');
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, () => resolve()));
    const taken = (server.address() as import('node:net').AddressInfo).port;
    try {
      assert.deepEqual(await portsInUse('127.0.0.1', [taken]), [taken]);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    assert.deepEqual(await portsInUse('127.0.0.1', [taken]), []);
  });
});

describe('statistics and tables', () => {
  test('median and nearest-rank percentiles', () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    const samples = Array.from({ length: 100 }, (_, i) => 100 - i); // 1..100, unsorted
    assert.equal(percentile(samples, 50), 50);
    assert.equal(percentile(samples, 99), 99);
    assert.equal(percentile(samples, 100), 100);
    assert.ok(Number.isNaN(percentile([], 50)));
  });

  test('rates per second and per proxy CPU-second are medians over repetitions', () => {
    const summary = summarizeRate(
      [
        { amount: 2e9, elapsedSeconds: 2, proxyCpuSeconds: 1, errors: 0 },
        { amount: 3e9, elapsedSeconds: 2, proxyCpuSeconds: 2, errors: 1, firstError: 'reset' },
        { amount: 1e9, elapsedSeconds: 2, proxyCpuSeconds: 0.5, errors: 0 },
      ],
      1e6,
    );
    assert.ok(summary);
    assert.equal(summary.rate, 1000); // MB/s: 1000, 1500, 500
    assert.equal(summary.perCpuSecond, 2000); // MB per CPU-s: 2000, 1500, 2000
    assert.equal(summary.cpuShare, 0.5);
    assert.equal(summary.errors, 1);
    assert.equal(summary.firstError, 'reset');
  });

  test('ratios pair the repetitions, so a drift shared by both sides cancels', () => {
    const run = (perCpu: number[]) => perCpu.map((mb) => ({ amount: mb * 1e6, elapsedSeconds: 2, proxyCpuSeconds: 1, errors: 0 }));
    // The machine slows down over the run for both proxies; ours is 0.9x the reference in
    // every repetition, but the ratio of the medians would say 1000 / 800 = 1.25x.
    const ours = run([1800, 1000, 450]);
    const reference = run([2000, 800, 500]);
    const paired = pairedRatio(ours, reference, 1e6);
    assert.deepEqual(paired.all.map((r) => r.toFixed(2)), ['0.90', '1.25', '0.90']);
    assert.equal(paired.median.toFixed(2), '0.90');
    // Repetitions that do not pair up (a target failed part-way) fall back to the medians.
    const unpaired = pairedRatio(ours, reference.slice(0, 2), 1e6);
    assert.equal(unpaired.median, 1000 / 1400);
    assert.deepEqual(unpaired.all, []);
    assert.ok(Number.isNaN(pairedRatio(undefined, reference, 1e6).median));
  });

  test('Markdown tables are padded and right-align the numbers', () => {
    const table = markdownTable(['Metric', 'a'], [['x', '1,000'], ['longer', '2']]);
    assert.equal(table, ['| Metric |     a |', '|--------|------:|', '| x      | 1,000 |', '| longer |     2 |'].join('\n'));
  });
});

describe('work split across load generator processes', () => {
  const connection: ConnectionSpec = { endpoint: { host: '127.0.0.1', port: 1 }, protocol: 'raw', servername: 'x', expectBytes: 1 };

  test('shares differ by at most one and are never empty', () => {
    assert.deepEqual(shares(64, 3), [22, 21, 21]);
    assert.deepEqual(shares(1, 2), [1]);
    assert.deepEqual(shares(0, 2), [0]);
  });

  test('concurrency, connections and counts are split; latency stays in one process', () => {
    assert.deepEqual(
      splitCommand({ kind: 'connect-rate', connection, concurrency: 64, durationMs: 1 }, 2).map((c) => (c.kind === 'connect-rate' ? c.concurrency : -1)),
      [32, 32],
    );
    assert.equal(splitCommand({ kind: 'bulk', connection, connections: 1, durationMs: 1 }, 2).length, 1);
    assert.equal(splitCommand({ kind: 'latency', connection, count: 10 }, 4).length, 1);
    const holds = splitCommand({ kind: 'hold', connection, count: 9000, concurrency: 200 }, 2);
    assert.deepEqual(holds.map((c) => (c.kind === 'hold' ? [c.count, c.concurrency] : [])), [
      [4500, 100],
      [4500, 100],
    ]);
    assert.equal(splitCommand({ kind: 'release' }, 3).length, 3);
  });

  test('results merge by sum, with the longest elapsed time and all samples', () => {
    const merged = mergeResults([
      { ops: 1, bytes: 10, errors: 0, elapsedMs: 5, samplesUs: [1] },
      { ops: 2, bytes: 20, errors: 3, firstError: 'boom', elapsedMs: 7, samplesUs: [2, 3] },
    ]);
    assert.deepEqual(merged, { ops: 3, bytes: 30, errors: 3, firstError: 'boom', elapsedMs: 7, samplesUs: [1, 2, 3] });
  });
});

describe('--node: the Node.js proxies on another Node.js binary', () => {
  // A stand-in for another Node.js: it reports a version no real Node has, records every start
  // (its pid, which exec keeps, and its arguments) and then runs the machine's node. So the
  // tests see both that the proxies were started with this binary and that the report names it.
  const fakeVersion = 'v99.1.2';
  const starts = path.join(workDir, 'fake-node-starts.log');
  const fakeNode = path.join(workDir, 'fake-node');
  writeFileSync(fakeNode, `#!/bin/sh\nif [ "$1" = -v ]; then echo ${fakeVersion}; exit 0; fi\necho "$$ $*" >> '${starts}'\nexec '${process.execPath}' "$@"\n`);
  chmodSync(fakeNode, 0o755);
  // Away from the bench's default ports (20000 and up), so a running benchmark is not disturbed.
  const portBase = 7000 + Math.floor(Math.random() * 1000);

  test('reads the version of the binary it is given, and of the running one by default', () => {
    assert.deepEqual(nodeRuntime(fakeNode), { path: fakeNode, version: fakeVersion });
    assert.deepEqual(nodeRuntime(process.execPath), { path: process.execPath, version: process.version });
    assert.deepEqual(CURRENT_NODE, { path: process.execPath, version: process.version });
  });

  test('refuses a path that does not run, or that is not Node.js', () => {
    assert.throws(() => nodeRuntime(path.join(workDir, 'no-such-node')), /^Error: --node .*no-such-node: cannot run it/);
    const notNode = path.join(workDir, 'not-node');
    writeFileSync(notNode, '#!/bin/sh\necho hello\n');
    chmodSync(notNode, 0o755);
    assert.throws(() => nodeRuntime(notNode), /--node .*not-node: `-v` printed "hello", not a Node\.js version/);
  });

  async function startedWith(start: () => Promise<BenchTarget>): Promise<{ target: BenchTarget; args: string }> {
    const target = await start();
    try {
      const pid = target.process!.pid;
      const line = readFileSync(starts, 'utf8').split('\n').find((l) => l.startsWith(`${pid} `));
      assert.ok(line, `process ${pid} was not started through the given binary`);
      return { target, args: line.slice(String(pid).length + 1) };
    } finally {
      await target.stop();
    }
  }

  test('tlsgate runs on it, and the report names its version', async () => {
    const node = nodeRuntime(fakeNode);
    const version = (JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    const { target, args } = await startedWith(() => startTlsgate({ ...context, workDir, portBase, node }, CONTROLLER_NAME));
    assert.equal(target.version, `tlsgate ${version} on Node ${fakeVersion}`);
    assert.match(args, /^--initial-old-space-size=64 --expose-gc \S*bin\/tlsgate\.js standalone /, 'with the V8 flags the Deployment gives the proxy');
  });

  test('the plain Node.js relay runs on it, and the report names its version', async () => {
    const node = nodeRuntime(fakeNode);
    const { target, args } = await startedWith(() => startNodeFloor({ ...context, workDir, portBase, node }));
    assert.equal(target.version, `plain Node ${fakeVersion} relay`);
    assert.match(args, /^--initial-old-space-size=64 --expose-gc \S*node-floor\.js /, 'with the same V8 flags as tlsgate');
  });

  test('without it, the proxies run on the running Node.js', async () => {
    const target = await startNodeFloor({ ...context, workDir, portBase });
    try {
      assert.equal(target.version, `plain Node ${process.version} relay`);
      assert.equal(readFileSync(`/proc/${target.process!.pid}/cmdline`, 'utf8').split('\0')[0], process.execPath);
    } finally {
      await target.stop();
    }
  });
});
