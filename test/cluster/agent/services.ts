// A user-space kube-proxy and LoadBalancer provider. For every Service with a cluster IP the
// agent puts that IP on the pod bridge and listens on each TCP port; LoadBalancer Services
// also get a loopback address (127.0.200.N) published as status.loadBalancer.ingress, with
// the same listeners. Connections go round-robin to the ready endpoints of the Service's
// EndpointSlices. Pods resolve Service names through their hosts file (see hostsFor).
import net from 'node:net';
import * as k8s from '@kubernetes/client-node';
import { podNetwork } from '../state.js';
import { addBridgeAddress, removeBridgeAddress } from './network.js';

const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);

interface Backend { ip: string; port: number }

/** One listening address:port relaying to the current backends. */
class Forwarder {
  backends: Backend[] = [];
  private next = 0;
  private readonly server: net.Server;
  /** Set when listening failed (e.g. the address is not configured yet); the next sync retries. */
  failed = false;

  constructor(readonly address: string, readonly port: number, private readonly log: (msg: string) => void) {
    this.server = net.createServer({ allowHalfOpen: true }, (client) => this.relay(client));
    this.server.on('error', (error) => {
      this.failed = true;
      this.log(`listener ${address}:${port}: ${error.message}`);
    });
    this.server.listen(port, address);
  }

  private relay(client: net.Socket): void {
    const ready = this.backends;
    if (ready.length === 0) {
      // No endpoint: refuse the connection the way a missing iptables rule would (RST).
      client.on('error', () => { /* the reset below may race a client error */ });
      client.resetAndDestroy();
      return;
    }
    const backend = ready[this.next++ % ready.length]!;
    const upstream = net.connect({ host: backend.ip, port: backend.port, allowHalfOpen: true });
    let done = false;
    // Any error or close on one side ends both, once; resets are passed on as resets.
    const finish = (reset: boolean): void => {
      if (done) return;
      done = true;
      if (reset) { client.resetAndDestroy(); upstream.resetAndDestroy(); } else { client.destroy(); upstream.destroy(); }
    };
    client.on('error', () => finish(true));
    upstream.on('error', () => finish(true));
    client.on('close', () => { if (!upstream.writableEnded || !upstream.readableEnded) finish(false); });
    upstream.on('close', () => { if (!client.writableEnded || !client.readableEnded) finish(false); });
    client.pipe(upstream);
    upstream.pipe(client);
  }

  close(): void {
    this.server.close();
  }
}

function backendsFor(service: k8s.V1Service, port: k8s.V1ServicePort, slices: k8s.V1EndpointSlice[]): Backend[] {
  const backends: Backend[] = [];
  for (const slice of slices) {
    if (slice.metadata?.namespace !== service.metadata?.namespace) continue;
    if (slice.metadata?.labels?.['kubernetes.io/service-name'] !== service.metadata?.name) continue;
    if (slice.addressType !== 'IPv4') continue;
    const slicePort = slice.ports?.find((p) => (p.name ?? '') === (port.name ?? '') && (p.protocol ?? 'TCP') === 'TCP');
    if (!slicePort?.port) continue;
    for (const endpoint of slice.endpoints ?? []) {
      if (endpoint.conditions?.ready === false) continue;
      const ip = endpoint.addresses[0];
      if (ip) backends.push({ ip, port: slicePort.port });
    }
  }
  return backends;
}

export class ServiceProxy {
  private readonly forwarders = new Map<string, Forwarder>();
  private readonly loadBalancerIps = new Map<string, string>();
  private readonly bridgeAddresses = new Set<string>();
  private hosts: { namespace: string; name: string; ip: string }[] = [];
  private readonly core: k8s.CoreV1Api;
  private readonly discovery: k8s.DiscoveryV1Api;

  /**
   * `apiserverPort`: the apiserver listens on 127.0.0.1 only, and a loopback advertise address
   * cannot be written to the `kubernetes` Endpoints (validation rejects 127/8), so the default
   * `kubernetes` Service is relayed straight to the apiserver's loopback port.
   */
  constructor(kc: k8s.KubeConfig, private readonly apiserverPort: number, private readonly log: (msg: string) => void) {
    this.core = kc.makeApiClient(k8s.CoreV1Api);
    this.discovery = kc.makeApiClient(k8s.DiscoveryV1Api);
  }

