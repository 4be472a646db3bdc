// What the fault tests (e2e-faults.test.ts) need besides the install helpers: a small PKI
// made with the openssl CLI, the backend and Gateway they run traffic through, live echo
// sessions that stay open across a fault, and a watcher that keeps opening new connections
// during one and records every failure.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import * as k8s from '@kubernetes/client-node';
import { createObject } from './operator-support.js';

// ---------------------------------------------------------------------------------------
// Certificates

export interface KeyPair { cert: string; key: string }

export interface TestPki {
  caPem: string;
  /** A leaf for `hostnames` signed by the test CA (P-256). */
  issue(hostnames: string[]): KeyPair;
  /** Removes the temp dir holding the CA key. */
  dispose(): void;
}

/** A CA and leaves made by the real openssl CLI; keys exist in a temp dir until dispose(). */
export function makeTestPki(): TestPki {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tlsgate-faults-pki-'));
  const openssl = (args: string[]): void => { execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] }); };
  // A minimal config, so no default extensions (CA:TRUE of v3_ca) end up in leaves.
  writeFileSync(path.join(dir, 'min.cnf'), '[req]\ndistinguished_name=dn\n[dn]\n');
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2'];
  openssl(['req', '-config', 'min.cnf', '-x509', ...ec, '-subj', '/CN=tlsgate faults test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-keyout', 'ca.key', '-out', 'ca.crt']);
  let serial = 0;
  return {
    caPem: readFileSync(path.join(dir, 'ca.crt'), 'utf8'),
    issue(hostnames) {
      const name = `leaf-${++serial}`;
      openssl(['req', '-config', 'min.cnf', '-x509', '-CA', 'ca.crt', '-CAkey', 'ca.key', ...ec, '-subj', `/CN=${hostnames[0]}`,
        '-addext', `subjectAltName=${hostnames.map((h) => `DNS:${h}`).join(',')}`, '-addext', 'basicConstraints=critical,CA:FALSE',
        '-addext', 'keyUsage=critical,digitalSignature', '-addext', 'extendedKeyUsage=serverAuth',
        '-keyout', `${name}.key`, '-out', `${name}.crt`]);
      const pair = { cert: readFileSync(path.join(dir, `${name}.crt`), 'utf8'), key: readFileSync(path.join(dir, `${name}.key`), 'utf8') };
      rmSync(path.join(dir, `${name}.key`));
      return pair;
    },
    dispose() { rmSync(dir, { recursive: true, force: true }); },
  };
}

export const fingerprint = (pem: string): string => new X509Certificate(pem).fingerprint256;

/** The base64 lines of a PEM key's body: if any of them shows up somewhere, the key leaked. */
export function keyBodyLines(keyPem: string): string[] {
  return keyPem.split('\n').filter((line) => line.length >= 40 && !line.startsWith('-----'));
}

export function tlsSecret(name: string, pair: KeyPair): k8s.V1Secret {
  return {
    metadata: { name }, type: 'kubernetes.io/tls',
    data: { 'tls.crt': Buffer.from(pair.cert).toString('base64'), 'tls.key': Buffer.from(pair.key).toString('base64') },
  };
}

// ---------------------------------------------------------------------------------------
// The scenario: one echo backend, one Gateway with a Passthrough and two Terminate listeners

export const GATEWAY = 'faults-gateway';
export const HOSTS = { foo: 'foo.example.com', bar: 'bar.example.com', baz: 'baz.example.com' } as const;
export const PORTS = { passthrough: 443, terminate: 8443 } as const;
/** Hostnames the backend's own certificate covers (routes added during the faults use them). */
export const BACKEND_HOSTNAMES = [HOSTS.foo, 'late.example.com', 'after-outage.example.com', 'foo2.example.com'];

/**
 * `echo`: test/images/tcp-echo (plain on 3000, TLS with its own certificate on 8443), two
 * Services in front of it: foo-svc:443 → TLS, bar-svc:8080 → plain.
 */
