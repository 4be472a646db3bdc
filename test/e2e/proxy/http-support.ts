// Fixtures for the HTTP engine's e2e tests: HTTP/HTTPS listener configs written by hand in the
// contract's shape (src/proxy-config.ts, "HTTP (HTTPRoute)"), a real echo backend on loopback
// that reports what it received (like the conformance suite's echo-basic), and clients that
// report status, headers and body.
import { execFile } from 'node:child_process';
import http from 'node:http';
import http2 from 'node:http2';
import type net from 'node:net';
import { WebSocketServer } from 'ws';
import type {
  BackendConfig, CertificateConfig, HttpBackendConfig, HttpFilterConfig, HttpListenerConfig, HttpMatchConfig, HttpMatchEntry, HttpRuleConfig, ListenerConfig,
} from '../../../src/proxy-config.js';

// ---- Configs ----------------------------------------------------------------------------

export interface MatchSpec {
  path?: HttpMatchConfig['path'];
  headers?: HttpMatchConfig['headers'];
  queryParams?: HttpMatchConfig['queryParams'];
  method?: string;
}

export interface RuleSpec {
  name?: string;
  matches?: MatchSpec[];
  filters?: HttpFilterConfig[];
  backends: HttpBackendConfig[];
  timeouts?: HttpRuleConfig['timeouts'];
}

export interface RouteSpec {
  name: string;
  /** Empty or absent: every host the listener serves (`*`). */
  hostnames?: string[];
  rules: RuleSpec[];
}

export interface HttpListenerSpec {
  name: string;
  protocol: 'HTTP' | 'HTTPS';
  hostname: string | null;
  certificates?: CertificateConfig[];
  reject?: string;
  routes: RouteSpec[];
}

/** Precedence as the contract states it (translate's job in production; a simplified copy for tests). */
function precedence(a: { match: HttpMatchConfig; order: number[] }, b: { match: HttpMatchConfig; order: number[] }): number {
  const kind = (m: HttpMatchConfig) => (m.path.type === 'Exact' ? 0 : m.path.type === 'PathPrefix' ? 1 : 2);
  return (
    kind(a.match) - kind(b.match) ||
    (a.match.path.type === 'PathPrefix' ? b.match.path.value.length - a.match.path.value.length : 0) ||
    (b.match.method ? 1 : 0) - (a.match.method ? 1 : 0) ||
    b.match.headers.length - a.match.headers.length ||
    b.match.queryParams.length - a.match.queryParams.length ||
    a.order.reduce((d, v, i) => d || v - (b.order[i] as number), 0)
  );
}

function hostnameRank(h: string): [number, number, string] {
  if (h === '*') return [2, 0, h];
  if (h.startsWith('*.')) return [1, -h.split('.').length, h];
  return [0, 0, h];
}

export function httpListenerConfig(spec: HttpListenerSpec): ListenerConfig {
  const routes = spec.routes.map((r) => ({
    namespace: 'default',
    name: r.name,
    rules: r.rules.map((rule): HttpRuleConfig => ({
      ...(rule.name !== undefined ? { name: rule.name } : {}),
      filters: rule.filters ?? [],
      backends: rule.backends,
      ...(rule.timeouts !== undefined ? { timeouts: rule.timeouts } : {}),
    })),
  }));
  const byHost = new Map<string, { match: HttpMatchConfig; order: number[]; entry: HttpMatchEntry }[]>();
  spec.routes.forEach((r, ri) => {
    const hostnames = r.hostnames && r.hostnames.length > 0 ? r.hostnames : ['*'];
    for (const hostname of hostnames) {
      const list = byHost.get(hostname) ?? [];
      byHost.set(hostname, list);
      r.rules.forEach((rule, ui) => {
        const matches = rule.matches && rule.matches.length > 0 ? rule.matches : [{}];
        matches.forEach((m, mi) => {
          const match: HttpMatchConfig = {
            path: m.path ?? { type: 'PathPrefix', value: '/' },
            headers: m.headers ?? [],
            queryParams: m.queryParams ?? [],
            ...(m.method !== undefined ? { method: m.method } : {}),
          };
          list.push({ match, order: [ri, ui, mi], entry: { route: ri, rule: ui, match } });
        });
      });
    }
  });
  const virtualHosts: HttpListenerConfig['virtualHosts'] = [...byHost.entries()]
    .sort(([a], [b]) => {
      const [ka, la, na] = hostnameRank(a);
      const [kb, lb, nb] = hostnameRank(b);
      return ka - kb || la - lb || na.localeCompare(nb);
    })
    .map(([hostname, list]) => ({ hostname, matches: list.sort(precedence).map((x) => x.entry) }));
  const out: ListenerConfig = {
    name: spec.name,
    protocol: spec.protocol,
    hostname: spec.hostname,
    mode: 'Terminate',
    certificates: spec.certificates ?? [],
    hostnames: [],
    routes: [],
    http: { virtualHosts, routes },
  };
  if (spec.reject !== undefined) out.reject = spec.reject;
  return out;
}

