/**
 * GatewayParameters (tlsgate.dev/v1alpha1): how a Gateway's proxy infrastructure is shaped.
 * A GatewayClass's parametersRef gives the defaults for every Gateway of the class; a
 * Gateway's spec.infrastructure.parametersRef overrides them field by field (the Gateway's
 * value wins wherever it sets one). Translate decides whether a reference resolves
 * (Accepted=False/InvalidParameters otherwise); this module only merges what exists.
 */
import type { GatewayClassObject, GatewayObject, KubeObject } from '../objects.js';
import { GATEWAY_PARAMETERS_KIND, TLSGATE_GROUP } from '../objects.js';

export type ServiceType = 'LoadBalancer' | 'NodePort' | 'ClusterIP';

export interface ResourceRequirements {
  requests?: Record<string, string>;
  limits?: Record<string, string>;
}

export interface GatewayParametersSpec {
  deployment?: {
    replicas?: number;
    resources?: ResourceRequirements;
    nodeSelector?: Record<string, string>;
    tolerations?: Record<string, unknown>[];
    affinity?: Record<string, unknown>;
    drain?: DrainParameters;
  };
  service?: {
    type?: ServiceType;
    annotations?: Record<string, string>;
    externalTrafficPolicy?: 'Cluster' | 'Local';
    loadBalancerClass?: string;
  };
  podDisruptionBudget?: { minAvailable?: number | string; maxUnavailable?: number | string };
  autoscaling?: { minReplicas?: number; maxReplicas: number; targetCPUUtilizationPercentage?: number };
}

/**
 * How a proxy pod leaves: `preStopSeconds` it keeps serving after its deletion (a preStop
 * sleep) while the endpoint controllers and load balancers stop sending it new connections;
 * then SIGTERM, and established connections get `seconds` to finish before the proxy closes
 * what is left.
 */
export interface DrainParameters {
  preStopSeconds?: number;
  seconds?: number;
}

export interface GatewayParametersObject extends KubeObject {
  spec?: GatewayParametersSpec;
}

/** The proxy container's defaults: small, because one proxy serves one Gateway. */
export const DEFAULT_RESOURCES: ResourceRequirements = {
  requests: { cpu: '100m', memory: '128Mi' },
  limits: { cpu: '1', memory: '512Mi' },
};

/**
 * Endpoint removal takes a few seconds to reach every kube-proxy and load balancer; 5 s keeps
 * the default termination grace period at Kubernetes' own 30 s (5 + 20 + DRAIN_EXIT_MARGIN).
 */
export const DEFAULT_PRE_STOP_SECONDS = 5;
/** The proxy's own default (--drain-seconds). */
export const DEFAULT_DRAIN_SECONDS = 20;
/** After the drain the proxy closes what is left and exits; the kubelet's SIGKILL waits this much longer. */
export const DRAIN_EXIT_MARGIN_SECONDS = 5;

/** Everything the renderer needs, with defaults applied. */
export interface EffectiveParameters {
  replicas: number;
  resources: ResourceRequirements;
  nodeSelector?: Record<string, string>;
  tolerations?: Record<string, unknown>[];
  affinity?: Record<string, unknown>;
  drain: { preStopSeconds: number; seconds: number };
  serviceType: ServiceType;
  serviceAnnotations: Record<string, string>;
  externalTrafficPolicy?: 'Cluster' | 'Local';
  loadBalancerClass?: string;
  podDisruptionBudget?: { minAvailable?: number | string; maxUnavailable?: number | string };
  autoscaling?: { minReplicas: number; maxReplicas: number; targetCPUUtilizationPercentage: number };
}

function isOurKind(ref: { group?: string; kind?: string } | undefined): boolean {
  return ref?.group === TLSGATE_GROUP && ref.kind === GATEWAY_PARAMETERS_KIND;
}

function find(all: GatewayParametersObject[], namespace: string | undefined, name: string): GatewayParametersSpec | undefined {
  return all.find((p) => p.metadata?.namespace === namespace && p.metadata?.name === name)?.spec;
}

/** The class-level and Gateway-level specs a Gateway refers to (absent ones are undefined). */
export function referencedParameters(
  gateway: GatewayObject,
  gatewayClass: GatewayClassObject | undefined,
  all: GatewayParametersObject[],
): { fromClass?: GatewayParametersSpec; fromGateway?: GatewayParametersSpec } {
  const classRef = gatewayClass?.spec.parametersRef;
  const gatewayRef = gateway.spec.infrastructure?.parametersRef;
  return {
    fromClass: isOurKind(classRef) && classRef ? find(all, classRef.namespace, classRef.name) : undefined,
    fromGateway: isOurKind(gatewayRef) && gatewayRef ? find(all, gateway.metadata?.namespace, gatewayRef.name) : undefined,
  };
}

/** Merge class and Gateway parameters (Gateway wins per field) and apply defaults. */
export function effectiveParameters(fromClass?: GatewayParametersSpec, fromGateway?: GatewayParametersSpec): EffectiveParameters {
  const deployment = { ...fromClass?.deployment, ...fromGateway?.deployment };
  const service = { ...fromClass?.service, ...fromGateway?.service };
  const pdb = fromGateway?.podDisruptionBudget ?? fromClass?.podDisruptionBudget;
  const autoscaling = fromGateway?.autoscaling ?? fromClass?.autoscaling;
  const replicas = deployment.replicas ?? 1;
  // Field by field too: a Gateway that sets only `seconds` keeps the class's preStopSeconds.
  const drain = { ...fromClass?.deployment?.drain, ...fromGateway?.deployment?.drain };
  const effective: EffectiveParameters = {
    replicas,
    resources: deployment.resources ?? DEFAULT_RESOURCES,
    drain: { preStopSeconds: drain.preStopSeconds ?? DEFAULT_PRE_STOP_SECONDS, seconds: drain.seconds ?? DEFAULT_DRAIN_SECONDS },
    serviceType: service.type ?? 'LoadBalancer',
    // Class annotations and Gateway annotations combine; a key set by both takes the Gateway's.
    serviceAnnotations: { ...fromClass?.service?.annotations, ...fromGateway?.service?.annotations },
  };
  if (deployment.nodeSelector && Object.keys(deployment.nodeSelector).length > 0) effective.nodeSelector = deployment.nodeSelector;
  if (deployment.tolerations && deployment.tolerations.length > 0) effective.tolerations = deployment.tolerations;
  if (deployment.affinity && Object.keys(deployment.affinity).length > 0) effective.affinity = deployment.affinity;
  if (service.externalTrafficPolicy) effective.externalTrafficPolicy = service.externalTrafficPolicy;
  if (service.loadBalancerClass) effective.loadBalancerClass = service.loadBalancerClass;
  if (pdb && (pdb.minAvailable !== undefined || pdb.maxUnavailable !== undefined)) effective.podDisruptionBudget = pdb;
  if (autoscaling) {
    effective.autoscaling = {
      minReplicas: autoscaling.minReplicas ?? replicas,
      maxReplicas: autoscaling.maxReplicas,
      targetCPUUtilizationPercentage: autoscaling.targetCPUUtilizationPercentage ?? 80,
    };
  }
  return effective;
}
