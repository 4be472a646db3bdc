/**
 * The manifest thread of `tlsgate standalone` (started by threaded.ts): reads the manifests,
 * translates them, prints the status tables and watches the files, all the work of a reload
 * that grows with the manifests (a 50,000-route file took 30 s to parse and 5 s to translate).
 * The proxy runtime stays on the relay thread; here a stand-in forwards its calls there and
 * sends configs in pieces the relay thread takes one at a time (config-transfer.ts).
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { ProxyConfig } from '../../src/proxy-config.js';
import { PortsUnavailableError } from '../port-failures.js';
import { splitConfigs, type ConfigPiece } from '../config-transfer.js';
import { StandaloneGateway, type StandaloneRuntime } from './standalone.js';
import type { ApplyFailure, ManifestThreadOptions, RuntimeState, ToManifestThread, ToRelayThread } from './thread-protocol.js';

if (parentPort === null) throw new Error('manifest-thread.js runs as a worker thread of tlsgate standalone');
const relay = parentPort;
const options = workerData as ManifestThreadOptions;
const send = (message: ToRelayThread): void => relay.postMessage(message);

let nextId = 1;
const waiting = new Map<number, (reply: { state: RuntimeState; error: ApplyFailure | null }) => void>();
/** Pieces of an apply in progress, by request id, handed out as the relay thread asks. */
const outgoing = new Map<number, ConfigPiece[]>();

function request(message: (id: number) => ToRelayThread): Promise<{ state: RuntimeState; error: ApplyFailure | null }> {
  const id = nextId++;
  return new Promise((resolve) => {
    waiting.set(id, resolve);
    send(message(id));
  });
}

function errorOf(failure: ApplyFailure): Error {
  return failure.failures !== null && failure.failures.length > 0 ? new PortsUnavailableError(failure.failures) : new Error(failure.message);
}

/** The runtime as seen from this thread: its state as of the last answer from the relay thread. */
class RuntimeOnRelayThread implements StandaloneRuntime {
  private versions = new Map<string, string>();
  constructor(private state: RuntimeState) {
    this.versions = new Map(state.appliedVersions);
  }

  private update(state: RuntimeState): void {
    this.state = state;
    this.versions = new Map(state.appliedVersions);
  }

  async apply(configs: ProxyConfig[]): Promise<void> {
    const { skeleton, pieces } = splitConfigs(configs);
    let requestId = 0;
    const reply = await request((id) => {
      requestId = id;
      outgoing.set(id, pieces);
      return { type: 'apply', id, skeleton, pieceCount: pieces.length };
    });
    outgoing.delete(requestId);
    this.update(reply.state);
    if (reply.error !== null) throw errorOf(reply.error);
  }

  get appliedVersions(): ReadonlyMap<string, string> {
    return this.versions;
  }

  boundPorts(): RuntimeState['boundPorts'] {
    return this.state.boundPorts;
  }

  adminPort(): number | null {
    return this.state.adminPort;
  }

  async shutdown(graceMs?: number): Promise<void> {
    const reply = await request((id) => ({ type: 'shutdown', id, graceMs: graceMs ?? 0 }));
    this.update(reply.state);
  }
}

let gateway: StandaloneGateway | undefined;

relay.on('message', (message: ToManifestThread) => {
  switch (message.type) {
    case 'reply': {
      const resolve = waiting.get(message.id);
      waiting.delete(message.id);
      resolve?.({ state: message.state, error: message.error });
      break;
    }
    case 'next-piece': {
      const piece = outgoing.get(message.id)?.shift();
      if (piece === undefined) throw new Error(`manifest thread: the relay thread asked for a piece of apply #${message.id} beyond its last`);
      send({ type: 'piece', id: message.id, piece });
      break;
    }
    case 'stop':
      void (gateway?.stop(message.graceMs) ?? Promise.resolve()).finally(() => {
        send({ type: 'stopped' });
        relay.close();
      });
      break;
  }
});

try {
  gateway = await StandaloneGateway.start({
    ...options,
    out: (text) => send({ type: 'out', text }),
    log: (line) => send({ type: 'log', line }),
    startRuntime: async () => {
      const reply = await request((id) => ({ type: 'start-runtime', id }));
      if (reply.error !== null) throw errorOf(reply.error);
      return new RuntimeOnRelayThread(reply.state);
    },
  });
  send({ type: 'started', applyErrorCount: gateway.firstOutcome?.applyErrors.size ?? 0, retryingPorts: gateway.retryingPorts });
} catch (error) {
  send({ type: 'start-failed', message: (error as Error).message });
  relay.close();
}
