// The config server: pushes each Gateway's ProxyConfig to that Gateway's proxies over a
// WebSocket with mutual TLS, and tracks what they acknowledged.
//
// Identity comes only from the verified client certificate (URI SAN tlsgate://gateway/ns/name,
// see ca.ts): the TLS layer refuses a missing, expired or foreign-CA certificate before any HTTP
// is read, and the upgrade is refused unless the certificate is a client certificate naming
// exactly one Gateway. A connection then only ever receives that Gateway's config.
//
// Every replica of the operator runs one; the operator calls `publish` after each reconcile and
// reads `status()` / the 'status' event to write the Gateway's Programmed condition.
import { EventEmitter } from 'node:events';
import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { randomUUID, X509Certificate } from 'node:crypto';
import { WebSocketServer, type WebSocket } from 'ws';
import {
  CONFIG_PROTOCOL,
  CONFIG_PROTOCOL_PATH,
  parseClientMessage,
  sanitizeErrorText,
  type ConfigMessage,
  type NackPortFailure,
} from '../src/config-protocol.js';
import type { ObjectRef, ProxyConfig } from '../src/proxy-config.js';
import { gatewayFromCertificate } from './ca.js';
import { splitPemCertificates } from './delivery/x509.js';

export interface ConfigServerTls {
  /** The server's certificate chain (PEM), with SANs for the names proxies dial. */
  certificatePem: string;
  privateKeyPem: string;
  /** Every CA whose client certificates are accepted (the CA trust bundle, during rotation several). */
  trustBundlePem: string;
}

export type DeliveryLog = (event: string, fields: Record<string, unknown>) => void;

export interface ConfigServerOptions {
  /** Bind address; default '0.0.0.0'. */
  host?: string;
  /** Default 0 (an ephemeral port; read `port` afterwards). */
  port?: number;
  tls: ConfigServerTls;
  /** Ping every connection this often; one missed pong drops it. Default 10 s. */
  heartbeatIntervalMs?: number;
  /** Structured log sink; default JSON lines on stderr. Never receives key material. */
  log?: DeliveryLog;
  /** Told of each new version published for a Gateway, and of each proxy's first answer to a version sent. */
  observer?: DeliveryObserver;
}

export interface DeliveryObserver {
  published(gateway: string): void;
  /** `seconds` from sending the version to that proxy until its ACK or NACK of it. */
  answered(gateway: string, result: 'ack' | 'nack', seconds: number): void;
}

export interface ProxyNack {
  /** The refused version (null when the proxy could not even read which one). */
  version: string | null;
  error: string;
  /** The listener ports the proxy could not bind, when that is why it refused (validated in config-protocol.ts). */
  ports?: NackPortFailure[];
}

/** What the proxies of one Gateway serve, as far as the connected ones told us. */
export interface GatewayDeliveryStatus {
  connectedProxies: number;
  /** The version currently published for the Gateway (undefined before the first publish). */
  currentVersion?: string;
  /** `currentVersion` when at least one connected proxy ACKed it; else the newest version any connected proxy ACKed. */
  ackedVersion?: string;
  /** Connected proxies that ACKed `currentVersion`. */
  ackedProxies: number;
  /** The newest NACK among connected proxies that have not ACKed anything since. */
  nack?: ProxyNack;
}

export interface ConnectedProxy {
  gateway: string;
  remoteAddress: string;
  /** Serial of the client certificate it connected with (rotation shows here). */
  certificateSerial: string;
  ackedVersion?: string;
  nack?: ProxyNack;
}

interface ProxyConnection {
  socket: WebSocket;
  gateway: string;
  remoteAddress: string;
  certificateSerial: string;
  certificateExpiresAt: number;
  alive: boolean;
  /** The version last sent on this connection; NACKs without a version refer to it. */
  sentVersion?: string;
  /** When `sentVersion` was sent, until the proxy answered it (for the answer latency). */
  sentAt?: bigint;
  /**
   * The newest ACK (what the proxy serves: a NACKed config changes nothing there) and the NACK
   * since then, if any; `order` finds the newest across connections.
   */
  acked?: { version: string; order: number };
  nacked?: { nack: ProxyNack; order: number };
}

interface GatewayEntry {
  config: ProxyConfig;
  generation: number;
}

const MAX_CLIENT_MESSAGE_BYTES = 64 * 1024;
const FORBIDDEN = 'HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n';
const NOT_FOUND = 'HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n';

export interface ConfigServerEvents {
  /** A Gateway's delivery status changed (connect, disconnect, ACK, NACK, publish). */
  status: [gateway: string, status: GatewayDeliveryStatus];
}

