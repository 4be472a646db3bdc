/**
 * What the HTTP benchmark sends and expects, shared by the orchestrator, the routing check and
 * the Go load side (bench/proxy/go, roles `http-loadgen` and `http-backends`, which read these
 * message shapes): the host name every proxy serves, the backend's paths and body sizes, and
 * the messages exchanged with the Go processes.
 */

/** The one host name every proxy serves, over HTTP and HTTPS; the certificate is for `*.http.bench.test`. */
export const BENCH_HOST = 'app.http.bench.test';
export const CERTIFICATE_NAME = '*.http.bench.test';

/** The backend's small answer: the size of a typical API response. */
export const SMALL_BODY_BYTES = 128;
/** Large bodies, both ways. */
export const BIG_BODY_BYTES = 1024 * 1024;

/** What the backend serves (bench/proxy/go/http_backends.go). */
export const PATHS = { small: '/small', big: '/big', upload: '/upload' } as const;

/** Response headers with which the backend says what arrived (the routing check reads them). */
export const SAW_HOST_HEADER = 'x-bench-saw-host';
export const SAW_FORWARDED_FOR_HEADER = 'x-bench-saw-forwarded-for';
export const RECEIVED_HEADER = 'x-bench-received';

export interface Endpoint {
  host: string;
  port: number;
}

/** One request as the Go load generator sends it (HTTP/1.1, prepared bytes). */
export interface HttpRequestSpec {
  endpoint: Endpoint;
  /** TLS 1.3 full handshake (no session cache), ALPN http/1.1. */
  tls: boolean;
  servername: string;
  /** The Host header. */
  host: string;
  method: 'GET' | 'POST';
  path: string;
  /** Request body bytes (Content-Length); 0 for none. */
  uploadBytes: number;
  /** An answer counts only when it is 200 with exactly this many body bytes. */
  expectBodyBytes: number;
  /** One request per connection (`Connection: close`), a new connection (and handshake) each time. */
  newConnectionPerRequest: boolean;
}

export type HttpLoadCommand =
  /** `connections` clients back to back for `durationMs`. */
  | { kind: 'closed'; request: HttpRequestSpec; connections: number; durationMs: number }
  /** One request at a time, `count` of them, each timed. */
  | { kind: 'sequential'; request: HttpRequestSpec; count: number }
  /** A constant arrival rate, each request timed from its scheduled start. */
  | { kind: 'open'; request: HttpRequestSpec; connections: number; durationMs: number; ratePerSecond: number };

export interface HttpLoadResult {
  /** Requests answered correctly. */
  ops: number;
  /** Body bytes received plus upload bytes sent, over the answered requests. */
  bytes: number;
  errors: number;
  firstError?: string;
  elapsedMs: number;
  /** Per-request latency in microseconds (sequential, open). */
  samplesUs?: number[];
}

export interface HttpBackendStartMessage {
  type: 'start';
  host: string;
  smallBodyBytes: number;
  bigBodyBytes: number;
}

export interface HttpBackendReadyMessage {
  type: 'ready';
  port: number;
}
