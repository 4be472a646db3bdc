/**
 * The traffic side of the convergence benchmark: a real Node TLS client that connects to the
 * Gateway's address with an SNI, and asks the echo backend behind it who it is.
 *
 * Every probe is a new TCP connection and a new TLS session, so it sees the proxy's routing
 * decision at that moment, not one made earlier for a pooled connection.
 */
import tls from 'node:tls';

export interface ProbeTarget {
  host: string;
  port: number;
  serverName: string;
  /** PEM of the CA that signed the certificate the client must see (gateway's or backend's). */
  ca: string;
  /** The echo backend's `service` field that proves the connection reached the expected backend. */
  expectedService: string;
  /** Passthrough: the backend terminates TLS, so it must report our SNI and isTLS=true. */
  passthrough: boolean;
}

export type ProbeResult =
  | { ok: true }
  | { ok: false; reason: string };

/** What tcp-echo (test/images/tcp-echo.ts) answers to `TEST`. */
interface EchoAssertions {
  service?: string;
  isTLS?: boolean;
  tls?: { serverName?: string };
}

/** One connection: handshake, the backend's greeting, `TEST`, its JSON line, then close. */
export function probeOnce(target: ProbeTarget, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    let settled = false;
    let buffered = '';
    let greeted = false;
    const socket = tls.connect({ host: target.host, port: target.port, servername: target.serverName, ca: target.ca, minVersion: 'TLSv1.2' });
    const finish = (result: ProbeResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => finish({ ok: false, reason: `no answer within ${timeoutMs} ms` }), timeoutMs);
    // A route that does not exist yet ends in a close without a byte (reset or EOF before the
    // handshake): that is the expected "not yet" and is reported, not thrown.
    socket.on('error', (error: NodeJS.ErrnoException) => finish({ ok: false, reason: error.code ?? error.message }));
    socket.on('close', () => finish({ ok: false, reason: greeted ? 'closed before the TEST answer' : 'closed before the greeting' }));
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      let newline: number;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        if (!greeted) {
          greeted = true;
          socket.write('TEST\n');
          continue;
        }
        finish(judge(line, target));
        return;
      }
    });
  });
}

function judge(line: string, target: ProbeTarget): ProbeResult {
  let answer: EchoAssertions;
  try {
    answer = JSON.parse(line) as EchoAssertions;
  } catch {
    return { ok: false, reason: `backend answered with something that is not JSON: ${line.slice(0, 80)}` };
  }
  if (answer.service !== target.expectedService) return { ok: false, reason: `reached backend ${answer.service ?? '(unnamed)'}` };
  if (target.passthrough && (answer.isTLS !== true || answer.tls?.serverName !== target.serverName)) {
    return { ok: false, reason: `backend saw isTLS=${String(answer.isTLS)} serverName=${answer.tls?.serverName ?? ''}` };
  }
  if (!target.passthrough && answer.isTLS !== false) return { ok: false, reason: 'backend saw TLS behind a Terminate listener' };
  return { ok: true };
}

export interface ProbeLoop {
  /** performance.now() at the start of the first probe that reached the expected backend. */
  readonly reached: Promise<{ at: number; probes: number; lastFailure: string | undefined }>;
  stop(): void;
}

/**
 * Probes one connection after another, `intervalMs` apart (start to start, or right after a
 * slower probe), until one reaches the expected backend or `stop()` is called.
 */
export function probeUntilRouted(target: ProbeTarget, intervalMs: number, probeTimeoutMs: number): ProbeLoop {
  let stopped = false;
  const reached = (async () => {
    let probes = 0;
    let lastFailure: string | undefined;
    while (!stopped) {
      const startedAt = performance.now();
      probes++;
      const result = await probeOnce(target, probeTimeoutMs);
      if (result.ok) return { at: startedAt, probes, lastFailure };
      lastFailure = result.reason;
      const wait = intervalMs - (performance.now() - startedAt);
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
    throw new Error(`stopped after ${probes} probes; last failure: ${lastFailure ?? 'none'}`);
  })();
  // The caller may stop the loop without awaiting it (a change that timed out).
  reached.catch(() => undefined);
  return {
    reached,
    stop: () => {
      stopped = true;
    },
  };
}
