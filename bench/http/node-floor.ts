/**
 * The "plain Node" reference for HTTP: `http.createServer` (and `https.createServer` on the HTTPS
 * port) forwarding every request with `http.request` over a keep-alive `http.Agent`, bodies
 * piped both ways. It does what any Node reverse proxy must (hop-by-hop headers dropped,
 * X-Forwarded-For/-Proto/-Host set, 502 when the backend fails) and nothing else: no routing
 * table, limits, timeouts, metrics, logs or config swaps. A floor, not a product.
 * With more than one worker, node:cluster workers share the ports, as in tlsgate.
 *
 * Usage (started by the benchmark): node node-floor.js CONFIG_JSON_FILE
 */
import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { pathToFileURL } from 'node:url';

export interface HttpNodeFloorConfig {
  host: string;
  httpPort: number;
  httpsPort: number;
  backendHost: string;
  backendPort: number;
  certificatePem: string;
  privateKeyPem: string;
  workers: number;
}

/** RFC 9110 7.6.1 connection-specific fields; each proxy hop removes them. */
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade'];

function withoutHopByHop(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const copy: http.OutgoingHttpHeaders = { ...headers };
  const named = typeof headers.connection === 'string' ? headers.connection.split(',').map((name) => name.trim().toLowerCase()) : [];
  for (const name of [...HOP_BY_HOP, ...named]) delete copy[name];
  return copy;
}

function forwarder(config: HttpNodeFloorConfig, scheme: 'http' | 'https'): http.RequestListener {
  // No socket cap (as tlsgate's pools); LIFO reuse keeps the fewest connections warm.
  const agent = new http.Agent({ keepAlive: true, scheduling: 'lifo' });
  return (request, response) => {
    const headers = withoutHopByHop(request.headers);
    const client = request.socket.remoteAddress ?? '';
    const previous = request.headers['x-forwarded-for'];
    headers['x-forwarded-for'] = previous ? `${previous}, ${client}` : client;
    headers['x-forwarded-proto'] = scheme;
    if (request.headers.host !== undefined) headers['x-forwarded-host'] = request.headers.host;
    const upstream = http.request({ host: config.backendHost, port: config.backendPort, method: request.method, path: request.url, headers, agent }, (answer) => {
      response.writeHead(answer.statusCode ?? 502, withoutHopByHop(answer.headers));
      answer.pipe(response);
      answer.on('error', () => response.destroy());
    });
    upstream.on('error', () => {
      if (response.headersSent) response.destroy();
      else response.writeHead(502, { 'content-type': 'text/plain' }).end('bad gateway\n');
    });
    request.pipe(upstream);
    request.on('error', () => upstream.destroy());
  };
}

function serve(config: HttpNodeFloorConfig): void {
  http.createServer(forwarder(config, 'http')).listen({ host: config.host, port: config.httpPort, backlog: 4096 });
  const secure = https.createServer({ cert: config.certificatePem, key: config.privateKeyPem, minVersion: 'TLSv1.2', ALPNProtocols: ['http/1.1'] }, forwarder(config, 'https'));
  secure.on('tlsClientError', (_error, socket) => socket.destroy());
  secure.listen({ host: config.host, port: config.httpsPort, backlog: 4096 });
}

// Only when run as a script (the benchmark imports this file's types, nothing else).
const configFile = process.argv[2];
if (configFile && import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const config = JSON.parse(readFileSync(configFile, 'utf8')) as HttpNodeFloorConfig;
  // Exit (rather than die by the signal) so that --cpu-prof can write its profile.
  process.on('SIGTERM', () => process.exit(0));
  if (config.workers > 1 && cluster.isPrimary) {
    for (let i = 0; i < config.workers; i++) cluster.fork();
  } else {
    serve(config);
  }
}
