/**
 * Measures a large `--watch` reload under live traffic (see reload-traffic.ts):
 *   node dist/test/e2e/reliability/measure-reload.js [routes=50000] [workers=1]
 * Prints the reload time, failed exchanges, worst latencies and the proxy's worst event-loop delay.
 */
import { runReloadUnderTraffic } from './reload-traffic.js';

const routeCount = Number(process.argv[2] ?? 50_000);
const workers = Number(process.argv[3] ?? 1);
const result = await runReloadUnderTraffic({ routeCount, workers, log: (line) => console.log(line) });
console.log(JSON.stringify({ routeCount, workers, ...result, pingFailures: result.pingFailures.slice(0, 5), connectFailures: result.connectFailures.slice(0, 5), connectFailureCount: result.connectFailures.length }, null, 1));
