/**
 * Turns one HTTP benchmark run into Markdown tables: per proxy CPU-second with the spread over
 * the repetitions, the paired ratios tlsgate ÷ nginx and tlsgate ÷ plain Node with the issue's
 * targets, the added latencies; then the raw rates with each side's CPU use; then notes (the
 * ratio of every repetition, errors, sides left out).
 */
import { formatNumber, markdownTable, median, pairedRatio, percentile, summarizeRate } from '../proxy/report.js';
import { HTTP_RATE_PHASES, type HttpLatencyMeasurement, type HttpRateMeasurement, type HttpRatePhaseId } from './phases.js';
import type { HttpTargetName } from './targets.js';

export interface HttpTargetStatus {
  name: HttpTargetName;
  version: string;
  /** Set when the target could not start or failed the routing check. */
  failure?: string;
}

export interface HttpRunResults {
  workers: number;
  proxyCpus: string;
  loadCpus: string;
  targets: HttpTargetStatus[];
  /** One measurement per repetition. */
  rates: Partial<Record<HttpRatePhaseId, Partial<Record<HttpTargetName, HttpRateMeasurement[]>>>>;
  /** One request at a time over keep-alive; one measurement per repetition. */
  sequential: Partial<Record<HttpTargetName, HttpLatencyMeasurement[]>>;
  /** The constant-rate phase, when it ran. */
  openLoop?: {
    ratePerSecond: number;
    /** Where the rate came from, e.g. "half of nginx's 14,210 requests/s". */
    rateSource: string;
    results: Partial<Record<HttpTargetName, HttpLatencyMeasurement[]>>;
  };
}

/** Requests per proxy CPU-second: tlsgate must reach these multiples (issue 12). */
export const RATE_TARGETS = { nginx: 0.5, node: 1.0 } as const;
/** p99 added latency at half of nginx's saturated rate: at most this multiple of nginx's. */
export const OPEN_LOOP_P99_TARGET = 2;

const PROXIES = ['tlsgate', 'nginx', 'haproxy', 'node'] as const;
const COLUMNS: HttpTargetName[] = ['direct', ...PROXIES];

function ratioText(value: number): string {
  return Number.isFinite(value) ? `${value.toFixed(2)}×` : '–';
}

/** "median (min–max)" over the repetitions; just the value with one repetition. */
export function withSpread(values: number[], fractionDigits = 0): string {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return '–';
  const middle = formatNumber(median(finite), fractionDigits);
  if (finite.length === 1) return middle;
  return `${middle} (${formatNumber(Math.min(...finite), fractionDigits)}–${formatNumber(Math.max(...finite), fractionDigits)})`;
}

function perCpuSecond(m: HttpRateMeasurement): number {
  return m.proxyCpuSeconds ? m.amount / m.proxyCpuSeconds : NaN;
}

export function rateTargetCell(toNginx: number, toNode: number): string {
  const verdict = (ratio: number, minimum: number): string => (Number.isFinite(ratio) ? (ratio >= minimum ? 'met' : 'missed') : 'not measured');
  return `≥ ${RATE_TARGETS.nginx}× nginx: ${verdict(toNginx, RATE_TARGETS.nginx)}; ≥ ${RATE_TARGETS.node.toFixed(1)}× node: ${verdict(toNode, RATE_TARGETS.node)}`;
}

/**
 * Added latency at percentile p in each repetition: the target's minus the direct connection's
 * in the same repetition (both sent the same requests the same way, back to back).
 */
export function addedLatencies(target: HttpLatencyMeasurement[] | undefined, direct: HttpLatencyMeasurement[] | undefined, p: number): number[] {
  if (!target || !direct) return [];
  return target.map((m, i) => {
    const baseline = direct[i];
    return baseline ? percentile(m.samplesUs, p) - percentile(baseline.samplesUs, p) : NaN;
  });
}

export interface RenderedHttpRun {
  normalized: string;
  raw: string;
  notes: string[];
}

