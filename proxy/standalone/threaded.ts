/**
 * `tlsgate standalone` with its manifests on another thread: this (the relay) thread runs the
 * proxy runtime and nothing that grows with the manifests; manifest-thread.ts reads, translates,
 * prints and watches. With one worker the relay thread is the only one that moves bytes, and a
 * reload done here would stop every connection for as long as it takes (issue 17, defect 3: 16 to
 * 28 s for 50,000 routes). What remains here per reload is receiving the configs in pieces, with
 * a turn of the event loop between two pieces, and the engine's apply, which compiles in slices
 * (engine.ts) and swaps the tables in one assignment.
 */
import { Worker } from 'node:worker_threads';
import { portFailuresOf } from '../port-failures.js';
import { startProxyRuntime, type ProxyRuntime } from '../runtime.js';
import { joinPiece, type ConfigPiece } from '../config-transfer.js';
import type { StandaloneOptions } from './standalone.js';
import type { ApplyFailure, ManifestThreadOptions, RuntimeState, ToManifestThread, ToRelayThread } from './thread-protocol.js';

export interface ThreadedStandalone {
  /** The proxy runtime (on this thread). */
  readonly runtime: ProxyRuntime;
  /** Gateways the proxy refused at the first load. */
  readonly firstApplyErrorCount: number;
  /** True while some listener port could not be bound and is tried again. */
  readonly retryingPorts: boolean;
  stop(graceMs: number): Promise<void>;
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function failureOf(error: unknown): ApplyFailure {
  return { message: (error as Error).message, failures: portFailuresOf(error) };
}

export function startThreadedStandalone(options: StandaloneOptions): Promise<ThreadedStandalone> {
  const threadOptions: ManifestThreadOptions = {
    paths: options.paths,
    address: options.address,
    portOffset: options.portOffset,
    watch: options.watch,
    ...(options.adminAddress !== undefined ? { adminAddress: options.adminAddress } : {}),
    ...(options.debounceMs !== undefined ? { debounceMs: options.debounceMs } : {}),
    ...(options.portRetryMs !== undefined ? { portRetryMs: options.portRetryMs } : {}),
    ...(options.controllerName !== undefined ? { controllerName: options.controllerName } : {}),
    ...(options.maxFileBytes !== undefined ? { maxFileBytes: options.maxFileBytes } : {}),
  };
  const worker = new Worker(new URL('./manifest-thread.js', import.meta.url), { workerData: threadOptions });
  const send = (message: ToManifestThread): void => worker.postMessage(message);
  let runtime: ProxyRuntime | undefined;
  let threadRunning = true;
  /** Set once the manifest thread's shutdown of the runtime has finished. */
  let runtimeStopped = false;
  let stopped: (() => void) | undefined;
  const pieceWaiters = new Map<number, (piece: ConfigPiece) => void>();

  const state = (): RuntimeState => ({
    boundPorts: runtime?.boundPorts() ?? [],
    appliedVersions: [...(runtime?.appliedVersions ?? new Map<string, string>())],
    adminPort: runtime?.adminPort() ?? null,
  });
  const reply = (id: number, error: unknown): void => send({ type: 'reply', id, state: state(), error: error === null ? null : failureOf(error) });
  const nextPiece = (id: number): Promise<ConfigPiece> =>
    new Promise((resolve) => {
      pieceWaiters.set(id, resolve);
      send({ type: 'next-piece', id });
    });

  const apply = async (request: ToRelayThread & { type: 'apply' }): Promise<void> => {
    try {
      // One piece per turn of the event loop: the connections' events run between two.
      for (let i = 0; i < request.pieceCount; i++) {
        await turn();
        joinPiece(request.skeleton, await nextPiece(request.id));
      }
      if (runtime === undefined) throw new Error('standalone: a config arrived before the proxy runtime started');
      await runtime.apply(request.skeleton);
      reply(request.id, null);
    } catch (error) {
      reply(request.id, error);
    }
  };

  return new Promise((resolve, reject) => {
    let settled = false;
    const handle: ThreadedStandalone = {
      get runtime(): ProxyRuntime {
        if (runtime === undefined) throw new Error('standalone: the proxy runtime has not started');
        return runtime;
      },
      firstApplyErrorCount: 0,
      retryingPorts: false,
      stop: async (graceMs) => {
        if (threadRunning) {
          const done = new Promise<void>((resolveStop) => (stopped = resolveStop));
          send({ type: 'stop', graceMs });
          await done;
        }
        // The thread may have failed before it could stop the runtime.
        if (!runtimeStopped) await runtime?.shutdown(graceMs);
        await worker.terminate();
      },
    };
    worker.on('message', (message: ToRelayThread) => {
      switch (message.type) {
        case 'out':
          options.out(message.text);
          break;
        case 'log':
          options.log(message.line);
          break;
        case 'start-runtime':
          startProxyRuntime({
            address: options.address,
            portOffset: options.portOffset,
            ...(options.workers !== undefined ? { workers: options.workers } : {}),
            ...(options.adminAddress !== undefined ? { adminAddress: options.adminAddress } : {}),
            ...(options.accessLog !== undefined ? { accessLog: options.accessLog } : {}),
          }).then(
            (started) => {
              runtime = started;
              reply(message.id, null);
            },
            (error: unknown) => reply(message.id, error),
          );
          break;
        case 'apply':
          void apply(message);
          break;
        case 'piece': {
          const waiter = pieceWaiters.get(message.id);
          pieceWaiters.delete(message.id);
          waiter?.(message.piece);
          break;
        }
        case 'shutdown':
          (runtime?.shutdown(message.graceMs) ?? Promise.resolve()).then(
            () => {
              runtimeStopped = true;
              reply(message.id, null);
            },
            (error: unknown) => reply(message.id, error),
          );
          break;
        case 'started':
          settled = true;
          Object.assign(handle, { firstApplyErrorCount: message.applyErrorCount, retryingPorts: message.retryingPorts });
          resolve(handle);
          break;
        case 'start-failed':
          settled = true;
          reject(new Error(message.message));
          break;
        case 'stopped':
          stopped?.();
          break;
      }
    });
    worker.on('error', (error) => {
      // An error in the manifest thread ends reloads, not serving: say so and keep relaying.
      options.log(`error: the manifest thread failed, reloads stop (still serving the last config): ${error.stack ?? error.message}`);
      if (!settled) {
        settled = true;
        reject(error);
      }
    });
    worker.on('exit', () => {
      threadRunning = false;
      stopped?.();
      if (!settled) {
        settled = true;
        reject(new Error('standalone: the manifest thread ended before the first load'));
      }
    });
  });
}
