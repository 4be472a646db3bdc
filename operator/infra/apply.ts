/**
 * The API side of per-Gateway infrastructure: server-side apply of rendered objects with our
 * field manager, deletion of objects we no longer want, and the listing of everything we
 * manage (for the garbage sweep after a leader change or a class change).
 *
 * client-node 1.4.0 sends PATCH bodies as application/json-patch+json unless told
 * otherwise; server-side apply needs application/apply-patch+yaml (JSON is valid YAML).
 */
import * as k8s from '@kubernetes/client-node';
import { FIELD_MANAGER, MANAGED_BY_LABEL, MANAGED_BY_VALUE, NAME_LABEL, NAME_VALUE } from './names.js';
import { statusOf } from '../sources/informer.js';

const SSA = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.ServerSideApply);

export interface ObjectId {
  kind: InfraKind;
  namespace: string;
  name: string;
}

export type InfraKind = 'Secret' | 'ServiceAccount' | 'Service' | 'Deployment' | 'PodDisruptionBudget' | 'HorizontalPodAutoscaler';

/** Apply order: what others refer to first (the pod needs its Secret and ServiceAccount). */
export const INFRA_KINDS: InfraKind[] = ['Secret', 'ServiceAccount', 'Service', 'Deployment', 'PodDisruptionBudget', 'HorizontalPodAutoscaler'];

export const PROXY_SELECTOR = `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE},${NAME_LABEL}=${NAME_VALUE}`;

export interface AppliableObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; labels?: Record<string, string> };
  [field: string]: unknown;
}

/** What the API server answered to an apply. */
export interface AppliedVersion {
  resourceVersion?: string;
}

export function idOf(object: AppliableObject): ObjectId {
  return { kind: object.kind as InfraKind, namespace: object.metadata.namespace, name: object.metadata.name };
}

export function idKey(id: ObjectId): string {
  return `${id.kind}/${id.namespace}/${id.name}`;
}

export class InfraClient {
  private readonly core: k8s.CoreV1Api;
  private readonly apps: k8s.AppsV1Api;
  private readonly policy: k8s.PolicyV1Api;
  private readonly autoscaling: k8s.AutoscalingV2Api;

  constructor(kubeConfig: k8s.KubeConfig) {
    this.core = kubeConfig.makeApiClient(k8s.CoreV1Api);
    this.apps = kubeConfig.makeApiClient(k8s.AppsV1Api);
    this.policy = kubeConfig.makeApiClient(k8s.PolicyV1Api);
    this.autoscaling = kubeConfig.makeApiClient(k8s.AutoscalingV2Api);
  }

  /**
   * Server-side apply, forcing ownership of exactly the fields we render. Returns the object's
   * resourceVersion after the apply, by which the drift watch tells our own writes from others'.
   */
  async apply(object: AppliableObject): Promise<AppliedVersion> {
    const params = { name: object.metadata.name, namespace: object.metadata.namespace, body: object, fieldManager: FIELD_MANAGER, force: true };
    let result: { metadata?: k8s.V1ObjectMeta };
    switch (object.kind as InfraKind) {
      case 'Secret':
        result = await this.core.patchNamespacedSecret(params, SSA);
        break;
      case 'ServiceAccount':
        result = await this.core.patchNamespacedServiceAccount(params, SSA);
        break;
      case 'Service':
        result = await this.core.patchNamespacedService(params, SSA);
        break;
      case 'Deployment':
        result = await this.apps.patchNamespacedDeployment(params, SSA);
        break;
      case 'PodDisruptionBudget':
        result = await this.policy.patchNamespacedPodDisruptionBudget(params, SSA);
        break;
      case 'HorizontalPodAutoscaler':
        result = await this.autoscaling.patchNamespacedHorizontalPodAutoscaler(params, SSA);
        break;
      default:
        throw new Error(`cannot apply ${object.kind} ${object.metadata.namespace}/${object.metadata.name}: not an infrastructure kind`);
    }
    return { resourceVersion: result.metadata?.resourceVersion };
  }

  /** Deletes an object; one that is already gone is fine. Dependents go in the background. */
  async delete(id: ObjectId): Promise<void> {
    const params = { name: id.name, namespace: id.namespace, propagationPolicy: 'Background' };
    try {
      switch (id.kind) {
        case 'Secret':
          await this.core.deleteNamespacedSecret(params);
          return;
        case 'ServiceAccount':
          await this.core.deleteNamespacedServiceAccount(params);
          return;
        case 'Service':
          await this.core.deleteNamespacedService(params);
          return;
        case 'Deployment':
          await this.apps.deleteNamespacedDeployment(params);
          return;
        case 'PodDisruptionBudget':
          await this.policy.deleteNamespacedPodDisruptionBudget(params);
          return;
        case 'HorizontalPodAutoscaler':
          await this.autoscaling.deleteNamespacedHorizontalPodAutoscaler(params);
          return;
      }
    } catch (err) {
      if (statusOf(err) !== 404) throw err;
    }
  }

  /** Every proxy object we manage, in all namespaces (found by our labels). */
  async listManaged(): Promise<ObjectId[]> {
    const labelSelector = PROXY_SELECTOR;
    // Lists run one at a time so that a failing one cannot leave others' rejections unhandled.
    const lists: [InfraKind, () => Promise<{ items: { metadata?: k8s.V1ObjectMeta }[] }>][] = [
      ['Secret', () => this.core.listSecretForAllNamespaces({ labelSelector })],
      ['ServiceAccount', () => this.core.listServiceAccountForAllNamespaces({ labelSelector })],
      ['Service', () => this.core.listServiceForAllNamespaces({ labelSelector })],
      ['Deployment', () => this.apps.listDeploymentForAllNamespaces({ labelSelector })],
      ['PodDisruptionBudget', () => this.policy.listPodDisruptionBudgetForAllNamespaces({ labelSelector })],
      ['HorizontalPodAutoscaler', () => this.autoscaling.listHorizontalPodAutoscalerForAllNamespaces({ labelSelector })],
    ];
    const ids: ObjectId[] = [];
    for (const [kind, list$] of lists) {
      const list = await list$();
      for (const item of list.items) ids.push({ kind, namespace: item.metadata?.namespace ?? '', name: item.metadata?.name ?? '' });
    }
    return ids;
  }
}
