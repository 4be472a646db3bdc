// A cluster worker: one engine, driven by the primary over IPC. Its metrics registry is
// handed to prom-client's cluster support so the primary can aggregate it; access-log
// lines are batched to the primary, which owns the log stream.
import cluster from 'node:cluster';
import client from 'prom-client';
import type { ProxyConfig, ProxySettings } from '../src/proxy-config.js';
import { joinPiece } from './config-transfer.js';
import { ProxyEngine } from './engine.js';
import { WORKER_OPTIONS_ENV, type PrimaryMessage, type WorkerBootOptions, type WorkerMessage } from './ipc.js';
import { createMetrics } from './metrics.js';
import { portFailuresOf } from './port-failures.js';
import { perWorkerConnectionLimit, resolveSettings } from './settings.js';

const LOG_FLUSH_MS = 100;
const LOG_FLUSH_BYTES = 32 * 1024;

function send(message: WorkerMessage): void {
  if (process.connected) process.send?.(message);
}

/** Batches access-log lines so that a busy worker sends a few IPC messages, not one per connection. */
class BatchedLog {
  private pending = '';
  private timer: NodeJS.Timeout | null = null;
  write(line: string): void {
    this.pending += line;
    if (this.pending.length >= LOG_FLUSH_BYTES) this.flush();
    else if (this.timer === null) this.timer = setTimeout(() => this.flush(), LOG_FLUSH_MS);
  }
  flush(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (this.pending === '') return;
    send({ type: 'tlsgate:log', lines: this.pending });
    this.pending = '';
  }
}

/** The config as this worker enforces it: its share of the per-listener connection limit. */
function withWorkerShare(config: ProxyConfig, runtimeSettings: ProxySettings | undefined, workers: number): ProxyConfig {
  const limit = resolveSettings(runtimeSettings, config.settings).maxConnectionsPerListener;
  return { ...config, settings: { ...config.settings, maxConnectionsPerListener: perWorkerConnectionLimit(limit, workers) } };
}

export function runWorker(): void {
  if (!cluster.isWorker) throw new Error('proxy worker: must run as a node:cluster worker');
  const boot = JSON.parse(process.env[WORKER_OPTIONS_ENV] ?? 'null') as WorkerBootOptions | null;
  if (boot === null) throw new Error(`proxy worker: ${WORKER_OPTIONS_ENV} is not set`);
  let engine: ProxyEngine;
  const metrics = createMetrics({ defaultMetrics: true, activeConnections: () => engine.activeByGateway() });
  client.AggregatorRegistry.setRegistries([metrics.registry]);
  // prom-client installs its worker-side IPC responder only when an AggregatorRegistry is built.
  new client.AggregatorRegistry();
  const log = boot.accessLog ? new BatchedLog() : null;
  engine = new ProxyEngine({
    address: boot.address,
    portOffset: boot.portOffset,
    settings: boot.settings,
    accessLog: log,
    metrics,
    ticketKeys: Buffer.from(boot.ticketKeysHex, 'hex'),
  });
  const apply = (message: PrimaryMessage & { type: 'tlsgate:apply' }): void => {
    engine.apply(message.configs.map((c) => withWorkerShare(c, boot.settings, boot.workers)), message.ephemeralPorts).then(
      () => send({ type: 'tlsgate:applied', id: message.id, error: null, bound: engine.boundPorts() }),
      (err: Error) => {
        const failures = portFailuresOf(err);
        send({ type: 'tlsgate:applied', id: message.id, error: err.message, ...(failures ? { failures } : {}), bound: engine.boundPorts() });
      },
    );
  };
  /** An apply whose pieces are still arriving (IPC keeps their order). */
  let arriving: { message: PrimaryMessage & { type: 'tlsgate:apply' }; missing: number } | null = null;
  process.on('message', (message: PrimaryMessage) => {
    switch (message?.type) {
      case 'tlsgate:apply':
        if (message.pieceCount > 0) arriving = { message, missing: message.pieceCount };
        else apply(message);
        break;
      case 'tlsgate:apply-piece':
        if (arriving === null || arriving.message.id !== message.id) {
          process.stderr.write(`tlsgate proxy worker: a piece of config apply #${message.id} arrived without its apply\n`);
          break;
        }
        joinPiece(arriving.message.configs, message.piece);
        if (--arriving.missing === 0) {
          const complete = arriving.message;
          arriving = null;
          apply(complete);
        }
        break;
      case 'tlsgate:ticket-keys':
        engine.rotateTicketKeys(Buffer.from(message.keysHex, 'hex'));
        send({ type: 'tlsgate:ticket-keys-set', id: message.id });
        break;
      case 'tlsgate:shutdown':
        engine
          .shutdown(message.graceMs)
          .catch((err: Error) => process.stderr.write(`tlsgate proxy worker: shutdown: ${err.message}\n`))
          .finally(() => {
            log?.flush();
            send({ type: 'tlsgate:drained' });
            // Leave once the primary has our last messages.
            setImmediate(() => process.disconnect());
          });
        break;
      default:
        break; // prom-client's own messages are handled by prom-client
    }
  });
  // The primary going away (crash, kill) must not leave an orphan holding ports.
  process.on('disconnect', () => process.exit(0));
  send({ type: 'tlsgate:started' });
}