export function renderHttpRun(results: HttpRunResults): RenderedHttpRun {
  const notes: string[] = [];
  const ok = (name: HttpTargetName): boolean => results.targets.some((t) => t.name === name && t.failure === undefined);
  const normalizedRows: string[][] = [];
  const rawRows: string[][] = [];

  for (const phase of HTTP_RATE_PHASES) {
    const byTarget = results.rates[phase.id];
    if (!byTarget) continue;
    const of = (name: HttpTargetName): HttpRateMeasurement[] | undefined => (ok(name) ? byTarget[name] : undefined);
    for (const name of COLUMNS) {
      const measurements = of(name) ?? [];
      const errors = measurements.reduce((sum, m) => sum + m.errors, 0);
      if (errors > 0) notes.push(`${phase.title}, ${name}: ${errors} failed request(s), first: ${measurements.find((m) => m.firstError)?.firstError ?? 'unknown'}`);
      if (measurements.some((m) => m.notQuiet)) notes.push(`${phase.title}, ${name}: the proxy was not idle within 60 s around a repetition; its CPU figure may include other work`);
    }
    const toNginx = pairedRatio(of('tlsgate'), of('nginx'), 1);
    const toNode = pairedRatio(of('tlsgate'), of('node'), 1);
    if (toNginx.all.length > 1) notes.push(`${phase.title}, tlsgate ÷ nginx per repetition: ${toNginx.all.map((r) => r.toFixed(2)).join(', ')}`);
    if (toNode.all.length > 1) notes.push(`${phase.title}, tlsgate ÷ node per repetition: ${toNode.all.map((r) => r.toFixed(2)).join(', ')}`);
    normalizedRows.push([
      `${phase.title} (requests per proxy CPU-s)`,
      ...PROXIES.map((name) => withSpread((of(name) ?? []).map(perCpuSecond))),
      ratioText(toNginx.median),
      ratioText(toNode.median),
      rateTargetCell(toNginx.median, toNode.median),
    ]);
    rawRows.push([
      `${phase.title} (requests/s${phase.megabytesPerRequest > 0 ? ', MB/s' : ''}, proxy CPU, load CPU)`,
      ...COLUMNS.map((name) => {
        const summary = summarizeRate(of(name), 1);
        if (!summary) return '–';
        const megabytes = phase.megabytesPerRequest > 0 ? `, ${formatNumber(summary.rate * phase.megabytesPerRequest)} MB/s` : '';
        const shares = [
          ...(Number.isFinite(summary.cpuShare) ? [`${formatNumber(summary.cpuShare * 100)}%`] : []),
          ...(Number.isFinite(summary.loadShare) ? [`load ${formatNumber(summary.loadShare * 100)}%`] : []),
        ];
        return `${formatNumber(summary.rate)}${megabytes} (${shares.join(', ')})`;
      }),
    ]);
  }

  const latencyRows = (label: string, measurements: Partial<Record<HttpTargetName, HttpLatencyMeasurement[]>>, target: boolean): void => {
    for (const name of COLUMNS) {
      const errors = (measurements[name] ?? []).reduce((sum, m) => sum + m.errors, 0);
      if (errors > 0 && ok(name)) notes.push(`${label}, ${name}: ${errors} failed request(s), first: ${measurements[name]?.find((m) => m.firstError)?.firstError ?? 'unknown'}`);
    }
    const direct = ok('direct') ? measurements.direct : undefined;
    for (const p of [50, 99]) {
      const added = (name: HttpTargetName): number[] => (ok(name) ? addedLatencies(measurements[name], direct, p) : []);
      const paired = (reference: HttpTargetName): number => {
        const ours = added('tlsgate');
        const theirs = added(reference);
        const ratios = ours.map((value, i) => value / theirs[i]!).filter((r) => Number.isFinite(r) && r > 0);
        return ratios.length === ours.length && ratios.length > 0 ? median(ratios) : NaN;
      };
      let targetCell = '';
      if (target && p === 99) {
        const ours = median(added('tlsgate'));
        const nginx = median(added('nginx'));
        targetCell = Number.isFinite(ours) && Number.isFinite(nginx) ? `≤ ${OPEN_LOOP_P99_TARGET}× nginx: ${ours <= OPEN_LOOP_P99_TARGET * nginx ? 'met' : 'missed'}` : `≤ ${OPEN_LOOP_P99_TARGET}× nginx: not measured`;
      }
      normalizedRows.push([`${label}: added latency p${p} (µs, lower is better)`, ...PROXIES.map((name) => withSpread(added(name))), ratioText(paired('nginx')), ratioText(paired('node')), targetCell]);
    }
    rawRows.push([
      `${label}: latency p50 / p99 (µs)`,
      ...COLUMNS.map((name) => {
        const list = ok(name) ? measurements[name] : undefined;
        if (!list || list.length === 0) return '–';
        return `${formatNumber(median(list.map((m) => percentile(m.samplesUs, 50))))} / ${formatNumber(median(list.map((m) => percentile(m.samplesUs, 99))))}`;
      }),
    ]);
  };

  if (Object.keys(results.sequential).length > 0) latencyRows('One request at a time (keep-alive, 128 bytes)', results.sequential, false);
  if (results.openLoop) {
    const { ratePerSecond, rateSource, results: open } = results.openLoop;
    latencyRows(`Open loop at ${formatNumber(ratePerSecond)} requests/s`, open, true);
    notes.push(`Open loop: ${formatNumber(ratePerSecond)} requests/s (${rateSource}), latency from each request's scheduled start`);
  }

  for (const target of results.targets) if (target.failure) notes.push(`${target.name} not measured: ${target.failure}`);
  return {
    normalized: markdownTable(['Metric', 'tlsgate', 'nginx', 'haproxy', 'node', 'tlsgate/nginx', 'tlsgate/node', 'target'], normalizedRows),
    raw: markdownTable(['Metric', 'direct', 'tlsgate', 'nginx', 'haproxy', 'node'], rawRows),
    notes,
  };
}

/**
 * The open loop's arrival rate: half of nginx's saturated rate on keep-alive small responses in
 * this run (the median over the repetitions), or the rate given on the command line.
 */
export function openLoopRate(results: Pick<HttpRunResults, 'rates' | 'targets'>, override: number | undefined): { ratePerSecond: number; rateSource: string } | { missing: string } {
  if (override !== undefined) return { ratePerSecond: override, rateSource: 'given with --open-rate' };
  const nginxOk = results.targets.some((t) => t.name === 'nginx' && t.failure === undefined);
  const summary = nginxOk ? summarizeRate(results.rates.keepAliveSmall?.nginx, 1) : undefined;
  if (!summary || !(summary.rate > 0)) return { missing: 'no saturated nginx rate in this run (needs the nginx target and the keepAliveSmall phase, or --open-rate)' };
  return { ratePerSecond: Math.round(summary.rate / 2), rateSource: `half of nginx's ${formatNumber(summary.rate)} requests/s on keep-alive small responses in this run` };
}
