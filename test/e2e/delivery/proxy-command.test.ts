// `tlsgate proxy` as a real process, fed by a real config server over mutual TLS, serving real
// TLS clients on loopback: readiness follows the first applied config, traffic keeps flowing
// while the config server is away, NACKs from the real runtime reach the server's status, and
// SIGTERM drains and exits.
import { describe, it, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import {
  createAuthorityState,
  issueGatewayClientCertificate,
  issueServerCertificate,
  trustBundlePem,
} from '../../../operator/ca.js';
import { issueKeyAndCertificate } from '../../../operator/delivery/x509.js';
import type { ConfigServer } from '../../../operator/config-server.js';
import { canonicalJson, sha256Hex } from '../../../src/gatewayapi/canonical-json.js';
import { PROXY_CONFIG_SCHEMA, type ListenerConfig, type ProxyConfig } from '../../../src/proxy-config.js';
import { fromRoot } from '../../helpers/paths.js';
import { GATEWAY_A, startServer, statusWhere, tempDir, writeCredentials, type Pki } from '../../unit/delivery/fixtures.js';

const GATEWAY = 'team-a/gw-a';
const CLI = fromRoot('dist', 'cli', 'main.js');

async function freePort(): Promise<number> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function httpGet(port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, timeout: 5000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
  });
}

/** Connect with TLS through the proxy and read what the backend says. */
function tlsGreeting(port: number, servername: string, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, servername, ca });
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('end', () => resolve(text));
    socket.on('error', reject);
    socket.setTimeout(5000, () => socket.destroy(new Error(`no answer from ${servername}`)));
  });
}

/** Fetches an admin path's body. */
async function httpText(port: number, path: string): Promise<string> {
  return (await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(5000) })).text();
}

/** A TLS 1.3 handshake; resolves with whether `session` was reused and the ticket the server sent, once data came. */
function ticketHandshake(port: number, servername: string, session?: Buffer): Promise<{ reused: boolean; ticket: Buffer | null }> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, servername, rejectUnauthorized: false, minVersion: 'TLSv1.3', ...(session ? { session } : {}) });
    let reused = false;
    let ticket: Buffer | null = null;
    socket.once('secureConnect', () => (reused = socket.isSessionReused()));
    socket.on('session', (t: Buffer) => (ticket = t));
    socket.once('data', () => {
      socket.destroy();
      resolve({ reused, ticket });
    });
    socket.on('error', reject);
    socket.setTimeout(5000, () => socket.destroy(new Error(`no answer from ${servername}`)));
  });
}

function withVersion(body: Omit<ProxyConfig, 'version'>): ProxyConfig {
  return { ...body, version: sha256Hex(canonicalJson(body)) };
}

