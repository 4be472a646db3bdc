/**
 * In a cluster every Gateway gets its own address, so two Gateways may both use :443. In
 * standalone mode every Gateway is served on one address, so they cannot: the first Gateway
 * to claim a port keeps it (across reloads too, so that an edit never moves a port from a
 * Gateway that serves traffic to another), and the other is served without that port, with a
 * clear error naming both. Pure, so it is easy to reason about and to test.
 */
import type { ProxyConfig } from '../../src/proxy-config.js';

export const MAX_PORT = 65535;

export interface PortConflict {
  /** `namespace/name` of the Gateway that does not get the port. */
  gateway: string;
  port: number;
  servedPort: number;
  /** `namespace/name` of the Gateway that keeps it; absent when the port is out of range. */
  heldBy?: string;
  message: string;
}

export interface PortClaimResult {
  /** The configs to apply: conflicting ports removed (with a distinct version), empty ones dropped. */
  configs: ProxyConfig[];
  conflicts: PortConflict[];
  /** Served port → owning Gateway; pass back in on the next reload. */
  owners: Map<number, string>;
}

/**
 * @param configs    translate's proxy configs
 * @param arrival    Gateway keys in the order they appear in the manifests ("first come")
 * @param previous   the owners from the previous reload
 */
export function claimPorts(
  configs: readonly ProxyConfig[],
  arrival: readonly string[],
  portOffset: number,
  address: string,
  previous: ReadonlyMap<number, string> = new Map(),
): PortClaimResult {
  const keyOf = (c: ProxyConfig): string => `${c.gateway.namespace}/${c.gateway.name}`;
  const wanted = new Map<string, number[]>();
  for (const config of configs) wanted.set(keyOf(config), config.ports.map((p) => p.port + portOffset));

  // Owners that still want their port keep it; everything else is up for grabs.
  const owners = new Map<number, string>();
  for (const [port, gateway] of previous) {
    if (wanted.get(gateway)?.includes(port)) owners.set(port, gateway);
  }
  const rank = (key: string): number => {
    const index = arrival.indexOf(key);
    return index === -1 ? Number.MAX_SAFE_INTEGER : index;
  };
  const byArrival = [...configs].sort((a, b) => rank(keyOf(a)) - rank(keyOf(b)) || keyOf(a).localeCompare(keyOf(b)));

  const conflicts: PortConflict[] = [];
  const result = new Map<string, ProxyConfig>();
  for (const config of byArrival) {
    const gateway = keyOf(config);
    const kept = config.ports.filter((portConfig) => {
      const servedPort = portConfig.port + portOffset;
      if (servedPort < 1 || servedPort > MAX_PORT) {
        conflicts.push({
          gateway,
          port: portConfig.port,
          servedPort,
          message: `Gateway ${gateway}: listener port ${portConfig.port} + port offset ${portOffset} = ${servedPort} is outside 1..${MAX_PORT}; not served`,
        });
        return false;
      }
      const owner = owners.get(servedPort);
      if (owner === undefined) {
        owners.set(servedPort, gateway);
        return true;
      }
      if (owner === gateway) return true;
      conflicts.push({
        gateway,
        port: portConfig.port,
        servedPort,
        heldBy: owner,
        message: `Gateways ${owner} and ${gateway} both want port ${servedPort} on ${address}; ${owner} came first and keeps it, ${gateway} is served without it`,
      });
      return false;
    });
    if (kept.length === config.ports.length) {
      result.set(gateway, config);
    } else if (kept.length > 0) {
      const withheld = config.ports.filter((p) => !kept.includes(p)).map((p) => p.port);
      // A distinct version: this is not the config translate made, and the runtime must not
      // mistake it for the full one once the conflict is gone.
      result.set(gateway, { ...config, ports: kept, version: `${config.version}-without-${withheld.join('-')}` });
    }
  }
  // Keep translate's documented order (namespace/name).
  const ordered = configs.map(keyOf).filter((k) => result.has(k)).map((k) => result.get(k)!);
  return { configs: ordered, conflicts, owners };
}
