// A listener whose port the proxy cannot bind, on the cluster in a box, with an operator in this
// process (on the pod bridge) and real proxy pods:
//   - known up front: a listener on 9901, the port the proxy pod's own admin server holds, is
//     Accepted=False/PortUnavailable and never sent to the proxy; the Gateway stays Accepted and
//     Programmed, a Warning Event names the listener, the pod serves TLS on the other listener and
//     its admin server keeps 9901;
//   - found by the proxy: another process in the proxy pod's network namespace holds 8443 when a
//     listener on 8443 is added; the proxy NACKs naming the port, the operator publishes the
//     Gateway without that listener (PortUnavailable, EADDRINUSE), the Gateway stays Programmed
//     and the first listener serves; once the other process exits, the retry serves 8443;
//   - a Gateway whose only listener is on 9901: not Accepted, Programmed=False naming the port,
//     and no proxy Deployment (no port a proxy could ever serve);
//   - a Gateway whose only listener's port another process in its pod holds: not Accepted and
//     Programmed=False naming the port, but its Deployment, Service and pod stay (the proxy
//     serves a config with no ports and is ready); the retries reach that same pod, which serves
//     the listener once the port is free.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import * as k8s from '@kubernetes/client-node';
import { loadTestKubeConfig, freshNamespace, deleteNamespace } from '../cluster/client.js';
import type { Operator } from '../../operator/operator.js';
import { PROXY_ADMIN_PORT } from '../../operator/infra/render.js';
import { proxyNames } from '../../operator/infra/names.js';
import { netnsName } from '../cluster/agent/network.js';
import { tlsProbe } from '../helpers/traffic.js';
import { condition, createCertificateSecret, createEchoBackend, createGatewayClass, createObject, deleteGatewayClass, eventsAbout, eventually, getCustom, testOperator, uniqueSuffix, GATEWAY_GROUP } from './operator-support.js';

const HOST = 'ports.example.com';
const GATEWAY = 'ports';
const DYNAMIC = 'dynamic';
const ADMIN_ONLY = 'admin-only';
const ALONE = 'alone';
const HELD_PORT = 8443;
const MERGE = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);
const TLS_TERMINATE = { mode: 'Terminate', certificateRefs: [{ name: 'gateway-cert' }] };

/** The first bytes the echo backend sends through the proxy's Terminate listener. */
async function greeting(host: string, port: number): Promise<string> {
  const result = await tlsProbe({ host, port, servername: HOST, until: (received) => received.length > 0, timeoutMs: 5000 });
  if (result.ended === 'matched') return result.received.toString('utf8');
  throw new Error(result.ended === 'timeout' ? `${host}:${port}: no greeting within 5 s` : `${host}:${port}: no greeting (${result.ended}${result.error ? `: ${result.error}` : ''})`);
}

