/**
 * A large `--watch` reload under live traffic (issue 17, defect 3), shared by the regression
 * test and the measuring script: a standalone proxy serves one Passthrough route to a plain
 * echo backend; while a file with `routeCount` more TLSRoutes is loaded, one established
 * connection keeps echoing a line every `pingEveryMs` and a new connection is opened every
 * `connectEveryMs`. Every exchange has `deadlineMs` to complete; the result counts the ones
 * that failed or missed it and the worst latency of each kind, plus the proxy's own event-loop
 * delay over the reload (its admin /metrics, a perf_hooks histogram reset at each scrape).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { CONTROLLER_NAME } from '../../../src/gatewayapi/translate.js';
import { CliProcess, freePort } from '../standalone/support.js';
import { captureClientHello, metricValue, plainBackend } from '../proxy/helpers.js';

export interface ReloadTrafficOptions {
  routeCount: number;
  workers: number;
  pingEveryMs?: number;
  connectEveryMs?: number;
  /** An exchange slower than this counts as failed. */
  deadlineMs?: number;
  /** How long the reload may take before the run gives up. */
  reloadTimeoutMs?: number;
  log?: (line: string) => void;
}

export interface ReloadTrafficResult {
  reloadMs: number;
  pings: number;
  pingFailures: string[];
  maxPingMs: number;
  connects: number;
  connectFailures: string[];
  maxConnectMs: number;
  /** The proxy's worst event-loop delay between the scrape before the reload and the one after. */
  proxyMaxEventLoopDelayMs: number;
  /** The proxy's RSS after the reload, MB. */
  proxyRssMb: number;
  /** Whether the last of the new routes (in the last piece of the config's trip) serves after the reload. */
  lastRouteServed: string | true;
}

const LIVE_HOST = 'live.example.com';

function baseManifests(port: number, backendPort: number): string {
  return `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: reload}
spec: {controllerName: ${CONTROLLER_NAME}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  gatewayClassName: reload
  listeners:
  - {name: tls, protocol: TLS, port: ${port}, tls: {mode: Passthrough}, allowedRoutes: {namespaces: {from: Same}}}
---
apiVersion: v1
kind: Service
metadata: {name: echo, namespace: default}
spec: {ports: [{name: tcp, protocol: TCP, port: 9000, targetPort: ${backendPort}}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: echo-1, namespace: default, labels: {kubernetes.io/service-name: echo}}
addressType: IPv4
endpoints: [{addresses: [127.0.0.1], conditions: {ready: true}}]
ports: [{name: tcp, protocol: TCP, port: ${backendPort}}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: TLSRoute
metadata: {name: live, namespace: default}
spec:
  parentRefs: [{name: gw}]
  hostnames: [${LIVE_HOST}]
  rules: [{backendRefs: [{name: echo, port: 9000}]}]
`;
}

/** `count` TLSRoutes, one hostname each, all to the echo Service. */
export function manyRoutes(count: number): string {
  const parts: string[] = [];
  for (let i = 0; i < count; i++) {
    parts.push(`apiVersion: gateway.networking.k8s.io/v1
kind: TLSRoute
metadata: {name: r${i}, namespace: default}
spec:
  parentRefs: [{name: gw}]
  hostnames: [r${i}.example.com]
  rules: [{backendRefs: [{name: echo, port: 9000}]}]
`);
  }
  return parts.join('---\n');
}

/** Reads from `socket` until `expected` has arrived in full; rejects on close, error or deadline. */
function readUntil(socket: net.Socket, received: { text: string }, expected: string, deadlineMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = (): boolean => {
      if (!received.text.includes(expected)) return false;
      cleanup();
      resolve();
      return true;
    };
    const onData = (): void => void check();
    const onEnd = (): void => {
      cleanup();
      reject(new Error(`closed before ${JSON.stringify(expected)} arrived`));
    };
    const onError = (error: Error): void => {
      cleanup();
      reject(error);
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`${JSON.stringify(expected)} not back within ${deadlineMs} ms`));
    }, deadlineMs);
    const cleanup = (): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onEnd);
      socket.off('error', onError);
    };
    socket.on('data', onData);
    socket.on('close', onEnd);
    socket.on('error', onError);
    check();
  });
}

/** Connects, sends the hello, and resolves once the backend's greeting came back through the proxy. */
async function openEcho(port: number, hello: Buffer, deadlineMs: number): Promise<{ socket: net.Socket; received: { text: string } }> {
  const socket = net.connect(port, '127.0.0.1');
  const received = { text: '' };
  socket.setEncoding('latin1');
  socket.on('data', (chunk: string) => (received.text += chunk));
  socket.on('error', () => undefined);
  socket.write(hello);
  try {
    await readUntil(socket, received, 'echo\n', deadlineMs);
  } catch (error) {
    socket.destroy();
    throw error;
  }
  return { socket, received };
}

