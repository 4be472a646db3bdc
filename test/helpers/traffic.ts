// Real clients for traffic through a Gateway or a proxy: Node's tls and the openssl CLI. Each
// reports what it saw (the certificate shown, the bytes received, how the connection ended,
// whether a session resumed) and leaves the judging to the test. No cluster imports: the
// proxy's e2e tests use it too, on Node 20, 22 and 24.
//
//   const r = await tlsProbe({ host, port: 443, servername: 'foo.example.com', send: 'PING\n', until: 'PONG\n' });
//   assert.equal(r.peer?.subjectCN, 'foo.example.com');
//   await expectSilentClose({ host, port: 443, servername: 'nobody.example.com' });
//   const o = await opensslSClient({ host, port: 8443, servername: 'bar.example.com', send: 'PING\n', until: 'PONG' });
import { execFile } from 'node:child_process';
import net from 'node:net';
import tls from 'node:tls';
import assert from 'node:assert/strict';

export type Until = string | RegExp | ((received: Buffer) => boolean);
export type TlsVersion = 'TLSv1.2' | 'TLSv1.3';

function matches(until: Until | undefined, received: Buffer): boolean {
  if (until === undefined) return false;
  if (typeof until === 'function') return until(received);
  const text = received.toString('utf8');
  return typeof until === 'string' ? text.includes(until) : until.test(text);
}

export interface TlsProbeOptions {
  host: string;
  port: number;
  /** SNI; omitted = no server_name extension. */
  servername?: string;
  /** Trust anchor(s): the result then says whether the chain and name verified (`authorized`). */
  ca?: string | Buffer | (string | Buffer)[];
  alpn?: string[];
  /** Offer only this protocol version (default: whatever Node's client offers). */
  version?: TlsVersion;
  /** A session (ticket) from an earlier connection to offer for resumption. */
  session?: Buffer;
  /** Written after the handshake. */
  send?: string | Buffer;
  /** Stop reading (and close) once the received bytes match; otherwise read until the peer closes or the timeout. */
  until?: Until;
  /** Bound for the whole probe (default 10 s); reaching it is reported as ended 'timeout'. */
  timeoutMs?: number;
  /** Keep at most this many received bytes (default 64 KiB). */
  maxBytes?: number;
}

export interface PeerCertificate {
  subjectCN: string;
  /** e.g. "DNS:foo.example.com" */
  subjectAltName: string;
  issuerCN: string;
  fingerprint256: string;
}

export interface TlsProbeResult {
  /** TCP connect succeeded. */
  connected: boolean;
  /** TLS handshake completed. */
  handshake: boolean;
  peer?: PeerCertificate;
  /** Chain and hostname verified against `ca` (false without a `ca`). */
  authorized: boolean;
  authorizationError?: string;
  protocol?: string;
  alpnProtocol?: string;
  /** The handshake resumed the offered `session` (false without one, or without a handshake). */
  sessionReused: boolean;
  /** The last session (ticket) the server sent before the probe ended; none on a TLS 1.2 resumption. */
  ticket?: Buffer;
  /** Application bytes received after the handshake (first maxBytes). */
  received: Buffer;
  /** Raw TCP bytes the server sent, handshake and alerts included. */
  rawBytesFromServer: number;
  /**
   * 'matched' = `until` matched and we closed; 'end' = the peer closed (FIN);
   * 'reset' = ECONNRESET; 'error' = another error (see `error`); 'timeout'.
   */
  ended: 'matched' | 'end' | 'reset' | 'error' | 'timeout';
  error?: string;
  ms: number;
}

/**
 * One TLS connection with Node's client. Certificates are never rejected by the client
 * (so a test can look at the one it was shown); with `ca`, `authorized` tells whether it
 * verified, hostname included.
 */
