// Shared by the operator integration tests: an in-process operator against the cluster in
// a box (alone, or with a suite's whole set-up: operatorSuite), the upstream example applied
// as it is, and small waiting helpers.
import { execFileSync } from 'node:child_process';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { after, before } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { Operator, type OperatorOptions } from '../../operator/operator.js';
import { CLUSTER_RULES, NAMESPACE_RULES } from '../../install/rbac.js';
import { upstreamDir } from '../helpers/paths.js';
import { deleteNamespace, freshNamespace, kubeConfigWithToken, loadTestKubeConfig, podNetwork, waitFor } from '../cluster/client.js';

export { waitFor };

export const GATEWAY_GROUP = 'gateway.networking.k8s.io';

export function uniqueSuffix(): string {
  return randomBytes(3).toString('hex');
}

export interface TestOperatorOptions {
  namespace: string;
  controllerName: string;
  identity?: string;
  leaseName?: string;
  leaseDurationSeconds?: number;
  proxyImage?: string;
  logs?: string[];
  /** The config server's port (default: ephemeral); a restart on the same port keeps the proxies' URL. */
  configServerPort?: number;
  ticketKeyRotationMs?: number;
  portRetry?: OperatorOptions['portRetry'];
}

/**
 * An operator in this process. Its config server listens on the pod bridge address, so that
 * proxy pods started by the node agent can reach it; its certificate names that address.
 */
export function testOperator(kc: k8s.KubeConfig, options: TestOperatorOptions): Operator {
  const logs = options.logs ?? [];
  const port = options.configServerPort ?? 0;
  const operatorOptions: OperatorOptions = {
    kubeConfig: kc,
    namespace: options.namespace,
    identity: options.identity ?? `it-${uniqueSuffix()}`,
    controllerName: options.controllerName,
    proxyImage: options.proxyImage ?? 'tlsgate:dev',
    configServer: { host: podNetwork.gatewayIp, port, advertisedUrl: 'wss://pending', dnsNames: [], ipAddresses: [podNetwork.gatewayIp] },
    lease: { name: options.leaseName ?? 'tlsgate-operator', durationSeconds: options.leaseDurationSeconds ?? 6, renewDeadlineSeconds: 4, retryPeriodSeconds: 1 },
    debounceMs: 50,
    resyncMs: 60_000,
    ...(options.ticketKeyRotationMs ? { ticketKeyRotationMs: options.ticketKeyRotationMs } : {}),
    ...(options.portRetry ? { portRetry: options.portRetry } : {}),
    log: (message) => logs.push(message),
  };
  const operator = new Operator(operatorOptions);
  // The advertised URL needs the ephemeral port, known only once the server listens.
  const start = operator.start.bind(operator);
  operator.start = async () => {
    await start();
    operatorOptions.configServer.advertisedUrl = `wss://${podNetwork.gatewayIp}:${operator.configServerPort}`;
    operator.trigger();
  };
  return operator;
}

export interface OperatorSuite {
  /** Admin access to the cluster in a box. */
  kc: k8s.KubeConfig;
  /** The suite's fresh namespace: the operator's own and its objects'. */
  ns: string;
  className: string;
  controllerName: string;
  /** The operator's log lines. */
  logs: string[];
  /** The operator in this process. A suite that replaces it (a restart) assigns the new one here, so that after() stops that one. */
  operator: Operator;
}

export interface OperatorSuiteOptions {
  /** In the GatewayClass's and the controller's names (`it-<name>-<random>`). */
  name: string;
  /** The namespace's prefix (default `op-<name>`). */
  namespacePrefix?: string;
  /** GatewayParameters (by name: spec) created in the namespace first. */
  gatewayParameters?: Record<string, unknown>;
  /** The one of them that the GatewayClass refers to (class-wide defaults). */
  classParameters?: string;
  /** The suite's own objects, created before the operator starts so that its first reconcile sees them. */
  setup?: (suite: OperatorSuite) => Promise<void>;
  operator?: Omit<TestOperatorOptions, 'namespace' | 'controllerName' | 'logs'>;
}

