/**
 * ListenerSets end to end in standalone: a platform Gateway with its own HTTPS and TLS
 * Passthrough listeners on one port, and a team's ListenerSet adding Passthrough, Terminate and
 * HTTPS listeners on the same port with certificates from the team's namespace. Real clients on
 * loopback (Node's tls, curl over HTTP/2, openssl s_client) prove the merged listeners are served
 * side by side, each with its own certificate, and that a second team's listener that lost a
 * hostname conflict to the Gateway changes nothing on the wire.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { test } from 'node:test';
import { stringify } from 'yaml';
import { APP_GREETING, startAppBackend, type DemoBackend } from '../../../examples/demo/backends.js';
import { issueCertificate, type IssuedCertificate } from '../../../examples/demo/pki.js';
import { bytesBeforeClose, freePort, HOST, makePki, makeTempDir, opensslClient, startBackends, startCli, tlsExchange, writeFile } from './support.js';

const GATEWAY_API = 'gateway.networking.k8s.io/v1';

function tlsSecret(namespace: string, name: string, certificate: IssuedCertificate): object {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace },
    type: 'kubernetes.io/tls',
    stringData: { 'tls.crt': certificate.certificatePem, 'tls.key': certificate.privateKeyPem },
  };
}

function service(namespace: string, name: string, port: number, backend: DemoBackend): object[] {
  return [
    { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace }, spec: { ports: [{ name: 'main', protocol: 'TCP', port, targetPort: backend.port }] } },
    {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: `${name}-1`, namespace, labels: { 'kubernetes.io/service-name': name } },
      addressType: 'IPv4',
      endpoints: [{ addresses: [backend.host], conditions: { ready: true } }],
      ports: [{ name: 'main', protocol: 'TCP', port: backend.port }],
    },
  ];
}

function curl(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('curl', ['--noproxy', '*', '--max-time', '10', '--silent', '--show-error', ...args], (error, stdout, stderr) => {
      if (error) reject(new Error(`curl ${args.join(' ')}: ${error.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

test('a ListenerSet adds Passthrough, Terminate and HTTPS listeners beside the Gateway\'s own on one port', async (t) => {
  const dir = makeTempDir(t);
  const pki = makePki(dir);
  const { foo, bar } = await startBackends(t, pki);
  const app = await startAppBackend(HOST);
  t.after(() => app.close());
  const platformCert = issueCertificate({ commonName: 'www.example.com', organization: 'platform team', dnsNames: ['www.example.com'], isCA: false, validDays: 2, issuer: pki.ca });
  const teamCert = issueCertificate({ commonName: 'a.example.com', organization: 'team a', dnsNames: ['a.example.com', 'mq.a.example.com'], isCA: false, validDays: 2, issuer: pki.ca });
  const thiefCert = issueCertificate({ commonName: 'www.example.com', organization: 'team b (must never be shown)', dnsNames: ['www.example.com'], isCA: false, validDays: 2, issuer: pki.ca });
  const port = await freePort();

  const objects: object[] = [
    { apiVersion: GATEWAY_API, kind: 'GatewayClass', metadata: { name: 'shared-class' }, spec: { controllerName: 'tlsgate.dev/gateway-controller' } },
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'platform' } },
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a', labels: { 'tlsgate.dev/team': 'a' } } },
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-b', labels: { 'tlsgate.dev/team': 'b' } } },
    {
      apiVersion: GATEWAY_API,
      kind: 'Gateway',
      metadata: { name: 'shared', namespace: 'platform' },
      spec: {
        gatewayClassName: 'shared-class',
        allowedListeners: { namespaces: { from: 'Selector', selector: { matchExpressions: [{ key: 'tlsgate.dev/team', operator: 'Exists' }] } } },
        listeners: [
          { name: 'www', port, protocol: 'HTTPS', hostname: 'www.example.com', tls: { certificateRefs: [{ name: 'www' }] } },
          { name: 'db', port, protocol: 'TLS', hostname: 'foo.example.com', tls: { mode: 'Passthrough' } },
        ],
      },
    },
    tlsSecret('platform', 'www', platformCert),
    ...service('platform', 'site', 8080, app),
    ...service('platform', 'db', 443, foo),
    { apiVersion: GATEWAY_API, kind: 'HTTPRoute', metadata: { name: 'site', namespace: 'platform' }, spec: { parentRefs: [{ name: 'shared', sectionName: 'www' }], rules: [{ backendRefs: [{ name: 'site', port: 8080 }] }] } },
    { apiVersion: GATEWAY_API, kind: 'TLSRoute', metadata: { name: 'db', namespace: 'platform' }, spec: { parentRefs: [{ name: 'shared', sectionName: 'db' }], hostnames: ['foo.example.com'], rules: [{ backendRefs: [{ name: 'db', port: 443 }] }] } },
    {
      apiVersion: GATEWAY_API,
      kind: 'ListenerSet',
      metadata: { name: 'apps', namespace: 'team-a' },
      spec: {
        parentRef: { name: 'shared', namespace: 'platform' },
        listeners: [
          { name: 'pass', port, protocol: 'TLS', hostname: 'foo2.example.com', tls: { mode: 'Passthrough' } },
          { name: 'mq', port, protocol: 'TLS', hostname: 'mq.a.example.com', tls: { mode: 'Terminate', certificateRefs: [{ name: 'team-cert' }] } },
          { name: 'web', port, protocol: 'HTTPS', hostname: 'a.example.com', tls: { certificateRefs: [{ name: 'team-cert' }] } },
        ],
      },
    },
    tlsSecret('team-a', 'team-cert', teamCert),
    ...service('team-a', 'tls-app', 443, foo),
    ...service('team-a', 'queue', 8080, bar),
    ...service('team-a', 'web', 8080, app),
    { apiVersion: GATEWAY_API, kind: 'TLSRoute', metadata: { name: 'pass', namespace: 'team-a' }, spec: { parentRefs: [{ kind: 'ListenerSet', name: 'apps', sectionName: 'pass' }], hostnames: ['foo2.example.com'], rules: [{ backendRefs: [{ name: 'tls-app', port: 443 }] }] } },
    { apiVersion: GATEWAY_API, kind: 'TLSRoute', metadata: { name: 'mq', namespace: 'team-a' }, spec: { parentRefs: [{ kind: 'ListenerSet', name: 'apps', sectionName: 'mq' }], hostnames: ['mq.a.example.com'], rules: [{ backendRefs: [{ name: 'queue', port: 8080 }] }] } },
    { apiVersion: GATEWAY_API, kind: 'HTTPRoute', metadata: { name: 'web', namespace: 'team-a' }, spec: { parentRefs: [{ kind: 'ListenerSet', name: 'apps' }], rules: [{ backendRefs: [{ name: 'web', port: 8080 }] }] } },
    // Team b tries to take the platform's hostname: the Gateway's listener takes precedence.
    {
      apiVersion: GATEWAY_API,
      kind: 'ListenerSet',
      metadata: { name: 'thief', namespace: 'team-b' },
      spec: { parentRef: { name: 'shared', namespace: 'platform' }, listeners: [{ name: 'www', port, protocol: 'HTTPS', hostname: 'www.example.com', tls: { certificateRefs: [{ name: 'thief' }] } }] },
    },
    tlsSecret('team-b', 'thief', thiefCert),
  ];
  const manifest = writeFile(dir, 'shared.yaml', objects.map((o) => stringify(o)).join('---\n'));

  const cli = startCli(t, ['standalone', '-f', manifest, '--workers', '1', '--admin-address', '127.0.0.1:0']);
  await cli.waitFor(/^ready: /m);
  await cli.waitFor(/^admin: /m);
  assert.match(cli.stdout, /^platform\s+shared\s+shared-class\s+127\.0\.0\.1\s+True\s+True\s*$/m, cli.output());
  // The status table: the ListenerSets with their parent, their listeners served on the Gateway's
  // port, routes with the ListenerSet as parent, and the loser of the conflict among the problems.
  assert.match(cli.stdout, /^NAMESPACE\s+LISTENERSET\s+GATEWAY\s+ACCEPTED\s+PROGRAMMED\s+REASON$/m, cli.output());
  assert.match(cli.stdout, /^team-a\s+apps\s+platform\/shared\s+True\s+True$/m, cli.output());
  assert.match(cli.stdout, /^team-b\s+thief\s+platform\/shared\s+False\s+False\s+ListenersNotValid$/m, cli.output());
  for (const [listener, mode, hostname] of [['pass', 'TLS/Passthrough', 'foo2'], ['mq', 'TLS/Terminate', 'mq.a'], ['web', 'HTTPS/Terminate', 'a']]) {
    const row = new RegExp(`^team-a\\s+ListenerSet/apps\\s+${listener}\\s+${port}\\s+127\\.0\\.0\\.1:${port}\\s+${mode}\\s+${hostname.replace('.', '\\.')}\\.example\\.com\\s+1\\s+True\\s+True$`, 'm');
    assert.match(cli.stdout, row, cli.output());
  }
  assert.match(cli.stdout, new RegExp(`^team-b\\s+ListenerSet/thief\\s+www\\s+${port}\\s+127\\.0\\.0\\.1:${port}\\s+HTTPS/Terminate\\s+www\\.example\\.com\\s+0\\s+False\\s+False\\s+HostnameConflict$`, 'm'), cli.output());
  assert.match(cli.stdout, /^TLSRoute\s+team-a\s+mq\s+mq\.a\.example\.com\s+ListenerSet\/apps\/mq\s+True\s+True$/m, cli.output());
  assert.match(cli.stdout, /^HTTPRoute\s+team-a\s+web\s+<none>\s+ListenerSet\/apps\s+True\s+True$/m, cli.output());
  assert.match(cli.stdout, /^ {2}ListenerSet team-b\/thief listener www: Conflicted=True HostnameConflict: /m, cli.output());

  const fingerprint = (c: IssuedCertificate) => new X509Certificate(c.certificatePem).fingerprint256;

  // The Gateway's own Passthrough, and the ListenerSet's: both reach the backend, which shows its own certificate.
  const gatewayPassthrough = await tlsExchange(port, 'foo.example.com', pki.ca.certificatePem);
  assert.equal(gatewayPassthrough.peerFingerprint, fingerprint(pki.fooBackend));
  const setPassthrough = await tlsExchange(port, 'foo2.example.com', pki.ca.certificatePem);
  assert.equal(setPassthrough.peerFingerprint, fingerprint(pki.fooBackend), "the set's Passthrough shows the backend certificate");
  assert.match(setPassthrough.greeting, /your SNI was foo2\.example\.com/);
  assert.equal(setPassthrough.echo, 'ping');

  // The ListenerSet's Terminate: the team's certificate from its own namespace, then plain TCP to its backend.
  const setTerminate = await tlsExchange(port, 'mq.a.example.com', pki.ca.certificatePem);
  assert.equal(setTerminate.peerFingerprint, fingerprint(teamCert));
  assert.equal(setTerminate.peerOrganization, 'team a');
  assert.match(setTerminate.greeting, /^bar-svc: plain TCP echo/);
  assert.equal(setTerminate.echo, 'ping');

  // HTTPS on the same port, over HTTP/2: the team's listener with its certificate, and the Gateway's with the platform's.
  const resolve = (host: string) => ['--cacert', pki.caFile, '--resolve', `${host}:${port}:${HOST}`, '--write-out', '\n%{http_version}'];
  for (const [host, path] of [['a.example.com', '/team'], ['www.example.com', '/site']] as const) {
    const out = await curl([...resolve(host), `https://${host}:${port}${path}`]);
    const cut = out.lastIndexOf('\n');
    assert.equal(out.slice(cut + 1), '2', `${host}: HTTP/2`);
    const body = JSON.parse(out.slice(0, cut)) as { backend: string; host: string; path: string; forwardedProto: string };
    assert.equal(body.backend, APP_GREETING);
    assert.equal(body.path, path);
    assert.equal(body.forwardedProto, 'https');
  }
  const teamHandshake = await opensslClient(port, 'a.example.com', pki.caFile);
  assert.match(teamHandshake.output, /subject=CN ?= ?a\.example\.com, O ?= ?team a/);
  assert.match(teamHandshake.output, /Verify return code: 0 \(ok\)/);
  // The loser of the hostname conflict is not served: www.example.com shows the platform's certificate only.
  const platformHandshake = await opensslClient(port, 'www.example.com', pki.caFile);
  assert.match(platformHandshake.output, /subject=CN ?= ?www\.example\.com, O ?= ?platform team/);
  assert.doesNotMatch(platformHandshake.output, /team b/);

  // Listener isolation: the team's HTTP route is not reachable under the platform's hostname, and unknown names are closed.
  assert.equal(await bytesBeforeClose(HOST, port, 'nobody.example.com', 10_000), 0);
  const admin = /^admin: (http:\/\/127\.0\.0\.1:\d+)\//m.exec(cli.stdout)![1]!;
  const dump = await (await fetch(`${admin}/config_dump`)).text();
  for (const name of ['team-a/apps/pass', 'team-a/apps/mq', 'team-a/apps/web']) assert.match(dump, new RegExp(name));
  assert.doesNotMatch(dump, /team-b\/thief/);
  assert.doesNotMatch(dump, /PRIVATE KEY/);

  const exit = await cli.stop();
  assert.equal(exit.code, 0, cli.output());
});
