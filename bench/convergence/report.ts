/**
 * The convergence benchmark's table: per measured interval, n, p50, p90, p99 and max over the
 * changes, and whether p99 meets its target: 2 s for traffic and route status (issue 6), 1 s
 * for the Gateway's Programmed (the goal in the field notes, §4.3). A change that never
 * converged within the per-change timeout counts as infinitely slow, so it can only make
 * p99 worse.
 */
import { markdownTable, percentile } from '../proxy/report.js';

export const TARGET_P99_MS = 2000;
export const PROGRAMMED_GOAL_P99_MS = 1000;

export interface ChangeResult {
  index: number;
  kind: 'create' | 'switch';
  route: string;
  hostname: string;
  listener: string;
  backend: string;
  generation: number;
  /** Milliseconds from the apply call returning; null when not seen within the timeout. */
  trafficMs: number | null;
  statusMs: number | null;
  programmedMs: number | null;
  /** Probe connections made until one reached the expected backend. */
  probes: number;
  /** Why the last probe before success did not count (no route yet, old backend, ...). */
  lastProbeFailure?: string;
  /** The Gateway was seen Programmed=False (e.g. Pending until the ACK) while this change converged. */
  programmedFalseSeen: boolean;
  /** Wall-clock time (ms since the epoch) the apply call returned: time 0 of this change. */
  appliedAt: number;
  /** From the operator and proxy logs (breakdown.ts), ms after time 0; absent when not found. */
  delivery?: { version: string; publishedMs: number; proxyAppliedMs: number | null; ackedMs: number | null };
}

export interface IntervalSummary {
  what: string;
  n: number;
  missed: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  targetP99Ms: number;
  targetMet: boolean;
}

export function summarize(what: string, values: (number | null)[], targetP99Ms: number): IntervalSummary {
  const samples = values.map((v) => (v === null ? Infinity : v));
  const p99 = percentile(samples, 99);
  return {
    what,
    n: samples.length,
    missed: values.filter((v) => v === null).length,
    p50: percentile(samples, 50),
    p90: percentile(samples, 90),
    p99,
    max: samples.length > 0 ? Math.max(...samples) : NaN,
    targetP99Ms,
    targetMet: p99 < targetP99Ms,
  };
}

export function summaries(changes: ChangeResult[]): IntervalSummary[] {
  return [
    summarize('apply → traffic reaches the expected backend', changes.map((c) => c.trafficMs), TARGET_P99_MS),
    summarize('apply → route status Accepted (new generation)', changes.map((c) => c.statusMs), TARGET_P99_MS),
    summarize('apply → Gateway Programmed (config with the change acknowledged)', changes.map((c) => c.programmedMs), PROGRAMMED_GOAL_P99_MS),
  ];
}

const ms = (value: number): string =>
  Number.isFinite(value) ? `${Math.round(value).toLocaleString('en-US')} ms` : Number.isNaN(value) ? '–' : 'timeout';

export function renderTable(rows: IntervalSummary[]): string {
  return markdownTable(
    ['interval', 'n', 'p50', 'p90', 'p99', 'max', 'target p99'],
    rows.map((r) => [
      r.what,
      r.missed > 0 ? `${r.n} (${r.missed} timed out)` : String(r.n),
      ms(r.p50),
      ms(r.p90),
      ms(r.p99),
      ms(r.max),
      `< ${r.targetP99Ms / 1000} s: ${r.targetMet ? 'met' : 'missed'}`,
    ]),
  );
}

/** Where the time goes: each stage's milliseconds after the apply call returned. */
export function renderBreakdown(changes: ChangeResult[]): string {
  const stages: [string, (c: ChangeResult) => number | null | undefined][] = [
    ['leader published the new config (watch event, debounce, translate)', (c) => c.delivery?.publishedMs],
    ['proxy applied it (WebSocket push, validate, swap)', (c) => c.delivery?.proxyAppliedMs],
    ["leader received the proxy's ACK", (c) => c.delivery?.ackedMs],
    ['first probe reached the expected backend', (c) => c.trafficMs],
    ['route status Accepted seen by the watch', (c) => c.statusMs],
    ['Gateway Programmed seen by the watch', (c) => c.programmedMs],
  ];
  const rows = stages.map(([what, pick]) => {
    const values = changes.map(pick).filter((v): v is number => typeof v === 'number');
    return [
      what,
      String(values.length),
      ms(percentile(values, 50)),
      ms(percentile(values, 90)),
      ms(values.length > 0 ? Math.max(...values) : NaN),
    ];
  });
  return markdownTable(['stage (time after the apply call returned)', 'n', 'p50', 'p90', 'max'], rows);
}
