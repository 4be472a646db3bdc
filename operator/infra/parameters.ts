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

export interface GatewayParametersObject extends KubeObject {
  spec?: GatewayParametersSpec;
}

/** The proxy container's defaults: small, because one proxy serves one Gateway. */
export const DEFAULT_RESOURCES: ResourceRequirements = {
  requests: { cpu: '100m', memory: '128Mi' },
  limits: { cpu: '1', memory: '512Mi' },
};

/** Everything the renderer needs, with defaults applied. */
export interface EffectiveParameters {
  replicas: number;
  resources: ResourceRequirements;
  nodeSelector?: Record<string, string>;
  tolerations?: Record<string, unknown>[];
  affinity?: Record<string, unknown>;
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
  const effective: EffectiveParameters = {
    replicas,
    resources: deployment.resources ?? DEFAULT_RESOURCES,
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