export async function deployEchoBackend(kc: k8s.KubeConfig, namespace: string, backendCert: KeyPair): Promise<void> {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const apps = kc.makeApiClient(k8s.AppsV1Api);
  await core.createNamespacedSecret({ namespace, body: tlsSecret('echo-backend-cert', backendCert) });
  await apps.createNamespacedDeployment({
    namespace,
    body: {
      metadata: { name: 'echo' },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'echo' } },
        template: {
          metadata: { labels: { app: 'echo' } },
          spec: {
            containers: [{
              name: 'echo', image: 'tlsgate.test/tcp-echo',
              env: [
                { name: 'TCP_PORT', value: '3000' }, { name: 'TLS_PORT', value: '8443' },
                { name: 'TLS_SERVER_CERT', value: '/etc/echo-tls/tls.crt' }, { name: 'TLS_SERVER_PRIV_KEY', value: '/etc/echo-tls/tls.key' },
                { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
                { name: 'NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
              ],
              ports: [{ containerPort: 3000 }, { containerPort: 8443 }],
              readinessProbe: { tcpSocket: { port: 3000 }, periodSeconds: 1 },
              volumeMounts: [{ name: 'tls', mountPath: '/etc/echo-tls', readOnly: true }],
            }],
            volumes: [{ name: 'tls', secret: { secretName: 'echo-backend-cert' } }],
          },
        },
      },
    },
  });
  await core.createNamespacedService({ namespace, body: { metadata: { name: 'foo-svc' }, spec: { selector: { app: 'echo' }, ports: [{ port: 443, targetPort: 8443 }] } } });
  await core.createNamespacedService({ namespace, body: { metadata: { name: 'bar-svc' }, spec: { selector: { app: 'echo' }, ports: [{ port: 8080, targetPort: 3000 }] } } });
}

const GATEWAY_API = 'gateway.networking.k8s.io/v1';

export function tlsRoute(name: string, sectionName: string, hostnames: string[], backend: { name: string; port: number }): any {
  return {
    apiVersion: GATEWAY_API, kind: 'TLSRoute', metadata: { name },
    spec: { parentRefs: [{ name: GATEWAY, sectionName }], hostnames, rules: [{ backendRefs: [backend] }] },
  };
}

/** The Gateway (class `gatewayClassName`), its two certificate Secrets and the three routes. */
export async function applyFaultsGateway(kc: k8s.KubeConfig, namespace: string, gatewayClassName: string, certs: { bar: KeyPair; baz: KeyPair }): Promise<void> {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  await core.createNamespacedSecret({ namespace, body: tlsSecret('bar-cert', certs.bar) });
  await core.createNamespacedSecret({ namespace, body: tlsSecret('baz-cert', certs.baz) });
  const terminate = (name: string, hostname: string, secret: string) => ({
    name, protocol: 'TLS', port: PORTS.terminate, hostname, tls: { mode: 'Terminate', certificateRefs: [{ name: secret }] },
  });
  const objects = [
    {
      apiVersion: GATEWAY_API, kind: 'Gateway', metadata: { name: GATEWAY },
      spec: {
        gatewayClassName,
        listeners: [
          { name: 'passthrough', protocol: 'TLS', port: PORTS.passthrough, tls: { mode: 'Passthrough' } },
          terminate('bar', HOSTS.bar, 'bar-cert'),
          terminate('baz', HOSTS.baz, 'baz-cert'),
        ],
      },
    },
    tlsRoute('foo-route', 'passthrough', [HOSTS.foo], { name: 'foo-svc', port: 443 }),
    tlsRoute('bar-route', 'bar', [HOSTS.bar], { name: 'bar-svc', port: 8080 }),
    tlsRoute('baz-route', 'baz', [HOSTS.baz], { name: 'bar-svc', port: 8080 }),
  ];
  for (const object of objects) await createObject(kc, { ...object, metadata: { ...object.metadata, namespace } });
}

