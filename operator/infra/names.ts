/**
 * Names and labels of a Gateway's proxy objects. Gateway names may be DNS subdomains up to
 * 253 characters with dots; Service names must be DNS-1035 labels (≤ 63, no dots) and label
 * values ≤ 63 characters, so long or dotted names are shortened with a stable hash suffix.
 * These names and the selector labels are part of the upgrade contract: a Deployment's
 * selector is immutable, so they must never change between operator versions.
 */
import { createHash } from 'node:crypto';

export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY_VALUE = 'tlsgate';
export const NAME_LABEL = 'app.kubernetes.io/name';
export const NAME_VALUE = 'tlsgate-proxy';
export const COMPONENT_LABEL = 'app.kubernetes.io/component';
/** The label GEP-1762 recommends on every object an implementation creates for a Gateway. */
export const GATEWAY_NAME_LABEL = 'gateway.networking.k8s.io/gateway-name';
/** The field manager of every server-side apply the operator makes. */
export const FIELD_MANAGER = 'tlsgate';

function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 8);
}

/** A DNS-1035 label (≤ 63) derived from `text`, hashed when it had to be altered. */
export function dnsLabel(text: string, max = 63): string {
  let label = text.toLowerCase().replace(/[^a-z0-9-]/g, '-').replace(/^[^a-z]+/, '').replace(/-+$/, '');
  if (label === text && label.length <= max) return label;
  const suffix = '-' + shortHash(text);
  label = label.slice(0, max - suffix.length).replace(/-+$/, '');
  return (label || 'g') + suffix;
}

/** A label value (≤ 63, alphanumeric at both ends) for `text`, hashed when altered. */
export function labelValue(text: string): string {
  if (/^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/.test(text)) return text;
  const suffix = '-' + shortHash(text);
  const head = text.replace(/[^-A-Za-z0-9_.]/g, '-').slice(0, 63 - suffix.length).replace(/^[^A-Za-z0-9]+/, '').replace(/[^A-Za-z0-9]+$/, '');
  return (head || 'g') + suffix;
}

export interface ProxyNames {
  /** Deployment, Service and ServiceAccount name. */
  workload: string;
  /** The Secret holding the proxy's client certificate for the config server. */
  clientCertSecret: string;
}

export function proxyNames(gatewayName: string): ProxyNames {
  // 63 - "-client-cert".length keeps the Secret name a label too, which is simplest to reason about.
  const workload = dnsLabel(`tlsgate-${gatewayName}`, 51);
  return { workload, clientCertSecret: `${workload}-client-cert` };
}

/** The labels that select a Gateway's proxy pods (and only those). */
export function selectorLabels(gatewayName: string): Record<string, string> {
  return { [NAME_LABEL]: NAME_VALUE, [GATEWAY_NAME_LABEL]: labelValue(gatewayName) };
}
