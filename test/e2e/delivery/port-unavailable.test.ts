// The operator's loop for a listener port the proxy cannot bind, with the real parts it is made
// of (no API server): translate, the real config server and a real config client feeding a real
// proxy runtime over mutual TLS, and the operator's port memory. The proxy NACKs the full config
// naming the port (held here by another socket); translate leaves that listener out
// (PortUnavailable); the proxy ACKs the reduced config, so the Gateway is Programmed and the other
// listener serves real TLS. Once the port is free, the retry publishes the full config, the proxy
// ACKs it, the memory forgets the port and the listener serves.
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { trustBundlePem } from '../../../operator/ca.js';
import type { ConfigServer } from '../../../operator/config-server.js';
import { absorbDeliveryReports, PortAvailability } from '../../../operator/port-availability.js';
import { buildRuntime } from '../../../operator/snapshot.js';
import { ConfigClient } from '../../../proxy/config-client.js';
import { startProxyRuntime, type ProxyRuntime } from '../../../proxy/runtime.js';
import { startFooBackend, type DemoBackend } from '../../../examples/demo/backends.js';
import { issueCertificate, type IssuedCertificate } from '../../../examples/demo/pki.js';
import { CONTROLLER_NAME, findCondition, translate, type Snapshot, type TranslateOutput } from '../../../src/gatewayapi/translate.js';
import { GATEWAY_A, makePki, startServer, statusWhere, tempDir, writeCredentials } from '../../unit/delivery/fixtures.js';
import { freePort } from '../standalone/support.js';

const GATEWAY = `${GATEWAY_A.namespace}/${GATEWAY_A.name}`;
const NOW = new Date();

function snapshotFor(blockedPort: number, openPort: number, backend: DemoBackend): Snapshot {
  const ns = GATEWAY_A.namespace;
  return {
    gatewayClasses: [{ metadata: { name: 'tlsgate' }, spec: { controllerName: CONTROLLER_NAME } }],
    gateways: [
      {
        metadata: { namespace: ns, name: GATEWAY_A.name, generation: 1 },
        spec: {
          gatewayClassName: 'tlsgate',
          listeners: [
            { name: 'blocked', protocol: 'TLS', port: blockedPort, tls: { mode: 'Passthrough' } },
            { name: 'open', protocol: 'TLS', port: openPort, tls: { mode: 'Passthrough' } },
          ],
        },
      },
    ],
    tlsRoutes: [
      {
        metadata: { namespace: ns, name: 'app' },
        spec: { parentRefs: [{ name: GATEWAY_A.name }], hostnames: ['foo.example.com'], rules: [{ backendRefs: [{ name: 'foo-svc', port: 443 }] }] },
      },
    ],
    httpRoutes: [],
    referenceGrants: [],
    services: [
      { metadata: { namespace: ns, name: 'foo-svc' }, spec: { ports: [{ name: 'tls', port: 443, targetPort: backend.port }] } },
      // The proxy Service's cluster IP stands in for the Gateway's address.
      { metadata: { namespace: ns, name: `tlsgate-${GATEWAY_A.name}` }, spec: { type: 'ClusterIP', clusterIP: '10.0.0.10' } },
    ],
    endpointSlices: [
      {
        metadata: { namespace: ns, name: 'foo-svc-1', labels: { 'kubernetes.io/service-name': 'foo-svc' } },
        addressType: 'IPv4',
        endpoints: [{ addresses: ['127.0.0.1'], conditions: { ready: true } }],
        ports: [{ name: 'tls', port: backend.port, protocol: 'TCP' }],
      },
    ],
    secrets: [],
    namespaces: [{ metadata: { name: ns } }],
  };
}

function greeting(port: number, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, servername: 'foo.example.com', ca }, () => undefined);
    socket.setEncoding('utf8');
    socket.once('data', (line: string) => {
      socket.destroy();
      resolve(line);
    });
    socket.on('error', reject);
    socket.setTimeout(5000, () => socket.destroy(new Error('no greeting')));
  });
}

function listenerAccepted(output: TranslateOutput, name: string) {
  return findCondition(output.gateways[0]!.status.listeners!.find((l) => l.name === name)!.conditions, 'Accepted');
}

