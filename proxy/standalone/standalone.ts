/**
 * Standalone mode: manifest files in, a running gateway out, no cluster.
 *
 * Each (re)load: read the manifests exactly as `tlsgate translate` does, translate once to get
 * the proxy configs, hand them to the proxy runtime, then translate again with what the
 * runtime actually applied, so that `Programmed` tells the truth (True only for a Gateway
 * whose exact config version is being served), and print the status tables. That
 * translate → apply → translate loop is src/converge.ts, which the operator runs too.
 *
 * A reload never makes things worse: a manifest that fails to load, or a config the runtime
 * refuses, leaves the last good config serving and is reported.
 *
 * A port that cannot be bound (another program holds it, no permission) does not stop the
 * rest: the runtime refuses the whole set and names the ports, translate is run again with
 * them as unavailable (those listeners get Accepted=False/PortUnavailable) and the rest is
 * applied. Unavailable ports are tried again on every reload and every `portRetryMs`.
 */
import { isIP } from 'node:net';
import type { ProxyConfig } from '../../src/proxy-config.js';
import { loadManifests } from '../../src/manifests/load.js';
import { CONTROLLER_NAME, translate, type GatewayRuntime, type Snapshot, type TranslateOutput } from '../../src/gatewayapi/translate.js';
import { parseHostPort } from '../admin.js';
import { describePortFailure, portFailuresOf } from '../port-failures.js';
import { startProxyRuntime, type ProxyRuntime } from '../runtime.js';
import { converge } from '../../src/converge.js';
import { claimPorts, type PortConflict } from './port-claims.js';
import { foreignGateways, renderStatusReport, type Problem } from './status-table.js';
import { watchManifestPaths, type ManifestWatcher } from './watcher.js';

/** Editors save in bursts of a few events within milliseconds; 100 ms is Istio's minimum batch too. */
export const DEFAULT_DEBOUNCE_MS = 100;
/** How often ports that could not be bound are tried again (besides on every reload). */
export const DEFAULT_PORT_RETRY_MS = 30_000;
/** Rounds of leaving out ports the runtime names before isolating the refused Gateways instead. */
const MAX_PORT_REPLANS = 8;
/** Gateway key → listener port → why it cannot be served. */
type UnavailablePorts = Map<string, Map<number, string>>;

export interface StandaloneOptions {
  /** Manifest files or directories. */
  paths: string[];
  /** Bind address for every listener, e.g. 127.0.0.1 (the default) or 0.0.0.0. */
  address: string;
  /** Added to every listener port (443 + 10000 = 10443), so low ports run unprivileged. */
  portOffset: number;
  adminAddress?: string;
  workers?: number;
  watch: boolean;
  /** Quiet period after the last file event before reloading. */
  debounceMs?: number;
  /** How often unavailable ports are tried again; default DEFAULT_PORT_RETRY_MS. */
  portRetryMs?: number;
  /** Status tables and "ready" lines. */
  out: (text: string) => void;
  /** Warnings and errors, one line each. */
  log: (line: string) => void;
  /** Access log stream for the runtime (JSON lines); null = none; undefined = runtime default. */
  accessLog?: NodeJS.WritableStream | null;
  controllerName?: string;
  /** A manifest file larger than this is refused, naming it (default DEFAULT_MAX_MANIFEST_FILE_BYTES of src/manifests/load.ts). */
  maxFileBytes?: number;
  /** Starts the runtime once the first load succeeded; default: startProxyRuntime in this thread. */
  startRuntime?: () => Promise<StandaloneRuntime>;
}

/**
 * What standalone needs of the proxy runtime: the runtime itself, or (when the manifests are
 * read and translated on their own thread, threaded.ts) its stand-in on that thread.
 */
export type StandaloneRuntime = Pick<ProxyRuntime, 'apply' | 'appliedVersions' | 'boundPorts' | 'adminPort' | 'shutdown'>;

export interface ReloadOutcome {
  /** false when the manifests could not be loaded (the previous config keeps serving). */
  loaded: boolean;
  /** false when nothing changed since the last reload (nothing applied, nothing printed). */
  changed: boolean;
  /** Gateway key → why the proxy refused its config (the others are served regardless). */
  applyErrors: Map<string, string>;
  conflicts: PortConflict[];
  problems: Problem[];
  output?: TranslateOutput;
}

