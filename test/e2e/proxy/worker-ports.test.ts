// Ports with `workers: 2` (workers accept from the shared sockets themselves): a port that
// cannot be bound is reported by apply() (Gateway, field, address and errno, also as data) and
// changes nothing; /readyz names why it is not ready; ports open and close in every worker as listeners come and go; established
// connections survive the swap; SIGTERM-style shutdown drains.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { PortsUnavailableError } from '../../../proxy/port-failures.js';
import { startProxyRuntime, type ProxyRuntime } from '../../../proxy/runtime.js';
import { backendRef, captureClientHello, fetchText, listener, plainBackend, proxyConfig, type Backend } from './helpers.js';

function connectOutcome(port: number): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.on('connect', () => {
      s.destroy();
      resolve('connected');
    });
    s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
  });
}

/** A passthrough connection held open: resolves with the backend's greeting; echo() round-trips. */
function hold(port: number, hello: Buffer) {
  const socket = net.connect({ port, host: '127.0.0.1' });
  socket.on('error', () => undefined);
  socket.on('connect', () => socket.write(hello));
  let buffered = '';
  let waiter: (() => void) | null = null;
  socket.setEncoding('latin1');
  socket.on('data', (d: string) => {
    buffered += d;
    const w = waiter;
    waiter = null;
    w?.();
  });
  // The backend echoes; with passthrough the ClientHello itself is echoed back too.
  const nextLine = async (): Promise<string> => {
    for (;;) {
      const nl = buffered.indexOf('\n');
      if (nl !== -1) {
        const line = buffered.slice(0, nl + 1);
        buffered = buffered.slice(nl + 1);
        return line;
      }
      await new Promise<void>((resolve) => (waiter = resolve));
    }
  };
  return { socket, nextLine };
}

describe('ports with workers: 2', () => {
  let runtime: ProxyRuntime;
  let backend: Backend;
  let hello: Buffer;
  let admin: string;
  const pt = (name: string) => listener({ name, hostname: null, mode: 'Passthrough', routes: [{ hostnames: ['*.example.com'], backends: [backendRef('b', backend.port)] }] });

  before(async () => {
    backend = await plainBackend('A');
    hello = await captureClientHello({ servername: 'a.example.com' });
    runtime = await startProxyRuntime({ address: '127.0.0.1', adminAddress: '127.0.0.1:0', workers: 2, accessLog: null });
    admin = `http://127.0.0.1:${runtime.adminPort()}`;
  });

  after(async () => {
    await runtime?.shutdown(500);
    await backend?.close();
  });

  it('before any config: /readyz says 503 and why; a first config whose port is taken is named there', { timeout: 20_000 }, async () => {
    const fresh = await startProxyRuntime({ address: '127.0.0.1', adminAddress: '127.0.0.1:0', workers: 2, accessLog: null });
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const taken = (blocker.address() as net.AddressInfo).port;
    try {
      const url = `http://127.0.0.1:${fresh.adminPort()}/readyz`;
      assert.deepEqual(await fetchText(url), { status: 503, body: 'not ready: no config applied yet\n' });
      await assert.rejects(fresh.apply([proxyConfig('first', 'v1', [{ port: taken, listeners: [pt('a')] }])]), PortsUnavailableError);
      const answer = await fetchText(url);
      assert.equal(answer.status, 503);
      assert.match(answer.body, new RegExp(`^not ready: no config applied yet; the last config was refused: proxy config default/first: ports\\[0\\]\\.port: cannot listen on 127\\.0\\.0\\.1:${taken}: EADDRINUSE\n$`));
    } finally {
      blocker.close();
      await fresh.shutdown(0);
    }
  });

  it('a port that cannot be bound is reported with the Gateway, field, address and errno, as data too; nothing changes', { timeout: 20_000 }, async () => {
    await runtime.apply([proxyConfig('ports', 'v1', [{ port: 0, listeners: [pt('a')] }])]);
    const before = runtime.boundPorts();
    const blockers = [net.createServer(), net.createServer()];
    for (const blocker of blockers) await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const [taken, taken2] = blockers.map((b) => (b.address() as net.AddressInfo).port) as [number, number];
    try {
      // Every port that fails is named (not only the first), each with its errno, through the workers' IPC.
      await assert.rejects(
        runtime.apply([proxyConfig('ports', 'v2', [{ port: 0, listeners: [pt('a')] }, { port: taken, listeners: [pt('b')] }, { port: taken2, listeners: [pt('c')] }])]),
        (err: Error) => {
          assert.match(err.message, new RegExp(`proxy config default/ports: ports\\[1\\]\\.port: cannot listen on 127\\.0\\.0\\.1:${taken}: EADDRINUSE`));
          assert.ok(err instanceof PortsUnavailableError, err.message);
          assert.deepEqual(
            err.failures.map((f) => [f.gateway, f.port, f.address, f.listenPort, f.code]),
            [['default/ports', taken, '127.0.0.1', taken, 'EADDRINUSE'], ['default/ports', taken2, '127.0.0.1', taken2, 'EADDRINUSE']],
          );
          return true;
        },
      );
    } finally {
      for (const blocker of blockers) blocker.close();
    }
    assert.deepEqual(Object.fromEntries(runtime.appliedVersions), { 'default/ports': 'v1' });
    assert.deepEqual(runtime.boundPorts(), before);
    assert.equal(runtime.ready(), true);
    assert.equal((await fetchText(`${admin}/readyz`)).status, 200);
  });

  it('opens and closes ports in every worker as listeners come and go; held connections survive', { timeout: 20_000 }, async () => {
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const extra = (probe.address() as net.AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));

    await runtime.apply([proxyConfig('ports', 'v3', [{ port: 0, listeners: [pt('a')] }, { port: extra, listeners: [pt('b')] }])]);
    // Several connections, so that both workers' accept paths are used.
    const held = Array.from({ length: 6 }, () => hold(extra, hello));
    for (const h of held) assert.equal(await h.nextLine(), 'A\n');

    await runtime.apply([proxyConfig('ports', 'v4', [{ port: 0, listeners: [pt('a')] }])]);
    assert.equal(await connectOutcome(extra), 'ECONNREFUSED', 'no worker (and not the primary) keeps the removed port open');
    for (const h of held) {
      h.socket.write('still here\n');
      // The echo first returns the ClientHello bytes we sent; read until our line comes back.
      let line = await h.nextLine();
      while (!line.endsWith('still here\n')) line = await h.nextLine();
    }
    for (const h of held) h.socket.destroy();

    // And the port can come back.
    await runtime.apply([proxyConfig('ports', 'v5', [{ port: 0, listeners: [pt('a')] }, { port: extra, listeners: [pt('b')] }])]);
    const again = hold(extra, hello);
    assert.equal(await again.nextLine(), 'A\n');
    again.socket.destroy();
  });
});
