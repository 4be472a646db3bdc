// The install manifest on the cluster in a box: `kubectl apply --server-side` of what
// `npm run synth:install` writes, the operator running as two pods under its own RBAC
// (in-cluster config), one of them leading and labelled for the config-server Service,
// and the upstream example becoming Programmed through a proxy pod that reached the
// leader by the Service's DNS name.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { loadTestKubeConfig, freshNamespace, deleteNamespace, kubeconfigPath } from '../cluster/client.js';
import { installObjects, OPERATOR_NAMESPACE, OPERATOR_NAME } from '../../install/app.js';
import { LEADER_LABEL } from '../../operator/operator.js';
import { projectRoot } from '../helpers/paths.js';
import { applyUpstreamExample, condition, eventually, getCustom, GATEWAY_GROUP } from './operator-support.js';

const kubectl = (...args: string[]) => execFileSync('kubectl', ['--kubeconfig', kubeconfigPath, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

describe('operator: installed with dist/install.yaml', () => {
  let kc: k8s.KubeConfig;
  let ns: string;
  let dir: string;

  before(async () => {
    kc = loadTestKubeConfig();
    dir = mkdtempSync(path.join(os.tmpdir(), 'tlsgate-install-'));
    const file = path.join(dir, 'install.yaml');
    writeFileSync(file, installObjects({ root: projectRoot, image: 'ghcr.io/tlsgate/tlsgate:0.1.0' }).map((o) => stringify(o)).join('---\n'));
    // The cluster already has the CRDs (applied by another manager): take them over.
    kubectl('apply', '--server-side', '--force-conflicts', '--field-manager', 'it-install', '-f', file);
    ns = await freshNamespace(kc, 'op-install');
  });

  after(async () => {
    await deleteNamespace(kc, ns);
    // Remove the install but never the CRDs, which the rest of the suite still uses.
    for (const args of [
      ['delete', 'namespace', OPERATOR_NAMESPACE, '--wait=false', '--ignore-not-found'],
      ['delete', 'clusterrolebinding', OPERATOR_NAME, '--ignore-not-found'],
      ['delete', 'clusterrole', OPERATOR_NAME, '--ignore-not-found'],
      ['delete', 'gatewayclass', 'tlsgate', '--ignore-not-found'],
    ]) {
      try {
        kubectl(...args);
      } catch {
        /* best effort: the cluster is torn down after the suite anyway */
      }
    }
    rmSync(dir, { recursive: true, force: true });
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
      let logs = '';
      try {
        logs = kubectl('-n', OPERATOR_NAMESPACE, 'logs', '-l', `app.kubernetes.io/name=${OPERATOR_NAME}`, '--tail=20');
      } catch (e) {
        logs = String(e);
      }
      throw new Error(`${err.message}\n${logs}`);
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