async function eventLoopMaxMs(adminPort: number): Promise<number> {
  const response = await fetch(`http://127.0.0.1:${adminPort}/metrics`);
  return metricValue(await response.text(), 'tlsgate_nodejs_eventloop_lag_max_seconds') * 1000;
}

async function rssMb(adminPort: number): Promise<number> {
  const response = await fetch(`http://127.0.0.1:${adminPort}/metrics`);
  return metricValue(await response.text(), 'tlsgate_process_resident_memory_bytes') / 1e6;
}

export async function runReloadUnderTraffic(options: ReloadTrafficOptions): Promise<ReloadTrafficResult> {
  const pingEveryMs = options.pingEveryMs ?? 100;
  const connectEveryMs = options.connectEveryMs ?? 200;
  const deadlineMs = options.deadlineMs ?? 5000;
  const log = options.log ?? (() => undefined);
  const dir = mkdtempSync(path.join(tmpdir(), 'tlsgate-reload-'));
  const backend = await plainBackend('echo');
  const port = await freePort();
  const adminPort = await freePort();
  writeFileSync(path.join(dir, 'base.yaml'), baseManifests(port, backend.port));
  const cli = new CliProcess(['standalone', '-f', dir, '--watch', '--workers', String(options.workers), '--admin-address', `127.0.0.1:${adminPort}`]);
  const live: net.Socket[] = [];
  try {
    await cli.waitForReadyCount(1);
    const hello = await captureClientHello({ servername: LIVE_HOST });
    const liveConnection = await openEcho(port, hello, deadlineMs);
    live.push(liveConnection.socket);

    const result: ReloadTrafficResult = {
      reloadMs: 0, pings: 0, pingFailures: [], maxPingMs: 0, connects: 0, connectFailures: [], maxConnectMs: 0, proxyMaxEventLoopDelayMs: 0, proxyRssMb: 0, lastRouteServed: 'not tried',
    };
    let reloading = true;
    const pinger = (async () => {
      for (let n = 0; reloading; n++) {
        const line = `ping-${n}\n`;
        const started = performance.now();
        liveConnection.socket.write(line);
        try {
          await readUntil(liveConnection.socket, liveConnection.received, line, deadlineMs);
        } catch (error) {
          result.pingFailures.push(`ping ${n}: ${(error as Error).message}`);
          return; // the live connection is lost or stalled; later pings would say the same
        }
        result.pings++;
        result.maxPingMs = Math.max(result.maxPingMs, performance.now() - started);
        await new Promise((resolve) => setTimeout(resolve, pingEveryMs));
      }
    })();
    const connects: Promise<void>[] = [];
    const connector = setInterval(() => {
      const n = result.connects++;
      const started = performance.now();
      connects.push(
        openEcho(port, hello, deadlineMs).then(
          ({ socket }) => {
            result.maxConnectMs = Math.max(result.maxConnectMs, performance.now() - started);
            socket.destroy();
          },
          (error: Error) => void result.connectFailures.push(`connection ${n}: ${error.message}`),
        ),
      );
    }, connectEveryMs);

    await eventLoopMaxMs(adminPort); // resets the proxy's histogram: what follows is the reload's
    log(`writing ${options.routeCount} routes`);
    const started = performance.now();
    writeFileSync(path.join(dir, 'many.yaml'), manyRoutes(options.routeCount));
    try {
      await cli.waitForReadyCount(2, options.reloadTimeoutMs ?? 180_000);
      result.reloadMs = performance.now() - started;
      log(`reloaded in ${Math.round(result.reloadMs)} ms`);
      // A moment of traffic after the swap too: the new tables must route the old hostname.
      await new Promise((resolve) => setTimeout(resolve, 1000));
    } finally {
      reloading = false;
      clearInterval(connector);
      await pinger;
      await Promise.all(connects);
    }
    const lastHello = await captureClientHello({ servername: `r${options.routeCount - 1}.example.com` });
    result.lastRouteServed = await openEcho(port, lastHello, deadlineMs).then(
      ({ socket }) => {
        socket.destroy();
        return true as const;
      },
      (error: Error) => error.message,
    );
    result.proxyMaxEventLoopDelayMs = await eventLoopMaxMs(adminPort);
    result.proxyRssMb = await rssMb(adminPort);
    return result;
  } finally {
    for (const socket of live) socket.destroy();
    await cli.stop();
    await backend.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
