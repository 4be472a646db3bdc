/**
 * Invalid objects are reported with their status reason and do not stop the rest; two
 * Gateways wanting one port on the single standalone address: the first keeps it.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { test, type TestContext } from 'node:test';
import { stringify } from 'yaml';
import {
  bytesBeforeClose,
  environmentYaml,
  freePort,
  gatewayYaml,
  HOST,
  routeYaml,
  setUpExample,
  startCli,
  tlsExchange,
  writeFile,
} from './support.js';

test('invalid objects are reported with their reasons while the valid ones serve', async (t) => {
  const { dir, pki, foo, bar } = await setUpExample(t);
  const passthroughPort = await freePort();
  const terminatePort = await freePort();
  const brokenPassthroughPort = await freePort();
  const brokenTerminatePort = await freePort();
  const brokenGateway = stringify({
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'Gateway',
    metadata: { name: 'broken-gateway', namespace: 'default' },
    spec: {
      gatewayClassName: 'example-gateway-class',
      listeners: [
        { name: 'tls', protocol: 'TLS', port: brokenPassthroughPort, tls: { mode: 'Passthrough' } },
        { name: 'tls-terminate', protocol: 'TLS', port: brokenTerminatePort, tls: { mode: 'Terminate', certificateRefs: [{ name: 'no-such-secret' }] } },
      ],
    },
  });
  const foreignGateway = stringify({
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'Gateway',
    metadata: { name: 'foreign-gateway', namespace: 'default' },
    spec: { gatewayClassName: 'someone-elses-class', listeners: [{ name: 'tls', protocol: 'TLS', port: 443, tls: { mode: 'Passthrough' } }] },
  });
  const manifest = writeFile(
    dir,
    'mixed-bag.yaml',
    [
      gatewayYaml({ name: 'example-gateway', passthroughPort, terminatePort }),
      brokenGateway,
      foreignGateway,
      routeYaml('foo-route', 'example-gateway', 'tls', ['foo.example.com'], 'foo-svc', 443),
      routeYaml('bar-route', 'example-gateway', 'tls-terminate', ['bar.example.com'], 'bar-svc', 8080),
      routeYaml('ghost-route', 'example-gateway', 'tls', ['ghost.example.com'], 'ghost-svc', 443),
      routeYaml('lost-route', 'example-gateway', 'no-such-listener', ['lost.example.com'], 'foo-svc', 443),
      routeYaml('orphan-route', 'missing-gateway', 'tls', ['orphan.example.com'], 'foo-svc', 443),
      routeYaml('broken-bar-route', 'broken-gateway', 'tls-terminate', ['bar.example.com'], 'bar-svc', 8080),
      routeYaml('broken-foo-route', 'broken-gateway', 'tls', ['foo.example.com'], 'foo-svc', 443),
      environmentYaml(pki, foo, bar),
    ].join('---\n'),
  );

  const cli = startCli(t, ['standalone', '-f', manifest, '--workers', '1']);
  await cli.waitFor(/^ready: /m);

  // Each problem is in the table with its reason, and in the Problems list with its message.
  assert.match(cli.stdout, /^TLSRoute\s+default\s+ghost-route\s+ghost\.example\.com\s+example-gateway\/tls\s+True\s+False\s+BackendNotFound\s*$/m);
  assert.match(cli.stdout, /^TLSRoute\s+default\s+lost-route\s+lost\.example\.com\s+example-gateway\/no-such-listener\s+False\s+\S+\s+NoMatchingParent\s*$/m);
  assert.match(cli.stdout, /^TLSRoute\s+default\s+orphan-route\s+orphan\.example\.com\s+<none>\s+-\s+-\s+NoParent\s*$/m);
  assert.match(cli.stdout, /^default\s+broken-gateway\s+tls-terminate\s+\d+\s+\S+\s+TLS\/Terminate\s+\*\s+\d+\s+\S+\s+\S+\s+InvalidCertificateRef\s*$/m);
  assert.match(cli.stdout, /^Problems:$/m);
  assert.match(cli.stdout, /TLSRoute default\/ghost-route parent example-gateway\/tls: ResolvedRefs=False BackendNotFound: .*ghost-svc/);
  assert.match(cli.stdout, /TLSRoute default\/orphan-route: Accepted NoParent: .*missing-gateway/);
  assert.match(cli.stderr, /Gateway default\/foreign-gateway is ignored: no GatewayClass "someone-elses-class"/);
  // The valid Gateway is fully served and Programmed despite its neighbours.
  assert.match(cli.stdout, /^default\s+example-gateway\s+example-gateway-class\s+127\.0\.0\.1\s+True\s+True\s*$/m);

  const served = await tlsExchange(passthroughPort, 'foo.example.com', pki.ca.certificatePem);
  assert.match(served.greeting, /your SNI was foo\.example\.com/);
  assert.equal(served.echo, 'ping');
  const terminated = await tlsExchange(terminatePort, 'bar.example.com', pki.ca.certificatePem);
  assert.equal(terminated.echo, 'ping');
  // The broken Gateway's healthy listener serves; its broken one rejects without a byte.
  const brokenGatewayPassthrough = await tlsExchange(brokenPassthroughPort, 'foo.example.com', pki.ca.certificatePem);
  assert.equal(brokenGatewayPassthrough.echo, 'ping');
  assert.equal(await bytesBeforeClose(HOST, brokenTerminatePort, 'bar.example.com', 10_000), 0);
  // A route whose backend does not exist: rejected without a byte.
  assert.equal(await bytesBeforeClose(HOST, passthroughPort, 'ghost.example.com', 10_000), 0);
  assert.equal(await bytesBeforeClose(HOST, passthroughPort, 'lost.example.com', 10_000), 0);

  const exit = await cli.stop();
  assert.equal(exit.code, 0, cli.output());
});

test('two Gateways wanting one port: a clear error naming both, the first keeps it', async (t) => {
  const { dir, pki, foo, bar } = await setUpExample(t);
  const sharedPort = await freePort();
  const firstTerminatePort = await freePort();
  const secondTerminatePort = await freePort();
  const manifest = writeFile(
    dir,
    'two-gateways.yaml',
    [
      // Written in this order: first-gateway comes first, whatever the names sort to.
      gatewayYaml({ name: 'zz-first-gateway', passthroughPort: sharedPort, terminatePort: firstTerminatePort }),
      gatewayYaml({ name: 'aa-second-gateway', passthroughPort: sharedPort, terminatePort: secondTerminatePort }),
      routeYaml('first-route', 'zz-first-gateway', 'tls', ['foo.example.com'], 'foo-svc', 443),
      routeYaml('second-route', 'aa-second-gateway', 'tls', ['foo2.example.com'], 'foo-svc', 443),
      routeYaml('second-bar-route', 'aa-second-gateway', 'tls-terminate', ['bar.example.com'], 'bar-svc', 8080),
      environmentYaml(pki, foo, bar),
    ].join('---\n'),
  );
  const cli = startCli(t, ['standalone', '-f', manifest, '--workers', '1']);
  await cli.waitFor(/^ready: /m);

  assert.match(
    cli.stderr,
    new RegExp(`Gateways default/zz-first-gateway and default/aa-second-gateway both want port ${sharedPort} on 127\\.0\\.0\\.1`),
  );
  assert.match(cli.stdout, /^default\s+zz-first-gateway\s+example-gateway-class\s+127\.0\.0\.1\s+True\s+True\s*$/m);
  assert.match(cli.stdout, /^default\s+aa-second-gateway\s+example-gateway-class\s+127\.0\.0\.1\s+True\s+False\s+\S+/m);
  assert.match(cli.stdout, new RegExp(`^default\\s+aa-second-gateway\\s+tls\\s+${sharedPort}\\s+<not served>`, 'm'));

  // The port belongs to the first Gateway: its route works, the second's is not there.
  const first = await tlsExchange(sharedPort, 'foo.example.com', pki.ca.certificatePem);
  assert.match(first.greeting, /your SNI was foo\.example\.com/);
  assert.equal(await bytesBeforeClose(HOST, sharedPort, 'foo2.example.com', 10_000), 0);
  // The second Gateway's other port is served.
  const second = await tlsExchange(secondTerminatePort, 'bar.example.com', pki.ca.certificatePem);
  assert.equal(second.echo, 'ping');

  const exit = await cli.stop();
  assert.equal(exit.code, 0, cli.output());
});

// With 1 worker the retry is a save of the unchanged file (--watch); with 2 it is the timed
// retry (--port-retry 1, no --watch): both paths try the port again.
/** Another program on a port: a plain listener held by this test until release() (or its end). */
async function holdPort(t: TestContext): Promise<{ port: number; release: () => Promise<void> }> {
  const squatter = net.createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => squatter.listen(0, HOST, resolve));
  const release = (): Promise<void> => new Promise<void>((resolve) => (squatter.listening ? squatter.close(() => resolve()) : resolve()));
  t.after(release);
  return { port: (squatter.address() as net.AddressInfo).port, release };
}

