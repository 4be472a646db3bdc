// The engine of one process: owns the listening sockets, the compiled routing tables and
// the live connections. apply() swaps configs atomically: everything that can fail
// (validation, certificate loading, binding new ports) happens before anything changes.
import net from 'node:net';
import type { ProxyConfig, ProxySettings } from '../src/proxy-config.js';
import { BatchedAccessLog } from './access-log.js';
import { CertificateCache, setTicketKeys } from './certificates.js';
import { HttpFront } from './http/front.js';
import { abandon, acceptConnection, closeLost, type AccessLogSink, type Connection, type ConnectionHost, type PortSlot } from './connection.js';
import type { Metrics } from './metrics.js';
import { describePortFailure, PortBindError, PortsUnavailableError, type PortFailure } from './port-failures.js';
import { compileConfigSteps, gatewayKey, type CertificateLoader, type CompiledConfig, type ListenerLoad } from './routing.js';
import { finish, inSlices, type Steps } from './time-slices.js';
import { proxyConfigChecks } from './validate.js';

export interface EngineOptions {
  address: string;
  portOffset: number;
  settings: ProxySettings | undefined;
  accessLog: AccessLogSink | null;
  metrics: Metrics;
  ticketKeys: Buffer;
  /** Logs operational events (bind errors, accept errors); never key material. */
  log?: (message: string) => void;
}

/**
 * How often the watchdog looks for connections whose sockets are all destroyed but whose
 * 'close' never came. Such a connection is ended at its second sighting, so a close that is
 * merely in flight (it takes one event-loop turn) is never mistaken for a lost one.
 */
export const WATCHDOG_INTERVAL_MS = 5_000;

/** After shutdown's grace period and forced close, how long 'close' events get before the rest are abandoned. */
const FORCED_CLOSE_WAIT_MS = 1_000;

export interface BoundPort {
  gateway: string;
  port: number;
  boundPort: number;
}

interface Listening {
  key: string;
  /** Position in the config's ports list (orders port-0 entries in boundPorts()). */
  index: number;
  slot: PortSlot;
  server: net.Server;
  boundPort: number;
}

/** Where a config port listens: the offset port, or an ephemeral one for port 0. */
export function slotKey(gateway: string, portIndex: number, port: number, portOffset: number): string {
  return port === 0 ? `${gateway}|${portIndex}|0` : String(port + portOffset);
}

/**
 * Everything that can reject a set of configs without touching sockets: structure, port
 * ownership across Gateways, and loading every certificate. Returns the compiled tables.
 */
export function prepareConfigs(
  configs: ProxyConfig[],
  portOffset: number,
  settings: ProxySettings | undefined,
  loadCertificate: CertificateLoader,
  loadFor: (gateway: string, listener: string | null) => ListenerLoad,
): Map<string, CompiledConfig> {
  return finish(prepareConfigSteps(configs, portOffset, settings, loadCertificate, loadFor));
}

/** prepareConfigs as steps: the engine runs them in slices between its connections' events. */
export function* prepareConfigSteps(
  configs: ProxyConfig[],
  portOffset: number,
  settings: ProxySettings | undefined,
  loadCertificate: CertificateLoader,
  loadFor: (gateway: string, listener: string | null) => ListenerLoad,
): Steps<Map<string, CompiledConfig>> {
  yield* proxyConfigChecks(configs);
  const owners = new Map<string, string>();
  for (const config of configs) {
    const gateway = gatewayKey(config);
    config.ports.forEach((port, i) => {
      const key = slotKey(gateway, i, port.port, portOffset);
      if (port.port !== 0 && port.port + portOffset > 65535) {
        throw new Error(`proxy config ${gateway}: ports[${i}].port: ${port.port} + port offset ${portOffset} exceeds 65535`);
      }
      const other = owners.get(key);
      if (other !== undefined && other !== gateway) {
        throw new Error(`proxy config ${gateway}: ports[${i}].port: ${port.port + portOffset} is also a port of Gateway ${other}`);
      }
      owners.set(key, gateway);
    });
  }
  const compiled = new Map<string, CompiledConfig>();
  for (const config of configs) compiled.set(gatewayKey(config), yield* compileConfigSteps(config, settings, loadCertificate, loadFor));
  return compiled;
}

export class ProxyEngine implements ConnectionHost {
  readonly metrics: Metrics;
  /** The configured sink, fed one write per event-loop turn (see BatchedAccessLog). */
  readonly accessLog: BatchedAccessLog | null;
  /** Serves HTTP and HTTPS listeners' connections once the accept path knows they speak HTTP. */
  readonly http: HttpFront;
  private readonly options: EngineOptions;
  private readonly listening = new Map<string, Listening>();
  private compiled = new Map<string, CompiledConfig>();
  private readonly loads = new Map<string, ListenerLoad>();
  private readonly connections = new Set<Connection>();
  private ticketKeys: Buffer;
  private readonly certificates = new CertificateCache(() => this.ticketKeys);
  private applyChain: Promise<void> = Promise.resolve();
  private stopping = false;
  private drained: (() => void) | null = null;
  /** Connections seen with every socket destroyed and no 'close' at the last watchdog run. */
  private closeLostOnce = new Set<Connection>();
  private readonly watchdog: NodeJS.Timeout;
  appliedOnce = false;

