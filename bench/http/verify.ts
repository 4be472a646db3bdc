/**
 * Before anything is measured, each side must answer correctly with real Node.js clients:
 * a small GET over plain HTTP, the same over HTTPS (the chain checked against the bench CA and
 * the host name, TLS 1.3, ALPN http/1.1), a 1 MiB GET and a 1 MiB upload that the backend saw
 * whole. The backend echoes the Host and X-Forwarded-For it received, so a side that answers
 * without forwarding (or forwards somewhere else) fails. A failing side is left out, with the reason.
 */
import http from 'node:http';
import https from 'node:https';
import type { ConnectionOptions, TLSSocket } from 'node:tls';
import type { HttpTarget } from './targets.js';
import { BENCH_HOST, BIG_BODY_BYTES, PATHS, RECEIVED_HEADER, SAW_FORWARDED_FOR_HEADER, SAW_HOST_HEADER, SMALL_BODY_BYTES, type Endpoint } from './workloads.js';

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  tlsProtocol?: string | null;
  alpn?: string | false | null;
}

const TIMEOUT_MS = 10000;

function request(endpoint: Endpoint, options: { method: 'GET' | 'POST'; path: string; body?: Buffer; tls?: { ca: string } }): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const common = {
      host: endpoint.host,
      port: endpoint.port,
      method: options.method,
      path: options.path,
      headers: { host: BENCH_HOST, ...(options.body ? { 'content-length': String(options.body.length) } : {}) },
      agent: false as const,
      timeout: TIMEOUT_MS,
    };
    const onAnswer = (response: http.IncomingMessage): void => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', reject);
      response.on('end', () => {
        const socket = response.socket as TLSSocket;
        resolve({
          status: response.statusCode ?? 0,
          headers: response.headers,
          body: Buffer.concat(chunks),
          ...(options.tls ? { tlsProtocol: socket.getProtocol?.(), alpn: socket.alpnProtocol } : {}),
        });
      });
    };
    const outgoing = options.tls
      ? https.request({ ...common, servername: BENCH_HOST, ca: options.tls.ca, minVersion: 'TLSv1.3', ALPNProtocols: ['http/1.1'] } as https.RequestOptions & ConnectionOptions, onAnswer)
      : http.request(common, onAnswer);
    outgoing.on('timeout', () => outgoing.destroy(new Error(`no answer within ${TIMEOUT_MS} ms`)));
    outgoing.on('error', reject);
    outgoing.end(options.body);
  });
}

function expect(condition: boolean, what: string): void {
  if (!condition) throw new Error(what);
}

function checkForwarded(target: HttpTarget, answer: Answer, what: string): void {
  expect(answer.headers[SAW_HOST_HEADER] === BENCH_HOST, `${what}: the backend saw Host "${String(answer.headers[SAW_HOST_HEADER])}", not "${BENCH_HOST}"`);
  if (target.process !== undefined) {
    const forwarded = String(answer.headers[SAW_FORWARDED_FOR_HEADER] ?? '');
    expect(forwarded.split(',').map((s) => s.trim()).includes('127.0.0.1'), `${what}: the backend saw X-Forwarded-For "${forwarded}", without the client's 127.0.0.1`);
  }
}

function checkSmall(target: HttpTarget, answer: Answer, what: string): void {
  expect(answer.status === 200, `${what}: status ${answer.status} (${answer.body.toString('utf8', 0, 120)})`);
  expect(answer.body.length === SMALL_BODY_BYTES && answer.body.every((b) => b === 0x73), `${what}: a body of ${answer.body.length} bytes, not the backend's ${SMALL_BODY_BYTES}`);
  checkForwarded(target, answer, what);
}

/** Resolves when `target` answers every kind of request the benchmark sends, correctly; rejects with what was wrong. */
export async function verifyHttpTarget(target: HttpTarget, caPem: string): Promise<void> {
  const name = target.name;
  checkSmall(target, await request(target.http, { method: 'GET', path: PATHS.small }), `${name}: GET ${PATHS.small} over HTTP`);

  const big = await request(target.http, { method: 'GET', path: PATHS.big });
  expect(big.status === 200, `${name}: GET ${PATHS.big}: status ${big.status}`);
  expect(big.body.length === BIG_BODY_BYTES, `${name}: GET ${PATHS.big}: ${big.body.length} bytes, not ${BIG_BODY_BYTES}`);
  checkForwarded(target, big, `${name}: GET ${PATHS.big}`);

  const upload = await request(target.http, { method: 'POST', path: PATHS.upload, body: Buffer.alloc(BIG_BODY_BYTES, 0x75) });
  expect(upload.status === 200, `${name}: POST ${PATHS.upload}: status ${upload.status}`);
  expect(upload.headers[RECEIVED_HEADER] === String(BIG_BODY_BYTES), `${name}: POST ${PATHS.upload}: the backend received ${String(upload.headers[RECEIVED_HEADER])} bytes, not ${BIG_BODY_BYTES}`);

  if (target.https) {
    const secure = await request(target.https, { method: 'GET', path: PATHS.small, tls: { ca: caPem } });
    checkSmall(target, secure, `${name}: GET ${PATHS.small} over HTTPS`);
    expect(secure.tlsProtocol === 'TLSv1.3', `${name}: HTTPS negotiated ${String(secure.tlsProtocol)}, not TLSv1.3`);
    expect(secure.alpn === 'http/1.1', `${name}: HTTPS negotiated ALPN ${String(secure.alpn)}, not http/1.1`);
  }
}
