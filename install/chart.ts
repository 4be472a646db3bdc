/**
 * The Helm chart, generated from the same install app as the plain manifests so the two cannot
 * drift: the install is synthesized once with sentinel values, serialized, and each sentinel
 * becomes the Helm expression of its value. A test renders the chart with `helm template` and
 * compares it, object by object, with installObjects() given the same values.
 *
 * Layout: crds/ holds the Gateway API CRDs (Helm installs them before the templates on the
 * first install, skips those already present, and never upgrades or deletes them:
 * `--skip-crds` leaves them out); templates/ holds the rest, our GatewayParameters CRD
 * included (upgraded with the operator), the CRD guard, and the optional admission policy.
 */
import { stringify } from 'yaml';
import { DEFAULT_RESOURCES } from './app.js';
import { BUNDLE_VERSION_ANNOTATION, CHANNEL_ANNOTATION, shippedCrds } from './crd-guard.js';
import { releaseManifests } from './release.js';

export const CHART_NAME = 'tlsgate';
export const DEFAULT_IMAGE_REPOSITORY = 'ghcr.io/tlsgate/tlsgate';

const S = {
  namespace: '__TLSGATE_NAMESPACE__',
  image: '__TLSGATE_IMAGE__',
  pullPolicy: '__TLSGATE_PULL_POLICY__',
  replicas: '__TLSGATE_REPLICAS__',
  logLevel: '__TLSGATE_LOG_LEVEL__',
  resources: '__TLSGATE_RESOURCES__',
  nodeSelector: '__TLSGATE_NODE_SELECTOR__',
  tolerations: '__TLSGATE_TOLERATIONS__',
  affinity: '__TLSGATE_AFFINITY__',
} as const;

/** Scalar sentinels: the Helm expression, quoted when the sentinel is the whole scalar. */
const SCALARS: { token: string; expr: string; quoteWhole: boolean }[] = [
  { token: S.namespace, expr: 'include "tlsgate.namespace" .', quoteWhole: true },
  { token: S.image, expr: 'include "tlsgate.image" .', quoteWhole: true },
  { token: S.pullPolicy, expr: '.Values.image.pullPolicy', quoteWhole: true },
  { token: S.replicas, expr: '.Values.replicas', quoteWhole: false },
];

/** Block sentinels: `key: SENTINEL` becomes the value's YAML, or nothing when `omitEmpty` and empty. */
const BLOCKS: { token: string; value: string; omitEmpty: boolean }[] = [
  { token: S.resources, value: '.Values.resources', omitEmpty: false },
  { token: S.nodeSelector, value: '.Values.nodeSelector', omitEmpty: true },
  { token: S.tolerations, value: '.Values.tolerations', omitEmpty: true },
  { token: S.affinity, value: '.Values.affinity', omitEmpty: true },
];

export interface ChartOptions {
  root: string;
  /** The chart's version and appVersion (the package version). */
  version: string;
}

/** The chart's files, path (relative to the chart directory) to content. */
export function helmChart(options: ChartOptions): Map<string, string> {
  const parts = releaseManifests({
    root: options.root,
    image: S.image,
    imagePullPolicy: S.pullPolicy as 'IfNotPresent',
    namespace: S.namespace,
    logLevel: S.logLevel,
    resources: S.resources as unknown as Record<string, unknown>,
    nodeSelector: S.nodeSelector as unknown as Record<string, string>,
    tolerations: S.tolerations as unknown as Record<string, unknown>[],
    affinity: S.affinity as unknown as Record<string, unknown>,
  });
  for (const object of parts.install) if (object.kind === 'Deployment') object.spec.replicas = S.replicas;
  // Helm's `--namespace … --create-namespace` owns the namespace; a Namespace object in the
  // chart would collide with it.
  const install = parts.install.filter((object) => object.kind !== 'Namespace');
  keepOnUninstall(install);

  const { names, bundleVersion, channel } = shippedCrds(parts.crds);

  const files = new Map<string, string>();
  files.set('Chart.yaml', stringify({
    apiVersion: 'v2',
    name: CHART_NAME,
    description: 'tlsgate: Gateway API TLSRoute (Passthrough, Terminate, Mixed) and HTTPRoute',
    type: 'application',
    version: options.version,
    appVersion: options.version,
    // ValidatingAdmissionPolicy is GA (admissionregistration.k8s.io/v1) from 1.30.
    kubeVersion: '>=1.30.0-0',
  }));
  files.set('values.yaml', valuesYaml());
  files.set('templates/_helpers.tpl', HELPERS);
  files.set('templates/crd-guard.yaml', crdGuard(names, bundleVersion, channel));
  files.set('templates/install.yaml', toTemplate(install));
  files.set('templates/admission-policy.yaml', `{{- if .Values.admissionPolicy.install }}\n${toTemplate(parts.admissionPolicy)}{{- end }}\n`);
  files.set(`crds/gateway-api-${bundleVersion}-${channel}.yaml`, parts.crds.map((crd) => stringify(crd, { lineWidth: 0 })).join('---\n'));
  return files;
}

/**
 * `helm uninstall` keeps our GatewayParameters CRD: deleting a CRD deletes every
 * GatewayParameters object users wrote, which an uninstall must leave alone.
 */
export function keepOnUninstall(objects: Record<string, any>[]): void {
  for (const object of objects) {
    if (object.kind !== 'CustomResourceDefinition') continue;
    object.metadata.annotations = { ...object.metadata.annotations, 'helm.sh/resource-policy': 'keep' };
  }
}

