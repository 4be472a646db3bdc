// Shared by the operator integration tests: an in-process operator against the cluster in
// a box, the upstream example applied as it is, and small waiting helpers.
import { execFileSync } from 'node:child_process';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { Operator, type OperatorOptions } from '../../operator/operator.js';
import { upstreamDir } from '../helpers/paths.js';
import { podNetwork, waitFor } from '../cluster/client.js';

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
  const { cert, key } = selfSigned('bar.example.com');
  await core.createNamespacedSecret({
    namespace,
    body: { metadata: { name: 'tls-terminate-certificate' }, type: 'kubernetes.io/tls', data: { 'tls.crt': b64(cert), 'tls.key': b64(key) } },
  });
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
