/**
 * Turns one run's measurements into the tables the benchmark prints (Markdown, padded so that
 * they also read well in a terminal): first everything per proxy CPU-second with the ratios
 * tlsgate/nginx and tlsgate/haproxy and the issue's targets, then the raw rates with the
 * proxies' CPU use, so that a reader can see which side was the bottleneck.
 */
import type { LatencyMeasurement, MemoryMeasurement, RateMeasurement, RatePhaseId } from './phases.js';
import { RATE_PHASES } from './phases.js';
import type { TargetName } from './targets.js';

export interface TargetStatus {
  name: TargetName;
  version: string;
  /** Set when the target could not start or failed the routing check. */
  failure?: string;
}

export interface RunResults {
  workers: number;
  proxyCpus: string;
  loadCpus: string;
  targets: TargetStatus[];
  /** One measurement per repetition. */
  rates: Partial<Record<RatePhaseId, Partial<Record<TargetName, RateMeasurement[]>>>>;
  latency: { passHello: Partial<Record<TargetName, LatencyMeasurement>>; termHello: Partial<Record<TargetName, LatencyMeasurement>> };
  memory: Partial<Record<TargetName, MemoryMeasurement>>;
}

const COLUMNS: TargetName[] = ['direct', 'tlsgate', 'nginx', 'haproxy', 'node'];
/** The proxies compared per CPU-second (direct has no proxy CPU). */
const PROXIES = ['tlsgate', 'nginx', 'haproxy', 'node'] as const;

export function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Nearest-rank percentile (p in 0..100) of unsorted samples. */
export function percentile(samples: number[], p: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}

export function formatNumber(value: number, fractionDigits = 0): string {
  if (!Number.isFinite(value)) return '–';
  return value.toLocaleString('en-US', { minimumFractionDigits: fractionDigits, maximumFractionDigits: fractionDigits });
}

function formatRatio(value: number): string {
  return Number.isFinite(value) ? `${value.toFixed(2)}×` : '–';
}

/** A Markdown table whose columns are padded to equal width. */
export function markdownTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}

interface RateSummary {
  rate: number;
  perCpuSecond: number;
  cpuShare: number;
  /** The load side's CPU use over the same window (1 = its core busy); NaN when not measured. */
  loadShare: number;
  errors: number;
  firstError?: string;
}

/** Medians over the repetitions of the raw rate, the rate per proxy CPU-second and the CPU share. */
export function summarizeRate(measurements: RateMeasurement[] | undefined, scale: number): RateSummary | undefined {
  if (!measurements || measurements.length === 0) return undefined;
  const errors = measurements.reduce((sum, m) => sum + m.errors, 0);
  const firstError = measurements.find((m) => m.firstError !== undefined)?.firstError;
  return {
    rate: median(measurements.map((m) => m.amount / scale / m.elapsedSeconds)),
    perCpuSecond: median(measurements.map((m) => (m.proxyCpuSeconds ? m.amount / scale / m.proxyCpuSeconds : NaN))),
    cpuShare: median(measurements.map((m) => (m.proxyCpuSeconds !== undefined ? m.proxyCpuSeconds / m.elapsedSeconds : NaN))),
    loadShare: median(measurements.map((m) => (m.loadCpuSeconds !== undefined ? m.loadCpuSeconds / m.elapsedSeconds : NaN))),
    errors,
    ...(firstError !== undefined ? { firstError } : {}),
  };
}

/**
 * tlsgate's rate per proxy CPU-second divided by a reference's, as the median of the ratios of
 * each repetition. A repetition measures every target back to back (in a rotating order), so
 * both sides of a pair saw the same machine; on this shared machine everything's rate drifts by
 * up to 2x between repetitions (nginx 1,207 then 701 MB per CPU-s in one run), which a ratio of
 * the two medians does not cancel. Falls back to the ratio of the medians when the repetitions
 * do not pair up (a target failed part-way).
 */
export function pairedRatio(ours: RateMeasurement[] | undefined, reference: RateMeasurement[] | undefined, scale: number): { median: number; all: number[] } {
  const perCpu = (m: RateMeasurement): number => (m.proxyCpuSeconds ? m.amount / scale / m.proxyCpuSeconds : NaN);
  if (!ours || !reference || ours.length === 0 || reference.length === 0) return { median: NaN, all: [] };
  if (ours.length !== reference.length) return { median: median(ours.map(perCpu)) / median(reference.map(perCpu)), all: [] };
  const all = ours.map((m, i) => perCpu(m) / perCpu(reference[i]!));
  return { median: median(all), all };
}

