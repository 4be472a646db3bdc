// The process metrics of a proxy process, read when /metrics is scraped and never on the
// traffic path. prom-client's collectDefaultMetrics cannot leave single metrics out, and two
// of its metrics cost on every connection's path: the GC histogram installs a perf_hooks
// observer whose JavaScript callback runs after every garbage collection (about 8 % of a
// passthrough bulk profile), and the event-loop monitor wakes the loop every 10 ms. These are
// the same names (with the tlsgate_ prefix) minus the GC histogram and the handle/request
// counts; event-loop delay is sampled by a native histogram at a coarse resolution.
import { readdirSync, readFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import client from 'prom-client';

/** How often the native event-loop monitor samples (no JavaScript runs per sample). */
const EVENT_LOOP_RESOLUTION_MS = 50;

export function registerProcessMetrics(registry: client.Registry, prefix: string): void {
  const registers = [registry];
  let lastCpu = process.cpuUsage();
  const cpuUser = new client.Counter({
    name: `${prefix}process_cpu_user_seconds_total`,
    help: 'Total user CPU time spent in seconds.',
    registers,
    collect() {
      const now = process.cpuUsage();
      const user = (now.user - lastCpu.user) / 1e6;
      const system = (now.system - lastCpu.system) / 1e6;
      lastCpu = now;
      cpuUser.inc(user);
      cpuSystem.inc(system);
      cpuTotal.inc(user + system);
    },
  });
  const cpuSystem = new client.Counter({ name: `${prefix}process_cpu_system_seconds_total`, help: 'Total system CPU time spent in seconds.', registers });
  const cpuTotal = new client.Counter({ name: `${prefix}process_cpu_seconds_total`, help: 'Total user and system CPU time spent in seconds.', registers });

  const startTime = new client.Gauge({
    name: `${prefix}process_start_time_seconds`,
    help: 'Start time of the process since unix epoch in seconds.',
    registers,
    aggregator: 'omit',
  });
  startTime.set(Math.round(performance.timeOrigin / 1000));

  const heapTotal = new client.Gauge({
    name: `${prefix}nodejs_heap_size_total_bytes`,
    help: 'Process heap size from Node.js in bytes.',
    registers,
    collect() {
      const usage = process.memoryUsage();
      resident.set(usage.rss);
      heapTotal.set(usage.heapTotal);
      heapUsed.set(usage.heapUsed);
      external.set(usage.external);
    },
  });
  const resident = new client.Gauge({ name: `${prefix}process_resident_memory_bytes`, help: 'Resident memory size in bytes.', registers });
  const heapUsed = new client.Gauge({ name: `${prefix}nodejs_heap_size_used_bytes`, help: 'Process heap size used from Node.js in bytes.', registers });
  const external = new client.Gauge({ name: `${prefix}nodejs_external_memory_bytes`, help: 'Node.js external memory size in bytes.', registers });

  if (process.platform === 'linux') {
    new client.Gauge({
      name: `${prefix}process_open_fds`,
      help: 'Number of open file descriptors.',
      registers,
      collect() {
        try {
          // Minus the descriptor readdirSync itself had open.
          this.set(readdirSync('/proc/self/fd').length - 1);
        } catch {
          // /proc not mounted: leave the metric without a value
        }
      },
    });
    const maxFds = maxOpenFiles();
    if (maxFds !== undefined) {
      new client.Gauge({ name: `${prefix}process_max_fds`, help: 'Maximum number of open file descriptors.', registers }).set(maxFds);
    }
  }

  const delay = monitorEventLoopDelay({ resolution: EVENT_LOOP_RESOLUTION_MS });
  delay.enable();
  const lag = (name: string, help: string, aggregator: client.Aggregator, read: () => number) =>
    new client.Gauge({
      name: `${prefix}nodejs_eventloop_lag_${name}seconds`,
      help,
      registers,
      aggregator,
      collect() {
        this.set(read() / 1e9);
      },
    });
  // Registered in this order so that the reset in the last one comes after every read.
  lag('min_', 'The minimum recorded event loop delay.', 'min', () => delay.min);
  lag('max_', 'The maximum recorded event loop delay.', 'max', () => delay.max);
  lag('mean_', 'The mean of the recorded event loop delays.', 'average', () => delay.mean);
  lag('stddev_', 'The standard deviation of the recorded event loop delays.', 'average', () => delay.stddev);
  lag('p50_', 'The 50th percentile of the recorded event loop delays.', 'average', () => delay.percentile(50));
  lag('p90_', 'The 90th percentile of the recorded event loop delays.', 'average', () => delay.percentile(90));
  new client.Gauge({
    name: `${prefix}nodejs_eventloop_lag_p99_seconds`,
    help: 'The 99th percentile of the recorded event loop delays.',
    registers,
    aggregator: 'average',
    collect() {
      this.set(delay.percentile(99) / 1e9);
      delay.reset(); // each scrape reports the delays since the previous one
    },
  });
  new client.Gauge({
    name: `${prefix}nodejs_eventloop_lag_seconds`,
    help: 'Lag of event loop in seconds (how long a callback queued at scrape time waited).',
    registers,
    aggregator: 'average',
    async collect() {
      const queued = performance.now();
      await new Promise<void>((resolve) => setImmediate(resolve));
      this.set((performance.now() - queued) / 1000);
    },
  });

  new client.Gauge({
    name: `${prefix}nodejs_version_info`,
    help: 'Node.js version info.',
    labelNames: ['version', 'major', 'minor', 'patch'] as const,
    registers,
    aggregator: 'first',
  }).set(versionLabels(), 1);
}

function versionLabels(): { version: string; major: number; minor: number; patch: number } {
  const [major = 0, minor = 0, patch = 0] = process.versions.node.split('.').map(Number);
  return { version: process.version, major, minor, patch };
}

/** The soft limit on open files, from /proc/self/limits; undefined when unreadable or unlimited. */
function maxOpenFiles(): number | undefined {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const soft = Number(line?.split(/\s+/)[3]);
    return Number.isFinite(soft) ? soft : undefined;
  } catch {
    return undefined;
  }
}