export function tlsProbe(options: TlsProbeOptions): Promise<TlsProbeResult> {
  const started = performance.now();
  const maxBytes = options.maxBytes ?? 64 * 1024;
  return new Promise((resolve) => {
    // Our own TCP socket, so its byte counter shows what the server sent below TLS (an alert is bytes, a silent close is none).
    const raw = net.connect({ host: options.host, port: options.port, noDelay: true });
    const socket = tls.connect({
      socket: raw,
      ...(options.servername !== undefined ? { servername: options.servername } : {}),
      ...(options.ca !== undefined ? { ca: options.ca } : {}),
      ...(options.alpn ? { ALPNProtocols: options.alpn } : {}),
      ...(options.version ? { minVersion: options.version, maxVersion: options.version } : {}),
      ...(options.session ? { session: options.session } : {}),
      rejectUnauthorized: false,
    });
    const result: TlsProbeResult = { connected: false, handshake: false, authorized: false, sessionReused: false, received: Buffer.alloc(0), rawBytesFromServer: 0, ended: 'timeout', ms: 0 };
    const chunks: Buffer[] = [];
    let length = 0;
    let settled = false;
    const finish = (ended: TlsProbeResult['ended'], error?: Error & { code?: string }): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      result.ended = ended;
      if (error) result.error = `${error.code ?? 'error'}: ${error.message}`;
      result.received = Buffer.concat(chunks);
      socket.destroy();
      raw.destroy();
      // bytesRead is final once the handle is closed.
      const report = () => {
        result.rawBytesFromServer = raw.bytesRead;
        result.ms = Math.round(performance.now() - started);
        resolve(result);
      };
      if (raw.closed) report();
      else raw.once('close', report);
    };
    const timer = setTimeout(() => finish('timeout'), options.timeoutMs ?? 10_000);
    raw.once('connect', () => { result.connected = true; });
    socket.once('secureConnect', () => {
      result.handshake = true;
      result.authorized = options.ca !== undefined && socket.authorized;
      if (socket.authorizationError) result.authorizationError = String(socket.authorizationError);
      result.protocol = socket.getProtocol() ?? undefined;
      result.sessionReused = socket.isSessionReused();
      if (socket.alpnProtocol) result.alpnProtocol = socket.alpnProtocol;
      const cert = socket.getPeerCertificate();
      if (cert && Object.keys(cert).length > 0) {
        result.peer = {
          subjectCN: String(cert.subject?.CN ?? ''),
          subjectAltName: cert.subjectaltname ?? '',
          issuerCN: String(cert.issuer?.CN ?? ''),
          fingerprint256: cert.fingerprint256,
        };
      }
      if (options.send !== undefined) socket.write(options.send);
      else if (options.until === undefined) finish('matched');
    });
    socket.on('session', (ticket: Buffer) => { result.ticket = ticket; });
    socket.on('data', (data: Buffer) => {
      if (length < maxBytes) {
        const part = data.subarray(0, maxBytes - length);
        chunks.push(part);
        length += part.length;
      }
      if (matches(options.until, Buffer.concat(chunks))) finish('matched');
    });
    socket.once('end', () => finish('end'));
    socket.once('close', () => finish('end'));
    const onError = (error: Error & { code?: string }) => finish(error.code === 'ECONNRESET' ? 'reset' : 'error', error);
    socket.on('error', onError);
    raw.on('error', onError);
  });
}

/**
 * One handshake offering `session` (if any) that waits for the backend's greeting, which a
 * proxy relays only after it sent its session tickets: whether the session was reused, and the
 * last ticket the server sent (null when it sent none, as on a TLS 1.2 resumption). Rejects
 * when no greeting arrived within 5 s (a reset, close or timeout, named in the message).
 */
export async function resumableHandshake(probe: { host: string; port: number; servername: string; version: TlsVersion; session?: Buffer }): Promise<{ reused: boolean; ticket: Buffer | null }> {
  const result = await tlsProbe({ ...probe, until: (received) => received.length > 0, timeoutMs: 5000 });
  if (result.ended !== 'matched') {
    throw new Error(`${probe.host}:${probe.port}: no greeting from the backend within 5 s (ended: ${result.ended}${result.error ? `, ${result.error}` : ''})`);
  }
  return { reused: result.sessionReused, ticket: result.ticket ?? null };
}

/**
 * Asserts the gateway's answer to this connection: TCP accepted, then closed without a single
 * byte from the server: no ServerHello, no certificate, no TLS alert.
 */