export function httpBackend(name: string, port: number, weight = 1, extra: Partial<HttpBackendConfig> = {}): HttpBackendConfig {
  const base: BackendConfig = { ref: `default/${name}:80`, weight, endpoints: [{ address: '127.0.0.1', port }] };
  return { ...base, ...extra };
}

// ---- The echo backend -------------------------------------------------------------------

export interface EchoReply {
  backend: string;
  method: string;
  /** The request-target the backend received (path and query). */
  url: string;
  host: string | undefined;
  /** Lowercase names; repeated headers as Node joins them. */
  headers: Record<string, string | string[] | undefined>;
  rawHeaders: string[];
  httpVersion: string;
  bodyBytes: number;
}

export interface EchoBackend {
  name: string;
  port: number;
  /** Requests answered so far. */
  requests: number;
  /** TCP connections accepted so far (keep-alive reuse shows as requests > connections). */
  connections: number;
  close(): Promise<void>;
}

/**
 * An HTTP/1.1 backend: answers JSON describing the request (EchoReply). Special paths:
 * `/slow?ms=N` answers after N ms; `/download?bytes=N` streams N bytes; `/drip?ms=N` sends
 * headers and a first chunk, then waits N ms before the rest; `/cut` sends part of a body and
 * resets the connection; `/status?code=N` answers with that status. WebSocket upgrades echo
 * each message back prefixed with the backend's name.
 */
export async function echoBackend(name: string): Promise<EchoBackend> {
  const sockets = new Set<net.Socket>();
  const backend: EchoBackend = { name, port: 0, requests: 0, connections: 0, close: async () => undefined };
  const server = http.createServer({ keepAliveTimeout: 30_000 }, (req, res) => {
    backend.requests++;
    const url = new URL(req.url ?? '/', 'http://backend');
    let bodyBytes = 0;
    req.on('data', (d: Buffer) => (bodyBytes += d.length));
    req.on('end', () => {
      const reply: EchoReply = {
        backend: name,
        method: req.method ?? '',
        url: req.url ?? '',
        host: req.headers.host,
        headers: req.headers,
        rawHeaders: req.rawHeaders,
        httpVersion: req.httpVersion,
        bodyBytes,
      };
      const json = JSON.stringify(reply);
      const send = (status = 200) => {
        res.writeHead(status, { 'content-type': 'application/json', 'x-backend': name, 'x-echo-remove': 'yes', 'content-length': Buffer.byteLength(json) });
        res.end(json);
      };
      // The last segment chooses the behaviour, so that routes with path prefixes reach it too.
      switch (url.pathname.slice(url.pathname.lastIndexOf('/'))) {
        case '/slow':
          setTimeout(send, Number(url.searchParams.get('ms') ?? 1000));
          return;
        case '/download': {
          const total = Number(url.searchParams.get('bytes') ?? 0);
          res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': total, 'x-backend': name });
          const chunk = Buffer.alloc(64 * 1024, 97);
          let sent = 0;
          const pump = () => {
            while (sent < total) {
              const piece = chunk.subarray(0, Math.min(chunk.length, total - sent));
              sent += piece.length;
              if (!res.write(piece)) return void res.once('drain', pump);
            }
            res.end();
          };
          pump();
          return;
        }
        case '/drip':
          res.writeHead(200, { 'content-type': 'text/plain', 'x-backend': name });
          res.write('first;');
          setTimeout(() => res.end('rest'), Number(url.searchParams.get('ms') ?? 1000));
          return;
        case '/cut':
          res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 1000 });
          res.write('partial');
          setTimeout(() => res.socket?.resetAndDestroy(), 50);
          return;
        case '/status':
          send(Number(url.searchParams.get('code') ?? 200));
          return;
        default:
          send();
      }
    });
  });
  server.on('connection', (socket: net.Socket) => {
    backend.connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    wss.handleUpgrade(req, socket as net.Socket, head, (ws) => {
      ws.on('message', (data, isBinary) => ws.send(isBinary ? data : `${name}:${String(data)}`));
    });
  });
  backend.port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)));
  backend.close = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      wss.close();
      server.close(() => resolve());
    });
  return backend;
}

// ---- Clients ----------------------------------------------------------------------------

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** The body parsed as an EchoReply when it is one. */
  echo: EchoReply | null;
}

