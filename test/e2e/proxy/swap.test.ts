// Hitless config changes and the runtime's lifecycle: a swap under load drops no
// established connection, ports open and close with the config, new certificates apply to
// the next handshake, a failed apply changes nothing, and the admin server tells the truth.
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { portFailuresOf } from '../../../proxy/port-failures.js';
import { startProxyRuntime, type ProxyRuntime } from '../../../proxy/runtime.js';
import type { ProxyConfig } from '../../../src/proxy-config.js';
import { backendRef, fetchText, listener, makeCert, metricValue, plainBackend, proxyConfig, tempDir, tlsRequest, type Backend, type TestCert } from './helpers.js';

/** A long-lived terminate connection that can be asked to echo later. */
interface Held {
  socket: tls.TLSSocket;
  greeting: Promise<string>;
  echo(text: string): Promise<string>;
}

function hold(port: number, servername: string): Held {
  const socket = tls.connect({ port, host: '127.0.0.1', servername, rejectUnauthorized: false });
  socket.setEncoding('utf8');
  socket.on('error', () => undefined);
  let buffer = '';
  let waiter: (() => void) | null = null;
  socket.on('data', (d: string) => {
    buffer += d;
    waiter?.();
  });
  const until = (predicate: () => boolean) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (predicate()) {
          waiter = null;
          resolve();
        }
      };
      waiter = check;
      socket.once('close', () => reject(new Error(`connection closed; had ${JSON.stringify(buffer)}`)));
      check();
    });
  const greeting = until(() => buffer.includes('\n')).then(() => buffer);
  return {
    socket,
    greeting,
    async echo(text) {
      const start = buffer.length;
      socket.write(text);
      await until(() => buffer.slice(start).includes(text));
      return buffer.slice(start);
    },
  };
}

