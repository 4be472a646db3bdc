// The short runs of issue 17's campaign (test/fuzz, docs/reliability.md): ClientHello fuzzing
// for about 25 s, then 2,000 slow and idle attackers while good clients keep connecting, both
// against one `tlsgate standalone` process with one worker. The long runs are
// `npm run fuzz -- --inputs N` and `node dist/test/fuzz/abuse-main.js --attackers N`.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { frame, handshakeBytes, parseClientHello, serverNameOf } from '../../fuzz/clienthello-model.js';
import { runAbuse } from '../../fuzz/abuse.js';
import { runFuzz } from '../../fuzz/run.js';
import { captureSeeds } from '../../fuzz/seeds.js';
import { startTarget, type ProxyTarget } from '../../fuzz/target.js';

describe('the reliability campaign, short runs (issue 17)', { timeout: 300_000 }, () => {
  let target: ProxyTarget;
  before(async () => {
    target = await startTarget({ workers: 1 });
  });
  after(async () => {
    await target?.stop();
  });

  it('captures real seeds, and the model writes each back byte for byte', async (t) => {
    const { seeds, missing } = await captureSeeds();
    t.diagnostic(`seeds: ${seeds.map((s) => `${s.client} ${s.wire.length} B`).join(', ')}${missing.length > 0 ? `; missing: ${missing.join(', ')}` : ''}`);
    assert.ok(seeds.length >= 4, `only ${seeds.length} seed hellos captured (missing: ${missing.join(', ')})`);
    for (const seed of seeds) {
      const hello = parseClientHello(seed.wire);
      assert.equal(serverNameOf(hello), 'seed.fuzz.test', seed.client);
      assert.ok(frame(handshakeBytes(hello), hello.recordVersion, 16384).equals(seed.wire), `${seed.client}: parse and write back changed the bytes`);
    }
  });

  it('fuzzed ClientHellos: every connection routed, terminated or closed without a byte; valid ones routed; the proxy up, idle and bounded after', async (t) => {
    // A fixed seed: input n is the same in every run (npm run fuzz draws a new seed each time).
    const report = await runFuzz({ seconds: 25, concurrency: 32, seed: 17, target });
    const mb = (bytes: number): number => Math.round(bytes / 1e6);
    t.diagnostic(
      `seed ${report.seed}: ${report.inputs} inputs, ${Math.round(report.inputsPerSecond)}/s; ${report.routed} routed, ${report.terminated} terminated, ` +
        `${report.closedWithoutBytes} closed without a byte (${report.mustRoute} had to be routed); RSS ${mb(report.start.rssBytes)} → peak ` +
        `${mb(report.peakRssBytes)} → ${mb(report.end.rssBytes)} MB; open fds ${report.start.openFds} → ${report.end.openFds}`,
    );
    assert.deepEqual(report.violations, [], `${report.violationCount} violations (reproduce with npm run fuzz -- --seed ${report.seed})`);
    assert.ok(report.proxyRunning, 'the proxy process died');
    assert.equal(report.activeConnectionsAfter, 0, 'connections left open after every client was done');
    assert.ok(report.inputs >= 1000, `only ${report.inputs} inputs in 25 s`);
    // Each outcome happened, so each check above was exercised.
    assert.ok(report.routed > 0 && report.terminated > 0 && report.closedWithoutBytes > 0 && report.mustRoute > 0, JSON.stringify(report));
    // A leak of 10 kB per input (30,000 inputs) would exceed this; the proxy keeps none (docs/reliability.md).
    assert.ok(report.peakRssBytes < report.start.rssBytes + 300e6, `RSS grew from ${mb(report.start.rssBytes)} MB to a peak of ${mb(report.peakRssBytes)} MB`);
    assert.ok(report.end.openFds <= report.start.openFds + 5, `open fds ${report.start.openFds} → ${report.end.openFds}`);
  });

  it('2,000 slow and idle attackers: good connections keep succeeding, every attacker is closed without a byte at the ClientHello timeout', async (t) => {
    const report = await runAbuse({ target, attackers: 2000, goodForMs: 8000 });
    t.diagnostic(
      `${report.attackersOpened} attackers (peak ${report.peakOpenFds} fds in the proxy), ${report.attackersClosedByProxy} closed by the proxy, ` +
        `${report.attackersThatGotBytes} got bytes; ${report.good} good connections, ${report.goodFailures.length} failed, latency p50 ` +
        `${report.goodLatencyMs.p50.toFixed(1)} ms, p99 ${report.goodLatencyMs.p99.toFixed(1)} ms, max ${report.goodLatencyMs.max.toFixed(1)} ms`,
    );
    assert.deepEqual(report.goodFailures, []);
    assert.ok(report.good >= 20, `only ${report.good} good connections were tried`);
    assert.equal(report.attackersClosedByProxy, report.attackersOpened, 'attackers left open past the ClientHello timeout');
    assert.equal(report.attackersThatGotBytes, 0, 'the proxy wrote to an attacker');
    assert.ok(report.peakOpenFds >= 2000, `the proxy held only ${report.peakOpenFds} fds: the attackers were not all connected at once`);
    assert.equal(report.activeConnectionsAfter, 0);
  });
});
