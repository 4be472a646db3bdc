/**
 * The former Node.js load generator, kept for `--load-side node` (to compare with the Go one in
 * bench/proxy/go, the default). A load generator process, pinned next to the backends. The
 * orchestrator sends one command at a time over IPC and gets one result back; several of these
 * processes can run the same command side by side, each with its share of the concurrency.
 *
 * Every connection's errors are counted once (the first one is reported); a connection that
 * has not closed a few seconds after the phase ended is destroyed and counted as an error, so
 * a proxy that never relays a half-close cannot hang the benchmark.
 */
import net from 'node:net';
import tls from 'node:tls';
import type { ConnectionSpec, LoadCommand, LoadReplyMessage, LoadRequestMessage, LoadResult } from './workloads.js';

/** How long connections may take to close after a phase ends before they count as failed. */
const CLOSE_GRACE_MS = 5000;

class ErrorTally {
  count = 0;
  first: string | undefined;
  add(error: Error): void {
    this.count += 1;
    this.first ??= error.message;
  }
  into(result: Omit<LoadResult, 'errors'>): LoadResult {
    return { ...result, errors: this.count, ...(this.first !== undefined ? { firstError: this.first } : {}) };
  }
}

function openConnection(spec: ConnectionSpec): net.Socket {
  if (spec.protocol === 'tls') {
    // TLS 1.3 only and no session reuse: every connection is a full handshake. Certificates are
    // checked once by the orchestrator's routing check; skipping verification here keeps the
    // client's CPU for handshakes.
    return tls.connect({
      host: spec.endpoint.host,
      port: spec.endpoint.port,
      servername: spec.servername,
      minVersion: 'TLSv1.3',
      maxVersion: 'TLSv1.3',
      rejectUnauthorized: false,
    });
  }
  const socket = net.connect({ host: spec.endpoint.host, port: spec.endpoint.port });
  const hello = Buffer.from(spec.helloBase64 ?? '', 'base64');
  socket.once('connect', () => socket.write(hello));
  return socket;
}

/** Opens connections back to back, `concurrency` at a time, for `durationMs`; counts full lifecycles. */
function connectRate(spec: ConnectionSpec, concurrency: number, durationMs: number): Promise<LoadResult> {
  return new Promise((resolve) => {
    const errors = new ErrorTally();
    const live = new Set<net.Socket>();
    const started = performance.now();
    let ops = 0;
    let stopping = false;
    let graceTimer: NodeJS.Timeout | undefined;

    const finish = (): void => {
      if (graceTimer) clearTimeout(graceTimer);
      resolve(errors.into({ ops, bytes: 0, elapsedMs: performance.now() - started }));
    };
    const startOne = (): void => {
      const socket = openConnection(spec);
      live.add(socket);
      let received = 0;
      let completed = false;
      let failed = false;
      socket.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (!completed && received >= spec.expectBytes) {
          completed = true;
          socket.end(); // a graceful close: the proxy relays the FIN both ways
        }
      });
      socket.on('error', (error) => {
        failed = true;
        errors.add(error);
      });
      socket.on('close', () => {
        live.delete(socket);
        if (completed) ops += 1;
        else if (!failed && !stopping) errors.add(new Error(`connection closed after ${received} of ${spec.expectBytes} expected bytes`));
        if (!stopping) startOne();
        else if (live.size === 0) finish();
      });
    };
    for (let i = 0; i < concurrency; i++) startOne();
    setTimeout(() => {
      stopping = true;
      if (live.size === 0) return finish();
      graceTimer = setTimeout(() => {
        for (const socket of live) {
          errors.add(new Error('connection still open after the phase ended'));
          socket.destroy();
        }
      }, CLOSE_GRACE_MS);
    }, durationMs);
  });
}

/** Keeps `connections` streams open for `durationMs` and counts the bytes the backends send. */
function bulk(spec: ConnectionSpec, connections: number, durationMs: number): Promise<LoadResult> {
  return new Promise((resolve) => {
    const errors = new ErrorTally();
    const sockets: net.Socket[] = [];
    let bytes = 0;
    let stopped = false;
    const started = performance.now();
    for (let i = 0; i < connections; i++) {
      const socket = openConnection(spec);
      socket.on('data', (chunk: Buffer) => {
        if (!stopped) bytes += chunk.length;
      });
      socket.on('error', (error) => {
        if (!stopped) errors.add(error);
      });
      socket.on('close', () => {
        if (!stopped) errors.add(new Error('bulk connection closed before the phase ended'));
      });
      sockets.push(socket);
    }
    setTimeout(() => {
      stopped = true;
      const elapsedMs = performance.now() - started;
      for (const socket of sockets) socket.destroy();
      resolve(errors.into({ ops: connections, bytes, elapsedMs }));
    }, durationMs);
  });
}