export class ConfigServer extends EventEmitter<ConfigServerEvents> {
  /** Names this server instance; generations from another epoch are not comparable. */
  readonly epoch = randomUUID();
  private readonly https: https.Server;
  private readonly wss: WebSocketServer;
  private readonly connections = new Set<ProxyConnection>();
  private readonly configs = new Map<string, GatewayEntry>();
  private readonly lastEmitted = new Map<string, string>();
  private readonly heartbeat: NodeJS.Timeout;
  private readonly log: DeliveryLog;
  private readonly observer: DeliveryObserver | undefined;
  /** The accepted CAs, parsed: checked again at upgrade time (see `upgrade`). */
  private trustedCas: X509Certificate[];
  private generation = 0;
  private answerOrder = 0;
  private closed = false;

  static async start(options: ConfigServerOptions): Promise<ConfigServer> {
    const server = new ConfigServer(options);
    await server.listen(options.host ?? '0.0.0.0', options.port ?? 0);
    return server;
  }

  private constructor(options: ConfigServerOptions) {
    super();
    this.log = options.log ?? defaultLog;
    this.observer = options.observer;
    this.trustedCas = parseBundle(options.tls.trustBundlePem);
    this.https = https.createServer({
      ...secureContextOptions(options.tls),
      requestCert: true,
      rejectUnauthorized: true,
      minVersion: 'TLSv1.2',
    });
    this.wss = new WebSocketServer({
      noServer: true,
      // Proxies only send ACKs and NACKs (bounded texts): a small cap keeps a misbehaving
      // authenticated peer from making the operator buffer large messages.
      maxPayload: MAX_CLIENT_MESSAGE_BYTES,
      handleProtocols: (protocols) => (protocols.has(CONFIG_PROTOCOL) ? CONFIG_PROTOCOL : false),
    });
    // Handshake failures (no certificate, unknown CA, expired) end here; TLS already closed them.
    this.https.on('tlsClientError', (err, socket) => {
      this.log('handshake_refused', { remoteAddress: socket.remoteAddress, error: err.message });
    });
    this.https.on('clientError', (err, socket) => {
      this.log('client_error', { error: err.message });
      socket.destroy();
    });
    this.https.on('request', (_req, res) => {
      res.writeHead(426, { 'content-type': 'text/plain', upgrade: 'websocket' }).end('WebSocket upgrade required\n');
    });
    this.https.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.upgrade(req, socket as TLSSocket, head));
    const interval = options.heartbeatIntervalMs ?? 10_000;
    this.heartbeat = setInterval(() => this.beat(), interval);
    this.heartbeat.unref();
  }

  /** The bound port. */
  get port(): number {
    const address = this.https.address();
    if (!address || typeof address === 'string') throw new Error('config server is not listening');
    return address.port;
  }

  /**
   * Publish a Gateway's config. Pushed at once to its connected proxies, and on connect to
   * later ones. Publishing the version already current does nothing.
   */
  publish(config: ProxyConfig): void {
    const key = gatewayKey(config.gateway);
    const current = this.configs.get(key);
    if (current?.config.version === config.version) return;
    const entry = { config, generation: ++this.generation };
    this.configs.set(key, entry);
    this.log('config_published', { gateway: key, version: config.version, generation: entry.generation });
    this.observer?.published(key);
    for (const connection of this.connections) {
      if (connection.gateway === key) this.send(connection, entry);
    }
    this.emitStatus(key);
  }

  /** Forget a Gateway's config (the Gateway was deleted). Its proxies keep what they have. */
  withdraw(gateway: ObjectRef | string): void {
    const key = typeof gateway === 'string' ? gateway : gatewayKey(gateway);
    if (this.configs.delete(key)) this.emitStatus(key);
  }

  status(gateway: string): GatewayDeliveryStatus {
    const entry = this.configs.get(gateway);
    const currentVersion = entry?.config.version;
    let connectedProxies = 0;
    let ackedProxies = 0;
    let newestAck: { version: string; order: number } | undefined;
    let newestNack: { nack: ProxyNack; order: number } | undefined;
    for (const connection of this.connections) {
      if (connection.gateway !== gateway) continue;
      connectedProxies++;
      const { acked, nacked } = connection;
      if (acked) {
        if (acked.version === currentVersion) ackedProxies++;
        if (!newestAck || acked.order > newestAck.order) newestAck = acked;
      }
      if (nacked && (!newestNack || nacked.order > newestNack.order)) newestNack = nacked;
    }
    const status: GatewayDeliveryStatus = { connectedProxies, ackedProxies };
    if (currentVersion !== undefined) status.currentVersion = currentVersion;
    const ackedVersion = ackedProxies > 0 ? currentVersion : newestAck?.version;
    if (ackedVersion !== undefined) status.ackedVersion = ackedVersion;
    if (newestNack) status.nack = copyNack(newestNack.nack);
    return status;
  }

  /** Every connected proxy (for debugging endpoints and tests). */
  proxies(): ConnectedProxy[] {
    return [...this.connections].map((connection) => {
      const proxy: ConnectedProxy = {
        gateway: connection.gateway,
        remoteAddress: connection.remoteAddress,
        certificateSerial: connection.certificateSerial,
      };
      if (connection.acked) proxy.ackedVersion = connection.acked.version;
      if (connection.nacked) proxy.nack = copyNack(connection.nacked.nack);
      return proxy;
    });
  }

  /**
   * Swap the server certificate and the accepted CAs (CA rotation, renewal). New handshakes
   * use them; established connections are untouched.
   */
  updateTls(tls: ConfigServerTls): void {
    this.https.setSecureContext(secureContextOptions(tls));
    this.trustedCas = parseBundle(tls.trustBundlePem);
    this.log('tls_updated', {});
  }

  /** Close every connection and stop listening. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.heartbeat);
    for (const connection of this.connections) connection.socket.terminate();
    await new Promise<void>((resolve) => {
      this.wss.close(() => resolve());
    });
    await new Promise<void>((resolve) => {
      this.https.close(() => resolve());
      this.https.closeAllConnections();
    });
  }

  private listen(host: string, port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.https.once('error', onError);
      this.https.listen(port, host, () => {
        this.https.off('error', onError);
        this.https.on('error', (err) => this.log('server_error', { error: err.message }));
        resolve();
      });
    });
  }

  private upgrade(req: IncomingMessage, socket: TLSSocket, head: Buffer): void {
    // Ours until ws takes the socket over (ws then handles its errors and reports them on the WebSocket).
    // Refused upgrades keep it: the socket may still fail while the 403/404 is written.
    const onSocketError = (err: Error): void => this.log('upgrade_socket_error', { remoteAddress: socket.remoteAddress, error: err.message });
    socket.on('error', onSocketError);
    const path = new URL(req.url ?? '/', 'https://config-server').pathname;
    if (path !== CONFIG_PROTOCOL_PATH) {
      socket.end(NOT_FOUND);
      return;
    }
    // rejectUnauthorized already refused unverified peers; checked again so that a change of
    // server options can never silently admit one.
    const certificate = socket.authorized ? socket.getPeerX509Certificate() : undefined;
    const refusal = !certificate ? 'no verified certificate' : this.currentlyTrusted(certificate);
    const gateway = certificate && !refusal ? gatewayFromCertificate(certificate) : null;
    if (!certificate || refusal || !gateway) {
      this.log('upgrade_refused', { remoteAddress: socket.remoteAddress, reason: refusal ?? 'the certificate names no Gateway' });
      socket.end(FORBIDDEN);
      return;
    }
    // ws installs its own error handling as handleUpgrade starts: hand the socket over whole.
    socket.off('error', onSocketError);
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      this.accept(ws, {
        gateway: gatewayKey(gateway),
        remoteAddress: `${socket.remoteAddress}:${socket.remotePort}`,
        certificateSerial: certificate.serialNumber,
        certificateExpiresAt: Date.parse(certificate.validTo),
      });
    });
  }

  /**
   * Why a verified certificate is not acceptable now, or null. The handshake verified it, but a
   * resumed TLS session skips verification: so expiry and the issuer are checked against the
   * current clock and trust bundle (a CA retired since the session began no longer counts).
   */
  private currentlyTrusted(certificate: X509Certificate): string | null {
    if (!isClientCertificate(extendedKeyUsageOf(certificate))) return 'not a client certificate (no clientAuth extended key usage)';
    const now = Date.now();
    if (Date.parse(certificate.validFrom) > now || Date.parse(certificate.validTo) <= now) return 'certificate not valid now';
    if (!this.trustedCas.some((ca) => certificate.checkIssued(ca) && certificate.verify(ca.publicKey))) return 'issuer no longer trusted';
    return null;
  }

  private accept(socket: WebSocket, peer: Pick<ProxyConnection, 'gateway' | 'remoteAddress' | 'certificateSerial' | 'certificateExpiresAt'>): void {
    const connection: ProxyConnection = { socket, ...peer, alive: true };
    this.connections.add(connection);
    this.log('proxy_connected', { gateway: peer.gateway, remoteAddress: peer.remoteAddress, certificateSerial: peer.certificateSerial });
    socket.on('pong', () => {
      connection.alive = true;
    });
    socket.on('message', (data, isBinary) => this.receive(connection, isBinary ? null : data.toString()));
    socket.on('error', (err) => this.log('proxy_socket_error', { gateway: peer.gateway, remoteAddress: peer.remoteAddress, error: err.message }));
    socket.on('close', (code) => {
      this.connections.delete(connection);
      this.log('proxy_disconnected', { gateway: peer.gateway, remoteAddress: peer.remoteAddress, code });
      this.emitStatus(peer.gateway);
    });
    const entry = this.configs.get(peer.gateway);
    if (entry) this.send(connection, entry);
    this.emitStatus(peer.gateway);
  }

  private send(connection: ProxyConnection, entry: GatewayEntry): void {
    const message: ConfigMessage = { type: 'config', epoch: this.epoch, generation: entry.generation, config: entry.config };
    connection.sentVersion = entry.config.version;
    connection.sentAt = process.hrtime.bigint();
    connection.socket.send(JSON.stringify(message), (err) => {
      // A failed send means the connection is going away; 'close' cleans up.
      if (err) this.log('send_failed', { gateway: connection.gateway, error: err.message });
    });
  }

  private receive(connection: ProxyConnection, text: string | null): void {
    const parsed = text === null ? null : parseClientMessage(text);
    if (!parsed?.ok) {
      this.log('proxy_message_refused', { gateway: connection.gateway, error: parsed ? parsed.error : 'binary message' });
      connection.socket.close(1008, 'malformed message');
      return;
    }
    const message = parsed.message;
    const order = ++this.answerOrder;
    const answersSent = message.version === undefined || message.version === null || message.version === connection.sentVersion;
    if (connection.sentAt !== undefined && answersSent) {
      this.observer?.answered(connection.gateway, message.type === 'ack' ? 'ack' : 'nack', Number(process.hrtime.bigint() - connection.sentAt) / 1e9);
      connection.sentAt = undefined;
    }
    if (message.type === 'ack') {
      connection.acked = { version: message.version, order };
      connection.nacked = undefined;
      this.log('config_acked', { gateway: connection.gateway, version: message.version, remoteAddress: connection.remoteAddress });
    } else {
      const nack: ProxyNack = { version: message.version ?? connection.sentVersion ?? null, error: sanitizeErrorText(message.error) };
      if (message.ports && message.ports.length > 0) nack.ports = message.ports.map((p) => ({ port: p.port, address: p.address, code: p.code }));
      connection.nacked = { nack, order };
      this.log('config_nacked', { gateway: connection.gateway, version: nack.version, error: nack.error, remoteAddress: connection.remoteAddress });
    }
    this.emitStatus(connection.gateway);
  }

  /** Drop peers that missed a pong, or whose certificate expired while connected. */
  private beat(): void {
    const now = Date.now();
    for (const connection of this.connections) {
      if (!connection.alive || connection.certificateExpiresAt <= now) {
        this.log('proxy_dropped', { gateway: connection.gateway, remoteAddress: connection.remoteAddress, reason: connection.alive ? 'certificate expired' : 'missed heartbeat' });
        connection.socket.terminate();
        continue;
      }
      connection.alive = false;
      connection.socket.ping();
    }
  }

  private emitStatus(gateway: string): void {
    const status = this.status(gateway);
    const serialized = JSON.stringify(status);
    if (this.lastEmitted.get(gateway) === serialized) return;
    // A Gateway with neither config nor proxies is forgotten, so churn does not grow the map.
    if (status.connectedProxies === 0 && status.currentVersion === undefined) this.lastEmitted.delete(gateway);
    else this.lastEmitted.set(gateway, serialized);
    this.emit('status', gateway, status);
  }
}

