/** The kinds the operator watches, each with the cluster-wide list its informer starts from. */
import * as k8s from '@kubernetes/client-node';
import { GATEWAY_GROUP, GATEWAY_PARAMETERS_VERSION, TLSGATE_GROUP } from '../objects.js';
import type { WatchedKind } from './informer.js';

/** Snapshot field each kind fills (see src/gatewayapi/translate.ts Snapshot). */
export type SnapshotField =
  | 'gatewayClasses'
  | 'gateways'
  | 'tlsRoutes'
  | 'httpRoutes'
  | 'referenceGrants'
  | 'services'
  | 'endpointSlices'
  | 'secrets'
  | 'namespaces'
  | 'gatewayParameters'
  | 'listenerSets';

export interface SnapshotKind extends WatchedKind {
  field: SnapshotField;
}

type AnyList = { metadata?: { resourceVersion?: string }; items: k8s.KubernetesObject[] };

export function watchedKinds(kubeConfig: k8s.KubeConfig): SnapshotKind[] {
  const custom = kubeConfig.makeApiClient(k8s.CustomObjectsApi);
  const core = kubeConfig.makeApiClient(k8s.CoreV1Api);
  const discovery = kubeConfig.makeApiClient(k8s.DiscoveryV1Api);
  const customKind = (field: SnapshotField, group: string, version: string, kind: string, plural: string, optional = false): SnapshotKind => ({
    field,
    kind,
    apiVersion: `${group}/${version}`,
    path: `/apis/${group}/${version}/${plural}`,
    list: async () => (await custom.listClusterCustomObject({ group, version, plural })) as AnyList,
    optional,
  });
  return [
    customKind('gatewayClasses', GATEWAY_GROUP, 'v1', 'GatewayClass', 'gatewayclasses'),
    customKind('gateways', GATEWAY_GROUP, 'v1', 'Gateway', 'gateways'),
    customKind('tlsRoutes', GATEWAY_GROUP, 'v1', 'TLSRoute', 'tlsroutes'),
    customKind('httpRoutes', GATEWAY_GROUP, 'v1', 'HTTPRoute', 'httproutes'),
    // Optional: a cluster without the (standard-channel) ListenerSet CRD still runs everything else.
    customKind('listenerSets', GATEWAY_GROUP, 'v1', 'ListenerSet', 'listenersets', true),
    customKind('referenceGrants', GATEWAY_GROUP, 'v1', 'ReferenceGrant', 'referencegrants'),
    customKind('gatewayParameters', TLSGATE_GROUP, GATEWAY_PARAMETERS_VERSION, 'GatewayParameters', 'gatewayparameters', true),
    { field: 'services', kind: 'Service', apiVersion: 'v1', path: '/api/v1/services', list: async () => (await core.listServiceForAllNamespaces()) as AnyList },
    {
      field: 'endpointSlices',
      kind: 'EndpointSlice',
      apiVersion: 'discovery.k8s.io/v1',
      path: '/apis/discovery.k8s.io/v1/endpointslices',
      list: async () => (await discovery.listEndpointSliceForAllNamespaces()) as AnyList,
    },
    { field: 'secrets', kind: 'Secret', apiVersion: 'v1', path: '/api/v1/secrets', list: async () => (await core.listSecretForAllNamespaces()) as AnyList },
    { field: 'namespaces', kind: 'Namespace', apiVersion: 'v1', path: '/api/v1/namespaces', list: async () => (await core.listNamespace()) as AnyList },
  ];
}
