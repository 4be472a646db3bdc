// A listener whose port the proxy cannot bind, on the cluster in a box: an operator (in this
// process, on the pod bridge) runs a Gateway whose second listener wants 9901, the port the proxy
// pod's own admin server holds. The listener is Accepted=False/PortUnavailable (known up front,
// never sent to the proxy), the Gateway stays Accepted and Programmed, a Warning Event names the
// listener, and the proxy pod serves real TLS on the other listener while its admin server keeps
// 9901 (/readyz answers "ready"). The NACK path (a port that fails only when the proxy tries) is
// covered with the real config server and proxy in test/e2e/delivery/port-unavailable.test.ts:
// inside a pod of this cluster nothing but the admin server holds a port.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import tls from 'node:tls';
import * as k8s from '@kubernetes/client-node';
import { loadTestKubeConfig, freshNamespace, deleteNamespace } from '../cluster/client.js';
import type { Operator } from '../../operator/operator.js';
import { PROXY_ADMIN_PORT } from '../../operator/infra/render.js';
import { condition, createGatewayClass, createObject, deleteGatewayClass, eventually, getCustom, selfSigned, testOperator, uniqueSuffix, GATEWAY_GROUP } from './operator-support.js';

const HOST = 'ports.example.com';
const GATEWAY = 'ports';

/** The first bytes the echo backend sends through the proxy's Terminate listener. */
function greeting(host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host, port, servername: HOST, rejectUnauthorized: false });
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`${host}:${port}: no greeting within 5 s`));
    }, 5000);
    s.setEncoding('utf8');
    s.once('data', (data: string) => {
      clearTimeout(timer);
      s.destroy();
      resolve(data);
    });
    s.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