interface Target {
  /** The ratio tlsgate/nginx must reach (higher is better), or the absolute ceiling (lower is better). */
  minRatioToNginx?: number;
  maxValue?: number;
}

const RATE_TARGETS: Partial<Record<RatePhaseId, Target>> = {
  passBulk1: { minRatioToNginx: 0.8 },
  passBulk16: { minRatioToNginx: 0.8 },
  passConnect: { minRatioToNginx: 0.7 },
  termHandshake: { minRatioToNginx: 0.7 },
};
const MEMORY_TARGET_KIB = 16;

function targetCell(target: Target | undefined, ratioToNginx: number, value: number): string {
  if (!target) return '';
  if (target.minRatioToNginx !== undefined) {
    if (!Number.isFinite(ratioToNginx)) return `≥ ${target.minRatioToNginx}× nginx`;
    return `≥ ${target.minRatioToNginx}× nginx: ${ratioToNginx >= target.minRatioToNginx ? 'met' : 'missed'}`;
  }
  if (target.maxValue !== undefined) {
    if (!Number.isFinite(value)) return `≤ ${target.maxValue}`;
    return `≤ ${target.maxValue}: ${value <= target.maxValue ? 'met' : 'missed'}`;
  }
  return '';
}

export interface RenderedRun {
  normalized: string;
  raw: string;
  notes: string[];
}

