// The Helm chart against the cluster in a box: the API server accepts every rendered object
// (server-side dry-run), and the chart's CRD guard, which reads the Gateway API CRDs already
// in the cluster with `lookup`, refuses experimental-channel or newer CRDs with a message that
// says what it found and what to do; `npm run install:check`, the same rules for plain
// manifests, agrees. Nothing is installed: `helm template --dry-run=server`
// renders with lookups against the cluster and applies nothing (`helm install --dry-run=server`
// would also refuse the GatewayParameters CRD that cluster:up applied without Helm's ownership
// labels: Helm's own rule, not the guard's).
//
// To make "an experimental CRD present" without replacing the cluster's CRDs (other tests use
// them), the test only rewrites the channel or bundle-version annotation of one CRD and
// restores it after. The cluster's safe-upgrades policy forbids standard -> experimental, so
// its binding is lifted for that one patch and put back at once.
//
//   npm run build && flock /tmp/tlsgate-cluster.lock node --test dist/test/integration/install-chart.test.js
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { kubeconfigPath } from '../cluster/client.js';
import { buildHelm, writeChart } from '../helpers/helm.js';
import { fromRoot } from '../helpers/paths.js';
import { kubectl } from './install-support.js';
import { eventually } from './operator-support.js';

const execFileAsync = promisify(execFile);
const CHANNEL = 'gateway.networking.k8s.io/channel';
const BUNDLE = 'gateway.networking.k8s.io/bundle-version';
const POLICY_BINDING = 'safe-upgrades.gateway.networking.k8s.io';
// The namespace exists in every cluster; a dry run creates nothing in it.
const RELEASE_NAMESPACE = 'default';

interface HelmResult {
  ok: boolean;
  stdout: string;
  stderr: string;
}

