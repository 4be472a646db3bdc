/**
 * `npm run fuzz -- [--inputs N] [--seconds S] [--concurrency C] [--seed X] [--workers W]`:
 * the ClientHello fuzzing campaign (run.ts) against a fresh `tlsgate standalone`, printing
 * inputs per second as it goes and every invariant's result at the end; exits 1 on any violation.
 */
import { parseArgs } from 'node:util';
import { runFuzz } from './run.js';

const { values } = parseArgs({
  options: {
    inputs: { type: 'string' },
    seconds: { type: 'string' },
    concurrency: { type: 'string' },
    seed: { type: 'string' },
    workers: { type: 'string' },
  },
  strict: true,
});
const number = (name: string, value: string | undefined): number | undefined => {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0) throw new Error(`--${name} must be a non-negative integer, got "${value}"`);
  return parsed;
};
const inputs = number('inputs', values.inputs);
const seconds = number('seconds', values.seconds);
const concurrency = number('concurrency', values.concurrency);
const seed = number('seed', values.seed);
const workers = number('workers', values.workers);
const report = await runFuzz({
  ...(inputs === undefined && seconds === undefined ? { inputs: 100_000 } : {}),
  ...(inputs !== undefined ? { inputs } : {}),
  ...(seconds !== undefined ? { seconds } : {}),
  ...(concurrency !== undefined ? { concurrency } : {}),
  ...(seed !== undefined ? { seed } : {}),
  ...(workers !== undefined ? { workers } : {}),
  log: (line) => console.log(line),
});
const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;
console.log(`seed ${report.seed}; seeds: ${report.seeds.join(', ')}${report.missingSeeds.length > 0 ? `; missing: ${report.missingSeeds.join(', ')}` : ''}`);
console.log(`${report.inputs} inputs in ${report.seconds.toFixed(1)} s: ${Math.round(report.inputsPerSecond)} inputs/s`);
console.log(`outcomes: ${report.routed} routed, ${report.terminated} terminated, ${report.closedWithoutBytes} closed without a byte; ${report.mustRoute} had to be routed`);
console.log(`invariant: every connection routed, terminated or closed without a byte in time: ${report.violationCount === 0 ? 'held' : `${report.violationCount} violations`}`);
for (const violation of report.violations) console.log(`  ${violation}`);
console.log(`invariant: the proxy is still running: ${report.proxyRunning ? 'held' : 'VIOLATED'}`);
console.log(`invariant: active connections back to zero: ${report.activeConnectionsAfter === 0 ? 'held' : `VIOLATED (${report.activeConnectionsAfter})`}`);
console.log(`memory: RSS ${mb(report.start.rssBytes)} at start, ${mb(report.peakRssBytes)} peak, ${mb(report.end.rssBytes)} at end; heap used ${mb(report.start.heapUsedBytes)} → ${mb(report.end.heapUsedBytes)}; open fds ${report.start.openFds} → ${report.end.openFds}`);
process.exitCode = report.violationCount === 0 && report.proxyRunning && report.activeConnectionsAfter === 0 ? 0 : 1;
