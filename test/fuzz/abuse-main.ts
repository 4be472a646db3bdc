/**
 * `node dist/test/fuzz/abuse-main.js [--attackers N] [--seconds S] [--workers W]`: the abuse run
 * (abuse.ts) against a fresh `tlsgate standalone`, printing its figures; exits 1 when a good
 * connection failed or an attacker was not closed without a byte.
 */
import { parseArgs } from 'node:util';
import { runAbuse } from './abuse.js';
import { startTarget } from './target.js';

const { values } = parseArgs({ options: { attackers: { type: 'string' }, seconds: { type: 'string' }, workers: { type: 'string' } }, strict: true });
const target = await startTarget({ workers: Number(values.workers ?? 1) });
try {
  const report = await runAbuse({ target, attackers: Number(values.attackers ?? 5000), goodForMs: Number(values.seconds ?? 8) * 1000 });
  console.log(JSON.stringify(report, null, 1));
  const ok = report.goodFailures.length === 0 && report.attackersClosedByProxy === report.attackersOpened && report.attackersThatGotBytes === 0 && report.activeConnectionsAfter === 0;
  process.exitCode = ok ? 0 : 1;
} finally {
  await target.stop();
}
