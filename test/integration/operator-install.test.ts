// The install manifest on the cluster in a box: `kubectl apply --server-side` of what
// `npm run synth:install` writes, the operator running as two pods under its own RBAC
// (in-cluster config), one of them leading and labelled for the config-server Service,
// and the upstream example becoming Programmed through a proxy pod that reached the
// leader by the Service's DNS name.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { loadTestKubeConfig, freshNamespace, deleteNamespace } from '../cluster/client.js';
import { OPERATOR_NAMESPACE, OPERATOR_NAME } from '../../install/app.js';
import { LEADER_LABEL } from '../../operator/operator.js';
import { applyUpstreamExample, condition, eventually, getCustom, GATEWAY_GROUP } from './operator-support.js';
import { installOperator, uninstallOperator, operatorDiagnostics } from './install-support.js';

describe('operator: installed with dist/install.yaml', () => {
  let kc: k8s.KubeConfig;
  let ns: string;

  before(async () => {
    kc = loadTestKubeConfig();
    const install = await installOperator(kc);
    // Not asserted: shown so a slow install is visible in CI logs.
    console.log(`# operator installed in ${install.tookMs} ms, leader ${install.leader}`);
    ns = await freshNamespace(kc, 'op-install');
  });

  after(async () => {
    await deleteNamespace(kc, ns);
    // Removes the install but never the CRDs, which the rest of the suite still uses.
    await uninstallOperator(kc);
  });

  it('runs two operator replicas, exactly one of them the leader and labelled for the config Service', async () => {
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const pods = await eventually(
      'two ready operator pods',
      async () => {
        const list = await core.listNamespacedPod({ namespace: OPERATOR_NAMESPACE, labelSelector: `app.kubernetes.io/name=${OPERATOR_NAME}` });
        const ready = list.items.filter((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
        return ready.length === 2 && ready;
      },
      120_000,
    );
    const lease = await eventually('the Lease held', async () => {
      const l = await kc.makeApiClient(k8s.CoordinationV1Api).readNamespacedLease({ name: 'tlsgate-operator', namespace: OPERATOR_NAMESPACE });
      return l.spec?.holderIdentity ? l : undefined;
    });
    assert.ok(pods.some((p) => p.metadata?.name === lease.spec?.holderIdentity), 'the holder is one of the pods');
    const labelled = await eventually('exactly the leader labelled', async () => {
      const list = await core.listNamespacedPod({ namespace: OPERATOR_NAMESPACE, labelSelector: `${LEADER_LABEL}=true` });
      return list.items.length === 1 && list.items;
    });
    assert.equal(labelled[0]!.metadata?.name, lease.spec?.holderIdentity);
  });

  it('makes the upstream example (class tlsgate) Accepted and Programmed through a proxy pod', async () => {
    await applyUpstreamExample(kc, ns, 'tlsgate');
    const gw = await eventually(
      'Gateway Programmed=True',
      async () => {
        const obj = await getCustom(kc, 'gateways', ns, 'example-gateway');
        return condition(obj.status?.conditions, 'Programmed')?.status === 'True' && obj;
      },
      120_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${operatorDiagnostics({ namespaces: [ns] })}`);
    });
    assert.equal(condition(gw.status.conditions, 'Accepted').status, 'True');
    assert.equal(gw.status.addresses.length, 1);
    const route = await getCustom(kc, 'tlsroutes', ns, 'foo-route');
    assert.equal(route.status.parents[0].controllerName, 'tlsgate.dev/gateway-controller');
    assert.equal(condition(route.status.parents[0].conditions, 'Accepted').status, 'True');
    const gc = await getCustom(kc, 'gatewayclasses', undefined, 'tlsgate');
    assert.equal(condition(gc.status.conditions, 'Accepted').status, 'True');
  });

  it('the leader pod killed: the other replica leads, takes the label, statuses converge, the Gateway is Programmed again', async (t) => {
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const leases = kc.makeApiClient(k8s.CoordinationV1Api);
    const before = await leases.readNamespacedLease({ name: 'tlsgate-operator', namespace: OPERATOR_NAMESPACE });
    const oldLeader = before.spec!.holderIdentity!;
    const killedAt = performance.now();
    await core.deleteNamespacedPod({ name: oldLeader, namespace: OPERATOR_NAMESPACE, gracePeriodSeconds: 0 });
    const after = await eventually(
      'a new leader',
      async () => {
        const l = await leases.readNamespacedLease({ name: 'tlsgate-operator', namespace: OPERATOR_NAMESPACE });
        return l.spec?.holderIdentity && l.spec.holderIdentity !== oldLeader ? l : undefined;
      },
      90_000,
    );
    t.diagnostic(`new leader ${after.spec?.holderIdentity} after ${Math.round(performance.now() - killedAt)} ms (lease duration 15 s)`);
    await eventually('the new leader carries the config-server label', async () => {
      const list = await core.listNamespacedPod({ namespace: OPERATOR_NAMESPACE, labelSelector: `${LEADER_LABEL}=true` });
      return list.items.length === 1 && list.items[0]!.metadata?.name === after.spec?.holderIdentity;
    }, 60_000);
    // Statuses converge under the new leader: a change made now is written by it.
    const custom = kc.makeApiClient(k8s.CustomObjectsApi);
    await custom.patchNamespacedCustomObject(
      { group: GATEWAY_GROUP, version: 'v1', plural: 'tlsroutes', namespace: ns, name: 'foo-route', body: { spec: { hostnames: ['foo.example.com', 'foo2.example.com'] } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    await eventually('route status of the new generation', async () => {
      const r = await getCustom(kc, 'tlsroutes', ns, 'foo-route');
      return condition(r.status?.parents?.[0]?.conditions, 'Accepted')?.observedGeneration === r.metadata.generation;
    }, 60_000);
    await eventually('Gateway Programmed again under the new leader (proxies reconnected)', async () => {
      const obj = await getCustom(kc, 'gateways', ns, 'example-gateway');
      const programmed = condition(obj.status?.conditions, 'Programmed');
      return programmed?.status === 'True' && programmed.observedGeneration === obj.metadata.generation;
    }, 90_000);
  });
});