export class StandaloneGateway {
  private portOwners = new Map<number, string>();
  /** What the runtime serves, per Gateway: the fallback when a Gateway's new config is refused. */
  private lastApplied = new Map<string, ProxyConfig>();
  private lastSnapshotJson: string | undefined;
  /** The manifests as last applied: a timed port retry without --watch must not pick up edits. */
  private lastSnapshot: Snapshot | undefined;
  private lastRefused = false;
  /** Ports the runtime could not bind at the last (re)load: their listeners are left out. */
  private unavailable: UnavailablePorts = new Map();
  /** What the last printed report was about, so a retry that changes nothing prints nothing. */
  private lastReportKey = '';
  private portRetry: NodeJS.Timeout | undefined;
  private watcher: ManifestWatcher | undefined;
  /** Reloads run one at a time; a change during a reload schedules exactly one more. */
  private reloading: Promise<ReloadOutcome> | undefined;
  private reloadAgain = false;
  private stopped = false;
  /** What the first load did (the command exits when nothing at all could be served). */
  firstOutcome: ReloadOutcome | undefined;

  private constructor(
    private readonly options: StandaloneOptions,
    readonly runtime: StandaloneRuntime,
  ) {}

  /** Loads, applies and prints once (throwing if the first load fails), then watches if asked. */
  static async start(options: StandaloneOptions): Promise<StandaloneGateway> {
    // Fail before binding anything when the manifests cannot be read at all.
    const first = await loadWithinLimits(options);
    const runtime = options.startRuntime ? await options.startRuntime() : await startProxyRuntime({
      address: options.address,
      portOffset: options.portOffset,
      ...(options.workers !== undefined ? { workers: options.workers } : {}),
      ...(options.adminAddress !== undefined ? { adminAddress: options.adminAddress } : {}),
      ...(options.accessLog !== undefined ? { accessLog: options.accessLog } : {}),
    });
    const gateway = new StandaloneGateway(options, runtime);
    try {
      gateway.firstOutcome = await gateway.applySnapshot(first.snapshot, first.warnings);
      if (options.watch) {
        gateway.watcher = watchManifestPaths(options.paths, {
          debounceMs: options.debounceMs ?? DEFAULT_DEBOUNCE_MS,
          onChange: () => void gateway.reload(),
          onError: (error) => options.log(`watch error: ${error.message}`),
        });
        // An edit made between the first load and the watch would go unseen; one more look
        // costs nothing when nothing changed.
        void gateway.reload({ retryRefused: false });
      }
      gateway.portRetry = setInterval(() => {
        if (gateway.retryingPorts) void gateway.reload({ retryRefused: false, retryPorts: true });
      }, options.portRetryMs ?? DEFAULT_PORT_RETRY_MS);
      gateway.holdWhileRetrying();
    } catch (error) {
      await runtime.shutdown(0);
      throw error;
    }
    return gateway;
  }

  /**
   * A port to try again keeps the process alive: when it was every port there is (a Gateway
   * whose only listener is unavailable) no socket does, and without --watch the process would
   * end before the retry. Otherwise the timer does not hold the process.
   */
  private holdWhileRetrying(): void {
    if (this.retryingPorts) this.portRetry?.ref();
    else this.portRetry?.unref();
  }

  /** True while some listener port could not be bound and is tried again (--port-retry). */
  get retryingPorts(): boolean {
    return this.unavailable.size > 0;
  }

  private get controllerName(): string {
    return this.options.controllerName ?? CONTROLLER_NAME;
  }

  /**
   * Re-reads the manifests and applies them; safe to call at any time, never rejects.
   * Unchanged manifests are a no-op, except that by default Gateways the proxy refused last
   * time are retried (what a user means by saving a file once a port is free again).
   */
  reload(options: { retryRefused?: boolean; retryPorts?: boolean } = {}): Promise<ReloadOutcome> {
    if (this.reloading) {
      this.reloadAgain = true;
      return this.reloading;
    }
    const run = async (): Promise<ReloadOutcome> => {
      let outcome: ReloadOutcome;
      let retryRefused = options.retryRefused ?? true;
      let retryPorts = options.retryPorts ?? retryRefused;
      do {
        this.reloadAgain = false;
        outcome = await this.reloadOnce(retryRefused, retryPorts);
        retryRefused = retryPorts = true; // a reload asked for meanwhile came from a file event
      } while (this.reloadAgain && !this.stopped);
      return outcome;
    };
    this.reloading = run().finally(() => {
      this.reloading = undefined;
    });
    return this.reloading;
  }

