/**
 * The operator process: informers → coalesced reconcile → translate → sinks.
 *
 * Every replica watches, translates and publishes proxy configs on its own config server,
 * so a proxy can be served by any replica. Only the Lease holder writes statuses and
 * infrastructure and maintains the CA. The leader also labels its own pod so that the
 * config-server Service routes proxies to it: the leader then sees every proxy's ACK or
 * NACK, which is what its Programmed conditions must report.
 */
import * as k8s from '@kubernetes/client-node';
import { translate, CONTROLLER_NAME, type TranslateOutput } from '../src/gatewayapi/translate.js';
import type { ProxyConfig } from '../src/proxy-config.js';
import { ConfigServer, type GatewayDeliveryStatus } from './config-server.js';
import { Coalescer } from './coalescer.js';
import { CA_SECRET_NAME, CaSecretStore, clientSecretData, needsRenewal, serverCertificate, trustBundlePem, type AuthorityState, type SecretLike } from './credentials.js';
import { EventRecorder, planEvents } from './events.js';
import { InfraClient, type AppliableObject, type InfraKind } from './infra/apply.js';
import { proxyNames } from './infra/names.js';
import { effectiveParameters, referencedParameters, type GatewayParametersObject } from './infra/parameters.js';
import { listenerPorts, PROXY_ADMIN_PORT, renderClientCertSecret, renderProxyInfrastructure } from './infra/render.js';
import { InfrastructureSync, type GatewayInfrastructure } from './infra/sync.js';
import { LeaderElector } from './leader.js';
import { retryWhile, stepDown } from './step-down.js';
import type { GatewayClassObject, GatewayObject, KubeObject } from './objects.js';
import { objectKey } from './objects.js';
import { buildRuntime, buildSnapshot, type Stores } from './snapshot.js';
import type { Snapshot } from '../src/gatewayapi/translate.js';
import { awaitDelivery } from './ack-wait.js';
import { converge } from '../src/converge.js';
import { absorbDeliveryReports, adminPortConflicts, mergeUnavailable, PortAvailability, type PortAvailabilityChange } from './port-availability.js';
import { ResilientInformer } from './sources/informer.js';
import { Backoff } from './sources/backoff.js';
import { WriteRetry } from './write-retry.js';
import { ownedKinds, watchedKinds, type SnapshotField } from './sources/kinds.js';
import { jsonLogger, lineLogger, type Logger } from './log.js';
import { OperatorMetrics } from './metrics.js';
import type { RouteParentStatus, ObjectStatusWithConditions } from './status/merge.js';
import { StatusWriter, describe, type CachedStatuses } from './status/writer.js';
import { DEFAULT_TICKET_KEY_ROTATION_MS, msUntilNextPeriod, TICKET_KEYS_SECRET_NAME, TicketKeySecretStore, ticketKeyRing, translatedVersionOf, withTicketKeys } from './ticket-keys.js';

/** The pod label the config-server Service selects on (set on the leader's pod only). */
export const LEADER_LABEL = 'tlsgate.dev/config-server-leader';

/** Proxies answer in tens of milliseconds; one that has not within this is reported as Pending. */
const DEFAULT_ACK_GRACE_MS = 2000;

export interface OperatorOptions {
  kubeConfig: k8s.KubeConfig;
  /** The operator's own namespace: CA Secret and Lease live here. */
  namespace: string;
  /** Unique per replica (the pod name in a cluster). */
  identity: string;
  /** This replica's pod; when set, the leader labels it with LEADER_LABEL. */
  podName?: string;
  controllerName?: string;
  proxyImage: string;
  proxyImagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  configServer: {
    host: string;
    port: number;
    /** The wss:// URL proxies dial (written into every proxy Deployment). */
    advertisedUrl: string;
    /** SANs of the server certificate: the names and IPs in advertisedUrl and any others. */
    dnsNames: string[];
    ipAddresses: string[];
  };
  lease: { name: string; durationSeconds: number; renewDeadlineSeconds: number; retryPeriodSeconds: number };
  debounceMs?: number;
  /** Backoff for trying again a listener port the proxies could not bind (default 1 min doubling to 10 min). */
  portRetry?: { initialRetryMs?: number; maxRetryMs?: number };
  /** How long a reconcile waits for proxies to acknowledge a new config before writing statuses. */
  ackGraceMs?: number;
  maxDebounceMs?: number;
  resyncMs?: number;
  /** Session-ticket keys of every Gateway change this often (ticket-keys.ts); default 1 hour. */
  ticketKeyRotationMs?: number;
  /** Where the operator logs (default: JSON lines on stderr at info, see log.ts). */
  logger?: Logger;
  /** Plain lines instead of `logger` (tests search them); every level. */
  log?: (message: string) => void;
  /** The metrics to record into (default: a registry of its own). */
  metrics?: OperatorMetrics;
  /** Backoff of a reconcile whose writes failed (default 1 s doubling to 5 min, with jitter). */
  writeRetry?: { initialMs?: number; maxMs?: number };
}

