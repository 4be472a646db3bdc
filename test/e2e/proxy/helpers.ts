// Test fixtures for the proxy engine: certificates made with openssl at test time, real
// backends on loopback, hand-built ProxyConfigs, and raw clients that report exactly what
// they received and how the connection ended.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { Duplex } from 'node:stream';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { promisify } from 'node:util';
import { PROXY_CONFIG_SCHEMA, type BackendConfig, type CertificateConfig, type ListenerConfig, type ProxyConfig } from '../../../src/proxy-config.js';

const exec = promisify(execFile);

export interface TestCert {
  certPem: string;
  keyPem: string;
  keyType: 'EC' | 'RSA';
  names: string[];
  /** SHA-256 fingerprint as Node reports it (colon-separated hex). */
  fingerprint256: string;
  config(secretName: string): CertificateConfig;
}

/** A temporary folder, removed by the returned cleanup. */
export function tempDir(prefix: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A self-signed leaf for `names` (first = CN), ECDSA P-256 or RSA-2048, made by openssl. */
export async function makeCert(dir: string, names: string[], keyType: 'EC' | 'RSA' = 'EC'): Promise<TestCert> {
  const base = path.join(dir, `${names[0]!.replace(/\*/g, 'star')}-${keyType}-${Math.random().toString(36).slice(2, 8)}`);
  const keyArgs = keyType === 'EC' ? ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'] : ['-newkey', 'rsa:2048'];
  await exec('openssl', [
    'req', '-x509', ...keyArgs, '-nodes', '-days', '2',
    '-keyout', `${base}.key`, '-out', `${base}.crt`,
    '-subj', `/CN=${names[0]}`,
    '-addext', `subjectAltName=${names.map((n) => `DNS:${n}`).join(',')}`,
  ]);
  const certPem = readFileSync(`${base}.crt`, 'utf8');
  const keyPem = readFileSync(`${base}.key`, 'utf8');
  const x509 = new (await import('node:crypto')).X509Certificate(certPem);
  return {
    certPem,
    keyPem,
    keyType,
    names,
    fingerprint256: x509.fingerprint256,
    config: (secretName) => ({
      secret: { namespace: 'default', name: secretName },
      certificatePem: certPem,
      privateKeyPem: keyPem,
      keyType,
      dnsNames: names,
      notAfter: new Date(x509.validTo).toISOString(),
    }),
  };
}

// ---- Backends -------------------------------------------------------------------------

export interface Backend {
  port: number;
  /** Connections accepted so far. */
  accepted: number;
  /** SNIs seen (TLS backends). */
  servernames: (string | false | null)[];
  close(): Promise<void>;
}

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)));
}

function closer(server: net.Server, sockets: Set<net.Socket>): () => Promise<void> {
  return () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
}

/**
 * A plain TCP backend that speaks first (`<name>\n`, like the conformance echo server), then
 * echoes, and ends its side when the client ends (half-close aware).
 */
export async function plainBackend(name: string): Promise<Backend> {
  const sockets = new Set<net.Socket>();
  const backend: Backend = { port: 0, accepted: 0, servernames: [], close: async () => undefined };
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    backend.accepted++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    socket.write(`${name}\n`);
    socket.pipe(socket);
  });
  backend.port = await listen(server);
  backend.close = closer(server, sockets);
  return backend;
}

/** A TLS backend with its own certificate that greets with `<name> <servername>\n` and echoes. */
export async function tlsBackend(name: string, cert: TestCert): Promise<Backend> {
  const sockets = new Set<net.Socket>();
  const backend: Backend = { port: 0, accepted: 0, servernames: [], close: async () => undefined };
  const server = tls.createServer({ cert: cert.certPem, key: cert.keyPem, allowHalfOpen: true }, (socket) => {
    backend.servernames.push(socket.servername);
    socket.on('error', () => undefined);
    socket.write(`${name} ${socket.servername}\n`);
    socket.pipe(socket);
  });
  server.on('connection', (socket: net.Socket) => {
    backend.accepted++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('tlsClientError', () => undefined);
  backend.port = await listen(server);
  backend.close = closer(server, sockets);
  return backend;
}

/** A backend that greets, then resets the connection once it receives `RESET`. */
export async function resettingBackend(): Promise<Backend> {
  const sockets = new Set<net.Socket>();
  const backend: Backend = { port: 0, accepted: 0, servernames: [], close: async () => undefined };
  const server = net.createServer((socket) => {
    backend.accepted++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    socket.write('ready\n');
    socket.on('data', (data) => {
      if (data.includes('RESET')) socket.resetAndDestroy();
    });
  });
  backend.port = await listen(server);
  backend.close = closer(server, sockets);
  return backend;
}

/** A loopback port with nothing listening (bound, then closed). */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  const port = await listen(server);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * A loopback port whose connects hang: a listener in a child process that is stopped
 * (SIGSTOP) so it never accepts, with its accept queue filled; further SYNs are dropped.
 */
export async function blackholePort(): Promise<{ port: number; close(): void }> {
  const child: ChildProcess = spawn(process.execPath, [
    '-e',
    "require('net').createServer().listen({ port: 0, host: '127.0.0.1', backlog: 1 }, function () { console.log(this.address().port) })",
  ], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
    child.once('error', reject);
  });
  child.kill('SIGSTOP');
  const fillers: net.Socket[] = [];
  // The accept queue holds backlog + 1; connect until one no longer completes.
  for (let i = 0; i < 8; i++) {
    const socket = net.connect(port, '127.0.0.1');
    socket.on('error', () => undefined);
    fillers.push(socket);
    const connected = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 300);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    if (!connected) break;
  }
  return {
    port,
    close() {
      for (const s of fillers) s.destroy();
      child.kill('SIGKILL');
    },
  };
}

