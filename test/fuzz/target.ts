/**
 * What the fuzzer and the abuse tests aim at: the built `tlsgate standalone` in its own process
 * (one worker unless asked), with a Passthrough port and a Mixed port (a Passthrough and a
 * Terminate listener chosen by SNI), all routes to one plain echo backend (it echoes what it
 * gets and ends when the client ends), and the admin server for the proxy's own figures.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { issueCertificate } from '../../examples/demo/pki.js';
import { CONTROLLER_NAME } from '../../src/gatewayapi/translate.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { metricValue, type Backend } from '../e2e/proxy/helpers.js';
import { fromRoot } from '../helpers/paths.js';
import { freePort } from '../e2e/standalone/support.js';

export interface ProxyTarget {
  passthroughPort: number;
  mixedPort: number;
  passthroughNames: string[];
  /** On the Mixed port: Passthrough first, then Terminate. */
  mixedPassthroughNames: string[];
  mixedTerminateNames: string[];
  backend: Backend;
  /** The proxy process (to check that it is still running). */
  process: ChildProcess;
  /** The last 64 kB of its stderr. */
  stderrTail(): string;
  /** Reads the proxy's /metrics. */
  figures(): Promise<ProxyFigures>;
  stop(): Promise<void>;
}

export interface ProxyFigures {
  activeConnections: number;
  rssBytes: number;
  heapUsedBytes: number;
  openFds: number;
  text: string;
}

function manifests(passthroughPort: number, mixedPort: number, backendPort: number): string {
  const cert = issueCertificate({ commonName: 'tt.mixed.test', organization: 'tlsgate fuzz', dnsNames: ['tt.mixed.test'], isCA: false, validDays: 2 });
  const route = (name: string, section: string, hostnames: string[]): string => `apiVersion: gateway.networking.k8s.io/v1
kind: TLSRoute
metadata: {name: ${name}, namespace: default}
spec:
  parentRefs: [{name: fuzz, sectionName: ${section}}]
  hostnames: [${hostnames.map((h) => `"${h}"`).join(', ')}]
  rules: [{backendRefs: [{name: echo, port: 9000}]}]
`;
  return [
    `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: fuzz}
spec: {controllerName: ${CONTROLLER_NAME}}
`,
    `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: fuzz, namespace: default}
spec:
  gatewayClassName: fuzz
  listeners:
  - {name: pt, protocol: TLS, port: ${passthroughPort}, tls: {mode: Passthrough}}
  - {name: mixed-pt, protocol: TLS, port: ${mixedPort}, hostname: pt.mixed.test, tls: {mode: Passthrough}}
  - {name: mixed-tt, protocol: TLS, port: ${mixedPort}, hostname: tt.mixed.test, tls: {mode: Terminate, certificateRefs: [{name: fuzz-cert}]}}
`,
    `apiVersion: v1
kind: Secret
metadata: {name: fuzz-cert, namespace: default}
type: kubernetes.io/tls
data:
  tls.crt: ${Buffer.from(cert.certificatePem).toString('base64')}
  tls.key: ${Buffer.from(cert.privateKeyPem).toString('base64')}
`,
    `apiVersion: v1
kind: Service
metadata: {name: echo, namespace: default}
spec: {ports: [{name: tcp, protocol: TCP, port: 9000, targetPort: ${backendPort}}]}
`,
    `apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: echo-1, namespace: default, labels: {kubernetes.io/service-name: echo}}
addressType: IPv4
endpoints: [{addresses: [127.0.0.1], conditions: {ready: true}}]
ports: [{name: tcp, protocol: TCP, port: ${backendPort}}]
`,
    route('pt', 'pt', ['a.fuzz.test', '*.wild.fuzz.test']),
    route('mixed-pt', 'mixed-pt', ['pt.mixed.test']),
    route('mixed-tt', 'mixed-tt', ['tt.mixed.test']),
  ].join('---\n');
}

/** An echo backend that stays silent until the client speaks (plainBackend greets first). */
async function echoBackend(): Promise<Backend> {
  const sockets = new Set<net.Socket>();
  const backend: Backend = { port: 0, accepted: 0, servernames: [], close: async () => undefined };
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    backend.accepted++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    socket.pipe(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  backend.port = (server.address() as net.AddressInfo).port;
  backend.close = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
  return backend;
}
/**
 * The built CLI with its access log drained and dropped (a long run writes a line per input);
 * resolves once it printed its first "ready:" line.
 */
async function startProxyProcess(args: string[], nodeArgs: string[]): Promise<{ child: ChildProcess; stderrTail: () => string }> {
  const child = spawn(process.execPath, [...nodeArgs, fromRoot('bin', 'tlsgate.js'), ...args], {
    cwd: fromRoot(),
    env: { ...process.env, GLIBC_TUNABLES: 'glibc.malloc.trim_threshold=33554432' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-65536)));
  let head = '';
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: string): void => {
      head = (head + chunk).slice(-65536);
      if (/^ready: /m.test(head)) {
        child.stdout!.off('data', onData);
        child.stdout!.resume();
        resolve();
      }
    };
    child.stdout!.setEncoding('utf8').on('data', onData);
    child.once('exit', (code) => reject(new Error(`tlsgate standalone exited (${code}) before it was ready:\n${head}\n${stderr}`)));
  });
  return { child, stderrTail: () => stderr };
}

export async function startTarget(options: { workers?: number; nodeArgs?: string[] } = {}): Promise<ProxyTarget> {
  const dir = mkdtempSync(path.join(tmpdir(), 'tlsgate-fuzz-'));
  const backend = await echoBackend();
  const passthroughPort = await freePort();
  const mixedPort = await freePort();
  const adminPort = await freePort();
  writeFileSync(path.join(dir, 'fuzz.yaml'), manifests(passthroughPort, mixedPort, backend.port));
  let started;
  try {
    // With the process settings the operator's Deployment gives every proxy (docs/proxy.md).
    started = await startProxyProcess(
      ['standalone', '-f', dir, '--workers', String(options.workers ?? 1), '--admin-address', `127.0.0.1:${adminPort}`],
      ['--initial-old-space-size=64', '--expose-gc', ...(options.nodeArgs ?? [])],
    );
  } catch (error) {
    await backend.close();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const { child, stderrTail } = started;
  return {
    passthroughPort,
    mixedPort,
    passthroughNames: ['a.fuzz.test', 'x.wild.fuzz.test'],
    mixedPassthroughNames: ['pt.mixed.test'],
    mixedTerminateNames: ['tt.mixed.test'],
    backend,
    process: child,
    stderrTail,
    async figures() {
      const text = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();
      return {
        activeConnections: metricValue(text, 'tlsgate_active_connections'),
        rssBytes: metricValue(text, 'tlsgate_process_resident_memory_bytes'),
        heapUsedBytes: metricValue(text, 'tlsgate_nodejs_heap_size_used_bytes'),
        openFds: metricValue(text, 'tlsgate_process_open_fds'),
        text,
      };
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        const kill = setTimeout(() => child.kill('SIGKILL'), 20_000);
        await exited;
        clearTimeout(kill);
      }
      await backend.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
