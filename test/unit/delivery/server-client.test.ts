// The config server and the config client over real mutual TLS on loopback.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import https from 'node:https';
import tls from 'node:tls';
import { writeFileSync } from 'node:fs';
import WebSocket, { WebSocketServer } from 'ws';
import {
  DEFAULT_CA_POLICY,
  beginRotation,
  issueGatewayClientCertificate,
  issueServerCertificate,
  trustBundlePem,
  createAuthorityState,
  type KeyAndCertificate,
} from '../../../operator/ca.js';
import { issueKeyAndCertificate } from '../../../operator/delivery/x509.js';
import { ConfigClient, type ConfigClientOptions } from '../../../proxy/config-client.js';
import { CONFIG_PROTOCOL, CONFIG_PROTOCOL_PATH, type ClientMessage, type ConfigMessage } from '../../../src/config-protocol.js';
import type { ProxyConfig } from '../../../src/proxy-config.js';
import { GATEWAY_A, GATEWAY_B, RecordingSink, eventWhere, makePki, proxyConfig, startServer, statusWhere, tempDir, writeCredentials, type Pki } from './fixtures.js';

const A = 'team-a/gw-a';
const B = 'team-b/gw-b';
const quietLog = (): void => {};

/** Cleanups run in reverse order after each test, whether it passed or not. */
function cleanups(): { add: (fn: () => unknown) => void; run: () => Promise<void> } {
  const list: (() => unknown)[] = [];
  return {
    add: (fn) => list.push(fn),
    run: async () => {
      for (const fn of list.reverse()) await fn();
    },
  };
}

function startClient(options: Partial<ConfigClientOptions> & Pick<ConfigClientOptions, 'url' | 'certFile' | 'keyFile' | 'caFile' | 'sink'>): Promise<ConfigClient> {
  return ConfigClient.start({
    gateway: GATEWAY_A,
    backoff: { initialMs: 20, maxMs: 200 },
    heartbeatIntervalMs: 60_000,
    credentialsPollMs: 60_000,
    log: quietLog,
    ...options,
  });
}

/** A bare WebSocket peer with the given credentials, recording what it receives. */
function rawPeer(port: number, creds: { cert?: string; key?: string; ca: string }, autoPong = true): { ws: WebSocket; messages: ConfigMessage[]; opened: Promise<boolean>; closed: Promise<void> } {
  const ws = new WebSocket(`wss://127.0.0.1:${port}${CONFIG_PROTOCOL_PATH}`, CONFIG_PROTOCOL, { ...creds, autoPong });
  const messages: ConfigMessage[] = [];
  ws.on('message', (data) => messages.push(JSON.parse(data.toString())));
  ws.on('error', () => {}); // the outcome is read from 'open' / 'close'
  const opened = new Promise<boolean>((resolve) => {
    ws.once('open', () => resolve(true));
    ws.once('close', () => resolve(false));
  });
  const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
  return { ws, messages, opened, closed };
}

/**
 * `openssl s_client` asks for the WebSocket upgrade; resolves with the HTTP status line it
 * got, or '' when the server closed without one. The s_client process is always ended.
 */
function opensslUpgrade(port: number, args: string[]): Promise<string> {
  return new Promise((resolve) => {
    const child = spawn('openssl', ['s_client', '-quiet', '-connect', `127.0.0.1:${port}`, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    const finish = (status: string): void => {
      child.kill();
      resolve(status);
    };
    child.stdout.on('data', (chunk) => {
      output += chunk.toString('latin1');
      const line = /HTTP\/1\.1 \d{3}[^\r\n]*/.exec(output);
      if (line) finish(line[0]);
    });
    child.on('exit', () => resolve(/HTTP\/1\.1 \d{3}[^\r\n]*/.exec(output)?.[0] ?? ''));
    child.stdin.on('error', () => {}); // s_client may be gone before the request is written
    child.stdin.write(
      `GET ${CONFIG_PROTOCOL_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: ${CONFIG_PROTOCOL}\r\n\r\n`,
    );
  });
}

function curl(args: string[]): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile('curl', ['-sS', '--max-time', '10', ...args], (err, stdout) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? -1) : 0, stdout });
    });
  });
}

