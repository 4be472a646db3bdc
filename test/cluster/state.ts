// Where the cluster in a box keeps its state, and the shape of that state.
//
// Everything lives under <checkout>/.cache/cluster (git-ignored): one cluster per checkout.
// cluster:up writes state.json last, so its presence means "a start-up completed".
import { existsSync, readFileSync, writeFileSync, renameSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../helpers/paths.js';

export const clusterDir = path.join(projectRoot, '.cache', 'cluster');
export const pkiDir = path.join(clusterDir, 'pki');
export const logDir = path.join(clusterDir, 'logs');
export const etcdDataDir = path.join(clusterDir, 'etcd');
export const podsDir = path.join(clusterDir, 'pods');
export const kubeconfigPath = path.join(clusterDir, 'kubeconfig');
export const statePath = path.join(clusterDir, 'state.json');
/** Mount points the agent had to create on the host; cluster:down removes them again. */
export const createdMountPointsPath = path.join(clusterDir, 'created-mount-points.txt');

/** The pod network: one bridge in the host namespace, one veth per pod namespace. */
export const podNetwork = {
  bridge: 'tlsg0',
  /** The bridge's own address: the pods' default gateway and the node's InternalIP. */
  gatewayIp: '10.244.0.1',
  prefixLength: 16,
  /** Pod addresses are handed out from 10.244.<hi>.<lo>, starting after the gateway. */
  firstPodOctets: [0, 2] as const,
  /** Names of pod network namespaces start with this, so cleanup can find leftovers. */
  netnsPrefix: 'tlsg-',
  /** Host-side veth names start with this (IFNAMSIZ allows 15 characters). */
  vethPrefix: 'vtg',
  /** Service cluster IPs (the apiserver's --service-cluster-ip-range). */
  serviceCidr: '10.96.0.0/16',
  /** LoadBalancer ingress addresses: loopback, so the host reaches them without routing. */
  loadBalancerBase: '127.0.200.',
} as const;

export const nodeName = 'tlsgate-node';

export interface ClusterState {
  /** Absolute directory of etcd, kube-apiserver and kube-controller-manager. */
  binDir: string;
  apiserverPort: number;
  etcdClientPort: number;
  etcdPeerPort: number;
  /** Process ids by component, in start order; cluster:down stops them in reverse. */
  pids: Record<string, number>;
  startedAt: string;
  /**
   * The Node binary the pods run (`cluster:up -- --node PATH`; default: the Node that ran
   * cluster:up) and its `-v`. Absent in a state written before this field existed: the default.
   */
  podNode?: PodNode;
}

export interface PodNode {
  path: string;
  version: string;
}

export function readClusterState(): ClusterState | undefined {
  if (!existsSync(statePath)) return undefined;
  return JSON.parse(readFileSync(statePath, 'utf8')) as ClusterState;
}

export function writeClusterState(state: ClusterState): void {
  // Write-then-rename so a reader never sees half a file.
  const tmp = `${statePath}.tmp`;
  writeFileSync(tmp, JSON.stringify(state, null, 2) + '\n');
  renameSync(tmp, statePath);
}

export const logPath = (component: string): string => path.join(logDir, `${component}.log`);
