// `workers: 2`: node:cluster workers share the listening port; apply() resolves only when
// every worker applied; metrics aggregate across workers; the access log reaches the
// primary's stream; a killed worker is replaced with the current config; session tickets
// issued by one worker resume on the other (shared ticket keys).
import assert from 'node:assert/strict';
import net from 'node:net';
import { PassThrough } from 'node:stream';
import tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import { startProxyRuntime, type ProxyRuntime } from '../../../proxy/runtime.js';
import { proxyGlibcTunables, PROXY_NODE_FLAGS } from '../../../src/proxy-process-env.js';
import { backendRef, eventually, fetchText, listener, makeCert, metricValue, plainBackend, proxyConfig, tempDir, tlsRequest, type Backend, type TestCert } from './helpers.js';

describe('proxy with workers', () => {
  const dir = tempDir('tlsgate-workers-');
  let runtime: ProxyRuntime;
  let cert: TestCert;
  let backendA: Backend;
  let backendB: Backend;
  let admin: string;
  let port: number;
  const logStream = new PassThrough();
  const logLines: Record<string, unknown>[] = [];
  let partial = '';
  logStream.on('data', (chunk: Buffer) => {
    partial += chunk.toString();
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) logLines.push(JSON.parse(line) as Record<string, unknown>);
  });

  const config = (version: string, backend: Backend) =>
    proxyConfig('workers', version, [
      { port: 0, listeners: [listener({ name: 'term', hostname: null, mode: 'Terminate', certificates: [cert.config('gw')], routes: [{ hostnames: ['*.example.com'], backends: [backendRef('b', backend.port)] }] })] },
    ]);

  before(async () => {
    cert = await makeCert(dir.dir, ['*.example.com']);
    backendA = await plainBackend('A');
    backendB = await plainBackend('B');
    runtime = await startProxyRuntime({ address: '127.0.0.1', adminAddress: '127.0.0.1:0', workers: 2, accessLog: logStream });
    admin = `http://127.0.0.1:${runtime.adminPort()}`;
  });

  after(async () => {
    await runtime?.shutdown(500);
    await Promise.all([backendA?.close(), backendB?.close()]);
    dir.remove();
  });

  it('applies to every worker before resolving, then serves on one shared port', async () => {
    assert.equal(runtime.ready(), false);
    await runtime.apply([config('v1', backendA)]);
    assert.equal(runtime.ready(), true);
    assert.equal((await fetchText(`${admin}/readyz`)).status, 200);
    port = runtime.boundPorts()[0]!.boundPort;
    const outs = await Promise.all(Array.from({ length: 12 }, () => tlsRequest(port, 'a.example.com', { readUntil: '\n' })));
    for (const o of outs) assert.equal(o.data, 'A\n');
  });

  it('aggregates metrics across workers and ships access-log lines to the primary', async () => {
    await eventually(async () => metricValue((await fetchText(`${admin}/metrics`)).body, 'tlsgate_connections_total', { result: 'ok' }) === 12, '12 connections counted across workers');
    const metrics = (await fetchText(`${admin}/metrics`)).body;
    // Gauges that every worker holds identically are not summed.
    assert.equal(metricValue(metrics, 'tlsgate_config_info', { gateway: 'default/workers', version: 'v1' }), 1);
    await eventually(() => logLines.length >= 12, 'access log lines');
    const line = logLines[0]!;
    assert.equal(line.sni, 'a.example.com');
    assert.equal(line.result, 'ok');
    assert.equal(line.gateway, 'default/workers');
  });

  it('resumes a TLS session on any worker (shared ticket keys)', async () => {
    let session: Buffer | undefined;
    await new Promise<void>((resolve) => {
      const s = tls.connect({ port, host: '127.0.0.1', servername: 'a.example.com', rejectUnauthorized: false });
      s.on('session', (sess: Buffer) => {
        session = sess;
        s.destroy();
        resolve();
      });
      s.on('error', () => undefined);
    });
    assert.ok(session);
    // The kernel spreads these over both workers (not guaranteed for 4 connections: tickets.test.ts
    // proves it with replacement workers that never issued the ticket).
    for (let i = 0; i < 4; i++) {
      const reused = await new Promise<boolean>((resolve) => {
        const s = tls.connect({ port, host: '127.0.0.1', servername: 'a.example.com', rejectUnauthorized: false, session });
        s.on('secureConnect', () => {
          const r = s.isSessionReused();
          s.destroy();
          resolve(r);
        });
        s.on('error', () => resolve(false));
      });
      assert.equal(reused, true, `resumption ${i}`);
    }
  });

  it('starts every worker with the proxy allocator setting (GLIBC_TUNABLES) and V8 flags, read at exec', async () => {
    const workers = Object.values(cluster.workers ?? {});
    assert.equal(workers.length, 2);
    for (const worker of workers) {
      const environ = readFileSync(`/proc/${worker!.process.pid}/environ`, 'latin1').split('\0');
      assert.ok(environ.includes(`GLIBC_TUNABLES=${proxyGlibcTunables(process.env)}`), `worker ${worker!.id}'s environment has ${environ.filter((e) => e.startsWith('GLIBC')).join(', ') || 'no GLIBC_TUNABLES'}`);
      // This test process runs without the flags, so the primary must add them; and not its --test ones.
      const argv = readFileSync(`/proc/${worker!.process.pid}/cmdline`, 'latin1').split('\0');
      for (const flag of PROXY_NODE_FLAGS) assert.ok(argv.includes(flag), `worker ${worker!.id} runs ${argv.join(' ')}`);
      assert.ok(!argv.some((a) => a.startsWith('--test')), `worker ${worker!.id} runs ${argv.join(' ')}`);
    }
  });

  it('swaps configs in all workers', async () => {
    await runtime.apply([config('v2', backendB)]);
    const outs = await Promise.all(Array.from({ length: 6 }, () => tlsRequest(port, 'a.example.com', { readUntil: '\n' })));
    for (const o of outs) assert.equal(o.data, 'B\n');
  });

  it('replaces a worker that dies and gives it the current config', async () => {
    const victim = Object.values(cluster.workers ?? {})[0]!;
    const victimId = victim.id;
    victim.process.kill('SIGKILL');
    await eventually(() => !Object.values(cluster.workers ?? {}).some((w) => w?.id === victimId) && runtime.ready(), 'a ready replacement', 10_000);
    const outs = await Promise.all(Array.from({ length: 6 }, () => tlsRequest(port, 'a.example.com', { readUntil: '\n' })));
    for (const o of outs) assert.equal(o.data, 'B\n');
  });

  it('fails startup cleanly when the admin address is taken: no workers left behind', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const taken = (blocker.address() as net.AddressInfo).port;
    const before = Object.keys(cluster.workers ?? {}).length;
    await assert.rejects(startProxyRuntime({ address: '127.0.0.1', adminAddress: `127.0.0.1:${taken}`, workers: 2, accessLog: null }), /EADDRINUSE/);
    blocker.close();
    await eventually(() => Object.keys(cluster.workers ?? {}).length === before, 'the failed runtime\'s workers to exit');
    assert.equal(runtime.ready(), true);
  });
});
