// GatewayParameters on the real API server: our CRD's schema, a class-level default and a
// Gateway-level override shaping the applied infrastructure, objects removed when no longer
// asked for, and an unresolvable reference rejected with InvalidParameters.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { loadTestKubeConfig, freshNamespace, deleteNamespace } from '../cluster/client.js';
import type { Operator } from '../../operator/operator.js';
import { proxyNames } from '../../operator/infra/names.js';
import { condition, createGatewayClass, createObject, deleteGatewayClass, eventually, getCustom, testOperator, uniqueSuffix, GATEWAY_GROUP } from './operator-support.js';

const PARAMS = { group: 'tlsgate.dev', version: 'v1alpha1', plural: 'gatewayparameters' };
const MERGE = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);

describe('operator: GatewayParameters', () => {
  let kc: k8s.KubeConfig;
  let ns: string;
  let operator: Operator;
  const suffix = uniqueSuffix();
  const className = `it-params-${suffix}`;
  const controllerName = `tlsgate.dev/it-params-${suffix}`;
  const logs: string[] = [];
  let custom: k8s.CustomObjectsApi;
  let apps: k8s.AppsV1Api;

  const gateway = (name: string, parametersRef?: unknown) => ({
    apiVersion: `${GATEWAY_GROUP}/v1`,
    kind: 'Gateway',
    metadata: { name, namespace: ns },
    spec: {
      gatewayClassName: className,
      listeners: [{ name: 'tls', protocol: 'TLS', port: 443, tls: { mode: 'Passthrough' } }],
      ...(parametersRef ? { infrastructure: { parametersRef, labels: { team: 'edge' } } } : {}),
    },
  });

  before(async () => {
    kc = loadTestKubeConfig();
    custom = kc.makeApiClient(k8s.CustomObjectsApi);
    apps = kc.makeApiClient(k8s.AppsV1Api);
    ns = await freshNamespace(kc, 'op-params');
    await custom.createNamespacedCustomObject({ ...PARAMS, namespace: ns, body: { apiVersion: 'tlsgate.dev/v1alpha1', kind: 'GatewayParameters', metadata: { name: 'class-defaults' }, spec: { deployment: { replicas: 2 }, service: { type: 'ClusterIP' } } } });
    await custom.createNamespacedCustomObject({
      ...PARAMS,
      namespace: ns,
      body: { apiVersion: 'tlsgate.dev/v1alpha1', kind: 'GatewayParameters', metadata: { name: 'edge' }, spec: { deployment: { replicas: 3 }, podDisruptionBudget: { minAvailable: 1 } } },
    });
    await createGatewayClass(kc, className, controllerName, { group: 'tlsgate.dev', kind: 'GatewayParameters', name: 'class-defaults', namespace: ns });
    operator = testOperator(kc, { namespace: ns, controllerName, logs, proxyImage: 'example.invalid/not-run:0' });
    await operator.start();
  });

  after(async () => {
    await operator?.stop();
    await deleteGatewayClass(kc, className);
    await deleteNamespace(kc, ns);
  });

  it('the CRD rejects invalid parameters (exactly one PDB field)', async () => {
    await assert.rejects(
      custom.createNamespacedCustomObject({ ...PARAMS, namespace: ns, body: { apiVersion: 'tlsgate.dev/v1alpha1', kind: 'GatewayParameters', metadata: { name: 'bad' }, spec: { podDisruptionBudget: { minAvailable: 1, maxUnavailable: 1 } } } }),
      (err: unknown) => (err as { code?: number }).code === 422,
    );
  });

  it("class defaults apply, the Gateway's parameters override them, and a PDB appears", async () => {
    await createObject(kc, gateway('edge', { group: 'tlsgate.dev', kind: 'GatewayParameters', name: 'edge' }));
    const names = proxyNames('edge');
    const deployment = await eventually('Deployment with 3 replicas', async () => {
      const d = await apps.readNamespacedDeployment({ name: names.workload, namespace: ns });
      return d.spec?.replicas === 3 && d;
    });
    assert.equal(deployment.metadata?.labels?.team, 'edge');
    const service = await kc.makeApiClient(k8s.CoreV1Api).readNamespacedService({ name: names.workload, namespace: ns });
    assert.equal(service.spec?.type, 'ClusterIP', 'from the class defaults');
    const pdb = await kc.makeApiClient(k8s.PolicyV1Api).readNamespacedPodDisruptionBudget({ name: names.workload, namespace: ns });
    assert.equal(pdb.spec?.minAvailable, 1);
    // A ClusterIP Service's address is its cluster IP.
    const gw = await eventually('Gateway address', async () => {
      const obj = await getCustom(kc, 'gateways', ns, 'edge');
      return obj.status?.addresses?.length && obj;
    });
    assert.deepEqual(gw.status.addresses, [{ type: 'IPAddress', value: service.spec?.clusterIP }]);
  });

  it('removing the PDB from the parameters deletes it', async () => {
    await custom.patchNamespacedCustomObject({ ...PARAMS, namespace: ns, name: 'edge', body: { spec: { podDisruptionBudget: null } } }, MERGE);
    const policy = kc.makeApiClient(k8s.PolicyV1Api);
    await eventually('PDB deleted', async () =>
      policy.readNamespacedPodDisruptionBudget({ name: proxyNames('edge').workload, namespace: ns }).then(() => false, (err) => (err as { code?: number }).code === 404));
  });

  it('autoscaling creates an HPA, and the Deployment leaves replicas to it', async () => {
    await custom.patchNamespacedCustomObject({ ...PARAMS, namespace: ns, name: 'edge', body: { spec: { autoscaling: { minReplicas: 2, maxReplicas: 5 } } } }, MERGE);
    const names = proxyNames('edge');
    const hpa = await eventually('HPA', () => kc.makeApiClient(k8s.AutoscalingV2Api).readNamespacedHorizontalPodAutoscaler({ name: names.workload, namespace: ns }));
    assert.equal(hpa.spec?.maxReplicas, 5);
    assert.equal(hpa.spec?.scaleTargetRef.name, names.workload);
    const deployment = await apps.readNamespacedDeployment({ name: names.workload, namespace: ns });
    const ours = deployment.metadata?.managedFields?.find((f) => f.manager === 'tlsgate' && f.operation === 'Apply');
    assert.ok(ours, 'tlsgate applied the Deployment');
    assert.equal(JSON.stringify(ours.fieldsV1).includes('"f:replicas"'), false, 'tlsgate no longer owns spec.replicas');
  });

  it('an unresolvable parametersRef: Accepted=False/InvalidParameters, and no proxy', async () => {
    await createObject(kc, gateway('broken', { group: 'tlsgate.dev', kind: 'GatewayParameters', name: 'does-not-exist' }));
    const gw = await eventually('Gateway InvalidParameters', async () => {
      const obj = await getCustom(kc, 'gateways', ns, 'broken');
      return condition(obj.status?.conditions, 'Accepted')?.reason === 'InvalidParameters' && obj;
    });
    assert.equal(condition(gw.status.conditions, 'Accepted').status, 'False');
    await assert.rejects(apps.readNamespacedDeployment({ name: proxyNames('broken').workload, namespace: ns }), (err: unknown) => (err as { code?: number }).code === 404);
    const events = await kc.makeApiClient(k8s.EventsV1Api).listNamespacedEvent({ namespace: ns });
    assert.ok(events.items.some((e) => e.regarding?.name === 'broken' && e.reason === 'InvalidParameters' && e.type === 'Warning'));
  });
});
