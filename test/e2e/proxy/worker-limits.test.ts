// maxConnectionsPerListener holds for the whole process, not per worker: with 2 workers and a
// limit of 4, each worker admits 2, so at most 4 connections are held open at once, and the
// rest are rejected without a byte and counted.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { perWorkerConnectionLimit } from '../../../proxy/settings.js';
import { startProxyRuntime, type ProxyRuntime } from '../../../proxy/runtime.js';
import { backendRef, captureClientHello, eventually, fetchText, listener, metricValue, plainBackend, proxyConfig, type Backend } from './helpers.js';

/** Sends a ClientHello; 'admitted' once the backend's greeting arrives (the socket stays open), 'rejected' when closed without a byte. */
function open(port: number, hello: Buffer): Promise<{ outcome: 'admitted' | 'rejected'; socket: net.Socket }> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    let settled = false;
    const settle = (outcome: 'admitted' | 'rejected') => {
      if (settled) return;
      settled = true;
      resolve({ outcome, socket });
    };
    socket.on('data', () => settle('admitted'));
    socket.on('close', () => settle('rejected'));
    socket.on('error', () => settle('rejected'));
    socket.on('connect', () => socket.write(hello));
  });
}

describe('perWorkerConnectionLimit', () => {
  it('splits the limit so that the workers together never exceed it (at least 1 each)', () => {
    assert.equal(perWorkerConnectionLimit(4, 2), 2);
    assert.equal(perWorkerConnectionLimit(5, 2), 2);
    assert.equal(perWorkerConnectionLimit(10_000, 3), 3333);
    assert.equal(perWorkerConnectionLimit(1, 4), 1);
    assert.equal(perWorkerConnectionLimit(7, 1), 7);
  });
});

describe('maxConnectionsPerListener with workers: 2', () => {
  const LIMIT = 4;
  const ATTEMPTS = 10;
  let runtime: ProxyRuntime;
  let backend: Backend;
  let port: number;
  let admin: string;
  let hello: Buffer;

  before(async () => {
    // Round robin spreads connections evenly, so that per-worker counting would show (8 held);
    // with the kernel choosing, all could land on one worker and hide it. The limit itself does
    // not depend on the scheduling.
    process.env.NODE_CLUSTER_SCHED_POLICY = 'rr';
    backend = await plainBackend('A');
    hello = await captureClientHello({ servername: 'a.example.com' });
    runtime = await startProxyRuntime({ address: '127.0.0.1', adminAddress: '127.0.0.1:0', workers: 2, accessLog: null, settings: { maxConnectionsPerListener: LIMIT } });
    admin = `http://127.0.0.1:${runtime.adminPort()}`;
    await runtime.apply([
      proxyConfig('limits', 'v1', [
        { port: 0, listeners: [listener({ name: 'pt', hostname: null, mode: 'Passthrough', routes: [{ hostnames: ['*.example.com'], backends: [backendRef('b', backend.port)] }] })] },
      ]),
    ]);
    port = runtime.boundPorts()[0]!.boundPort;
  });

  after(async () => {
    await runtime?.shutdown(500);
    await backend?.close();
  });

  it(`holds at most ${LIMIT} connections across both workers; the rest are rejected and counted`, async () => {
    const results = [];
    for (let i = 0; i < ATTEMPTS; i++) results.push(await open(port, hello));
    const admitted = results.filter((r) => r.outcome === 'admitted');
    const rejected = results.length - admitted.length;
    // Each worker admits 2, and round robin gives each worker half of the attempts.
    assert.equal(admitted.length, LIMIT);
    await eventually(
      async () => metricValue((await fetchText(`${admin}/metrics`)).body, 'tlsgate_rejections_total', { reason: 'max_connections' }) === rejected,
      `${rejected} max_connections rejections counted`,
    );
    for (const r of results) r.socket.destroy();
    // Places are given back when connections end.
    await eventually(async () => (await open(port, hello).then((r) => (r.socket.destroy(), r.outcome))) === 'admitted', 'a place after the connections closed');
  });
});