describe('tlsgate proxy (process) with a config server', { timeout: 300_000 }, () => {
  const tmp = tempDir();
  const now = new Date();
  const state = createAuthorityState(now);
  const pki: Pki = {
    state,
    server: issueServerCertificate(state, { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] }, now),
    clientA: issueGatewayClientCertificate(state, GATEWAY_A, now),
    clientB: issueGatewayClientCertificate(state, { namespace: 'team-b', name: 'gw-b' }, now),
  };
  const files = writeCredentials(tmp.dir, 'proxy', pki.clientA, trustBundlePem(state));

  // The traffic side: its own CA, a TLS backend for Passthrough, a plain one for Terminate.
  const appCa = issueKeyAndCertificate({ kind: 'ca', commonName: 'app CA', notBefore: new Date(now.getTime() - 60_000), notAfter: new Date(now.getTime() + 86_400_000) }, null);
  const passCert = issueKeyAndCertificate({ kind: 'server', commonName: 'pass.example.com', altNames: { dnsNames: ['pass.example.com'] }, notBefore: new Date(now.getTime() - 60_000), notAfter: new Date(now.getTime() + 86_400_000) }, appCa);
  const termCert = issueKeyAndCertificate({ kind: 'server', commonName: 'term.example.com', altNames: { dnsNames: ['term.example.com'] }, notBefore: new Date(now.getTime() - 60_000), notAfter: new Date(now.getTime() + 86_400_000) }, appCa);
  const passBackend = tls.createServer({ cert: passCert.certificatePem, key: passCert.privateKeyPem }, (socket) => {
    socket.on('error', () => {});
    socket.end('passthrough backend\n');
  });
  const plainBackends = ['terminate backend one\n', 'terminate backend two\n'].map((greeting) =>
    net.createServer((socket) => {
      socket.on('error', () => {});
      socket.end(greeting);
    }),
  );
  let passPort = 0;
  const plainPorts: number[] = [];
  let listenerPort = 0;
  let adminPort = 0;

  before(async () => {
    passBackend.listen(0, '127.0.0.1');
    await once(passBackend, 'listening');
    passPort = (passBackend.address() as net.AddressInfo).port;
    for (const backend of plainBackends) {
      backend.listen(0, '127.0.0.1');
      await once(backend, 'listening');
      plainPorts.push((backend.address() as net.AddressInfo).port);
    }
    listenerPort = await freePort();
    adminPort = await freePort();
  });
  after(async () => {
    passBackend.close();
    for (const backend of plainBackends) backend.close();
    tmp.cleanup();
  });

  function config(terminateBackend: number, certificateKeyPem = termCert.privateKeyPem): ProxyConfig {
    const route = (name: string, port: number): ListenerConfig['routes'][number] => ({
      namespace: 'team-a',
      name,
      backends: [{ ref: `team-a/${name}:443`, weight: 1, endpoints: [{ address: '127.0.0.1', port }] }],
    });
    return withVersion({
      schema: PROXY_CONFIG_SCHEMA,
      gateway: GATEWAY_A,
      ports: [
        {
          port: listenerPort,
          listeners: [
            { name: 'pass', hostname: 'pass.example.com', mode: 'Passthrough', certificates: [], hostnames: [{ hostname: 'pass.example.com', route: 0 }], routes: [route('pass', passPort)] },
            {
              name: 'term',
              hostname: 'term.example.com',
              mode: 'Terminate',
              certificates: [
                {
                  secret: { namespace: 'team-a', name: 'term-cert' },
                  certificatePem: termCert.certificatePem,
                  privateKeyPem: certificateKeyPem,
                  keyType: 'EC',
                  dnsNames: ['term.example.com'],
                  notAfter: new Date(now.getTime() + 86_400_000).toISOString(),
                },
              ],
              hostnames: [{ hostname: 'term.example.com', route: 0 }],
              routes: [route('term', terminateBackend)],
            },
          ],
        },
      ],
    });
  }

  interface ProxyProcess {
    child: ChildProcess;
    output: () => string;
    exited: Promise<number | null>;
    /** Resolves once the proxy logged that it started (its admin server is up); rejects if it exits first. */
    started: Promise<void>;
  }

  function startProxy(configServerPort: number, workers = 1): ProxyProcess {
    const child = spawn(
      process.execPath,
      [
        CLI,
        'proxy',
        '--config-server', `wss://127.0.0.1:${configServerPort}`,
        '--gateway', GATEWAY,
        '--cert', files.certFile,
        '--key', files.keyFile,
        '--ca', files.caFile,
        '--address', '127.0.0.1',
        '--admin-address', `127.0.0.1:${adminPort}`,
        '--workers', String(workers),
        '--drain-seconds', '1',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    let markStarted: () => void = () => {};
    const started = new Promise<void>((resolve, reject) => {
      markStarted = resolve;
      child.once('exit', (code) => reject(new Error(`tlsgate proxy exited (${code}) before it started:\n${output}`)));
    });
    started.catch(() => {}); // observed by the tests that await it
    const collect = (chunk: Buffer): void => {
      output += chunk.toString();
      if (output.includes('"event":"started"')) markStarted();
    };
    child.stdout!.on('data', collect);
    child.stderr!.on('data', collect);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    return { child, output: () => output, exited, started };
  }

  it('explains every flag in --help', async () => {
    const child = spawn(process.execPath, [CLI, 'proxy', '--help'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    const [code] = await once(child, 'exit');
    assert.equal(code, 0);
    for (const flag of ['--config-server', '--gateway', '--cert', '--key', '--ca', '--server-name', '--address', '--port-offset', '--admin-address', '--workers', '--drain-seconds']) {
      assert.match(out, new RegExp(`${flag} <`), `--help does not explain ${flag}`);
    }
  });

  it('works with several worker processes (the config client in the primary feeds them all)', async () => {
    const server = (await startServer(pki)).server;
    const proxy = startProxy(server.port, 2);
    try {
      await proxy.started;
      const v1 = config(plainPorts[0]!);
      server.publish(v1);
      await statusWhere(server, GATEWAY, (s) => s.ackedVersion === v1.version);
      assert.equal(await httpGet(adminPort, '/readyz'), 200);
      for (let i = 0; i < 4; i++) {
        assert.equal(await tlsGreeting(listenerPort, 'term.example.com', appCa.certificatePem), 'terminate backend one\n');
        assert.equal(await tlsGreeting(listenerPort, 'pass.example.com', appCa.certificatePem), 'passthrough backend\n');
      }
      proxy.child.kill('SIGTERM');
      assert.equal(await proxy.exited, 0, proxy.output());
    } catch (err) {
      process.stderr.write(`--- tlsgate proxy output ---\n${proxy.output()}\n`);
      throw err;
    } finally {
      if (proxy.child.exitCode === null && proxy.child.signalCode === null) {
        proxy.child.kill('SIGKILL');
        await proxy.exited;
      }
      await server.close();
    }
  });

  it('a session-ticket ring in the config: its workers issue tickets under it, /config_dump redacts it, a bad one is NACKed naming the field, never a key', async () => {
    const server = (await startServer(pki)).server;
    const proxy = startProxy(server.port, 2);
    const ring = [randomBytes(48).toString('base64'), randomBytes(48).toString('base64')];
    const short = randomBytes(47).toString('base64');
    const keyed = (keys: string[]): ProxyConfig => {
      const { version: _unkeyed, ...body } = config(plainPorts[0]!);
      return withVersion({ ...body, sessionTicketKeys: keys });
    };
    // A bare TLS server with the ring's current key: the proxy's tickets resume there only if the
    // proxy really encrypts them under that key. Built like the proxy's Terminate path (a context
    // on a TLSSocket): a tls.Server would add a session id context the proxy's tickets lack.
    const bare = (ticketKeys: Buffer) => {
      const secureContext = tls.createSecureContext({ cert: termCert.certificatePem, key: termCert.privateKeyPem, ticketKeys });
      return net.createServer((raw) => {
        raw.on('error', () => {});
        const socket = new tls.TLSSocket(raw, { isServer: true, secureContext });
        socket.on('error', () => {});
        socket.on('secure', () => socket.end('bare\n'));
      });
    };
    const same = bare(Buffer.from(ring[0]!, 'base64'));
    const other = bare(randomBytes(48));
    try {
      for (const s of [same, other]) {
        s.listen(0, '127.0.0.1');
        await once(s, 'listening');
      }
      await proxy.started;
      const v1 = keyed(ring);
      server.publish(v1);
      await statusWhere(server, GATEWAY, (s) => s.ackedVersion === v1.version);
      for (let i = 0; i < 4; i++) {
        // Several tries, so that both workers issue one.
        const { ticket } = await ticketHandshake(listenerPort, 'term.example.com');
        assert.ok(ticket, 'the proxy sent a ticket');
        assert.equal((await ticketHandshake((same.address() as net.AddressInfo).port, 'term.example.com', ticket)).reused, true, `try ${i}: resumes under the ring's current key`);
        assert.equal((await ticketHandshake((other.address() as net.AddressInfo).port, 'term.example.com', ticket)).reused, false, `try ${i}: not under another key (the control)`);
      }
      const dump = await httpText(adminPort, '/config_dump');
      assert.deepEqual((JSON.parse(dump) as { configs: ProxyConfig[] }).configs[0]!.sessionTicketKeys, ['<redacted>', '<redacted>']);

      const bad = keyed([ring[0]!, short]);
      server.publish(bad);
      const nacked = await statusWhere(server, GATEWAY, (s) => s.nack?.version === bad.version);
      assert.match(nacked.nack!.error, /sessionTicketKeys\[1\]: must be 48 bytes, got 47/);
      assert.equal(nacked.ackedVersion, v1.version, 'the good ring stays');

      const texts: [string, string][] = [['/config_dump', dump], ['the NACK', nacked.nack!.error], ['the proxy output', proxy.output()]];
      for (const [where, text] of texts) {
        for (const k of [...ring, short]) {
          assert.equal(text.includes(k), false, `a key (base64) in ${where}`);
          assert.equal(text.includes(Buffer.from(k, 'base64').toString('hex')), false, `a key (hex) in ${where}`);
        }
      }
      proxy.child.kill('SIGTERM');
      assert.equal(await proxy.exited, 0, proxy.output());
    } catch (err) {
      process.stderr.write(`--- tlsgate proxy output ---\n${proxy.output()}\n`);
      throw err;
    } finally {
      if (proxy.child.exitCode === null && proxy.child.signalCode === null) {
        proxy.child.kill('SIGKILL');
        await proxy.exited;
      }
      same.close();
      other.close();
      await server.close();
    }
  });

  it('serves its config, stays up while the server is away, reports NACKs, and drains on SIGTERM', async () => {
    let server: ConfigServer | null = (await startServer(pki)).server;
    const configServerPort = server.port;
    const proxy = startProxy(configServerPort);
    try {
      // Up, connected, but not ready: it has no config yet.
      await proxy.started;
      assert.equal(await httpGet(adminPort, '/healthz'), 200);
      await statusWhere(server, GATEWAY, (s) => s.connectedProxies === 1);
      assert.notEqual(await httpGet(adminPort, '/readyz'), 200, 'ready before any config was applied');

      const v1 = config(plainPorts[0]!);
      server.publish(v1);
      await statusWhere(server, GATEWAY, (s) => s.ackedVersion === v1.version);
      assert.equal(await httpGet(adminPort, '/readyz'), 200);
      assert.equal(await tlsGreeting(listenerPort, 'pass.example.com', appCa.certificatePem), 'passthrough backend\n');
      assert.equal(await tlsGreeting(listenerPort, 'term.example.com', appCa.certificatePem), 'terminate backend one\n');

      // A config the runtime refuses (the key does not match the certificate): NACKed, old one kept.
      const broken = config(plainPorts[1]!, passCert.privateKeyPem);
      server.publish(broken);
      const nacked = await statusWhere(server, GATEWAY, (s) => s.nack?.version === broken.version);
      assert.equal(nacked.ackedVersion, v1.version);
      assert.doesNotMatch(nacked.nack!.error, /PRIVATE KEY|BEGIN/);
      assert.equal(await tlsGreeting(listenerPort, 'term.example.com', appCa.certificatePem), 'terminate backend one\n');

      // The config server goes away: traffic keeps flowing on the last good config.
      await server.close();
      server = null;
      assert.equal(await tlsGreeting(listenerPort, 'term.example.com', appCa.certificatePem), 'terminate backend one\n');
      assert.equal(await httpGet(adminPort, '/readyz'), 200, 'not ready while the operator is away');

      // It comes back on the same address with a new config: the proxy reconnects and applies it.
      // (This server pings every 500 ms, for the dead-peer check below.)
      server = (await startServer(pki, 500, configServerPort)).server;
      const v2 = config(plainPorts[1]!);
      server.publish(v2);
      await statusWhere(server, GATEWAY, (s) => s.ackedVersion === v2.version);
      assert.equal(await tlsGreeting(listenerPort, 'term.example.com', appCa.certificatePem), 'terminate backend two\n');

      // A proxy that stops answering (SIGSTOP) is dropped by the heartbeat; once it runs again
      // it reconnects and confirms the config it still serves.
      proxy.child.kill('SIGSTOP');
      await statusWhere(server!, GATEWAY, (s) => s.connectedProxies === 0);
      proxy.child.kill('SIGCONT');
      await statusWhere(server!, GATEWAY, (s) => s.connectedProxies === 1 && s.ackedVersion === v2.version);
      assert.equal(await tlsGreeting(listenerPort, 'term.example.com', appCa.certificatePem), 'terminate backend two\n');

      proxy.child.kill('SIGTERM');
      assert.equal(await proxy.exited, 0, proxy.output());
      await assert.rejects(tlsGreeting(listenerPort, 'pass.example.com', appCa.certificatePem));
    } catch (err) {
      process.stderr.write(`--- tlsgate proxy output ---\n${proxy.output()}\n`);
      throw err;
    } finally {
      if (proxy.child.exitCode === null && proxy.child.signalCode === null) {
        proxy.child.kill('SIGCONT');
        proxy.child.kill('SIGKILL');
        await proxy.exited;
      }
      await server?.close();
    }
  });
});
