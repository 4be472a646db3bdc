/**
 * `tlsgate standalone --watch`: edits to the manifests are applied without dropping
 * established connections, and a file that stops parsing keeps the last good config.
 */
import assert from 'node:assert/strict';
import { renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import {
  bytesBeforeClose,
  environmentYaml,
  freePort,
  gatewayYaml,
  HOST,
  openTlsSession,
  routeYaml,
  setUpExample,
  startCli,
  tlsExchange,
  writeFile,
} from './support.js';

for (const workers of [1, 2]) {
  test(`--watch applies a route change hitlessly and keeps the last good config on a parse error (--workers ${workers})`, async (t) => {
    const { dir, pki, foo, bar } = await setUpExample(t);
    const passthroughPort = await freePort();
    const terminatePort = await freePort();
    writeFile(dir, 'gateway.yaml', gatewayYaml({ name: 'example-gateway', passthroughPort, terminatePort }));
    writeFile(dir, 'environment.yaml', environmentYaml(pki, foo, bar));
    const routes = (fooHost: string, barHost: string): string =>
      [
        routeYaml('foo-route', 'example-gateway', 'tls', [fooHost], 'foo-svc', 443),
        routeYaml('bar-route', 'example-gateway', 'tls-terminate', [barHost], 'bar-svc', 8080),
      ].join('---\n');
    const routesFile = writeFile(dir, 'routes.yaml', routes('foo.example.com', 'bar.example.com'));

    // A directory argument: files inside it are watched, including ones replaced by rename.
    const cli = startCli(t, ['standalone', '-f', dir, '--watch', '--workers', String(workers)]);
    await cli.waitForReadyCount(1);
    assert.match(cli.stdout, /watching for changes/);

    // Established connections through both modes, before the change.
    const passthroughSession = await openTlsSession(passthroughPort, 'foo.example.com', pki.ca.certificatePem);
    const terminateSession = await openTlsSession(terminatePort, 'bar.example.com', pki.ca.certificatePem);
    t.after(() => {
      passthroughSession.socket.destroy();
      terminateSession.socket.destroy();
    });
    assert.equal(await passthroughSession.roundTrip('before'), 'before');
    assert.equal(await terminateSession.roundTrip('before'), 'before');

    // The change: both routes move to other hostnames.
    writeFileSync(routesFile, routes('foo2.example.com', 'baz.example.com'));
    await cli.waitForReadyCount(2);
    assert.match(cli.stdout, /^TLSRoute\s+default\s+bar-route\s+baz\.example\.com\s+example-gateway\/tls-terminate\s+True\s+True\s*$/m);

    const moved = await tlsExchange(terminatePort, 'baz.example.com', pki.ca.certificatePem);
    assert.match(moved.greeting, /^bar-svc: plain TCP echo/);
    const movedPassthrough = await tlsExchange(passthroughPort, 'foo2.example.com', pki.ca.certificatePem);
    assert.match(movedPassthrough.greeting, /your SNI was foo2\.example\.com/);
    assert.equal(await bytesBeforeClose(HOST, terminatePort, 'bar.example.com', 10_000), 0, 'the old hostname is no longer routed');
    assert.equal(await bytesBeforeClose(HOST, passthroughPort, 'foo.example.com', 10_000), 0, 'the old hostname is no longer routed');

    // The connections established before the change still carry traffic both ways.
    assert.equal(await passthroughSession.roundTrip('after'), 'after');
    assert.equal(await terminateSession.roundTrip('after'), 'after');

    // A broken file: reported with its name, and the last good config keeps serving.
    writeFileSync(routesFile, 'apiVersion: gateway.networking.k8s.io/v1\nkind: TLSRoute\nmetadata: {name: [unclosed\n');
    await cli.waitFor(/reload failed, still serving the last good config: [^\n]*routes\.yaml/);
    assert.equal(cli.readyCount(), 2, 'a broken file applies nothing');
    const stillServed = await tlsExchange(terminatePort, 'baz.example.com', pki.ca.certificatePem);
    assert.equal(stillServed.echo, 'ping');
    assert.equal(await terminateSession.roundTrip('during'), 'during');

    // Fixed the way editors save: write a temp file and rename it over the original.
    const temp = path.join(dir, '.routes.yaml.tmp');
    writeFileSync(temp, routes('foo.example.com', 'bar.example.com'));
    renameSync(temp, routesFile);
    await cli.waitForReadyCount(3);
    const back = await tlsExchange(terminatePort, 'bar.example.com', pki.ca.certificatePem);
    assert.match(back.greeting, /^bar-svc: plain TCP echo/);
    assert.equal(await terminateSession.roundTrip('end'), 'end');
    assert.equal(await passthroughSession.roundTrip('end'), 'end');

    passthroughSession.socket.end();
    terminateSession.socket.end();
    const exit = await cli.stop();
    assert.equal(exit.code, 0, cli.output());
  });
}
