// The plain-manifest CRD guard (npm run install:check): which CRDs already in a cluster
// crds.yaml must not replace. The cluster's CRD list is given as data here; the same rules
// against a real API server are in test/integration/install-chart.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareBundleVersions, crdConflicts, shippedCrds, type ShippedCrds } from '../../install/crd-guard.js';
import { releaseManifests } from '../../install/release.js';
import { projectRoot } from '../helpers/paths.js';

const shipped: ShippedCrds = { names: ['tlsroutes.gateway.networking.k8s.io', 'gateways.gateway.networking.k8s.io'], bundleVersion: 'v1.6.1', channel: 'standard' };
const crd = (name: string, channel?: string, version?: string) => ({
  name,
  annotations: {
    ...(channel === undefined ? {} : { 'gateway.networking.k8s.io/channel': channel }),
    ...(version === undefined ? {} : { 'gateway.networking.k8s.io/bundle-version': version }),
  },
});

test('bundle versions compare as semver, a prerelease before its release', () => {
  assert.ok(compareBundleVersions('v1.7.0', 'v1.6.1') > 0);
  assert.ok(compareBundleVersions('v1.6.1', 'v1.10.0') < 0);
  assert.equal(compareBundleVersions('v1.6.1', 'v1.6.1'), 0);
  assert.ok(compareBundleVersions('v1.7.0-rc.1', 'v1.6.1') > 0);
  assert.ok(compareBundleVersions('v1.6.1-rc.1', 'v1.6.1') < 0);
  assert.throws(() => compareBundleVersions('1.6', 'v1.6.1'), /not a bundle version: 1\.6/);
});

test('the same or an older standard bundle, and CRDs of other groups, are no conflict', () => {
  assert.deepEqual(crdConflicts([crd('tlsroutes.gateway.networking.k8s.io', 'standard', 'v1.6.1'), crd('gateways.gateway.networking.k8s.io', 'standard', 'v1.5.0'), crd('certificates.cert-manager.io')], shipped), []);
});

test('experimental, unannotated and newer CRDs are refused, each named with what to do', () => {
  const problems = crdConflicts(
    [crd('tlsroutes.gateway.networking.k8s.io', 'experimental', 'v1.6.1'), crd('gateways.gateway.networking.k8s.io', 'standard', 'v1.7.0-rc.1')],
    shipped,
  );
  assert.equal(problems.length, 2);
  assert.match(problems[0]!, /^CRD tlsroutes\.gateway\.networking\.k8s\.io in the cluster is Gateway API channel "experimental" \(bundle-version "v1\.6\.1"\), not standard: .*apply install\.yaml only/);
  assert.match(problems[1]!, /^CRD gateways\.gateway\.networking\.k8s\.io in the cluster is Gateway API v1\.7\.0-rc\.1, newer than this release's v1\.6\.1/);
  const unknown = crdConflicts([crd('gateways.gateway.networking.k8s.io', 'standard')], shipped);
  assert.match(unknown[0]!, /has no Gateway API bundle-version annotation \(found ""\)/);
});

test('what the release ships: one bundle and channel, every Gateway API CRD in crds.yaml', () => {
  const crds = releaseManifests({ root: projectRoot, image: 'unused' }).crds;
  const summary = shippedCrds(crds);
  assert.equal(summary.bundleVersion, 'v1.6.1');
  assert.equal(summary.channel, 'standard');
  assert.ok(summary.names.includes('tlsroutes.gateway.networking.k8s.io'));
  const mixed = structuredClone(crds);
  mixed[0].metadata.annotations['gateway.networking.k8s.io/channel'] = 'experimental';
  assert.throws(() => shippedCrds(mixed), /must be one bundle version and channel, found .*v1\.6\.1\/experimental/);
});
