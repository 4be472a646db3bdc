/**
 * Renders one Gateway's proxy infrastructure in memory with cdk8s-plus-28: ServiceAccount,
 * Deployment, Service (every listener port), and optionally a PodDisruptionBudget and a
 * HorizontalPodAutoscaler. Pure: same input, same objects. Construct IDs are stable
 * because cdk8s derives names and metadata from them.
 */
import { App, Chart, Duration, type OwnerReference } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import type { GatewayObject } from '../objects.js';
import { DRAIN_EXIT_MARGIN_SECONDS, type EffectiveParameters } from './parameters.js';
import { PROXY_GLIBC_TUNABLES, PROXY_NODE_FLAGS } from '../../src/proxy-process-env.js';
import {
  COMPONENT_LABEL,
  GATEWAY_NAME_LABEL,
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  labelValue,
  proxyNames,
  selectorLabels,
} from './names.js';

/** Where the proxy finds its client certificate, key and the config server's CA. */
export const CLIENT_CERT_MOUNT = '/etc/tlsgate/client';
/** The proxy's admin server (health, metrics): /readyz answers 200 once a config is applied. */
export const PROXY_ADMIN_PORT = 9901;
/** UID/GID of the proxy process: non-root, the conventional "nonroot" id. */
export const PROXY_UID = 65532;
/**
 * The tlsgate CLI inside the image (the Dockerfile's ENTRYPOINT runs `node /app/bin/tlsgate.js`).
 * The proxy container replaces the entrypoint with the same program plus PROXY_NODE_FLAGS, which
 * V8 reads only from the command line; an image of one's own must keep `node` on PATH and this path.
 */
export const IMAGE_CLI = '/app/bin/tlsgate.js';

export interface ProxyInfraOptions {
  gateway: GatewayObject;
  parameters: EffectiveParameters;
  /** The proxy image (the tlsgate image; the proxy is `tlsgate proxy`). */
  image: string;
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  /** wss:// URL of the operator's config server, as reachable from the Gateway's namespace. */
  configServerUrl: string;
}

export interface RenderedObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; labels?: Record<string, string>; annotations?: Record<string, string>; ownerReferences?: unknown[] };
  [field: string]: unknown;
}

/**
 * Distinct listener ports, ascending: the proxy listens on each and the Service exposes each.
 * Not the proxy's own admin port: a listener there is PortUnavailable (the operator reports it,
 * port-availability.ts), and rendering it would repeat the container port (cdk8s-plus refuses,
 * leaving the Gateway without a Deployment) and expose health and metrics on the Service.
 */
export function listenerPorts(gateway: GatewayObject): number[] {
  return [...new Set(gateway.spec.listeners.map((l) => l.port))].filter((port) => port !== PROXY_ADMIN_PORT).sort((a, b) => a - b);
}

function ownerReference(gateway: GatewayObject): OwnerReference {
  const uid = gateway.metadata?.uid;
  if (!uid) throw new Error(`Gateway ${gateway.metadata?.namespace}/${gateway.metadata?.name}: metadata.uid is required to own its proxy objects`);
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'Gateway',
    name: gateway.metadata?.name ?? '',
    uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}

/**
 * The Secret with the proxies' client certificate, key and CA bundle (mounted at
 * CLIENT_CERT_MOUNT). Rendered like the rest so that it carries the same labels and owner.
 */
export function renderClientCertSecret(gateway: GatewayObject, data: Record<string, string>): RenderedObject {
  const gatewayName = gateway.metadata?.name ?? '';
  const namespace = gateway.metadata?.namespace ?? '';
  const infra = gateway.spec.infrastructure ?? {};
  const labels = { ...infra.labels, ...selectorLabels(gatewayName), [COMPONENT_LABEL]: 'proxy-credentials', [MANAGED_BY_LABEL]: MANAGED_BY_VALUE };
  const app = new App();
  const chart = new Chart(app, 'gateway', { namespace, disableResourceNameHashes: true });
  new kplus.k8s.KubeSecret(chart, 'client-cert', {
    metadata: { name: proxyNames(gatewayName).clientCertSecret, namespace, labels, ownerReferences: [ownerReference(gateway)] },
    type: 'kubernetes.io/tls',
    data,
  });
  return chart.toJson()[0] as RenderedObject;
}

