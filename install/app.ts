/**
 * The install as a cdk8s app, the one source of every release artifact: Gateway API CRDs
 * (vendored in crds/), the upstream safe-upgrades ValidatingAdmissionPolicy, our
 * GatewayParameters CRD, the operator's namespace, the operator (2 replicas) with its
 * ServiceAccount and least-privilege RBAC, the config-server Service, and GatewayClass
 * `tlsgate`. install/release.ts splits it into release manifests, install/chart.ts turns it
 * into the Helm chart; `npm run synth:install` writes them all.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { App, Chart, Include, Duration } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { GatewayClass } from '../imports/gwapi-gateway.networking.k8s.io.js';
import { CLUSTER_RULES, NAMESPACE_RULES } from './rbac.js';

export const OPERATOR_NAMESPACE = 'tlsgate-system';
export const OPERATOR_NAME = 'tlsgate-operator';
export const CONFIG_SERVICE = 'tlsgate-config';
export const CONFIG_PORT = 9443;
export const ADMIN_PORT = 8081;
export const CONTROLLER_NAME = 'tlsgate.dev/gateway-controller';
const LEADER_LABEL = 'tlsgate.dev/config-server-leader';
const OPERATOR_UID = 65532;

export interface InstallOptions {
  /** Root of the checkout (crds/ is read from here). */
  root: string;
  image: string;
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  replicas?: number;
  /** The operator's namespace (tlsgate-system unless given). */
  namespace?: string;
  /** The operator's --log-level; its own default when not given. */
  logLevel?: string;
  /** The operator container's resources (DEFAULT_RESOURCES unless given). */
  resources?: Record<string, unknown>;
  /** Operator pod scheduling, copied verbatim into the pod spec when given. */
  nodeSelector?: Record<string, string>;
  tolerations?: Record<string, unknown>[];
  affinity?: Record<string, unknown>;
}

export const DEFAULT_RESOURCES = { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '512Mi' } };

const operatorLabels = { 'app.kubernetes.io/name': OPERATOR_NAME, 'app.kubernetes.io/part-of': 'tlsgate' };

