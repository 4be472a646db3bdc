/**
 * A measurement, not a test (tests never assert timings): how long `tlsgate standalone --watch`
 * takes from a manifest write to serving the change, as seen from outside.
 *
 *   npm run build && node dist/bench/standalone/measure-reload.js [rounds]
 *
 * Each round rewrites the route file with a new hostname, then probes that hostname with a
 * real TLS client until it is routed. The time includes the 100 ms debounce, loading,
 * translating twice, the hitless apply and the status table.
 */
import { writeFileSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { CliProcess, environmentYaml, freePort, gatewayYaml, makePki, routeYaml, startBackends, tlsExchange } from '../../test/e2e/standalone/support.js';

const rounds = Number(process.argv[2] ?? 20);
const dir = mkdtempSync(path.join(tmpdir(), 'tlsgate-measure-'));
const cleanups: (() => Promise<void> | void)[] = [() => rmSync(dir, { recursive: true, force: true })];
const context = { after: (fn: () => Promise<void> | void) => void cleanups.push(fn) };

try {
  const pki = makePki(dir);
  const { foo, bar } = await startBackends(context, pki);
  const passthroughPort = await freePort();
  const terminatePort = await freePort();
  writeFileSync(path.join(dir, 'gateway.yaml'), gatewayYaml({ name: 'example-gateway', passthroughPort, terminatePort }));
  writeFileSync(path.join(dir, 'environment.yaml'), environmentYaml(pki, foo, bar));
  const routesFile = path.join(dir, 'routes.yaml');
  const writeRoutes = (hostname: string): void =>
    writeFileSync(routesFile, routeYaml('foo-route', 'example-gateway', 'tls', [hostname], 'foo-svc', 443));
  writeRoutes('foo.example.com');

  const started = performance.now();
  const cli = new CliProcess(['standalone', '-f', dir, '--watch', '--workers', '1']);
  cleanups.push(async () => void (await cli.stop()));
  await cli.waitForReadyCount(1, 120_000);
  const startupMs = performance.now() - started;

  const samples: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const hostname = round % 2 === 0 ? 'foo2.example.com' : 'foo.example.com';
    const written = performance.now();
    writeRoutes(hostname);
    for (;;) {
      const routed = await tlsExchange(passthroughPort, hostname, pki.ca.certificatePem).then(
        () => true,
        () => false,
      );
      if (routed) break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    samples.push(performance.now() - written);
  }
  samples.sort((a, b) => a - b);
  const at = (q: number): number => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))]!;
  console.log(`startup to first ready line: ${startupMs.toFixed(0)} ms (includes loading the CLI)`);
  console.log(
    `manifest write -> change served, ${rounds} rounds: min ${samples[0]!.toFixed(0)} ms, p50 ${at(0.5).toFixed(0)} ms, ` +
      `p90 ${at(0.9).toFixed(0)} ms, max ${samples[samples.length - 1]!.toFixed(0)} ms (100 ms of it is the debounce)`,
  );
} finally {
  for (const cleanup of cleanups.reverse()) await cleanup();
}