  private async reloadOnce(retryRefused: boolean, retryPorts: boolean): Promise<ReloadOutcome> {
    if (this.stopped) return { loaded: false, changed: false, applyErrors: new Map(), conflicts: [], problems: [] };
    let loaded;
    try {
      const timedRetry = retryPorts && !retryRefused;
      loaded = timedRetry && !this.options.watch && this.lastSnapshot ? { snapshot: this.lastSnapshot, warnings: [] } : await loadWithinLimits(this.options);
    } catch (error) {
      this.options.log(`reload failed, still serving the last good config: ${(error as Error).message}`);
      return { loaded: false, changed: false, applyErrors: new Map(), conflicts: [], problems: [] };
    }
    try {
      return await this.applySnapshot(loaded.snapshot, loaded.warnings, retryRefused, retryPorts);
    } catch (error) {
      // translate is pure and should not throw; if it does, keep serving and say why.
      this.options.log(`reload failed, still serving the last good config: ${(error as Error).message}`);
      return { loaded: true, changed: false, applyErrors: new Map(), conflicts: [], problems: [] };
    }
  }

  private async applySnapshot(snapshot: Snapshot, warnings: string[], retryRefused = false, retryPorts = false): Promise<ReloadOutcome> {
    const snapshotJson = JSON.stringify(snapshot);
    // Unchanged manifests: nothing to do, unless asked to retry what the proxy refused last
    // time or ports it could not bind (another program may have let go of them).
    const unchanged = snapshotJson === this.lastSnapshotJson;
    if (unchanged && !(retryRefused && this.lastRefused) && !(retryPorts && this.retryingPorts)) {
      return { loaded: true, changed: false, applyErrors: new Map(), conflicts: [], problems: [] };
    }
    this.lastSnapshotJson = snapshotJson;
    this.lastSnapshot = snapshot;
    if (!unchanged) for (const warning of warnings) this.options.log(`warning: ${warning}`);
    for (const gateway of unchanged ? [] : foreignGateways(snapshot, this.controllerName)) {
      this.options.log(
        `warning: Gateway ${gateway.metadata.namespace ?? 'default'}/${gateway.metadata.name} is ignored: ` +
          `no GatewayClass "${gateway.spec.gatewayClassName}" with controllerName ${this.controllerName} in the manifests`,
      );
    }

    const now = new Date();
    const address = { type: isIP(this.options.address) ? ('IPAddress' as const) : ('Hostname' as const), value: this.options.address };
    const gatewayKeys = snapshot.gateways.map((g) => `${g.metadata.namespace ?? 'default'}/${g.metadata.name}`);
    const plannedRuntime: Record<string, GatewayRuntime> = Object.fromEntries(gatewayKeys.map((k) => [k, { addresses: [address] }]));
    const adminPorts = this.adminPortConflicts(snapshot, gatewayKeys);

    // Every port is tried (again): the runtime refuses the set atomically and names the ports
    // it cannot bind; those listeners are left out and the rest applied. Each round removes
    // at least one port, so this ends; the bound is a guard against a runtime that keeps
    // naming ports it was not asked for.
    const learned: UnavailablePorts = new Map();
    const { claim, applyErrors, unavailablePorts, output } = await converge({
      maxReplans: MAX_PORT_REPLANS,
      unavailablePorts: () => unavailableInput(adminPorts, learned),
      plan: (unavailablePorts) => translate({ snapshot, now, controllerName: this.controllerName, runtime: plannedRuntime, unavailablePorts }),
      deliver: async (planned, { replanAllowed }) => {
        const claimed = claimPorts(planned.proxyConfigs, gatewayKeys, this.options.portOffset, this.options.address, this.portOwners);
        let failures: ReturnType<typeof portFailuresOf> = null;
        try {
          await this.runtime.apply(claimed.configs);
          this.lastApplied = new Map(claimed.configs.map((c) => [`${c.gateway.namespace}/${c.gateway.name}`, c]));
          return { learnedUnavailablePorts: false, claim: claimed, applyErrors: new Map<string, string>() };
        } catch (error) {
          failures = portFailuresOf(error);
        }
        const before = countPorts(learned);
        for (const failure of failures ?? []) {
          let ports = learned.get(failure.gateway);
          if (!ports) learned.set(failure.gateway, (ports = new Map()));
          ports.set(failure.port, describePortFailure(failure));
        }
        if (failures !== null && countPorts(learned) > before && replanAllowed) return { learnedUnavailablePorts: true, claim: claimed, applyErrors: new Map<string, string>() };
        // Refused for another reason: find the Gateways it refuses, one at a time.
        return { learnedUnavailablePorts: false, claim: claimed, applyErrors: await this.applyIsolated(claimed.configs) };
      },
      // Second pass: the statuses, now that we know what the runtime serves.
      settle: ({ delivery: { claim, applyErrors }, unavailablePorts }) => ({
        claim,
        applyErrors,
        unavailablePorts,
        output: translate({ snapshot, now, controllerName: this.controllerName, runtime: this.servedRuntime(gatewayKeys, address, claim.conflicts, applyErrors), unavailablePorts }),
      }),
    });
    for (const conflict of claim.conflicts) this.options.log(`error: ${conflict.message}`);
    this.reportPortChanges(snapshot, this.unavailable, learned);
    this.unavailable = learned;
    this.holdWhileRetrying();
    this.lastRefused = applyErrors.size > 0;
    // A claim only sticks when the Gateway really serves the port.
    const bound = new Set(this.runtime.boundPorts().map((p) => `${p.gateway}:${p.port + this.options.portOffset}`));
    this.portOwners = new Map([...claim.owners].filter(([port, gateway]) => bound.has(`${gateway}:${port}`)));
    for (const [gateway, error] of applyErrors) {
      this.options.log(`error: Gateway ${gateway}: the proxy refused its config, ${this.lastApplied.has(gateway) ? 'still serving its last good one' : 'not served'}: ${error}`);
    }

    // A timed retry that changed nothing (the port is still taken) prints nothing; a save does.
    const reportKey = JSON.stringify([unavailablePorts, [...applyErrors], claim.conflicts.map((c) => c.message)]);
    const quiet = unchanged && !retryRefused && reportKey === this.lastReportKey;
    this.lastReportKey = reportKey;
    if (quiet) return { loaded: true, changed: false, applyErrors, conflicts: claim.conflicts, problems: [], output };

    const report = renderStatusReport({ snapshot, output, controllerName: this.controllerName, servedOn: this.servedOn() });
    this.options.out(report.text);
    const served = this.runtime.boundPorts();
    this.options.out(
      `ready: serving ${new Set(served.map((p) => p.gateway)).size} Gateway(s), ${served.length} port(s) on ${this.options.address}` +
        (this.options.watch ? ', watching for changes' : '') +
        '\n',
    );
    return { loaded: true, changed: true, applyErrors, conflicts: claim.conflicts, problems: report.problems, output };
  }

