/**
 * The cluster in a box and the installed operator, for the convergence benchmark: used as
 * found when they are there, brought up (installed) when not, and afterwards only what this
 * run started is taken down again, like scripts/test.sh does.
 */
import { spawnSync, execFileSync } from 'node:child_process';
import * as k8s from '@kubernetes/client-node';
import { kubeconfigPath } from '../../test/cluster/client.js';
import { projectRoot } from '../../test/helpers/paths.js';

/** True when the test cluster's API server answers /readyz. */
export function clusterReady(): boolean {
  try {
    execFileSync('kubectl', ['--kubeconfig', kubeconfigPath, 'get', '--raw', '/readyz'], { stdio: 'ignore', timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

function npmRun(script: string): void {
  const result = spawnSync('npm', ['run', script], { cwd: projectRoot, stdio: ['ignore', 'inherit', 'inherit'] });
  if (result.status !== 0) throw new Error(`npm run ${script} failed (exit ${result.status ?? result.signal})`);
}

export function clusterUp(): void {
  npmRun('cluster:up');
}

export function clusterDown(): void {
  npmRun('cluster:down');
}

export interface OperatorState {
  /** Ready operator pods in the install namespace (0 when not installed). */
  readyPods: number;
  namespaceExists: boolean;
  /** Being deleted (an earlier uninstall): installOperator waits for it to go. */
  terminating: boolean;
}

export async function operatorState(kc: k8s.KubeConfig, namespace: string, name: string): Promise<OperatorState> {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  try {
    const ns = await core.readNamespace({ name: namespace });
    if (ns.metadata?.deletionTimestamp) return { readyPods: 0, namespaceExists: true, terminating: true };
  } catch (error) {
    if ((error as { code?: number }).code === 404) return { readyPods: 0, namespaceExists: false, terminating: false };
    throw error;
  }
  const pods = await core.listNamespacedPod({ namespace, labelSelector: `app.kubernetes.io/name=${name}` });
  const ready = pods.items.filter((p) => !p.metadata?.deletionTimestamp && p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
  return { readyPods: ready.length, namespaceExists: true, terminating: false };
}
