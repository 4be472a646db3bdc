/**
 * What the benchmark sends and expects, shared by the orchestrator, the load generator and
 * the backends: the SNI names every proxy routes on, the backends behind them, and the
 * messages the three kinds of processes exchange.
 */

/** One backend per kind of work, each reached through the proxies by its own SNI. */
export type Workload =
  /** Passthrough: a recorded ClientHello in, a server flight-sized answer out, then idle. */
  | 'passHello'
  /** Passthrough: a recorded ClientHello in, then the backend streams as fast as it can. */
  | 'passBulk'
  /** Passthrough to a real TLS server (its own certificate); only used to check routing. */
  | 'passTls'
  /** Terminate: the backend greets first (plain TCP), then idles. */
  | 'termHello'
  /** Terminate: the backend streams plain bytes as fast as it can. */
  | 'termBulk';

export const WORKLOADS: readonly Workload[] = ['passHello', 'passBulk', 'passTls', 'termHello', 'termBulk'];

export const BENCH_DOMAIN = 'bench.test';
export const SNI: Record<Workload, string> = {
  passHello: `hello.pass.${BENCH_DOMAIN}`,
  passBulk: `bulk.pass.${BENCH_DOMAIN}`,
  passTls: `tls.pass.${BENCH_DOMAIN}`,
  termHello: `hello.term.${BENCH_DOMAIN}`,
  termBulk: `bulk.term.${BENCH_DOMAIN}`,
};

export function isPassthrough(workload: Workload): boolean {
  return workload.startsWith('pass');
}

/** Certificate names: the gateway's (Terminate) and the passthrough backend's. */
export const GATEWAY_CERT_NAME = `*.term.${BENCH_DOMAIN}`;
export const BACKEND_CERT_NAME = `*.pass.${BENCH_DOMAIN}`;

/** What the termHello backend (and the direct TLS server) says first. */
export const TERM_GREETING = 'tlsgate-bench: hello from the plain backend\n';

/**
 * The passHello backend's answer to a ClientHello: about the size of a TLS 1.3 server flight
 * with an ECDSA certificate (ServerHello, EncryptedExtensions, Certificate, CertificateVerify,
 * Finished), framed as TLS records so that it looks like one on the wire.
 */
export const PASS_HELLO_ANSWER_BYTES = 1200;

export function tlsRecords(contentType: number, totalBytes: number, recordPayload = 16384): Buffer {
  const parts: Buffer[] = [];
  let remaining = totalBytes;
  while (remaining > 0) {
    const payload = Math.min(recordPayload, Math.max(1, remaining - 5));
    const record = Buffer.alloc(5 + payload, 0x61);
    record[0] = contentType;
    record[1] = 0x03;
    record[2] = 0x03;
    record.writeUInt16BE(payload, 3);
    parts.push(record);
    remaining -= record.length;
  }
  return Buffer.concat(parts);
}

export const TLS_HANDSHAKE = 0x16;
export const TLS_APPLICATION_DATA = 0x17;

/** Where a load generator connects for one workload through one target. */
export interface Endpoint {
  host: string;
  port: number;
}

// ---- orchestrator ↔ backends process -------------------------------------------------------

export interface PemPair {
  certificatePem: string;
  privateKeyPem: string;
}

export interface BackendsStartMessage {
  type: 'start';
  host: string;
  gatewayCertificate: PemPair;
  backendCertificate: PemPair;
  /** The Go backends take these from here rather than keep their own copies. */
  termGreeting: string;
  passHelloAnswerBytes: number;
}

/** Ports of the backends, plus the TLS servers that stand in for "no proxy" on Terminate work. */
export interface BackendPorts extends Record<Workload, number> {
  directTermHello: number;
  directTermBulk: number;
}

export interface BackendsReadyMessage {
  type: 'ready';
  ports: BackendPorts;
}

// ---- orchestrator ↔ load generator processes -----------------------------------------------

/** How a connection speaks: raw bytes (a recorded ClientHello first) or a real TLS client. */
export interface ConnectionSpec {
  endpoint: Endpoint;
  /** raw: send `helloBase64` on connect (Passthrough); tls: full TLS 1.3 handshake (Terminate). */
  protocol: 'raw' | 'tls';
  helloBase64?: string;
  servername: string;
  /** A connection counts once this many bytes arrived from the backend. */
  expectBytes: number;
}

export type LoadCommand =
  | { kind: 'connect-rate'; connection: ConnectionSpec; concurrency: number; durationMs: number }
  | { kind: 'bulk'; connection: ConnectionSpec; connections: number; durationMs: number }
  | { kind: 'latency'; connection: ConnectionSpec; count: number }
  | { kind: 'hold'; connection: ConnectionSpec; count: number; concurrency: number }
  | { kind: 'release' };

export interface LoadResult {
  /** Completed connections (connect-rate, latency, hold) */
  ops: number;
  /** Bytes received from the backend (bulk). */
  bytes: number;
  errors: number;
  firstError?: string;
  elapsedMs: number;
  /** Connect → first backend byte, microseconds (latency). */
  samplesUs?: number[];
}

export interface LoadRequestMessage {
  type: 'run';
  id: number;
  command: LoadCommand;
}

export interface LoadReplyMessage {
  type: 'result';
  id: number;
  result: LoadResult;
}
