/**
 * From informer stores to translate's input: the Snapshot, and the runtime facts translate
 * cannot know (each Gateway's addresses from its proxy Service, and what its proxies ACKed
 * or NACKed on the config server).
 */
import type { GatewayRuntime, Snapshot } from '../src/gatewayapi/translate.js';
import type { GatewayDeliveryStatus } from './config-server.js';
import type { KubeObject, ServiceObject } from './objects.js';
import { objectKey } from './objects.js';
import { proxyNames } from './infra/names.js';
import type { SnapshotField } from './sources/kinds.js';

export type Stores = Record<SnapshotField, KubeObject[]>;

export function buildSnapshot(stores: Stores): Snapshot {
  // The informer stores hold plain API objects: exactly translate's input shapes.
  return {
    gatewayClasses: stores.gatewayClasses as unknown as Snapshot['gatewayClasses'],
    gateways: stores.gateways as unknown as Snapshot['gateways'],
    tlsRoutes: stores.tlsRoutes as unknown as Snapshot['tlsRoutes'],
    httpRoutes: stores.httpRoutes as unknown as Snapshot['httpRoutes'],
    referenceGrants: stores.referenceGrants as unknown as Snapshot['referenceGrants'],
    services: stores.services as unknown as Snapshot['services'],
    endpointSlices: stores.endpointSlices as unknown as Snapshot['endpointSlices'],
    secrets: stores.secrets as unknown as Snapshot['secrets'],
    namespaces: stores.namespaces as unknown as Snapshot['namespaces'],
    gatewayParameters: stores.gatewayParameters as unknown as Snapshot['gatewayParameters'],
    listenerSets: (stores.listenerSets ?? []) as unknown as Snapshot['listenerSets'],
  };
}

/** Gateway addresses from its proxy Service: load-balancer ingress, else the cluster IP. */
export function serviceAddresses(service: ServiceObject | undefined): GatewayRuntime['addresses'] {
  if (!service) return [];
  const addresses: GatewayRuntime['addresses'] = [];
  for (const ingress of service.status?.loadBalancer?.ingress ?? []) {
    if (ingress.ip) addresses.push({ type: 'IPAddress', value: ingress.ip });
    else if (ingress.hostname) addresses.push({ type: 'Hostname', value: ingress.hostname });
  }
  const spec = (service.spec ?? {}) as { type?: string; clusterIP?: string };
  // A LoadBalancer Service without ingress has no external address yet: AddressNotAssigned.
  if (addresses.length === 0 && spec.type !== 'LoadBalancer' && spec.clusterIP && spec.clusterIP !== 'None') {
    addresses.push({ type: 'IPAddress', value: spec.clusterIP });
  }
  return addresses;
}

/** Runtime facts per "namespace/name" of every Gateway in the snapshot. */
export function buildRuntime(
  snapshot: Snapshot,
  delivery: (gatewayKey: string) => GatewayDeliveryStatus | undefined,
): Record<string, GatewayRuntime> {
  const services = new Map<string, ServiceObject>();
  for (const service of snapshot.services as unknown as ServiceObject[]) {
    services.set(objectKey(service.metadata?.namespace, service.metadata?.name), service);
  }
  const runtime: Record<string, GatewayRuntime> = {};
  for (const gateway of snapshot.gateways) {
    const namespace = gateway.metadata.namespace ?? 'default';
    const key = objectKey(namespace, gateway.metadata.name);
    const service = services.get(objectKey(namespace, proxyNames(gateway.metadata.name).workload));
    const entry: GatewayRuntime = { addresses: serviceAddresses(service) };
    const status = delivery(key);
    if (status?.ackedVersion && status.connectedProxies > 0) entry.acknowledgedVersion = status.ackedVersion;
    const message = deliveryMessage(status);
    if (message) entry.message = message;
    runtime[key] = entry;
  }
  return runtime;
}

/** Why a Gateway's proxies do not serve its current config, when the config server knows. */
export function deliveryMessage(status: GatewayDeliveryStatus | undefined): string | undefined {
  if (!status) return undefined;
  if (status.nack && (status.nack.version === null || status.nack.version === status.currentVersion)) {
    return `A proxy rejected config version ${status.nack.version ?? '(unknown)'}: ${status.nack.error}`;
  }
  if (status.connectedProxies === 0) return 'Waiting for a proxy to connect to the config server';
  if (status.currentVersion && status.ackedProxies === 0) return `Waiting for a proxy to acknowledge config version ${status.currentVersion}`;
  return undefined;
}