function parseEcho(body: string): EchoReply | null {
  try {
    const parsed = JSON.parse(body) as EchoReply;
    return typeof parsed.backend === 'string' ? parsed : null;
  } catch {
    return null;
  }
}

/** One HTTP/1.1 request with Node's client (no keep-alive unless an agent is given). */
export function get(port: number, path: string, options: { host?: string; method?: string; headers?: http.OutgoingHttpHeaders; body?: string; agent?: http.Agent } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers: { host: options.host ?? 'example.com', ...options.headers }, agent: options.agent ?? false },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body, echo: parseEcho(body) }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/** One HTTP/2 request over TLS with Node's http2 client. */
export function get2(port: number, servername: string, path: string, options: { authority?: string; method?: string; headers?: http2.OutgoingHttpHeaders; body?: string } = {}): Promise<Reply & { alpn: string | false | undefined }> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`https://127.0.0.1:${port}`, { servername, rejectUnauthorized: false });
    session.on('error', reject);
    const req = session.request({ ':path': path, ':method': options.method ?? 'GET', ':authority': options.authority ?? servername, ...options.headers });
    let status = 0;
    let headers: http.IncomingHttpHeaders = {};
    req.on('response', (h) => {
      status = Number(h[':status']);
      headers = h as http.IncomingHttpHeaders;
    });
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (body += d));
    req.on('end', () => {
      const alpn = session.alpnProtocol;
      session.close();
      resolve({ status, headers, body, echo: parseEcho(body), alpn });
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

export interface CurlResult {
  status: number;
  /** Response headers, lowercase names (last value wins). */
  headers: Record<string, string>;
  body: string;
  httpVersion: string;
}

/** Runs curl; `args` come after the defaults (-s, -k, the headers dumped). */
export function curl(args: string[]): Promise<CurlResult> {
  return new Promise((resolve, reject) => {
    execFile('curl', ['-s', '-k', '-D', '-', '--max-time', '20', ...args], { maxBuffer: 16 * 1024 * 1024 }, (err, stdout) => {
      if (err && !stdout) return reject(err);
      const split = stdout.indexOf('\r\n\r\n');
      const head = split === -1 ? stdout : stdout.slice(0, split);
      const body = split === -1 ? '' : stdout.slice(split + 4);
      const lines = head.split('\r\n');
      const statusLine = /^HTTP\/([\d.]+) (\d+)/.exec(lines[0] ?? '');
      const headers: Record<string, string> = {};
      for (const line of lines.slice(1)) {
        const colon = line.indexOf(':');
        if (colon > 0) headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
      }
      resolve({ status: Number(statusLine?.[2] ?? 0), headers, body, httpVersion: statusLine?.[1] ?? '' });
    });
  });
}

// ---- A proxy in a process of its own (to measure its memory) ------------------------------

export interface ChildProxy {
  pid: number;
  port: number;
  /** Resident set size now, from /proc/<pid>/status. */
  rssBytes(): number;
  stop(): Promise<void>;
}

/**
 * Starts the runtime in a child Node process with `config` (port 0) and the same V8 flags the
 * proxy Deployment uses, and reports the bound port.
 */
export async function childProxy(config: import('../../../src/proxy-config.js').ProxyConfig): Promise<ChildProxy> {
  const { spawn } = await import('node:child_process');
  const { readFileSync } = await import('node:fs');
  const { fileURLToPath } = await import('node:url');
  const runtimeUrl = new URL('../../../proxy/runtime.js', import.meta.url).href;
  const script = `
    const { startProxyRuntime } = await import(${JSON.stringify(runtimeUrl)});
    const runtime = await startProxyRuntime({ address: '127.0.0.1', accessLog: null });
    await runtime.apply([JSON.parse(process.env.TLSGATE_TEST_CONFIG)]);
    process.stdout.write(String(runtime.boundPorts()[0].boundPort) + '\\n');
    process.stdin.on('end', async () => { await runtime.shutdown(500); process.exit(0); });
    process.stdin.resume();
  `;
  const child = spawn(process.execPath, ['--initial-old-space-size=64', '--expose-gc', '--input-type=module', '-e', script], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, TLSGATE_TEST_CONFIG: JSON.stringify(config) },
    cwd: fileURLToPath(new URL('.', import.meta.url)),
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
    child.once('exit', (code) => reject(new Error(`the proxy child exited with ${code}`)));
  });
  return {
    pid: child.pid!,
    port,
    rssBytes() {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.stdin!.end();
        setTimeout(() => child.kill('SIGKILL'), 3000).unref();
      }),
  };
}
