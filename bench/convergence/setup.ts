/**
 * What the convergence benchmark measures against: in a fresh namespace, two echo backends
 * (real pods of test/images/tcp-echo.ts, each answering with its own Service name, plain TCP
 * on 3000 and TLS on 8443 with its own certificate), and one Gateway of the installed class
 * with a Passthrough listener (443) and a Terminate listener (8443), both for *.bench.test.
 */
import * as k8s from '@kubernetes/client-node';
import { issueCertificate, type IssuedCertificate } from '../../examples/demo/pki.js';

export const GROUP = 'gateway.networking.k8s.io';
export const GATEWAY_NAME = 'bench';
export const DOMAIN = 'bench.test';
export const BACKENDS = ['echo-a', 'echo-b'] as const;
export type BackendName = (typeof BACKENDS)[number];

export type ListenerMode = 'Passthrough' | 'Terminate';

export interface ListenerSpec {
  name: string;
  port: number;
  mode: ListenerMode;
  /** The backend port a route on this listener targets: TLS for Passthrough, plain for Terminate. */
  backendPort: number;
}

export const LISTENERS: Record<ListenerMode, ListenerSpec> = {
  Passthrough: { name: 'passthrough', port: 443, mode: 'Passthrough', backendPort: 8443 },
  Terminate: { name: 'terminate', port: 8443, mode: 'Terminate', backendPort: 3000 },
};

const ECHO_IMAGE = 'tlsgate.test/tcp-echo';
const GATEWAY_CERT_SECRET = 'bench-gateway-cert';
const BACKEND_CERT_SECRET = 'bench-backend-cert';

export interface BenchPki {
  ca: IssuedCertificate;
  gateway: IssuedCertificate;
  backend: IssuedCertificate;
}

export function issueBenchPki(): BenchPki {
  const ca = issueCertificate({ commonName: 'tlsgate convergence bench CA', organization: 'tlsgate bench', dnsNames: [], isCA: true, validDays: 2 });
  const leaf = (commonName: string): IssuedCertificate =>
    issueCertificate({ commonName, organization: 'tlsgate bench', dnsNames: [`*.${DOMAIN}`], isCA: false, validDays: 2, issuer: ca });
  return { ca, gateway: leaf('bench gateway'), backend: leaf('bench backend') };
}

const b64 = (text: string): string => Buffer.from(text).toString('base64');

function tlsSecret(name: string, cert: IssuedCertificate): k8s.V1Secret {
  return {
    metadata: { name },
    type: 'kubernetes.io/tls',
    data: { 'tls.crt': b64(cert.certificatePem), 'tls.key': b64(cert.privateKeyPem) },
  };
}

function echoDeployment(name: BackendName): k8s.V1Deployment {
  const labels = { app: name };
  const fieldRef = (fieldPath: string): k8s.V1EnvVarSource => ({ fieldRef: { fieldPath } });
  return {
    metadata: { name, labels },
    spec: {
      replicas: 1,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          containers: [
            {
              name: 'echo',
              image: ECHO_IMAGE,
              env: [
                { name: 'TCP_PORT', value: '3000' },
                { name: 'TLS_PORT', value: '8443' },
                { name: 'TLS_SERVER_CERT', value: '/etc/echo-tls/tls.crt' },
                { name: 'TLS_SERVER_PRIV_KEY', value: '/etc/echo-tls/tls.key' },
                // The echo names its Service in every answer: that is how a probe knows where it landed.
                { name: 'SERVICE_NAME', value: name },
                { name: 'POD_NAME', valueFrom: fieldRef('metadata.name') },
                { name: 'NAMESPACE', valueFrom: fieldRef('metadata.namespace') },
              ],
              ports: [{ containerPort: 3000, name: 'tcp' }, { containerPort: 8443, name: 'tls' }],
              readinessProbe: { tcpSocket: { port: 3000 }, periodSeconds: 1 },
              volumeMounts: [{ name: 'tls', mountPath: '/etc/echo-tls', readOnly: true }],
            },
          ],
          volumes: [{ name: 'tls', secret: { secretName: BACKEND_CERT_SECRET } }],
        },
      },
    },
  };
}

