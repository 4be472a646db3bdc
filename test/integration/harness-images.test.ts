// The test backends of test/images/, run directly on loopback with real clients: the
// speak-first TCP/TLS line server and the HTTP/HTTPS echo that reports the SNI it saw.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import https from 'node:https';
import { startTcpEcho, welcomeMessage, type TcpEchoServer } from '../images/tcp-echo.js';
import { startHttpEcho, type HttpEchoServer, type EchoResponse } from '../images/tls-echo.js';
import { tcpConversation, httpGetText } from './harness-net.js';

/** A self-signed certificate for *.example.com made with openssl. */
function makeCertificate(dir: string): { cert: Buffer; key: Buffer } {
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1',
    '-subj', '/CN=example.com', '-addext', 'subjectAltName=DNS:*.example.com,DNS:example.com',
    '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')], { stdio: 'ignore' });
  return { cert: readFileSync(path.join(dir, 'cert.pem')), key: readFileSync(path.join(dir, 'key.pem')) };
}

/** Opens a TLS connection with `servername`, reads the welcome, sends `line`, returns the answer line. */
function tlsLine(port: number, servername: string, ca: Buffer, line: string): Promise<{ welcome: string; answer: string }> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, servername, ca });
    let received = '';
    let settled = false;
    const finish = (error?: Error): void => {
      if (settled) return;
      settled = true;
      socket.destroy();
      if (error) { reject(error); return; }
      const [welcome = '', answer = ''] = received.split('\n');
      resolve({ welcome, answer });
    };
    socket.setEncoding('utf8');
    socket.on('secureConnect', () => socket.write(`${line}\n`));
    socket.on('data', (chunk: string) => { received += chunk; if (received.split('\n').length > 2) finish(); });
    socket.on('error', (error) => finish(error));
    socket.setTimeout(5000, () => finish(new Error(`no answer, got ${JSON.stringify(received)}`)));
  });
}

describe('test images', () => {
  let dir: string;
  let cert: { cert: Buffer; key: Buffer };
  let tcpServer: TcpEchoServer;
  let httpServer: HttpEchoServer;
  const context = { namespace: 'ns1', ingress: '', service: 'svc', pod: 'pod-1' };

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'tlsgate-images-'));
    cert = makeCertificate(dir);
    tcpServer = await startTcpEcho({ host: '127.0.0.1', tcpPort: 0, tls: { port: 0, ...cert }, context });
    httpServer = await startHttpEcho({ host: '127.0.0.1', httpPort: 0, https: { port: 0, ...cert }, context });
  });
  after(async () => {
    await tcpServer.close();
    await httpServer.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('tcp-echo speaks first, answers PING with PONG and IS_TLS with false over plain TCP', async () => {
    const lines = await tcpConversation('127.0.0.1', tcpServer.tcpPort, ['PING', 'IS_TLS', 'unknown', 'TEST'], 4);
    assert.equal(`${lines[0]}\n`, welcomeMessage);
    assert.deepEqual(lines.slice(1, 3), ['PONG', 'false']);
    const test = JSON.parse(lines[3]!) as Record<string, unknown>;
    assert.equal(test.pod, 'pod-1');
    assert.equal(test.isTLS, false);
    assert.equal(test.tcpport, String(tcpServer.tcpPort));
  });

  it('tcp-echo over TLS reports the SNI the client sent', async () => {
    const { welcome, answer } = await tlsLine(tcpServer.tlsPort!, 'abc.example.com', cert.cert, 'TEST');
    assert.equal(`${welcome}\n`, welcomeMessage);
    const test = JSON.parse(answer) as { isTLS: boolean; tls: { serverName: string; version: string } };
    assert.equal(test.isTLS, true);
    assert.equal(test.tls.serverName, 'abc.example.com');
    assert.match(test.tls.version, /^TLSv1\.[23]$/);
  });

  it('tls-echo answers HTTPS with the SNI it saw, and plain HTTP without one', async () => {
    const body = await new Promise<string>((resolve, reject) => {
      const req = https.get({ host: '127.0.0.1', port: httpServer.httpsPort, path: '/sni?x=1', servername: 'other.example.com', ca: cert.cert, headers: { host: 'other.example.com' } }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => { text += c; });
        res.on('end', () => resolve(text));
        res.on('error', reject);
      });
      req.on('error', reject);
    });
    const echo = JSON.parse(body) as EchoResponse;
    assert.equal(echo.sni, 'other.example.com');
    assert.equal(echo.tls?.serverName, 'other.example.com');
    assert.equal(echo.path, '/sni?x=1');
    assert.equal(echo.pod, 'pod-1');

    const plain = JSON.parse((await httpGetText(`http://127.0.0.1:${httpServer.httpPort}/plain`)).body) as EchoResponse;
    assert.equal(plain.sni, '');
    assert.equal(plain.tls, undefined);
    assert.equal((await httpGetText(`http://127.0.0.1:${httpServer.httpPort}/health`)).body, 'OK');
    assert.equal((await httpGetText(`http://127.0.0.1:${httpServer.httpPort}/status/418`)).status, 418);
  });
});
