// Shared fixtures for the config-delivery tests: real CAs and certificates, files on disk, a
// config server on loopback, and a sink that records what the client applied.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  createAuthorityState,
  issueGatewayClientCertificate,
  issueServerCertificate,
  trustBundlePem,
  type AuthorityState,
  type KeyAndCertificate,
} from '../../../operator/ca.js';
import { ConfigServer, type GatewayDeliveryStatus } from '../../../operator/config-server.js';
import type { ConfigSink } from '../../../proxy/config-client.js';
import { PROXY_CONFIG_SCHEMA, type ObjectRef, type ProxyConfig } from '../../../src/proxy-config.js';

export const GATEWAY_A: ObjectRef = { namespace: 'team-a', name: 'gw-a' };
export const GATEWAY_B: ObjectRef = { namespace: 'team-b', name: 'gw-b' };

/** A config that names its gateway and version; `marker` makes contents distinct. */
export function proxyConfig(gateway: ObjectRef, version: string, privateKeyPem = 'no-key'): ProxyConfig {
  return {
    schema: PROXY_CONFIG_SCHEMA,
    gateway,
    version,
    ports: [
      {
        port: 8443,
        listeners: [
          {
            name: 'tls',
            hostname: 'app.example.com',
            mode: 'Terminate',
            certificates: [
              {
                secret: { namespace: gateway.namespace, name: 'cert' },
                certificatePem: 'cert-for-' + version,
                privateKeyPem,
                keyType: 'EC',
                dnsNames: ['app.example.com'],
                notAfter: '2030-01-01T00:00:00.000Z',
              },
            ],
            hostnames: [{ hostname: 'app.example.com', route: 0 }],
            routes: [{ namespace: gateway.namespace, name: 'route', backends: [{ ref: `${gateway.namespace}/svc:80`, weight: 1, endpoints: [{ address: '127.0.0.1', port: 9 }] }] }],
          },
        ],
      },
    ],
  };
}

/** A temporary directory removed by `cleanup`. */
export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'tlsgate-delivery-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface CredentialFiles {
  certFile: string;
  keyFile: string;
  caFile: string;
}

/** Write a client's certificate, key and trust bundle where `tlsgate proxy` would read them. */
export function writeCredentials(dir: string, name: string, issued: KeyAndCertificate, bundlePem: string): CredentialFiles {
  const files = { certFile: path.join(dir, `${name}.crt`), keyFile: path.join(dir, `${name}.key`), caFile: path.join(dir, `${name}-ca.crt`) };
  writeFileSync(files.certFile, issued.certificatePem);
  writeFileSync(files.keyFile, issued.privateKeyPem, { mode: 0o600 });
  writeFileSync(files.caFile, bundlePem);
  return files;
}

export interface Pki {
  state: AuthorityState;
  server: KeyAndCertificate;
  clientA: KeyAndCertificate;
  clientB: KeyAndCertificate;
}

export function makePki(now = new Date()): Pki {
  const state = createAuthorityState(now);
  return {
    state,
    server: issueServerCertificate(state, { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] }, now),
    clientA: issueGatewayClientCertificate(state, GATEWAY_A, now),
    clientB: issueGatewayClientCertificate(state, GATEWAY_B, now),
  };
}

export async function startServer(pki: Pki, heartbeatIntervalMs = 60_000, port = 0): Promise<{ server: ConfigServer; logs: { event: string; fields: Record<string, unknown> }[] }> {
  const logs: { event: string; fields: Record<string, unknown> }[] = [];
  const server = await ConfigServer.start({
    host: '127.0.0.1',
    port,
    heartbeatIntervalMs,
    tls: { certificatePem: pki.server.certificatePem, privateKeyPem: pki.server.privateKeyPem, trustBundlePem: trustBundlePem(pki.state) },
    log: (event, fields) => logs.push({ event, fields }),
  });
  return { server, logs };
}

/** A sink that keeps every config it was given, and refuses the ones `refuse` names. */
export class RecordingSink implements ConfigSink {
  readonly applied: ProxyConfig[] = [];
  constructor(private readonly refuse: (config: ProxyConfig) => string | null = () => null) {}
  async apply(config: ProxyConfig): Promise<void> {
    const reason = this.refuse(config);
    if (reason !== null) throw new Error(reason);
    this.applied.push(config);
  }
  get versions(): string[] {
    return this.applied.map((config) => config.version);
  }
}

/** Resolve once the server reports a status for `gateway` that satisfies `predicate`. */
export async function statusWhere(server: ConfigServer, gateway: string, predicate: (status: GatewayDeliveryStatus) => boolean): Promise<GatewayDeliveryStatus> {
  const now = server.status(gateway);
  if (predicate(now)) return now;
  return new Promise((resolve) => {
    const listener = (key: string, status: GatewayDeliveryStatus): void => {
      if (key === gateway && predicate(status)) {
        server.off('status', listener);
        resolve(status);
      }
    };
    server.on('status', listener);
  });
}

/** Resolve on the next `event` whose first argument satisfies `predicate`. */
export function eventWhere<T>(emitter: Listenable, event: string, predicate: (value: T) => boolean = () => true): Promise<T> {
  return new Promise((resolve) => {
    const listener = (value: T): void => {
      if (!predicate(value)) return;
      emitter.off(event, listener);
      resolve(value);
    };
    emitter.on(event, listener);
  });
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Listener = (...args: any[]) => void;
export interface Listenable {
  on(event: string, listener: Listener): unknown;
  off(event: string, listener: Listener): unknown;
}