export function gatewayKey(gateway: ObjectRef): string {
  return `${gateway.namespace}/${gateway.name}`;
}

const CLIENT_AUTH_OID = '1.3.6.1.5.5.7.3.2';

/** The certificate's extended key usage allows TLS client authentication. */
function isClientCertificate(extendedKeyUsage: string[] | undefined): boolean {
  return Array.isArray(extendedKeyUsage) && extendedKeyUsage.includes(CLIENT_AUTH_OID);
}

/** X509Certificate's EKU list: `keyUsage` on every supported Node (docs briefly called it `extKeyUsage`). */
function extendedKeyUsageOf(certificate: X509Certificate): string[] | undefined {
  return certificate.keyUsage ?? (certificate as unknown as { extKeyUsage?: string[] }).extKeyUsage;
}

function parseBundle(bundlePem: string): X509Certificate[] {
  return splitPemCertificates(bundlePem).map((pem) => new X509Certificate(pem));
}

function secureContextOptions(tls: ConfigServerTls): { cert: string; key: string; ca: string } {
  return { cert: tls.certificatePem, key: tls.privateKeyPem, ca: tls.trustBundlePem };
}

function copyNack(nack: ProxyNack): ProxyNack {
  return { ...nack, ...(nack.ports ? { ports: nack.ports.map((p) => ({ ...p })) } : {}) };
}

function defaultLog(event: string, fields: Record<string, unknown>): void {
  process.stderr.write(JSON.stringify({ time: new Date().toISOString(), component: 'config-server', event, ...fields }) + '\n');
}
