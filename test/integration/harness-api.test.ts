// The cluster in a box, control-plane side: CRDs installed, garbage collection, namespace
// deletion and RBAC denials, all against the real kube-apiserver and controller-manager.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { loadTestKubeConfig, freshNamespace, deleteNamespace, kubeConfigWithToken, waitFor } from '../cluster/client.js';

const code = (error: unknown): number | undefined => (error as { code?: number }).code;

async function expectStatus(promise: Promise<unknown>, status: number): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.equal(code(error), status, `expected HTTP ${status}, got ${code(error)}: ${String((error as { body?: unknown }).body ?? error)}`);
    return true;
  });
}

describe('cluster in a box: control plane', () => {
  let kc: k8s.KubeConfig;
  let core: k8s.CoreV1Api;
  let ns: string;

  before(async () => {
    kc = loadTestKubeConfig();
    core = kc.makeApiClient(k8s.CoreV1Api);
    ns = await freshNamespace(kc, 'harness-api');
  });
  after(async () => { await deleteNamespace(kc, ns); });

  it('serves the Gateway API v1.6.1 CRDs, Established, and the safe-upgrades policy', async () => {
    const ext = kc.makeApiClient(k8s.ApiextensionsV1Api);
    for (const name of ['gatewayclasses', 'gateways', 'tlsroutes', 'referencegrants', 'httproutes']) {
      const crd = await ext.readCustomResourceDefinition({ name: `${name}.gateway.networking.k8s.io` });
      assert.equal(crd.metadata?.annotations?.['gateway.networking.k8s.io/bundle-version'], 'v1.6.1');
      assert.ok(crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True'), `${name} not Established`);
    }
    const admission = kc.makeApiClient(k8s.AdmissionregistrationV1Api);
    const policy = await admission.readValidatingAdmissionPolicy({ name: 'safe-upgrades.gateway.networking.k8s.io' });
    assert.equal(policy.spec?.failurePolicy, 'Fail');
    // The CRD's CEL rules are enforced by the real apiserver: an IP is not a TLSRoute hostname.
    const objects = kc.makeApiClient(k8s.CustomObjectsApi);
    await expectStatus(objects.createNamespacedCustomObject({
      group: 'gateway.networking.k8s.io', version: 'v1', namespace: ns, plural: 'tlsroutes',
      body: { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'TLSRoute', metadata: { name: 'bad' },
        spec: { hostnames: ['192.0.2.1'], rules: [{ backendRefs: [{ name: 'x', port: 443 }] }] } },
    }), 422);
  });

  it('garbage-collects an object when its owner is deleted', async () => {
    const owner = await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'owner' }, data: { a: '1' } } });
    await core.createNamespacedSecret({
      namespace: ns,
      body: {
        metadata: { name: 'owned', ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.metadata!.uid! }] },
        stringData: { b: '2' },
      },
    });
    await core.deleteNamespacedConfigMap({ name: 'owner', namespace: ns });
    await waitFor('the garbage collector to delete the owned Secret', 60_000, async () =>
      core.readNamespacedSecret({ name: 'owned', namespace: ns }).then(() => undefined, (error: unknown) => {
        if (code(error) === 404) return true;
        throw error;
      }));
  });

  it('deleting a namespace removes everything in it, pods included, and then the namespace', async () => {
    const doomed = await freshNamespace(kc, 'harness-doomed');
    await core.createNamespacedConfigMap({ namespace: doomed, body: { metadata: { name: 'data' }, data: { x: 'y' } } });
    const pod = await core.createNamespacedPod({
      namespace: doomed,
      body: { metadata: { name: 'sleeper' }, spec: { terminationGracePeriodSeconds: 2, containers: [{ name: 'main', image: 'tlsgate.test/pause' }] } },
    });
    await waitFor('the pod to run', 60_000, async () => {
      const p = await core.readNamespacedPod({ name: 'sleeper', namespace: doomed });
      return p.status?.phase === 'Running' ? true : undefined;
    });
    await core.deleteNamespace({ name: doomed });
    await waitFor(`namespace ${doomed} to be gone`, 120_000, async () =>
      core.readNamespace({ name: doomed }).then(() => undefined, (error: unknown) => {
        if (code(error) === 404) return true;
        throw error;
      }));
    // The pod object went with it (it was finalized by the node agent, not just orphaned).
    const left = await core.listPodForAllNamespaces({ fieldSelector: `metadata.uid=${pod.metadata!.uid}` }).catch(() => undefined);
    assert.equal(left?.items.length ?? 0, 0);
  });

  it('an identity limited by RBAC gets 403 outside its Role and 200 inside it', async () => {
    const rbac = kc.makeApiClient(k8s.RbacAuthorizationV1Api);
    await core.createNamespacedServiceAccount({ namespace: ns, body: { metadata: { name: 'reader' } } });
    await rbac.createNamespacedRole({
      namespace: ns,
      body: { metadata: { name: 'configmap-reader' }, rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list'] }] },
    });
    await rbac.createNamespacedRoleBinding({
      namespace: ns,
      body: {
        metadata: { name: 'reader' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'configmap-reader' },
        subjects: [{ kind: 'ServiceAccount', name: 'reader', namespace: ns }],
      },
    });
    const minted = await core.createNamespacedServiceAccountToken({ name: 'reader', namespace: ns, body: { spec: { audiences: [], expirationSeconds: 600 } } });
    const limited = kubeConfigWithToken(kc, minted.status!.token).makeApiClient(k8s.CoreV1Api);

    const list = await limited.listNamespacedConfigMap({ namespace: ns });
    assert.ok(Array.isArray(list.items));
    await expectStatus(limited.listNamespacedSecret({ namespace: ns }), 403);
    await expectStatus(limited.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'nope' } } }), 403);
    await expectStatus(limited.listNamespacedConfigMap({ namespace: 'default' }), 403);
    // A token the apiserver did not issue is not an identity at all.
    const stranger = kubeConfigWithToken(kc, 'not-a-real-token').makeApiClient(k8s.CoreV1Api);
    await expectStatus(stranger.listNamespacedConfigMap({ namespace: ns }), 401);
  });
});