  constructor(options: EngineOptions) {
    this.options = options;
    this.metrics = options.metrics;
    this.accessLog = options.accessLog !== null ? new BatchedAccessLog(options.accessLog) : null;
    this.http = new HttpFront(this.metrics, this.accessLog);
    this.ticketKeys = options.ticketKeys;
    this.watchdog = setInterval(() => this.endLostConnections(), WATCHDOG_INTERVAL_MS).unref();
  }

  /**
   * Ends connections whose sockets are gone but which never heard their 'close' (a path that
   * destroyed a socket in a state where no close followed): without this, each would hold its
   * connection slot, its file descriptor count and its access-log line for ever.
   */
  endLostConnections(): number {
    const seen = new Set<Connection>();
    let ended = 0;
    for (const conn of this.connections) {
      if (!closeLost(conn)) continue;
      if (this.closeLostOnce.has(conn)) {
        this.log(`watchdog: ended a connection whose sockets were destroyed without a close (${conn.clientAddress || 'client address unknown'})`);
        abandon(conn, 'close_lost');
        ended++;
      } else {
        seen.add(conn);
      }
    }
    this.closeLostOnce = seen;
    return ended;
  }

  /** Open connections per Gateway, for the active-connections gauge. */
  *activeByGateway(): Iterable<[string, number]> {
    for (const [key, load] of this.loads) if (key.endsWith('|')) yield [key.slice(0, -1), load.active];
  }

  get activeConnections(): number {
    return this.connections.size;
  }

  appliedConfigs(): ProxyConfig[] {
    return [...this.compiled.values()].map((c) => c.config);
  }

  /**
   * Applies the complete set of configs. Serialised: a second apply waits for the first.
   * `ephemeralPorts` (cluster mode) maps a port-0 slot key to the port the primary chose,
   * so that every worker listens on the same one.
   */
  apply(configs: ProxyConfig[], ephemeralPorts?: Record<string, number>): Promise<void> {
    const run = this.applyChain.then(() => this.applyNow(configs, ephemeralPorts));
    this.applyChain = run.catch(() => undefined);
    return run;
  }

  private async applyNow(configs: ProxyConfig[], ephemeralPorts: Record<string, number> | undefined): Promise<void> {
    if (this.stopping) throw new Error('apply: the proxy is shutting down');
    const { portOffset } = this.options;
    this.certificates.begin();
    let compiled: Map<string, CompiledConfig>;
    try {
      // In slices: a big config compiles while the current tables keep serving, then swaps whole.
      compiled = await inSlices(prepareConfigSteps(configs, portOffset, this.options.settings, (c, w) => this.certificates.load(c, w), (g, l) => this.loadFor(g, l)));
      if (this.stopping) throw new Error('apply: the proxy is shutting down');
    } catch (err) {
      this.certificates.abort();
      throw err;
    }
    // Bind the new ports; when some cannot be bound, close what this apply opened and refuse
    // the whole set, naming every port that failed (not only the first), so that the caller
    // can leave exactly those listeners out and try again.
    const opened: Listening[] = [];
    const failures: PortFailure[] = [];
    try {
      for (const entry of compiled.values()) {
        for (let i = 0; i < entry.ports.length; i++) {
          const table = entry.ports[i]!;
          const key = slotKey(entry.gateway, i, table.port, portOffset);
          if (this.listening.has(key) || opened.some((o) => o.key === key)) continue;
          const listenPort = table.port === 0 ? (ephemeralPorts?.[key] ?? 0) : table.port + portOffset;
          try {
            opened.push(await this.listen(key, i, { table }, listenPort, entry.gateway));
          } catch (err) {
            if (!(err instanceof PortBindError)) throw err;
            failures.push(err.failure);
          }
        }
      }
      if (failures.length > 0) throw new PortsUnavailableError(failures);
    } catch (err) {
      this.certificates.abort();
      await Promise.all(opened.map((o) => closeServer(o.server)));
      throw err;
    }
    this.certificates.commit();
    // Commit: swap tables, then stop listening where no config wants a port any more.
    for (const o of opened) this.listening.set(o.key, o);
    const wanted = new Set<string>();
    for (const entry of compiled.values()) {
      entry.ports.forEach((table, i) => {
        const key = slotKey(entry.gateway, i, table.port, portOffset);
        wanted.add(key);
        const l = this.listening.get(key) as Listening;
        l.slot.table = table;
        l.index = i;
      });
    }
    for (const [key, l] of this.listening) {
      if (wanted.has(key)) continue;
      this.listening.delete(key);
      l.server.close(); // established connections are untouched; only accepting stops
    }
    const previous = this.compiled;
    this.compiled = compiled;
    this.appliedOnce = true;
    this.updateConfigMetrics(previous);
  }

  private loadFor(gateway: string, listener: string | null): ListenerLoad {
    const key = `${gateway}|${listener ?? ''}`;
    let load = this.loads.get(key);
    if (load === undefined) {
      load = { active: 0 };
      this.loads.set(key, load);
    }
    return load;
  }