describe('helm chart on the cluster in a box', () => {
  let helm = '';
  let work = '';
  let chartDir = '';

  before(() => {
    helm = buildHelm();
    ({ work, chartDir } = writeChart('tlsgate-chart-it-'));
  });
  after(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  async function helmDryRun(extra: string[] = []): Promise<HelmResult> {
    try {
      const { stdout, stderr } = await execFileAsync(
        helm,
        ['template', 'tlsgate-dry-run', chartDir, '--namespace', RELEASE_NAMESPACE, '--kubeconfig', kubeconfigPath, '--dry-run=server', '--skip-crds', ...extra],
        { encoding: 'utf8', timeout: 120_000, maxBuffer: 32 * 1024 * 1024 },
      );
      return { ok: true, stdout, stderr };
    } catch (error) {
      const e = error as Error & { stdout?: string; stderr?: string };
      return { ok: false, stdout: e.stdout ?? '', stderr: e.stderr ?? e.message };
    }
  }

  /** `npm run install:check`, the plain-manifest pre-flight, against the test cluster. */
  async function installCheck(): Promise<HelmResult> {
    try {
      const { stdout, stderr } = await execFileAsync(process.execPath, [fromRoot('dist', 'install', 'check.js'), '--kubeconfig', kubeconfigPath], { encoding: 'utf8', timeout: 120_000 });
      return { ok: true, stdout, stderr };
    } catch (error) {
      const e = error as Error & { stdout?: string; stderr?: string };
      return { ok: false, stdout: e.stdout ?? '', stderr: e.stderr ?? e.message };
    }
  }

  async function annotate(crd: string, annotation: string, value: string): Promise<void> {
    await kubectl(['annotate', 'crd', crd, '--overwrite', `${annotation}=${value}`]);
  }

  test('the API server accepts every object the chart renders, CRDs included (server-side dry-run)', async () => {
    const rendered = execFileSync(helm, ['template', 'tlsgate', chartDir, '--namespace', RELEASE_NAMESPACE, '--include-crds'], { encoding: 'utf8', maxBuffer: 32 * 1024 * 1024 });
    const file = path.join(work, 'rendered.yaml');
    writeFileSync(file, rendered);
    const out = await kubectl(['apply', '--server-side', '--dry-run=server', '--force-conflicts', '--field-manager', 'tlsgate-chart-test', '-f', file], 120_000);
    for (const expected of ['customresourcedefinition.apiextensions.k8s.io/tlsroutes.gateway.networking.k8s.io', 'deployment.apps/tlsgate-operator', 'gatewayclass.gateway.networking.k8s.io/tlsgate', 'validatingadmissionpolicy.admissionregistration.k8s.io/safe-upgrades.gateway.networking.k8s.io']) {
      assert.match(out, new RegExp(`${expected.replaceAll('.', '\\.')} serverside-applied \\(server dry run\\)`), `not accepted: ${expected}\n${out}`);
    }
  });

  test("the guard passes over the cluster's own v1.6.1 standard CRDs", async () => {
    const result = await helmDryRun();
    assert.ok(result.ok, `helm template --dry-run=server failed: ${result.stderr}`);
    assert.match(result.stdout, /kind: GatewayClass/);
    const check = await installCheck();
    assert.ok(check.ok, `install:check refused: ${check.stderr}`);
    assert.match(check.stdout, /install:check: ok: 6 of the 6 Gateway API CRDs present/);
  });

  test('the guard refuses a newer bundle version and says what it found and what to do', { timeout: 240_000 }, async () => {
    const crd = 'referencegrants.gateway.networking.k8s.io';
    await annotate(crd, BUNDLE, 'v1.7.0');
    try {
      const refused = await helmDryRun();
      assert.equal(refused.ok, false, 'the chart installed over a newer CRD');
      assert.match(refused.stderr, /CRD referencegrants\.gateway\.networking\.k8s\.io in the cluster is Gateway API v1\.7\.0, newer than this chart's v1\.6\.1/);
      assert.match(refused.stderr, /--skip-crds --set crds\.guard=false/);
      const accepted = await helmDryRun(['--set', 'crds.guard=false']);
      assert.ok(accepted.ok, `crds.guard=false still refused: ${accepted.stderr}`);
    } finally {
      await annotate(crd, BUNDLE, 'v1.6.1');
    }
  });

  test('the guard refuses experimental-channel CRDs', { timeout: 240_000 }, async () => {
    const crd = 'tlsroutes.gateway.networking.k8s.io';
    const binding = await kubectl(['get', 'validatingadmissionpolicybinding', POLICY_BINDING, '--ignore-not-found', '-o', 'name']);
    if (binding.trim()) await kubectl(['delete', 'validatingadmissionpolicybinding', POLICY_BINDING, '--wait=true']);
    try {
      // The policy's informer may still hold the binding for a moment.
      await eventually('the channel annotation set to experimental', async () => {
        await annotate(crd, CHANNEL, 'experimental');
        return true;
      }, 60_000);
    } finally {
      if (binding.trim()) await kubectl(['apply', '--server-side', '--force-conflicts', '-f', fromRoot('crds', 'gateway.networking.k8s.io_vap_safeupgrades.yaml')]);
    }
    try {
      const refused = await helmDryRun();
      assert.equal(refused.ok, false, 'the chart installed over an experimental CRD');
      assert.match(refused.stderr, /CRD tlsroutes\.gateway\.networking\.k8s\.io in the cluster is Gateway API channel "experimental" \(bundle-version "v1\.6\.1"\), not standard/);
      assert.match(refused.stderr, /--skip-crds --set crds\.guard=false/);
      const check = await installCheck();
      assert.equal(check.ok, false, 'install:check let crds.yaml replace an experimental CRD');
      assert.match(check.stderr, /CRD tlsroutes\.gateway\.networking\.k8s\.io in the cluster is Gateway API channel "experimental".*apply install\.yaml only/);
    } finally {
      // experimental -> standard is what the policy allows.
      await annotate(crd, CHANNEL, 'standard');
    }
    const channel = (await kubectl(['get', 'crd', crd, '-o', `jsonpath={.metadata.annotations.gateway\\.networking\\.k8s\\.io/channel}`])).trim();
    assert.equal(channel, 'standard', 'the CRD was not restored');
  });
});
