// The operator's Prometheus metrics (prom-client), served on the admin endpoint's /metrics.
//
// One registry per Operator (tests run several in one process; the default global registry
// would make their names collide). Counters end in _total, durations are histograms in
// seconds, and gauges that mirror state (leader, queue depth, connected proxies) are read at
// scrape time so they can never drift from what the operator holds.
//
// Per-Gateway series (config pushes, ACK latency, connected proxies) are removed when the
// Gateway's config is withdrawn, so their cardinality is the number of served Gateways.
import { readFileSync } from 'node:fs';
import client from 'prom-client';

export type WriteResult = 'success' | 'error' | 'conflict';
export type AnswerResult = 'ack' | 'nack';

/** What the scrape-time gauges read from the running operator. */
export interface OperatorState {
  leader(): boolean;
  /** Reconciles asked for and not started yet (0 or 1: triggers coalesce) plus the one running. */
  queueDepth(): number;
  /** Connected proxies per Gateway "namespace/name". */
  connectedProxies(): Map<string, number>;
  /** Objects held in the informer caches, per kind. */
  watchedObjects(): Map<string, number>;
}

const SECONDS_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export class OperatorMetrics {
  readonly registry = new client.Registry();
  readonly reconciles: client.Counter<'result'>;
  readonly reconcileDuration: client.Histogram;
  readonly debounceDelay: client.Histogram;
  readonly translateDuration: client.Histogram;
  readonly statusWrites: client.Counter<'kind' | 'result'>;
  readonly infrastructureApplies: client.Counter<'kind' | 'result'>;
  readonly infrastructureDeletes: client.Counter<'kind' | 'result'>;
  readonly writeRetries: client.Counter<'operation'>;
  readonly configPushes: client.Counter<'gateway'>;
  readonly configAnswerLatency: client.Histogram<'gateway' | 'result'>;
  readonly watchRestarts: client.Counter<'kind' | 'reason'>;
  readonly driftRepairs: client.Counter<'kind'>;
  private state: OperatorState | undefined;

  constructor() {
    const registers = [this.registry];
    this.reconciles = new client.Counter({
      name: 'tlsgate_operator_reconciles_total',
      help: 'Reconciles run, by result (error: the reconcile threw; per-object write failures are counted by their own metrics).',
      labelNames: ['result'],
      registers,
    });
    this.reconcileDuration = new client.Histogram({
      name: 'tlsgate_operator_reconcile_duration_seconds',
      help: 'Wall time of one reconcile: translate, publish, ACK wait, infrastructure, statuses and Events.',
      buckets: SECONDS_BUCKETS,
      registers,
    });
    this.debounceDelay = new client.Histogram({
      name: 'tlsgate_operator_reconcile_debounce_seconds',
      help: 'Time from the first change of a coalesced burst to the start of its reconcile.',
      buckets: SECONDS_BUCKETS,
      registers,
    });
    this.translateDuration = new client.Histogram({
      name: 'tlsgate_operator_translate_duration_seconds',
      help: 'Time of one translate of the whole snapshot.',
      buckets: SECONDS_BUCKETS,
      registers,
    });
    this.statusWrites = new client.Counter({
      name: 'tlsgate_operator_status_writes_total',
      help: 'Status writes to the API server, by object kind and result (conflict: a 409 that was re-read and retried).',
      labelNames: ['kind', 'result'],
      registers,
    });
    this.infrastructureApplies = new client.Counter({
      name: 'tlsgate_operator_infrastructure_applies_total',
      help: 'Server-side applies of proxy infrastructure objects, by kind and result.',
      labelNames: ['kind', 'result'],
      registers,
    });
    this.infrastructureDeletes = new client.Counter({
      name: 'tlsgate_operator_infrastructure_deletes_total',
      help: 'Deletions of proxy infrastructure objects no longer rendered, by kind and result.',
      labelNames: ['kind', 'result'],
      registers,
    });
    this.writeRetries = new client.Counter({
      name: 'tlsgate_operator_write_retries_total',
      help: 'Failed writes scheduled to be tried again with backoff, by operation (status, infrastructure).',
      labelNames: ['operation'],
      registers,
    });
    this.configPushes = new client.Counter({
      name: 'tlsgate_operator_config_pushes_total',
      help: 'Config versions published to the config server, per Gateway.',
      labelNames: ['gateway'],
      registers,
    });
    this.configAnswerLatency = new client.Histogram({
      name: 'tlsgate_operator_config_answer_duration_seconds',
      help: "Time from sending a config to a proxy to that proxy's ACK or NACK of it, per Gateway.",
      labelNames: ['gateway', 'result'],
      buckets: SECONDS_BUCKETS,
      registers,
    });
    this.watchRestarts = new client.Counter({
      name: 'tlsgate_operator_watch_restarts_total',
      help: 'Informer restarts (a fresh list and watch), by kind and reason (error, resync).',
      labelNames: ['kind', 'reason'],
      registers,
    });
    this.driftRepairs = new client.Counter({
      name: 'tlsgate_operator_drift_repairs_total',
      help: 'Owned proxy objects found deleted or changed by someone else and applied again, by kind.',
      labelNames: ['kind'],
      registers,
    });
    const self = () => this.state;
    new client.Gauge({
      name: 'tlsgate_operator_leader',
      help: '1 when this replica holds the leader Lease, else 0.',
      registers,
      collect() {
        this.set(self()?.leader() ? 1 : 0);
      },
    });
    new client.Gauge({
      name: 'tlsgate_operator_reconcile_queue_depth',
      help: 'Reconciles waiting or running (changes coalesce, so at most 2).',
      registers,
      collect() {
        this.set(self()?.queueDepth() ?? 0);
      },
    });
    new client.Gauge({
      name: 'tlsgate_operator_connected_proxies',
      help: 'Proxies connected to this replica’s config server, per Gateway.',
      labelNames: ['gateway'],
      registers,
      collect() {
        this.reset();
        for (const [gateway, count] of self()?.connectedProxies() ?? []) this.set({ gateway }, count);
      },
    });
    new client.Gauge({
      name: 'tlsgate_operator_watched_objects',
      help: 'Objects held in the informer caches, per kind (Secrets: only kubernetes.io/tls ones and tlsgate’s own).',
      labelNames: ['kind'],
      registers,
      collect() {
        this.reset();
        for (const [kind, count] of self()?.watchedObjects() ?? []) this.set({ kind }, count);
      },
    });
    const buildInfo = new client.Gauge({
      name: 'tlsgate_operator_build_info',
      help: 'Always 1; the labels say which tlsgate and Node.js run.',
      labelNames: ['version', 'nodejs_version'],
      registers,
    });
    buildInfo.set({ version: tlsgateVersion(), nodejs_version: process.version }, 1);
    // process_resident_memory_bytes, heap and event-loop lag under their standard names.
    client.collectDefaultMetrics({ register: this.registry });
  }

  /** Where the scrape-time gauges read from (set once the operator exists). */
  observe(state: OperatorState): void {
    this.state = state;
  }

  /** Drops a Gateway's per-Gateway series once it is no longer served. */
  forgetGateway(gateway: string): void {
    this.configPushes.remove({ gateway });
    for (const result of ['ack', 'nack'] as const) this.configAnswerLatency.remove({ gateway, result });
  }

  /** The Prometheus text exposition. */
  async exposition(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

/** Times `run` into `histogram` (in seconds), also when it throws. */
export async function timed<T>(histogram: client.Histogram, run: () => Promise<T>): Promise<T> {
  const end = histogram.startTimer();
  try {
    return await run();
  } finally {
    end();
  }
}

let cachedVersion: string | undefined;

/** package.json's version (dist/operator/ → the package root, in the repo and the image alike). */
function tlsgateVersion(): string {
  if (cachedVersion) return cachedVersion;
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    cachedVersion = pkg.version ?? 'unknown';
  } catch {
    // Run from somewhere without the package root (a bundle): say so rather than guess.
    cachedVersion = 'unknown';
  }
  return cachedVersion;
}