describe('config swaps and lifecycle', () => {
  const dir = tempDir('tlsgate-swap-');
  let runtime: ProxyRuntime;
  let cert1: TestCert;
  let cert2: TestCert;
  let backendA: Backend;
  let backendB: Backend;
  let admin: string;

  const terminate = (name: string, cert: TestCert, backend: Backend) =>
    listener({ name, hostname: '*.example.com', mode: 'Terminate', certificates: [cert.config(`cert-${name}`)], routes: [{ hostnames: ['*.example.com'], backends: [backendRef(name, backend.port)] }] });
  let v1: ProxyConfig;

  before(async () => {
    [cert1, cert2] = await Promise.all([makeCert(dir.dir, ['*.example.com']), makeCert(dir.dir, ['*.example.com'])]);
    backendA = await plainBackend('A');
    backendB = await plainBackend('B');
    runtime = await startProxyRuntime({ address: '127.0.0.1', adminAddress: '127.0.0.1:0', accessLog: null });
    admin = `http://127.0.0.1:${runtime.adminPort()}`;
    v1 = proxyConfig('swap', 'v1', [
      { port: 0, listeners: [terminate('a', cert1, backendA)] },
      { port: 0, listeners: [terminate('a2', cert1, backendA)] },
    ]);
  });

  after(async () => {
    await runtime?.shutdown(500);
    await Promise.all([backendA?.close(), backendB?.close()]);
    dir.remove();
  });

  it('is not ready before the first config, ready after it', async () => {
    assert.equal((await fetchText(`${admin}/healthz`)).status, 200);
    assert.equal((await fetchText(`${admin}/readyz`)).status, 503);
    assert.equal(runtime.ready(), false);
    await runtime.apply([v1]);
    assert.equal((await fetchText(`${admin}/readyz`)).status, 200);
    assert.deepEqual([...runtime.appliedVersions], [['default/swap', 'v1']]);
  });

  it('swaps under load: established connections keep working, new ones use the new config, ports open and close', async () => {
    const [p0, p1] = runtime.boundPorts().map((b) => b.boundPort) as [number, number];
    const held = [...Array.from({ length: 8 }, () => hold(p0, 'x.example.com')), ...Array.from({ length: 8 }, () => hold(p1, 'x.example.com'))];
    for (const h of held) assert.equal(await h.greeting, 'A\n');

    // Load: new connections keep arriving while the config changes.
    let running = true;
    const failures: string[] = [];
    const seen = { A: 0, B: 0 };
    const load = Array.from({ length: 3 }, async () => {
      while (running) {
        const out = await tlsRequest(p0, 'y.example.com', { readUntil: '\n' });
        if (out.data === 'A\n') seen.A++;
        else if (out.data === 'B\n') seen.B++;
        else failures.push(JSON.stringify(out));
      }
    });
    await new Promise((r) => setTimeout(r, 200));
    const v2 = proxyConfig('swap', 'v2', [{ port: 0, listeners: [terminate('b', cert2, backendB)] }]);
    const added = proxyConfig('added', 'v1', [{ port: 0, listeners: [terminate('c', cert2, backendB)] }]);
    await runtime.apply([v2, added]);
    await new Promise((r) => setTimeout(r, 200));
    running = false;
    await Promise.all(load);

    assert.deepEqual(failures, []);
    assert.ok(seen.A > 0 && seen.B > 0, `load saw ${JSON.stringify(seen)}`);
    // Every established connection, including those on the port that went away, still relays to A.
    for (const h of held) assert.equal(await h.echo('ping'), 'ping');
    for (const h of held) h.socket.destroy();
    // New connections: new backend and the new certificate on the next handshake.
    const fresh = await tlsRequest(p0, 'z.example.com', { readUntil: '\n' });
    assert.equal(fresh.data, 'B\n');
    assert.equal(fresh.peerFingerprint, cert2.fingerprint256);
    // The removed port refuses; the added Gateway's port serves.
    const refused = await new Promise<string>((resolve) => {
      const s = net.connect(p1, '127.0.0.1');
      s.on('connect', () => resolve('connected'));
      s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
    });
    assert.equal(refused, 'ECONNREFUSED');
    const addedPort = runtime.boundPorts().find((b) => b.gateway === 'default/added')!.boundPort;
    assert.equal((await tlsRequest(addedPort, 'q.example.com', { readUntil: '\n' })).data, 'B\n');
    assert.deepEqual(Object.fromEntries(runtime.appliedVersions), { 'default/swap': 'v2', 'default/added': 'v1' });
  });

  it('/readyz (one process) says why it is not ready: no config yet, then the port the refused config could not bind', async () => {
    const fresh = await startProxyRuntime({ address: '127.0.0.1', adminAddress: '127.0.0.1:0', accessLog: null });
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const taken = (blocker.address() as net.AddressInfo).port;
    try {
      const url = `http://127.0.0.1:${fresh.adminPort()}/readyz`;
      assert.deepEqual(await fetchText(url), { status: 503, body: 'not ready: no config applied yet\n' });
      await assert.rejects(fresh.apply([proxyConfig('first', 'v1', [{ port: taken, listeners: [terminate('a', cert1, backendA)] }])]));
      assert.equal(fresh.notReadyReason(), `no config applied yet; the last config was refused: proxy config default/first: ports[0].port: cannot listen on 127.0.0.1:${taken}: EADDRINUSE`);
      assert.equal((await fetchText(url)).body, `not ready: ${fresh.notReadyReason()}\n`);
      await fresh.apply([proxyConfig('first', 'v2', [{ port: 0, listeners: [terminate('a', cert1, backendA)] }])]);
      assert.deepEqual(await fetchText(url), { status: 200, body: 'ready\n' });
      assert.equal(fresh.notReadyReason(), null);
    } finally {
      blocker.close();
      await fresh.shutdown(0);
    }
    assert.equal(fresh.notReadyReason(), 'draining: the proxy is shutting down');
  });

  it('a failed apply (mismatched key, port already taken) changes nothing', async () => {
    const versions = Object.fromEntries(runtime.appliedVersions);
    const ports = runtime.boundPorts();
    const badCert = { ...cert2.config('mismatched'), privateKeyPem: cert1.keyPem };
    const bad = proxyConfig('swap', 'v3', [{ port: 0, listeners: [listener({ name: 'b', hostname: null, mode: 'Terminate', certificates: [badCert], routes: [] })] }]);
    await assert.rejects(runtime.apply([bad]), (err: Error) => /default\/mismatched/.test(err.message) && /listeners\[0\]/.test(err.message) && !err.message.includes('PRIVATE KEY'));

    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const taken = (blocker.address() as net.AddressInfo).port;
    const v3 = proxyConfig('swap', 'v3', [
      { port: 0, listeners: [terminate('b', cert2, backendB)] },
      { port: taken, listeners: [] },
    ]);
    await assert.rejects(runtime.apply([v3]), (err: Error) => {
      assert.match(err.message, /ports\[1\]\.port: cannot listen on 127\.0\.0\.1:\d+: EADDRINUSE/);
      // The refusal as data too, which standalone and the proxy's NACK use to leave the listener out.
      assert.deepEqual(portFailuresOf(err)?.map((f) => [f.gateway, f.port, f.code]), [['default/swap', taken, 'EADDRINUSE']]);
      return true;
    });
    blocker.close();
    assert.deepEqual(Object.fromEntries(runtime.appliedVersions), versions);
    assert.deepEqual(runtime.boundPorts(), ports);
    assert.equal(runtime.ready(), true);
    const fresh = await tlsRequest(ports[0]!.boundPort, 'z.example.com', { readUntil: '\n' });
    assert.ok(fresh.data === 'B\n');
  });

  it('serves /config_dump with keys redacted and /metrics with the config version', async () => {
    const dump = await fetchText(`${admin}/config_dump`);
    assert.equal(dump.status, 200);
    assert.doesNotMatch(dump.body, /PRIVATE KEY/);
    const parsed = JSON.parse(dump.body) as { versions: Record<string, string>; configs: ProxyConfig[] };
    assert.equal(parsed.versions['default/swap'], 'v2');
    assert.equal(parsed.configs.find((c) => c.gateway.name === 'swap')!.ports[0]!.listeners[0]!.certificates[0]!.privateKeyPem, '<redacted>');
    const metrics = (await fetchText(`${admin}/metrics`)).body;
    assert.equal(metricValue(metrics, 'tlsgate_config_info', { gateway: 'default/swap', version: 'v2' }), 1);
    assert.equal(metricValue(metrics, 'tlsgate_config_info', { gateway: 'default/swap', version: 'v1' }), 0);
    assert.ok(metricValue(metrics, 'tlsgate_config_apply_timestamp_seconds', { gateway: 'default/swap' }) > 0);
  });

  it('shutdown stops accepting, reports not ready, drains, then closes what is left', async () => {
    const port = runtime.boundPorts()[0]!.boundPort;
    const h = hold(port, 'x.example.com');
    assert.equal(await h.greeting, 'B\n');
    const closed = new Promise<void>((resolve) => h.socket.once('close', () => resolve()));
    const done = runtime.shutdown(300);
    assert.equal(runtime.ready(), false);
    // Still relaying during the grace period.
    assert.equal(await h.echo('during grace'), 'during grace');
    await done;
    await closed;
    const refused = await new Promise<string>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.on('connect', () => resolve('connected'));
      s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
    });
    assert.equal(refused, 'ECONNREFUSED');
  });
});
