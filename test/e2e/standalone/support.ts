/**
 * Shared pieces of the standalone end-to-end tests: temp manifests with real certificates,
 * the real demo backends, the built CLI as a child process, and real clients (Node tls and
 * `openssl s_client`) over loopback.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { stringify } from 'yaml';
import { startBarBackend, startFooBackend, type DemoBackend } from '../../../examples/demo/backends.js';
import { environmentObjects } from '../../../examples/demo/demo-manifests.js';
import { issueCertificate, type IssuedCertificate } from '../../../examples/demo/pki.js';
import { CONTROLLER_NAME } from '../../../src/gatewayapi/translate.js';
import { fromRoot } from '../../helpers/paths.js';

export { bytesBeforeClose } from '../../../examples/demo/self-check.js';

export const HOST = '127.0.0.1';

export interface Pki {
  ca: IssuedCertificate;
  fooBackend: IssuedCertificate;
  gateway: IssuedCertificate;
  caFile: string;
}

export function makeTempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'tlsgate-standalone-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export function makePki(dir: string): Pki {
  const ca = issueCertificate({ commonName: 'test CA', organization: 'tlsgate tests', dnsNames: [], isCA: true, validDays: 2 });
  const fooBackend = issueCertificate({ commonName: 'foo.example.com', organization: 'foo-svc (the backend itself)', dnsNames: ['foo.example.com', 'foo2.example.com'], isCA: false, validDays: 2, issuer: ca });
  const gateway = issueCertificate({ commonName: 'bar.example.com', organization: 'tlsgate gateway', dnsNames: ['bar.example.com', 'baz.example.com'], isCA: false, validDays: 2, issuer: ca });
  const caFile = path.join(dir, 'ca.crt');
  writeFileSync(caFile, ca.certificatePem);
  return { ca, fooBackend, gateway, caFile };
}

export async function startBackends(t: { after(fn: () => Promise<void>): void }, pki: Pki): Promise<{ foo: DemoBackend; bar: DemoBackend }> {
  const foo = await startFooBackend(pki.fooBackend, HOST);
  t.after(() => foo.close());
  const bar = await startBarBackend(HOST);
  t.after(() => bar.close());
  return { foo, bar };
}

/** What most tests start from: a temp dir, a test PKI in it, and the foo/bar demo backends. */
export async function setUpExample(
  t: { after(fn: () => void | Promise<void>): void },
): Promise<{ dir: string; pki: Pki; foo: DemoBackend; bar: DemoBackend }> {
  const dir = makeTempDir(t);
  const pki = makePki(dir);
  const { foo, bar } = await startBackends(t, pki);
  return { dir, pki, foo, bar };
}

/** A port that was free a moment ago (bind 0, read, close). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, HOST, resolve);
  });
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface GatewaySpec {
  name: string;
  passthroughPort: number;
  terminatePort: number;
}

/** The upstream example's Gateway shape with chosen ports (and its name), as YAML. */
export function gatewayYaml(spec: GatewaySpec): string {
  return stringify({
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'Gateway',
    metadata: { name: spec.name, namespace: 'default' },
    spec: {
      gatewayClassName: 'example-gateway-class',
      listeners: [
        { name: 'tls', protocol: 'TLS', port: spec.passthroughPort, tls: { mode: 'Passthrough' } },
        { name: 'tls-terminate', protocol: 'TLS', port: spec.terminatePort, tls: { mode: 'Terminate', certificateRefs: [{ name: 'tls-terminate-certificate' }] } },
      ],
    },
  });
}

export function routeYaml(name: string, gateway: string, sectionName: string, hostnames: string[], service: string, port: number): string {
  return stringify({
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'TLSRoute',
    metadata: { name, namespace: 'default' },
    spec: { parentRefs: [{ name: gateway, sectionName }], hostnames, rules: [{ backendRefs: [{ name: service, port }] }] },
  });
}

export function environmentYaml(pki: Pki, foo: DemoBackend, bar: DemoBackend): string {
  return environmentObjects({ controllerName: CONTROLLER_NAME, foo, bar, gatewayCertificate: pki.gateway })
    .map((o) => stringify(o))
    .join('---\n');
}

/** The built CLI, running. Output is collected; waitFor resolves when a pattern shows up. */
export class CliProcess {
  stdout = '';
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly child: ChildProcess;
  private waiters: { predicate: () => boolean; resolve: () => void }[] = [];

