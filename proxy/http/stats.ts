// Per-route request counts and durations of the HTTP engine. Like the connection outcomes
// (proxy/metrics.ts), a request adds to plain numbers on an object its compiled route keeps,
// and the Prometheus series are built from them at scrape time. Labels are the Gateway, the
// listener and the HTTPRoute (all bounded by the config) and the status class; never the path
// or the host a client sends.

/** Status classes: 1xx..5xx; anything else (none sent: the client went away first) is `none`. */
export const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx', 'none'] as const;

/** Upper bounds (seconds) of the request duration histogram. */
export const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] as const;

export interface HttpRouteStats {
  labels: { gateway: string; listener: string; route: string };
  /** Requests by STATUS_CLASSES index. */
  byClass: Float64Array;
  /** Per DURATION_BUCKETS index (not cumulative), then the sum and count. */
  buckets: Float64Array;
  durationSum: number;
  durationCount: number;
}

export function statusClassIndex(status: number): number {
  return status >= 100 && status < 600 ? Math.floor(status / 100) - 1 : 5;
}

export function recordRequest(stats: HttpRouteStats, status: number, seconds: number): void {
  stats.byClass[statusClassIndex(status)]! += 1;
  for (let i = 0; i < DURATION_BUCKETS.length; i++) {
    if (seconds <= DURATION_BUCKETS[i]!) {
      stats.buckets[i]! += 1;
      break;
    }
  }
  stats.durationSum += seconds;
  stats.durationCount += 1;
}

/** Every series that has appeared; never shrinks (as prom-client's own label sets). */
export class HttpStatsTable {
  private readonly series = new Map<string, HttpRouteStats>();

  /** The stats of one label set; `route` is '' for requests that matched no route (404, 421). */
  statsFor(gateway: string, listener: string, route: string): HttpRouteStats {
    const key = `${gateway}\n${listener}\n${route}`;
    let stats = this.series.get(key);
    if (stats === undefined) {
      stats = { labels: { gateway, listener, route }, byClass: new Float64Array(STATUS_CLASSES.length), buckets: new Float64Array(DURATION_BUCKETS.length), durationSum: 0, durationCount: 0 };
      this.series.set(key, stats);
    }
    return stats;
  }

  all(): Iterable<HttpRouteStats> {
    return this.series.values();
  }
}
