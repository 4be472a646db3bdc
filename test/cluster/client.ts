// What integration tests import to talk to the cluster in a box (`npm run cluster:up`).
//
//   import { loadTestKubeConfig, freshNamespace } from '../cluster/client.js';
//   const kc = loadTestKubeConfig();
//   const ns = await freshNamespace(kc, 'my-test');   // e.g. "my-test-k3x9a"
//   ...
//   await deleteNamespace(kc, ns);                    // in after()
//
// The kubeconfig is also a file (`.cache/cluster/kubeconfig`) for kubectl:
//   kubectl --kubeconfig .cache/cluster/kubeconfig get pods -A
import { existsSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';
import { kubeconfigPath, nodeName, podNetwork, podsDir, readClusterState, type PodNode } from './state.js';
import { waitFor } from './control-plane/wait.js';

export { kubeconfigPath, nodeName, podNetwork, waitFor };

/** Whether `npm run cluster:up` has written a kubeconfig (tests may use this to explain a failure). */
export function clusterIsUp(): boolean {
  return existsSync(kubeconfigPath);
}

/**
 * The Node binary and version the running cluster's pods run (`cluster:up -- --node PATH`),
 * as recorded by cluster:up. A state from before that option means the default, the agent's
 * own Node, which is then read from the agent process.
 */
export function podNode(): PodNode {
  const state = readClusterState();
  if (!state) throw new Error(`no test cluster: ${kubeconfigPath} does not exist; run \`npm run cluster:up\` first`);
  if (state.podNode) return state.podNode;
  const agentNode = readlinkSync(`/proc/${state.pids.agent}/exe`);
  return { path: agentNode, version: execFileSync(agentNode, ['-v'], { encoding: 'utf8' }).trim() };
}

/** The admin (system:masters) KubeConfig of the running test cluster. */
export function loadTestKubeConfig(): k8s.KubeConfig {
  if (!clusterIsUp()) {
    throw new Error(`no test cluster: ${kubeconfigPath} does not exist; run \`npm run cluster:up\` first (npm test does it for you)`);
  }
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  return kc;
}

/**
 * Creates a namespace named `<prefix>-<random>` and waits until the controller-manager has
 * given it its `default` ServiceAccount (Pods are rejected before that). Returns the name.
 */
export async function freshNamespace(kc: k8s.KubeConfig, prefix: string, labels: Record<string, string> = {}): Promise<string> {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const name = `${prefix}-${randomBytes(3).toString('hex')}`.toLowerCase();
  await core.createNamespace({ body: { metadata: { name, labels: { 'tlsgate.dev/test': prefix, ...labels } } } });
  await waitFor(`the default ServiceAccount in namespace ${name}`, 30_000, async () =>
    core.readNamespacedServiceAccount({ name: 'default', namespace: name }).then(() => true));
  return name;
}

/** Deletes a namespace without waiting for it to go (the garbage collector finishes the job). */
export async function deleteNamespace(kc: k8s.KubeConfig, name: string): Promise<void> {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  try {
    await core.deleteNamespace({ name });
  } catch (error) {
    if ((error as { code?: number }).code !== 404) throw error;
  }
}

/** A KubeConfig for the same cluster that authenticates with `token` instead of the admin token. */
export function kubeConfigWithToken(kc: k8s.KubeConfig, token: string, user = 'token-user'): k8s.KubeConfig {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('kubeconfig has no current cluster');
  const limited = new k8s.KubeConfig();
  limited.loadFromOptions({
    clusters: [cluster],
    users: [{ name: user, token }],
    contexts: [{ name: user, cluster: cluster.name, user }],
    currentContext: user,
  });
  return limited;
}

/**
 * What a container wrote to stdout/stderr (there is no `kubectl logs`: the node agent has no
 * kubelet API). Every start is preceded by a `--- <time> start #<n>: <argv>` line. Logs of
 * deleted pods stay readable until cluster:down; with several pods of one name (re-created),
 * their logs are concatenated oldest first.
 */
export function containerLog(namespace: string, pod: string, container: string): string {
  const prefix = `${namespace}_${pod}_`;
  const dirs = existsSync(podsDir) ? readdirSync(podsDir).filter((d) => d.startsWith(prefix)) : [];
  const files = dirs.map((d) => path.join(podsDir, d, 'logs', `${container}.log`)).filter((f) => existsSync(f))
    .sort((a, b) => statSync(a).mtimeMs - statSync(b).mtimeMs);
  if (files.length === 0) throw new Error(`no log for container "${container}" of pod ${namespace}/${pod} under ${podsDir}`);
  return files.map((f) => readFileSync(f, 'utf8')).join('');
}
