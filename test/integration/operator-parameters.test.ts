// GatewayParameters on the real API server: our CRD's schema, a class-level default and a
// Gateway-level override shaping the applied infrastructure, objects removed when no longer
// asked for, and an unresolvable reference rejected with InvalidParameters.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { proxyNames } from '../../operator/infra/names.js';
import { condition, createObject, eventsAbout, eventually, getCustom, operatorSuite, GATEWAY_GROUP } from './operator-support.js';

const PARAMS = { group: 'tlsgate.dev', version: 'v1alpha1', plural: 'gatewayparameters' };
const MERGE = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);

describe('operator: GatewayParameters', () => {
  let custom: k8s.CustomObjectsApi;
  let apps: k8s.AppsV1Api;
  const suite = operatorSuite({
    name: 'params',
    gatewayParameters: {
      'class-defaults': { deployment: { replicas: 2 }, service: { type: 'ClusterIP' } },
      edge: { deployment: { replicas: 3 }, podDisruptionBudget: { minAvailable: 1 } },
    },
    classParameters: 'class-defaults',
    operator: { proxyImage: 'example.invalid/not-run:0' },
  });
  before(() => {
    custom = suite.kc.makeApiClient(k8s.CustomObjectsApi);
    apps = suite.kc.makeApiClient(k8s.AppsV1Api);
  });

  const gateway = (name: string, parametersRef?: unknown) => ({
    apiVersion: `${GATEWAY_GROUP}/v1`,
    kind: 'Gateway',
    metadata: { name, namespace: suite.ns },
    spec: {
      gatewayClassName: suite.className,
      listeners: [{ name: 'tls', protocol: 'TLS', port: 443, tls: { mode: 'Passthrough' } }],
      ...(parametersRef ? { infrastructure: { parametersRef, labels: { team: 'edge' } } } : {}),
    },
  });

  it('the CRD rejects invalid parameters (exactly one PDB field)', async () => {
    await assert.rejects(
      custom.createNamespacedCustomObject({ ...PARAMS, namespace: suite.ns, body: { apiVersion: 'tlsgate.dev/v1alpha1', kind: 'GatewayParameters', metadata: { name: 'bad' }, spec: { podDisruptionBudget: { minAvailable: 1, maxUnavailable: 1 } } } }),
      (err: unknown) => (err as { code?: number }).code === 422,
    );
  });

  it("class defaults apply, the Gateway's parameters override them, and a PDB appears", async () => {
    await createObject(suite.kc, gateway('edge', { group: 'tlsgate.dev', kind: 'GatewayParameters', name: 'edge' }));
    const names = proxyNames('edge');
    const deployment = await eventually('Deployment with 3 replicas', async () => {
      const d = await apps.readNamespacedDeployment({ name: names.workload, namespace: suite.ns });
      return d.spec?.replicas === 3 && d;
    });
    assert.equal(deployment.metadata?.labels?.team, 'edge');
    const service = await suite.kc.makeApiClient(k8s.CoreV1Api).readNamespacedService({ name: names.workload, namespace: suite.ns });
    assert.equal(service.spec?.type, 'ClusterIP', 'from the class defaults');
    const pdb = await suite.kc.makeApiClient(k8s.PolicyV1Api).readNamespacedPodDisruptionBudget({ name: names.workload, namespace: suite.ns });
    assert.equal(pdb.spec?.minAvailable, 1);
    // A ClusterIP Service's address is its cluster IP.
    const gw = await eventually('Gateway address', async () => {
      const obj = await getCustom(suite.kc, 'gateways', suite.ns, 'edge');
      return obj.status?.addresses?.length && obj;
    });
    assert.deepEqual(gw.status.addresses, [{ type: 'IPAddress', value: service.spec?.clusterIP }]);
  });

  it('removing the PDB from the parameters deletes it', async () => {
    await custom.patchNamespacedCustomObject({ ...PARAMS, namespace: suite.ns, name: 'edge', body: { spec: { podDisruptionBudget: null } } }, MERGE);
    const policy = suite.kc.makeApiClient(k8s.PolicyV1Api);
    await eventually('PDB deleted', async () =>
      policy.readNamespacedPodDisruptionBudget({ name: proxyNames('edge').workload, namespace: suite.ns }).then(() => false, (err) => (err as { code?: number }).code === 404));
  });

  it('autoscaling creates an HPA, and the Deployment leaves replicas to it', async () => {
    await custom.patchNamespacedCustomObject({ ...PARAMS, namespace: suite.ns, name: 'edge', body: { spec: { autoscaling: { minReplicas: 2, maxReplicas: 5 } } } }, MERGE);
    const names = proxyNames('edge');
    const hpa = await eventually('HPA', () => suite.kc.makeApiClient(k8s.AutoscalingV2Api).readNamespacedHorizontalPodAutoscaler({ name: names.workload, namespace: suite.ns }));
    assert.equal(hpa.spec?.maxReplicas, 5);
    assert.equal(hpa.spec?.scaleTargetRef.name, names.workload);
    const deployment = await apps.readNamespacedDeployment({ name: names.workload, namespace: suite.ns });
    const ours = deployment.metadata?.managedFields?.find((f) => f.manager === 'tlsgate' && f.operation === 'Apply');
    assert.ok(ours, 'tlsgate applied the Deployment');
    assert.equal(JSON.stringify(ours.fieldsV1).includes('"f:replicas"'), false, 'tlsgate no longer owns spec.replicas');
  });

  it('an unresolvable parametersRef: Accepted=False/InvalidParameters, and no proxy', async () => {
    await createObject(suite.kc, gateway('broken', { group: 'tlsgate.dev', kind: 'GatewayParameters', name: 'does-not-exist' }));
    const gw = await eventually('Gateway InvalidParameters', async () => {
      const obj = await getCustom(suite.kc, 'gateways', suite.ns, 'broken');
      return condition(obj.status?.conditions, 'Accepted')?.reason === 'InvalidParameters' && obj;
    });
    assert.equal(condition(gw.status.conditions, 'Accepted').status, 'False');
    await assert.rejects(apps.readNamespacedDeployment({ name: proxyNames('broken').workload, namespace: suite.ns }), (err: unknown) => (err as { code?: number }).code === 404);
    const events = await eventsAbout(suite.kc, suite.ns, 'broken', (list) => list.some((e) => e.reason === 'InvalidParameters'));
    assert.equal(events.find((e) => e.reason === 'InvalidParameters')?.type, 'Warning');
  });
});