export function buildInstall(options: InstallOptions): App {
  const namespace = options.namespace ?? OPERATOR_NAMESPACE;
  const app = new App();
  const crds = new Chart(app, 'crds', { disableResourceNameHashes: true });
  const crdFiles = readdirSync(path.join(options.root, 'crds'))
    .filter((file) => (file.startsWith('gateway.networking.k8s.io_') || file.startsWith('tlsgate.dev_')) && file.endsWith('.yaml'))
    .sort();
  for (const file of crdFiles) new Include(crds, file.replace(/\.yaml$/, ''), { url: path.join(options.root, 'crds', file) });

  const chart = new Chart(app, 'operator', { namespace, disableResourceNameHashes: true, labels: { 'app.kubernetes.io/part-of': 'tlsgate' } });
  chart.addDependency(crds);
  new kplus.k8s.KubeNamespace(chart, 'namespace', { metadata: { name: namespace, namespace: undefined } });

  const serviceAccount = new kplus.k8s.KubeServiceAccount(chart, 'service-account', { metadata: { name: OPERATOR_NAME } });
  new kplus.k8s.KubeClusterRole(chart, 'cluster-role', { metadata: { name: OPERATOR_NAME }, rules: CLUSTER_RULES });
  new kplus.k8s.KubeClusterRoleBinding(chart, 'cluster-role-binding', {
    metadata: { name: OPERATOR_NAME },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: OPERATOR_NAME },
    subjects: [{ kind: 'ServiceAccount', name: serviceAccount.name, namespace }],
  });
  new kplus.k8s.KubeRole(chart, 'role', { metadata: { name: OPERATOR_NAME }, rules: NAMESPACE_RULES });
  new kplus.k8s.KubeRoleBinding(chart, 'role-binding', {
    metadata: { name: OPERATOR_NAME },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: OPERATOR_NAME },
    subjects: [{ kind: 'ServiceAccount', name: serviceAccount.name, namespace }],
  });

  const deployment = new kplus.Deployment(chart, 'deployment', {
    metadata: { name: OPERATOR_NAME, labels: operatorLabels },
    replicas: options.replicas ?? 2,
    select: false,
    spread: false,
    podMetadata: { labels: operatorLabels },
    serviceAccount: kplus.ServiceAccount.fromServiceAccountName(chart, 'operator-sa', OPERATOR_NAME),
    // The operator talks to the API server: unlike the proxies, it needs its token.
    automountServiceAccountToken: true,
    securityContext: { user: OPERATOR_UID, group: OPERATOR_UID, ensureNonRoot: true },
    containers: [
      {
        name: 'operator',
        image: options.image,
        imagePullPolicy: (options.imagePullPolicy ?? 'IfNotPresent') as kplus.ImagePullPolicy,
        args: [
          'operator',
          '--namespace', namespace,
          '--proxy-image', options.image,
          '--config-server-address', `0.0.0.0:${CONFIG_PORT}`,
          '--config-server-url', `wss://${CONFIG_SERVICE}.${namespace}.svc:${CONFIG_PORT}`,
          '--admin-address', `0.0.0.0:${ADMIN_PORT}`,
          ...(options.logLevel === undefined ? [] : ['--log-level', options.logLevel]),
        ],
        envVariables: {
          POD_NAME: kplus.EnvValue.fromFieldRef(kplus.EnvFieldPaths.POD_NAME),
          POD_NAMESPACE: kplus.EnvValue.fromFieldRef(kplus.EnvFieldPaths.POD_NAMESPACE),
        },
        ports: [
          { number: CONFIG_PORT, name: 'config', protocol: kplus.Protocol.TCP },
          { number: ADMIN_PORT, name: 'admin', protocol: kplus.Protocol.TCP },
        ],
        readiness: kplus.Probe.fromHttpGet('/readyz', { port: ADMIN_PORT, periodSeconds: Duration.seconds(5) }),
        liveness: kplus.Probe.fromHttpGet('/healthz', { port: ADMIN_PORT, periodSeconds: Duration.seconds(10) }),
        resources: {},
        securityContext: {
          user: OPERATOR_UID,
          group: OPERATOR_UID,
          ensureNonRoot: true,
          readOnlyRootFilesystem: true,
          allowPrivilegeEscalation: false,
          privileged: false,
          seccompProfile: { type: kplus.SeccompProfileType.RUNTIME_DEFAULT },
        },
      },
    ],
  });
  deployment.select(kplus.LabelSelector.of({ labels: operatorLabels }));

  const configService = new kplus.Service(chart, 'config-service', {
    metadata: { name: CONFIG_SERVICE },
    type: kplus.ServiceType.CLUSTER_IP,
    ports: [{ name: 'config', port: CONFIG_PORT, targetPort: CONFIG_PORT, protocol: kplus.Protocol.TCP }],
  });
  // Only the leader's pod carries LEADER_LABEL: it alone sees every proxy's ACK or NACK.
  for (const [key, value] of Object.entries({ ...operatorLabels, [LEADER_LABEL]: 'true' })) configService.selectLabel(key, value);

  new GatewayClass(chart, 'gateway-class', {
    metadata: { name: 'tlsgate', namespace: undefined },
    // The CRD limits description to 64 bytes: a longer one fails the install's apply.
    spec: { controllerName: CONTROLLER_NAME, description: 'tlsgate: TLSRoute (Passthrough, Terminate, Mixed) and HTTPRoute' },
  });
  return app;
}

/** The synthesized objects, post-processed where cdk8s-plus emits defaults we do not want. */
export function installObjects(options: InstallOptions): Record<string, any>[] {
  const app = buildInstall(options);
  const objects = app.charts.flatMap((chart) => chart.toJson()) as Record<string, any>[];
  for (const object of objects) {
    if (object.kind === 'Deployment' && object.metadata?.name === OPERATOR_NAME) {
      const container = object.spec.template.spec.containers[0];
      container.resources = options.resources ?? DEFAULT_RESOURCES;
      container.securityContext.capabilities = { drop: ['ALL'] };
      const pod = object.spec.template.spec;
      pod.securityContext.seccompProfile = { type: 'RuntimeDefault' };
      if (options.nodeSelector !== undefined) pod.nodeSelector = options.nodeSelector;
      if (options.tolerations !== undefined) pod.tolerations = options.tolerations;
      if (options.affinity !== undefined) pod.affinity = options.affinity;
    }
    if (object.kind === 'Service') delete object.spec.externalIPs;
    // Cluster-scoped objects must not carry the chart's namespace.
    if (['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'GatewayClass', 'CustomResourceDefinition', 'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding'].includes(object.kind)) {
      delete object.metadata.namespace;
    }
  }
  return objects;
}
