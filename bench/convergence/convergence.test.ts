/**
 * Tests of the convergence benchmark's own parts (not of anyone's speed): the probe tells a
 * connection that reached the expected backend from one that reached another backend, went
 * through the wrong kind of listener or was closed without a byte (real sockets, real TLS);
 * the plan of changes; the statistics with timed-out changes; reading the delivery logs.
 *
 * Run: `npm run build && node --test dist/bench/convergence/`
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { startTcpEcho, type TcpEchoServer } from '../../test/images/tcp-echo.js';
import { deliveryOf, type DeliveryLog } from './breakdown.js';
import { plannedRoutes } from './plan.js';
import { probeOnce, probeUntilRouted, type ProbeTarget } from './probe.js';
import { renderTable, summarize } from './report.js';
import { BACKENDS, LISTENERS, issueBenchPki } from './setup.js';

const pki = issueBenchPki();
const HOST = '127.0.0.1';

describe('probe (real sockets, real TLS)', () => {
  let echo: TcpEchoServer;
  let terminating: tls.Server;
  let silent: net.Server;
  const sockets = new Set<net.Socket>();

  before(async () => {
    echo = await startTcpEcho({
      host: HOST,
      tcpPort: 0,
      tls: { port: 0, cert: pki.backend.certificatePem, key: pki.backend.privateKeyPem },
      context: { namespace: 'bench', ingress: '', service: 'echo-a', pod: 'echo-a-0' },
    });
    // A minimal terminating gateway: the gateway's certificate, then plain TCP to the echo.
    terminating = tls.createServer({ cert: pki.gateway.certificatePem, key: pki.gateway.privateKeyPem }, (client) => {
      const upstream = net.connect(echo.tcpPort, HOST);
      for (const s of [client, upstream]) {
        sockets.add(s);
        s.on('error', () => s.destroy());
      }
      client.pipe(upstream).pipe(client);
    });
    // What a gateway does with an SNI it has no route for: accept, then close without a byte.
    silent = net.createServer((socket) => socket.destroy());
    await Promise.all([terminating, silent].map((server) => new Promise<void>((resolve) => server.listen(0, HOST, resolve))));
  });

  after(async () => {
    for (const socket of sockets) socket.destroy();
    await Promise.all([echo.close(), new Promise((r) => terminating.close(r)), new Promise((r) => silent.close(r))]);
  });

  const portOf = (server: net.Server): number => (server.address() as net.AddressInfo).port;
  const target = (overrides: Partial<ProbeTarget>): ProbeTarget => ({
    host: HOST,
    port: echo.tlsPort!,
    serverName: 'n-1.bench.test',
    ca: pki.ca.certificatePem,
    expectedService: 'echo-a',
    passthrough: true,
    ...overrides,
  });

  test('passthrough: the backend terminates TLS, names itself and saw the SNI', async () => {
    assert.deepEqual(await probeOnce(target({}), 5000), { ok: true });
  });

  test('another backend does not count', async () => {
    assert.deepEqual(await probeOnce(target({ expectedService: 'echo-b' }), 5000), { ok: false, reason: 'reached backend echo-a' });
  });

  test('terminate: plain TCP behind the gateway counts only for a Terminate target', async () => {
    assert.deepEqual(await probeOnce(target({ port: portOf(terminating), passthrough: false }), 5000), { ok: true });
    const wrongMode = await probeOnce(target({ port: portOf(terminating), passthrough: true }), 5000);
    assert.equal(wrongMode.ok, false);
    assert.match((wrongMode as { reason: string }).reason, /isTLS=false/);
    const tlsBehindTerminate = await probeOnce(target({ passthrough: false }), 5000);
    assert.deepEqual(tlsBehindTerminate, { ok: false, reason: 'backend saw TLS behind a Terminate listener' });
  });

  test('a connection closed without a byte is "not yet", not an exception', async () => {
    const result = await probeOnce(target({ port: portOf(silent) }), 5000);
    assert.equal(result.ok, false);
  });

  test('a certificate for another name fails the handshake', async () => {
    const result = await probeOnce(target({ serverName: 'n-1.other.test' }), 5000);
    assert.equal(result.ok, false);
    assert.match((result as { reason: string }).reason, /ERR_TLS_CERT_ALTNAME_INVALID/);
  });

  test('probeUntilRouted reports the first probe that reached the backend, and stop() ends a loop that never does', async () => {
    const reached = await probeUntilRouted(target({}), 5, 5000).reached;
    assert.equal(reached.probes, 1);
    const never = probeUntilRouted(target({ port: portOf(silent) }), 5, 5000);
    setTimeout(() => never.stop(), 100);
    await assert.rejects(never.reached, /stopped after \d+ probes/);
  });
});

describe('plan of changes', () => {
  test('create: a new route and hostname per change, listeners in turn, both backends on each listener', () => {
    const { initial, changes } = plannedRoutes({ changes: 50, kind: 'create', modes: ['Passthrough', 'Terminate'] });
    assert.equal(initial.length, 0);
    assert.equal(changes.length, 50);
    assert.equal(new Set(changes.map((c) => c.hostname)).size, 50);
    for (const listener of [LISTENERS.Passthrough, LISTENERS.Terminate]) {
      const on = changes.filter((c) => c.listener === listener);
      assert.equal(on.length, 25);
      assert.deepEqual(new Set(on.map((c) => c.backend)), new Set(BACKENDS));
    }
  });

  test('switch: every change flips one route of the pool to the other backend', () => {
    const { initial, changes } = plannedRoutes({ changes: 25, kind: 'switch', modes: ['Terminate'] });
    assert.equal(initial.length, 10);
    const state = new Map(initial.map((r) => [r.name, r.backend]));
    for (const change of changes) {
      assert.ok(state.has(change.name), `${change.name} is in the pool`);
      assert.notEqual(change.backend, state.get(change.name));
      assert.equal(change.listener, LISTENERS.Terminate);
      state.set(change.name, change.backend);
    }
  });
});

describe('statistics', () => {
  test('a timed-out change counts as infinitely slow and misses the target', () => {
    const fast = Array.from({ length: 49 }, (_, i) => 100 + i);
    assert.equal(summarize('x', fast, 2000).p99, 148);
    const row = summarize('x', [...fast, null], 2000);
    assert.equal(row.missed, 1);
    assert.equal(row.p50, 124);
    assert.equal(row.p99, Infinity);
    assert.equal(row.targetMet, false);
    assert.match(renderTable([row]), /50 \(1 timed out\).*timeout.*< 2 s: missed/);
  });

  test('p99 at the target is a miss ("under 2 s")', () => {
    assert.equal(summarize('x', [2000], 2000).targetMet, false);
    assert.equal(summarize('x', [1999], 2000).targetMet, true);
  });
});

describe('delivery breakdown from the logs', () => {
  const t0 = Date.parse('2026-01-01T00:00:00.000Z');
  const log: DeliveryLog = {
    operators: [
      // A replica that is not the leader publishes too, but no proxy ACKs to it.
      { pod: 'op-b', published: [{ at: t0 + 70, version: 'v2' }], acked: [] },
      {
        pod: 'op-a',
        published: [{ at: t0 - 500, version: 'v1' }, { at: t0 + 80, version: 'v2' }, { at: t0 + 900, version: 'v3' }],
        acked: [{ at: t0 - 450, version: 'v1' }, { at: t0 + 95, version: 'v2' }],
      },
    ],
    applied: [{ at: t0 - 460, version: 'v1' }, { at: t0 + 90, version: 'v2' }],
  };

  test("the first config the leader published after the apply, the proxy's apply and the ACK", () => {
    assert.deepEqual(deliveryOf(log, t0), { version: 'v2', publishedMs: 80, appliedMs: 90, ackedMs: 95 });
  });

  test('nothing acknowledged after the apply: no breakdown', () => {
    assert.equal(deliveryOf(log, t0 + 100), undefined);
  });
});