for (const workers of [1, 2]) {
test(`--workers ${workers}: a listener whose port another program holds is PortUnavailable, the rest of its Gateway serves, and the port is served once free`, async (t) => {
  const { dir, pki, foo, bar } = await setUpExample(t);
  // Another program on the port: a plain listener held by this test.
  const { port: takenPort, release: closeSquatter } = await holdPort(t);
  const blockedTerminatePort = await freePort();
  const passthroughPort = await freePort();
  const terminatePort = await freePort();
  const manifest = writeFile(
    dir,
    'blocked.yaml',
    [
      gatewayYaml({ name: 'blocked-gateway', passthroughPort: takenPort, terminatePort: blockedTerminatePort }),
      gatewayYaml({ name: 'example-gateway', passthroughPort, terminatePort }),
      routeYaml('foo-route', 'example-gateway', 'tls', ['foo.example.com'], 'foo-svc', 443),
      routeYaml('bar-route', 'example-gateway', 'tls-terminate', ['bar.example.com'], 'bar-svc', 8080),
      routeYaml('blocked-route', 'blocked-gateway', 'tls', ['foo.example.com'], 'foo-svc', 443),
      routeYaml('blocked-bar-route', 'blocked-gateway', 'tls-terminate', ['bar.example.com'], 'bar-svc', 8080),
      environmentYaml(pki, foo, bar),
    ].join('---\n'),
  );
  const retry = workers === 1 ? ['--watch', '--port-retry', '3600'] : ['--port-retry', '1'];
  const cli = startCli(t, ['standalone', '-f', manifest, '--workers', String(workers), ...retry]);
  await cli.waitForReadyCount(1);

  const taken = `cannot listen on 127\\.0\\.0\\.1:${takenPort}: EADDRINUSE`;
  assert.match(cli.stderr, new RegExp(`Gateway default/blocked-gateway: listener\\(s\\) tls on port ${takenPort}: ${taken}; PortUnavailable, the rest of the Gateway is served`));
  assert.doesNotMatch(cli.stderr, /the proxy refused its config/);
  // The Gateway is Accepted (one listener is not valid) and Programmed: what it serves is what translate made.
  assert.match(cli.stdout, /^default\s+blocked-gateway\s+example-gateway-class\s+127\.0\.0\.1\s+True\s+True\s*$/m);
  assert.match(cli.stdout, new RegExp(`^default\\s+blocked-gateway\\s+tls\\s+${takenPort}\\s+<not served>\\s+TLS/Passthrough\\s+\\*\\s+0\\s+False\\s+False\\s+PortUnavailable\\s*$`, 'm'));
  assert.match(cli.stdout, new RegExp(`^default\\s+blocked-gateway\\s+tls-terminate\\s+${blockedTerminatePort}\\s+127\\.0\\.0\\.1:${blockedTerminatePort}\\s+TLS/Terminate\\s+\\*\\s+1\\s+True\\s+True\\s*$`, 'm'));
  assert.match(cli.stdout, new RegExp(`Gateway default/blocked-gateway listener tls: Accepted=False PortUnavailable: Listener tls: port ${takenPort} is unavailable: ${taken}`));
  assert.match(cli.stdout, /^TLSRoute\s+default\s+blocked-route\s+foo\.example\.com\s+blocked-gateway\/tls\s+False\s+True\s+NotAllowedByListeners\s*$/m);
  assert.match(cli.stdout, /^default\s+example-gateway\s+example-gateway-class\s+127\.0\.0\.1\s+True\s+True\s*$/m);
  // Several connections each way, so that with two workers both serve some.
  for (let i = 0; i < 4; i++) {
    const served = await tlsExchange(passthroughPort, 'foo.example.com', pki.ca.certificatePem);
    assert.match(served.greeting, /your SNI was foo\.example\.com/);
    const terminated = await tlsExchange(terminatePort, 'bar.example.com', pki.ca.certificatePem);
    assert.equal(terminated.echo, 'ping');
    // The blocked Gateway's other listener serves real TLS with the gateway's certificate.
    const blockedTerminated = await tlsExchange(blockedTerminatePort, 'bar.example.com', pki.ca.certificatePem);
    assert.equal(blockedTerminated.echo, 'ping');
  }

  // Without --watch an edit is not served, not even by the timed retry that re-applies.
  const original = readFileSync(manifest, 'utf8');
  if (workers === 2) writeFileSync(manifest, original + '---\n' + routeYaml('edited-route', 'example-gateway', 'tls', ['late.example.com'], 'foo-svc', 443));
  // The other program goes away: the retry (a save, or the timer) serves the listener.
  await closeSquatter();
  const before = cli.stdout.length;
  if (workers === 1) writeFileSync(manifest, original);
  await cli.waitForReadyCount(2);
  const after = cli.stdout.slice(before);
  assert.doesNotMatch(after, /edited-route/);
  assert.match(after, /^default\s+blocked-gateway\s+example-gateway-class\s+127\.0\.0\.1\s+True\s+True\s*$/m);
  assert.match(after, new RegExp(`^default\\s+blocked-gateway\\s+tls\\s+${takenPort}\\s+127\\.0\\.0\\.1:${takenPort}\\s+TLS/Passthrough\\s+\\*\\s+1\\s+True\\s+True\\s*$`, 'm'));
  assert.match(cli.stderr, new RegExp(`Gateway default/blocked-gateway: port ${takenPort} is available now; listener\\(s\\) tls served`));
  const unblocked = await tlsExchange(takenPort, 'foo.example.com', pki.ca.certificatePem);
  assert.match(unblocked.greeting, /your SNI was foo\.example\.com/);
  const stillServed = await tlsExchange(blockedTerminatePort, 'bar.example.com', pki.ca.certificatePem);
  assert.equal(stillServed.echo, 'ping');

  const exit = await cli.stop();
  assert.equal(exit.code, 0, cli.output());
});
}