/** A snapshot field and the informer filling it (Secrets have two: see sources/kinds.ts). */
interface SnapshotInformer {
  field: SnapshotField;
  informer: ResilientInformer;
}

export class Operator {
  readonly controllerName: string;
  private readonly logger: Logger;
  readonly metrics: OperatorMetrics;
  private readonly informers: SnapshotInformer[];
  /** Label-selected watches of the proxy objects we own, for drift (infra/sync.ts). */
  private readonly ownedInformers: ResilientInformer[];
  /** Reconciles again, with backoff, after writes failed (write-retry.ts). */
  private readonly writeRetry: WriteRetry;
  private readonly coalescer: Coalescer;
  private readonly elector: LeaderElector;
  private readonly statusWriter: StatusWriter;
  private readonly events: EventRecorder;
  private readonly infra: InfrastructureSync;
  private readonly caStore: CaSecretStore;
  private readonly ticketKeyStore: TicketKeySecretStore;
  private ticketMaster: Buffer | undefined;
  private ticketKeyTimer: NodeJS.Timeout | undefined;
  private readonly core: k8s.CoreV1Api;
  private server: ConfigServer | undefined;
  private caState: AuthorityState | undefined;
  private serverCertificatePem: string | undefined;
  private published = new Set<string>();
  private fullSyncDue = true;
  private resyncTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** Counts leadership changes, so a loop started for one term ends when it is over. */
  private leadershipTerm = 0;
  private labelWrites: Promise<unknown> = Promise.resolve();
  private reconciles = 0;
  /** Listener ports the proxies could not bind, learned from their NACKs (port-availability.ts). */
  private readonly unavailablePorts: PortAvailability;
  private portRetryTimer: NodeJS.Timeout | undefined;
  /** The last translate output (for tests and debugging). */
  lastOutput: TranslateOutput | undefined;