  private loadBalancerIp(uid: string): string {
    let ip = this.loadBalancerIps.get(uid);
    if (!ip) {
      const used = new Set(this.loadBalancerIps.values());
      for (let n = 1; n < 255 && !ip; n++) if (!used.has(`${podNetwork.loadBalancerBase}${n}`)) ip = `${podNetwork.loadBalancerBase}${n}`;
      if (!ip) throw new Error('LoadBalancer address pool 127.0.200.1-254 is exhausted');
      this.loadBalancerIps.set(uid, ip);
    }
    return ip;
  }

  async sync(): Promise<void> {
    const [services, slices] = await Promise.all([
      this.core.listServiceForAllNamespaces({}),
      this.discovery.listEndpointSliceForAllNamespaces({}),
    ]);
    const wanted = new Map<string, Backend[]>();
    const clusterIps = new Set<string>();
    const hosts: typeof this.hosts = [];
    const liveUids = new Set<string>();
    for (const service of services.items) {
      const spec = service.spec ?? {};
      const clusterIp = spec.clusterIP;
      const uid = service.metadata!.uid!;
      liveUids.add(uid);
      const addresses: string[] = [];
      if (clusterIp && clusterIp !== 'None') {
        addresses.push(clusterIp);
        clusterIps.add(clusterIp);
        hosts.push({ namespace: service.metadata!.namespace!, name: service.metadata!.name!, ip: clusterIp });
      }
      if (spec.type === 'LoadBalancer') {
        const lbIp = this.loadBalancerIp(uid);
        addresses.push(lbIp);
        const ingress = service.status?.loadBalancer?.ingress ?? [];
        if (ingress.length !== 1 || ingress[0]!.ip !== lbIp) {
          const key = `${service.metadata!.namespace}/${service.metadata!.name}`;
          try {
            await this.core.patchNamespacedServiceStatus({
              name: service.metadata!.name!, namespace: service.metadata!.namespace!,
              body: { status: { loadBalancer: { ingress: [{ ip: lbIp, ipMode: 'VIP' }] } } },
            }, mergePatch);
            this.log(`service ${key}: LoadBalancer ingress ${lbIp}`);
          } catch (error) {
            // One Service (deleted meanwhile, say) must not stall the relays of all others.
            if ((error as { code?: number }).code !== 404) this.log(`service ${key}: LoadBalancer status update failed: ${error instanceof Error ? error.message : String(error)}`);
          }
        }
      }
      for (const port of spec.ports ?? []) {
        if ((port.protocol ?? 'TCP') !== 'TCP') continue;
        const isApiserver = service.metadata?.namespace === 'default' && service.metadata?.name === 'kubernetes';
        const backends = isApiserver ? [{ ip: '127.0.0.1', port: this.apiserverPort }] : backendsFor(service, port, slices.items);
        for (const address of addresses) wanted.set(`${address}:${port.port}`, backends);
      }
    }
    for (const uid of [...this.loadBalancerIps.keys()]) if (!liveUids.has(uid)) this.loadBalancerIps.delete(uid);
    for (const ip of clusterIps) {
      if (!this.bridgeAddresses.has(ip)) { addBridgeAddress(ip); this.bridgeAddresses.add(ip); }
    }
    for (const [key, forwarder] of this.forwarders) {
      // Drop removed listeners, and failed ones so the next sync retries them.
      if (!wanted.has(key) || forwarder.failed) { forwarder.close(); this.forwarders.delete(key); }
    }
    for (const [key, backends] of wanted) {
      let forwarder = this.forwarders.get(key);
      if (!forwarder) {
        const [address, port] = [key.slice(0, key.lastIndexOf(':')), Number(key.slice(key.lastIndexOf(':') + 1))];
        forwarder = new Forwarder(address, port, this.log);
        this.forwarders.set(key, forwarder);
      }
      forwarder.backends = backends;
    }
    for (const ip of [...this.bridgeAddresses]) {
      if (!clusterIps.has(ip)) { removeBridgeAddress(ip); this.bridgeAddresses.delete(ip); }
    }
    this.hosts = hosts;
  }

  /** Hosts-file lines for a pod in `namespace`: every Service's DNS names, short names for its own namespace. */
  hostsFor(namespace: string): string {
    return this.hosts
      .map((h) => `${h.ip}\t${h.name}.${h.namespace}.svc.cluster.local ${h.name}.${h.namespace}.svc ${h.name}.${h.namespace}${h.namespace === namespace ? ` ${h.name}` : ''}`)
      .join('\n');
  }

  stop(): void {
    for (const forwarder of this.forwarders.values()) forwarder.close();
    this.forwarders.clear();
  }
}