function echoService(name: BackendName): k8s.V1Service {
  return {
    metadata: { name },
    spec: {
      selector: { app: name },
      ports: [
        { name: 'tcp', port: 3000, targetPort: 3000 },
        { name: 'tls', port: 8443, targetPort: 8443 },
      ],
    },
  };
}

function gateway(gatewayClassName: string): Record<string, unknown> {
  return {
    apiVersion: `${GROUP}/v1`,
    kind: 'Gateway',
    metadata: { name: GATEWAY_NAME },
    spec: {
      gatewayClassName,
      listeners: [
        { name: LISTENERS.Passthrough.name, port: LISTENERS.Passthrough.port, protocol: 'TLS', hostname: `*.${DOMAIN}`, tls: { mode: 'Passthrough' } },
        {
          name: LISTENERS.Terminate.name,
          port: LISTENERS.Terminate.port,
          protocol: 'TLS',
          hostname: `*.${DOMAIN}`,
          tls: { mode: 'Terminate', certificateRefs: [{ kind: 'Secret', name: GATEWAY_CERT_SECRET }] },
        },
      ],
    },
  };
}

export interface RouteSpec {
  name: string;
  hostname: string;
  listener: ListenerSpec;
  backend: BackendName;
}

export function tlsRoute(route: RouteSpec): Record<string, unknown> {
  return {
    apiVersion: `${GROUP}/v1`,
    kind: 'TLSRoute',
    metadata: { name: route.name },
    spec: {
      parentRefs: [{ name: GATEWAY_NAME, sectionName: route.listener.name }],
      hostnames: [route.hostname],
      rules: [{ backendRefs: [backendRef(route)] }],
    },
  };
}

export function backendRef(route: Pick<RouteSpec, 'backend' | 'listener'>): Record<string, unknown> {
  return { name: route.backend, port: route.listener.backendPort };
}

/** Creates the backends, their Services and certificates, and the Gateway. */
export async function createBenchObjects(kc: k8s.KubeConfig, namespace: string, gatewayClassName: string, pki: BenchPki): Promise<void> {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const apps = kc.makeApiClient(k8s.AppsV1Api);
  const custom = kc.makeApiClient(k8s.CustomObjectsApi);
  await core.createNamespacedSecret({ namespace, body: tlsSecret(GATEWAY_CERT_SECRET, pki.gateway) });
  await core.createNamespacedSecret({ namespace, body: tlsSecret(BACKEND_CERT_SECRET, pki.backend) });
  for (const name of BACKENDS) {
    await core.createNamespacedService({ namespace, body: echoService(name) });
    await apps.createNamespacedDeployment({ namespace, body: echoDeployment(name) });
  }
  await custom.createNamespacedCustomObject({ group: GROUP, version: 'v1', namespace, plural: 'gateways', body: gateway(gatewayClassName) });
}

export async function createRoute(kc: k8s.KubeConfig, namespace: string, route: RouteSpec): Promise<{ generation: number }> {
  const custom = kc.makeApiClient(k8s.CustomObjectsApi);
  const created = (await custom.createNamespacedCustomObject({ group: GROUP, version: 'v1', namespace, plural: 'tlsroutes', body: tlsRoute(route) })) as {
    metadata: { generation: number };
  };
  return { generation: created.metadata.generation };
}

/** Points an existing route at another backend (a JSON merge patch of its rules, as `kubectl patch` does). */
export async function switchRouteBackend(kc: k8s.KubeConfig, namespace: string, route: RouteSpec): Promise<{ generation: number }> {
  const custom = kc.makeApiClient(k8s.CustomObjectsApi);
  const patched = (await custom.patchNamespacedCustomObject(
    { group: GROUP, version: 'v1', namespace, plural: 'tlsroutes', name: route.name, body: { spec: { rules: [{ backendRefs: [backendRef(route)] }] } } },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
  )) as { metadata: { generation: number } };
  return { generation: patched.metadata.generation };
}