  /** translate's runtime after applying: a Gateway's acknowledged version is the one the runtime serves. */
  private servedRuntime(gatewayKeys: string[], address: GatewayRuntime['addresses'][number], conflicts: PortConflict[], applyErrors: Map<string, string>): Record<string, GatewayRuntime> {
    const withheld = new Map<string, string[]>();
    for (const conflict of conflicts) withheld.set(conflict.gateway, [...(withheld.get(conflict.gateway) ?? []), conflict.message]);
    const runtimeInfo: Record<string, GatewayRuntime> = {};
    for (const key of gatewayKeys) {
      const info: GatewayRuntime = { addresses: [address] };
      const messages = [...(withheld.get(key) ?? [])];
      const applyError = applyErrors.get(key);
      if (applyError !== undefined) messages.push(`the proxy refused the config: ${applyError}`);
      const acknowledged = this.runtime.appliedVersions.get(key);
      // A Gateway served without some of its ports does not serve translate's config.
      if (!withheld.has(key) && acknowledged !== undefined) info.acknowledgedVersion = acknowledged;
      if (messages.length > 0) info.message = messages.join('; ');
      runtimeInfo[key] = info;
    }
    return runtimeInfo;
  }

  /**
   * runtime.apply is all-or-nothing; standalone wants one bad Gateway (a port another program
   * holds, a config the proxy refuses) not to stop the others. So when the whole set fails,
   * add the Gateways one at a time, keeping each refused one on its last good config if it
   * had one. Every apply is hitless, so the extra steps cost no connections.
   */
  private async applyIsolated(configs: ProxyConfig[]): Promise<Map<string, string>> {
    const keyOf = (c: ProxyConfig): string => `${c.gateway.namespace}/${c.gateway.name}`;
    const failures = new Map<string, string>();
    try {
      await this.runtime.apply(configs);
      this.lastApplied = new Map(configs.map((c) => [keyOf(c), c]));
      return failures;
    } catch {
      // Find out which Gateways the proxy refuses, below.
    }
    const accepted: ProxyConfig[] = [];
    for (const config of configs) {
      try {
        await this.runtime.apply([...accepted, config]);
        accepted.push(config);
        continue;
      } catch (error) {
        failures.set(keyOf(config), (error as Error).message);
      }
      const previous = this.lastApplied.get(keyOf(config));
      if (previous && previous.version !== config.version) {
        try {
          await this.runtime.apply([...accepted, previous]);
          accepted.push(previous);
        } catch {
          // Its last good config cannot be served either now (its port was taken meanwhile).
        }
      }
    }
    // The runtime serves the last set that applied; make that exactly `accepted`.
    try {
      await this.runtime.apply(accepted);
      this.lastApplied = new Map(accepted.map((c) => [keyOf(c), c]));
    } catch (error) {
      this.options.log(`error: the proxy refused a set of configs it accepted a moment ago: ${(error as Error).message}`);
    }
    return failures;
  }

