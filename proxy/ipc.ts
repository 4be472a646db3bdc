// Messages between the cluster primary and its workers (node:cluster IPC, JSON).
import type { ProxyConfig, ProxySettings } from '../src/proxy-config.js';
import type { ConfigPiece } from './config-transfer.js';
import type { BoundPort } from './engine.js';
import type { PortFailure } from './port-failures.js';

/** Passed to a worker in its environment, as JSON. */
export interface WorkerBootOptions {
  address: string;
  portOffset: number;
  settings: ProxySettings | undefined;
  accessLog: boolean;
  /** The session-ticket key ring (proxy/certificates.ts TicketKeyRing), hex. */
  ticketKeysHex: string;
  /** How many workers share the listeners: each enforces its share of the connection limits. */
  workers: number;
}

export const WORKER_OPTIONS_ENV = 'TLSGATE_PROXY_WORKER_OPTIONS';

export type PrimaryMessage =
  /** `configs` is the skeleton (config-transfer.ts); `pieceCount` pieces follow, then the worker applies. */
  | { type: 'tlsgate:apply'; id: number; configs: ProxyConfig[]; ephemeralPorts: Record<string, number>; pieceCount: number }
  | { type: 'tlsgate:apply-piece'; id: number; piece: ConfigPiece }
  | { type: 'tlsgate:ticket-keys'; id: number; keysHex: string }
  | { type: 'tlsgate:shutdown'; graceMs: number };

export type WorkerMessage =
  | { type: 'tlsgate:started' }
  /** `failures`: the ports that could not be bound, when that is why the apply failed. */
  | { type: 'tlsgate:applied'; id: number; error: string | null; failures?: PortFailure[]; bound: BoundPort[] }
  | { type: 'tlsgate:ticket-keys-set'; id: number }
  | { type: 'tlsgate:log'; lines: string }
  | { type: 'tlsgate:drained' };

export function isWorkerMessage(value: unknown): value is WorkerMessage {
  return typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string' && (value as { type: string }).type.startsWith('tlsgate:');
}
