// The access log: one JSON line per connection, written when it ends. This runs once per
// connection, so the line is built by concatenation from parts compiled at config time
// (names already JSON-encoded), and the lines go out together every ACCESS_LOG_FLUSH_MS (one
// write): with the log on a file, process.stdout writes synchronously, one syscall per write.
import type { ClientHello } from './clienthello.js';
import type { CompiledBackend, CompiledListener, CompiledRoute, PortTable } from './routing.js';
import type { EndpointConfig } from '../src/proxy-config.js';

export interface AccessLogSink {
  write(line: string): void;
}

/** What a log line says about a connection (a Connection has all of it). */
export interface AccessLogSubject {
  startedAt: number;
  /** `address:port`; '' when the peer was gone before it could be read (logged as null). */
  clientAddress: string;
  table: PortTable;
  listener: CompiledListener | null;
  hello: ClientHello | null;
  route: CompiledRoute | null;
  backend: CompiledBackend | null;
  endpoint: EndpointConfig | null;
  result: string;
  reason: string;
}

// new Date().toISOString() per line is a measurable part of a short connection (about 1 % of
// a TLS handshake's CPU profile): format the date and time once per second, then add the
// milliseconds.
let isoSecond = -1;
let isoPrefix = ''; // "2026-11-27T09:09:42."
export function isoNow(now = Date.now()): string {
  const second = Math.floor(now / 1000);
  if (second !== isoSecond) {
    isoSecond = second;
    isoPrefix = new Date(second * 1000).toISOString().slice(0, 20);
  }
  const millis = now - second * 1000;
  return `${isoPrefix}${millis < 10 ? '00' : millis < 100 ? '0' : ''}${millis}Z`;
}

function jsonOrNull(value: string | null): string {
  return value === null || value === '' ? 'null' : JSON.stringify(value);
}

/**
 * One line, the same fields in the same order as a JSON.stringify of the entry would give.
 * Strings from the client (SNI, ALPN) go through JSON.stringify, so hostile bytes stay escaped.
 */
export function accessLogLine(conn: AccessLogSubject, bytesFromClient: number, bytesToClient: number, now: number): string {
  const { listener, hello, route, backend, endpoint } = conn;
  return (
    `{"time":"${isoNow()}","client":${jsonOrNull(conn.clientAddress)},"gateway":${conn.table.gatewayJson},"port":${conn.table.port}` +
    `,"listener":${listener !== null ? listener.nameJson : 'null'},"mode":${listener !== null ? `"${listener.mode}"` : 'null'}` +
    `,"sni":${hello !== null ? jsonOrNull(hello.sni) : 'null'},"alpn":${hello !== null ? JSON.stringify(hello.alpn) : 'null'}` +
    `,"route":${route !== null ? route.nameJson : 'null'},"backend":${backend !== null ? backend.refJson : 'null'}` +
    `,"endpoint":${endpoint !== null ? JSON.stringify(`${endpoint.address}:${endpoint.port}`) : 'null'}` +
    `,"bytes_from_client":${bytesFromClient},"bytes_to_client":${bytesToClient}` +
    `,"duration_ms":${Math.round((now - conn.startedAt) * 1000) / 1000},"result":"${conn.result}","reason":${jsonOrNull(conn.reason)}}\n`
  );
}

/** Past this many pending characters a batch is written at once instead of at the end of the interval. */
const MAX_BATCH_CHARS = 64 * 1024;

/**
 * How long a line may wait for others to share its write. Once per event-loop turn (as before)
 * cost 0.6 writes and about 14,000 instructions per passthrough connection at benchmark rates
 * (callgrind, docs/performance.md); a line now appears at most this much later.
 */
export const ACCESS_LOG_FLUSH_MS = 50;

/**
 * Collects the lines of ACCESS_LOG_FLUSH_MS and hands them to the sink in one write. flush()
 * writes what is pending now (shutdown calls it so that no line is lost).
 */
export class BatchedAccessLog implements AccessLogSink {
  private pending = '';
  private scheduled = false;
  private readonly sink: AccessLogSink;

  constructor(sink: AccessLogSink) {
    this.sink = sink;
  }

  write(line: string): void {
    this.pending += line;
    if (this.pending.length >= MAX_BATCH_CHARS) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      setTimeout(flushBatch, ACCESS_LOG_FLUSH_MS, this);
    }
  }

  flush(): void {
    this.scheduled = false;
    if (this.pending === '') return;
    const lines = this.pending;
    this.pending = '';
    this.sink.write(lines);
  }
}

function flushBatch(log: BatchedAccessLog): void {
  log.flush();
}
