// `helm install` as the README says, on the cluster in a box: the operator comes up from the
// chart and accepts the GatewayClass; `helm uninstall` removes every object of the release and
// keeps the GatewayParameters CRD (users' objects of that kind survive an uninstall).
//
// cluster:up applied our GatewayParameters CRD without Helm's ownership metadata, as a kubectl
// install would have: `--take-ownership` adopts it (docs/install.md). The Gateway API CRDs are
// the cluster's (`--skip-crds`), and so is its safe-upgrades policy (`admissionPolicy.install=false`):
// the rest of the suite uses them, and an adopted copy would go with the uninstall.
//
//   npm run build && flock /tmp/tlsgate-cluster.lock node --test dist/test/integration/install-helm.test.js
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { promisify } from 'node:util';
import { kubeconfigPath, loadTestKubeConfig } from '../cluster/client.js';
import { buildHelm, writeChart } from '../helpers/helm.js';
import { INSTALL_GATEWAY_CLASS, kubectl, OPERATOR_NAME, OPERATOR_NAMESPACE, operatorDiagnostics, uninstallOperator, waitForNamespaceGone } from './install-support.js';
import { eventually } from './operator-support.js';

const execFileAsync = promisify(execFile);
const RELEASE = 'tlsgate';

describe('helm install and uninstall on the cluster in a box', () => {
  const kc = loadTestKubeConfig();
  let helm = '';
  let work = '';
  let chartDir = '';

  async function runHelm(args: string[], timeoutMs = 240_000): Promise<string> {
    try {
      const { stdout } = await execFileAsync(helm, [...args, '--kubeconfig', kubeconfigPath], { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 32 * 1024 * 1024 });
      return stdout;
    } catch (error) {
      const e = error as Error & { stderr?: string };
      throw new Error(`helm ${args.join(' ')} failed: ${e.stderr?.trim() || e.message}\n${operatorDiagnostics()}`);
    }
  }

  before(async () => {
    helm = buildHelm();
    ({ work, chartDir } = writeChart('tlsgate-helm-it-'));
    // An earlier suite's install may still be terminating.
    await waitForNamespaceGone(kc, OPERATOR_NAMESPACE);
  });
  after(async () => {
    await execFileAsync(helm, ['uninstall', RELEASE, '--namespace', OPERATOR_NAMESPACE, '--ignore-not-found', '--kubeconfig', kubeconfigPath]).catch(() => undefined);
    // The namespace (Helm's --create-namespace never deletes it), and whatever a failed test left.
    await uninstallOperator(kc);
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('helm install brings up the operator, which accepts the GatewayClass; helm uninstall leaves none of it', { timeout: 420_000 }, async () => {
    await runHelm(['install', RELEASE, chartDir, '--namespace', OPERATOR_NAMESPACE, '--create-namespace', '--skip-crds', '--take-ownership', '--set', 'replicas=1', '--set', 'admissionPolicy.install=false', '--wait', '--timeout', '3m']);
    const ready = (await kubectl(['-n', OPERATOR_NAMESPACE, 'get', 'deployment', OPERATOR_NAME, '-o', 'jsonpath={.status.readyReplicas}'])).trim();
    assert.equal(ready, '1', 'operator not ready after helm install --wait');
    await eventually(`GatewayClass ${INSTALL_GATEWAY_CLASS} Accepted=True`, async () => {
      const status = await kubectl(['get', 'gatewayclass', INSTALL_GATEWAY_CLASS, '-o', 'jsonpath={.status.conditions[?(@.type=="Accepted")].status}']);
      return status.trim() === 'True';
    }, 120_000).catch((error: Error) => assert.fail(`${error.message}\n${operatorDiagnostics()}`));

    await runHelm(['uninstall', RELEASE, '--namespace', OPERATOR_NAMESPACE, '--wait', '--timeout', '2m']);
    const left = (
      await Promise.all([
        kubectl(['-n', OPERATOR_NAMESPACE, 'get', 'deployments,services,serviceaccounts,roles,rolebindings', '-l', 'app.kubernetes.io/part-of=tlsgate', '-o', 'name']),
        kubectl(['get', 'clusterrole,clusterrolebinding', OPERATOR_NAME, '--ignore-not-found', '-o', 'name']),
        kubectl(['get', 'gatewayclass', INSTALL_GATEWAY_CLASS, '--ignore-not-found', '-o', 'name']),
      ])
    ).join('').trim();
    assert.equal(left, '', `helm uninstall left objects of the release behind:\n${left}`);
    const crd = (await kubectl(['get', 'crd', 'gatewayparameters.tlsgate.dev', '--ignore-not-found', '-o', 'name'])).trim();
    assert.equal(crd, 'customresourcedefinition.apiextensions.k8s.io/gatewayparameters.tlsgate.dev', 'helm uninstall deleted the GatewayParameters CRD');
  });
});
