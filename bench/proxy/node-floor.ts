/**
 * The "plain Node" reference: the least a Node.js proxy can do for the same work, so that the
 * tables separate what Node itself costs from what tlsgate adds on top (field notes 4.4 and
 * 4.5: "compare with a plain tls.Server on the same machine").
 *
 * Passthrough: buffer the first TLS record, read the SNI with the project's ClientHello parser,
 * connect, replay, pipe. Terminate: a `tls.Server` with the gateway certificate, then connect by
 * SNI and pipe. No limits, timeouts, metrics, logs or config swaps: a floor, not a product.
 * With more than one worker, node:cluster workers share the ports, as in tlsgate.
 *
 * Usage (started by the benchmark): node node-floor.js CONFIG_JSON_FILE
 */
import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { pathToFileURL } from 'node:url';
import { ClientHelloAssembler } from '../../proxy/clienthello.js';

export interface NodeFloorConfig {
  host: string;
  passthroughPort: number;
  terminatePort: number;
  /** SNI → backend port, for both listeners. */
  routes: Record<string, number>;
  certificatePem: string;
  privateKeyPem: string;
  workers: number;
}

const MAX_HELLO_BYTES = 16384;

function relay(client: net.Socket, backendPort: number | undefined, host: string, first?: Buffer): void {
  if (backendPort === undefined) {
    client.destroy();
    return;
  }
  // No Nagle on either side, as in any proxy that relays small server-first messages.
  client.setNoDelay(true);
  // The last three are what net.Socket sets on its copy of the options anyway; present here,
  // Node 20 does not give every socket's options new hidden classes (docs/performance.md,
  // "Where a connection's CPU goes"). tlsgate does the same, so the floor stays a floor.
  const upstream = net.connect({ host, port: backendPort, noDelay: true, emitClose: false, autoDestroy: true, decodeStrings: false } as net.NetConnectOpts);
  // pipe() forwards a clean end but not a reset or a destroy: when either side goes away,
  // so does the other (a TLS client that hangs up must not leave its backend streaming).
  upstream.on('error', () => upstream.destroy());
  client.on('error', () => client.destroy());
  upstream.on('close', () => client.destroy());
  client.on('close', () => upstream.destroy());
  upstream.once('connect', () => {
    if (first) upstream.write(first);
    client.pipe(upstream);
    upstream.pipe(client);
    client.resume();
  });
}

function servePassthrough(config: NodeFloorConfig): void {
  net
    .createServer((client) => {
      const assembler = new ClientHelloAssembler(MAX_HELLO_BYTES);
      const onData = (chunk: Buffer): void => {
        const result = assembler.push(chunk);
        if (result.kind === 'more') return;
        client.off('data', onData);
        client.pause();
        if (result.kind === 'error' || result.hello.sni === null) {
          client.destroy();
          return;
        }
        relay(client, config.routes[result.hello.sni], config.host, assembler.bytes());
      };
      client.on('data', onData);
      client.on('error', () => client.destroy());
    })
    .listen({ host: config.host, port: config.passthroughPort, backlog: 4096 });
}

function serveTerminate(config: NodeFloorConfig): void {
  const server = tls.createServer({ cert: config.certificatePem, key: config.privateKeyPem, minVersion: 'TLSv1.2' }, (client) => {
    client.pause();
    relay(client, config.routes[client.servername || ''], config.host);
  });
  server.on('tlsClientError', (_error, socket) => socket.destroy());
  server.listen({ host: config.host, port: config.terminatePort, backlog: 4096 });
}

// Only when run as a script (the benchmark imports this file's types, nothing else).
const configFile = process.argv[2];
if (configFile && import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const config = JSON.parse(readFileSync(configFile, 'utf8')) as NodeFloorConfig;
  // Exit (rather than die by the signal) so that --cpu-prof can write its profile.
  process.on('SIGTERM', () => process.exit(0));
  if (config.workers > 1 && cluster.isPrimary) {
    for (let i = 0; i < config.workers; i++) cluster.fork();
  } else {
    servePassthrough(config);
    serveTerminate(config);
  }
}