/** One connection at a time: the time from connect() to the backend's first byte. */
async function latency(spec: ConnectionSpec, count: number): Promise<LoadResult> {
  const errors = new ErrorTally();
  const samplesUs: number[] = [];
  const started = performance.now();
  for (let i = 0; i < count; i++) {
    await new Promise<void>((done) => {
      const t0 = process.hrtime.bigint();
      const socket = openConnection(spec);
      let received = 0;
      let failed = false;
      socket.setTimeout(CLOSE_GRACE_MS, () => socket.destroy(new Error('no answer within the grace period')));
      socket.on('data', (chunk: Buffer) => {
        if (received === 0) samplesUs.push(Number(process.hrtime.bigint() - t0) / 1000);
        received += chunk.length;
        if (received >= spec.expectBytes) socket.end();
      });
      socket.on('error', (error) => {
        failed = true;
        errors.add(error);
      });
      socket.on('close', () => {
        if (received < spec.expectBytes && !failed) errors.add(new Error(`connection closed after ${received} of ${spec.expectBytes} expected bytes`));
        done();
      });
    });
  }
  return errors.into({ ops: samplesUs.length, bytes: 0, elapsedMs: performance.now() - started, samplesUs });
}

/** Connections opened by `hold` and kept idle until `release`. */
const held = new Set<net.Socket>();

/** Opens `count` connections (each complete up to the backend's answer) and keeps them idle. */
function hold(spec: ConnectionSpec, count: number, concurrency: number): Promise<LoadResult> {
  return new Promise((resolve) => {
    const errors = new ErrorTally();
    const started = performance.now();
    let launched = 0;
    let settled = 0;
    let opened = 0;
    const settle = (): void => {
      settled += 1;
      if (launched < count) launch();
      else if (settled === count) resolve(errors.into({ ops: opened, bytes: 0, elapsedMs: performance.now() - started }));
    };
    const launch = (): void => {
      launched += 1;
      const socket = openConnection(spec);
      let received = 0;
      let done = false;
      socket.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (!done && received >= spec.expectBytes) {
          done = true;
          opened += 1;
          held.add(socket);
          settle();
        }
      });
      let failed = false;
      socket.on('error', (error) => {
        failed = true;
        errors.add(error);
      });
      socket.on('close', () => {
        held.delete(socket);
        if (!done) {
          done = true;
          if (!failed) errors.add(new Error(`connection closed after ${received} of ${spec.expectBytes} expected bytes`));
          settle();
        }
      });
    };
    for (let i = 0; i < Math.min(concurrency, count); i++) launch();
  });
}

function release(): Promise<LoadResult> {
  const started = performance.now();
  const sockets = [...held];
  held.clear();
  return Promise.all(
    sockets.map(
      (socket) =>
        new Promise<void>((done) => {
          if (socket.destroyed) return done();
          socket.once('close', () => done());
          socket.destroy();
        }),
    ),
  ).then(() => ({ ops: sockets.length, bytes: 0, errors: 0, elapsedMs: performance.now() - started }));
}

function run(command: LoadCommand): Promise<LoadResult> {
  switch (command.kind) {
    case 'connect-rate':
      return connectRate(command.connection, command.concurrency, command.durationMs);
    case 'bulk':
      return bulk(command.connection, command.connections, command.durationMs);
    case 'latency':
      return latency(command.connection, command.count);
    case 'hold':
      return hold(command.connection, command.count, command.concurrency);
    case 'release':
      return release();
  }
}

process.on('message', (message: LoadRequestMessage | { type: 'stop' }) => {
  if (message.type === 'stop') process.exit(0);
  if (message.type !== 'run') return;
  run(message.command).then(
    (result) => process.send!({ type: 'result', id: message.id, result } satisfies LoadReplyMessage),
    (error: Error) => {
      process.stderr.write(`bench load generator: ${error.message}\n`);
      process.exit(1);
    },
  );
});
process.on('disconnect', () => process.exit(0));
