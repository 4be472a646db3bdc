// Regressions of issue 17's defects in the accept → relay → close path, each reproduced with
// real sockets on loopback: connections that must end whatever state their sockets are in, a
// Terminate client that closes during the handshake, and the client address of a peer that
// reset before it was accepted.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Connection } from '../../../proxy/connection.js';
import { ProxyEngine } from '../../../proxy/engine.js';
import { createMetrics } from '../../../proxy/metrics.js';
import { backendRef, captureClientHello, eventually, listener, makeCert, plainBackend, proxyConfig, rawProbe, sleep, tempDir, type Backend, type TestCert } from './helpers.js';

interface LogEntry {
  client: string | null;
  listener: string | null;
  result: string;
  reason: string | null;
}

/** An engine in this process (its connection count is the thing under test), logging to memory. */
function startEngine(): { engine: ProxyEngine; entries: () => LogEntry[] } {
  let text = '';
  const engine = new ProxyEngine({
    address: '127.0.0.1',
    portOffset: 0,
    settings: { clientHelloTimeoutMs: 5000, idleTimeoutMs: 60_000 },
    accessLog: { write: (lines: string) => (text += lines) },
    metrics: createMetrics(),
    ticketKeys: randomBytes(48),
  });
  return {
    engine,
    entries: () => {
      engine.accessLog?.flush();
      return text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as LogEntry);
    },
  };
}

/** The engine's live connections (private: only this test reaches into them). */
function connectionsOf(engine: ProxyEngine): Set<Connection> {
  return (engine as unknown as { connections: Set<Connection> }).connections;
}

/** Makes a socket drop its 'close' event: the state a connection is in when its close is lost. */
function loseClose(socket: net.Socket): void {
  const emit = socket.emit.bind(socket);
  socket.emit = ((event: string | symbol, ...args: unknown[]) => (event === 'close' ? false : emit(event, ...args))) as typeof socket.emit;
}

/** 3.6 MB to 5 MB in 50 kB steps (this machine's loopback buffers hold about 4.2 MB per connection). */
const DRAIN_SIZES = Array.from({ length: 29 }, (_, i) => 3_600_000 + i * 50_000);

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)));
}

