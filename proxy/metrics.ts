// The engine's Prometheus metrics (prom-client), one registry per process. With workers,
// each worker keeps its own and the primary aggregates them (AggregatorRegistry): counters
// and histograms sum, and the config/certificate gauges take the first worker's value
// (every worker holds the same configs).
//
// What every connection counts (its outcome, its bytes) goes into plain numbers on the hot
// path and is copied into prom-client's counters when /metrics is scraped: prom-client's
// inc() builds a label hash string and validates labels on every call.
import client from 'prom-client';
import { registerProcessMetrics } from './process-metrics.js';
import { DURATION_BUCKETS, HttpStatsTable, STATUS_CLASSES } from './http/stats.js';

export type Metrics = ReturnType<typeof createMetrics>;

/** How a connection ended: the `result` label of tlsgate_connections_total and the access log. */
const RESULTS = ['ok', 'rejected', 'backend_failed', 'handshake_failed', 'error', 'idle_timeout'] as const;
export type ConnectionResult = (typeof RESULTS)[number];

/** Connections that ended, by result, for one gateway/listener/route label set. */
export type OutcomeCounts = Record<ConnectionResult, number>;

interface OutcomeSeries {
  labels: { gateway: string; listener: string; route: string };
  counts: OutcomeCounts;
}

interface HistogramValue {
  labels: { le?: number | string; gateway?: string; listener?: string; route?: string };
  value: number;
  metricName: string;
}

/**
 * A histogram without labels whose observe() is a bucket search and three additions
 * (prom-client's builds a closure and a label hash per call). Registered in a prom-client
 * registry as a metric object and exported in prom-client's own histogram format, so
 * /metrics and the workers' aggregation (sum) read it like a prom-client Histogram.
 */
export class FastHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly counts: Float64Array;
  private sum = 0;
  private count = 0;

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly upperBounds: readonly number[],
    registry: client.Registry,
  ) {
    this.counts = new Float64Array(upperBounds.length);
    // prom-client's registry takes any object with a name and get(); its Metric type is a class.
    registry.registerMetric(this as unknown as client.Metric);
  }

  observe(value: number): void {
    const bounds = this.upperBounds;
    for (let i = 0; i < bounds.length; i++) {
      if (value <= (bounds[i] as number)) {
        this.counts[i]! += 1;
        break;
      }
    }
    this.sum += value;
    this.count += 1;
  }

  reset(): void {
    this.counts.fill(0);
    this.sum = 0;
    this.count = 0;
  }

  async get(): Promise<{ name: string; help: string; type: 'histogram'; aggregator: 'sum'; values: HistogramValue[] }> {
    const bucket = `${this.name}_bucket`;
    const values: HistogramValue[] = [];
    let cumulative = 0;
    this.upperBounds.forEach((le, i) => {
      cumulative += this.counts[i] as number;
      values.push({ labels: { le }, value: cumulative, metricName: bucket });
    });
    values.push({ labels: { le: '+Inf' }, value: this.count, metricName: bucket });
    values.push({ labels: {}, value: this.sum, metricName: `${this.name}_sum` });
    values.push({ labels: {}, value: this.count, metricName: `${this.name}_count` });
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}

/**
 * tlsgate_http_request_duration_seconds, read from the HTTP engine's per-route numbers at
 * scrape time, in prom-client's histogram format (so the workers' aggregation sums it).
 */
class HttpDurationHistogram {
  readonly name = 'tlsgate_http_request_duration_seconds';
  readonly help = 'HTTP requests: from the request head to the end of the response, by Gateway, listener and HTTPRoute';
  readonly type = 'histogram';
  readonly aggregator = 'sum';

  constructor(
    private readonly table: HttpStatsTable,
    registry: client.Registry,
  ) {
    registry.registerMetric(this as unknown as client.Metric);
  }

