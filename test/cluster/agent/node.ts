// Registers this machine as a Node and keeps it Ready: a Lease renewed every 10 s in
// kube-node-lease (the modern heartbeat) and the Ready condition refreshed in node status.
import os from 'node:os';
import { readFileSync } from 'node:fs';
import * as k8s from '@kubernetes/client-node';
import { nodeName, podNetwork } from '../state.js';

const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);
const leaseSeconds = 40;

function readOr(file: string, fallback: string): string {
  try { return readFileSync(file, 'utf8').trim(); } catch { return fallback; }
}

function nodeStatus(kubeletVersion: string): k8s.V1NodeStatus {
  const now = new Date();
  const memory = `${Math.floor(os.totalmem() / 1024)}Ki`;
  const resources = { cpu: String(os.cpus().length), memory, pods: '110', 'ephemeral-storage': '100Gi' };
  const condition = (type: string, status: string, reason: string, message: string): k8s.V1NodeCondition =>
    ({ type, status, reason, message, lastHeartbeatTime: now, lastTransitionTime: now });
  return {
    capacity: resources,
    allocatable: resources,
    addresses: [{ type: 'InternalIP', address: podNetwork.gatewayIp }, { type: 'Hostname', address: nodeName }],
    conditions: [
      condition('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'node agent: no memory pressure'),
      condition('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'node agent: no disk pressure'),
      condition('PIDPressure', 'False', 'KubeletHasSufficientPID', 'node agent: no PID pressure'),
      condition('Ready', 'True', 'KubeletReady', 'tlsgate test node agent is posting ready status'),
    ],
    nodeInfo: {
      machineID: readOr('/etc/machine-id', 'unknown'),
      systemUUID: readOr('/etc/machine-id', 'unknown'),
      bootID: readOr('/proc/sys/kernel/random/boot_id', 'unknown'),
      kernelVersion: os.release(),
      osImage: 'tlsgate test node (processes, no container runtime)',
      containerRuntimeVersion: 'tlsgate-agent://0.1.0',
      kubeletVersion,
      kubeProxyVersion: '',
      operatingSystem: 'linux',
      architecture: process.arch === 'x64' ? 'amd64' : process.arch,
    },
  };
}

export class NodeRegistration {
  private timer: NodeJS.Timeout | undefined;
  private readonly core: k8s.CoreV1Api;
  private readonly coordination: k8s.CoordinationV1Api;

  constructor(kc: k8s.KubeConfig, private readonly kubeletVersion: string, private readonly log: (msg: string) => void) {
    this.core = kc.makeApiClient(k8s.CoreV1Api);
    this.coordination = kc.makeApiClient(k8s.CoordinationV1Api);
  }

  async register(): Promise<void> {
    try {
      await this.core.createNode({
        body: {
          metadata: { name: nodeName, labels: { 'kubernetes.io/hostname': nodeName, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64', 'tlsgate.dev/test-node': 'true' } },
          spec: { podCIDR: `10.244.0.0/${podNetwork.prefixLength}` },
        },
      });
      this.log(`registered Node ${nodeName}`);
    } catch (error) {
      if ((error as { code?: number }).code !== 409) throw error;
    }
    // TaintNodesByCondition admission adds node.kubernetes.io/not-ready at creation; without a
    // node-lifecycle controller nobody would lift it, and it would confuse anyone reading it.
    await this.core.patchNode({ name: nodeName, body: { spec: { taints: null } } }, mergePatch);
    await this.heartbeat();
    this.timer = setInterval(() => {
      this.heartbeat().catch((error: unknown) => this.log(`heartbeat failed: ${error instanceof Error ? error.message : String(error)}`));
    }, 10_000);
  }

  private async heartbeat(): Promise<void> {
    await this.core.patchNodeStatus({ name: nodeName, body: { status: nodeStatus(this.kubeletVersion) } }, mergePatch);
    // MicroTime needs 6 fractional digits; V1MicroTime serialises them (a Date gets a 400).
    const spec = { holderIdentity: nodeName, leaseDurationSeconds: leaseSeconds, renewTime: new k8s.V1MicroTime() };
    try {
      const lease = await this.coordination.readNamespacedLease({ name: nodeName, namespace: 'kube-node-lease' });
      lease.spec = { ...lease.spec, ...spec };
      await this.coordination.replaceNamespacedLease({ name: nodeName, namespace: 'kube-node-lease', body: lease });
    } catch (error) {
      if ((error as { code?: number }).code !== 404) throw error;
      await this.coordination.createNamespacedLease({ namespace: 'kube-node-lease', body: { metadata: { name: nodeName }, spec } });
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
