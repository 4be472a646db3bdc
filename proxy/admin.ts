// The admin server, on its own address: /healthz, /readyz, /metrics, /config_dump.
// It never shares a port with traffic, and /config_dump never shows key material.
import http from 'node:http';
import type net from 'node:net';
import { redactProxyConfig, type ProxyConfig } from '../src/proxy-config.js';

export interface AdminSource {
  ready(): boolean;
  /** Why not ready, named in the /readyz body (which port is not bound, no config yet, draining). */
  notReadyReason?(): string | null;
  metrics(): Promise<{ contentType: string; body: string }>;
  configs(): ProxyConfig[];
  appliedVersions: ReadonlyMap<string, string>;
}

/** Splits 'host:port', '[::1]:port' or ':port' (all interfaces). */
export function parseHostPort(value: string, what: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(value);
  const port = match ? Number(match[3]) : NaN;
  if (!match || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`${what}: expected HOST:PORT (e.g. 127.0.0.1:9901), got ${JSON.stringify(value)}`);
  }
  const host = match[1] ?? match[2] ?? '';
  return { host: host === '' ? '0.0.0.0' : host, port };
}

export interface AdminServer {
  server: http.Server;
  port: number;
  close(): Promise<void>;
}

export async function startAdminServer(address: string, source: AdminSource): Promise<AdminServer> {
  const { host, port } = parseHostPort(address, 'adminAddress');
  const server = http.createServer((req, res) => {
    handle(source, req, res).catch((err: Error) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`error: ${err.message}\n`);
    });
  });
  server.on('clientError', (_err, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => {
      server.removeListener('error', reject);
      resolve();
    });
  });
  return {
    server,
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function handle(source: AdminSource, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD' }).end();
    return;
  }
  switch (path) {
    case '/healthz':
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
      return;
    case '/readyz': {
      const ready = source.ready();
      const reason = ready ? null : (source.notReadyReason?.() ?? null);
      res.writeHead(ready ? 200 : 503, { 'content-type': 'text/plain' }).end(ready ? 'ready\n' : `not ready${reason ? `: ${reason}` : ''}\n`);
      return;
    }
    case '/metrics': {
      const { contentType, body } = await source.metrics();
      res.writeHead(200, { 'content-type': contentType }).end(body);
      return;
    }
    case '/config_dump': {
      const dump = {
        versions: Object.fromEntries(source.appliedVersions),
        configs: source.configs().map(redactProxyConfig),
      };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(dump, null, 2) + '\n');
      return;
    }
    default:
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /healthz /readyz /metrics /config_dump\n');
  }
}
