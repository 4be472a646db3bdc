/**
 * Tests of the HTTP benchmark's own parts (never of anyone's speed): the generated nginx and
 * HAProxy configurations pass the real binaries' checks, the tlsgate manifests translate into an
 * HTTP and an HTTPS listener with the route to the backend, the work split between load
 * generator processes, the report's arithmetic, and, on real loopback sockets, that every side
 * answers every kind of request correctly through the Go backend and that the Go load generator
 * counts correct answers, and only those.
 *
 * Run: `npm run build && node --test dist/bench/http/bench.test.js`
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { addDocument, emptySnapshot } from '../../src/manifests/load.js';
import { CONTROLLER_NAME, translate } from '../../src/gatewayapi/translate.js';
import { buildGoLoadSide } from '../proxy/load-side.js';
import { cpuCount } from '../proxy/system.js';
import { HttpLoadGenerators, mergeHttpResults, splitHttpCommand, startHttpBackend, type RunningHttpBackend } from './load-side.js';
import { HTTP_RATE_PHASES, smallRequest } from './phases.js';
import { addedLatencies, openLoopRate, rateTargetCell, withSpread } from './report.js';
import {
  HTTP_TARGETS,
  haproxyHttpConfig,
  issueHttpBenchCertificates,
  nginxHttpConfig,
  startHttpTarget,
  targetPorts,
  tlsgateHttpManifests,
  type HttpTarget,
  type HttpTargetContext,
} from './targets.js';
import { verifyHttpTarget } from './verify.js';
import { BENCH_HOST, SMALL_BODY_BYTES, type HttpRequestSpec } from './workloads.js';

const workDir = mkdtempSync(path.join(tmpdir(), 'tlsgate-bench-http-test-'));
after(() => rmSync(workDir, { recursive: true, force: true }));

// Away from bench:proxy's test ports (base 20000) and the benchmark's own default (24000).
const PORT_BASE = 24500;
const certificates = issueHttpBenchCertificates(workDir);
const staticContext: HttpTargetContext = { host: '127.0.0.1', workDir, backendPort: 41080, certificates, proxyCpus: '0', workers: 1, portBase: PORT_BASE };

describe('reference proxy configurations', () => {
  test('nginx accepts the generated HTTP configuration (nginx -t), with an upstream keepalive pool to the backend', () => {
    const config = nginxHttpConfig(staticContext, targetPorts(PORT_BASE).nginx);
    const file = path.join(workDir, 'nginx-http-test.conf');
    writeFileSync(file, config);
    const output = execFileSync('sh', ['-c', `nginx -t -p ${workDir} -e ${workDir}/nginx-test-error.log -c ${file} 2>&1`], { encoding: 'utf8' });
    assert.match(output, /syntax is ok/);
    assert.match(output, /test is successful/);
    assert.match(config, /upstream bench_backend \{\n\s+server 127\.0\.0\.1:41080;\n\s+keepalive 64;/);
    assert.match(config, /proxy_http_version 1\.1;/);
    assert.match(config, /listen 127\.0\.0\.1:25943 ssl/);
  });

  test('HAProxy accepts the generated HTTP configuration (haproxy -c)', () => {
    const config = haproxyHttpConfig({ ...staticContext, workers: 2 }, targetPorts(PORT_BASE).haproxy);
    const file = path.join(workDir, 'haproxy-http-test.cfg');
    writeFileSync(file, config);
    const output = execFileSync('sh', ['-c', `haproxy -c -f ${file} 2>&1`], { encoding: 'utf8' });
    assert.match(output, /Configuration file is valid/);
    assert.match(config, /mode http/);
    assert.match(config, /nbthread 2/);
    assert.match(config, /server s1 127\.0\.0\.1:41080/);
  });

  test('every side listens on its own ports, below the ephemeral range', () => {
    const ports = targetPorts(PORT_BASE);
    const all = [ports.tlsgate.http, ports.tlsgate.https, ports.tlsgateAdmin, ports.nginx.http, ports.nginx.https, ports.haproxy.http, ports.haproxy.https, ports.node.http, ports.node.https];
    assert.equal(new Set(all).size, all.length);
    assert.ok(Math.max(...all) < 32768);
  });
});

describe('tlsgate manifests', () => {
  test('translate into an HTTP port and an HTTPS port whose one route sends everything to the backend', () => {
    const snapshot = emptySnapshot();
    const warnings: string[] = [];
    for (const [i, object] of tlsgateHttpManifests(staticContext, CONTROLLER_NAME).entries()) addDocument(snapshot, warnings, object, { file: 'bench.yaml', document: i });
    assert.deepEqual(warnings, []);
    const output = translate({ snapshot, now: new Date(), controllerName: CONTROLLER_NAME });
    assert.equal(output.proxyConfigs.length, 1);
    const ports = output.proxyConfigs[0]!.ports;
    assert.deepEqual(
      ports.map((p) => [p.port, p.listeners.map((l) => [l.protocol, l.reject ?? null, l.certificates.length])]),
      [
        [80, [['HTTP', null, 0]]],
        [443, [['HTTPS', null, 1]]],
      ],
    );
    for (const port of ports) {
      const http = port.listeners[0]!.http!;
      assert.deepEqual(http.virtualHosts.map((v) => v.hostname), [BENCH_HOST]);
      const entry = http.virtualHosts[0]!.matches[0]!;
      assert.deepEqual(entry.match.path, { type: 'PathPrefix', value: '/' });
      const backend = http.routes[entry.route]!.rules[entry.rule]!.backends[0]!;
      assert.deepEqual(backend.endpoints.map((e) => [e.address, e.port]), [['127.0.0.1', 41080]]);
    }
  });
});

describe('load split and report arithmetic', () => {
  const request: HttpRequestSpec = { endpoint: { host: '127.0.0.1', port: 1 }, tls: false, servername: BENCH_HOST, host: BENCH_HOST, method: 'GET', path: '/small', uploadBytes: 0, expectBodyBytes: 128, newConnectionPerRequest: false };

  test('closed loops split their connections, open loops their rate and connections, sequential runs on one process', () => {
    assert.deepEqual(splitHttpCommand({ kind: 'closed', request, connections: 5, durationMs: 1 }, 2).map((c) => (c.kind === 'closed' ? c.connections : 0)), [3, 2]);
    const open = splitHttpCommand({ kind: 'open', request, connections: 64, durationMs: 1, ratePerSecond: 1000 }, 2);
    assert.deepEqual(open.map((c) => (c.kind === 'open' ? [c.connections, c.ratePerSecond] : [])), [[32, 500], [32, 500]]);
    assert.equal(splitHttpCommand({ kind: 'sequential', request, count: 10 }, 4).length, 1);
  });

  test('merged results add up and keep every sample and the first error', () => {
    const merged = mergeHttpResults([
      { ops: 2, bytes: 10, errors: 0, elapsedMs: 5, samplesUs: [1, 2] },
      { ops: 3, bytes: 20, errors: 1, firstError: 'status 502', elapsedMs: 7, samplesUs: [3] },
    ]);
    assert.deepEqual(merged, { ops: 5, bytes: 30, errors: 1, firstError: 'status 502', elapsedMs: 7, samplesUs: [1, 2, 3] });
  });

  test('added latency subtracts the direct percentile of the same repetition', () => {
    const m = (samplesUs: number[]): { samplesUs: number[]; errors: number } => ({ samplesUs, errors: 0 });
    assert.deepEqual(addedLatencies([m([10, 20, 30]), m([100])], [m([1, 2, 3]), m([40])], 50), [18, 60]);
    assert.deepEqual(addedLatencies(undefined, [m([1])], 50), []);
  });

  test('spread cells and target verdicts', () => {
    assert.equal(withSpread([3000, 1000, 2000]), '2,000 (1,000–3,000)');
    assert.equal(withSpread([42]), '42');
    assert.equal(withSpread([]), '–');
    assert.equal(rateTargetCell(0.5, 0.99), '≥ 0.5× nginx: met; ≥ 1.0× node: missed');
    assert.equal(rateTargetCell(NaN, 1.2), '≥ 0.5× nginx: not measured; ≥ 1.0× node: met');
  });

  test('the open loop runs at half of nginx’s saturated rate, or says why it cannot', () => {
    const rates = { keepAliveSmall: { nginx: [{ amount: 20000, elapsedSeconds: 2, proxyCpuSeconds: 1, errors: 0 }] } };
    const rate = openLoopRate({ rates, targets: [{ name: 'nginx', version: 'x' }] }, undefined);
    assert.deepEqual('ratePerSecond' in rate ? rate.ratePerSecond : rate, 5000);
    assert.ok('missing' in openLoopRate({ rates, targets: [{ name: 'nginx', version: 'x', failure: 'down' }] }, undefined));
    assert.deepEqual(openLoopRate({ rates: {}, targets: [] }, 1234), { ratePerSecond: 1234, rateSource: 'given with --open-rate' });
  });
});

describe('every side on real sockets', () => {
  let backend: RunningHttpBackend;
  let generators: HttpLoadGenerators;
  let context: HttpTargetContext;
  const started: HttpTarget[] = [];

  before(async () => {
    const binary = buildGoLoadSide();
    const cpus = cpuCount() > 1 ? `0-${cpuCount() - 1}` : '0';
    backend = await startHttpBackend(binary, cpus, '127.0.0.1');
    generators = HttpLoadGenerators.start(binary, 2, cpus);
    context = { ...staticContext, backendPort: backend.port, proxyCpus: cpus };
  });
  after(async () => {
    for (const target of started) await target.stop();
    await generators?.stop();
    await backend?.stop();
  });

  for (const name of HTTP_TARGETS) {
    test(`${name} answers every kind of request correctly, and the load generator counts its answers`, { timeout: 90_000 }, async () => {
      const target = await startHttpTarget(name, context);
      started.push(target);
      await verifyHttpTarget(target, certificates.ca.certificatePem);

      for (const phase of HTTP_RATE_PHASES) {
        const request = phase.request(target);
        if (!request) {
          assert.equal(name, 'direct', `${phase.id}: only direct lacks HTTPS`);
          continue;
        }
        const result = await generators.run({ kind: 'closed', request, connections: 2, durationMs: 300 });
        assert.equal(result.errors, 0, `${phase.id}: ${result.firstError}`);
        assert.ok(result.ops > 0, `${phase.id}: no request answered`);
        const perRequest = request.uploadBytes + request.expectBodyBytes;
        assert.equal(result.bytes, result.ops * perRequest, `${phase.id}: bytes counted per answered request`);
      }

      const sequential = await generators.run({ kind: 'sequential', request: smallRequest(target), count: 20 });
      assert.equal(sequential.errors, 0, sequential.firstError);
      assert.equal(sequential.samplesUs?.length, 20);
      assert.ok(sequential.samplesUs!.every((s) => s > 0));

      const open = await generators.run({ kind: 'open', request: smallRequest(target), connections: 4, ratePerSecond: 200, durationMs: 500 });
      assert.equal(open.errors, 0, open.firstError);
      assert.equal(open.samplesUs?.length, 100, 'every scheduled request of 200/s over 0.5 s answered and timed');
    });
  }

  test('an answer of the wrong length is an error, never a counted request', async () => {
    const direct = await startHttpTarget('direct', context);
    const result = await generators.run({ kind: 'closed', request: { ...smallRequest(direct), expectBodyBytes: SMALL_BODY_BYTES + 1 }, connections: 2, durationMs: 200 });
    assert.equal(result.ops, 0);
    assert.ok(result.errors > 0);
    assert.match(result.firstError ?? '', new RegExp(`body of ${SMALL_BODY_BYTES} bytes, expected ${SMALL_BODY_BYTES + 1}`));
  });

  test('the routing check fails a side that does not forward (no X-Forwarded-For reached the backend)', async () => {
    const direct = await startHttpTarget('direct', context);
    // The backend itself, presented as a proxy: its answers lack what a forwarding proxy adds.
    const impostor: HttpTarget = { ...direct, name: 'nginx', process: started.find((t) => t.process)!.process };
    await assert.rejects(verifyHttpTarget(impostor, certificates.ca.certificatePem), /X-Forwarded-For/);
  });
});