  constructor(private readonly options: OperatorOptions) {
    this.controllerName = options.controllerName ?? CONTROLLER_NAME;
    this.logger = options.logger ?? (options.log ? lineLogger(options.log) : defaultLogger());
    const logger = this.logger;
    const at = (level: 'info' | 'warn', component: string) => {
      const child = logger.child({ component });
      return (message: string) => child[level](message);
    };
    this.metrics = options.metrics ?? new OperatorMetrics();
    const metrics = this.metrics;
    const resyncMs = options.resyncMs ?? 5 * 60_000;
    this.coalescer = new Coalescer(() => this.reconcile(), {
      delayMs: options.debounceMs ?? 75,
      maxDelayMs: options.maxDebounceMs ?? 1000,
      onError: (err) => logger.error(`reconcile failed: ${describe(err)}`, { component: 'reconcile' }),
      onStart: (waitedMs) => metrics.debounceDelay.observe(waitedMs / 1000),
    });
    this.informers = watchedKinds(options.kubeConfig).map((kind) => ({
      field: kind.field,
      informer: new ResilientInformer(options.kubeConfig, kind, {
        resyncMs,
        log: at('warn', 'informer'),
        onChange: () => this.coalescer.trigger(),
        onRestart: (reason) => metrics.watchRestarts.inc({ kind: kind.kind, reason }),
      }),
    }));
    this.ownedInformers = ownedKinds(options.kubeConfig).map(
      (kind) =>
        new ResilientInformer(options.kubeConfig, kind, {
          resyncMs,
          log: at('warn', 'informer'),
          // Changes that are not drift need no reconcile: the snapshot's informers cover those.
          onChange: () => undefined,
          onRestart: (reason) => metrics.watchRestarts.inc({ kind: `owned ${kind.kind}`, reason }),
          onObject: (event, object, previous) => this.noticeOwnedChange(kind.infraKind, event, object, previous),
        }),
    );
    this.writeRetry = new WriteRetry({
      trigger: () => this.coalescer.trigger(),
      onRetry: (failed, delayMs) => {
        metrics.writeRetries.inc({ operation: 'reconcile' });
        const named = failed.slice(0, 5).join(', ') + (failed.length > 5 ? `, and ${failed.length - 5} more` : '');
        logger.warn(`writes failed (${named}); reconciling again in ${delayMs} ms`, { component: 'reconcile' });
      },
      backoff: new Backoff(options.writeRetry?.initialMs ?? 1000, options.writeRetry?.maxMs ?? 5 * 60_000),
    });
    this.elector = new LeaderElector(options.kubeConfig, {
      namespace: options.namespace,
      name: options.lease.name,
      identity: options.identity,
      leaseDurationSeconds: options.lease.durationSeconds,
      renewDeadlineSeconds: options.lease.renewDeadlineSeconds,
      retryPeriodSeconds: options.lease.retryPeriodSeconds,
      log: at('info', 'leader'),
    });
    this.unavailablePorts = new PortAvailability(options.portRetry);
    this.statusWriter = new StatusWriter(options.kubeConfig, {
      controllerName: this.controllerName,
      log: at('warn', 'status'),
      record: (kind, result) => metrics.statusWrites.inc({ kind, result }),
    });
    this.events = new EventRecorder(options.kubeConfig, this.controllerName, options.identity, at('warn', 'events'));
    this.infra = new InfrastructureSync(new InfraClient(options.kubeConfig), at('info', 'infrastructure'), {
      applied: (kind, result) => metrics.infrastructureApplies.inc({ kind, result }),
      deleted: (kind, result) => metrics.infrastructureDeletes.inc({ kind, result }),
    });
    this.caStore = new CaSecretStore(options.kubeConfig, options.namespace, at('info', 'ca'));
    this.ticketKeyStore = new TicketKeySecretStore(options.kubeConfig, options.namespace, at('info', 'ticket-keys'));
    this.core = options.kubeConfig.makeApiClient(k8s.CoreV1Api);
    metrics.observe({
      leader: () => this.elector.isLeader,
      queueDepth: () => this.coalescer.depth,
      connectedProxies: () => {
        const counts = new Map<string, number>();
        for (const proxy of this.server?.proxies() ?? []) counts.set(proxy.gateway, (counts.get(proxy.gateway) ?? 0) + 1);
        return counts;
      },
      watchedObjects: () => {
        const counts = new Map<string, number>();
        for (const { informer } of this.informers) counts.set(informer.kind, (counts.get(informer.kind) ?? 0) + informer.size);
        for (const informer of this.ownedInformers) counts.set(`owned ${informer.kind}`, informer.size);
        return counts;
      },
    });
  }

  /** Info-level lines of the operator itself. */
  private log(message: string): void {
    this.logger.info(message, { component: 'operator' });
  }

  private warn(message: string): void {
    this.logger.warn(message, { component: 'operator' });
  }

  /** An owned proxy object changed: when someone else undid what we applied, apply it again now. */
  private noticeOwnedChange(kind: InfraKind, event: 'upsert' | 'delete', object: KubeObject, previous: KubeObject | undefined): void {
    if (!this.elector.isLeader) return;
    const drift = this.infra.noticeChange(kind, event, object, previous);
    if (!drift) return;
    this.metrics.driftRepairs.inc({ kind });
    this.logger.warn(`${drift.id.kind} ${drift.id.namespace}/${drift.id.name} of Gateway ${drift.gateway} was ${drift.what} by someone else; applying it again`, {
      component: 'infrastructure',
    });
    this.coalescer.trigger();
  }

  get isLeader(): boolean {
    return this.elector.isLeader;
  }

  get configServerPort(): number | undefined {
    return this.server?.port;
  }

  get reconcileCount(): number {
    return this.reconciles;
  }