describe('a port the proxy cannot bind, through NACK, translate and a real proxy', { timeout: 60_000 }, () => {
  const tmp = tempDir();
  const pki = makePki(NOW);
  let server: ConfigServer;
  let runtime: ProxyRuntime;
  let client: ConfigClient;
  let backend: DemoBackend;
  let ca: IssuedCertificate;
  let squatter: net.Server;

  before(async () => {
    ca = issueCertificate({ commonName: 'test CA', organization: 'tlsgate tests', dnsNames: [], isCA: true, validDays: 2 });
    backend = await startFooBackend(issueCertificate({ commonName: 'foo.example.com', organization: 'foo-svc', dnsNames: ['foo.example.com'], isCA: false, validDays: 2, issuer: ca }));
    squatter = net.createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    ({ server } = await startServer(pki));
    runtime = await startProxyRuntime({ address: '127.0.0.1', adminAddress: '127.0.0.1:0', accessLog: null });
    const files = writeCredentials(tmp.dir, 'proxy', pki.clientA, trustBundlePem(pki.state));
    client = await ConfigClient.start({
      url: `wss://127.0.0.1:${server.port}`,
      gateway: GATEWAY_A,
      ...files,
      sink: { apply: (config) => runtime.apply([config]) },
      backoff: { initialMs: 20, maxMs: 200 },
      log: () => undefined,
    });
  });

  after(async () => {
    await client?.close();
    await runtime?.shutdown(0);
    await server?.close();
    await backend?.close();
    if (squatter?.listening) squatter.close();
    tmp.cleanup();
  });

  it('NACK names the port → listener PortUnavailable, Gateway Programmed, the other listener serves; freed → served after the retry', async () => {
    const blockedPort = (squatter.address() as net.AddressInfo).port;
    const openPort = await freePort();
    const snapshot = snapshotFor(blockedPort, openPort, backend);
    const generations = new Map([[GATEWAY, 1]]);
    const ports = new PortAvailability({ initialRetryMs: 50 });
    const delivery = (key: string) => server.status(key);
    // One reconcile of the operator: translate with what it knows, publish, read the answers.
    const reconcile = () => {
      const output = translate({ snapshot, now: NOW, runtime: buildRuntime(snapshot, delivery), unavailablePorts: ports.input(Date.now()) });
      server.publish(output.proxyConfigs[0]!);
      return output;
    };

    const full = reconcile();
    const fullVersion = full.proxyConfigs[0]!.version;
    assert.deepEqual(full.proxyConfigs[0]!.ports.map((p) => p.port).sort(), [blockedPort, openPort].sort());
    const nacked = await statusWhere(server, GATEWAY, (s) => s.nack?.version === fullVersion);
    assert.deepEqual(nacked.nack!.ports, [{ port: blockedPort, address: '127.0.0.1', code: 'EADDRINUSE' }]);
    assert.match(nacked.nack!.error, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${blockedPort}: EADDRINUSE`));

    const learned = absorbDeliveryReports(ports, generations, delivery, Date.now());
    assert.deepEqual(learned.map((c) => [c.kind, c.ports]), [['unavailable', [blockedPort]]]);
    const reduced = reconcile();
    const reducedVersion = reduced.proxyConfigs[0]!.version;
    assert.deepEqual(reduced.proxyConfigs[0]!.ports.map((p) => p.port), [openPort]);
    await statusWhere(server, GATEWAY, (s) => s.ackedVersion === reducedVersion && s.ackedProxies === 1);

    // The statuses the leader then writes: translate with the ACK in its runtime view.
    const written = translate({ snapshot, now: NOW, runtime: buildRuntime(snapshot, delivery), unavailablePorts: { [GATEWAY]: { [blockedPort]: learned[0]!.detail } } });
    assert.equal(written.proxyConfigs[0]!.version, reducedVersion);
    const gatewayConditions = written.gateways[0]!.status.conditions!;
    assert.deepEqual([findCondition(gatewayConditions, 'Accepted')?.status, findCondition(gatewayConditions, 'Accepted')?.reason], ['True', 'ListenersNotValid']);
    assert.deepEqual([findCondition(gatewayConditions, 'Programmed')?.status, findCondition(gatewayConditions, 'Programmed')?.reason], ['True', 'Programmed']);
    assert.equal(listenerAccepted(written, 'blocked')?.reason, 'PortUnavailable');
    assert.match(listenerAccepted(written, 'blocked')!.message, new RegExp(`port ${blockedPort} is unavailable: cannot listen on 127\\.0\\.0\\.1:${blockedPort}: EADDRINUSE$`));
    assert.equal(written.gateways[0]!.status.listeners!.find((l) => l.name === 'blocked')!.attachedRoutes, 0);
    assert.equal(listenerAccepted(written, 'open')?.status, 'True');
    assert.match(await greeting(openPort, ca.certificatePem), /your SNI was foo\.example\.com/);

    // The other program lets go; the retry (due after 50 ms here) publishes the full config.
    await new Promise<void>((resolve) => squatter.close(() => resolve()));
    await new Promise((resolve) => setTimeout(resolve, 60));
    const retried = reconcile();
    assert.equal(retried.proxyConfigs[0]!.version, fullVersion);
    await statusWhere(server, GATEWAY, (s) => s.ackedVersion === fullVersion && s.nack === undefined);
    assert.deepEqual(absorbDeliveryReports(ports, generations, delivery, Date.now()).map((c) => [c.kind, c.ports]), [['available', [blockedPort]]]);
    assert.deepEqual(ports.input(Date.now()), {});
    const served = translate({ snapshot, now: NOW, runtime: buildRuntime(snapshot, delivery) });
    assert.equal(listenerAccepted(served, 'blocked')?.status, 'True');
    assert.equal(findCondition(served.gateways[0]!.status.conditions, 'Programmed')?.status, 'True');
    assert.match(await greeting(blockedPort, ca.certificatePem), /your SNI was foo\.example\.com/);
    assert.match(await greeting(openPort, ca.certificatePem), /your SNI was foo\.example\.com/);
  });
});
