/**
 * The few object shapes the operator reads directly (beyond what translate reads). They are
 * structural subsets of the Kubernetes objects, so the full types from
 * src/gatewayapi/types.ts and @kubernetes/client-node are assignable to them.
 */

export interface ObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  creationTimestamp?: string | Date;
  deletionTimestamp?: string | Date;
  ownerReferences?: unknown[];
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
}

export interface ParametersReference {
  group: string;
  kind: string;
  name: string;
  namespace?: string;
}

export interface GatewayListenerSpec {
  name: string;
  port: number;
  protocol: string;
  hostname?: string;
}

export interface GatewayObject extends KubeObject {
  spec: {
    gatewayClassName: string;
    listeners: GatewayListenerSpec[];
    infrastructure?: {
      labels?: Record<string, string>;
      annotations?: Record<string, string>;
      parametersRef?: { group: string; kind: string; name: string };
    };
  };
  status?: { conditions?: Condition[] } & Record<string, unknown>;
}

export interface GatewayClassObject extends KubeObject {
  spec: { controllerName: string; parametersRef?: ParametersReference };
  status?: Record<string, unknown>;
}

export interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
  observedGeneration?: number;
  lastTransitionTime?: string | Date;
}

export interface LoadBalancerIngress {
  ip?: string;
  hostname?: string;
}

export interface ServiceObject extends KubeObject {
  spec?: Record<string, unknown>;
  status?: { loadBalancer?: { ingress?: LoadBalancerIngress[] } };
}

export const GATEWAY_GROUP = 'gateway.networking.k8s.io';
export const TLSGATE_GROUP = 'tlsgate.dev';
export const GATEWAY_PARAMETERS_KIND = 'GatewayParameters';
export const GATEWAY_PARAMETERS_VERSION = 'v1alpha1';

/** "namespace/name", the key the operator, translate runtime and config server share. */
export function objectKey(namespace: string | undefined, name: string | undefined): string {
  return `${namespace ?? ''}/${name ?? ''}`;
}