  /** True once every informer has listed (the readiness of the operator). */
  get synced(): boolean {
    return this.informers.every(({ informer }) => informer.synced) && this.ownedInformers.every((informer) => informer.synced);
  }

  async start(): Promise<void> {
    this.caState = await this.caStore.loadOrCreate(new Date());
    this.ticketMaster = await this.ticketKeyStore.loadOrCreate();
    this.scheduleTicketKeyRotation();
    this.server = await this.startConfigServer();
    this.elector.on('started-leading', () => {
      this.fullSyncDue = true;
      this.infra.reset();
      const term = ++this.leadershipTerm;
      void retryWhile(() => this.labelOwnPod(true), () => !this.stopped && this.elector.isLeader && term === this.leadershipTerm);
      this.coalescer.trigger();
    });
    this.elector.on('stopped-leading', () => {
      this.infra.reset();
      this.follow();
    });
    // A restarted container of a former leader's pod may still carry the label.
    this.follow();
    await Promise.all([...this.informers.map(({ informer }) => informer.start()), ...this.ownedInformers.map((informer) => informer.start())]);
    this.elector.start();
    const resyncMs = this.options.resyncMs ?? 5 * 60_000;
    this.resyncTimer = setInterval(() => {
      this.fullSyncDue = true;
      this.coalescer.trigger();
    }, resyncMs);
    this.resyncTimer.unref?.();
    this.coalescer.trigger();
  }

  /** Stops everything. `releaseLease: false` leaves the Lease to expire, as a crash would. */
  async stop(options: { releaseLease?: boolean } = {}): Promise<void> {
    this.stopped = true;
    clearInterval(this.resyncTimer);
    clearTimeout(this.portRetryTimer);
    clearTimeout(this.ticketKeyTimer);
    this.writeRetry.stop();
    this.coalescer.stop();
    for (const { informer } of this.informers) informer.stop();
    for (const informer of this.ownedInformers) informer.stop();
    if (this.elector.isLeader && options.releaseLease !== false) await this.labelOwnPod(false);
    await this.elector.stop({ release: options.releaseLease });
    await this.coalescer.idle();
    await this.server?.close();
  }

  /** Resolves when no reconcile is pending or running (for tests and graceful shutdown). */
  idle(): Promise<void> {
    return this.coalescer.idle();
  }

  /** A reconcile at each period boundary publishes every Gateway's next ring (a new config version). */
  private scheduleTicketKeyRotation(): void {
    if (this.stopped) return;
    const periodMs = this.options.ticketKeyRotationMs ?? DEFAULT_TICKET_KEY_ROTATION_MS;
    // A little after the boundary, so the reconcile's clock is surely in the new period.
    this.ticketKeyTimer = setTimeout(() => {
      this.coalescer.trigger();
      this.scheduleTicketKeyRotation();
    }, msUntilNextPeriod(Date.now(), periodMs) + 50);
    this.ticketKeyTimer.unref?.();
  }

  /** Asks for a reconcile now (coalesced with any pending one). */
  trigger(): void {
    this.coalescer.trigger();
  }

  private async startConfigServer(): Promise<ConfigServer> {
    const tls = this.serverTls(this.caState!);
    const server = await ConfigServer.start({
      host: this.options.configServer.host,
      port: this.options.configServer.port,
      tls,
      log: (event, fields) => {
        const level = QUIET_DELIVERY_EVENTS.has(event) ? 'debug' : WARN_DELIVERY_EVENTS.has(event) ? 'warn' : 'info';
        this.logger[level](`config-server ${event}`, { component: 'config-server', ...fields });
      },
      observer: {
        published: (gateway) => this.metrics.configPushes.inc({ gateway }),
        answered: (gateway, result, seconds) => this.metrics.configAnswerLatency.observe({ gateway, result }, seconds),
      },
    });
    server.on('status', () => this.coalescer.trigger());
    return server;
  }