export function renderProxyInfrastructure(options: ProxyInfraOptions): RenderedObject[] {
  const { gateway, parameters } = options;
  const gatewayName = gateway.metadata?.name ?? '';
  const namespace = gateway.metadata?.namespace ?? '';
  if (!gatewayName || !namespace) throw new Error('Gateway metadata.name and metadata.namespace are required to render its proxy');
  const names = proxyNames(gatewayName);
  const selector = selectorLabels(gatewayName);
  const infra = gateway.spec.infrastructure ?? {};
  // Our labels come last so that spec.infrastructure.labels cannot break the selector.
  const labels: Record<string, string> = {
    ...infra.labels,
    ...selector,
    [COMPONENT_LABEL]: 'proxy',
    [MANAGED_BY_LABEL]: MANAGED_BY_VALUE,
  };
  const annotations = { ...infra.annotations };
  const ports = listenerPorts(gateway);

  const app = new App();
  const chart = new Chart(app, 'gateway', { namespace, disableResourceNameHashes: true, labels });
  const metadata = (name: string, extraAnnotations: Record<string, string> = {}) => ({
    name,
    namespace,
    labels,
    annotations: { ...annotations, ...extraAnnotations },
    ownerReferences: [ownerReference(gateway)],
  });

  const serviceAccount = new kplus.ServiceAccount(chart, 'service-account', {
    metadata: metadata(names.workload),
    automountToken: false,
  });

  const clientCert = kplus.Secret.fromSecretName(chart, 'client-cert-secret', names.clientCertSecret);
  const deployment = new kplus.Deployment(chart, 'deployment', {
    metadata: metadata(names.workload),
    replicas: parameters.autoscaling ? undefined : parameters.replicas,
    select: false,
    spread: false,
    podMetadata: { labels, annotations },
    serviceAccount,
    automountServiceAccountToken: false,
    securityContext: {
      user: PROXY_UID,
      group: PROXY_UID,
      ensureNonRoot: true,
      // Lets the non-root proxy bind listener ports below 1024 (a namespaced, "safe" sysctl).
      sysctls: [{ name: 'net.ipv4.ip_unprivileged_port_start', value: '0' }],
    },
    volumes: [],
    containers: [
      {
        name: 'proxy',
        image: options.image,
        imagePullPolicy: (options.imagePullPolicy ?? 'IfNotPresent') as kplus.ImagePullPolicy,
        command: ['node', ...PROXY_NODE_FLAGS, IMAGE_CLI],
        args: [
          'proxy',
          '--config-server', options.configServerUrl,
          '--gateway', `${namespace}/${gatewayName}`,
          '--cert', `${CLIENT_CERT_MOUNT}/tls.crt`,
          '--key', `${CLIENT_CERT_MOUNT}/tls.key`,
          '--ca', `${CLIENT_CERT_MOUNT}/ca.crt`,
          '--admin-address', `0.0.0.0:${PROXY_ADMIN_PORT}`,
          '--drain-seconds', String(parameters.drain.seconds),
        ],
        // glibc reads it at start: see PROXY_GLIBC_TUNABLES for why the relay needs it.
        envVariables: { GLIBC_TUNABLES: kplus.EnvValue.fromValue(PROXY_GLIBC_TUNABLES) },
        ports: [
          ...ports.map((port) => ({ number: port, name: `tls-${port}`, protocol: kplus.Protocol.TCP })),
          { number: PROXY_ADMIN_PORT, name: 'admin', protocol: kplus.Protocol.TCP },
        ],
        readiness: kplus.Probe.fromHttpGet('/readyz', { port: PROXY_ADMIN_PORT, periodSeconds: Duration.seconds(2), failureThreshold: 2 }),
        // A restart drops every connection, so only a proxy that stays unresponsive is killed: a
        // Node process starting on a CPU-starved node answered /healthz past the 1 s default
        // three times in a row and was restarted for nothing.
        liveness: kplus.Probe.fromHttpGet('/healthz', {
          port: PROXY_ADMIN_PORT,
          periodSeconds: Duration.seconds(10),
          timeoutSeconds: Duration.seconds(5),
          failureThreshold: 3,
        }),
        resources: {},
        securityContext: {
          user: PROXY_UID,
          group: PROXY_UID,
          ensureNonRoot: true,
          readOnlyRootFilesystem: true,
          allowPrivilegeEscalation: false,
          privileged: false,
          seccompProfile: { type: kplus.SeccompProfileType.RUNTIME_DEFAULT },
        },
        volumeMounts: [
          {
            path: CLIENT_CERT_MOUNT,
            readOnly: true,
            volume: kplus.Volume.fromSecret(chart, 'client-cert-volume', clientCert, { name: 'client-cert' }),
          },
        ],
      },
    ],
  });
  deployment.select(kplus.LabelSelector.of({ labels: selector }));

  const service = new kplus.Service(chart, 'service', {
    metadata: metadata(names.workload, parameters.serviceAnnotations),
    type: parameters.serviceType as kplus.ServiceType,
    ports: ports.map((port) => ({ name: `tls-${port}`, port, targetPort: port, protocol: kplus.Protocol.TCP })),
  });
  for (const [key, value] of Object.entries(selector)) service.selectLabel(key, value);
  if (parameters.podDisruptionBudget) {
    new kplus.k8s.KubePodDisruptionBudget(chart, 'pod-disruption-budget', {
      metadata: metadata(names.workload),
      spec: {
        selector: { matchLabels: selector },
        ...(parameters.podDisruptionBudget.minAvailable !== undefined
          ? { minAvailable: kplus.k8s.IntOrString.fromString(String(parameters.podDisruptionBudget.minAvailable)) }
          : {}),
        ...(parameters.podDisruptionBudget.maxUnavailable !== undefined
          ? { maxUnavailable: kplus.k8s.IntOrString.fromString(String(parameters.podDisruptionBudget.maxUnavailable)) }
          : {}),
      },
    });
  }

  if (parameters.autoscaling) {
    new kplus.k8s.KubeHorizontalPodAutoscalerV2(chart, 'autoscaler', {
      metadata: metadata(names.workload),
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: names.workload },
        minReplicas: parameters.autoscaling.minReplicas,
        maxReplicas: parameters.autoscaling.maxReplicas,
        metrics: [
          {
            type: 'Resource',
            resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: parameters.autoscaling.targetCPUUtilizationPercentage } },
          },
        ],
      },
    });
  }

  return chart.toJson().map((object) => finish(object as RenderedObject, gatewayName, parameters));
}

