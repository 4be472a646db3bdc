// Pod networking with iproute2: a bridge in the host namespace (its address is the pods'
// gateway and the node's InternalIP) and, per pod, a network namespace joined to the bridge
// by a veth pair. Pods reach each other over the bridge and the host at the gateway address;
// the host reaches pods through the bridge's connected route. No forwarding, no NAT, nothing
// leaves the machine.
import { execFileSync } from 'node:child_process';
import { podNetwork } from '../state.js';

function ip(args: string[], options: { allowFailure?: boolean } = {}): string {
  try {
    return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    if (options.allowFailure) return '';
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new Error(`ip ${args.join(' ')} failed: ${stderr.trim() || String(error)}`);
  }
}

export function ensureBridge(): void {
  const { bridge, gatewayIp, prefixLength } = podNetwork;
  if (!ip(['-br', 'link', 'show', 'dev', bridge], { allowFailure: true })) {
    ip(['link', 'add', bridge, 'type', 'bridge']);
  }
  if (!ip(['-br', 'addr', 'show', 'dev', bridge]).includes(`${gatewayIp}/${prefixLength}`)) {
    ip(['addr', 'add', `${gatewayIp}/${prefixLength}`, 'dev', bridge]);
  }
  ip(['link', 'set', bridge, 'up']);
}

export function netnsName(podUid: string): string {
  return `${podNetwork.netnsPrefix}${podUid.replace(/-/g, '').slice(0, 12)}`;
}

function vethName(podUid: string): string {
  return `${podNetwork.vethPrefix}${podUid.replace(/-/g, '').slice(0, 12)}`;
}

/** Creates the pod's namespace with `eth0` at `podIp` and a default route via the bridge. */
export function createPodNetwork(podUid: string, podIp: string): string {
  const ns = netnsName(podUid);
  const veth = vethName(podUid);
  deletePodNetwork(podUid); // a half-made sandbox from an earlier attempt
  ip(['netns', 'add', ns]);
  ip(['link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
  ip(['link', 'set', veth, 'master', podNetwork.bridge, 'up']);
  ip(['-n', ns, 'addr', 'add', `${podIp}/${podNetwork.prefixLength}`, 'dev', 'eth0']);
  ip(['-n', ns, 'link', 'set', 'lo', 'up']);
  ip(['-n', ns, 'link', 'set', 'eth0', 'up']);
  ip(['-n', ns, 'route', 'add', 'default', 'via', podNetwork.gatewayIp]);
  // Forget any stale neighbour entry for this address (a previous pod's MAC).
  ip(['neigh', 'flush', 'to', podIp, 'dev', podNetwork.bridge], { allowFailure: true });
  return ns;
}

/** Process ids still inside a pod's network namespace (cleanup kills them). */
export function pidsInNetns(ns: string): number[] {
  return ip(['netns', 'pids', ns], { allowFailure: true }).split('\n').filter(Boolean).map(Number);
}

export function deletePodNetwork(podUid: string): void {
  const ns = netnsName(podUid);
  // Deleting the namespace destroys eth0 and with it the host-side veth.
  ip(['netns', 'delete', ns], { allowFailure: true });
  ip(['link', 'delete', vethName(podUid)], { allowFailure: true });
}

/** Every pod namespace this harness created (by name prefix). */
export function listPodNetnses(): string[] {
  return ip(['netns', 'list'], { allowFailure: true }).split('\n')
    .map((line) => line.split(' ')[0] ?? '')
    .filter((name) => name.startsWith(podNetwork.netnsPrefix));
}

/** Removes every pod namespace, veth and the bridge (cluster:down and agent start-up). */
export function removeAllPodNetworks(): void {
  for (const ns of listPodNetnses()) {
    for (const pid of pidsInNetns(ns)) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    }
    ip(['netns', 'delete', ns], { allowFailure: true });
  }
  for (const line of ip(['-br', 'link'], { allowFailure: true }).split('\n')) {
    const name = line.split(/[\s@]/)[0] ?? '';
    if (name.startsWith(podNetwork.vethPrefix)) ip(['link', 'delete', name], { allowFailure: true });
  }
  ip(['link', 'delete', podNetwork.bridge], { allowFailure: true });
}

/** Adds a /32 (e.g. a Service cluster IP) to the bridge so host and pods can reach a listener on it. */
export function addBridgeAddress(address: string): void {
  const existing = ip(['-br', 'addr', 'show', 'dev', podNetwork.bridge]);
  if (!existing.split(/\s+/).includes(`${address}/32`)) ip(['addr', 'add', `${address}/32`, 'dev', podNetwork.bridge]);
}

export function removeBridgeAddress(address: string): void {
  ip(['addr', 'del', `${address}/32`, 'dev', podNetwork.bridge], { allowFailure: true });
}

/**
 * Hands out pod addresses from the bridge subnet, round-robin: a released address is reused
 * only after the whole pool went round, because the host's neighbour (ARP) entry for it still
 * names the old veth's MAC for a while and a new pod at that address would be unreachable.
 */
export class PodIpAllocator {
  private static readonly first = podNetwork.firstPodOctets[0] * 256 + podNetwork.firstPodOctets[1];
  private static readonly end = 255 * 256;
  private next = PodIpAllocator.first;
  private readonly inUse = new Set<string>();

  allocate(): string {
    for (let tries = 0; tries < PodIpAllocator.end; tries++) {
      const n = this.next;
      this.next = n + 1 >= PodIpAllocator.end ? PodIpAllocator.first : n + 1;
      if (n % 256 === 0 || n % 256 === 255) continue;
      const address = `10.244.${Math.floor(n / 256)}.${n % 256}`;
      if (this.inUse.has(address)) continue;
      this.inUse.add(address);
      return address;
    }
    throw new Error('pod address pool 10.244.0.0/16 is exhausted');
  }

  release(address: string): void {
    this.inUse.delete(address);
  }
}
