/**
 * Before anything is measured, every target must prove it routes as configured, with real TLS
 * clients: the Passthrough port hands a real TLS backend the client's SNI (the client sees the
 * backend's certificate), the Terminate port presents the gateway's certificate over TLS 1.3
 * and relays the plain backend's greeting, and a replayed ClientHello gets the backend's answer.
 * A target that fails is left out of the measurements, with the reason in the report.
 */
import net from 'node:net';
import tls from 'node:tls';
import type { BenchTarget } from './targets.js';
import { BACKEND_CERT_NAME, GATEWAY_CERT_NAME, PASS_HELLO_ANSWER_BYTES, SNI, TERM_GREETING } from './workloads.js';

const CHECK_TIMEOUT_MS = 5000;

export async function verifyTarget(target: BenchTarget, caPem: string, passHello: Buffer): Promise<void> {
  const passthrough = await tlsExchange(target, 'passTls', caPem);
  if (passthrough.subjectCN !== BACKEND_CERT_NAME) throw new Error(`passthrough presented "${passthrough.subjectCN}", expected the backend's "${BACKEND_CERT_NAME}"`);
  if (passthrough.greeting !== `tls backend: sni=${SNI.passTls}\n`) throw new Error(`passthrough backend said ${JSON.stringify(passthrough.greeting)}`);

  const terminate = await tlsExchange(target, 'termHello', caPem);
  if (terminate.subjectCN !== GATEWAY_CERT_NAME) throw new Error(`terminate presented "${terminate.subjectCN}", expected the gateway's "${GATEWAY_CERT_NAME}"`);
  if (terminate.protocol !== 'TLSv1.3') throw new Error(`terminate negotiated ${terminate.protocol}, expected TLSv1.3`);
  if (terminate.greeting !== TERM_GREETING) throw new Error(`terminate backend said ${JSON.stringify(terminate.greeting)}`);

  const answered = await replayHello(target, passHello);
  if (answered < PASS_HELLO_ANSWER_BYTES) throw new Error(`replayed ClientHello got ${answered} bytes back, expected ${PASS_HELLO_ANSWER_BYTES}`);
}

interface TlsExchange {
  subjectCN: string;
  protocol: string | null;
  greeting: string;
}

function tlsExchange(target: BenchTarget, workload: 'passTls' | 'termHello', caPem: string): Promise<TlsExchange> {
  return new Promise((resolve, reject) => {
    const { host, port } = target.endpoint(workload);
    const socket = tls.connect({ host, port, servername: SNI[workload], ca: caPem, minVersion: 'TLSv1.2' });
    let greeting = '';
    socket.setEncoding('utf8');
    socket.setTimeout(CHECK_TIMEOUT_MS, () => socket.destroy(new Error(`${workload}: no greeting within ${CHECK_TIMEOUT_MS} ms`)));
    socket.on('data', (text: string) => {
      greeting += text;
      if (!greeting.endsWith('\n')) return;
      const subject = socket.getPeerCertificate().subject;
      const subjectCN = Array.isArray(subject?.CN) ? subject.CN.join(',') : (subject?.CN ?? '');
      const result = { subjectCN, protocol: socket.getProtocol(), greeting };
      socket.destroy();
      resolve(result);
    });
    socket.on('error', (error) => reject(new Error(`${workload} via ${target.name} (${host}:${port}): ${error.message}`)));
    socket.on('close', () => reject(new Error(`${workload} via ${target.name}: closed after ${JSON.stringify(greeting)}`)));
  });
}

function replayHello(target: BenchTarget, hello: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const { host, port } = target.endpoint('passHello');
    const socket = net.connect({ host, port });
    let received = 0;
    socket.setTimeout(CHECK_TIMEOUT_MS, () => socket.destroy(new Error(`passHello: no answer within ${CHECK_TIMEOUT_MS} ms`)));
    socket.once('connect', () => socket.write(hello));
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received >= PASS_HELLO_ANSWER_BYTES) {
        socket.destroy();
        resolve(received);
      }
    });
    socket.on('error', (error) => reject(new Error(`passHello via ${target.name}: ${error.message}`)));
    socket.on('close', () => resolve(received));
  });
}