describe('operator: a listener on a port the proxy cannot bind', () => {
  let kc: k8s.KubeConfig;
  let ns: string;
  let operator: Operator;
  const suffix = uniqueSuffix();
  const className = `it-ports-${suffix}`;
  const controllerName = `tlsgate.dev/it-ports-${suffix}`;
  const logs: string[] = [];

  before(async () => {
    kc = loadTestKubeConfig();
    ns = await freshNamespace(kc, 'op-ports');
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const custom = kc.makeApiClient(k8s.CustomObjectsApi);
    await custom.createNamespacedCustomObject({
      group: 'tlsgate.dev', version: 'v1alpha1', plural: 'gatewayparameters', namespace: ns,
      body: { apiVersion: 'tlsgate.dev/v1alpha1', kind: 'GatewayParameters', metadata: { name: 'cluster-ip' }, spec: { service: { type: 'ClusterIP' } } },
    });
    await createGatewayClass(kc, className, controllerName);
    const { cert, key } = selfSigned(HOST);
    await core.createNamespacedSecret({
      namespace: ns,
      body: { metadata: { name: 'gateway-cert' }, type: 'kubernetes.io/tls', data: { 'tls.crt': Buffer.from(cert).toString('base64'), 'tls.key': Buffer.from(key).toString('base64') } },
    });
    await core.createNamespacedPod({
      namespace: ns,
      body: {
        metadata: { name: 'echo', labels: { app: 'echo' } },
        spec: { containers: [{ name: 'echo', image: 'tlsgate.test/tcp-echo', env: [{ name: 'TCP_PORT', value: '3000' }], ports: [{ containerPort: 3000 }], readinessProbe: { tcpSocket: { port: 3000 }, periodSeconds: 1 } }] },
      },
    });
    await core.createNamespacedService({ namespace: ns, body: { metadata: { name: 'echo' }, spec: { selector: { app: 'echo' }, ports: [{ port: 3000, targetPort: 3000 }] } } });
    const tlsTerminate = { mode: 'Terminate', certificateRefs: [{ name: 'gateway-cert' }] };
    await createObject(kc, {
      apiVersion: `${GATEWAY_GROUP}/v1`, kind: 'Gateway', metadata: { name: GATEWAY, namespace: ns },
      spec: {
        gatewayClassName: className,
        infrastructure: { parametersRef: { group: 'tlsgate.dev', kind: 'GatewayParameters', name: 'cluster-ip' } },
        listeners: [
          { name: 'served', protocol: 'TLS', port: 443, hostname: HOST, tls: tlsTerminate },
          { name: 'on-admin-port', protocol: 'TLS', port: PROXY_ADMIN_PORT, hostname: HOST, tls: tlsTerminate },
        ],
      },
    });
    await createObject(kc, {
      apiVersion: `${GATEWAY_GROUP}/v1`, kind: 'TLSRoute', metadata: { name: 'echo', namespace: ns },
      spec: { parentRefs: [{ name: GATEWAY }], hostnames: [HOST], rules: [{ backendRefs: [{ name: 'echo', port: 3000 }] }] },
    });
    operator = testOperator(kc, { namespace: ns, controllerName, logs });
    await operator.start();
  });

  after(async () => {
    await operator?.stop();
    await deleteGatewayClass(kc, className);
    if (ns) await deleteNamespace(kc, ns);
  });

  const why = () => `\noperator log (last 15):\n${logs.slice(-15).join('\n')}`;

  it('the listener is PortUnavailable, the Gateway Accepted and Programmed, a Warning Event names it', async () => {
    const gateway = await eventually('Gateway Programmed', async () => {
      const gw = await getCustom(kc, 'gateways', ns, GATEWAY);
      return condition(gw.status?.conditions, 'Programmed')?.status === 'True' && gw;
    }, 120_000).catch((err: Error) => assert.fail(`${err.message}${why()}`));
    const accepted = condition(gateway.status.conditions, 'Accepted');
    assert.deepEqual([accepted?.status, accepted?.reason], ['True', 'ListenersNotValid']);
    const byName = new Map((gateway.status.listeners as { name: string; attachedRoutes: number; conditions: unknown[] }[]).map((l) => [l.name, l]));
    const blocked = byName.get('on-admin-port')!;
    const blockedAccepted = condition(blocked.conditions as never, 'Accepted');
    assert.deepEqual([blockedAccepted?.status, blockedAccepted?.reason], ['False', 'PortUnavailable']);
    assert.match(blockedAccepted.message, new RegExp(`^Listener on-admin-port: port ${PROXY_ADMIN_PORT} is unavailable: port ${PROXY_ADMIN_PORT} is the proxy's own admin port`));
    assert.equal(condition(blocked.conditions as never, 'Programmed')?.status, 'False');
    assert.equal(blocked.attachedRoutes, 0);
    const served = byName.get('served')!;
    assert.equal(condition(served.conditions as never, 'Accepted')?.status, 'True');
    assert.equal(condition(served.conditions as never, 'Programmed')?.status, 'True');
    assert.equal(served.attachedRoutes, 1);
    const route = await getCustom(kc, 'tlsroutes', ns, 'echo');
    const parent = (route.status?.parents ?? []).find((p: { controllerName: string }) => p.controllerName === controllerName);
    assert.equal(condition(parent?.conditions, 'Accepted')?.message, 'Attached to listener(s) served');

    const event = await eventually('a PortUnavailable Event on the Gateway', async () => {
      const events = await kc.makeApiClient(k8s.EventsV1Api).listNamespacedEvent({ namespace: ns });
      return events.items.find((e) => e.regarding?.name === GATEWAY && e.reason === 'PortUnavailable');
    }, 30_000).catch((err: Error) => assert.fail(`${err.message}${why()}`));
    assert.equal(event.type, 'Warning');
    assert.match(event.note ?? '', /^Listener on-admin-port: port 9901 is unavailable/);
  });

  it('the proxy pod serves TLS on the other listener, and its admin server keeps port 9901', async () => {
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const podIp = await eventually('a ready proxy pod', async () => {
      const pods = (await core.listNamespacedPod({ namespace: ns, labelSelector: `gateway.networking.k8s.io/gateway-name=${GATEWAY}` })).items
        .filter((p) => !p.metadata?.deletionTimestamp && p.status?.podIP && (p.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'));
      return pods[0]?.status?.podIP;
    }, 90_000).catch((err: Error) => assert.fail(`${err.message}${why()}`));
    assert.match(await greeting(podIp, 443), /Gateway API Test TCP Server/);
    const ready = await fetch(`http://${podIp}:${PROXY_ADMIN_PORT}/readyz`, { signal: AbortSignal.timeout(3000) });
    assert.equal(ready.status, 200);
    assert.equal(await ready.text(), 'ready\n');
    const dump = (await (await fetch(`http://${podIp}:${PROXY_ADMIN_PORT}/config_dump`, { signal: AbortSignal.timeout(3000) })).json()) as { configs: { ports: { port: number }[] }[] };
    assert.deepEqual(dump.configs[0]!.ports.map((p) => p.port), [443], 'the admin port is not in the config the proxy serves');
  });
});