export async function expectSilentClose(options: Omit<TlsProbeOptions, 'send' | 'until'>, explain: () => string = () => ''): Promise<TlsProbeResult> {
  const result = await tlsProbe(options);
  const seen = `connected=${result.connected} handshake=${result.handshake} rawBytesFromServer=${result.rawBytesFromServer} ended=${result.ended} error=${result.error ?? ''} peer=${result.peer?.subjectCN ?? ''}`;
  const why = (what: string) => `${what} for SNI ${JSON.stringify(options.servername)} at ${options.host}:${options.port}: ${seen}\n${explain()}`;
  assert.ok(result.connected, why('expected the TCP connection to be accepted'));
  assert.equal(result.handshake, false, why('expected no TLS handshake'));
  assert.equal(result.rawBytesFromServer, 0, why('expected zero bytes from the server (no alert)'));
  assert.notEqual(result.ended, 'timeout', why('expected the server to close the connection'));
  return result;
}

export interface OpensslOptions {
  host: string;
  port: number;
  servername?: string;
  /** PEM file to verify against; `verifyCode` is then 0 only for a valid chain and name. */
  caFile?: string;
  alpn?: string[];
  /** Written to s_client's stdin after the handshake. */
  send?: string;
  /** Close stdin (s_client then closes the connection) once stdout shows this; without it, stdin is closed right after the handshake and `send`. */
  until?: string | RegExp;
  timeoutMs?: number;
}

export interface OpensslResult {
  /** s_client's exit code (null when killed at the timeout). */
  exitCode: number | null;
  stdout: string;
  stderr: string;
  /** A cipher was negotiated (s_client prints "Cipher is (NONE)" otherwise). */
  handshake: boolean;
  /** The leaf's subject line, e.g. "CN = foo.example.com". */
  subject?: string;
  /** "Verify return code: N" */
  verifyCode?: number;
  alpn?: string;
  matched: boolean;
  timedOut: boolean;
}

/**
 * `openssl s_client` run with execFile (no shell). The session is driven through stdin:
 * `send` is written once the handshake is printed, and stdin is closed when `until` shows up
 * in stdout (or at once without `until`), which makes s_client close and exit; `timeoutMs`
 * kills it otherwise.
 */
export function opensslSClient(options: OpensslOptions): Promise<OpensslResult> {
  const args = ['s_client', '-connect', `${options.host}:${options.port}`, '-verify_hostname', options.servername ?? options.host];
  if (options.servername !== undefined) args.push('-servername', options.servername);
  else args.push('-noservername');
  if (options.caFile) args.push('-CAfile', options.caFile);
  if (options.alpn) args.push('-alpn', options.alpn.join(','));
  const timeoutMs = options.timeoutMs ?? 15_000;
  return new Promise((resolve) => {
    let matched = false;
    let timedOut = false;
    let sent = false;
    let seen = '';
    const child = execFile('openssl', args, { encoding: 'utf8', timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 4 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error && (error as { killed?: boolean }).killed) timedOut = true;
      const exitCode = error ? (typeof (error as { code?: unknown }).code === 'number' ? (error as { code: number }).code : null) : 0;
      const subject = /^subject=\s*(.+)$/m.exec(stdout)?.[1]?.trim();
      const verify = /Verify return code: (\d+)/.exec(stdout)?.[1];
      const alpn = /ALPN protocol: (\S+)/.exec(stdout)?.[1];
      resolve({
        exitCode,
        stdout,
        stderr,
        handshake: /Cipher is (?!\(NONE\))/.test(stdout),
        ...(subject ? { subject } : {}),
        ...(verify !== undefined ? { verifyCode: Number(verify) } : {}),
        ...(alpn ? { alpn } : {}),
        matched,
        timedOut,
      });
    });
    // A closed stdin after s_client exited is not an error of the test.
    child.stdin!.on('error', () => undefined);
    child.stdout!.on('data', (chunk: string) => {
      seen += chunk;
      // The handshake summary ends with the session block; only then is application data sent.
      if (!sent && /Verify return code: \d+/.test(seen) && /^---$/m.test(seen.slice(seen.lastIndexOf('Verify return code')))) {
        sent = true;
        if (options.send !== undefined) child.stdin!.write(options.send);
        if (options.until === undefined) child.stdin!.end();
      }
      if (sent && !matched && options.until !== undefined && (typeof options.until === 'string' ? seen.includes(options.until) : options.until.test(seen))) {
        matched = true;
        child.stdin!.end();
      }
    });
  });
}
