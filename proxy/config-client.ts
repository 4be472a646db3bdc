// The proxy's side of config delivery: a WebSocket client over mutual TLS that receives its
// Gateway's ProxyConfig from the operator, applies it through a sink (the proxy runtime), and
// answers ACK or NACK per version.
//
// Availability first: nothing here ever un-applies a config. While the server is away the proxy
// keeps serving its last good config, and the client reconnects with exponential backoff and
// jitter (so a restarted operator is not hit by every proxy at once). Its client certificate
// and trust bundle are files mounted from a Secret; they are re-read when they change, and the
// connection is re-established with them.
import { EventEmitter } from 'node:events';
import { readFile } from 'node:fs/promises';
import { createHash, createPrivateKey, X509Certificate } from 'node:crypto';
import WebSocket from 'ws';
import {
  CONFIG_PROTOCOL,
  CONFIG_PROTOCOL_PATH,
  MAX_CONFIG_MESSAGE_BYTES,
  MAX_NACK_PORTS,
  gatewayFromSubjectAltName,
  gatewayIdentityUri,
  parseServerMessage,
  sanitizeErrorText,
  type ClientMessage,
  type ConfigMessage,
  type NackPortFailure,
} from '../src/config-protocol.js';
import type { ObjectRef, ProxyConfig } from '../src/proxy-config.js';
import { portFailuresOf } from './port-failures.js';

/** Where configs go: the proxy runtime (`runtime.apply([config])`), or a test's recorder. */
export interface ConfigSink {
  /** Resolve when the config serves traffic; reject (having changed nothing) when it cannot. */
  apply(config: ProxyConfig): Promise<void>;
}

export type ClientLog = (event: string, fields: Record<string, unknown>) => void;

export interface ConfigClientOptions {
  /** `wss://host:port` (the path defaults to the protocol's). */
  url: string;
  /** The Gateway this proxy serves; a config for any other is refused. */
  gateway: ObjectRef;
  certFile: string;
  keyFile: string;
  /** The CA bundle that signed the server's certificate. */
  caFile: string;
  sink: ConfigSink;
  /** TLS server name to verify, when it differs from the URL's host. */
  servername?: string;
  /** First reconnect delay (default 500 ms), doubling per failure up to maxMs (default 30 s). */
  backoff?: { initialMs?: number; maxMs?: number };
  /** Ping the server this often; one missed pong means it is gone. Default 10 s. */
  heartbeatIntervalMs?: number;
  /** Check the certificate files for changes this often. Default 5 s. */
  credentialsPollMs?: number;
  log?: ClientLog;
  /** Source of jitter, [0, 1). */
  random?: () => number;
}

export interface ConfigClientEvents {
  connected: [];
  disconnected: [];
  /** A config was applied (or was already the one applied) and ACKed. */
  applied: [config: ProxyConfig];
  nacked: [nack: { version: string | null; error: string; ports?: NackPortFailure[] }];
  /** A config older than one already handled (same server epoch) was ignored. */
  stale: [message: { epoch: string; generation: number; version: string }];
  credentialsReloaded: [];
}

interface Credentials {
  cert: string;
  key: string;
  ca: string;
  fingerprint: string;
}

