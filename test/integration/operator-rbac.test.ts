// The operator runs under exactly the install's RBAC (ClusterRole + Role bound to its
// ServiceAccount, token from TokenRequest): it works, and it is denied what it must not do.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { loadTestKubeConfig, freshNamespace, deleteNamespace } from '../cluster/client.js';
import type { Operator } from '../../operator/operator.js';
import { proxyNames } from '../../operator/infra/names.js';
import { upstreamDir } from '../helpers/paths.js';
import {
  applyFile, condition, createGatewayClass, deleteGatewayClass, deleteOperatorClusterRole, eventsAbout, eventually, getCustom, operatorKubeConfig, selfSigned, testOperator, uniqueSuffix, GATEWAY_GROUP,
} from './operator-support.js';

const code = (error: unknown): number | undefined => (error as { code?: number }).code;
async function forbidden(what: string, promise: Promise<unknown>): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.equal(code(error), 403, `${what}: expected 403, got ${code(error)}`);
    return true;
  });
}

describe('operator: least-privilege RBAC', () => {
  let admin: k8s.KubeConfig;
  let limited: k8s.KubeConfig;
  let ns: string;
  let operator: Operator;
  const suffix = uniqueSuffix();
  const className = `it-rbac-${suffix}`;
  const controllerName = `tlsgate.dev/it-rbac-${suffix}`;
  const clusterRole = `tlsgate-operator-it-${suffix}`;
  const logs: string[] = [];

  before(async () => {
    admin = loadTestKubeConfig();
    ns = await freshNamespace(admin, 'op-rbac');
    const core = admin.makeApiClient(k8s.CoreV1Api);
    limited = await operatorKubeConfig(admin, ns, clusterRole);

    await createGatewayClass(admin, className, controllerName);
    const { cert, key } = selfSigned('bar.example.com');
    await core.createNamespacedSecret({ namespace: ns, body: { metadata: { name: 'tls-terminate-certificate' }, type: 'kubernetes.io/tls', data: { 'tls.crt': Buffer.from(cert).toString('base64'), 'tls.key': Buffer.from(key).toString('base64') } } });
    await core.createNamespacedService({ namespace: ns, body: { metadata: { name: 'foo-svc' }, spec: { ports: [{ port: 443 }] } } });
    await applyFile(admin, path.join(upstreamDir, 'examples', 'gateway.yaml'), ns, (gw) => (gw.spec.gatewayClassName = className));
    await applyFile(admin, path.join(upstreamDir, 'examples', 'tls-route.yaml'), ns);

    operator = testOperator(limited, { namespace: ns, controllerName, logs, leaseName: 'tlsgate-operator' });
    await operator.start();
  });

  after(async () => {
    await operator?.stop();
    await deleteGatewayClass(admin, className);
    await deleteOperatorClusterRole(admin, clusterRole);
    await deleteNamespace(admin, ns);
  });

  it('with only these permissions it leads, writes statuses, applies infrastructure and records events', async () => {
    await eventually('leadership', async () => operator.isLeader);
    const gw = await eventually('Gateway Accepted', async () => {
      const obj = await getCustom(admin, 'gateways', ns, 'example-gateway');
      return condition(obj.status?.conditions, 'Accepted')?.status === 'True' && obj;
    });
    assert.equal(gw.status.listeners.find((l: any) => l.name === 'tls').attachedRoutes, 1);
    await eventually('route status', async () => {
      const r = await getCustom(admin, 'tlsroutes', ns, 'foo-route');
      return condition(r.status?.parents?.[0]?.conditions, 'Accepted')?.status === 'True';
    });
    await eventually('GatewayClass status', async () => {
      const c = await getCustom(admin, 'gatewayclasses', undefined, className);
      return condition(c.status?.conditions, 'Accepted')?.status === 'True';
    });
    const apps = admin.makeApiClient(k8s.AppsV1Api);
    await eventually('proxy Deployment', () => apps.readNamespacedDeployment({ name: proxyNames('example-gateway').workload, namespace: ns }));
    const core = admin.makeApiClient(k8s.CoreV1Api);
    await core.readNamespacedSecret({ name: 'tlsgate-ca', namespace: ns });
    // Created by the operator at start (get, then create): the session-ticket master secret.
    await core.readNamespacedSecret({ name: 'tlsgate-ticket-keys', namespace: ns });
    await eventsAbout(admin, ns, 'foo-route', (list) => list.some((e) => e.reason === 'Accepted'));
    const denied = logs.filter((m) => /HTTP 403|forbidden/i.test(m));
    assert.deepEqual(denied, [], 'no request of the operator was denied');
  });

  it('is denied what it must not do', async () => {
    const core = limited.makeApiClient(k8s.CoreV1Api);
    const custom = limited.makeApiClient(k8s.CustomObjectsApi);
    const rbac = limited.makeApiClient(k8s.RbacAuthorizationV1Api);
    await forbidden('create a pod', core.createNamespacedPod({ namespace: ns, body: { metadata: { name: 'x' }, spec: { containers: [{ name: 'x', image: 'x' }] } } }));
    await forbidden('read a ConfigMap', core.listNamespacedConfigMap({ namespace: ns }));
    await forbidden('get an arbitrary Secret by name', core.readNamespacedSecret({ name: 'tls-terminate-certificate', namespace: ns }));
    await forbidden('change the session-ticket master secret', core.replaceNamespacedSecret({ name: 'tlsgate-ticket-keys', namespace: ns, body: { metadata: { name: 'tlsgate-ticket-keys' } } }));
    await forbidden('update another Secret in its namespace', core.replaceNamespacedSecret({ name: 'tls-terminate-certificate', namespace: ns, body: { metadata: { name: 'tls-terminate-certificate' } } }));
    await forbidden(
      'change a Gateway spec',
      custom.patchNamespacedCustomObject(
        { group: GATEWAY_GROUP, version: 'v1', plural: 'gateways', namespace: ns, name: 'example-gateway', body: { spec: { listeners: [] } } },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
      ),
    );
    await forbidden('delete a TLSRoute', custom.deleteNamespacedCustomObject({ group: GATEWAY_GROUP, version: 'v1', plural: 'tlsroutes', namespace: ns, name: 'foo-route' }));
    await forbidden('create a ClusterRole', rbac.createClusterRole({ body: { metadata: { name: `escalate-${suffix}` }, rules: [] } }));
    // Pods: only the leader label on its own namespace's pods; nowhere else, and no read.
    const elsewhere = 'kube-system';
    await forbidden(
      'patch a pod in another namespace',
      core.patchNamespacedPod({ namespace: elsewhere, name: 'any', body: { metadata: { labels: { x: 'y' } } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch)),
    );
    await forbidden('list pods', core.listPodForAllNamespaces());
    await forbidden('delete a pod in its namespace', core.deleteNamespacedPod({ namespace: ns, name: 'any' }));
    // Secrets: no get by name and no update (replace) outside its namespace's own two.
    await forbidden('get a Secret in another namespace', core.readNamespacedSecret({ namespace: elsewhere, name: 'any' }));
    await forbidden('update a Secret in another namespace', core.replaceNamespacedSecret({ namespace: elsewhere, name: 'any', body: { metadata: { name: 'any' } } }));
    // Owned workloads are changed only by server-side apply (patch): no replace, no read by name.
    const apps = limited.makeApiClient(k8s.AppsV1Api);
    const proxy = proxyNames('example-gateway').workload;
    await forbidden('replace a Deployment', apps.replaceNamespacedDeployment({ namespace: ns, name: proxy, body: { metadata: { name: proxy } } as k8s.V1Deployment }));
    await forbidden('get a Deployment by name', apps.readNamespacedDeployment({ namespace: ns, name: proxy }));
    await forbidden('list StatefulSets', apps.listStatefulSetForAllNamespaces());
    await forbidden('delete a Namespace', core.deleteNamespace({ name: elsewhere }));
    await forbidden('take another Lease', limited.makeApiClient(k8s.CoordinationV1Api).readNamespacedLease({ name: 'someone-else', namespace: ns }));
  });
});