describe('operator: a listener on a port the proxy cannot bind', () => {
  let kc: k8s.KubeConfig;
  let ns: string;
  let operator: Operator;
  const suffix = uniqueSuffix();
  const className = `it-ports-${suffix}`;
  const controllerName = `tlsgate.dev/it-ports-${suffix}`;
  const logs: string[] = [];

  /** A Gateway of the suite's class, its Service a ClusterIP (GatewayParameters cluster-ip). */
  const createGateway = (name: string, listeners: unknown[]): Promise<unknown> =>
    createObject(kc, {
      apiVersion: `${GATEWAY_GROUP}/v1`, kind: 'Gateway', metadata: { name, namespace: ns },
      spec: { gatewayClassName: className, infrastructure: { parametersRef: { group: 'tlsgate.dev', kind: 'GatewayParameters', name: 'cluster-ip' } }, listeners },
    });
  /** A TLSRoute for HOST on `gateway`, to the echo backend. */
  const createEchoRoute = (name: string, gateway: string): Promise<unknown> =>
    createObject(kc, {
      apiVersion: `${GATEWAY_GROUP}/v1`, kind: 'TLSRoute', metadata: { name, namespace: ns },
      spec: { parentRefs: [{ name: gateway }], hostnames: [HOST], rules: [{ backendRefs: [{ name: 'echo', port: 3000 }] }] },
    });

  before(async () => {
    kc = loadTestKubeConfig();
    ns = await freshNamespace(kc, 'op-ports');
    const custom = kc.makeApiClient(k8s.CustomObjectsApi);
    await custom.createNamespacedCustomObject({
      group: 'tlsgate.dev', version: 'v1alpha1', plural: 'gatewayparameters', namespace: ns,
      body: { apiVersion: 'tlsgate.dev/v1alpha1', kind: 'GatewayParameters', metadata: { name: 'cluster-ip' }, spec: { service: { type: 'ClusterIP' } } },
    });
    await createGatewayClass(kc, className, controllerName);
    await createCertificateSecret(kc, ns, 'gateway-cert', HOST);
    await createEchoBackend(kc, ns);
    await createGateway(GATEWAY, [
      { name: 'served', protocol: 'TLS', port: 443, hostname: HOST, tls: TLS_TERMINATE },
      { name: 'on-admin-port', protocol: 'TLS', port: PROXY_ADMIN_PORT, hostname: HOST, tls: TLS_TERMINATE },
    ]);
    await createEchoRoute('echo', GATEWAY);
    // The second Gateway starts with a UDP listener on 8443: not served (so the proxy does not bind
    // it) but already in the pod's ports, so turning it into TLS later does not roll the pod.
    await createGateway(DYNAMIC, [
      { name: 'first', protocol: 'TLS', port: 443, hostname: HOST, tls: TLS_TERMINATE },
      { name: 'second', protocol: 'UDP', port: HELD_PORT },
    ]);
    await createEchoRoute('echo-dynamic', DYNAMIC);
    await createGateway(ADMIN_ONLY, [{ name: 'on-admin-port', protocol: 'TLS', port: PROXY_ADMIN_PORT, hostname: HOST, tls: TLS_TERMINATE }]);
    operator = testOperator(kc, { namespace: ns, controllerName, logs, portRetry: { initialRetryMs: 3000 } });
    await operator.start();
  });

  after(async () => {
    if (squatter && squatter.exitCode === null) squatter.kill();
    await operator?.stop();
    await deleteGatewayClass(kc, className);
    if (ns) await deleteNamespace(kc, ns);
  });

  let squatter: ChildProcess | undefined;
  const why = () => `\noperator log (last 15):\n${logs.slice(-15).join('\n')}`;

  /** The ready proxy pod of a Gateway: its IP and its network namespace. */
  async function proxyPod(gateway: string): Promise<{ ip: string; netns: string }> {
    const core = kc.makeApiClient(k8s.CoreV1Api);
    return eventually(`a ready proxy pod of ${gateway}`, async () => {
      const pods = (await core.listNamespacedPod({ namespace: ns, labelSelector: `gateway.networking.k8s.io/gateway-name=${gateway}` })).items
        .filter((p) => !p.metadata?.deletionTimestamp && p.status?.podIP && (p.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'));
      return pods.length === 1 && { ip: pods[0]!.status!.podIP!, netns: netnsName(pods[0]!.metadata!.uid!) };
    }, 90_000).catch((err: Error) => assert.fail(`${err.message}${why()}`));
  }

  async function listenerCondition(gateway: string, listener: string, type: string): Promise<{ status: string; reason: string; message: string; observedGeneration: number } | undefined> {
    const gw = await getCustom(kc, 'gateways', ns, gateway);
    return condition((gw.status?.listeners ?? []).find((l: { name: string }) => l.name === listener)?.conditions, type);
  }

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

    const event = (await eventsAbout(kc, ns, GATEWAY, (list) => list.some((e) => e.reason === 'PortUnavailable'))
      .catch((err: Error) => assert.fail(`a PortUnavailable Event on the Gateway: ${err.message}${why()}`)))
      .find((e) => e.reason === 'PortUnavailable')!;
    assert.equal(event.type, 'Warning');
    assert.match(event.note ?? '', /^Listener on-admin-port: port 9901 is unavailable/);
  });

  it('a Gateway whose only listener is on 9901 is not Accepted, Programmed=False naming the port, and gets no proxy Deployment', async () => {
    const programmed = await eventually('Gateway admin-only Programmed=False naming the port', async () => {
      const c = condition((await getCustom(kc, 'gateways', ns, ADMIN_ONLY)).status?.conditions, 'Programmed');
      return c?.message?.startsWith('No listener is served') && c;
    }, 60_000).catch((err: Error) => assert.fail(`${err.message}${why()}`));
    assert.deepEqual([programmed.status, programmed.reason], ['False', 'Invalid']);
    assert.equal(programmed.message, `No listener is served: port ${PROXY_ADMIN_PORT} is unavailable: port ${PROXY_ADMIN_PORT} is the proxy's own admin port (health, metrics) in its pod`);
    const accepted = condition((await getCustom(kc, 'gateways', ns, ADMIN_ONLY)).status.conditions, 'Accepted');
    assert.deepEqual([accepted?.status, accepted?.reason], ['False', 'ListenersNotValid']);
    // Infrastructure is applied before the status is written in the same reconcile: a Deployment
    // that was going to be made for this Gateway exists by now.
    const apps = kc.makeApiClient(k8s.AppsV1Api);
    const deployments = (await apps.listNamespacedDeployment({ namespace: ns })).items.map((d) => d.metadata?.name);
    assert.ok(!deployments.includes(proxyNames(ADMIN_ONLY).workload), `no Deployment for ${ADMIN_ONLY}: ${JSON.stringify(deployments)}`);
    // Left out on purpose, not by a failed rendering (a Service without ports cannot be made).
    assert.deepEqual(logs.filter((line) => line.includes(`Gateway ${ns}/${ADMIN_ONLY}`) && /render|infrastructure/.test(line)), []);
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

  it('a port another process in the pod holds: the proxy NACKs it, the listener is PortUnavailable, the rest serves; freed, the retry serves it', async () => {
    await eventually('Gateway dynamic Programmed', async () => condition((await getCustom(kc, 'gateways', ns, DYNAMIC)).status?.conditions, 'Programmed')?.status === 'True', 120_000)
      .catch((err: Error) => assert.fail(`${err.message}${why()}`));
    const pod = await proxyPod(DYNAMIC);
    // Another program in the proxy pod's network namespace takes 8443.
    squatter = spawn('ip', ['netns', 'exec', pod.netns, process.execPath, '-e', `require('net').createServer((s) => s.destroy()).listen(${HELD_PORT}, '0.0.0.0', () => console.log('listening'))`], { stdio: ['ignore', 'pipe', 'inherit'] });
    await once(squatter.stdout!, 'data');

    const custom = kc.makeApiClient(k8s.CustomObjectsApi);
    await custom.patchNamespacedCustomObject({
      group: GATEWAY_GROUP, version: 'v1', plural: 'gateways', namespace: ns, name: DYNAMIC,
      body: { spec: { listeners: [
        { name: 'first', protocol: 'TLS', port: 443, hostname: HOST, tls: TLS_TERMINATE },
        { name: 'second', protocol: 'TLS', port: HELD_PORT, hostname: HOST, tls: TLS_TERMINATE },
      ] } },
    }, MERGE);
    const unavailable = await eventually('listener second PortUnavailable at generation 2', async () => {
      const c = await listenerCondition(DYNAMIC, 'second', 'Accepted');
      return c?.reason === 'PortUnavailable' && c.observedGeneration === 2 && c;
    }, 60_000).catch((err: Error) => assert.fail(`${err.message}${why()}`));
    assert.equal(unavailable.status, 'False');
    assert.match(unavailable.message, new RegExp(`^Listener second: port ${HELD_PORT} is unavailable: cannot listen on 0\\.0\\.0\\.0:${HELD_PORT}: EADDRINUSE$`));
    const gw = await getCustom(kc, 'gateways', ns, DYNAMIC);
    assert.deepEqual([condition(gw.status.conditions, 'Accepted')?.reason, condition(gw.status.conditions, 'Programmed')?.status], ['ListenersNotValid', 'True']);
    assert.equal(condition(gw.status.conditions, 'Programmed')?.observedGeneration, 2);
    assert.ok(logs.some((line) => line.includes(`cannot bind port(s) ${HELD_PORT}`)), `the operator says why${why()}`);
    // The same pod still serves the first listener; its /readyz is ready (the reduced config is applied).
    assert.deepEqual(await proxyPod(DYNAMIC), pod, 'no new pod');
    assert.match(await greeting(pod.ip, 443), /Gateway API Test TCP Server/);
    const ready = await fetch(`http://${pod.ip}:${PROXY_ADMIN_PORT}/readyz`, { signal: AbortSignal.timeout(3000) });
    assert.equal(ready.status, 200);

    // The other program exits; within the retry (3 s here, 1 min by default) the full config is served.
    squatter.kill();
    await once(squatter, 'exit');
    await eventually('listener second Accepted', async () => (await listenerCondition(DYNAMIC, 'second', 'Accepted'))?.status === 'True', 60_000)
      .catch((err: Error) => assert.fail(`${err.message}${why()}`));
    assert.equal((await listenerCondition(DYNAMIC, 'second', 'Programmed'))?.status, 'True');
    assert.match(await greeting(pod.ip, HELD_PORT), /Gateway API Test TCP Server/);
    const events = await eventsAbout(kc, ns, DYNAMIC, (list) => list.some((e) => e.reason === 'PortAvailable')).catch((err: Error) => assert.fail(`a PortAvailable Event: ${err.message}`));
    assert.ok(events.some((e) => e.reason === 'PortUnavailable' && e.type === 'Warning' && /^Listener second: /.test(e.note ?? '')), `a PortUnavailable Event: ${JSON.stringify(events.map((e) => e.reason))}`);
    assert.equal(events.find((e) => e.reason === 'PortAvailable')?.type, 'Normal');
    // The refusal never reached the status: a Programmed=False with the proxy's NACK would have left a Warning.
    assert.deepEqual(events.filter((e) => e.action === 'Program' && /rejected|cannot listen/.test(e.note ?? '')).map((e) => e.note), []);
  });

  it('a Gateway whose only listener is on a port held in its pod keeps its Deployment and pod: PortUnavailable, retried on that pod, served there once free', async () => {
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const apps = kc.makeApiClient(k8s.AppsV1Api);
    const workload = proxyNames(ALONE).workload;
    await createGateway(ALONE, [{ name: 'only', protocol: 'TLS', port: HELD_PORT, hostname: HOST, tls: TLS_TERMINATE }]);
    await createEchoRoute('echo-alone', ALONE);
    await eventually('Gateway alone Programmed', async () => condition((await getCustom(kc, 'gateways', ns, ALONE)).status?.conditions, 'Programmed')?.status === 'True', 120_000)
      .catch((err: Error) => assert.fail(`${err.message}${why()}`));
    const deploymentUid = (await apps.readNamespacedDeployment({ namespace: ns, name: workload })).metadata!.uid!;

    // A pod that holds the port before its proxy gets a config: with the operator stopped, the
    // Deployment's next pod cannot reach the config server, so it binds nothing until the
    // operator is back (on the same config-server port, so the Deployment renders unchanged).
    const configServerPort = operator.configServerPort!;
    await operator.stop();
    const served = (await core.listNamespacedPod({ namespace: ns, labelSelector: `gateway.networking.k8s.io/gateway-name=${ALONE}` })).items;
    for (const p of served) await core.deleteNamespacedPod({ namespace: ns, name: p.metadata!.name!, gracePeriodSeconds: 0 });
    const oldUids = new Set(served.map((p) => p.metadata!.uid));
    const pod = await eventually('a new running proxy pod of alone, without a config', async () => {
      const pods = (await core.listNamespacedPod({ namespace: ns, labelSelector: `gateway.networking.k8s.io/gateway-name=${ALONE}` })).items
        .filter((p) => !p.metadata?.deletionTimestamp && !oldUids.has(p.metadata?.uid) && p.status?.phase === 'Running' && p.status.podIP);
      return pods.length === 1 && { name: pods[0]!.metadata!.name!, uid: pods[0]!.metadata!.uid!, ip: pods[0]!.status!.podIP! };
    }, 90_000).catch((err: Error) => assert.fail(`${err.message}${why()}`));
    const notReady = await eventually('the new pod answers /readyz', () => fetch(`http://${pod.ip}:${PROXY_ADMIN_PORT}/readyz`, { signal: AbortSignal.timeout(2000) }).then((r) => r.text()), 30_000)
      .catch((err: Error) => assert.fail(`${err.message}${why()}`));
    assert.match(notReady, /^not ready: no config applied yet/);
    squatter = spawn('ip', ['netns', 'exec', netnsName(pod.uid), process.execPath, '-e', `require('net').createServer((s) => s.destroy()).listen(${HELD_PORT}, '0.0.0.0', () => console.log('listening'))`], { stdio: ['ignore', 'pipe', 'inherit'] });
    await once(squatter.stdout!, 'data');
    operator = testOperator(kc, { namespace: ns, controllerName, logs, portRetry: { initialRetryMs: 3000 }, configServerPort });
    await operator.start();

    /** The Deployment and the pod are the ones from before, the pod Ready (its /readyz is what the kubelet asks). */
    const assertSamePod = async (when: string): Promise<void> => {
      const deployment = await apps.readNamespacedDeployment({ namespace: ns, name: workload }).catch((err: Error) => assert.fail(`${when}: Deployment ${workload}: ${err.message}${why()}`));
      assert.equal(deployment.metadata?.uid, deploymentUid, `${when}: the same Deployment`);
      assert.equal(deployment.metadata?.deletionTimestamp, undefined, `${when}: the Deployment is not being deleted${why()}`);
      const current = await core.readNamespacedPod({ namespace: ns, name: pod.name }).catch((err: Error) => assert.fail(`${when}: pod ${pod.name}: ${err.message}${why()}`));
      assert.equal(current.metadata?.uid, pod.uid, `${when}: the same pod`);
      assert.equal(current.metadata?.deletionTimestamp, undefined, `${when}: the pod is not being deleted${why()}`);
    };

    const unavailable = await eventually('listener only PortUnavailable', async () => {
      const c = await listenerCondition(ALONE, 'only', 'Accepted');
      return c?.reason === 'PortUnavailable' && c;
    }, 60_000).catch((err: Error) => assert.fail(`${err.message}${why()}`));
    assert.equal(unavailable.status, 'False');
    assert.match(unavailable.message, new RegExp(`^Listener only: port ${HELD_PORT} is unavailable: cannot listen on 0\\.0\\.0\\.0:${HELD_PORT}: EADDRINUSE$`));
    await assertSamePod('when the listener is PortUnavailable');
    const gw = await getCustom(kc, 'gateways', ns, ALONE);
    const accepted = condition(gw.status.conditions, 'Accepted');
    assert.deepEqual([accepted?.status, accepted?.reason], ['False', 'ListenersNotValid']);
    const programmed = condition(gw.status.conditions, 'Programmed');
    assert.deepEqual([programmed?.status, programmed?.reason], ['False', 'Invalid']);
    assert.equal(programmed?.message, `No listener is served: port ${HELD_PORT} is unavailable: cannot listen on 0.0.0.0:${HELD_PORT}: EADDRINUSE`);
    // The Service keeps the port, so that its address and the port stay as the user asked.
    const service = await core.readNamespacedService({ namespace: ns, name: workload });
    assert.deepEqual(service.spec?.ports?.map((p) => p.port), [HELD_PORT]);

    // The proxy serves the config with no ports and is ready (so the pod is, and stays in the Service).
    const ready = await eventually('the pod ready with the config without ports', async () => {
      const r = await fetch(`http://${pod.ip}:${PROXY_ADMIN_PORT}/readyz`, { signal: AbortSignal.timeout(2000) });
      return r.status === 200 && (await r.text());
    }, 30_000).catch((err: Error) => assert.fail(`${err.message}${why()}`));
    assert.equal(ready, 'ready\n');
    const dump = (await (await fetch(`http://${pod.ip}:${PROXY_ADMIN_PORT}/config_dump`, { signal: AbortSignal.timeout(3000) })).json()) as { configs: { gateway: { name: string }; ports: unknown[] }[] };
    assert.deepEqual(dump.configs.map((c) => [c.gateway.name, c.ports.length]), [[ALONE, 0]]);

    // A retry (3 s here) publishes the full config to this same pod, which refuses it again.
    await eventually('a refused retry', async () => logs.some((line) => line.startsWith(`Gateway ${ns}/${ALONE}: the proxies cannot bind port(s) ${HELD_PORT} (still unavailable)`)), 30_000)
      .catch((err: Error) => assert.fail(`${err.message}${why()}`));
    await assertSamePod('after a refused retry');

    // The other program exits: the next retry is served, by the same pod.
    squatter.kill();
    await once(squatter, 'exit');
    await eventually('Gateway alone Accepted and Programmed', async () => {
      const conditions = (await getCustom(kc, 'gateways', ns, ALONE)).status?.conditions;
      return condition(conditions, 'Accepted')?.status === 'True' && condition(conditions, 'Programmed')?.status === 'True';
    }, 60_000).catch((err: Error) => assert.fail(`${err.message}${why()}`));
    assert.equal((await listenerCondition(ALONE, 'only', 'Accepted'))?.status, 'True');
    assert.match(await greeting(pod.ip, HELD_PORT), /Gateway API Test TCP Server/);
    await assertSamePod('once served');
    const events = await eventsAbout(kc, ns, ALONE, (list) => list.some((e) => e.reason === 'PortAvailable')).catch((err: Error) => assert.fail(`a PortAvailable Event: ${err.message}`));
    assert.ok(events.some((e) => e.reason === 'PortUnavailable' && e.type === 'Warning' && /^Listener only: /.test(e.note ?? '')), `a PortUnavailable Event: ${JSON.stringify(events.map((e) => e.reason))}`);
    assert.equal(events.find((e) => e.reason === 'PortAvailable')?.type, 'Normal');
  });
});
