/**
 * The messages between the relay thread (threaded.ts: the proxy runtime and its sockets) and
 * the manifest thread (manifest-thread.ts: reading, translating and printing).
 */
import type { ProxyConfig } from '../../src/proxy-config.js';
import type { BoundPort } from '../engine.js';
import type { PortFailure } from '../port-failures.js';
import type { ConfigPiece } from '../config-transfer.js';

/** The StandaloneOptions that can cross a thread boundary (no functions, no streams). */
export interface ManifestThreadOptions {
  paths: string[];
  address: string;
  portOffset: number;
  adminAddress?: string;
  watch: boolean;
  debounceMs?: number;
  portRetryMs?: number;
  controllerName?: string;
  maxFileBytes?: number;
}

/** What the manifest thread's stand-in for the runtime knows between calls. */
export interface RuntimeState {
  boundPorts: BoundPort[];
  appliedVersions: [string, string][];
  adminPort: number | null;
}

export interface ApplyFailure {
  message: string;
  /** Set when the runtime refused the set for ports it could not bind (PortsUnavailableError). */
  failures: PortFailure[] | null;
}

export type ToRelayThread =
  | { type: 'out'; text: string }
  | { type: 'log'; line: string }
  | { type: 'start-runtime'; id: number }
  | { type: 'apply'; id: number; skeleton: ProxyConfig[]; pieceCount: number }
  | { type: 'piece'; id: number; piece: ConfigPiece }
  | { type: 'shutdown'; id: number; graceMs: number }
  | { type: 'started'; applyErrorCount: number; retryingPorts: boolean }
  | { type: 'start-failed'; message: string }
  | { type: 'stopped' };

export type ToManifestThread =
  | { type: 'reply'; id: number; state: RuntimeState; error: ApplyFailure | null }
  | { type: 'next-piece'; id: number }
  | { type: 'stop'; graceMs: number };
