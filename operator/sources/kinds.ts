/**
 * The kinds the operator watches: each with the cluster-wide list its informer starts from.
 *
 * Every list is paginated (PAGE_SIZE objects a request), so that no single response holds a
 * whole large collection. Secrets are the kind that grows without bound in real clusters
 * (Helm keeps every release as a Secret of ~10 KB or more), and tlsgate can only use two sorts:
 * certificates (`type: kubernetes.io/tls`, what certificateRefs and the proxies' client
 * certificates are) and its own Secrets (CA, session-ticket keys: labelled managed-by tlsgate).
 * So two Secret informers fill the snapshot's `secrets`, one per selector; no other Secret's
 * data is ever listed, watched or cached.
 */
import * as k8s from '@kubernetes/client-node';
import { GATEWAY_GROUP, GATEWAY_PARAMETERS_VERSION, TLSGATE_GROUP } from '../objects.js';
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE } from '../infra/names.js';
import type { InfraKind } from '../infra/apply.js';
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

/** An infrastructure kind watched only to notice it was deleted or changed by someone else. */
export interface OwnedKind extends WatchedKind {
  infraKind: InfraKind;
}

/** The Secrets translate can use: certificates. */
export const TLS_SECRET_FIELD_SELECTOR = 'type=kubernetes.io/tls';
/** Everything tlsgate creates carries this label (its CA and ticket-key Secrets among them). */
export const OWNED_LABEL_SELECTOR = `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}`;

/** Objects a list request returns at most; the rest follows by `continue`. */
export const PAGE_SIZE = 500;

type AnyList = { metadata?: { resourceVersion?: string; _continue?: string; continue?: string }; items: k8s.KubernetesObject[] };
type Page = (continueToken: string | undefined) => Promise<AnyList>;

/**
 * Every page of a list, as one list. The pages come from one consistent snapshot (the API
 * server guarantees it for `continue`), whose resourceVersion the first page carries; a
 * continue token that expired meanwhile is a 410, which restarts the informer and its list.
 */
export async function listAllPages(page: Page): Promise<AnyList> {
  const first = await page(undefined);
  const items = [...first.items];
  let token = continueOf(first);
  while (token) {
    const next = await page(token);
    items.push(...next.items);
    token = continueOf(next);
  }
  return { metadata: { resourceVersion: first.metadata?.resourceVersion }, items };
}

function continueOf(list: AnyList): string | undefined {
  // Typed lists call it `_continue`, the custom-objects API returns raw JSON with `continue`.
  return list.metadata?._continue || list.metadata?.continue || undefined;
}

export function watchedKinds(kubeConfig: k8s.KubeConfig): SnapshotKind[] {
  const custom = kubeConfig.makeApiClient(k8s.CustomObjectsApi);
  const core = kubeConfig.makeApiClient(k8s.CoreV1Api);
  const discovery = kubeConfig.makeApiClient(k8s.DiscoveryV1Api);
  const customKind = (field: SnapshotField, group: string, version: string, kind: string, plural: string, optional = false): SnapshotKind => ({
    field,
    kind,
    apiVersion: `${group}/${version}`,
    path: `/apis/${group}/${version}/${plural}`,
    list: () => listAllPages(async (_continue) => (await custom.listClusterCustomObject({ group, version, plural, limit: PAGE_SIZE, _continue })) as AnyList),
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
    {
      field: 'services',
      kind: 'Service',
      apiVersion: 'v1',
      path: '/api/v1/services',
      list: () => listAllPages(async (_continue) => (await core.listServiceForAllNamespaces({ limit: PAGE_SIZE, _continue })) as AnyList),
    },
    {
      field: 'endpointSlices',
      kind: 'EndpointSlice',
      apiVersion: 'discovery.k8s.io/v1',
      path: '/apis/discovery.k8s.io/v1/endpointslices',
      list: () => listAllPages(async (_continue) => (await discovery.listEndpointSliceForAllNamespaces({ limit: PAGE_SIZE, _continue })) as AnyList),
    },
    {
      field: 'secrets',
      kind: 'Secret',
      apiVersion: 'v1',
      path: '/api/v1/secrets',
      fieldSelector: TLS_SECRET_FIELD_SELECTOR,
      list: () =>
        listAllPages(async (_continue) => (await core.listSecretForAllNamespaces({ fieldSelector: TLS_SECRET_FIELD_SELECTOR, limit: PAGE_SIZE, _continue })) as AnyList),
    },
    {
      field: 'secrets',
      kind: 'Secret',
      apiVersion: 'v1',
      path: '/api/v1/secrets',
      labelSelector: OWNED_LABEL_SELECTOR,
      list: () =>
        listAllPages(async (_continue) => (await core.listSecretForAllNamespaces({ labelSelector: OWNED_LABEL_SELECTOR, limit: PAGE_SIZE, _continue })) as AnyList),
    },
    {
      field: 'namespaces',
      kind: 'Namespace',
      apiVersion: 'v1',
      path: '/api/v1/namespaces',
      list: () => listAllPages(async (_continue) => (await core.listNamespace({ limit: PAGE_SIZE, _continue })) as AnyList),
    },
  ];
}

/**
 * The proxy objects tlsgate owns, watched by its label so that one deleted or edited by
 * someone else is applied again at once rather than at the next full resync. (The Secrets and
 * Services among them are also in the snapshot's informers, but those do not say which object
 * changed; these few label-selected watches do.)
 */
export function ownedKinds(kubeConfig: k8s.KubeConfig): OwnedKind[] {
  const core = kubeConfig.makeApiClient(k8s.CoreV1Api);
  const apps = kubeConfig.makeApiClient(k8s.AppsV1Api);
  const labelSelector = OWNED_LABEL_SELECTOR;
  const owned = (infraKind: InfraKind, apiVersion: string, path: string, list: Page): OwnedKind => ({
    infraKind,
    kind: infraKind,
    apiVersion,
    path,
    labelSelector,
    list: () => listAllPages(list),
  });
  return [
    owned('Deployment', 'apps/v1', '/apis/apps/v1/deployments', async (_continue) => (await apps.listDeploymentForAllNamespaces({ labelSelector, limit: PAGE_SIZE, _continue })) as AnyList),
    owned('Service', 'v1', '/api/v1/services', async (_continue) => (await core.listServiceForAllNamespaces({ labelSelector, limit: PAGE_SIZE, _continue })) as AnyList),
    owned('ServiceAccount', 'v1', '/api/v1/serviceaccounts', async (_continue) => (await core.listServiceAccountForAllNamespaces({ labelSelector, limit: PAGE_SIZE, _continue })) as AnyList),
    owned('Secret', 'v1', '/api/v1/secrets', async (_continue) => (await core.listSecretForAllNamespaces({ labelSelector, limit: PAGE_SIZE, _continue })) as AnyList),
  ];
}
