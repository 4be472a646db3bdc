// A quick, self-contained measurement (not a test, not the benchmark): new connections per
// proxy CPU-second through the engine, next to a minimal plain-Node relay doing the least
// possible work, on this machine, right now. The engine and the baseline each run in a child
// process (with the backend, identical for both), so their CPU time is read on their own.
//
//   npm run build && node dist/bench/proxy/probes/measure-churn.js [connections] [concurrency]
//
// The real comparison with nginx and HAProxy is `npm run bench:proxy` (bench/proxy).
import { fork } from 'node:child_process';
import net from 'node:net';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { captureClientHello, makeCert, tempDir } from '../../../test/e2e/proxy/helpers.js';

type Mode = 'engine-passthrough' | 'plain-passthrough' | 'engine-terminate' | 'plain-terminate';

interface Ready {
  port: number;
}

async function child(mode: Mode, certPath: string): Promise<void> {
  const { readFileSync } = await import('node:fs');
  const { certPem, keyPem } = JSON.parse(readFileSync(certPath, 'utf8')) as { certPem: string; keyPem: string };
  const backend = net.createServer({ allowHalfOpen: true }, (s) => {
    s.on('error', () => undefined);
    s.write('hi\n');
    s.resume();
    s.on('end', () => s.end());
  });
  await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
  const backendPort = (backend.address() as net.AddressInfo).port;
  let port: number;
  let stop: () => Promise<void>;
  if (mode.startsWith('engine')) {
    const { startProxyRuntime } = await import('../../../proxy/runtime.js');
    const { PROXY_CONFIG_SCHEMA } = await import('../../../src/proxy-config.js');
    const runtime = await startProxyRuntime({ address: '127.0.0.1', accessLog: null });
    const terminate = mode === 'engine-terminate';
    await runtime.apply([
      {
        schema: PROXY_CONFIG_SCHEMA,
        gateway: { namespace: 'bench', name: 'gw' },
        version: 'v1',
        ports: [
          {
            port: 0,
            listeners: [
              {
                name: 'l',
                hostname: null,
                mode: terminate ? 'Terminate' : 'Passthrough',
                certificates: terminate
                  ? [{ secret: { namespace: 'bench', name: 'cert' }, certificatePem: certPem, privateKeyPem: keyPem, keyType: 'EC', dnsNames: ['a.example.com'], notAfter: '2099-01-01T00:00:00Z' }]
                  : [],
                hostnames: [{ hostname: 'a.example.com', route: 0 }],
                routes: [{ namespace: 'bench', name: 'r', backends: [{ ref: 'bench/b:1', weight: 1, endpoints: [{ address: '127.0.0.1', port: backendPort }] }] }],
              },
            ],
          },
        ],
      },
    ]);
    port = runtime.boundPorts()[0]!.boundPort;
    stop = () => runtime.shutdown(100);
  } else {
    // The least a relay can do: first chunk, connect, write, pipe. (Terminate: tls.Server.)
    const relay = (client: net.Socket, first: Buffer | null) => {
      const upstream = net.connect({ port: backendPort, host: '127.0.0.1', allowHalfOpen: true }, () => {
        if (first) upstream.write(first);
        client.pipe(upstream);
        upstream.pipe(client);
      });
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
      client.on('close', () => upstream.destroy());
    };
    const server =
      mode === 'plain-terminate'
        ? tls.createServer({ cert: certPem, key: keyPem, allowHalfOpen: true }, (c) => relay(c, null))
        : net.createServer({ allowHalfOpen: true }, (c) => {
            c.on('error', () => undefined);
            c.once('data', (d: Buffer) => {
              c.pause();
              relay(c, d);
            });
          });
    if (server instanceof tls.Server) server.on('tlsClientError', () => undefined);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as net.AddressInfo).port;
    stop = async () => void server.close();
  }
  const start = process.cpuUsage();
  process.send?.({ port } satisfies Ready);
  process.on('message', async (m) => {
    if (m !== 'stop') return;
    const used = process.cpuUsage(start);
    process.send?.({ cpuSeconds: (used.user + used.system) / 1e6 });
    await stop();
    process.exit(0);
  });
}

async function measure(mode: Mode, certPath: string, hello: Buffer, total: number, concurrency: number): Promise<string> {
  const proc = fork(fileURLToPath(import.meta.url), ['--child', mode, certPath], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const { port } = await new Promise<Ready>((r) => proc.once('message', (m) => r(m as Ready)));
  const terminate = mode.endsWith('terminate');
  const one = () =>
    new Promise<void>((resolve) => {
      const socket = terminate
        ? tls.connect({ port, host: '127.0.0.1', servername: 'a.example.com', rejectUnauthorized: false })
        : net.connect({ port, host: '127.0.0.1', noDelay: true }, () => socket.write(hello));
      socket.once('data', () => socket.end());
      socket.on('error', () => undefined);
      socket.on('close', () => resolve());
    });
  let started = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (started < total) {
        started++;
        await one();
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  proc.send('stop');
  const { cpuSeconds } = await new Promise<{ cpuSeconds: number }>((r) => proc.once('message', (m) => r(m as { cpuSeconds: number })));
  await new Promise((r) => proc.once('exit', r));
  return `${mode.padEnd(20)} ${String(Math.round(total / seconds)).padStart(6)} conn/s   proxy CPU ${cpuSeconds.toFixed(2)} s   ${String(Math.round(total / cpuSeconds)).padStart(6)} conn per proxy CPU-s`;
}

if (process.argv[2] === '--child') {
  await child(process.argv[3] as Mode, process.argv[4] as string);
} else {
  const total = Number(process.argv[2] ?? 3000);
  const concurrency = Number(process.argv[3] ?? 8);
  const dir = tempDir('tlsgate-measure-');
  try {
    const cert = await makeCert(dir.dir, ['a.example.com'], 'EC');
    const certPath = `${dir.dir}/cert.json`;
    (await import('node:fs')).writeFileSync(certPath, JSON.stringify({ certPem: cert.certPem, keyPem: cert.keyPem }));
    const hello = await captureClientHello({ servername: 'a.example.com' });
    console.log(`${total} connections, ${concurrency} at a time, ECDSA P-256, loopback`);
    for (const mode of ['plain-passthrough', 'engine-passthrough', 'plain-terminate', 'engine-terminate'] as Mode[]) {
      console.log(await measure(mode, certPath, hello, total, concurrency));
    }
  } finally {
    dir.remove();
  }
}
