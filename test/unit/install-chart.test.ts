// The release artifacts cut from the one install app: the plain manifests split without loss,
// and the Helm chart (built with helm from install/build-helm.sh), which `helm lint` accepts and
// `helm template` renders into exactly what installObjects() makes from the same values.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { installObjects, OPERATOR_NAMESPACE, type InstallOptions } from '../../install/app.js';
import { keepOnUninstall } from '../../install/chart.js';
import { buildHelm, writeChart } from '../helpers/helm.js';
import { releaseManifests } from '../../install/release.js';
import { projectRoot } from '../helpers/paths.js';

type K8sObject = Record<string, any>;

const key = (o: K8sObject): string => `${o.kind}/${o.metadata?.namespace ?? ''}/${o.metadata?.name}`;
const byKey = (objects: K8sObject[]): Map<string, K8sObject> => new Map(objects.map((o) => [key(o), o]));
const parseYaml = (text: string): K8sObject[] => parseAllDocuments(text).map((d) => d.toJS() as K8sObject).filter((o) => o !== null && o !== undefined);

function assertSameObjects(actual: K8sObject[], expected: K8sObject[], what: string): void {
  const a = byKey(actual);
  const e = byKey(expected);
  assert.deepEqual([...a.keys()].sort(), [...e.keys()].sort(), `${what}: which objects`);
  for (const [k, object] of e) assert.deepEqual(a.get(k), object, `${what}: ${k}`);
}

describe('release manifests', () => {
  const options: InstallOptions = { root: projectRoot, image: 'ghcr.io/tlsgate/tlsgate:0.1.0' };

  test('crds, install and admissionPolicy together are the whole install, each object once', () => {
    const parts = releaseManifests(options);
    assertSameObjects([...parts.crds, ...parts.install, ...parts.admissionPolicy], installObjects(options), 'union of the parts');
  });

  test('crds.yaml holds only Gateway API CRDs; our GatewayParameters CRD ships with the operator', () => {
    const parts = releaseManifests(options);
    assert.ok(parts.crds.length >= 6, `expected the Gateway API CRDs, got ${parts.crds.length}`);
    for (const crd of parts.crds) {
      assert.equal(crd.kind, 'CustomResourceDefinition');
      assert.equal(crd.spec.group, 'gateway.networking.k8s.io');
      assert.equal(crd.metadata.annotations['gateway.networking.k8s.io/channel'], 'standard');
    }
    assert.ok(parts.install.some((o) => o.kind === 'CustomResourceDefinition' && o.spec.group === 'tlsgate.dev'));
    assert.ok(!parts.install.some((o) => o.kind === 'CustomResourceDefinition' && o.spec.group === 'gateway.networking.k8s.io'));
    assert.deepEqual(parts.admissionPolicy.map((o) => o.kind).sort(), ['ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding']);
  });

  test('the namespace option moves every namespaced object, the bindings and the config URL', () => {
    const objects = installObjects({ ...options, namespace: 'edge-system' });
    const text = JSON.stringify(objects);
    assert.doesNotMatch(text, new RegExp(OPERATOR_NAMESPACE));
    assert.ok(objects.some((o) => o.kind === 'Namespace' && o.metadata.name === 'edge-system'));
    const deployment = objects.find((o) => o.kind === 'Deployment')!;
    assert.ok(deployment.spec.template.spec.containers[0].args.includes('wss://tlsgate-config.edge-system.svc:9443'));
  });
});

describe('helm chart', () => {
  let helm = '';
  let work = '';
  let chartDir = '';

  before(() => {
    helm = buildHelm();
    ({ work, chartDir } = writeChart('tlsgate-chart-'));
  });
  after(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const template = (args: string[]): K8sObject[] =>
    parseYaml(execFileSync(helm, ['template', 'tlsgate', chartDir, '--namespace', OPERATOR_NAMESPACE, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }));
  // What Helm adds and installObjects() does not: nothing but the `# Source:` comments, which parsing drops.

  test('helm lint passes', () => {
    const out = execFileSync(helm, ['lint', chartDir, '--strict'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    assert.match(out, /1 chart\(s\) linted, 0 chart\(s\) failed/);
  });

  test('default values render the install manifest (without its Namespace; its CRD kept on uninstall) and the admission policy', () => {
    const parts = releaseManifests({ root: projectRoot, image: 'ghcr.io/tlsgate/tlsgate:0.1.0' });
    const install = parts.install.filter((o) => o.kind !== 'Namespace');
    keepOnUninstall(install);
    assertSameObjects(template([]), [...install, ...parts.admissionPolicy], 'helm template (defaults)');
    const crd = template([]).find((o) => o.kind === 'CustomResourceDefinition')!;
    assert.equal(crd.metadata.name, 'gatewayparameters.tlsgate.dev');
    assert.equal(crd.metadata.annotations['helm.sh/resource-policy'], 'keep', 'helm uninstall would delete every GatewayParameters');
  });

  test('--include-crds adds exactly crds.yaml', () => {
    const parts = releaseManifests({ root: projectRoot, image: 'ghcr.io/tlsgate/tlsgate:0.1.0' });
    const crds = template(['--include-crds']).filter((o) => o.kind === 'CustomResourceDefinition' && o.spec.group === 'gateway.networking.k8s.io');
    assertSameObjects(crds, parts.crds, 'helm template --include-crds');
  });

  test('every value lands where installObjects() puts it', () => {
    const values = {
      namespace: 'edge-system',
      image: { repository: 'registry.example/tlsgate', tag: '9.9.9', pullPolicy: 'Always' },
      replicas: 3,
      resources: { requests: { cpu: '250m', memory: '256Mi' }, limits: { cpu: '1', memory: '1Gi' } },
      logLevel: 'debug',
      nodeSelector: { 'kubernetes.io/os': 'linux', pool: 'system' },
      tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'system', effect: 'NoSchedule' }],
      affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'pool', operator: 'In', values: ['system'] }] }] } } },
      admissionPolicy: { install: false },
    };
    const valuesFile = path.join(work, 'values.yaml');
    writeFileSync(valuesFile, stringify(values));
    const expected = releaseManifests({
      root: projectRoot,
      image: 'registry.example/tlsgate:9.9.9',
      imagePullPolicy: 'Always',
      namespace: values.namespace,
      replicas: values.replicas,
      resources: values.resources,
      logLevel: values.logLevel,
      nodeSelector: values.nodeSelector,
      tolerations: values.tolerations,
      affinity: values.affinity,
    }).install.filter((o) => o.kind !== 'Namespace');
    keepOnUninstall(expected);
    const rendered = template(['--values', valuesFile]);
    assertSameObjects(rendered, expected, 'helm template (every value set)');
    const deployment = rendered.find((o) => o.kind === 'Deployment')!;
    assert.equal(deployment.spec.replicas, 3);
    assert.deepEqual(deployment.spec.template.spec.containers[0].args.slice(-2), ['--log-level', 'debug']);
    assert.ok(!rendered.some((o) => o.kind === 'ValidatingAdmissionPolicy'), 'admissionPolicy.install=false still rendered the policy');
  });

  test('the release namespace is the default namespace', () => {
    const rendered = parseYaml(execFileSync(helm, ['template', 'tlsgate', chartDir, '--namespace', 'gw-ops'], { encoding: 'utf8' }));
    const namespaced = rendered.filter((o) => o.metadata.namespace !== undefined);
    assert.ok(namespaced.length >= 5);
    for (const o of namespaced) assert.equal(o.metadata.namespace, 'gw-ops', key(o));
  });
});