describe('config delivery over mutual TLS', { timeout: 60_000 }, () => {
  const tmp = tempDir();
  after(tmp.cleanup);
  const pki: Pki = makePki();
  const bundle = trustBundlePem(pki.state);
  const filesA = writeCredentials(tmp.dir, 'a', pki.clientA, bundle);
  const filesB = writeCredentials(tmp.dir, 'b', pki.clientB, bundle);

  it('refuses peers without a valid client certificate: none, foreign CA, expired, not a client certificate', async () => {
    const c = cleanups();
    try {
      const { server, logs } = await startServer(pki);
      c.add(() => server.close());
      server.publish(proxyConfig(GATEWAY_A, 'v1'));

      const foreign = makePki();
      const now = Date.now();
      const expired = issueKeyAndCertificate(
        { kind: 'client', commonName: A, altNames: { uris: ['tlsgate://gateway/team-a/gw-a'] }, notBefore: new Date(now - 3 * 3_600_000), notAfter: new Date(now - 3_600_000) },
        pki.state.authorities[0]!,
      );
      const attempts: [string, { cert?: string; key?: string }][] = [
        ['no certificate', {}],
        ['foreign CA', { cert: foreign.clientA.certificatePem, key: foreign.clientA.privateKeyPem }],
        ['expired', { cert: expired.certificatePem, key: expired.privateKeyPem }],
        ['server certificate as client certificate', { cert: pki.server.certificatePem, key: pki.server.privateKeyPem }],
      ];
      for (const [name, creds] of attempts) {
        const peer = rawPeer(server.port, { ...creds, ca: bundle });
        assert.equal(await peer.opened, false, `${name}: the WebSocket opened`);
        assert.deepEqual(peer.messages, [], `${name}: received a config`);
      }
      assert.equal(server.status(A).connectedProxies, 0);
      assert.ok(logs.filter((log) => log.event === 'handshake_refused').length >= 2, 'TLS refused the handshakes');

      // curl: no client certificate fails; the right one gets through TLS (and is told to upgrade).
      const caFile = filesA.caFile;
      const url = `https://127.0.0.1:${server.port}${CONFIG_PROTOCOL_PATH}`;
      assert.notEqual((await curl(['--cacert', caFile, url])).code, 0);
      const withCert = await curl(['--cacert', caFile, '--cert', filesA.certFile, '--key', filesA.keyFile, '-o', '/dev/null', '-w', '%{http_code}', url]);
      assert.equal(withCert.stdout, '426');
      // openssl s_client: upgraded with the Gateway's certificate, nothing without one.
      assert.match(await opensslUpgrade(server.port, ['-CAfile', caFile, '-cert', filesA.certFile, '-key', filesA.keyFile]), /^HTTP\/1\.1 101/);
      assert.equal(await opensslUpgrade(server.port, ['-CAfile', caFile]), '');
    } finally {
      await c.run();
    }
  });

  it('refuses to start with a certificate that names another Gateway, or a key that is not its own', async () => {
    await assert.rejects(
      startClient({ url: 'wss://127.0.0.1:1', gateway: GATEWAY_B, ...filesA, sink: new RecordingSink() }),
      /--cert .*a\.crt: names Gateway team-a\/gw-a, but this proxy serves team-b\/gw-b/,
    );
    await assert.rejects(
      startClient({ url: 'wss://127.0.0.1:1', ...filesA, keyFile: filesB.keyFile, sink: new RecordingSink() }),
      /--key .*b\.key: does not belong to the certificate/,
    );
    await assert.rejects(startClient({ url: 'ws://127.0.0.1:1', ...filesA, sink: new RecordingSink() }), /expected a wss:\/\/ URL/);
  });

  it("sends a proxy its own Gateway's config and nothing else", async () => {
    const c = cleanups();
    try {
      const { server } = await startServer(pki);
      c.add(() => server.close());
      const keyA = 'KEY-OF-A';
      const keyB = 'KEY-OF-B';
      server.publish(proxyConfig(GATEWAY_A, 'a1', keyA));
      server.publish(proxyConfig(GATEWAY_B, 'b1', keyB));

      const peerA = rawPeer(server.port, { cert: pki.clientA.certificatePem, key: pki.clientA.privateKeyPem, ca: bundle });
      c.add(() => peerA.ws.terminate());
      assert.equal(await peerA.opened, true);
      const sinkB = new RecordingSink();
      const clientB = await startClient({ url: `wss://127.0.0.1:${server.port}`, gateway: GATEWAY_B, ...filesB, sink: sinkB });
      c.add(() => clientB.close());
      await statusWhere(server, B, (s) => s.ackedVersion === 'b1');

      server.publish(proxyConfig(GATEWAY_B, 'b2', keyB));
      server.publish(proxyConfig(GATEWAY_A, 'a2', keyA));
      await statusWhere(server, B, (s) => s.ackedVersion === 'b2');
      await new Promise<void>((resolve) => {
        const check = (): void => (peerA.messages.length >= 2 ? resolve() : void peerA.ws.once('message', check));
        check();
      });

      assert.deepEqual(peerA.messages.map((m) => m.config.version), ['a1', 'a2']);
      assert.ok(peerA.messages.every((m) => m.config.gateway.name === 'gw-a' && !JSON.stringify(m).includes(keyB)));
      assert.deepEqual(sinkB.versions, ['b1', 'b2']);
      assert.ok(sinkB.applied.every((config) => config.gateway.name === 'gw-b' && !JSON.stringify(config).includes(keyA)));
      assert.equal(server.status(A).connectedProxies, 1);
      assert.equal(server.status(B).connectedProxies, 1);
    } finally {
      await c.run();
    }
  });

  it('pushes on change; ACKs and NACKs (with the error, without key material) show in status', async () => {
    const c = cleanups();
    try {
      const { server } = await startServer(pki);
      c.add(() => server.close());
      const keyPem = pki.clientA.privateKeyPem;
      // The sink refuses v3 with an error that (carelessly) quotes a private key.
      const sink = new RecordingSink((config) => (config.version === 'v3' ? `listener "tls": certificate does not match key ${keyPem}` : null));
      const client = await startClient({ url: `wss://127.0.0.1:${server.port}`, ...filesA, sink });
      c.add(() => client.close());

      server.publish(proxyConfig(GATEWAY_A, 'v1'));
      let status = await statusWhere(server, A, (s) => s.ackedVersion === 'v1');
      assert.deepEqual(status, { connectedProxies: 1, ackedProxies: 1, currentVersion: 'v1', ackedVersion: 'v1' });
      server.publish(proxyConfig(GATEWAY_A, 'v2'));
      await statusWhere(server, A, (s) => s.ackedVersion === 'v2');
      server.publish(proxyConfig(GATEWAY_A, 'v2')); // same version: not pushed again
      assert.deepEqual(sink.versions, ['v1', 'v2']);

      server.publish(proxyConfig(GATEWAY_A, 'v3'));
      status = await statusWhere(server, A, (s) => s.nack !== undefined);
      assert.equal(status.currentVersion, 'v3');
      assert.equal(status.ackedVersion, 'v2', 'the newest version a proxy ACKed');
      assert.equal(status.ackedProxies, 0);
      assert.equal(status.nack?.version, 'v3');
      assert.match(status.nack!.error, /certificate does not match key/);
      assert.ok(!status.nack!.error.includes(keyPem.split('\n')[1]!), 'NACK text carries key material');
      assert.doesNotMatch(status.nack!.error, /PRIVATE KEY/);
      assert.equal(client.appliedVersion, 'v2', 'the proxy keeps serving v2');

      // A schema-invalid config is NACKed by the client's validation, naming the field.
      const broken = proxyConfig(GATEWAY_A, 'v4') as unknown as { ports: { port: number }[] };
      broken.ports[0]!.port = -1;
      server.publish(broken as unknown as ProxyConfig);
      status = await statusWhere(server, A, (s) => s.nack?.version === 'v4');
      assert.match(status.nack!.error, /message\.config\.ports\[0\]\.port: expected an integer/);

      server.publish(proxyConfig(GATEWAY_A, 'v5'));
      status = await statusWhere(server, A, (s) => s.ackedVersion === 'v5');
      assert.equal(status.nack, undefined, 'an ACK replaces the NACK');
      assert.deepEqual(sink.versions, ['v1', 'v2', 'v5']);
    } finally {
      await c.run();
    }
  });

  it("emits 'status' only on change; withdraw forgets a Gateway's config but not its proxies' config", async () => {
    const c = cleanups();
    try {
      const { server } = await startServer(pki);
      c.add(() => server.close());
      const events: string[] = [];
      server.on('status', (gateway, status) => events.push(`${gateway} ${status.connectedProxies} ${status.currentVersion ?? '-'} ${status.ackedVersion ?? '-'}`));
      server.publish(proxyConfig(GATEWAY_A, 'v1'));
      server.publish(proxyConfig(GATEWAY_A, 'v1'));
      const sink = new RecordingSink();
      const client = await startClient({ url: `wss://127.0.0.1:${server.port}`, ...filesA, sink });
      c.add(() => client.close());
      await statusWhere(server, A, (s) => s.ackedVersion === 'v1');
      assert.deepEqual(events, [`${A} 0 v1 -`, `${A} 1 v1 -`, `${A} 1 v1 v1`]);

      server.withdraw(GATEWAY_A);
      assert.deepEqual(server.status(A), { connectedProxies: 1, ackedProxies: 0, ackedVersion: 'v1' });
      assert.equal(events.at(-1), `${A} 1 - v1`);
      assert.equal(client.appliedVersion, 'v1', 'the proxy keeps serving what it has');
      // A proxy connecting now gets nothing until the Gateway has a config again.
      const peer = rawPeer(server.port, { cert: pki.clientA.certificatePem, key: pki.clientA.privateKeyPem, ca: bundle });
      c.add(() => peer.ws.terminate());
      assert.equal(await peer.opened, true);
      await statusWhere(server, A, (s) => s.connectedProxies === 2);
      assert.deepEqual(
        server.proxies().map((proxy) => [proxy.gateway, proxy.ackedVersion ?? null]).sort(),
        [[A, 'v1'], [A, null]].sort(),
      );
      // The next publish is the first thing it receives (messages on a connection are ordered).
      server.publish(proxyConfig(GATEWAY_A, 'v2'));
      await new Promise<void>((resolve) => (peer.messages.length > 0 ? resolve() : peer.ws.once('message', () => setImmediate(resolve))));
      assert.deepEqual(peer.messages.map((m) => m.config.version), ['v2']);
    } finally {
      await c.run();
    }
  });

  it('keeps the last config while the server is away, then reconnects to the restarted server', async () => {
    const c = cleanups();
    try {
      const first = await startServer(pki);
      const port = first.server.port;
      let closeFirst: (() => Promise<void>) | null = () => first.server.close();
      c.add(() => closeFirst?.());
      const sink = new RecordingSink();
      const client = await startClient({ url: `wss://127.0.0.1:${port}`, ...filesA, sink });
      c.add(() => client.close());
      first.server.publish(proxyConfig(GATEWAY_A, 'v1'));
      await statusWhere(first.server, A, (s) => s.ackedVersion === 'v1');

      const disconnected = eventWhere(client, 'disconnected');
      await first.server.close();
      closeFirst = null;
      await disconnected;
      assert.equal(client.connected, false);
      assert.equal(client.appliedVersion, 'v1');
      assert.deepEqual(sink.versions, ['v1']);

      const second = await startServer(pki, 60_000, port);
      c.add(() => second.server.close());
      second.server.publish(proxyConfig(GATEWAY_A, 'v1'));
      const status = await statusWhere(second.server, A, (s) => s.ackedVersion === 'v1');
      assert.equal(status.connectedProxies, 1);
      assert.deepEqual(sink.versions, ['v1'], 'the same version is confirmed, not applied twice');
      second.server.publish(proxyConfig(GATEWAY_A, 'v2'));
      await statusWhere(second.server, A, (s) => s.ackedVersion === 'v2');
      assert.deepEqual(sink.versions, ['v1', 'v2']);
    } finally {
      await c.run();
    }
  });

  it('heartbeats: the server drops a proxy that stops answering pings', async () => {
    const c = cleanups();
    try {
      const { server, logs } = await startServer(pki, 100);
      c.add(() => server.close());
      const peer = rawPeer(server.port, { cert: pki.clientA.certificatePem, key: pki.clientA.privateKeyPem, ca: bundle }, false);
      c.add(() => peer.ws.terminate());
      assert.equal(await peer.opened, true);
      await statusWhere(server, A, (s) => s.connectedProxies === 1);
      await peer.closed;
      await statusWhere(server, A, (s) => s.connectedProxies === 0);
      assert.ok(logs.some((log) => log.event === 'proxy_dropped' && log.fields.reason === 'missed heartbeat'));
    } finally {
      await c.run();
    }
  });

  it('closes the connection of a proxy that sends a malformed message', async () => {
    const c = cleanups();
    try {
      const { server, logs } = await startServer(pki);
      c.add(() => server.close());
      const peer = rawPeer(server.port, { cert: pki.clientA.certificatePem, key: pki.clientA.privateKeyPem, ca: bundle });
      c.add(() => peer.ws.terminate());
      assert.equal(await peer.opened, true);
      const closeCode = new Promise<number>((resolve) => peer.ws.once('close', (code) => resolve(code)));
      peer.ws.send(JSON.stringify({ type: 'ack', version: 42 }));
      assert.equal(await closeCode, 1008);
      assert.ok(logs.some((log) => log.event === 'proxy_message_refused' && /message\.version/.test(String(log.fields.error))));
      await statusWhere(server, A, (s) => s.connectedProxies === 0);
    } finally {
      await c.run();
    }
  });

  it('re-checks expiry when a TLS session is resumed (resumption skips certificate verification)', async () => {
    const c = cleanups();
    try {
      const { server, logs } = await startServer(pki);
      c.add(() => server.close());
      const notAfter = new Date(Math.ceil(Date.now() / 1000) * 1000 + 2000);
      const shortLived = issueKeyAndCertificate(
        { kind: 'client', commonName: A, altNames: { uris: ['tlsgate://gateway/team-a/gw-a'] }, notBefore: new Date(Date.now() - 60_000), notAfter },
        pki.state.authorities[0]!,
      );
      const upgradeRequest = `GET ${CONFIG_PROTOCOL_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: ${CONFIG_PROTOCOL}\r\n\r\n`;
      /** One TLS connection that asks for the upgrade; returns the HTTP status, resumption and the session ticket. */
      const attempt = (session?: Buffer): Promise<{ status: string; reused: boolean; session?: Buffer }> =>
        new Promise((resolve, reject) => {
          const socket = tls.connect({ host: '127.0.0.1', port: server.port, cert: shortLived.certificatePem, key: shortLived.privateKeyPem, ca: bundle, ...(session ? { session } : {}) });
          let ticket: Buffer | undefined;
          let response = '';
          socket.on('session', (value: Buffer) => (ticket = value));
          socket.on('secureConnect', () => socket.write(upgradeRequest));
          socket.on('data', (chunk) => {
            response += chunk.toString('latin1');
            if (response.includes('\r\n')) {
              const reused = socket.isSessionReused();
              // Give TLS 1.3 a moment to deliver its ticket (it follows the handshake).
              setImmediate(() => {
                socket.destroy();
                resolve({ status: response.split(' ')[1]!, reused, ...(ticket ? { session: ticket } : {}) });
              });
            }
          });
          socket.on('error', reject);
        });
      const first = await attempt();
      assert.equal(first.status, '101');
      assert.ok(first.session, 'the server issued no session ticket');
      await statusWhere(server, A, (s) => s.connectedProxies === 0);
      while (Date.now() <= notAfter.getTime() + 1000) await new Promise((resolve) => setTimeout(resolve, 200));
      const resumed = await attempt(first.session);
      assert.equal(resumed.reused, true, 'the session was not resumed, so this test proves nothing');
      assert.equal(resumed.status, '403');
      assert.ok(logs.some((log) => log.event === 'upgrade_refused' && log.fields.reason === 'certificate not valid now'));
    } finally {
      await c.run();
    }
  });

  /** A stand-in config server (real TLS and WebSocket) that the test scripts message by message. */
  async function scriptedServer(autoPong = true): Promise<{ port: number; sockets: WebSocket[]; answers: ClientMessage[]; nextSocket: () => Promise<WebSocket>; close: () => Promise<void> }> {
    const httpsServer = https.createServer({ cert: pki.server.certificatePem, key: pki.server.privateKeyPem, ca: bundle, requestCert: true, rejectUnauthorized: true });
    const wss = new WebSocketServer({ server: httpsServer, autoPong });
    const sockets: WebSocket[] = [];
    const answers: ClientMessage[] = [];
    wss.on('connection', (ws) => {
      sockets.push(ws);
      ws.on('message', (data) => answers.push(JSON.parse(data.toString())));
      ws.on('error', () => {});
    });
    await new Promise<void>((resolve) => httpsServer.listen(0, '127.0.0.1', resolve));
    return {
      port: (httpsServer.address() as { port: number }).port,
      sockets,
      answers,
      nextSocket: () => new Promise((resolve) => wss.once('connection', resolve)),
      close: async () => {
        for (const ws of wss.clients) ws.terminate();
        await new Promise((resolve) => wss.close(resolve));
        await new Promise((resolve) => httpsServer.close(resolve));
      },
    };
  }

  it('heartbeats: the client drops a server that stops answering pings, and reconnects', async () => {
    const c = cleanups();
    try {
      const scripted = await scriptedServer(false);
      c.add(() => scripted.close());
      const firstSocket = scripted.nextSocket();
      const client = await startClient({ url: `wss://127.0.0.1:${scripted.port}`, ...filesA, sink: new RecordingSink(), heartbeatIntervalMs: 100 });
      c.add(() => client.close());
      await firstSocket;
      const secondSocket = scripted.nextSocket();
      await eventWhere(client, 'disconnected');
      await secondSocket;
      assert.ok(scripted.sockets.length >= 2);
    } finally {
      await c.run();
    }
  });

  it('ignores stale generations, NACKs malformed messages, and follows a new server epoch', async () => {
    const c = cleanups();
    try {
      const scripted = await scriptedServer();
      c.add(() => scripted.close());
      const connected = scripted.nextSocket();
      const sink = new RecordingSink();
      const client = await startClient({ url: `wss://127.0.0.1:${scripted.port}`, ...filesA, sink });
      c.add(() => client.close());
      const ws = await connected;
      const send = (epoch: string, generation: number, version: string): void =>
        ws.send(JSON.stringify({ type: 'config', epoch, generation, config: proxyConfig(GATEWAY_A, version) }));

      const stale = eventWhere<{ generation: number }>(client, 'stale');
      send('e1', 5, 'v5');
      send('e1', 3, 'v3');
      assert.equal((await stale).generation, 3);
      const malformed = eventWhere(client, 'nacked');
      ws.send('{"type":"config","epoch":"e1"');
      await malformed;
      const wrongGateway = eventWhere<{ error: string }>(client, 'nacked');
      ws.send(JSON.stringify({ type: 'config', epoch: 'e1', generation: 6, config: proxyConfig(GATEWAY_B, 'b6') }));
      assert.match((await wrongGateway).error, /config\.gateway is team-b\/gw-b, this proxy serves team-a\/gw-a/);
      const applied = eventWhere<ProxyConfig>(client, 'applied', (config) => config.version === 'v7');
      send('e1', 7, 'v7');
      await applied;
      const fromNewEpoch = eventWhere<ProxyConfig>(client, 'applied', (config) => config.version === 'v1-other');
      send('e2', 1, 'v1-other');
      await fromNewEpoch;

      assert.deepEqual(sink.versions, ['v5', 'v7', 'v1-other']);
      await new Promise<void>((resolve) => (scripted.answers.length >= 5 ? resolve() : ws.on('message', () => scripted.answers.length >= 5 && resolve())));
      assert.deepEqual(
        scripted.answers.map((answer) => [answer.type, answer.version]),
        [
          ['ack', 'v5'],
          ['nack', null],
          ['nack', 'b6'],
          ['ack', 'v7'],
          ['ack', 'v1-other'],
        ],
      );
    } finally {
      await c.run();
    }
  });

  it('CA rotation: connected proxies stay connected; renewed certificates are picked up from the files', async () => {
    const c = cleanups();
    const dir = tempDir();
    c.add(dir.cleanup);
    try {
      const state1 = createAuthorityState(new Date());
      const server1 = issueServerCertificate(state1, { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] }, new Date());
      const client1 = issueGatewayClientCertificate(state1, GATEWAY_A, new Date());
      const rotationPki: Pki = { ...pki, state: state1, server: server1, clientA: client1 };
      const { server } = await startServer(rotationPki);
      c.add(() => server.close());
      const files = writeCredentials(dir.dir, 'a', client1, trustBundlePem(state1));
      const sink = new RecordingSink();
      const client = await startClient({ url: `wss://127.0.0.1:${server.port}`, ...files, sink, credentialsPollMs: 50 });
      c.add(() => client.close());
      let disconnects = 0;
      client.on('disconnected', () => disconnects++);
      server.publish(proxyConfig(GATEWAY_A, 'v1'));
      await statusWhere(server, A, (s) => s.ackedVersion === 'v1');
      const serialBefore = server.proxies()[0]!.certificateSerial;

      // Step 1: the new CA joins the bundle (propagation 0 here: it signs right away).
      const state2 = beginRotation(state1, new Date(), { ...DEFAULT_CA_POLICY, propagationMs: 0 });
      const bundle2 = trustBundlePem(state2);
      // Step 2: the server switches to a certificate of the new CA and trusts both.
      const later = new Date(Date.now() + 1000);
      const server2 = issueServerCertificate(state2, { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] }, later);
      server.updateTls({ certificatePem: server2.certificatePem, privateKeyPem: server2.privateKeyPem, trustBundlePem: bundle2 });

      // The established connection is untouched and still receives configs.
      server.publish(proxyConfig(GATEWAY_A, 'v2'));
      await statusWhere(server, A, (s) => s.ackedVersion === 'v2');
      assert.equal(disconnects, 0);
      // A proxy still holding an old-CA certificate (and the new bundle) can connect during the overlap.
      const oldCertPeer = rawPeer(server.port, { cert: client1.certificatePem, key: client1.privateKeyPem, ca: bundle2 });
      c.add(() => oldCertPeer.ws.terminate());
      assert.equal(await oldCertPeer.opened, true);
      oldCertPeer.ws.terminate();

      // Step 3: the proxy's Secret is rewritten with a renewed certificate and the new bundle.
      const renewed: KeyAndCertificate = issueGatewayClientCertificate(state2, GATEWAY_A, later);
      const reloaded = eventWhere(client, 'credentialsReloaded');
      writeFileSync(files.caFile, bundle2);
      writeFileSync(files.keyFile, renewed.privateKeyPem);
      writeFileSync(files.certFile, renewed.certificatePem);
      await reloaded;
      await statusWhere(server, A, (s) => s.connectedProxies === 1 && s.ackedVersion === 'v2' && server.proxies()[0]!.certificateSerial !== serialBefore);
      assert.deepEqual(sink.versions, ['v1', 'v2']);

      // Step 4: the old CA retires; its certificates are refused from now on.
      server.updateTls({ certificatePem: server2.certificatePem, privateKeyPem: server2.privateKeyPem, trustBundlePem: trustBundlePem({ authorities: [state2.authorities[1]!] }) });
      const retiredPeer = rawPeer(server.port, { cert: client1.certificatePem, key: client1.privateKeyPem, ca: bundle2 });
      c.add(() => retiredPeer.ws.terminate());
      assert.equal(await retiredPeer.opened, false);
      assert.equal(server.status(A).connectedProxies, 1, 'the renewed proxy is still connected');
    } finally {
      await c.run();
    }
  });
});