  async get(): Promise<{ name: string; help: string; type: 'histogram'; aggregator: 'sum'; values: HistogramValue[] }> {
    const bucket = `${this.name}_bucket`;
    const values: HistogramValue[] = [];
    for (const stats of this.table.all()) {
      if (stats.durationCount === 0) continue;
      const labels = stats.labels;
      let cumulative = 0;
      DURATION_BUCKETS.forEach((le, i) => {
        cumulative += stats.buckets[i] as number;
        values.push({ labels: { ...labels, le }, value: cumulative, metricName: bucket });
      });
      values.push({ labels: { ...labels, le: '+Inf' }, value: stats.durationCount, metricName: bucket });
      values.push({ labels: { ...labels }, value: stats.durationSum, metricName: `${this.name}_sum` });
      values.push({ labels: { ...labels }, value: stats.durationCount, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {}
}

export interface MetricsOptions {
  defaultMetrics?: boolean;
  /** Read at scrape time: open connections per Gateway (kept as plain counters on the hot path). */
  activeConnections?: () => Iterable<[gateway: string, active: number]>;
}

export function createMetrics(options: MetricsOptions = {}) {
  const registry = new client.Registry();
  const registers = [registry];
  // Never shrinks: like prom-client's own label sets, a series stays once it has appeared.
  const outcomes = new Map<string, OutcomeSeries>();
  /** Bytes of connections that have ended, each way. */
  const traffic = { fromClient: 0, toClient: 0 };
  /** The HTTP engine's per-route request numbers (proxy/http/stats.ts). */
  const httpStats = new HttpStatsTable();
  const metrics = {
    registry,
    traffic,
    httpStats,
    httpRequests: new client.Counter({
      name: 'tlsgate_http_requests_total',
      help: 'HTTP requests answered, by Gateway, listener, HTTPRoute (empty: none matched) and status class (1xx..5xx; none: the client left before a status was sent)',
      labelNames: ['gateway', 'listener', 'route', 'status_class'] as const,
      registers,
      collect() {
        this.reset();
        for (const stats of httpStats.all()) {
          STATUS_CLASSES.forEach((statusClass, i) => {
            const count = stats.byClass[i] as number;
            if (count > 0) this.inc({ ...stats.labels, status_class: statusClass }, count);
          });
        }
      },
    }),
    httpDuration: new HttpDurationHistogram(httpStats, registry),
    /**
     * The counts of one label set; callers keep the object (per compiled route, listener or
     * port table) and increment it directly. Stable across config swaps.
     */
    outcomeCounts(gateway: string, listener: string, route: string): OutcomeCounts {
      const key = `${gateway}\n${listener}\n${route}`;
      let series = outcomes.get(key);
      if (series === undefined) {
        series = { labels: { gateway, listener, route }, counts: { ok: 0, rejected: 0, backend_failed: 0, handshake_failed: 0, error: 0, idle_timeout: 0 } };
        outcomes.set(key, series);
      }
      return series.counts;
    },
    connections: new client.Counter({
      name: 'tlsgate_connections_total',
      help: 'Connections by outcome, counted when they end. result: ok, rejected, backend_failed, handshake_failed, error, idle_timeout',
      labelNames: ['gateway', 'listener', 'route', 'result'] as const,
      registers,
      collect() {
        this.reset();
        for (const { labels, counts } of outcomes.values()) {
          for (const result of RESULTS) {
            const count = counts[result];
            if (count > 0) this.inc({ ...labels, result }, count);
          }
        }
      },
    }),
    active: new client.Gauge({
      name: 'tlsgate_active_connections',
      help: 'Client connections currently open (from accept to close)',
      labelNames: ['gateway'] as const,
      registers,
      collect() {
        if (!options.activeConnections) return;
        this.reset();
        for (const [gateway, active] of options.activeConnections()) this.set({ gateway }, active);
      },
    }),
    bytes: new client.Counter({
      name: 'tlsgate_bytes_total',
      help: 'Bytes relayed between client and backend (Terminate: decrypted payload), counted when a connection ends',
      labelNames: ['direction'] as const,
      registers,
      collect() {
        this.reset();
        if (traffic.fromClient > 0) this.inc({ direction: 'from_client' }, traffic.fromClient);
        if (traffic.toClient > 0) this.inc({ direction: 'to_client' }, traffic.toClient);
      },
    }),
    rejections: new client.Counter({
      name: 'tlsgate_rejections_total',
      help: 'Connections closed without a byte written, by reason',
      labelNames: ['gateway', 'reason'] as const,
      registers,
    }),
    clientHelloErrors: new client.Counter({
      name: 'tlsgate_clienthello_errors_total',
      help: 'ClientHello read failures: not_tls, too_large, timeout, malformed, truncated, no_sni',
      labelNames: ['reason'] as const,
      registers,
    }),
    handshakeErrors: new client.Counter({
      name: 'tlsgate_handshake_errors_total',
      help: 'Terminate handshakes that failed, by reason',
      labelNames: ['reason'] as const,
      registers,
    }),
    handshakeDuration: new FastHistogram(
      'tlsgate_handshake_duration_seconds',
      'Terminate: from the complete ClientHello to the finished handshake',
      [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registry,
    ),
    backendConnectFailures: new client.Counter({
      name: 'tlsgate_backend_connect_failures_total',
      help: 'Failed backend connect attempts (each failover attempt counts)',
      labelNames: ['gateway', 'reason'] as const,
      registers,
    }),
    backendConnectDuration: new FastHistogram(
      'tlsgate_backend_connect_duration_seconds',
      'Successful backend TCP connects',
      [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registry,
    ),
    configInfo: new client.Gauge({
      name: 'tlsgate_config_info',
      help: 'The config version applied per Gateway (value 1)',
      labelNames: ['gateway', 'version'] as const,
      registers,
      aggregator: 'first',
    }),
    configApplyTime: new client.Gauge({
      name: 'tlsgate_config_apply_timestamp_seconds',
      help: 'When the current config of a Gateway was applied (Unix seconds)',
      labelNames: ['gateway'] as const,
      registers,
      aggregator: 'first',
    }),
    certificateExpiry: new client.Gauge({
      name: 'tlsgate_certificate_expiry_timestamp_seconds',
      help: 'notAfter of each served certificate (Unix seconds)',
      labelNames: ['gateway', 'listener', 'secret'] as const,
      registers,
      aggregator: 'first',
    }),
  };
  if (options.defaultMetrics) registerProcessMetrics(registry, 'tlsgate_');
  return metrics;
}