/**
 * The set-up that the operator suites share, as the calling describe()'s before() and after():
 * a fresh namespace, GatewayParameters in it, a GatewayClass of the suite's own (random names,
 * so runs and leftovers never meet), the suite's `setup`, then an in-process operator for the
 * class; after() stops the operator and deletes the class and the namespace. The returned
 * object is filled in by before(): read its fields in hooks and tests, not at describe time.
 */
export function operatorSuite(options: OperatorSuiteOptions): OperatorSuite {
  const suffix = uniqueSuffix();
  const suite = { className: `it-${options.name}-${suffix}`, controllerName: `tlsgate.dev/it-${options.name}-${suffix}`, logs: [] as string[] } as OperatorSuite;
  before(async () => {
    suite.kc = loadTestKubeConfig();
    suite.ns = await freshNamespace(suite.kc, options.namespacePrefix ?? `op-${options.name}`);
    const custom = suite.kc.makeApiClient(k8s.CustomObjectsApi);
    for (const [name, spec] of Object.entries(options.gatewayParameters ?? {})) {
      await custom.createNamespacedCustomObject({
        group: 'tlsgate.dev', version: 'v1alpha1', plural: 'gatewayparameters', namespace: suite.ns,
        body: { apiVersion: 'tlsgate.dev/v1alpha1', kind: 'GatewayParameters', metadata: { name }, spec },
      });
    }
    const classParameters = options.classParameters && { group: 'tlsgate.dev', kind: 'GatewayParameters', name: options.classParameters, namespace: suite.ns };
    await createGatewayClass(suite.kc, suite.className, suite.controllerName, classParameters);
    await options.setup?.(suite);
    suite.operator = testOperator(suite.kc, { ...options.operator, namespace: suite.ns, controllerName: suite.controllerName, logs: suite.logs });
    await suite.operator.start();
  });
  after(async () => {
    await suite.operator?.stop();
    if (!suite.kc) return;
    await deleteGatewayClass(suite.kc, suite.className);
    if (suite.ns) await deleteNamespace(suite.kc, suite.ns);
  });
  return suite;
}

/** A kubernetes.io/tls Secret with a self-signed certificate for `hostname`; returns the certificate (PEM) for clients to trust. */
export async function createCertificateSecret(kc: k8s.KubeConfig, namespace: string, name: string, hostname: string): Promise<string> {
  const { cert, key } = selfSigned(hostname);
  await kc.makeApiClient(k8s.CoreV1Api).createNamespacedSecret({
    namespace,
    body: { metadata: { name }, type: 'kubernetes.io/tls', data: { 'tls.crt': b64(cert), 'tls.key': b64(key) } },
  });
  return cert;
}

/**
 * A backend that speaks first: the conformance tcp-echo image as Pod and Service `name` on
 * `port`. A client through a Terminate listener sees the proxy's session tickets before its greeting.
 */
export async function createEchoBackend(kc: k8s.KubeConfig, namespace: string, name = 'echo', port = 3000): Promise<void> {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  await core.createNamespacedPod({
    namespace,
    body: {
      metadata: { name, labels: { app: name } },
      spec: { containers: [{ name: 'echo', image: 'tlsgate.test/tcp-echo', env: [{ name: 'TCP_PORT', value: String(port) }], ports: [{ containerPort: port }], readinessProbe: { tcpSocket: { port }, periodSeconds: 1 } }] },
    },
  });
  await core.createNamespacedService({ namespace, body: { metadata: { name }, spec: { selector: { app: name }, ports: [{ port, targetPort: port }] } } });
}

/**
 * Access as the operator has it once installed: exactly the install's RBAC (install/rbac.ts:
 * a ClusterRole `clusterRole` and the namespace Role, bound to ServiceAccount tlsgate-operator
 * of `namespace`) with a TokenRequest token. The ClusterRole and its binding outlive the
 * namespace: deleteOperatorClusterRole in after().
 */
