// The backend client of the HTTP engine measured through the engine itself: the proxy runs in
// a process of its own (with the Deployment's V8 flags) once with Node's http.Agent and once
// with undici (TLSGATE_HTTP_CLIENT=undici), a backend in another, and this process makes
// keep-alive requests through the proxy. Reports requests per proxy CPU-second (from
// /proc/<pid>/stat) and requests per second. Not a test: run alone, briefly
// (`node dist/bench/http/engine-client.js`).
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { PROXY_CONFIG_SCHEMA, type ProxyConfig } from '../../src/proxy-config.js';

const BACKEND = `
const http = require('node:http');
const big = Buffer.alloc(1024 * 1024, 120);
http.createServer({ keepAliveTimeout: 60000 }, (req, res) => {
  req.resume();
  req.on('end', () => {
    if (req.url === '/big') { res.writeHead(200, { 'content-length': big.length }); res.end(big); }
    else { res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 2 }); res.end('ok'); }
  });
}).listen(0, '127.0.0.1', function () { console.log(this.address().port); });
`;

function config(backendPort: number): ProxyConfig {
  return {
    schema: PROXY_CONFIG_SCHEMA,
    gateway: { namespace: 'bench', name: 'http' },
    version: 'v1',
    ports: [
      {
        port: 0,
        listeners: [
          {
            name: 'web',
            protocol: 'HTTP',
            hostname: null,
            mode: 'Terminate',
            certificates: [],
            hostnames: [],
            routes: [],
            http: {
              virtualHosts: [{ hostname: '*', matches: [{ route: 0, rule: 0, match: { path: { type: 'PathPrefix', value: '/' }, headers: [], queryParams: [] } }] }],
              routes: [{ namespace: 'bench', name: 'r', rules: [{ filters: [], backends: [{ ref: 'bench/b:80', weight: 1, endpoints: [{ address: '127.0.0.1', port: backendPort }] }] }] }],
            },
          },
        ],
      },
    ],
  };
}

function firstLine(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    child.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
    child.once('exit', (code) => reject(new Error(`child exited with ${code}`)));
  });
}

async function startProxy(client: 'agent' | 'undici', backendPort: number): Promise<{ child: ChildProcess; port: number }> {
  const runtimeUrl = new URL('../../proxy/runtime.js', import.meta.url).href;
  const script = `
    const { startProxyRuntime } = await import(${JSON.stringify(runtimeUrl)});
    const runtime = await startProxyRuntime({ address: '127.0.0.1', accessLog: null });
    await runtime.apply([JSON.parse(process.env.BENCH_CONFIG)]);
    console.log(runtime.boundPorts()[0].boundPort);
  `;
  const child = spawn(process.execPath, ['--initial-old-space-size=64', '--expose-gc', '--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, BENCH_CONFIG: JSON.stringify(config(backendPort)), TLSGATE_HTTP_CLIENT: client, GLIBC_TUNABLES: 'glibc.malloc.trim_threshold=33554432' },
  });
  return { child, port: await firstLine(child) };
}

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks of 1/100 s
}

async function load(port: number, path: string, requests: number, concurrency: number, agent: http.Agent): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < requests) {
        await new Promise<void>((resolve, reject) => {
          http
            .get({ host: '127.0.0.1', port, path, agent, headers: { host: 'bench.example' } }, (res) => {
              res.resume();
              res.on('end', () => resolve());
            })
            .on('error', reject);
        });
      }
    }),
  );
}

async function main(): Promise<void> {
  const backend = spawn(process.execPath, ['-e', BACKEND], { stdio: ['ignore', 'pipe', 'inherit'] });
  const backendPort = await firstLine(backend);
  const cases = [
    { label: 'small responses', path: '/small', requests: 8_000 },
    { label: '1 MiB responses', path: '/big', requests: 300 },
  ];
  console.log('| backend client | case | requests/s | requests per proxy CPU-second |');
  console.log('|---|---|---:|---:|');
  for (const round of [1, 2]) {
    for (const c of cases) {
      for (const client of ['agent', 'undici'] as const) {
        const proxy = await startProxy(client, backendPort);
        const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
        await load(proxy.port, c.path, Math.ceil(c.requests / 10), 16, agent); // warm-up
        const cpu = cpuSeconds(proxy.child.pid!);
        const started = performance.now();
        await load(proxy.port, c.path, c.requests, 16, agent);
        const seconds = (performance.now() - started) / 1000;
        const used = cpuSeconds(proxy.child.pid!) - cpu;
        console.log(`| ${client === 'agent' ? 'http.Agent' : 'undici Pool'} | ${c.label} (round ${round}) | ${(c.requests / seconds).toFixed(0)} | ${(c.requests / used).toFixed(0)} |`);
        agent.destroy();
        proxy.child.kill();
      }
    }
  }
  backend.kill();
}

await main();
