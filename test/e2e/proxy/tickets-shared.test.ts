// Session tickets shared across proxy replicas: two separate proxies (one serving in this
// process, one whose two workers are their own processes) given the same ring in their config
// (ProxyConfig.sessionTicketKeys, as the operator sends it) resume each other's TLS 1.3 and
// TLS 1.2 sessions, with Node's tls client and with `openssl s_client -sess_out/-sess_in`; with
// different rings, or with no ring (each proxy's own random keys), they do not. A ring change
// keeps established connections and still resumes tickets under the previous key.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { startProxyRuntime, type ProxyRuntime } from '../../../proxy/runtime.js';
import type { ProxyConfig } from '../../../src/proxy-config.js';
import { resumableHandshake, type TlsVersion } from '../../helpers/traffic.js';
import { backendRef, listener, makeCert, plainBackend, proxyConfig, tempDir, type Backend, type TestCert } from './helpers.js';

const key = (): string => randomBytes(48).toString('base64');

/** One handshake through a proxy on 127.0.0.1 (see resumableHandshake). */
function handshake(port: number, version: TlsVersion, session?: Buffer) {
  return resumableHandshake({ host: '127.0.0.1', port, servername: 'a.example.com', version, session });
}

async function ticketFrom(port: number, version: TlsVersion): Promise<Buffer> {
  const first = await handshake(port, version);
  assert.equal(first.reused, false, 'a first handshake is a full one');
  assert.ok(first.ticket, `${version}: the proxy sent a session ticket`);
  return first.ticket;
}

/** Several tries, so that both of B's workers are asked (each accepts for itself). */
async function resumes(port: number, version: TlsVersion, ticket: Buffer, tries = 4): Promise<boolean[]> {
  const results: boolean[] = [];
  for (let i = 0; i < tries; i++) results.push((await handshake(port, version, ticket)).reused);
  return results;
}

/**
 * `openssl s_client` kept open until the backend's greeting arrived, so that a TLS 1.3 ticket
 * (sent after the handshake) is read before it quits. Returns its output.
 */
function opensslSession(port: number, version: TlsVersion, sessionArgs: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const args = ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', 'a.example.com', version === 'TLSv1.3' ? '-tls1_3' : '-tls1_2', ...sessionArgs];
    let out = '';
    const child = execFile('openssl', args, { timeout: 15_000 }, (err, stdout, stderr) => {
      if (err && !out.includes('\nG\n')) reject(new Error(`openssl ${args.join(' ')}: ${err.message}\n${stdout}\n${stderr}`));
      else resolve(`${stdout}\n${stderr}`);
    });
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('\nG\n')) child.stdin?.end(); // the backend's greeting: the tickets came before it
    });
  });
}