export async function operatorKubeConfig(admin: k8s.KubeConfig, namespace: string, clusterRole: string): Promise<k8s.KubeConfig> {
  const core = admin.makeApiClient(k8s.CoreV1Api);
  const rbac = admin.makeApiClient(k8s.RbacAuthorizationV1Api);
  await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: 'tlsgate-operator' } } });
  const subjects = [{ kind: 'ServiceAccount', name: 'tlsgate-operator', namespace }];
  await rbac.createClusterRole({ body: { metadata: { name: clusterRole }, rules: CLUSTER_RULES } });
  await rbac.createClusterRoleBinding({ body: { metadata: { name: clusterRole }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: clusterRole }, subjects } });
  await rbac.createNamespacedRole({ namespace, body: { metadata: { name: 'tlsgate-operator' }, rules: NAMESPACE_RULES } });
  await rbac.createNamespacedRoleBinding({ namespace, body: { metadata: { name: 'tlsgate-operator' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'tlsgate-operator' }, subjects } });
  const token = await core.createNamespacedServiceAccountToken({ name: 'tlsgate-operator', namespace, body: { spec: { audiences: [], expirationSeconds: 3600 } } });
  return kubeConfigWithToken(admin, token.status!.token!, 'tlsgate-operator');
}

export async function deleteOperatorClusterRole(admin: k8s.KubeConfig, clusterRole: string): Promise<void> {
  const rbac = admin.makeApiClient(k8s.RbacAuthorizationV1Api);
  await rbac.deleteClusterRoleBinding({ name: clusterRole }).catch(() => undefined);
  await rbac.deleteClusterRole({ name: clusterRole }).catch(() => undefined);
}

export async function createGatewayClass(kc: k8s.KubeConfig, name: string, controllerName: string, parametersRef?: unknown): Promise<void> {
  const custom = kc.makeApiClient(k8s.CustomObjectsApi);
  await custom.createClusterCustomObject({
    group: GATEWAY_GROUP,
    version: 'v1',
    plural: 'gatewayclasses',
    body: { apiVersion: `${GATEWAY_GROUP}/v1`, kind: 'GatewayClass', metadata: { name }, spec: { controllerName, ...(parametersRef ? { parametersRef } : {}) } },
  });
}

export async function deleteGatewayClass(kc: k8s.KubeConfig, name: string): Promise<void> {
  const custom = kc.makeApiClient(k8s.CustomObjectsApi);
  await custom.deleteClusterCustomObject({ group: GATEWAY_GROUP, version: 'v1', plural: 'gatewayclasses', name }).catch(() => undefined);
}

const PLURALS: Record<string, string> = { Gateway: 'gateways', TLSRoute: 'tlsroutes', ReferenceGrant: 'referencegrants', GatewayParameters: 'gatewayparameters' };

/** Creates every object of a YAML file in `namespace`, as written (only the namespace is set). */
export async function applyFile(kc: k8s.KubeConfig, file: string, namespace: string, edit: (obj: any) => void = () => undefined): Promise<any[]> {
  const objects = parseAllDocuments(readFileSync(file, 'utf8')).map((d) => d.toJSON()).filter(Boolean);
  for (const object of objects) {
    object.metadata.namespace = namespace;
    edit(object);
    await createObject(kc, object);
  }
  return objects;
}

export async function createObject(kc: k8s.KubeConfig, object: any): Promise<any> {
  const [group, version] = object.apiVersion.includes('/') ? object.apiVersion.split('/') : ['', object.apiVersion];
  if (PLURALS[object.kind] && group) {
    const custom = kc.makeApiClient(k8s.CustomObjectsApi);
    return custom.createNamespacedCustomObject({ group, version, plural: PLURALS[object.kind]!, namespace: object.metadata.namespace, body: object });
  }
  const generic = k8s.KubernetesObjectApi.makeApiClient(kc);
  return generic.create(object);
}