  /** While this replica follows: no leader label on its pod, no proxies connected to it (see step-down.ts). */
  private follow(): void {
    if (!this.options.podName) return; // not in a pod: no Service routes proxies by label
    const term = ++this.leadershipTerm;
    stepDown({
      removeLeaderLabel: () => this.labelOwnPod(false),
      proxiesConnected: () => (this.server?.proxies().length ?? 0) > 0,
      handOverProxies: () => this.restartConfigServer(),
      stillFollowing: () => !this.stopped && !this.elector.isLeader && term === this.leadershipTerm,
    }).catch((err: unknown) => this.warn(`handing proxies over to the leader failed: ${describe(err)}`));
  }

  /** Proxies connected to a former leader must reconnect (through the Service) to the new one. */
  private async restartConfigServer(): Promise<void> {
    if (!this.options.podName || this.stopped || !this.server) return;
    const old = this.server;
    await old.close();
    if (this.stopped) return;
    this.server = await this.startConfigServer();
    this.published.clear();
    this.coalescer.trigger();
  }

  private serverTls(state: AuthorityState): { certificatePem: string; privateKeyPem: string; trustBundlePem: string } {
    const issued = serverCertificate(state, this.options.configServer.dnsNames, this.options.configServer.ipAddresses, new Date());
    this.serverCertificatePem = issued.certificatePem;
    return { certificatePem: issued.certificatePem, privateKeyPem: issued.privateKeyPem, trustBundlePem: trustBundlePem(state) };
  }

  /**
   * Sets or removes LEADER_LABEL on our pod; false when that failed (logged). Writes are
   * queued, so they reach the API server in the order leadership changed.
   */
  private labelOwnPod(leader: boolean): Promise<boolean> {
    const write = this.labelWrites.then(() => this.patchLeaderLabel(leader));
    this.labelWrites = write;
    return write;
  }

  private async patchLeaderLabel(leader: boolean): Promise<boolean> {
    if (!this.options.podName) return true;
    try {
      await this.core.patchNamespacedPod(
        { name: this.options.podName, namespace: this.options.namespace, body: { metadata: { labels: { [LEADER_LABEL]: leader ? 'true' : null } } } },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
      );
      return true;
    } catch (err) {
      this.warn(`label pod ${this.options.namespace}/${this.options.podName}: ${describe(err)}`);
      return false;
    }
  }

  private stores(): Stores {
    const stores = {} as Stores;
    for (const { field, informer } of this.informers) {
      const items = informer.list();
      stores[field] = stores[field] ? mergeByKey(stores[field], items) : items;
    }
    return stores;
  }

  private async reconcile(): Promise<void> {
    if (this.stopped || !this.synced) return;
    this.reconciles++;
    const end = this.metrics.reconcileDuration.startTimer();
    try {
      const failedWrites = await this.reconcileOnce();
      this.metrics.reconciles.inc({ result: 'success' });
      this.writeRetry.settled(failedWrites);
    } catch (err) {
      this.metrics.reconciles.inc({ result: 'error' });
      this.writeRetry.settled(['the reconcile itself']);
      throw err;
    } finally {
      end();
    }
  }