describe('proxy reliability (issue 17)', () => {
  const dir = tempDir('tlsgate-reliability-');
  let cert: TestCert;
  let echo: Backend;
  let floodBackend: net.Server;
  let drainBackend: net.Server;
  let drainPort: number;
  const floodSockets = new Set<net.Socket>();
  let engine: ProxyEngine;
  let entries: () => LogEntry[];
  let passthroughPort: number;
  let terminatePort: number;

  before(async () => {
    cert = await makeCert(dir.dir, ['*.example.com'], 'EC');
    echo = await plainBackend('echo');
    // Answers a ClientHello with more than the socket buffers between it and a client that never
    // reads hold, then FIN, then RST: the relay has half-closed the client (a shutdown libuv
    // keeps pending until the client reads) when the reset arrives.
    floodBackend = net.createServer({ allowHalfOpen: true }, (socket) => {
      floodSockets.add(socket);
      socket.on('close', () => floodSockets.delete(socket));
      socket.on('error', () => undefined);
      socket.once('data', () => {
        socket.write(Buffer.alloc(4_000_000, 0x78));
        socket.end();
        setTimeout(() => socket.resetAndDestroy(), 100);
      });
    });
    const floodPort = await listen(floodBackend);
    // A flood, then FIN, of a size that grows with each connection: around the loopback
    // buffers' capacity, some connection's last bytes fit in the buffers (so the proxy sees the
    // FIN) but cannot reach a client that does not read.
    let drainConnections = 0;
    drainBackend = net.createServer({ allowHalfOpen: true }, (socket) => {
      floodSockets.add(socket);
      socket.on('close', () => floodSockets.delete(socket));
      socket.on('error', () => undefined);
      const size = DRAIN_SIZES[drainConnections++ % DRAIN_SIZES.length]!;
      socket.once('data', () => socket.end(Buffer.alloc(size, 0x79)));
    });
    const drainBackendPort = await listen(drainBackend);
    ({ engine, entries } = startEngine());
    await engine.apply([
      proxyConfig('reliability', 'v1', [
        {
          port: 0,
          listeners: [
            listener({ name: 'flood', hostname: 'flood.example.com', mode: 'Passthrough', routes: [{ hostnames: ['flood.example.com'], backends: [backendRef('flood', floodPort)] }] }),
            listener({ name: 'echo', hostname: 'echo.example.com', mode: 'Passthrough', routes: [{ hostnames: ['echo.example.com'], backends: [backendRef('echo', echo.port)] }] }),
          ],
        },
        {
          port: 0,
          listeners: [
            listener({ name: 'term', hostname: '*.example.com', mode: 'Terminate', certificates: [cert.config('gw')], routes: [{ hostnames: ['*.example.com'], backends: [backendRef('echo', echo.port)] }] }),
          ],
        },
      ]),
      proxyConfig(
        'draining',
        'v1',
        [{ port: 0, listeners: [listener({ name: 'drain', hostname: null, mode: 'Passthrough', routes: [{ hostnames: ['drain.example.com'], backends: [backendRef('drain', drainBackendPort)] }] })] }],
        { idleTimeoutMs: 400 },
      ),
    ]);
    const bound = (gateway: string) => engine.boundPorts().filter((p) => p.gateway === `default/${gateway}`).map((p) => p.boundPort);
    [passthroughPort, terminatePort] = bound('reliability') as [number, number];
    [drainPort] = bound('draining') as [number];
  });

  after(async () => {
    await engine.shutdown(0);
    for (const socket of floodSockets) socket.destroy();
    floodBackend.close();
    drainBackend.close();
    await echo.close();
    dir.remove();
  });

  it('ends every passthrough connection whose backend sends FIN then RST to a client that never reads (defect 1)', async () => {
    const hello = await captureClientHello({ servername: 'flood.example.com' });
    const before = entries().length;
    const clients: net.Socket[] = [];
    const timers: NodeJS.Timeout[] = [];
    const COUNT = 60;
    for (let i = 0; i < COUNT; i++) {
      const client = net.connect({ port: passthroughPort, host: '127.0.0.1', allowHalfOpen: true });
      client.on('error', () => undefined);
      client.pause(); // never reads: the proxy's writes toward it back up
      client.write(hello);
      // Keeps writing, so the proxy keeps writing to the backend and meets its reset.
      timers.push(setInterval(() => client.destroyed || client.write('more'), 100 + i * 7));
      clients.push(client);
    }
    try {
      // Every connection sees its backend reset within a few hundred ms; each must be over
      // then, although its client is still connected and reads nothing.
      await eventually(() => entries().length - before === COUNT || undefined, `${COUNT} access-log lines`, 8000);
      const mine = entries().slice(before);
      assert.ok(mine.every((e) => e.listener === 'flood' && e.result === 'error'), JSON.stringify(mine.map((e) => e.reason)));
    } finally {
      for (const timer of timers) clearInterval(timer);
      for (const client of clients) client.destroy();
    }
    await eventually(() => engine.activeConnections === 0 || undefined, 'no connection left open', 3000);
  });

  it('closes a connection whose backend has closed and whose client has half-closed and stops reading, after the idle timeout (defect 1)', async () => {
    const hello = await captureClientHello({ servername: 'drain.example.com' });
    const before = entries().length;
    const clients: net.Socket[] = [];
    // One at a time, so that each gets the next size.
    for (let i = 0; i < DRAIN_SIZES.length; i++) {
      const client = net.connect({ port: drainPort, host: '127.0.0.1', allowHalfOpen: true });
      client.on('error', () => undefined);
      client.pause();
      client.end(hello); // both directions closed toward the backend: its close ends the relay
      clients.push(client);
      await eventually(() => entries().length - before + engine.activeConnections > i || undefined, 'the connection accepted');
    }
    try {
      // idleTimeoutMs is 400: each is over within 1.25 idle timeouts of its last byte moving,
      // delivered in full or cut.
      await eventually(() => entries().slice(before).filter((e) => e.listener === 'drain').length >= DRAIN_SIZES.length || undefined, `${DRAIN_SIZES.length} access-log lines`, 4000);
      const results = new Set(entries().slice(before).map((e) => e.result));
      assert.ok([...results].every((r) => r === 'ok' || r === 'idle_timeout'), [...results].join());
    } finally {
      for (const client of clients) client.destroy();
    }
  });

  it('ends a connection whose close was lost: the watchdog at its second sighting, and shutdown after its grace period (defect 1)', async () => {
    const hello = await captureClientHello({ servername: 'echo.example.com' });
    const { engine: own, entries: ownEntries } = startEngine();
    try {
      await own.apply([
        proxyConfig('watchdog', 'v1', [{ port: 0, listeners: [listener({ name: 'echo', hostname: null, mode: 'Passthrough', routes: [{ hostnames: ['echo.example.com'], backends: [backendRef('echo', echo.port)] }] })] }]),
      ]);
      const port = own.boundPorts()[0]!.boundPort;
      const open = async (): Promise<net.Socket> => {
        const socket = net.connect({ port, host: '127.0.0.1' });
        socket.on('error', () => undefined);
        socket.write(hello);
        await eventually(() => socket.bytesRead > 0, 'the backend greeting through the proxy');
        return socket;
      };
      const first = await open();
      const [conn] = [...connectionsOf(own)] as [Connection];
      loseClose(conn.client);
      first.destroy();
      await eventually(() => conn.client.destroyed, 'the proxy side destroyed');
      await sleep(50);
      assert.equal(own.activeConnections, 1, 'the lost close keeps it counted');
      assert.equal(own.endLostConnections(), 0, 'a first sighting may be a close in flight');
      assert.equal(own.endLostConnections(), 1);
      assert.equal(own.activeConnections, 0);
      assert.match(ownEntries().at(-1)?.reason ?? '', /close_lost/);

      // Shutdown: a connection that does not close when destroyed is ended after the grace period.
      const second = await open();
      const [stuck] = [...connectionsOf(own)] as [Connection];
      loseClose(stuck.client);
      const started = performance.now();
      await own.shutdown(200);
      const took = performance.now() - started;
      second.destroy();
      assert.ok(took < 3000, `shutdown took ${Math.round(took)} ms`);
      assert.equal(own.activeConnections, 0);
      assert.match(ownEntries().at(-1)?.reason ?? '', /shutdown/);
    } finally {
      await own.shutdown(0);
    }
  });

  it('sees a Terminate client that sends its ClientHello and then FIN as client_closed at once (defect 4)', async () => {
    const hello = await captureClientHello({ servername: 'bye.example.com' });
    const before = entries().length;
    const started = performance.now();
    const outcome = await rawProbe(terminatePort, [hello], { endAfterWrite: true, waitMs: 4000 });
    const elapsed = performance.now() - started;
    assert.notEqual(outcome.ending, 'open', 'the proxy closed the connection');
    assert.ok(elapsed < 1500, `closed after ${Math.round(elapsed)} ms, not at the handshake deadline`);
    const line = (await eventually(() => entries().slice(before).find((e) => e.listener === 'term'), 'its access-log line')) as LogEntry;
    assert.equal(line.result, 'handshake_failed');
    assert.equal(line.reason, 'client_closed');
  });

  it('logs the client address read at accept, and null (never "undefined:undefined") for a peer already gone (defect 5)', async () => {
    const before = entries().length;
    // A client that connects and resets while this process's event loop is blocked (spawnSync):
    // the kernel has completed and reset the connection before the proxy accepts it.
    const child = spawnSync(process.execPath, [
      '-e',
      `const s = require('net').connect(${passthroughPort}, '127.0.0.1', () => { s.resetAndDestroy(); setTimeout(() => {}, 50); });`,
    ]);
    assert.equal(child.status, 0, String(child.stderr));
    const gone = await eventually(() => entries()[before], 'the line of the reset connection');
    assert.equal(gone.client, null);

    const hello = await captureClientHello({ servername: 'echo.example.com' });
    const socket = net.connect({ port: passthroughPort, host: '127.0.0.1' });
    await new Promise((resolve) => socket.once('connect', resolve));
    const localPort = socket.localPort;
    socket.write(hello);
    await sleep(100);
    socket.destroy();
    const line = (await eventually(() => entries().slice(before + 1).find((e) => e.listener === 'echo'), 'the line of the echo connection')) as LogEntry;
    assert.equal(line.client, `127.0.0.1:${localPort}`);
  });
});