// ---- Configs ----------------------------------------------------------------------------

export function backendRef(name: string, port: number, weight = 1, extra: Partial<BackendConfig> = {}): BackendConfig {
  return { ref: `default/${name}:443`, weight, endpoints: [{ address: '127.0.0.1', port }], ...extra };
}

export interface ListenerSpec {
  name: string;
  hostname: string | null;
  mode: 'Passthrough' | 'Terminate';
  certificates?: CertificateConfig[];
  reject?: string;
  /** route hostnames → backends, one route per entry (named after the listener and index). */
  routes: { hostnames: string[]; backends: BackendConfig[] }[];
}

export function listener(spec: ListenerSpec): ListenerConfig {
  const routes = spec.routes.map((r, i) => ({ namespace: 'default', name: `${spec.name}-route-${i}`, backends: r.backends }));
  const hostnames = spec.routes.flatMap((r, i) => r.hostnames.map((hostname) => ({ hostname, route: i })));
  const out: ListenerConfig = {
    name: spec.name,
    hostname: spec.hostname,
    mode: spec.mode,
    certificates: spec.certificates ?? [],
    hostnames,
    routes,
  };
  if (spec.reject !== undefined) out.reject = spec.reject;
  return out;
}

export function proxyConfig(gateway: string, version: string, ports: { port: number; listeners: ListenerConfig[] }[], settings?: ProxyConfig['settings']): ProxyConfig {
  const config: ProxyConfig = { schema: PROXY_CONFIG_SCHEMA, gateway: { namespace: 'default', name: gateway }, version, ports };
  if (settings) config.settings = settings;
  return config;
}

// ---- Clients ----------------------------------------------------------------------------

export interface RawOutcome {
  /** Every byte the proxy sent. */
  received: Buffer;
  /** 'eof' = FIN, 'reset' = ECONNRESET, 'open' = still open when the probe gave up. */
  ending: 'eof' | 'reset' | 'open';
}

/**
 * Connects, writes each chunk (with `gapMs` between chunks, Nagle off so each is its own
 * segment), and collects what comes back until the proxy closes or `waitMs` passes.
 */
export function rawProbe(
  port: number,
  chunks: Buffer[],
  options: { gapMs?: number; waitMs?: number; endAfterWrite?: boolean; stopAfterBytes?: number } = {},
): Promise<RawOutcome> {
  const { gapMs = 0, waitMs = 5000, endAfterWrite = false, stopAfterBytes = Infinity } = options;
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1', noDelay: true, allowHalfOpen: true });
    const received: Buffer[] = [];
    let ending: RawOutcome['ending'] = 'open';
    let settled = false;
    const timers: NodeJS.Timeout[] = [];
    const done = () => {
      if (settled) return;
      settled = true;
      for (const t of timers) clearTimeout(t);
      socket.destroy();
      resolve({ received: Buffer.concat(received), ending });
    };
    let receivedLength = 0;
    socket.on('data', (d) => {
      received.push(d);
      receivedLength += d.length;
      if (receivedLength >= stopAfterBytes) done();
    });
    socket.on('end', () => {
      ending = 'eof';
      done();
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      ending = err.code === 'ECONNRESET' ? 'reset' : 'eof';
      done();
    });
    socket.on('close', done);
    socket.on('connect', () => {
      let delay = 0;
      chunks.forEach((chunk, i) => {
        timers.push(
          setTimeout(() => {
            if (socket.destroyed) return;
            socket.write(chunk);
            if (endAfterWrite && i === chunks.length - 1) socket.end();
          }, delay),
        );
        delay += gapMs;
      });
      if (chunks.length === 0 && endAfterWrite) socket.end();
      timers.push(setTimeout(done, delay + waitMs));
    });
  });
}

/** The exact ClientHello bytes Node's TLS client sends for these options (captured, never sent to the proxy). */
export function captureClientHello(options: tls.ConnectionOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const server = net.createServer((socket) => {
      socket.on('data', (d) => {
        chunks.push(d);
        const all = Buffer.concat(chunks);
        if (all.length >= 5 && all.length >= 5 + all.readUInt16BE(3)) {
          socket.destroy();
          server.close();
          resolve(all);
        }
      });
      socket.on('error', () => undefined);
    });
    server.listen(0, '127.0.0.1', () => {
      const client = tls.connect({ ...options, port: (server.address() as net.AddressInfo).port, host: '127.0.0.1', rejectUnauthorized: false });
      client.on('error', () => undefined);
    });
    server.on('error', reject);
  });
}