/** Reconnect delay for the n-th consecutive failure: exponential, half of it jittered. */
export function reconnectDelay(attempt: number, initialMs: number, maxMs: number, random: () => number): number {
  const ceiling = Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

export class ConfigClient extends EventEmitter<ConfigClientEvents> {
  private credentials: Credentials;
  private socket: WebSocket | null = null;
  private alive = false;
  private attempt = 0;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private readonly heartbeatTimer: NodeJS.Timeout;
  private readonly credentialsTimer: NodeJS.Timeout;
  private readonly log: ClientLog;
  private readonly random: () => number;
  private readonly url: string;
  private closed = false;
  /** The newest config message taken for processing: staleness is judged against it. */
  private lastSeen: { epoch: string; generation: number } | null = null;
  private applied: { version: string; config: ProxyConfig } | null = null;
  /** Configs are applied one at a time; a newer one waiting replaces an older one waiting. */
  private applying = false;
  private waiting: { message: ConfigMessage; socket: WebSocket } | null = null;
  private lastCredentialsError = '';

  /** Read the credentials (failing loudly if they are unusable) and start connecting. */
  static async start(options: ConfigClientOptions): Promise<ConfigClient> {
    const credentials = await readCredentials(options);
    return new ConfigClient(options, credentials);
  }

  private constructor(
    private readonly options: ConfigClientOptions,
    credentials: Credentials,
  ) {
    super();
    this.credentials = credentials;
    this.log = options.log ?? defaultLog;
    this.random = options.random ?? Math.random;
    const url = new URL(options.url);
    if (url.protocol !== 'wss:') throw new Error(`--config-server ${options.url}: expected a wss:// URL (mutual TLS is required)`);
    if (url.pathname === '/' || url.pathname === '') url.pathname = CONFIG_PROTOCOL_PATH;
    this.url = url.toString();
    this.heartbeatTimer = setInterval(() => this.beat(), options.heartbeatIntervalMs ?? 10_000);
    this.credentialsTimer = setInterval(() => void this.pollCredentials(), options.credentialsPollMs ?? 5_000);
    this.connect();
  }

  /** The version currently applied, if any. */
  get appliedVersion(): string | undefined {
    return this.applied?.version;
  }

  get connected(): boolean {
    return this.socket?.readyState === WebSocket.OPEN;
  }

  /** Stop for good: close the connection, cancel reconnects. Never touches the applied config. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.heartbeatTimer);
    clearInterval(this.credentialsTimer);
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    const socket = this.socket;
    if (!socket || socket.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      socket.once('close', () => resolve());
      if (socket.readyState === WebSocket.CONNECTING) socket.terminate();
      else socket.close(1001, 'proxy shutting down');
      // A peer that never answers the close frame must not hold shutdown.
      setTimeout(() => socket.terminate(), 2000).unref();
    });
  }

  private connect(): void {
    if (this.closed) return;
    const { cert, key, ca } = this.credentials;
    const socket = new WebSocket(this.url, CONFIG_PROTOCOL, {
      cert,
      key,
      ca,
      ...(this.options.servername ? { servername: this.options.servername } : {}),
      maxPayload: MAX_CONFIG_MESSAGE_BYTES,
      handshakeTimeout: 10_000,
      perMessageDeflate: false,
    });
    this.socket = socket;
    this.alive = true;
    const openedAt = { time: 0 };
    socket.on('open', () => {
      openedAt.time = Date.now();
      this.log('connected', { url: this.url });
      this.emit('connected');
    });
    socket.on('message', (data, isBinary) => {
      this.alive = true;
      this.attempt = 0; // the server talks to us: a later disconnect starts the backoff afresh
      this.receive(socket, isBinary ? null : data.toString());
    });
    socket.on('pong', () => {
      this.alive = true;
    });
    // ws reports every failure (refused, TLS, 403, protocol) here and then always emits 'close'.
    socket.on('error', (err) => this.log('connection_error', { url: this.url, error: err.message }));
    socket.on('close', (code, reason) => {
      if (this.socket === socket) this.socket = null;
      if (openedAt.time) {
        this.log('disconnected', { url: this.url, code, reason: reason.toString() });
        this.emit('disconnected');
      }
      this.scheduleReconnect();
    });
  }

  private scheduleReconnect(delayMs?: number): void {
    if (this.closed || this.reconnectTimer || this.socket) return;
    const initial = this.options.backoff?.initialMs ?? 500;
    const max = this.options.backoff?.maxMs ?? 30_000;
    const delay = delayMs ?? reconnectDelay(this.attempt++, initial, max, this.random);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.connect();
    }, delay);
  }

  private receive(socket: WebSocket, text: string | null): void {
    const parsed = text === null ? null : parseServerMessage(text);
    if (!parsed?.ok) {
      const error = parsed ? parsed.error : 'binary message';
      this.answer(socket, { type: 'nack', version: parsed?.version ?? null, generation: parsed?.generation ?? null, error });
      return;
    }
    const message = parsed.message;
    const last = this.lastSeen;
    if (last && last.epoch === message.epoch && message.generation < last.generation) {
      this.log('config_stale', { epoch: message.epoch, generation: message.generation, newest: last.generation, version: message.config.version });
      this.emit('stale', { epoch: message.epoch, generation: message.generation, version: message.config.version });
      return;
    }
    this.lastSeen = { epoch: message.epoch, generation: message.generation };
    this.waiting = { message, socket };
    void this.drain();
  }

  /** Apply waiting configs one at a time; answer each on the connection it came from. */
  private async drain(): Promise<void> {
    if (this.applying) return;
    this.applying = true;
    try {
      while (this.waiting) {
        const { message, socket } = this.waiting;
        this.waiting = null;
        const config = message.config;
        const expected = `${this.options.gateway.namespace}/${this.options.gateway.name}`;
        const received = `${config.gateway.namespace}/${config.gateway.name}`;
        if (received !== expected) {
          this.answer(socket, { type: 'nack', version: config.version, generation: message.generation, error: `config.gateway is ${received}, this proxy serves ${expected}` });
          continue;
        }
        if (this.applied?.version === config.version) {
          // Already serving it (a reconnect, or a server restart): confirm without re-applying.
          this.answer(socket, { type: 'ack', version: config.version, generation: message.generation });
          this.emit('applied', config);
          continue;
        }
        try {
          await this.options.sink.apply(config);
        } catch (err) {
          const error = sanitizeErrorText(err instanceof Error ? err.message : String(err));
          this.log('config_refused', { version: config.version, generation: message.generation, error });
          const nack: ClientMessage = { type: 'nack', version: config.version, generation: message.generation, error };
          // Which ports failed, as data: the operator then serves the Gateway without those listeners.
          const failures = portFailuresOf(err);
          if (failures) nack.ports = failures.slice(0, MAX_NACK_PORTS).map((f) => ({ port: f.port, address: f.address, code: f.code }));
          this.answer(socket, nack);
          continue;
        }
        this.applied = { version: config.version, config };
        this.log('config_applied', { version: config.version, generation: message.generation });
        this.answer(socket, { type: 'ack', version: config.version, generation: message.generation });
        this.emit('applied', config);
      }
    } finally {
      this.applying = false;
    }
  }

  private answer(socket: WebSocket, message: ClientMessage): void {
    if (message.type === 'nack') {
      message.error = sanitizeErrorText(message.error);
      this.emit('nacked', { version: message.version, error: message.error, ...(message.ports ? { ports: message.ports } : {}) });
    }
    // The connection may have gone while applying; the next server's push gets a fresh answer.
    if (socket.readyState !== WebSocket.OPEN) return;
    socket.send(JSON.stringify(message), (err) => {
      if (err) this.log('send_failed', { error: err.message });
    });
  }

  private beat(): void {
    const socket = this.socket;
    if (!socket || socket.readyState !== WebSocket.OPEN) return;
    if (!this.alive) {
      this.log('server_unresponsive', { url: this.url });
      socket.terminate();
      return;
    }
    this.alive = false;
    socket.ping();
  }

  private async pollCredentials(): Promise<void> {
    let next: Credentials;
    try {
      next = await readCredentials(this.options);
    } catch (err) {
      // Mid-rotation (files swapped one by one) or a broken Secret: keep the working ones.
      const message = (err as Error).message;
      if (message !== this.lastCredentialsError) this.log('credentials_unusable', { error: message });
      this.lastCredentialsError = message;
      return;
    }
    this.lastCredentialsError = '';
    if (this.closed || next.fingerprint === this.credentials.fingerprint) return;
    this.credentials = next;
    this.log('credentials_reloaded', { certFile: this.options.certFile });
    this.emit('credentialsReloaded');
    // Reconnect now so the server sees the new certificate (the old one may be about to expire).
    const socket = this.socket;
    if (socket) {
      this.socket = null;
      socket.close(1000, 'credentials rotated');
    }
    if (this.reconnectTimer) {
      clearTimeout(this.reconnectTimer);
      this.reconnectTimer = null;
    }
    this.scheduleReconnect(0);
  }
}

/** Read and check the mounted credentials; errors name the file, never its content. */
async function readCredentials(options: Pick<ConfigClientOptions, 'certFile' | 'keyFile' | 'caFile' | 'gateway'>): Promise<Credentials> {
  const read = async (file: string, flag: string): Promise<string> => {
    try {
      return await readFile(file, 'utf8');
    } catch (err) {
      throw new Error(`${flag} ${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
  };
  const [cert, key, ca] = await Promise.all([read(options.certFile, '--cert'), read(options.keyFile, '--key'), read(options.caFile, '--ca')]);
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(cert);
  } catch {
    throw new Error(`--cert ${options.certFile}: not a PEM certificate`);
  }
  let matches: boolean;
  try {
    matches = certificate.checkPrivateKey(createPrivateKey(key));
  } catch {
    throw new Error(`--key ${options.keyFile}: not a PEM private key`);
  }
  if (!matches) throw new Error(`--key ${options.keyFile}: does not belong to the certificate in ${options.certFile}`);
  // The server decides by the certificate alone; a mismatch here would only ever get the
  // wrong Gateway's config refused, so say so at startup instead.
  const named = gatewayFromSubjectAltName(certificate.subjectAltName ?? '');
  const expected = `${options.gateway.namespace}/${options.gateway.name}`;
  if (!named) throw new Error(`--cert ${options.certFile}: names no Gateway (expected URI SAN ${gatewayIdentityUri(options.gateway)})`);
  if (`${named.namespace}/${named.name}` !== expected) {
    throw new Error(`--cert ${options.certFile}: names Gateway ${named.namespace}/${named.name}, but this proxy serves ${expected}`);
  }
  if (!/-----BEGIN CERTIFICATE-----/.test(ca)) throw new Error(`--ca ${options.caFile}: no PEM certificate in it`);
  const fingerprint = createHash('sha256').update(cert).update('\0').update(key).update('\0').update(ca).digest('hex');
  return { cert, key, ca, fingerprint };
}

function defaultLog(event: string, fields: Record<string, unknown>): void {
  process.stderr.write(JSON.stringify({ time: new Date().toISOString(), component: 'config-client', event, ...fields }) + '\n');
}
