/**
 * Seed ClientHellos captured from real clients on loopback: OpenSSL (s_client), curl, Python's
 * ssl, Node's tls (TLS 1.3 and TLS 1.2 only, with ALPN) and Go's crypto/tls (Go 1.24 and later
 * offer the post-quantum X25519MLKEM768 key share, a hello of about 1.4 kB that spans several
 * TCP segments). Each client connects to a server that keeps the bytes of the first complete
 * handshake message, exactly as sent, and then closes. A client that is not installed is left
 * out and named in `missing`. Captures are cached in the temp directory (they only change with
 * the clients).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';

export interface Seed {
  client: string;
  wire: Buffer;
}

const SEED_NAME = 'seed.fuzz.test';
const CACHE_FILE = path.join(tmpdir(), `tlsgate-fuzz-seeds-v1-node${process.versions.node}.json`);

const GO_CLIENT = `package main

import (
	"crypto/tls"
	"os"
)

func main() {
	conn, err := tls.Dial("tcp", os.Args[1], &tls.Config{ServerName: os.Args[2], InsecureSkipVerify: true})
	if err == nil {
		conn.Close()
	}
}
`;

/** Resolves with the bytes of the first complete handshake message (all its records) sent to the port. */
function captureOnce(start: (port: number) => void, timeoutMs: number): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const server = net.createServer((socket) => {
      let buffered = Buffer.alloc(0);
      socket.on('error', () => undefined);
      socket.on('data', (chunk: Buffer) => {
        buffered = Buffer.concat([buffered, chunk]);
        let offset = 0;
        let message = Buffer.alloc(0);
        while (offset + 5 <= buffered.length) {
          const length = buffered.readUInt16BE(offset + 3);
          if (offset + 5 + length > buffered.length) break;
          message = Buffer.concat([message, buffered.subarray(offset + 5, offset + 5 + length)]);
          offset += 5 + length;
          if (message.length >= 4 && message.length >= 4 + message.readUIntBE(1, 3)) {
            finish(Buffer.from(buffered.subarray(0, offset)));
            socket.destroy();
            return;
          }
        }
      });
    });
    const timer = setTimeout(() => finish(null), timeoutMs);
    const finish = (wire: Buffer | null): void => {
      clearTimeout(timer);
      server.close();
      resolve(wire);
    };
    server.listen(0, '127.0.0.1', () => start((server.address() as net.AddressInfo).port));
  });
}

function run(command: string, args: string[], timeoutMs: number): void {
  execFile(command, args, { timeout: timeoutMs }, () => undefined).on('error', () => undefined);
}

const CLIENTS: { client: string; start: (port: number) => void }[] = [
  { client: 'openssl s_client', start: (port) => run('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', SEED_NAME], 20_000) },
  { client: 'openssl s_client -tls1_2', start: (port) => run('openssl', ['s_client', '-tls1_2', '-connect', `127.0.0.1:${port}`, '-servername', SEED_NAME], 20_000) },
  { client: 'curl', start: (port) => run('curl', ['-sk', '--max-time', '20', '--resolve', `${SEED_NAME}:${port}:127.0.0.1`, `https://${SEED_NAME}:${port}/`], 25_000) },
  {
    client: 'python ssl',
    start: (port) =>
      run('python3', ['-c', `import socket,ssl\nc=ssl.create_default_context()\nc.check_hostname=False\nc.verify_mode=ssl.CERT_NONE\ntry:\n c.wrap_socket(socket.create_connection(("127.0.0.1",${port})),server_hostname="${SEED_NAME}")\nexcept Exception:\n pass`], 20_000),
  },
  {
    client: 'node tls',
    start: (port) => tls.connect({ port, host: '127.0.0.1', servername: SEED_NAME, rejectUnauthorized: false }).on('error', () => undefined),
  },
  {
    client: 'node tls 1.2 + ALPN',
    start: (port) => tls.connect({ port, host: '127.0.0.1', servername: SEED_NAME, rejectUnauthorized: false, maxVersion: 'TLSv1.2', ALPNProtocols: ['h2', 'http/1.1'] }).on('error', () => undefined),
  },
  {
    client: 'go crypto/tls',
    start: (port) => {
      const dir = path.join(tmpdir(), 'tlsgate-fuzz-go-client');
      mkdirSync(dir, { recursive: true });
      writeFileSync(path.join(dir, 'main.go'), GO_CLIENT);
      run('go', ['run', path.join(dir, 'main.go'), `127.0.0.1:${port}`, SEED_NAME], 120_000);
    },
  },
];

export async function captureSeeds(): Promise<{ seeds: Seed[]; missing: string[] }> {
  if (existsSync(CACHE_FILE)) {
    const cached = JSON.parse(readFileSync(CACHE_FILE, 'utf8')) as { seeds: { client: string; wire: string }[]; missing: string[] };
    return { seeds: cached.seeds.map((s) => ({ client: s.client, wire: Buffer.from(s.wire, 'base64') })), missing: cached.missing };
  }
  const captured = await Promise.all(CLIENTS.map(async ({ client, start }) => ({ client, wire: await captureOnce(start, client.startsWith('go') ? 120_000 : 20_000) })));
  const seeds = captured.filter((c): c is Seed => c.wire !== null);
  const missing = captured.filter((c) => c.wire === null).map((c) => c.client);
  if (missing.length === 0) writeFileSync(CACHE_FILE, JSON.stringify({ seeds: seeds.map((s) => ({ client: s.client, wire: s.wire.toString('base64') })), missing }));
  return { seeds, missing };
}