/** Re-frames a single-record ClientHello into TLS records of at most `size` fragment bytes. */
export function splitIntoRecords(hello: Buffer, size: number): Buffer {
  const body = hello.subarray(5, 5 + hello.readUInt16BE(3));
  const records: Buffer[] = [];
  for (let at = 0; at < body.length; at += size) {
    const fragment = body.subarray(at, Math.min(at + size, body.length));
    const header = Buffer.from([22, hello[1]!, hello[2]!, 0, 0]);
    header.writeUInt16BE(fragment.length, 3);
    records.push(header, fragment);
  }
  return Buffer.concat(records);
}

/**
 * A client transport for tls.connect({ socket }) that rewrites the client's first write (its
 * ClientHello) with `reshape` and sends the pieces as separate TCP segments, `gapMs` apart;
 * everything after that passes through unchanged.
 */
export function fragmentingTransport(port: number, reshape: (hello: Buffer) => Buffer[], gapMs: number): Duplex {
  const raw = net.connect({ port, host: '127.0.0.1', noDelay: true });
  let first = true;
  const duplex = new Duplex({
    write(chunk: Buffer, _encoding, callback) {
      if (!first) {
        raw.write(chunk, () => callback());
        return;
      }
      first = false;
      const pieces = reshape(chunk);
      let i = 0;
      const next = () => {
        if (i >= pieces.length || raw.destroyed) return callback();
        raw.write(pieces[i++]!);
        setTimeout(next, gapMs);
      };
      next();
    },
    read() {
      raw.resume();
    },
    final(callback) {
      raw.end();
      callback();
    },
    destroy(err, callback) {
      raw.destroy();
      callback(err);
    },
  });
  raw.on('data', (d: Buffer) => {
    if (!duplex.push(d)) raw.pause();
  });
  raw.on('end', () => duplex.push(null));
  raw.on('error', (err) => duplex.destroy(err));
  return duplex;
}

export interface TlsOutcome {
  /** Plaintext received after the handshake. */
  data: string;
  /** The certificate the client was shown (undefined when the handshake failed). */
  peerFingerprint?: string;
  protocol?: string | null;
  error?: string;
}

/** A Node TLS client: handshake with `servername`, optionally write, read until the peer ends. */
export function tlsRequest(port: number, servername: string, options: { write?: string; readUntil?: string; end?: boolean; extra?: tls.ConnectionOptions } = {}): Promise<TlsOutcome> {
  return new Promise((resolve) => {
    const socket = tls.connect({ port, host: '127.0.0.1', servername, rejectUnauthorized: false, ...options.extra });
    let data = '';
    let settled = false;
    const out: TlsOutcome = { data: '' };
    const timer = setTimeout(() => finish('timeout'), 10_000);
    function finish(error?: string) {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      out.data = data;
      if (error !== undefined) out.error = error;
      socket.destroy();
      resolve(out);
    }
    socket.on('secureConnect', () => {
      out.peerFingerprint = socket.getPeerCertificate().fingerprint256;
      out.protocol = socket.getProtocol();
      if (options.write !== undefined) socket.write(options.write);
      if (options.end) socket.end();
    });
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      data += d;
      if (options.readUntil !== undefined && data.includes(options.readUntil)) finish();
    });
    socket.on('error', (err: NodeJS.ErrnoException) => finish(err.code ?? err.message));
    socket.on('close', () => finish());
  });
}

/** Runs `openssl s_client` and returns its combined output (it always prints the handshake summary). */
export async function opensslClient(port: number, servername: string | null, extraArgs: string[] = []): Promise<string> {
  const args = ['s_client', '-connect', `127.0.0.1:${port}`, ...(servername ? ['-servername', servername] : ['-noservername']), ...extraArgs];
  return new Promise((resolve) => {
    const child = execFile('openssl', args, { timeout: 15_000 }, (_err, stdout, stderr) => resolve(`${stdout}\n${stderr}`));
    child.stdin?.end();
  });
}

export async function fetchText(url: string): Promise<{ status: number; body: string }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.text() };
}

/** Reads one sample from Prometheus text: metric name plus exact label set. */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  let found = false;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name + '{') && !line.startsWith(name + ' ')) continue;
    const labelPart = line.slice(name.length).startsWith('{') ? line.slice(name.length + 1, line.indexOf('}')) : '';
    const ok = Object.entries(labels).every(([k, v]) => labelPart.split(/,(?=[a-z_]+=")/).includes(`${k}="${v}"`));
    if (!ok) continue;
    found = true;
    total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return found ? total : 0;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until fn() is truthy (the proxy counts a connection when it has fully closed). */
export async function eventually<T>(fn: () => Promise<T> | T, what: string, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}