function toTemplate(objects: Record<string, any>[]): string {
  let text = objects.map((object) => stringify(object, { lineWidth: 0 })).join('---\n');
  text = text.replace(new RegExp(`^( *)- --log-level\\n *- ${S.logLevel}$`, 'm'), (_all, indent: string) =>
    `{{- with .Values.logLevel }}\n${indent}- --log-level\n${indent}- {{ . | quote }}\n{{- end }}`);
  for (const block of BLOCKS) {
    text = text.replace(new RegExp(`^( *)([\\w-]+): ${block.token}$`, 'gm'), (_all, indent: string, key: string) => {
      const body = `${indent}${key}:\n{{- toYaml ${block.omitEmpty ? '.' : block.value} | nindent ${indent.length + 2} }}`;
      return block.omitEmpty ? `{{- with ${block.value} }}\n${body}\n{{- end }}` : body;
    });
  }
  for (const scalar of SCALARS) {
    if (scalar.quoteWhole) text = text.replace(new RegExp(`^( *(?:- |[\\w.-]+: ))${scalar.token}$`, 'gm'), `$1{{ ${scalar.expr} | quote }}`);
    text = text.replaceAll(scalar.token, `{{ ${scalar.expr} }}`);
  }
  const left = Object.values(S).filter((token) => text.includes(token));
  if (left.length > 0) throw new Error(`chart: sentinels ${left.join(', ')} were not turned into Helm expressions`);
  return text;
}

const HELPERS = `{{/* The operator's namespace: values.namespace, else the release's. */}}
{{- define "tlsgate.namespace" -}}
{{- .Values.namespace | default .Release.Namespace -}}
{{- end -}}

{{/* The operator's and the proxies' image: repository:tag, the tag defaulting to appVersion. */}}
{{- define "tlsgate.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}
`;

/**
 * Refuses, before anything of the release is applied, to run over Gateway API CRDs of
 * another channel or a newer bundle version than the chart's: the chart never replaces them
 * (Helm's crds/ never does), and the operator is built against the chart's. `lookup` sees
 * nothing under `helm template` (no cluster), so only a real install or a server dry-run checks.
 */
function crdGuard(names: string[], bundleVersion: string, channel: string): string {
  return `{{- /* Generated by install/chart.ts: the Gateway API CRDs the chart ships (${bundleVersion}, ${channel}). */ -}}
{{- if .Values.crds.guard }}
{{- $shipped := "${bundleVersion}" }}
{{- range $name := list ${names.map((name) => JSON.stringify(name)).join(' ')} }}
{{- $crd := lookup "apiextensions.k8s.io/v1" "CustomResourceDefinition" "" $name }}
{{- if $crd }}
{{- $annotations := $crd.metadata.annotations | default dict }}
{{- $channel := get $annotations "${CHANNEL_ANNOTATION}" }}
{{- $version := get $annotations "${BUNDLE_VERSION_ANNOTATION}" }}
{{- if ne $channel "${channel}" }}
{{- fail (printf "CRD %s in the cluster is Gateway API channel %q (bundle-version %q), not ${channel}: tlsgate %s never replaces it. Keep it and install with --skip-crds --set crds.guard=false (tlsgate runs on what it finds), or remove those CRDs first (deleting a CRD deletes every object of its kind)." $name $channel $version $shipped) }}
{{- end }}
{{- if not (regexMatch "^v[0-9]+\\\\.[0-9]+\\\\.[0-9]+" $version) }}
{{- fail (printf "CRD %s in the cluster has no Gateway API bundle-version annotation (found %q): tlsgate will not install over CRDs of unknown origin. Install with --skip-crds --set crds.guard=false to keep them." $name $version) }}
{{- end }}
{{- if gt ((semver $version).Compare (semver $shipped)) 0 }}
{{- fail (printf "CRD %s in the cluster is Gateway API %s, newer than this chart's %s: tlsgate never downgrades CRDs. Keep them and install with --skip-crds --set crds.guard=false, or use a tlsgate release built for %s." $name $version $shipped $version) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
`;
}

function valuesYaml(): string {
  return `# Values of the tlsgate chart. Generated by install/chart.ts from the install app; the
# defaults render exactly dist/release/install.yaml (without its Namespace: use
# \`helm install --namespace tlsgate-system --create-namespace\`).

# The operator's namespace; empty means the release's namespace.
namespace: ""

image:
  repository: ${DEFAULT_IMAGE_REPOSITORY}
  # Empty means the chart's appVersion.
  tag: ""
  pullPolicy: IfNotPresent

# Operator replicas: one leads (Lease), the others stand by.
replicas: 2

resources:
${stringify(DEFAULT_RESOURCES).trimEnd().replace(/^/gm, '  ')}

# The operator's --log-level (debug, info, warn, error); empty means its default.
logLevel: ""

# Scheduling of the operator's pods (copied into the pod spec).
nodeSelector: {}
tolerations: []
affinity: {}

crds:
  # Fail the install when the cluster already has Gateway API CRDs of another channel or a
  # newer bundle version (the chart never replaces them). Installing the chart's CRDs at all
  # is Helm's: they are in crds/, left out with \`helm install --skip-crds\`.
  guard: true

admissionPolicy:
  # The upstream safe-upgrades ValidatingAdmissionPolicy (cluster-wide): it refuses to
  # replace standard Gateway API CRDs with experimental ones or an older bundle version.
  install: true
`;
}
