// Which backend client the HTTP engine uses: Node's http.Agent (keep-alive) or undici's Pool.
// Not a test: run alone, briefly, on a quiet machine (`node dist/bench/http/pool-choice.js`).
// A backend in a child process answers on loopback; this process makes the requests with one
// client at a time and counts its own CPU (what the proxy would spend on the backend side).
// bench/http/engine-client.ts (in commit e33c924, which had both legs; docs/proxy.md) measured
// the same two through the whole engine.
import { spawn } from 'node:child_process';
import http from 'node:http';
import { Pool } from 'undici';

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

interface Client {
  name: string;
  get(path: string): Promise<number>;
  close(): Promise<void>;
}

function agentClient(port: number, connections: number): Client {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections, scheduling: 'lifo' });
  return {
    name: 'http.Agent (keepAlive)',
    get: (path) =>
      new Promise((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port, path, agent, method: 'GET' }, (res) => {
          let bytes = 0;
          res.on('data', (d: Buffer) => (bytes += d.length));
          res.on('end', () => resolve(bytes));
          res.on('error', reject);
        });
        req.on('error', reject);
        req.end();
      }),
    close: async () => agent.destroy(),
  };
}

function undiciClient(port: number, connections: number): Client {
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections, pipelining: 1 });
  return {
    name: 'undici Pool',
    get: async (path) => {
      const { body } = await pool.request({ path, method: 'GET' });
      let bytes = 0;
      for await (const chunk of body) bytes += (chunk as Buffer).length;
      return bytes;
    },
    close: () => pool.close(),
  };
}

async function run(client: Client, path: string, requests: number, concurrency: number): Promise<{ rps: number; perCpu: number }> {
  let next = 0;
  const started = performance.now();
  const cpu = process.cpuUsage();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < requests) await client.get(path);
    }),
  );
  const used = process.cpuUsage(cpu);
  const seconds = (performance.now() - started) / 1000;
  const cpuSeconds = (used.user + used.system) / 1e6;
  return { rps: requests / seconds, perCpu: requests / cpuSeconds };
}

async function main(): Promise<void> {
  const backend = spawn(process.execPath, ['-e', BACKEND], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve) => backend.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));
  const concurrency = 16;
  const cases: { label: string; path: string; requests: number }[] = [
    { label: 'small responses', path: '/small', requests: 20_000 },
    { label: '1 MiB responses', path: '/big', requests: 400 },
  ];
  const makers = [(p: number) => agentClient(p, concurrency), (p: number) => undiciClient(p, concurrency)];
  console.log(`| client | case | requests/s | requests per client CPU-second |`);
  console.log(`|---|---|---:|---:|`);
  for (const round of [1, 2]) {
    for (const c of cases) {
      for (const make of makers) {
        const client = make(port);
        await run(client, c.path, Math.ceil(c.requests / 10), concurrency); // warm-up: connections and JIT
        const r = await run(client, c.path, c.requests, concurrency);
        console.log(`| ${client.name} | ${c.label} (round ${round}) | ${r.rps.toFixed(0)} | ${r.perCpu.toFixed(0)} |`);
        await client.close();
      }
    }
  }
  backend.kill();
}

await main();