  /** One reconcile; returns what it failed to write (the leader's writes only). */
  private async reconcileOnce(): Promise<string[]> {
    const full = this.fullSyncDue;
    this.fullSyncDue = false;
    const stores = this.stores();
    const snapshot = buildSnapshot(stores);
    // Conditions carry whole seconds on the wire; translating with whole seconds keeps equal equal.
    const now = new Date(Math.floor(Date.now() / 1000) * 1000);
    this.refreshCredentials(stores.secrets as SecretLike[], now);

    this.ticketMaster = this.ticketKeyStore.masterFrom(findSecret(stores, this.options.namespace, TICKET_KEYS_SECRET_NAME)) ?? this.ticketMaster;

    const delivery = (key: string) => this.deliveryStatus(key);
    const runtime = buildRuntime(snapshot, delivery);
    this.absorbPortReports(snapshot);
    const gateways = stores.gateways as GatewayObject[];
    const graceMs = this.options.ackGraceMs ?? DEFAULT_ACK_GRACE_MS;
    // Read before the first publish, with nothing awaited in between: only the leader writes
    // statuses, so only it waits for the proxies' answers and translates with them.
    const leading = this.elector.isLeader;
    let answered = false;
    const output = await converge({
      // A NACK naming ports it cannot bind: publish those Gateways without the listeners on them
      // at once and wait for that, so the status written shows PortUnavailable, not a refusal.
      // A NACK of that reduced config is left to the next reconcile (learned at its start).
      maxReplans: 1,
      unavailablePorts: () => this.unavailablePortsInput(snapshot),
      plan: (unavailablePorts) => this.translateTimed({ snapshot, now, controllerName: this.controllerName, runtime, unavailablePorts }),
      deliver: async (planned, { replanAllowed }) => {
        const changed = this.publish(this.withTicketKeys(planned.proxyConfigs, gateways));
        this.schedulePortRetry();
        // Give the connected proxies a moment to acknowledge the versions just published, so that
        // a route change does not flap the Gateway through Programmed=False (see ack-wait.ts).
        // Only new versions: a proxy that never answers delays one reconcile, not every one.
        if (!leading || !this.server || changed.length === 0) return { learnedUnavailablePorts: false };
        await awaitDelivery(this.server, changed, graceMs);
        answered = true;
        return { learnedUnavailablePorts: replanAllowed && this.absorbPortReports(snapshot).length > 0 };
      },
      settle: ({ plan, unavailablePorts }) =>
        answered ? this.translateTimed({ snapshot, now, controllerName: this.controllerName, runtime: buildRuntime(snapshot, delivery), unavailablePorts }) : plan,
    });
    this.lastOutput = output;
    if (!leading) return [];
    if (full) await this.maintainCa(stores.secrets as SecretLike[], now);
    const desired = this.desiredInfrastructure(output.proxyConfigs, stores, now);
    const infra = await this.infra.sync(desired, full);
    const statuses = await this.statusWriter.writeAll(output, cachedStatuses(stores));
    await this.events.record(planEvents(statuses.changes, this.controllerName));
    return [...infra.failedGateways.map((g) => `infrastructure of Gateway ${g}`), ...statuses.failed.map((what) => `status of ${what}`)];
  }

  private translateTimed(input: Parameters<typeof translate>[0]): TranslateOutput {
    const end = this.metrics.translateDuration.startTimer();
    try {
      return translate(input);
    } finally {
      end();
    }
  }

  /** Learns port failures from the proxies' NACKs (and forgets them when a retry is ACKed); logs what changed. */
  private absorbPortReports(snapshot: Snapshot): PortAvailabilityChange[] {
    const generations = new Map(snapshot.gateways.map((g) => [objectKey(g.metadata.namespace, g.metadata.name), g.metadata.generation ?? 0]));
    const changes = absorbDeliveryReports(this.unavailablePorts, generations, (key) => this.server?.status(key), Date.now());
    for (const change of changes) {
      this.log(
        change.kind === 'unavailable'
          ? `Gateway ${change.gateway}: the proxies cannot bind port(s) ${change.ports.join(', ')} (${change.detail}); serving the Gateway without the listeners on them`
          : `Gateway ${change.gateway}: port(s) ${change.ports.join(', ')} are served again (${change.detail})`,
      );
    }
    return changes;
  }

  /** translate's unavailablePorts: what the proxies reported, and listeners on the proxy's admin port. */
  private unavailablePortsInput(snapshot: Snapshot): Record<string, Record<number, string>> {
    return mergeUnavailable(this.unavailablePorts.input(Date.now()), adminPortConflicts(snapshot.gateways, PROXY_ADMIN_PORT, snapshot.listenerSets ?? []));
  }

  /** A reconcile when the next unavailable port is due to be tried again. */
  private schedulePortRetry(): void {
    clearTimeout(this.portRetryTimer);
    const next = this.unavailablePorts.nextRetryAt();
    if (next === undefined || this.stopped) return;
    this.portRetryTimer = setTimeout(() => this.coalescer.trigger(), Math.max(0, next - Date.now()));
    this.portRetryTimer.unref?.();
  }

  /** The configs with their Gateway's current ticket-key ring (translate knows no clock and no secret). */
  private withTicketKeys(configs: ProxyConfig[], gateways: GatewayObject[]): ProxyConfig[] {
    const master = this.ticketMaster;
    if (!master) return configs;
    const uids = new Map(gateways.map((g) => [objectKey(g.metadata?.namespace, g.metadata?.name), g.metadata?.uid]));
    const periodMs = this.options.ticketKeyRotationMs ?? DEFAULT_TICKET_KEY_ROTATION_MS;
    const nowMs = Date.now();
    return configs.map((config) => {
      const uid = uids.get(objectKey(config.gateway.namespace, config.gateway.name));
      if (!uid) return config; // not from the API server: the proxies keep their own keys
      return withTicketKeys(config, ticketKeyRing(master, uid, nowMs, periodMs));
    });
  }