/**
 * Fields cdk8s-plus has no typed prop for, or whose emitted defaults we replace, are set on
 * the synthesized plain object: the generated k8s types re-serialise every nested value
 * (Quantity, IntOrString) and silently drop what they do not model, so raw user-supplied
 * shapes (resources, affinity) must not pass through them.
 */
function finish(object: RenderedObject, gatewayName: string, parameters: EffectiveParameters): RenderedObject {
  object.metadata.labels = { ...object.metadata.labels, [GATEWAY_NAME_LABEL]: labelValue(gatewayName) };
  const spec = object.spec as Record<string, any>;
  switch (object.kind) {
    case 'Deployment': {
      // With an autoscaler the HPA owns spec.replicas; applying ours would fight it.
      if (parameters.autoscaling) delete spec.replicas;
      const pod = spec.template.spec as Record<string, any>;
      pod.securityContext.seccompProfile = { type: 'RuntimeDefault' };
      if (parameters.nodeSelector) pod.nodeSelector = structuredClone(parameters.nodeSelector);
      if (parameters.tolerations) pod.tolerations = structuredClone(parameters.tolerations);
      if (parameters.affinity) pod.affinity = structuredClone(parameters.affinity);
      const container = pod.containers[0] as Record<string, any>;
      container.resources = structuredClone(parameters.resources);
      container.securityContext.capabilities = { drop: ['ALL'] };
      // Deletion first removes the pod from its Service's endpoints, but kube-proxies and load
      // balancers learn that a little later: the preStop sleep keeps the listeners open for
      // them (a sleep action needs no binary in the image). SIGTERM then drops readiness and
      // closes the listeners, and established connections get drain.seconds. The grace period
      // covers both plus the forced close and exit, so the kubelet's SIGKILL never cuts a drain.
      if (parameters.drain.preStopSeconds > 0) container.lifecycle = { preStop: { sleep: { seconds: parameters.drain.preStopSeconds } } };
      pod.terminationGracePeriodSeconds = parameters.drain.preStopSeconds + parameters.drain.seconds + DRAIN_EXIT_MARGIN_SECONDS;
      break;
    }
    case 'Service':
      // cdk8s-plus emits `externalIPs: []`; leave it out so that our field manager never owns it.
      delete spec.externalIPs;
      if (parameters.externalTrafficPolicy && parameters.serviceType !== 'ClusterIP') spec.externalTrafficPolicy = parameters.externalTrafficPolicy;
      if (parameters.loadBalancerClass && parameters.serviceType === 'LoadBalancer') spec.loadBalancerClass = parameters.loadBalancerClass;
      break;
    case 'PodDisruptionBudget':
      // Written as strings through IntOrString above; integers must be integers again.
      for (const key of ['minAvailable', 'maxUnavailable']) {
        const value = spec[key];
        if (typeof value === 'string' && /^\d+$/.test(value)) spec[key] = Number(value);
      }
      break;
  }
  return object;
}
