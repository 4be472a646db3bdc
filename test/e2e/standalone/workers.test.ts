/**
 * `tlsgate standalone --workers 2`: a Gateway whose port another program holds is reported
 * (log line with the port and errno, Programmed False in the status table) while the others
 * serve through both workers; SIGTERM still drains and exits 0.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { environmentYaml, freePort, gatewayYaml, HOST, routeYaml, setUpExample, startCli, tlsExchange, writeFile } from './support.js';

test('with --workers 2, a Gateway whose port is taken is reported and the others serve', async (t) => {
  const { dir, pki, foo, bar } = await setUpExample(t);
  const squatter = net.createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => squatter.listen(0, HOST, resolve));
  t.after(() => new Promise<void>((resolve) => squatter.close(() => resolve())));
  const takenPort = (squatter.address() as net.AddressInfo).port;
  const passthroughPort = await freePort();
  const terminatePort = await freePort();
  const manifest = writeFile(
    dir,
    'blocked.yaml',
    [
      gatewayYaml({ name: 'blocked-gateway', passthroughPort: takenPort, terminatePort: await freePort() }),
      gatewayYaml({ name: 'example-gateway', passthroughPort, terminatePort }),
      routeYaml('foo-route', 'example-gateway', 'tls', ['foo.example.com'], 'foo-svc', 443),
      routeYaml('bar-route', 'example-gateway', 'tls-terminate', ['bar.example.com'], 'bar-svc', 8080),
      routeYaml('blocked-route', 'blocked-gateway', 'tls', ['foo.example.com'], 'foo-svc', 443),
      environmentYaml(pki, foo, bar),
    ].join('---\n'),
  );
  const cli = startCli(t, ['standalone', '-f', manifest, '--workers', '2']);
  await cli.waitForReadyCount(1);

  assert.match(cli.stderr, new RegExp(`Gateway default/blocked-gateway: the proxy refused its config, not served: .*ports\\[\\d\\]\\.port: cannot listen on 127\\.0\\.0\\.1:${takenPort}: EADDRINUSE`));
  assert.match(cli.stdout, /^default\s+blocked-gateway\s+example-gateway-class\s+127\.0\.0\.1\s+True\s+False\s+\S+/m);
  assert.match(cli.stdout, /^default\s+example-gateway\s+example-gateway-class\s+127\.0\.0\.1\s+True\s+True\s*$/m);
  // Several connections each way, so that both workers serve some.
  for (let i = 0; i < 4; i++) {
    const served = await tlsExchange(passthroughPort, 'foo.example.com', pki.ca.certificatePem);
    assert.match(served.greeting, /your SNI was foo\.example\.com/);
    const terminated = await tlsExchange(terminatePort, 'bar.example.com', pki.ca.certificatePem);
    assert.equal(terminated.echo, 'ping');
  }
  const exit = await cli.stop();
  assert.equal(exit.code, 0, cli.output());
});