  /**
   * The config server's status with the ACKed version told as translate's version, which the
   * Programmed condition compares with. A proxy that ACKed the same routes under the previous
   * ring serves the Gateway's current routes (its next ACK is for the new ring).
   */
  private deliveryStatus(key: string): GatewayDeliveryStatus | undefined {
    const status = this.server?.status(key);
    return status?.ackedVersion === undefined ? status : { ...status, ackedVersion: translatedVersionOf(status.ackedVersion) };
  }

  /** Publishes every config; returns the Gateways whose version changed. */
  private publish(configs: ProxyConfig[]): string[] {
    if (!this.server) return [];
    const current = new Set<string>();
    const changed: string[] = [];
    for (const config of configs) {
      const key = objectKey(config.gateway.namespace, config.gateway.name);
      current.add(key);
      if (this.server.status(key).currentVersion !== config.version) changed.push(key);
      this.server.publish(config);
    }
    for (const key of this.published) {
      if (current.has(key)) continue;
      this.server.withdraw(key);
      this.metrics.forgetGateway(key);
    }
    this.published = current;
    return changed;
  }

  /** Follow the CA Secret (the leader may have rotated it) and renew our server certificate. */
  private refreshCredentials(secrets: SecretLike[], now: Date): void {
    const caSecret = secrets.find((s) => s.metadata?.namespace === this.options.namespace && s.metadata?.name === CA_SECRET_NAME);
    const state = this.caStore.stateFrom(caSecret) ?? this.caState;
    if (!state || !this.server) return;
    const bundleChanged = !this.caState || trustBundlePem(state) !== trustBundlePem(this.caState);
    this.caState = state;
    const renew = !this.serverCertificatePem || needsRenewal(this.serverCertificatePem, state, now) !== null;
    if (bundleChanged || renew) this.server.updateTls(this.serverTls(state));
  }

  private async maintainCa(secrets: SecretLike[], now: Date): Promise<void> {
    const caSecret = secrets.find((s) => s.metadata?.namespace === this.options.namespace && s.metadata?.name === CA_SECRET_NAME);
    if (!caSecret) return;
    const liveLeaves = secrets
      .filter((s) => s.metadata?.labels?.['app.kubernetes.io/component'] === 'proxy-credentials' && s.data?.['tls.crt'])
      .map((s) => Buffer.from(s.data!['tls.crt']!, 'base64').toString('utf8'));
    if (this.serverCertificatePem) liveLeaves.push(this.serverCertificatePem);
    try {
      await this.caStore.maintain(caSecret, now, liveLeaves);
    } catch (err) {
      this.warn(`CA maintenance: ${describe(err)}`);
    }
  }

  /**
   * Rendered infrastructure for every Gateway that has a proxy config (the ones we serve, and
   * those whose every listener's port is unavailable: their proxies stay, see translate).
   */
  private desiredInfrastructure(configs: ProxyConfig[], stores: Stores, now: Date): GatewayInfrastructure[] {
    const gateways = new Map((stores.gateways as GatewayObject[]).map((g) => [objectKey(g.metadata?.namespace, g.metadata?.name), g]));
    const classes = new Map((stores.gatewayClasses as GatewayClassObject[]).map((c) => [c.metadata?.name ?? '', c]));
    const secrets = new Map((stores.secrets as SecretLike[]).map((s) => [objectKey(s.metadata?.namespace, s.metadata?.name), s]));
    const result: GatewayInfrastructure[] = [];
    for (const config of configs) {
      const key = objectKey(config.gateway.namespace, config.gateway.name);
      const gateway = gateways.get(key);
      if (!gateway || !this.caState) continue;
      // Every listener on the proxy's own admin port: no port a proxy could ever serve or a
      // Service expose (a Service needs one), and no retry would change that; no proxy is run.
      // Any other unavailable port keeps its proxies, so that it is tried again on them.
      if (listenerPorts(gateway).length === 0) continue;
      try {
        const params = referencedParameters(gateway, classes.get(gateway.spec.gatewayClassName), stores.gatewayParameters as GatewayParametersObject[]);
        const objects: AppliableObject[] = renderProxyInfrastructure({
          gateway: withListenerSetPorts(gateway, config),
          parameters: effectiveParameters(params.fromClass, params.fromGateway),
          image: this.options.proxyImage,
          imagePullPolicy: this.options.proxyImagePullPolicy,
          configServerUrl: this.options.configServer.advertisedUrl,
        });
        const secretKey = objectKey(config.gateway.namespace, proxyNames(config.gateway.name).clientCertSecret);
        const credentials = clientSecretData(secrets.get(secretKey), config.gateway, this.caState, now);
        if (credentials.reissued) this.log(`issuing a client certificate for Gateway ${key} (${credentials.reissued})`);
        objects.unshift(renderClientCertSecret(gateway, credentials.data));
        result.push({ gateway: key, objects });
      } catch (err) {
        this.warn(`render infrastructure of Gateway ${key}: ${(err as Error).message}`);
      }
    }
    return result;
  }
}