  /** `nodeArgs` go to Node before the script (V8 flags, for one). */
  constructor(args: string[], env: NodeJS.ProcessEnv = {}, nodeArgs: readonly string[] = []) {
    this.child = spawn(process.execPath, [...nodeArgs, fromRoot('bin', 'tlsgate.js'), ...args], {
      cwd: fromRoot(),
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      this.stdout += chunk;
      this.wake();
    });
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr += chunk;
      this.wake();
    });
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resolves when `pattern` appears in stdout or stderr; rejects on exit or timeout. */
  waitFor(pattern: RegExp, timeoutMs = 60_000): Promise<void> {
    return this.waitUntil(() => pattern.test(this.stdout) || pattern.test(this.stderr), String(pattern), timeoutMs);
  }

  /** Resolves when the predicate over the output so far holds; rejects on exit or timeout. */
  waitUntil(predicate: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
    if (predicate()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`timed out waiting for ${what}; output:\n${this.output()}`));
      }, timeoutMs);
      const waiter = {
        predicate,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      this.waiters.push(waiter);
      void this.exited.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(new Error(`tlsgate exited (code ${code}, signal ${signal}) before ${what}; output:\n${this.output()}`));
      });
    });
  }

  /** How many times `pattern` (global) occurs in stdout or stderr. */
  count(pattern: RegExp): number {
    return (this.stdout.match(pattern) ?? []).length + (this.stderr.match(pattern) ?? []).length;
  }

  readyCount(): number {
    return this.count(/^ready: /gm);
  }

  /** Waits for the n-th "ready:" line: the first load, then one per applied reload. */
  waitForReadyCount(count: number, timeoutMs = 60_000): Promise<void> {
    return this.waitUntil(() => this.readyCount() >= count, `ready line #${count}`, timeoutMs);
  }

  output(): string {
    return `${this.stdout}\n--- stderr ---\n${this.stderr}`;
  }

  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** SIGTERM and wait; SIGKILL if it does not exit within the timeout. */
  async stop(timeoutMs = 20_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (!this.running) return this.exited;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    const result = await this.exited;
    clearTimeout(timer);
    return result;
  }

  private wake(): void {
    this.waiters = this.waiters.filter((w) => {
      if (!w.predicate()) return true;
      w.resolve();
      return false;
    });
  }
}

export function startCli(t: { after(fn: () => Promise<unknown>): void }, args: string[], env?: NodeJS.ProcessEnv, nodeArgs?: readonly string[]): CliProcess {
  const cli = new CliProcess(args, env, nodeArgs);
  t.after(() => cli.stop());
  return cli;
}

export interface TlsSession {
  socket: tls.TLSSocket;
  peerFingerprint: string;
  peerOrganization: string;
  /** The first line the backend sent. */
  greeting: string;
  /** Sends a line and resolves with the next line received. */
  roundTrip(line: string): Promise<string>;
}

/** A verified TLS connection that stays open, reading line by line. */
export function openTlsSession(port: number, servername: string, caPem: string): Promise<TlsSession> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: HOST, port, servername, ca: caPem, minVersion: 'TLSv1.2' });
    socket.setEncoding('utf8');
    let buffer = '';
    const lines: string[] = [];
    let wanted: ((line: string) => void) | undefined;
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      let newline: number;
      while ((newline = buffer.indexOf('\n')) !== -1) {
        lines.push(buffer.slice(0, newline));
        buffer = buffer.slice(newline + 1);
      }
      if (wanted && lines.length > 0) {
        const deliver = wanted;
        wanted = undefined;
        deliver(lines.shift()!);
      }
    });
    const nextLine = (): Promise<string> =>
      new Promise((res, rej) => {
        if (lines.length > 0) return res(lines.shift()!);
        wanted = res;
        socket.once('close', () => rej(new Error(`connection to ${servername} closed while waiting for a line`)));
      });
    socket.once('error', reject);
    socket.once('secureConnect', () => {
      nextLine().then((greeting) => {
        const peer = socket.getPeerX509Certificate()!;
        socket.removeListener('error', reject);
        socket.on('error', () => undefined); // later errors surface as a closed connection in roundTrip
        resolve({
          socket,
          peerFingerprint: peer.fingerprint256,
          peerOrganization: /^O=(.*)$/m.exec(peer.subject)?.[1] ?? '',
          greeting,
          roundTrip: (line) => {
            socket.write(`${line}\n`);
            return nextLine();
          },
        });
      }, reject);
    });
  });
}

/** One short session: handshake, greeting, one echo, close. */
export async function tlsExchange(port: number, servername: string, caPem: string): Promise<{ peerFingerprint: string; peerOrganization: string; greeting: string; echo: string }> {
  const session = await openTlsSession(port, servername, caPem);
  try {
    const echo = await session.roundTrip('ping');
    return { peerFingerprint: session.peerFingerprint, peerOrganization: session.peerOrganization, greeting: session.greeting, echo };
  } finally {
    session.socket.end();
  }
}

/**
 * `openssl s_client` against the gateway. It sends one line, and is stopped once `until`
 * shows up in its output (a session to an echo server never ends by itself); without
 * `until`, or when the gateway closes first, it runs to its own exit.
 */
export function opensslClient(port: number, servername: string, caFile: string, until?: RegExp): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('openssl', ['s_client', '-connect', `${HOST}:${port}`, '-servername', servername, '-CAfile', caFile, '-verify_return_error'], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let output = '';
    let seen = false;
    const onOutput = (chunk: string): void => {
      output += chunk;
      if (until && !seen && until.test(output)) {
        seen = true;
        child.kill('SIGTERM');
      }
    };
    child.stdout.setEncoding('utf8').on('data', onOutput);
    child.stderr.setEncoding('utf8').on('data', onOutput);
    child.once('error', reject);
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code: seen ? 0 : code, output });
    });
    child.stdin.on('error', () => undefined); // s_client may exit before reading stdin
    child.stdin.write('openssl-ping\n');
  });
}

export function writeFile(dir: string, name: string, text: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}
