// The operator against the real kube-apiserver: informers and reconcile write the statuses
// of the upstream example as it is, infrastructure is server-side applied and owned by the
// Gateway, other controllers' route entries survive, conflicts are retried, events recorded.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { loadTestKubeConfig, freshNamespace, deleteNamespace } from '../cluster/client.js';
import type { Operator } from '../../operator/operator.js';
import { StatusWriter, type RouteWithStatus } from '../../operator/status/writer.js';
import { proxyNames } from '../../operator/infra/names.js';
import {
  applyUpstreamExample, condition, createGatewayClass, createObject, deleteGatewayClass, eventsAbout, eventually, getCustom, testOperator, uniqueSuffix, GATEWAY_GROUP,
} from './operator-support.js';

describe('operator: reconcile on the cluster in a box', () => {
  let kc: k8s.KubeConfig;
  let ns: string;
  let operator: Operator;
  const controllerName = `tlsgate.dev/it-reconcile-${uniqueSuffix()}`;
  const logs: string[] = [];
  let custom: k8s.CustomObjectsApi;
  let apps: k8s.AppsV1Api;
  let core: k8s.CoreV1Api;

  before(async () => {
    kc = loadTestKubeConfig();
    custom = kc.makeApiClient(k8s.CustomObjectsApi);
    apps = kc.makeApiClient(k8s.AppsV1Api);
    core = kc.makeApiClient(k8s.CoreV1Api);
    ns = await freshNamespace(kc, 'op-reconcile');
    // The example names its class; the class is ours (this test's controller name).
    await createGatewayClass(kc, 'example-gateway-class', controllerName);
    await applyUpstreamExample(kc, ns);
    operator = testOperator(kc, { namespace: ns, controllerName, logs });
    await operator.start();
  });

  after(async () => {
    await operator?.stop();
    await deleteGatewayClass(kc, 'example-gateway-class');
    await deleteNamespace(kc, ns);
  });

  it('accepts the GatewayClass with its supported features', async () => {
    const gc = await eventually('GatewayClass Accepted=True', async () => {
      const obj = await getCustom(kc, 'gatewayclasses', undefined, 'example-gateway-class');
      return condition(obj.status?.conditions, 'Accepted')?.status === 'True' && obj;
    });
    assert.ok(gc.status.supportedFeatures.some((f: { name: string }) => f.name === 'TLSRoute'));
    assert.equal(condition(gc.status.conditions, 'Accepted').observedGeneration, gc.metadata.generation);
  });

  it('writes the Gateway status: Accepted, both listeners with one attached route each', async () => {
    const gw = await eventually('Gateway Accepted=True with listener statuses', async () => {
      const obj = await getCustom(kc, 'gateways', ns, 'example-gateway');
      return condition(obj.status?.conditions, 'Accepted')?.status === 'True' && obj.status?.listeners?.length === 2 && obj;
    });
    const listeners = Object.fromEntries(gw.status.listeners.map((l: any) => [l.name, l]));
    assert.equal(listeners['tls'].attachedRoutes, 1);
    assert.equal(listeners['tls-terminate'].attachedRoutes, 1);
    assert.deepEqual(listeners['tls'].supportedKinds, [{ group: GATEWAY_GROUP, kind: 'TLSRoute' }]);
    assert.equal(condition(listeners['tls-terminate'].conditions, 'ResolvedRefs').status, 'True');
    for (const c of gw.status.conditions) assert.equal(c.observedGeneration, gw.metadata.generation, `${c.type} observedGeneration`);
  });

  it('writes each TLSRoute parent entry with our controller name and the echoed parentRef', async () => {
    for (const [route, section] of [['foo-route', 'tls'], ['bar-route', 'tls-terminate']]) {
      const obj = await eventually(`${route} Accepted`, async () => {
        const r = await getCustom(kc, 'tlsroutes', ns, route!);
        return condition(r.status?.parents?.[0]?.conditions, 'Accepted')?.status === 'True' && r;
      });
      assert.equal(obj.status.parents.length, 1);
      const entry = obj.status.parents[0];
      assert.equal(entry.controllerName, controllerName);
      assert.deepEqual(entry.parentRef, { group: GATEWAY_GROUP, kind: 'Gateway', name: 'example-gateway', sectionName: section });
      assert.equal(condition(entry.conditions, 'ResolvedRefs').status, 'True');
    }
  });

  it('server-side applies the proxy infrastructure, owned by the Gateway, with our field manager', async () => {
    const names = proxyNames('example-gateway');
    const gw = await getCustom(kc, 'gateways', ns, 'example-gateway');
    const deployment = await eventually('proxy Deployment', () => apps.readNamespacedDeployment({ name: names.workload, namespace: ns }));
    const service = await core.readNamespacedService({ name: names.workload, namespace: ns });
    const account = await core.readNamespacedServiceAccount({ name: names.workload, namespace: ns });
    const secret = await core.readNamespacedSecret({ name: names.clientCertSecret, namespace: ns });
    for (const object of [deployment, service, account, secret]) {
      assert.equal(object.metadata?.ownerReferences?.[0]?.uid, gw.metadata.uid, `${object.kind ?? 'object'} owned by the Gateway`);
      const managers = object.metadata?.managedFields?.filter((f) => f.manager === 'tlsgate') ?? [];
      assert.ok(managers.some((f) => f.operation === 'Apply'), 'applied by field manager tlsgate');
    }
    assert.equal(service.spec?.type, 'LoadBalancer');
    assert.deepEqual(service.spec?.ports?.map((p) => p.port), [443, 8443]);
    assert.equal(deployment.spec?.template.spec?.automountServiceAccountToken, false);
    assert.equal(secret.type, 'kubernetes.io/tls');
    assert.ok(secret.data?.['tls.crt'] && secret.data['tls.key'] && secret.data['ca.crt']);
  });

  it('Programmed=True once a real proxy pod has ACKed the config, with the load-balancer address', async () => {
    const gw = await eventually(
      'Gateway Programmed=True',
      async () => {
        const obj = await getCustom(kc, 'gateways', ns, 'example-gateway');
        return condition(obj.status?.conditions, 'Programmed')?.status === 'True' && obj;
      },
      120_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\noperator log:\n${logs.slice(-30).join('\n')}`);
    });
    const service = await core.readNamespacedService({ name: proxyNames('example-gateway').workload, namespace: ns });
    const ingress = service.status?.loadBalancer?.ingress?.[0]?.ip;
    assert.ok(ingress, 'the Service has a load-balancer address');
    assert.deepEqual(gw.status.addresses, [{ type: 'IPAddress', value: ingress }]);
    await eventsAbout(kc, ns, 'example-gateway', (list) => list.some((e) => e.reason === 'Programmed'));
  });

  it('restores fields it owns and keeps fields other managers own (server-side apply semantics)', async () => {
    const names = proxyNames('example-gateway');
    // Another manager takes spec.replicas and adds an annotation of its own.
    await apps.patchNamespacedDeployment(
      { name: names.workload, namespace: ns, body: { metadata: { annotations: { 'example.com/note': 'kept' } }, spec: { replicas: 4 } }, fieldManager: 'someone-else' },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    (operator as unknown as { fullSyncDue: boolean }).fullSyncDue = true; // the periodic resync, now
    operator.trigger();
    const restored = await eventually('replicas restored to 1', async () => {
      const d = await apps.readNamespacedDeployment({ name: names.workload, namespace: ns });
      return d.spec?.replicas === 1 && d;
    });
    assert.equal(restored.metadata?.annotations?.['example.com/note'], 'kept');
  });

  it("keeps another controller's parent entry when writing ours", async () => {
    const route = (await getCustom(kc, 'tlsroutes', ns, 'foo-route')) as any;
    const foreign = {
      parentRef: { group: GATEWAY_GROUP, kind: 'Gateway', name: 'their-gateway' },
      controllerName: 'example.com/another-controller',
      conditions: [{ type: 'Accepted', status: 'True', reason: 'Accepted', message: 'theirs', observedGeneration: route.metadata.generation, lastTransitionTime: '2026-01-01T00:00:00Z' }],
    };
    route.status.parents = [foreign, ...route.status.parents];
    await custom.replaceNamespacedCustomObjectStatus({ group: GATEWAY_GROUP, version: 'v1', plural: 'tlsroutes', namespace: ns, name: 'foo-route', body: route });
    // Change our entry: point the route at a listener that does not exist.
    await custom.patchNamespacedCustomObject(
      { group: GATEWAY_GROUP, version: 'v1', plural: 'tlsroutes', namespace: ns, name: 'foo-route', body: { spec: { parentRefs: [{ name: 'example-gateway', sectionName: 'nope' }] } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    const updated = await eventually('our entry NoMatchingParent', async () => {
      const r = await getCustom(kc, 'tlsroutes', ns, 'foo-route');
      const ours = r.status?.parents?.find((p: any) => p.controllerName === controllerName);
      return condition(ours?.conditions, 'Accepted')?.reason === 'NoMatchingParent' && r;
    });
    assert.deepEqual(updated.status.parents.find((p: any) => p.controllerName === 'example.com/another-controller'), foreign);
    assert.equal(updated.status.parents.length, 2);
  });

  it('retries a status write that meets a real 409 Conflict', async () => {
    const writerKc = kc;
    let reads = 0;
    class RacingWriter extends StatusWriter {
      protected override async readRoute(namespace: string, name: string): Promise<RouteWithStatus> {
        const route = await super.readRoute(namespace, name);
        if (++reads === 1) {
          // Someone else writes between our read and our replace: our resourceVersion is stale.
          await custom.patchNamespacedCustomObject(
            { group: GATEWAY_GROUP, version: 'v1', plural: 'tlsroutes', namespace, name, body: { metadata: { labels: { touched: String(Date.now()) } } } },
            k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
          );
        }
        return route;
      }
    }
    const writerLogs: string[] = [];
    const writer = new RacingWriter(writerKc, { controllerName: 'example.com/conflict-test', log: (m) => writerLogs.push(m) });
    const ours = [{
      parentRef: { group: GATEWAY_GROUP, kind: 'Gateway', name: 'conflict-gateway' },
      controllerName: 'example.com/conflict-test',
      conditions: [{ type: 'Accepted', status: 'True' as const, reason: 'Accepted', message: 'ok', observedGeneration: 1, lastTransitionTime: '2026-11-27T06:00:00Z' }],
    }];
    const change = await writer.writeRouteParents(ns, 'bar-route', ours);
    assert.ok(change, 'the write happened');
    assert.equal(reads, 2, 'read again after the conflict');
    assert.ok(writerLogs.some((m) => /conflict/.test(m)));
    const route = await getCustom(kc, 'tlsroutes', ns, 'bar-route');
    assert.ok(route.status.parents.some((p: any) => p.controllerName === 'example.com/conflict-test'));
    assert.ok(route.status.parents.some((p: any) => p.controllerName === controllerName), "the operator's own entry is still there");
  });

  it('every route change is reflected in its status (latency reported, not asserted)', async (t) => {
    const samples: number[] = [];
    for (let i = 0; i < 10; i++) {
      const started = performance.now();
      const patched = (await custom.patchNamespacedCustomObject(
        { group: GATEWAY_GROUP, version: 'v1', plural: 'tlsroutes', namespace: ns, name: 'bar-route', body: { spec: { hostnames: ['bar.example.com', `bar${i}.example.com`] } } },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
      )) as { metadata: { generation: number } };
      await eventually(`status of generation ${patched.metadata.generation}`, async () => {
        const r = await getCustom(kc, 'tlsroutes', ns, 'bar-route');
        const ours = r.status?.parents?.find((p: any) => p.controllerName === controllerName);
        return condition(ours?.conditions, 'Accepted')?.observedGeneration === patched.metadata.generation;
      });
      samples.push(performance.now() - started);
    }
    samples.sort((a, b) => a - b);
    t.diagnostic(`change → status written: p50 ${Math.round(samples[4]!)} ms, max ${Math.round(samples[9]!)} ms over 10 changes (debounce 50 ms, polling every 250 ms)`);
    assert.equal(samples.length, 10);
  });

  it('records Kubernetes Events for accepted and rejected routes', async () => {
    const events = kc.makeApiClient(k8s.EventsV1Api);
    const list = await eventually('events for foo-route', async () => {
      const l = await events.listNamespacedEvent({ namespace: ns });
      const forRoute = l.items.filter((e) => e.regarding?.name === 'foo-route');
      return forRoute.some((e) => e.reason === 'NoMatchingParent') && forRoute;
    });
    assert.ok(list.some((e) => e.reason === 'Accepted' && e.type === 'Normal'));
    const rejected = list.find((e) => e.reason === 'NoMatchingParent')!;
    assert.equal(rejected.type, 'Warning');
    assert.equal(rejected.reportingController, controllerName);
    assert.equal(rejected.regarding?.kind, 'TLSRoute');
  });

  it("removes a Gateway's infrastructure when it leaves our class; deletion cascades by ownerReferences", async () => {
    const foreignClass = `not-ours-${uniqueSuffix()}`;
    await createGatewayClass(kc, foreignClass, 'example.com/not-tlsgate');
    const gone = (name: string) => async () => {
      try {
        await apps.readNamespacedDeployment({ name, namespace: ns });
        return false;
      } catch (err) {
        return (err as { code?: number }).code === 404;
      }
    };
    try {
      await createObject(kc, {
        apiVersion: `${GATEWAY_GROUP}/v1`,
        kind: 'Gateway',
        metadata: { name: 'second', namespace: ns },
        spec: { gatewayClassName: 'example-gateway-class', listeners: [{ name: 'tls', protocol: 'TLS', port: 9443, tls: { mode: 'Passthrough' } }] },
      });
      const names = proxyNames('second');
      await eventually('second Gateway Deployment', () => apps.readNamespacedDeployment({ name: names.workload, namespace: ns }));
      const setClass = (gatewayClassName: string) =>
        custom.patchNamespacedCustomObject(
          { group: GATEWAY_GROUP, version: 'v1', plural: 'gateways', namespace: ns, name: 'second', body: { spec: { gatewayClassName } } },
          k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
        );
      await setClass(foreignClass);
      await eventually('the operator deleted the Deployment of a Gateway it no longer serves', gone(names.workload));
      await eventually('and its client-certificate Secret', async () =>
        core.readNamespacedSecret({ name: names.clientCertSecret, namespace: ns }).then(() => false, (err) => (err as { code?: number }).code === 404));
      await setClass('example-gateway-class');
      await eventually('Deployment back with the class', () => apps.readNamespacedDeployment({ name: names.workload, namespace: ns }));
      await custom.deleteNamespacedCustomObject({ group: GATEWAY_GROUP, version: 'v1', plural: 'gateways', namespace: ns, name: 'second' });
      // kube-controller-manager's garbage collector removes what the deleted Gateway owned.
      await eventually('owned Deployment garbage-collected', gone(names.workload), 60_000);
    } finally {
      await deleteGatewayClass(kc, foreignClass);
    }
  });
});