test('a listener on the admin port is PortUnavailable up front, the admin server keeps its port, the rest serves', async (t) => {
  const { dir, pki, foo, bar } = await setUpExample(t);
  const adminPort = await freePort();
  const terminatePort = await freePort();
  const manifest = writeFile(
    dir,
    'admin-clash.yaml',
    [
      gatewayYaml({ name: 'example-gateway', passthroughPort: adminPort, terminatePort }),
      routeYaml('bar-route', 'example-gateway', 'tls-terminate', ['bar.example.com'], 'bar-svc', 8080),
      environmentYaml(pki, foo, bar),
    ].join('---\n'),
  );
  const cli = startCli(t, ['standalone', '-f', manifest, '--workers', '1', '--admin-address', `${HOST}:${adminPort}`, '--port-retry', '1']);
  await cli.waitForReadyCount(1);
  assert.match(cli.stdout, new RegExp(`^default\\s+example-gateway\\s+tls\\s+${adminPort}\\s+<not served>\\s+TLS/Passthrough\\s+\\*\\s+0\\s+False\\s+False\\s+PortUnavailable\\s*$`, 'm'));
  assert.match(cli.stdout, new RegExp(`Listener tls: port ${adminPort} is unavailable: 127\\.0\\.0\\.1:${adminPort} is the admin address \\(--admin-address\\)`));
  // Known up front: never tried, so the proxy never refused anything and there is nothing to retry.
  assert.doesNotMatch(cli.stderr, /EADDRINUSE|refused/);
  const ready = await fetch(`http://${HOST}:${adminPort}/readyz`);
  assert.equal(ready.status, 200);
  assert.equal(await ready.text(), 'ready\n');
  const terminated = await tlsExchange(terminatePort, 'bar.example.com', pki.ca.certificatePem);
  assert.equal(terminated.echo, 'ping');
  await new Promise((resolve) => setTimeout(resolve, 1500)); // past one retry interval: still one table
  assert.equal(cli.readyCount(), 1);
  const exit = await cli.stop();
  assert.equal(exit.code, 0, cli.output());
});