  private listen(key: string, index: number, slot: PortSlot, port: number, gateway: string): Promise<Listening> {
    const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: false });
    const host = this;
    server.on('connection', (socket: net.Socket) => {
      if (host.stopping) {
        socket.destroy();
        return;
      }
      host.connections.add(acceptConnection(host, socket, slot));
    });
    return new Promise<Listening>((resolve, reject) => {
      const onListenError = (err: NodeJS.ErrnoException) => {
        const failure = { gateway, port: slot.table.port, address: this.options.address, listenPort: port, code: err.code ?? 'UNKNOWN' };
        const message = `proxy config ${gateway}: ports[${index}].port: ${describePortFailure(failure)}`;
        reject(new PortBindError({ ...failure, message }));
      };
      server.once('error', onListenError);
      server.listen({ host: this.options.address, port }, () => {
        server.removeListener('error', onListenError);
        // Accept errors (EMFILE and the like) must not crash the process.
        server.on('error', (err: NodeJS.ErrnoException) => this.log(`listener ${this.options.address}:${port}: ${err.code ?? err.message}`));
        const address = server.address() as net.AddressInfo;
        resolve({ key, index, slot, server, boundPort: address.port });
      });
    });
  }

  private updateConfigMetrics(previous: Map<string, CompiledConfig>): void {
    const { configInfo, configApplyTime, certificateExpiry } = this.metrics;
    const now = Date.now() / 1000;
    for (const [gateway, old] of previous) {
      const next = this.compiled.get(gateway);
      if (next === undefined || next.config.version !== old.config.version) configInfo.remove({ gateway, version: old.config.version });
      if (next === undefined) configApplyTime.remove({ gateway });
    }
    certificateExpiry.reset();
    for (const [gateway, entry] of this.compiled) {
      const old = previous.get(gateway);
      configInfo.set({ gateway, version: entry.config.version }, 1);
      if (old === undefined || old.config.version !== entry.config.version) configApplyTime.set({ gateway }, now);
      for (const { listener, cert } of entry.certificates) {
        certificateExpiry.set({ gateway, listener, secret: cert.secret }, cert.notAfterSeconds);
      }
    }
  }

  connectionClosed(conn: Connection): void {
    this.connections.delete(conn);
    if (this.drained !== null && this.connections.size === 0) this.drained();
  }

  boundPorts(): BoundPort[] {
    // In config order: by Gateway, then as listed in its ports (sorted by port).
    const all = [...this.listening.values()].sort((a, b) => a.slot.table.gateway.localeCompare(b.slot.table.gateway) || a.index - b.index);
    return all.map((l) => ({ gateway: l.slot.table.gateway, port: l.slot.table.port, boundPort: l.boundPort }));
  }

  /** Ready: a config applied and every port of it listening. */
  ready(): boolean {
    return this.notReadyReason() === null;
  }

  /** Why this engine is not ready, for /readyz; null when it is. */
  notReadyReason(): string | null {
    if (this.stopping) return 'draining: the proxy is shutting down';
    if (!this.appliedOnce) return 'no config applied yet';
    for (const l of this.listening.values()) {
      if (!l.server.listening) return `Gateway ${l.slot.table.gateway} port ${l.slot.table.port}: ${this.options.address}:${l.boundPort} is not bound`;
    }
    return null;
  }

  rotateTicketKeys(keys: Buffer): void {
    this.ticketKeys = keys;
    for (const cert of this.certificates.all()) setTicketKeys(cert, keys);
  }

  /** Stops accepting, lets connections finish for graceMs, then closes what is left. */
  async shutdown(graceMs: number): Promise<void> {
    this.stopping = true;
    await Promise.all([...this.listening.values()].map((l) => closeServer(l.server)));
    this.listening.clear();
    // Idle keep-alive connections would otherwise hold the drain for the whole grace period.
    this.http.drain();
    if (this.connections.size > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, graceMs);
        this.drained = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    if (this.connections.size > 0) {
      const left = new Promise<void>((resolve) => (this.drained = resolve));
      for (const conn of this.connections) {
        conn.front.destroy();
        conn.client.destroy();
        conn.upstream?.destroy();
      }
      await Promise.race([left, new Promise((resolve) => setTimeout(resolve, FORCED_CLOSE_WAIT_MS).unref())]);
    }
    // Whatever is still open did not close when destroyed: account for it and log it now, so
    // that shutdown ends on time and no line is lost.
    for (const conn of [...this.connections]) abandon(conn, 'shutdown');
    clearInterval(this.watchdog);
    this.http.close();
    // The last connections' lines, which would otherwise wait for the next turn (the
    // process may exit before it comes).
    this.accessLog?.flush();
  }

  private log(message: string): void {
    (this.options.log ?? ((m: string) => process.stderr.write(`tlsgate proxy: ${m}\n`)))(message);
  }
}

/** Stops accepting. Does not wait for the server's connections (close()'s callback would). */
async function closeServer(server: net.Server): Promise<void> {
  if (server.listening) server.close();
}
