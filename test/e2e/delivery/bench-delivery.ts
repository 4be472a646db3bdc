// Benchmark (not a test; nothing here asserts timings): what config delivery costs.
//   npm run build && node dist/test/e2e/delivery/bench-delivery.js --run [rounds]
// Prints, for `rounds` sequential config changes, the time from ConfigServer.publish() to the
// proxy's ACK showing in server.status(), over real mutual TLS on loopback, once with a sink that
// only records and once with the real proxy runtime (in-process, binding a real listener). Also
// the cost of issuing a P-256 client certificate. `node --test` also loads this file (it runs
// every .js under test/); without --run it does nothing.
import net from 'node:net';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { issueGatewayClientCertificate, issueServerCertificate, trustBundlePem } from '../../../operator/ca.js';
import { ConfigClient, type ConfigSink } from '../../../proxy/config-client.js';
import { startProxyRuntime } from '../../../proxy/runtime.js';
import { canonicalJson, sha256Hex } from '../../../src/gatewayapi/canonical-json.js';
import { PROXY_CONFIG_SCHEMA, type ProxyConfig } from '../../../src/proxy-config.js';
import { GATEWAY_A, makePki, startServer, statusWhere, tempDir, writeCredentials } from '../../unit/delivery/fixtures.js';

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function summary(label: string, samples: number[]): string {
  const sorted = [...samples].sort((a, b) => a - b);
  const f = (n: number): string => n.toFixed(2);
  return `${label}: n=${sorted.length} p50=${f(percentile(sorted, 50))} ms p99=${f(percentile(sorted, 99))} ms max=${f(sorted[sorted.length - 1]!)} ms`;
}

async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** `listeners` Terminate listeners, each with its own real P-256 certificate and key. */
function largeConfigMaker(listeners: number): (listenerPort: number, round: number) => ProxyConfig {
  const pki = makePki();
  const certificates = Array.from({ length: listeners }, (_, i) => issueServerCertificate(pki.state, { dnsNames: [`app${i}.example.com`] }, new Date()));
  return (listenerPort, round) => {
    const body: Omit<ProxyConfig, 'version'> = {
      schema: PROXY_CONFIG_SCHEMA,
      gateway: GATEWAY_A,
      ports: [
        {
          port: listenerPort,
          listeners: certificates.map((cert, i) => ({
            name: `app${i}`,
            hostname: `app${i}.example.com`,
            mode: 'Terminate' as const,
            certificates: [
              { secret: { namespace: 'team-a', name: `app${i}` }, certificatePem: cert.certificatePem, privateKeyPem: cert.privateKeyPem, keyType: 'EC' as const, dnsNames: [`app${i}.example.com`], notAfter: cert.notAfter },
            ],
            hostnames: [{ hostname: `app${i}.example.com`, route: 0 }],
            routes: [{ namespace: 'team-a', name: `app${i}`, backends: [{ ref: `team-a/app${i}:80`, weight: 1, endpoints: [{ address: '127.0.0.1', port: 10_000 + round }] }] }],
          })),
        },
      ],
    };
    return { ...body, version: sha256Hex(canonicalJson(body)) };
  };
}

function config(listenerPort: number, round: number): ProxyConfig {
  const body: Omit<ProxyConfig, 'version'> = {
    schema: PROXY_CONFIG_SCHEMA,
    gateway: GATEWAY_A,
    ports: [
      {
        port: listenerPort,
        listeners: [
          {
            name: 'pass',
            hostname: 'pass.example.com',
            mode: 'Passthrough',
            certificates: [],
            hostnames: [{ hostname: 'pass.example.com', route: 0 }],
            // A different backend port each round makes every config a new version.
            routes: [{ namespace: 'team-a', name: 'route', backends: [{ ref: 'team-a/svc:443', weight: 1, endpoints: [{ address: '127.0.0.1', port: 10_000 + round }] }] }],
          },
        ],
      },
    ],
  };
  return { ...body, version: sha256Hex(canonicalJson(body)) };
}

async function measureDelivery(
  label: string,
  rounds: number,
  makeSink: () => Promise<{ sink: ConfigSink; close: () => Promise<void> }>,
  makeConfig: (listenerPort: number, round: number) => ProxyConfig = config,
): Promise<void> {
  const pki = makePki();
  const tmp = tempDir();
  const files = writeCredentials(tmp.dir, 'a', pki.clientA, trustBundlePem(pki.state));
  const { server } = await startServer(pki);
  const { sink, close } = await makeSink();
  const client = await ConfigClient.start({ url: `wss://127.0.0.1:${server.port}`, gateway: GATEWAY_A, ...files, sink, log: () => {} });
  const listenerPort = await freePort();
  const samples: number[] = [];
  try {
    for (let round = 0; round < rounds; round++) {
      const next = makeConfig(listenerPort, round);
      const start = performance.now();
      server.publish(next);
      await statusWhere(server, 'team-a/gw-a', (s) => s.ackedVersion === next.version);
      if (round > 0) samples.push(performance.now() - start); // round 0 includes binding the port
    }
  } finally {
    await client.close();
    await close();
    await server.close();
    tmp.cleanup();
  }
  const bytes = JSON.stringify(makeConfig(listenerPort, 0)).length;
  console.log(summary(`publish → ACK in status (${label}, config ${(bytes / 1024).toFixed(1)} KiB)`, samples));
}

async function main(rounds: number): Promise<void> {
  const pki = makePki();
  const issue: number[] = [];
  for (let i = 0; i < 200; i++) {
    const start = performance.now();
    issueGatewayClientCertificate(pki.state, { namespace: 'bench', name: `gw-${i}` }, new Date());
    issue.push(performance.now() - start);
  }
  console.log(summary('issue a P-256 client certificate', issue));

  await measureDelivery('recording sink', rounds, async () => {
    const applied: string[] = [];
    return { sink: { apply: async (c) => void applied.push(c.version) }, close: async () => {} };
  });
  const realRuntime = async (): Promise<{ sink: ConfigSink; close: () => Promise<void> }> => {
    const runtime = await startProxyRuntime({ address: '127.0.0.1', workers: 1, accessLog: null });
    return { sink: { apply: (c) => runtime.apply([c]) }, close: () => runtime.shutdown(0) };
  };
  await measureDelivery('real proxy runtime, 1 worker', rounds, realRuntime);
  const large = largeConfigMaker(100);
  await measureDelivery('recording sink, 100 Terminate listeners', Math.min(rounds, 50), async () => ({ sink: { apply: async () => {} }, close: async () => {} }), large);
  await measureDelivery('real proxy runtime, 100 Terminate listeners', Math.min(rounds, 50), realRuntime, large);
}

if (process.argv.includes('--run')) {
  const rounds = Number(process.argv[process.argv.indexOf('--run') + 1] ?? '') || 200;
  await main(rounds);
}
