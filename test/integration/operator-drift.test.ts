// Drift on the cluster in a box: proxy objects the operator owns, deleted or edited by someone
// else, are applied again within seconds (the label-selected watch of owned objects), not at the
// next full resync (60 s in these tests, 300 s by default); each repair is counted in
// tlsgate_operator_drift_repairs_total and logged as a warning naming the object.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { proxyNames } from '../../operator/infra/names.js';
import { upstreamDir } from '../helpers/paths.js';
import { applyFile, createCertificateSecret, eventually, operatorSuite } from './operator-support.js';

/** Well under the suite's 60 s full resync, so a repair within it was the drift watch's doing. */
const RESTORE_WITHIN_MS = 15_000;

describe('operator: owned proxy objects are restored after drift', () => {
  const suite = operatorSuite({
    name: 'drift',
    setup: async ({ kc, ns, className }) => {
      await createCertificateSecret(kc, ns, 'tls-terminate-certificate', 'bar.example.com');
      await applyFile(kc, path.join(upstreamDir, 'examples', 'gateway.yaml'), ns, (gw) => (gw.spec.gatewayClassName = className));
    },
  });
  const name = proxyNames('example-gateway').workload;
  const repairs = async (kind: string): Promise<number> => {
    const text = (await suite.operator.metrics.exposition()).body;
    const line = text.split('\n').find((l) => l.startsWith(`tlsgate_operator_drift_repairs_total{kind="${kind}"} `));
    return line ? Number(line.split(' ')[1]) : 0;
  };
  const timed = async <T>(what: string, check: () => Promise<T | undefined | false>): Promise<{ value: T; ms: number }> => {
    const started = Date.now();
    const value = await eventually(what, check, RESTORE_WITHIN_MS);
    const ms = Date.now() - started;
    console.log(`# ${what}: ${ms} ms`);
    return { value, ms };
  };

  it('a deleted proxy Deployment is created again within seconds', async () => {
    const apps = suite.kc.makeApiClient(k8s.AppsV1Api);
    const before = await eventually('the proxy Deployment', () => apps.readNamespacedDeployment({ name, namespace: suite.ns }), 60_000);
    await eventually('leadership', async () => suite.operator.isLeader);
    const counted = await repairs('Deployment');
    await apps.deleteNamespacedDeployment({ name, namespace: suite.ns });
    const { value: again } = await timed('Deployment restored after delete', async () => {
      const d = await apps.readNamespacedDeployment({ name, namespace: suite.ns }).catch(() => undefined);
      return d && d.metadata?.uid !== before.metadata?.uid && d;
    });
    assert.deepEqual(again.spec?.template.spec?.containers.map((c) => c.args), before.spec?.template.spec?.containers.map((c) => c.args), 'rendered as before');
    assert.ok((await repairs('Deployment')) > counted, 'counted as a drift repair');
    assert.ok(suite.logs.some((l) => l.includes(`Deployment ${suite.ns}/${name} of Gateway ${suite.ns}/example-gateway was deleted by someone else`)), 'logged');
  });

  it("an edited proxy Service selector is set back, and a deleted ServiceAccount created again", async () => {
    const core = suite.kc.makeApiClient(k8s.CoreV1Api);
    const service = await eventually('the proxy Service', () => core.readNamespacedService({ name, namespace: suite.ns }));
    const selector = service.spec?.selector ?? {};
    assert.ok(Object.keys(selector).length > 0);
    const broken = Object.fromEntries(Object.keys(selector).map((k) => [k, 'someone-else']));
    await core.patchNamespacedService(
      { name, namespace: suite.ns, body: { spec: { selector: broken } }, fieldManager: 'drift-test' },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    await timed('Service selector set back', async () => {
      const s = await core.readNamespacedService({ name, namespace: suite.ns });
      return JSON.stringify(s.spec?.selector) === JSON.stringify(selector);
    });
    assert.ok((await repairs('Service')) >= 1);

    const account = await core.readNamespacedServiceAccount({ name, namespace: suite.ns });
    await core.deleteNamespacedServiceAccount({ name, namespace: suite.ns });
    await timed('ServiceAccount restored after delete', async () => {
      const a = await core.readNamespacedServiceAccount({ name, namespace: suite.ns }).catch(() => undefined);
      return a && a.metadata?.uid !== account.metadata?.uid && a.automountServiceAccountToken === false;
    });
    assert.ok((await repairs('ServiceAccount')) >= 1);
  });
});