/** The upstream TLS routing example (Gateway, foo and bar routes) plus what it refers to. */
export async function applyUpstreamExample(kc: k8s.KubeConfig, namespace: string, gatewayClassName?: string): Promise<void> {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  await createCertificateSecret(kc, namespace, 'tls-terminate-certificate', 'bar.example.com');
  for (const [name, port] of [['foo-svc', 443], ['bar-svc', 8080]] as const) {
    await core.createNamespacedService({ namespace, body: { metadata: { name }, spec: { selector: { app: name }, ports: [{ port, targetPort: port }] } } });
  }
  for (const file of ['gateway.yaml', 'tls-route.yaml', 'tls-route-terminate.yaml']) {
    await applyFile(kc, path.join(upstreamDir, 'examples', file), namespace, (obj) => {
      if (gatewayClassName && obj.kind === 'Gateway') obj.spec.gatewayClassName = gatewayClassName;
    });
  }
}

const b64 = (text: string) => Buffer.from(text).toString('base64');

/** A self-signed certificate made by the real openssl CLI. */
export function selfSigned(hostname: string): { cert: string; key: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tlsgate-it-'));
  try {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2',
      '-subj', `/CN=${hostname}`, '-addext', `subjectAltName=DNS:${hostname}`,
      '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'),
    ], { stdio: 'ignore' });
    return { cert: readFileSync(path.join(dir, 'cert.pem'), 'utf8'), key: readFileSync(path.join(dir, 'key.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function getCustom(kc: k8s.KubeConfig, plural: string, namespace: string | undefined, name: string): Promise<any> {
  const custom = kc.makeApiClient(k8s.CustomObjectsApi);
  return namespace
    ? custom.getNamespacedCustomObject({ group: GATEWAY_GROUP, version: 'v1', plural, namespace, name })
    : custom.getClusterCustomObject({ group: GATEWAY_GROUP, version: 'v1', plural, name });
}

export function condition(conditions: any[] | undefined, type: string): any {
  return conditions?.find((c) => c.type === type);
}

/** Waits until `check` returns a truthy value, showing the last observation on timeout. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  let last: unknown;
  try {
    return await waitFor(what, timeoutMs, async () => {
      const value = await check().catch((err: unknown) => {
        last = err;
        return undefined;
      });
      if (value) return value as T;
      return undefined;
    });
  } catch (err) {
    throw new Error(`${(err as Error).message}${last ? `; last error: ${String((last as Error).message ?? last)}` : ''}`);
  }
}

/**
 * The Events regarding the object `name` in `namespace`, once `complete` holds for them. The
 * operator records Events after it writes the statuses they describe, so a test that has just
 * seen a status must still wait for its Event. On timeout the reasons last seen are named.
 */
export async function eventsAbout(
  kc: k8s.KubeConfig,
  namespace: string,
  name: string,
  complete: (events: k8s.EventsV1Event[]) => boolean,
  timeoutMs = 30_000,
): Promise<k8s.EventsV1Event[]> {
  const api = kc.makeApiClient(k8s.EventsV1Api);
  let seen: k8s.EventsV1Event[] = [];
  try {
    return await waitFor(`the Events about ${namespace}/${name}`, timeoutMs, async () => {
      seen = (await api.listNamespacedEvent({ namespace })).items.filter((e) => e.regarding?.name === name);
      return complete(seen) ? seen : undefined;
    });
  } catch (err) {
    throw new Error(`${(err as Error).message}; reasons seen: ${JSON.stringify(seen.map((e) => e.reason))}`);
  }
}

/** Waits until the Service has a ready endpoint in an EndpointSlice, so that a proxy has somewhere to send traffic. */
export async function waitForReadyEndpoints(kc: k8s.KubeConfig, namespace: string, service: string): Promise<void> {
  const discovery = kc.makeApiClient(k8s.DiscoveryV1Api);
  await eventually(`a ready endpoint of Service ${namespace}/${service}`, async () => {
    const slices = await discovery.listNamespacedEndpointSlice({ namespace, labelSelector: `kubernetes.io/service-name=${service}` });
    return slices.items.some((s) => (s.endpoints ?? []).some((e) => e.conditions?.ready !== false));
  }, 90_000);
}
