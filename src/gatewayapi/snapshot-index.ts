/**
 * Lookup tables over one Snapshot, built once per translate so that every reference is
 * resolved by namespace/name in O(1) instead of scanning lists (10,000 routes × refs).
 */
import type { EndpointConfig } from '../proxy-config.js';
import type { Snapshot } from './model.js';
import type { EndpointSlice, Gateway, GatewayClass, GatewayParameters, Secret, Service } from './types.js';
import { ReferenceGrantIndex } from './references.js';
import { stringMap } from './safe.js';

export const key = (namespace: string, name: string): string => `${namespace}/${name}`;

export function namespaceOf(obj: { metadata: { namespace?: string } }): string {
  return obj.metadata.namespace || 'default';
}

function byKey<T extends { metadata: { namespace?: string; name: string } }>(items: readonly T[]): Map<string, T> {
  const map = new Map<string, T>();
  for (const item of items) map.set(key(namespaceOf(item), item.metadata.name), item);
  return map;
}

export class SnapshotIndex {
  readonly gatewayClasses = new Map<string, GatewayClass>();
  readonly gateways: Map<string, Gateway>;
  readonly services: Map<string, Service>;
  readonly secrets: Map<string, Secret>;
  readonly gatewayParameters: Map<string, GatewayParameters>;
  /** EndpointSlices by the `namespace/service` they belong to (label kubernetes.io/service-name). */
  readonly endpointSlicesByService = new Map<string, EndpointSlice[]>();
  readonly namespaceLabels = new Map<string, Record<string, string>>();
  readonly grants: ReferenceGrantIndex;
  /** Ready endpoints per Service and Service port, filled lazily by backends.ts. */
  readonly endpointMemo = new Map<Service, Map<number, EndpointConfig[]>>();

  constructor(snapshot: Snapshot) {
    for (const gc of snapshot.gatewayClasses) this.gatewayClasses.set(gc.metadata.name, gc);
    this.gateways = byKey(snapshot.gateways);
    this.services = byKey(snapshot.services);
    this.secrets = byKey(snapshot.secrets);
    this.gatewayParameters = byKey(snapshot.gatewayParameters ?? []);
    for (const slice of snapshot.endpointSlices) {
      const service = stringMap(slice.metadata.labels)['kubernetes.io/service-name'];
      if (!service) continue;
      const k = key(namespaceOf(slice), service);
      const list = this.endpointSlicesByService.get(k);
      if (list) list.push(slice);
      else this.endpointSlicesByService.set(k, [slice]);
    }
    for (const ns of snapshot.namespaces) {
      // The API server always sets this label; objects from files may lack it.
      this.namespaceLabels.set(ns.metadata.name, {
        ...stringMap(ns.metadata.labels),
        'kubernetes.io/metadata.name': ns.metadata.name,
      });
    }
    this.grants = new ReferenceGrantIndex(snapshot.referenceGrants);
  }

  labelsOfNamespace(name: string): Record<string, string> {
    return this.namespaceLabels.get(name) ?? { 'kubernetes.io/metadata.name': name };
  }
}
