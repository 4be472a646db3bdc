/**
 * `tlsgate standalone` end to end: the built CLI serving the upstream example's shape on
 * loopback with a port offset, checked with Node's tls client and `openssl s_client`.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { test } from 'node:test';
import {
  bytesBeforeClose,
  environmentYaml,
  freePort,
  gatewayYaml,
  HOST,
  opensslClient,
  openTlsSession,
  routeYaml,
  setUpExample,
  startCli,
  tlsExchange,
  writeFile,
} from './support.js';

const OFFSET = 1000;

test('standalone serves Passthrough with the backend\'s certificate and Terminate with the gateway\'s', async (t) => {
  const { dir, pki, foo, bar } = await setUpExample(t);
  // Listener ports as written in the Gateway; the CLI adds the offset when binding.
  const passthroughPort = (await freePort()) - OFFSET;
  const terminatePort = (await freePort()) - OFFSET;
  const manifest = writeFile(
    dir,
    'example.yaml',
    [
      gatewayYaml({ name: 'example-gateway', passthroughPort, terminatePort }),
      routeYaml('foo-route', 'example-gateway', 'tls', ['foo.example.com'], 'foo-svc', 443),
      routeYaml('bar-route', 'example-gateway', 'tls-terminate', ['bar.example.com'], 'bar-svc', 8080),
      environmentYaml(pki, foo, bar),
    ].join('---\n'),
  );

  const cli = startCli(t, ['standalone', '-f', manifest, '--port-offset', String(OFFSET), '--workers', '1', '--admin-address', '127.0.0.1:0']);
  await cli.waitFor(/^ready: /m);
  await cli.waitFor(/^admin: /m);

  // The status table: the Gateway is Programmed (its config is served), both routes attached.
  assert.match(cli.stdout, /^example-gateway-class\s+tlsgate\.dev\/gateway-controller\s+True\s*$/m);
  assert.match(cli.stdout, /^default\s+example-gateway\s+example-gateway-class\s+127\.0\.0\.1\s+True\s+True\s*$/m);
  assert.match(cli.stdout, new RegExp(`^default\\s+example-gateway\\s+tls\\s+${passthroughPort}\\s+127\\.0\\.0\\.1:${passthroughPort + OFFSET}\\s+TLS/Passthrough\\s+\\*\\s+1\\s+True\\s+True`, 'm'));
  assert.match(cli.stdout, new RegExp(`^default\\s+example-gateway\\s+tls-terminate\\s+${terminatePort}\\s+127\\.0\\.0\\.1:${terminatePort + OFFSET}\\s+TLS/Terminate\\s+\\*\\s+1\\s+True\\s+True`, 'm'));
  assert.match(cli.stdout, /^TLSRoute\s+default\s+foo-route\s+foo\.example\.com\s+example-gateway\/tls\s+True\s+True\s*$/m);
  assert.match(cli.stdout, /^TLSRoute\s+default\s+bar-route\s+bar\.example\.com\s+example-gateway\/tls-terminate\s+True\s+True\s*$/m);
  assert.doesNotMatch(cli.stdout, /Problems:/);

  const passthrough = await tlsExchange(passthroughPort + OFFSET, 'foo.example.com', pki.ca.certificatePem);
  assert.equal(passthrough.peerFingerprint, new X509Certificate(pki.fooBackend.certificatePem).fingerprint256, 'Passthrough shows the backend certificate');
  assert.match(passthrough.greeting, /your SNI was foo\.example\.com/, 'the backend saw the client SNI');
  assert.equal(passthrough.echo, 'ping');

  const terminate = await tlsExchange(terminatePort + OFFSET, 'bar.example.com', pki.ca.certificatePem);
  assert.equal(terminate.peerFingerprint, new X509Certificate(pki.gateway.certificatePem).fingerprint256, 'Terminate shows the gateway certificate');
  assert.match(terminate.greeting, /^bar-svc: plain TCP echo/);
  assert.equal(terminate.echo, 'ping');

  const fooByOpenssl = await opensslClient(passthroughPort + OFFSET, 'foo.example.com', pki.caFile, /^openssl-ping$/m);
  assert.equal(fooByOpenssl.code, 0, fooByOpenssl.output);
  assert.match(fooByOpenssl.output, /subject=CN ?= ?foo\.example\.com, O ?= ?foo-svc \(the backend itself\)/);
  assert.match(fooByOpenssl.output, /Verify return code: 0 \(ok\)/);
  assert.match(fooByOpenssl.output, /your SNI was foo\.example\.com/);

  const barByOpenssl = await opensslClient(terminatePort + OFFSET, 'bar.example.com', pki.caFile, /^openssl-ping$/m);
  assert.equal(barByOpenssl.code, 0, barByOpenssl.output);
  assert.match(barByOpenssl.output, /subject=CN ?= ?bar\.example\.com, O ?= ?tlsgate gateway/);
  assert.match(barByOpenssl.output, /Verify return code: 0 \(ok\)/);
  assert.match(barByOpenssl.output, /bar-svc: plain TCP echo/);

  // No route for the name: accepted, then closed without a byte (no alert), on both ports.
  assert.equal(await bytesBeforeClose(HOST, passthroughPort + OFFSET, 'nobody.example.com', 10_000), 0);
  assert.equal(await bytesBeforeClose(HOST, terminatePort + OFFSET, 'nobody.example.com', 10_000), 0);
  // The terminate listener's route does not leak onto the passthrough port.
  assert.equal(await bytesBeforeClose(HOST, passthroughPort + OFFSET, 'bar.example.com', 10_000), 0);

  // The admin server: ready, the served config with keys redacted, metrics counting our traffic.
  const admin = /^admin: (http:\/\/127\.0\.0\.1:\d+)\//m.exec(cli.stdout)![1]!;
  assert.equal((await fetch(`${admin}/readyz`)).status, 200);
  const dump = await (await fetch(`${admin}/config_dump`)).text();
  assert.match(dump, /example-gateway/);
  assert.match(dump, /bar\.example\.com/);
  assert.doesNotMatch(dump, /PRIVATE KEY/);
  const metrics = await (await fetch(`${admin}/metrics`)).text();
  assert.match(metrics, /^# TYPE \S+ counter$/m);

  const exit = await cli.stop();
  assert.equal(exit.code, 0, `graceful exit on SIGTERM; output:\n${cli.output()}`);
  assert.match(cli.stderr, /SIGTERM: no longer accepting/);
});

test('standalone with two workers serves the same traffic', async (t) => {
  const { dir, pki, foo, bar } = await setUpExample(t);
  const passthroughPort = await freePort();
  const terminatePort = await freePort();
  const manifest = writeFile(
    dir,
    'example.yaml',
    [
      gatewayYaml({ name: 'example-gateway', passthroughPort, terminatePort }),
      routeYaml('foo-route', 'example-gateway', 'tls', ['foo.example.com'], 'foo-svc', 443),
      routeYaml('bar-route', 'example-gateway', 'tls-terminate', ['bar.example.com'], 'bar-svc', 8080),
      environmentYaml(pki, foo, bar),
    ].join('---\n'),
  );
  const cli = startCli(t, ['standalone', '-f', manifest, '--workers', '2']);
  await cli.waitFor(/^ready: /m);
  assert.match(cli.stdout, /^default\s+example-gateway\s+example-gateway-class\s+127\.0\.0\.1\s+True\s+True\s*$/m);
  // Several connections, so that both workers are likely to take some; each must work.
  for (let i = 0; i < 6; i++) {
    const passthrough = await tlsExchange(passthroughPort, 'foo.example.com', pki.ca.certificatePem);
    assert.equal(passthrough.peerFingerprint, new X509Certificate(pki.fooBackend.certificatePem).fingerprint256);
    const terminate = await tlsExchange(terminatePort, 'bar.example.com', pki.ca.certificatePem);
    assert.equal(terminate.peerFingerprint, new X509Certificate(pki.gateway.certificatePem).fingerprint256);
    assert.equal(terminate.echo, 'ping');
  }
  const exit = await cli.stop();
  assert.equal(exit.code, 0, cli.output());
});

test('SIGTERM drains: established connections keep working, new ones are refused, exit when drained', async (t) => {
  const { dir, pki, foo, bar } = await setUpExample(t);
  const passthroughPort = await freePort();
  const terminatePort = await freePort();
  const manifest = writeFile(
    dir,
    'example.yaml',
    [
      gatewayYaml({ name: 'example-gateway', passthroughPort, terminatePort }),
      routeYaml('bar-route', 'example-gateway', 'tls-terminate', ['bar.example.com'], 'bar-svc', 8080),
      environmentYaml(pki, foo, bar),
    ].join('---\n'),
  );
  // A grace period far longer than the test: the exit below must come from the drain finishing.
  const cli = startCli(t, ['standalone', '-f', manifest, '--workers', '1', '--grace-period', '600']);
  await cli.waitFor(/^ready: /m);
  const session = await openTlsSession(terminatePort, 'bar.example.com', pki.ca.certificatePem);
  t.after(() => void session.socket.destroy());
  assert.equal(await session.roundTrip('before'), 'before');

  cli.signal('SIGTERM');
  await cli.waitFor(/SIGTERM: no longer accepting/);
  // Still carrying traffic while draining...
  assert.equal(await session.roundTrip('draining'), 'draining');
  // ...while the listener stops taking new connections (it closes right after the log line).
  // A connection that reaches the kernel's accept queue just before the listening socket
  // closes is reset by the kernel (ECONNRESET): that race is allowed; any other failure is not,
  // and the listener must end up closed (ECONNREFUSED).
  let refused: Error | undefined;
  const raced: string[] = [];
  for (let attempt = 0; attempt < 200 && !refused; attempt++) {
    try {
      await tlsExchange(terminatePort, 'bar.example.com', pki.ca.certificatePem);
      await new Promise((resolve) => setTimeout(resolve, 50));
    } catch (error) {
      if (/ECONNRESET|socket hang up/.test(String(error)) && raced.length < 3) raced.push(String(error));
      else refused = error as Error;
    }
  }
  assert.match(String(refused), /ECONNREFUSED/, `after the close; reset while closing: ${raced.join(', ') || 'none'}`);
  assert.equal(await session.roundTrip('still'), 'still');
  assert.equal(cli.running, true, 'still draining the open connection');

  session.socket.end();
  const exit = await cli.exited;
  assert.equal(exit.code, 0, cli.output());
  assert.match(cli.stderr, /stopped/);
});

test('standalone refuses bad options with a message naming the option', async (t) => {
  const cli = startCli(t, ['standalone', '-f', 'whatever.yaml', '--port-offset', 'ten']);
  const exit = await cli.exited;
  assert.notEqual(exit.code, 0);
  assert.match(cli.stderr, /--port-offset must be an integer/);

  const missing = startCli(t, ['standalone', '-f', '/nonexistent/manifests.yaml', '--workers', '1']);
  const missingExit = await missing.exited;
  assert.notEqual(missingExit.code, 0);
  assert.match(missing.stderr, /\/nonexistent\/manifests\.yaml/);
});