export function renderRun(results: RunResults): RenderedRun {
  const notes: string[] = [];
  const ok = (name: TargetName): boolean => results.targets.some((t) => t.name === name && t.failure === undefined);
  const noteErrors = (what: string, name: TargetName, errors: number, firstError: string | undefined): void => {
    if (errors > 0) notes.push(`${what}, ${name}: ${errors} failed connection(s), first: ${firstError ?? 'unknown'}`);
  };

  const normalizedRows: string[][] = [];
  const rawRows: string[][] = [];
  for (const phase of RATE_PHASES) {
    const scale = phase.counts === 'bytes' ? 1e6 : 1;
    const unit = phase.counts === 'bytes' ? 'MB' : phase.id === 'termHandshake' ? 'handshakes' : 'connections';
    const summaries = new Map(COLUMNS.map((name) => [name, ok(name) ? summarizeRate(results.rates[phase.id]?.[name], scale) : undefined]));
    for (const [name, summary] of summaries) if (summary) noteErrors(phase.title, name, summary.errors, summary.firstError);
    for (const name of COLUMNS) {
      if (ok(name) && results.rates[phase.id]?.[name]?.some((m) => m.notQuiet)) notes.push(`${phase.title}, ${name}: the proxy was not idle within 60 s around a repetition; its CPU figure may include other work`);
    }
    const perCpu = (name: TargetName): number => summaries.get(name)?.perCpuSecond ?? NaN;
    const ratioTo = (name: TargetName): { median: number; all: number[] } =>
      ok('tlsgate') && ok(name) ? pairedRatio(results.rates[phase.id]?.tlsgate, results.rates[phase.id]?.[name], scale) : { median: NaN, all: [] };
    const ratioNginx = ratioTo('nginx');
    if (ratioNginx.all.length > 1) {
      notes.push(`${phase.title}, tlsgate ÷ nginx per repetition: ${ratioNginx.all.map((r) => r.toFixed(2)).join(', ')}`);
    }
    normalizedRows.push([
      `${phase.title} (${unit} per proxy CPU-s)`,
      ...PROXIES.map((name) => formatNumber(perCpu(name))),
      formatRatio(ratioNginx.median),
      formatRatio(ratioTo('haproxy').median),
      formatRatio(ratioTo('node').median),
      targetCell(RATE_TARGETS[phase.id], ratioNginx.median, NaN),
    ]);
    rawRows.push([
      `${phase.title} (${unit}/s, proxy CPU, load CPU)`,
      ...COLUMNS.map((name) => {
        const summary = summaries.get(name);
        if (!summary) return '–';
        const shares = [
          ...(Number.isFinite(summary.cpuShare) ? [`${formatNumber(summary.cpuShare * 100)}%`] : []),
          ...(Number.isFinite(summary.loadShare) ? [`load ${formatNumber(summary.loadShare * 100)}%`] : []),
        ];
        return `${formatNumber(summary.rate)}${shares.length > 0 ? ` (${shares.join(', ')})` : ''}`;
      }),
    ]);
  }

  // Latency: Passthrough is compared with a direct connection to the same backend (added
  // latency); Terminate includes the handshake, so it is shown as is.
  const latencyOf = (workload: 'passHello' | 'termHello', name: TargetName, p: number): number => {
    const measurement = ok(name) ? results.latency[workload][name] : undefined;
    return measurement ? percentile(measurement.samplesUs, p) : NaN;
  };
  for (const workload of ['passHello', 'termHello'] as const) {
    for (const name of COLUMNS) {
      const measurement = results.latency[workload][name];
      if (measurement && ok(name)) noteErrors(`${workload} latency`, name, measurement.errors, measurement.firstError);
    }
  }
  for (const p of [50, 99]) {
    const added = (name: TargetName): number => latencyOf('passHello', name, p) - latencyOf('passHello', 'direct', p);
    normalizedRows.push([
      `Passthrough added connect latency p${p} (µs, lower is better)`,
      ...PROXIES.map((name) => formatNumber(added(name))),
      formatRatio(added('tlsgate') / added('nginx')),
      formatRatio(added('tlsgate') / added('haproxy')),
      formatRatio(added('tlsgate') / added('node')),
      '',
    ]);
  }
  for (const p of [50, 99]) {
    const value = (name: TargetName): number => latencyOf('termHello', name, p);
    normalizedRows.push([
      `Terminate connect latency p${p}, handshake + backend (µs, lower is better)`,
      ...PROXIES.map((name) => formatNumber(value(name))),
      formatRatio(value('tlsgate') / value('nginx')),
      formatRatio(value('tlsgate') / value('haproxy')),
      formatRatio(value('tlsgate') / value('node')),
      '',
    ]);
  }
  for (const workload of ['passHello', 'termHello'] as const) {
    rawRows.push([
      `${workload === 'passHello' ? 'Passthrough' : 'Terminate'} connect → first backend byte, p50 / p99 (µs)`,
      ...COLUMNS.map((name) => {
        const p50 = latencyOf(workload, name, 50);
        return Number.isFinite(p50) ? `${formatNumber(p50)} / ${formatNumber(latencyOf(workload, name, 99))}` : '–';
      }),
    ]);
  }

  // Memory per idle connection: the growth of the proxy's resident memory, divided.
  const kibPerConnection = (name: TargetName): number => {
    const m = ok(name) ? results.memory[name] : undefined;
    return m && m.opened > 0 ? (m.residentWithConnectionsBytes - m.residentBeforeBytes) / m.opened / 1024 : NaN;
  };
  const opened = Math.max(0, ...COLUMNS.map((name) => results.memory[name]?.opened ?? 0));
  for (const name of COLUMNS) {
    const m = results.memory[name];
    if (m && ok(name)) noteErrors('idle connections', name, m.errors, m.firstError);
  }
  normalizedRows.push([
    `Memory per idle passthrough connection at ${formatNumber(opened)} (KiB, lower is better)`,
    ...PROXIES.map((name) => formatNumber(kibPerConnection(name), 1)),
    formatRatio(kibPerConnection('tlsgate') / kibPerConnection('nginx')),
    formatRatio(kibPerConnection('tlsgate') / kibPerConnection('haproxy')),
    formatRatio(kibPerConnection('tlsgate') / kibPerConnection('node')),
    targetCell({ maxValue: MEMORY_TARGET_KIB }, NaN, kibPerConnection('tlsgate')),
  ]);
  rawRows.push([
    'Proxy RSS idle → with the idle connections (MiB)',
    ...COLUMNS.map((name) => {
      const m = ok(name) ? results.memory[name] : undefined;
      return m ? `${formatNumber(m.residentBeforeBytes / 2 ** 20, 1)} → ${formatNumber(m.residentWithConnectionsBytes / 2 ** 20, 1)}` : '–';
    }),
  ]);

  for (const target of results.targets) if (target.failure) notes.push(`${target.name} not measured: ${target.failure}`);
  return {
    normalized: markdownTable(['Metric', 'tlsgate', 'nginx', 'haproxy', 'node', 'tlsgate/nginx', 'tlsgate/haproxy', 'tlsgate/node', 'target'], normalizedRows),
    raw: markdownTable(['Metric', 'direct', 'tlsgate', 'nginx', 'haproxy', 'node'], rawRows),
    notes,
  };
}