describe('session tickets shared by two proxies through the ring in their config', () => {
  const dir = tempDir('tlsgate-tickets-shared-');
  let cert: TestCert;
  let backend: Backend;
  let a: ProxyRuntime;
  let b: ProxyRuntime;
  let portA: number;
  let portB: number;
  let version = 0;

  const config = (sessionTicketKeys?: string[]): ProxyConfig => {
    const c = proxyConfig('shared', `v${++version}`, [
      { port: 0, listeners: [listener({ name: 'term', hostname: null, mode: 'Terminate', certificates: [cert.config('gw')], routes: [{ hostnames: ['*.example.com'], backends: [backendRef('b', backend.port)] }] })] },
    ]);
    if (sessionTicketKeys) c.sessionTicketKeys = sessionTicketKeys;
    return c;
  };
  const give = async (runtime: ProxyRuntime, ring?: string[]) => runtime.apply([config(ring)]);

  before(async () => {
    cert = await makeCert(dir.dir, ['*.example.com']);
    backend = await plainBackend('G');
    // A serves in this process; B's two workers are processes of their own.
    a = await startProxyRuntime({ address: '127.0.0.1', workers: 1, accessLog: null, adminAddress: '127.0.0.1:0' });
    b = await startProxyRuntime({ address: '127.0.0.1', workers: 2, accessLog: null, adminAddress: '127.0.0.1:0' });
    await give(a);
    await give(b);
    portA = a.boundPorts()[0]!.boundPort;
    portB = b.boundPorts()[0]!.boundPort;
  });

  after(async () => {
    await a?.shutdown(200);
    await b?.shutdown(200);
    await backend?.close();
    dir.remove();
  });

  it('without a ring each proxy has its own keys: a ticket from A does not resume on B (the control)', async () => {
    await give(a);
    await give(b);
    for (const v of ['TLSv1.3', 'TLSv1.2'] as const) {
      const ticket = await ticketFrom(portA, v);
      assert.equal((await handshake(portA, v, ticket)).reused, true, `${v}: resumes where it was issued`);
      assert.deepEqual(await resumes(portB, v, ticket), [false, false, false, false], `${v}: not on the other proxy`);
    }
  });

  for (const v of ['TLSv1.3', 'TLSv1.2'] as const) {
    it(`${v}, Node tls: with the same ring a ticket from one proxy resumes on the other, both ways`, async () => {
      const ring = [key(), key()];
      await give(a, ring);
      await give(b, ring);
      const fromA = await ticketFrom(portA, v);
      assert.deepEqual(await resumes(portB, v, fromA), [true, true, true, true], 'A → B');
      const fromB = await ticketFrom(portB, v);
      assert.equal((await handshake(portA, v, fromB)).reused, true, 'B → A');
    });
  }

  for (const v of ['TLSv1.3', 'TLSv1.2'] as const) {
    it(`${v}, openssl s_client: a session saved from A (-sess_out) resumes on B (-sess_in)`, async () => {
      const ring = [key(), key()];
      await give(a, ring);
      await give(b, ring);
      const file = path.join(dir.dir, `session-${v}.pem`);
      writeFileSync(file, '');
      const first = await opensslSession(portA, v, ['-sess_out', file]);
      assert.match(first, new RegExp(`^New, ${v.replace('.', '\\.')}`, 'm'), first);
      const second = await opensslSession(portB, v, ['-sess_in', file]);
      assert.match(second, new RegExp(`^Reused, ${v.replace('.', '\\.')}`, 'm'), second);

      // The same with B on a ring of its own: a full handshake.
      await give(b, [key(), key()]);
      const third = await opensslSession(portB, v, ['-sess_in', file]);
      assert.match(third, new RegExp(`^New, ${v.replace('.', '\\.')}`, 'm'), third);
    });
  }

  it('different rings: a ticket from A does not resume on B', async () => {
    await give(a, [key(), key()]);
    await give(b, [key(), key()]);
    for (const v of ['TLSv1.3', 'TLSv1.2'] as const) {
      const ticket = await ticketFrom(portA, v);
      assert.equal((await handshake(portA, v, ticket)).reused, true);
      assert.deepEqual(await resumes(portB, v, ticket), [false, false, false, false], v);
    }
  });

  it('at a rotation: the proxy already on the next ring resumes tickets of the one still on the previous ring (its previous key)', async () => {
    const [k0, k1, k2] = [key(), key(), key()];
    await give(a, [k1, k0]);
    await give(b, [k1, k0]);
    const underK1 = await ticketFrom(portA, 'TLSv1.3');
    await give(b, [k2, k1]); // B rotated first
    assert.deepEqual(await resumes(portB, 'TLSv1.3', underK1), [true, true, true, true], 'k1 is B\'s previous key');
    await give(b, [key(), k2]); // one more rotation: k1 is gone
    assert.deepEqual(await resumes(portB, 'TLSv1.3', underK1), [false, false, false, false], 'not after a second rotation');
  });

  it('/config_dump never shows the ring (redacted like private keys), in either runtime', async () => {
    const ring = [key(), key()];
    await give(a, ring);
    await give(b, ring);
    for (const runtime of [a, b]) {
      const body = await (await fetch(`http://127.0.0.1:${runtime.adminPort()}/config_dump`)).text();
      const dump = JSON.parse(body) as { configs: ProxyConfig[] };
      assert.deepEqual(dump.configs[0]!.sessionTicketKeys, ['<redacted>', '<redacted>']);
      for (const k of ring) {
        assert.equal(body.includes(k), false, 'no key in base64');
        assert.equal(body.includes(Buffer.from(k, 'base64').toString('hex')), false, 'no key in hex');
      }
    }
  });

  it('a new ring keeps established connections (applied on the contexts in place)', async () => {
    await give(b, [key(), key()]);
    const socket = tls.connect({ port: portB, host: '127.0.0.1', servername: 'a.example.com', rejectUnauthorized: false });
    socket.on('error', () => undefined);
    const lines: string[] = [];
    let wake: () => void = () => undefined;
    socket.on('data', (chunk: Buffer) => {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      wake();
    });
    const line = async (n: number) => {
      const deadline = Date.now() + 5000;
      while (lines.length < n) {
        if (Date.now() > deadline) throw new Error(`only ${JSON.stringify(lines)} within 5 s`);
        await new Promise<void>((r) => {
          wake = r;
          setTimeout(r, 100);
        });
      }
      return lines[n - 1];
    };
    assert.equal(await line(1), 'G');
    await give(b, [key(), key()]);
    socket.write('still here\n');
    assert.equal(await line(2), 'still here');
    socket.destroy();
  });
});