test('a Gateway whose only listener is on a port another program holds: not Accepted, PortUnavailable, tried again, and served once the port is free', async (t) => {
  const { dir, pki, foo, bar } = await setUpExample(t);
  const { port: takenPort, release: closeSquatter } = await holdPort(t);
  const lonelyGateway = stringify({
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'Gateway',
    metadata: { name: 'lonely-gateway', namespace: 'default' },
    spec: { gatewayClassName: 'example-gateway-class', listeners: [{ name: 'tls', protocol: 'TLS', port: takenPort, tls: { mode: 'Passthrough' } }] },
  });
  const manifest = writeFile(
    dir,
    'lonely.yaml',
    [lonelyGateway, routeYaml('lonely-route', 'lonely-gateway', 'tls', ['foo.example.com'], 'foo-svc', 443), environmentYaml(pki, foo, bar)].join('---\n'),
  );
  const cli = startCli(t, ['standalone', '-f', manifest, '--workers', '1', '--port-retry', '1']);
  await cli.waitForReadyCount(1);

  const taken = `cannot listen on 127\\.0\\.0\\.1:${takenPort}: EADDRINUSE`;
  assert.match(cli.stderr, new RegExp(`Gateway default/lonely-gateway: listener\\(s\\) tls on port ${takenPort}: ${taken}; PortUnavailable, no other listener of the Gateway to serve; trying again every 1s`));
  assert.match(cli.stdout, /^default\s+lonely-gateway\s+example-gateway-class\s+127\.0\.0\.1\s+False\s+False\s+ListenersNotValid\s*$/m);
  assert.match(cli.stdout, new RegExp(`^default\\s+lonely-gateway\\s+tls\\s+${takenPort}\\s+<not served>\\s+TLS/Passthrough\\s+\\*\\s+0\\s+False\\s+False\\s+PortUnavailable\\s*$`, 'm'));
  assert.match(cli.stdout, new RegExp(`Gateway default/lonely-gateway: Programmed=False Invalid: No listener is served: port ${takenPort} is unavailable: ${taken}`));
  assert.match(cli.stdout, /^TLSRoute\s+default\s+lonely-route\s+foo\.example\.com\s+lonely-gateway\/tls\s+False\s+True\s+NotAllowedByListeners\s*$/m);
  assert.match(cli.stdout, /^ready: serving 0 Gateway\(s\), 0 port\(s\) on 127\.0\.0\.1$/m);
  // Nothing is bound and there is no --watch: the pending retry alone keeps the process up.
  await new Promise((resolve) => setTimeout(resolve, 2500));
  assert.equal(cli.readyCount(), 1, 'a retry that finds the port still taken prints nothing');

  await closeSquatter();
  await cli.waitForReadyCount(2);
  assert.match(cli.stderr, new RegExp(`Gateway default/lonely-gateway: port ${takenPort} is available now; listener\\(s\\) tls served`));
  assert.match(cli.stdout, /^default\s+lonely-gateway\s+example-gateway-class\s+127\.0\.0\.1\s+True\s+True\s*$/m);
  assert.match(cli.stdout, new RegExp(`^default\\s+lonely-gateway\\s+tls\\s+${takenPort}\\s+127\\.0\\.0\\.1:${takenPort}\\s+TLS/Passthrough\\s+\\*\\s+1\\s+True\\s+True\\s*$`, 'm'));
  const served = await tlsExchange(takenPort, 'foo.example.com', pki.ca.certificatePem);
  assert.match(served.greeting, /your SNI was foo\.example\.com/);
  const exit = await cli.stop();
  assert.equal(exit.code, 0, cli.output());
});