/**
 * The Gateway as its proxy Service sees it: attached ListenerSets' listeners share the Gateway's
 * proxy (translate merged them into its config), so their ports must be Service ports too.
 */
function withListenerSetPorts(gateway: GatewayObject, config: ProxyConfig): GatewayObject {
  const own = new Set(gateway.spec.listeners.map((l) => l.port));
  const extra = config.ports.map((p) => p.port).filter((port) => !own.has(port));
  if (extra.length === 0) return gateway;
  const listeners = [...gateway.spec.listeners, ...extra.map((port) => ({ name: `listenerset-${port}`, port, protocol: 'TCP' }))];
  return { ...gateway, spec: { ...gateway.spec, listeners } };
}

function findSecret(stores: Stores, namespace: string, name: string): SecretLike | undefined {
  return (stores.secrets as SecretLike[]).find((s) => s.metadata?.namespace === namespace && s.metadata?.name === name);
}

function cachedStatuses(stores: Stores): CachedStatuses {
  const index = (items: KubeObject[]) => new Map(items.map((o) => [objectKey(o.metadata?.namespace, o.metadata?.name), o as KubeObject & { status?: unknown }]));
  const classes = index(stores.gatewayClasses);
  const gateways = index(stores.gateways);
  const listenerSets = index(stores.listenerSets ?? []);
  const routes = { TLSRoute: index(stores.tlsRoutes), HTTPRoute: index(stores.httpRoutes) };
  return {
    gatewayClass: (name) => classes.get(objectKey(undefined, name))?.status as ObjectStatusWithConditions | undefined,
    gateway: (namespace, name) => gateways.get(objectKey(namespace, name))?.status as ObjectStatusWithConditions | undefined,
    listenerSet: (namespace, name) => listenerSets.get(objectKey(namespace, name))?.status as ObjectStatusWithConditions | undefined,
    routeParents: (kind, namespace, name) => (routes[kind].get(objectKey(namespace, name))?.status as { parents?: RouteParentStatus[] } | undefined)?.parents,
  };
}

/** Items of two informers of one kind, each object once (the newer copy wins). */
function mergeByKey(a: KubeObject[], b: KubeObject[]): KubeObject[] {
  const merged = new Map(a.map((o) => [objectKey(o.metadata?.namespace, o.metadata?.name), o]));
  for (const o of b) merged.set(objectKey(o.metadata?.namespace, o.metadata?.name), o);
  return [...merged.values()];
}

/** Config-server events that happen on every change: debug, so info stays readable. */
const QUIET_DELIVERY_EVENTS = new Set(['config_published', 'config_acked']);
/** Config-server events that say something went wrong. */
const WARN_DELIVERY_EVENTS = new Set([
  'config_nacked',
  'handshake_refused',
  'client_error',
  'server_error',
  'upgrade_socket_error',
  'upgrade_refused',
  'proxy_socket_error',
  'send_failed',
  'proxy_message_refused',
  'proxy_dropped',
]);

function defaultLogger(): Logger {
  return jsonLogger('info');
}