// ---------------------------------------------------------------------------------------
// Traffic

export interface Target {
  /** For messages: "foo (passthrough)". */
  label: string;
  host: string;
  port: number;
  serverName: string;
  caPem: string;
}

const WELCOME = 'Gateway API Test TCP Server';

/**
 * One open connection to the echo backend through the gateway: TLS (SNI, only the test CA
 * trusted), then the echo conversation. ping() sends PING and waits for PONG; it fails if
 * the connection ended or no answer came within `timeoutMs`.
 */
export class EchoSession {
  readonly peerCertificate: string;
  private buffered = '';
  private waiting: { resolve: (line: string) => void; reject: (error: Error) => void } | undefined;
  private ended: Error | undefined;

  private constructor(private readonly socket: tls.TLSSocket, readonly target: Target) {
    const raw = socket.getPeerCertificate().raw;
    this.peerCertificate = `-----BEGIN CERTIFICATE-----\n${raw.toString('base64').replace(/(.{64})/g, '$1\n').trimEnd()}\n-----END CERTIFICATE-----\n`;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.buffered += chunk;
      let newline: number;
      while ((newline = this.buffered.indexOf('\n')) >= 0) {
        const line = this.buffered.slice(0, newline);
        this.buffered = this.buffered.slice(newline + 1);
        const waiter = this.waiting;
        this.waiting = undefined;
        waiter?.resolve(line);
      }
    });
    const end = (error: Error): void => {
      this.ended ??= error;
      const waiter = this.waiting;
      this.waiting = undefined;
      waiter?.reject(error);
    };
    socket.on('error', (error) => end(error));
    socket.on('end', () => end(new Error(`${target.label}: the gateway ended the connection`)));
    socket.on('close', () => end(new Error(`${target.label}: the connection closed`)));
  }

  /** Connects and reads the backend's welcome line. */
  static open(target: Target, timeoutMs = 5000): Promise<EchoSession> {
    return new Promise((resolve, reject) => {
      const socket = tls.connect({ host: target.host, port: target.port, servername: target.serverName, ca: target.caPem, minVersion: 'TLSv1.2' });
      let session: EchoSession | undefined;
      const timer = setTimeout(() => { socket.destroy(); reject(new Error(`${target.label}: no TLS session and welcome line within ${timeoutMs} ms`)); }, timeoutMs);
      const fail = (error: Error): void => { clearTimeout(timer); socket.destroy(); reject(new Error(`${target.label}: ${error.message}`)); };
      socket.once('error', fail);
      socket.once('end', () => fail(new Error('closed before the backend spoke')));
      socket.once('secureConnect', () => {
        socket.off('error', fail);
        session = new EchoSession(socket, target);
        session.nextLine(timeoutMs).then((line) => {
          clearTimeout(timer);
          if (line !== WELCOME) { socket.destroy(); reject(new Error(`${target.label}: welcome line ${JSON.stringify(line)}`)); return; }
          resolve(session!);
        }, (error: Error) => { clearTimeout(timer); socket.destroy(); reject(error); });
      });
    });
  }

  get alive(): boolean {
    return this.ended === undefined;
  }

  private nextLine(timeoutMs: number): Promise<string> {
    if (this.ended) return Promise.reject(this.ended);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting = undefined;
        reject(new Error(`${this.target.label}: no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting = {
        resolve: (line) => { clearTimeout(timer); resolve(line); },
        reject: (error) => { clearTimeout(timer); reject(error); },
      };
    });
  }

  async ping(timeoutMs = 5000): Promise<void> {
    if (this.ended) throw this.ended;
    const answer = this.nextLine(timeoutMs);
    this.socket.write('PING\n');
    const line = await answer;
    if (line !== 'PONG') throw new Error(`${this.target.label}: PING answered ${JSON.stringify(line)}`);
  }

  close(): void {
    this.socket.end();
    this.socket.destroy();
  }
}

/** A fresh connection: handshake, welcome, PING/PONG, close. Returns the certificate shown. */
export async function echoOnce(target: Target, timeoutMs = 5000): Promise<string> {
  const session = await EchoSession.open(target, timeoutMs);
  try {
    await session.ping(timeoutMs);
    return session.peerCertificate;
  } finally {
    session.close();
  }
}

export interface TrafficFailure { atMs: number; target: string; kind: 'new' | 'established'; error: string }

export interface TrafficReport {
  /** Successful new connections per target label. */
  newOk: Record<string, number>;
  /** Successful PINGs on the established sessions per target label. */
  pingsOk: Record<string, number>;
  failures: TrafficFailure[];
  /** Established sessions that were still open at the end, per target label. */
  stillOpen: Record<string, boolean>;
  durationMs: number;
}

/**
 * Traffic during a fault: per target, one established session PINGed every `pingEveryMs`,
 * and a new connection (handshake + PING) every `newEveryMs`. Every failure is recorded with
 * its time since start(); nothing is retried, so an interruption cannot hide.
 */
export class TrafficWatch {
  private readonly sessions = new Map<string, EchoSession>();
  private readonly report: TrafficReport = { newOk: {}, pingsOk: {}, failures: [], stillOpen: {}, durationMs: 0 };
  private running = false;
  private loops: Promise<void>[] = [];
  private began = 0;

  constructor(private readonly targets: Target[], private readonly options: { pingEveryMs?: number; newEveryMs?: number } = {}) {}

  async start(): Promise<void> {
    this.began = performance.now();
    for (const target of this.targets) {
      this.sessions.set(target.label, await EchoSession.open(target));
      this.report.newOk[target.label] = 0;
      this.report.pingsOk[target.label] = 0;
    }
    this.running = true;
    this.loops = this.targets.flatMap((target) => [this.pingLoop(target), this.newConnectionLoop(target)]);
  }

  private fail(target: Target, kind: 'new' | 'established', error: unknown): void {
    this.report.failures.push({ atMs: Math.round(performance.now() - this.began), target: target.label, kind, error: error instanceof Error ? error.message : String(error) });
  }

  private async pingLoop(target: Target): Promise<void> {
    const session = this.sessions.get(target.label)!;
    while (this.running && session.alive) {
      try {
        await session.ping();
        this.report.pingsOk[target.label]!++;
      } catch (error) {
        this.fail(target, 'established', error);
      }
      await sleep(this.options.pingEveryMs ?? 500);
    }
  }

  private async newConnectionLoop(target: Target): Promise<void> {
    while (this.running) {
      try {
        await echoOnce(target);
        this.report.newOk[target.label]!++;
      } catch (error) {
        this.fail(target, 'new', error);
      }
      await sleep(this.options.newEveryMs ?? 500);
    }
  }

  /** Failures so far (the watch keeps running). */
  get failures(): TrafficFailure[] {
    return [...this.report.failures];
  }

  async stop(): Promise<TrafficReport> {
    this.running = false;
    await Promise.all(this.loops);
    for (const [label, session] of this.sessions) {
      this.report.stillOpen[label] = session.alive;
      session.close();
    }
    this.report.durationMs = Math.round(performance.now() - this.began);
    return this.report;
  }
}

export function describeReport(report: TrafficReport): string {
  const per = Object.keys(report.newOk).map((label) => `${label}: ${report.newOk[label]} new connections, ${report.pingsOk[label]} PINGs on the open one${report.stillOpen[label] ? '' : ' (CLOSED)'}`);
  const failures = report.failures.slice(0, 10).map((f) => `  +${f.atMs} ms ${f.target} ${f.kind}: ${f.error}`);
  return `${per.join('; ')} over ${report.durationMs} ms; ${report.failures.length} failures${failures.length ? `:\n${failures.join('\n')}` : ''}`;
}