test('nothing to serve and no --watch: a clear error and exit 1, with one worker and with two', async (t) => {
  const { dir, pki, foo, bar } = await setUpExample(t);
  // A Gateway whose only listener is invalid for good (no tls.mode): the API server would refuse
  // it (a CEL rule), so standalone refuses it too and nothing can ever be bound.
  const invalidOnly = stringify({
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'Gateway',
    metadata: { name: 'empty-gateway', namespace: 'default' },
    spec: { gatewayClassName: 'example-gateway-class', listeners: [{ name: 'tls', protocol: 'TLS', port: await freePort() }] },
  });
  const manifest = writeFile(dir, 'nothing.yaml', [invalidOnly, environmentYaml(pki, foo, bar)].join('---\n'));
  for (const workers of ['1', '2']) {
    const cli = startCli(t, ['standalone', '-f', manifest, '--workers', workers]);
    const exit = await cli.exited;
    assert.equal(exit.code, 1, cli.output());
    assert.match(cli.stderr, /^tlsgate: nothing to serve: no Gateway of our class has a listener that can be served \(see the status above\); with --watch, tlsgate would wait for changes$/m);
    assert.match(cli.stderr, /nothing\.yaml, document 0: Gateway default\/empty-gateway is refused .*: spec\.listeners\[0\]\.tls\.mode: tls mode must be set for protocol TLS/, 'the refusal says why');
  }
  // With --watch it waits for changes instead.
  const watching = startCli(t, ['standalone', '-f', manifest, '--workers', '1', '--watch']);
  await watching.waitFor(/^ready: serving 0 Gateway\(s\)/m);
  await new Promise((resolve) => setTimeout(resolve, 500));
  assert.ok(watching.running, watching.output());
});