  /**
   * Listener ports that are the admin server's own port on the same address: known up front,
   * so they are reported as PortUnavailable instead of being tried (and never retried).
   */
  private adminPortConflicts(snapshot: Snapshot, gatewayKeys: string[]): UnavailablePorts {
    const conflicts: UnavailablePorts = new Map();
    if (this.options.adminAddress === undefined) return conflicts;
    const admin = parseHostPort(this.options.adminAddress, '--admin-address');
    const wildcard = (host: string): boolean => host === '0.0.0.0' || host === '::';
    if (admin.port === 0 || !(admin.host === this.options.address || wildcard(admin.host) || wildcard(this.options.address))) return conflicts;
    snapshot.gateways.forEach((gateway, i) => {
      for (const listener of gateway.spec?.listeners ?? []) {
        if (typeof listener?.port !== 'number' || listener.port + this.options.portOffset !== admin.port) continue;
        const key = gatewayKeys[i]!;
        if (!conflicts.has(key)) conflicts.set(key, new Map());
        conflicts.get(key)!.set(listener.port, `${this.options.address}:${admin.port} is the admin address (--admin-address)`);
      }
    });
    return conflicts;
  }

  /** Says which ports became unavailable, and which are served again. */
  private reportPortChanges(snapshot: Snapshot, before: UnavailablePorts, after: UnavailablePorts): void {
    const listenersOf = (gateway: string) =>
      snapshot.gateways.find((g) => `${g.metadata.namespace ?? 'default'}/${g.metadata.name}` === gateway)?.spec?.listeners ?? [];
    const listenersOn = (gateway: string, port: number): string => {
      const names = listenersOf(gateway).filter((l) => l?.port === port).map((l) => l.name);
      return names.length > 0 ? names.join(', ') : '(none)';
    };
    const every = this.options.portRetryMs ?? DEFAULT_PORT_RETRY_MS;
    for (const [gateway, ports] of after) {
      const nothingElse = listenersOf(gateway).every((l) => ports.has(l?.port));
      for (const [port, reason] of ports) {
        if (before.get(gateway)?.get(port) === reason) continue;
        this.options.log(
          `error: Gateway ${gateway}: listener(s) ${listenersOn(gateway, port)} on port ${port}: ${reason}; PortUnavailable, ` +
            `${nothingElse ? 'no other listener of the Gateway to serve' : 'the rest of the Gateway is served'}; ` +
            `trying again every ${Math.round(every / 1000)}s${this.options.watch ? ' and on every change' : ''}`,
        );
      }
    }
    for (const [gateway, ports] of before) {
      for (const port of ports.keys()) {
        if (after.get(gateway)?.has(port)) continue;
        const stillWanted = listenersOf(gateway).some((l) => l?.port === port);
        if (stillWanted) this.options.log(`Gateway ${gateway}: port ${port} is available now; listener(s) ${listenersOn(gateway, port)} served`);
      }
    }
  }

  /** `namespace/name:listenerPort` → `address:boundPort`, from the runtime's own account. */
  private servedOn(): Map<string, string> {
    const host = this.options.address.includes(':') ? `[${this.options.address}]` : this.options.address;
    return new Map(this.runtime.boundPorts().map((p) => [`${p.gateway}:${p.port}`, `${host}:${p.boundPort}`]));
  }

  /** Stops watching, then drains and closes the proxy. */
  async stop(graceMs: number): Promise<void> {
    this.stopped = true;
    clearInterval(this.portRetry);
    this.watcher?.close();
    await this.reloading?.catch(() => undefined);
    await this.runtime.shutdown(graceMs);
  }
}

function loadWithinLimits(options: StandaloneOptions): ReturnType<typeof loadManifests> {
  return loadManifests(options.paths, options.maxFileBytes !== undefined ? { maxFileBytes: options.maxFileBytes } : {});
}

function countPorts(ports: UnavailablePorts): number {
  let count = 0;
  for (const entry of ports.values()) count += entry.size;
  return count;
}

/** translate's unavailablePorts input from the admin-port conflicts and the ports learned by applying. */
function unavailableInput(...sources: UnavailablePorts[]): Record<string, Record<number, string>> {
  const input: Record<string, Record<number, string>> = {};
  for (const source of sources) {
    for (const [gateway, ports] of source) {
      for (const [port, reason] of ports) (input[gateway] ??= {})[port] = reason;
    }
  }
  return input;
}
