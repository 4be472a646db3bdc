// Small helpers for the harness's own tests: waiting on pods (and, re-exported, talking to them).
import * as k8s from '@kubernetes/client-node';
import { waitFor } from '../cluster/client.js';

export { waitFor };
export { httpGetText, tcpConversation } from './harness-net.js';

export const isReady = (pod: k8s.V1Pod): boolean =>
  pod.metadata?.deletionTimestamp === undefined &&
  pod.status?.phase === 'Running' &&
  (pod.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

export async function readyPods(core: k8s.CoreV1Api, namespace: string, selector: string): Promise<k8s.V1Pod[]> {
  const pods = await core.listNamespacedPod({ namespace, labelSelector: selector });
  return pods.items.filter(isReady);
}

/** Waits for a pod to reach `phase`, returning the pod; on timeout the error shows its status. */
export async function waitForPhase(core: k8s.CoreV1Api, namespace: string, name: string, phase: string, timeoutMs = 60_000): Promise<k8s.V1Pod> {
  let last: k8s.V1Pod | undefined;
  try {
    return await waitFor(`pod ${namespace}/${name} to be ${phase}`, timeoutMs, async () => {
      last = await core.readNamespacedPod({ name, namespace });
      return last.status?.phase === phase ? last : undefined;
    });
  } catch (error) {
    throw new Error(`${(error as Error).message}; last status: ${JSON.stringify(last?.status)}`);
  }
}

