/**
 * Rendering translate results as Kubernetes-style documents: every input GatewayClass,
 * Gateway, TLSRoute, HTTPRoute and ListenerSet with its computed status, then one `ProxyConfig` document per
 * Gateway. Used by `tlsgate translate` and the golden tests, so both print the same thing.
 */
import { stringify } from 'yaml';
import { redactProxyConfig, type ProxyConfig } from '../proxy-config.js';
import type { Snapshot, TranslateOutput } from '../gatewayapi/translate.js';
import type { KubeObject } from '../gatewayapi/types.js';

export const PROXY_CONFIG_API_VERSION = 'tlsgate.dev/v1alpha1';

export interface RenderOptions {
  /** Keep private keys in proxy configs (default: redacted). */
  showSecrets?: boolean;
}

const nsName = (o: KubeObject): string => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
const byNsName = (a: KubeObject, b: KubeObject): number => (nsName(a) < nsName(b) ? -1 : nsName(a) > nsName(b) ? 1 : 0);

/** Object with the conventional key order and the given status. */
function withStatus(obj: KubeObject & { spec?: unknown; status?: unknown }, status: unknown): Record<string, unknown> {
  const { apiVersion, kind, metadata, spec, status: _old, ...rest } = obj;
  void _old;
  const out: Record<string, unknown> = { apiVersion, kind, metadata, ...rest };
  if (spec !== undefined) out.spec = spec;
  if (status !== undefined) out.status = status;
  return out;
}

export function proxyConfigDocument(config: ProxyConfig, options: RenderOptions = {}): Record<string, unknown> {
  return {
    apiVersion: PROXY_CONFIG_API_VERSION,
    kind: 'ProxyConfig',
    metadata: { namespace: config.gateway.namespace, name: config.gateway.name },
    spec: options.showSecrets ? config : redactProxyConfig(config),
  };
}

/**
 * The documents to print, in a fixed order: GatewayClasses by name, Gateways, TLSRoutes,
 * HTTPRoutes and ListenerSets by namespace/name, then proxy configs by Gateway. Objects tlsgate does not own keep the
 * status they came with.
 */
export function renderDocuments(snapshot: Snapshot, output: TranslateOutput, options: RenderOptions = {}): Record<string, unknown>[] {
  const docs: Record<string, unknown>[] = [];
  const classStatus = new Map(output.gatewayClasses.map((c) => [c.name, c.status]));
  for (const gc of [...snapshot.gatewayClasses].sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1))) {
    docs.push(withStatus(gc, classStatus.get(gc.metadata.name) ?? gc.status));
  }
  const gatewayStatus = new Map(output.gateways.map((g) => [`${g.namespace}/${g.name}`, g.status]));
  for (const gw of [...snapshot.gateways].sort(byNsName)) docs.push(withStatus(gw, gatewayStatus.get(nsName(gw)) ?? gw.status));
  const routeStatus = new Map(output.tlsRoutes.map((r) => [`${r.namespace}/${r.name}`, r.status]));
  for (const route of [...snapshot.tlsRoutes].sort(byNsName)) docs.push(withStatus(route, routeStatus.get(nsName(route)) ?? route.status));
  const httpRouteStatus = new Map(output.httpRoutes.map((r) => [`${r.namespace}/${r.name}`, r.status]));
  for (const route of [...snapshot.httpRoutes].sort(byNsName)) docs.push(withStatus(route, httpRouteStatus.get(nsName(route)) ?? route.status));
  const listenerSetStatus = new Map(output.listenerSets.map((l) => [`${l.namespace}/${l.name}`, l.status]));
  for (const ls of [...(snapshot.listenerSets ?? [])].sort(byNsName)) docs.push(withStatus(ls, listenerSetStatus.get(nsName(ls)) ?? ls.status));
  for (const config of output.proxyConfigs) docs.push(proxyConfigDocument(config, options));
  return docs;
}

export function toYamlStream(docs: readonly unknown[]): string {
  return docs.map((d) => stringify(d, { lineWidth: 0, aliasDuplicateObjects: false })).join('---\n');
}

export function toJsonList(docs: readonly unknown[]): string {
  return JSON.stringify({ apiVersion: 'v1', kind: 'List', items: docs }, null, 2) + '\n';
}
