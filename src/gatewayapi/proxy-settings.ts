/** Proxy settings from GatewayParameters `spec.proxy` (class defaults, Gateway values win). */
import type { ProxySettings } from '../proxy-config.js';
import type { GatewayParameters } from './types.js';

/** Sorted, so settings objects come out with sorted keys (canonical-json.ts). */
const PROXY_SETTING_KEYS = [
  'clientHelloTimeoutMs',
  'connectTimeoutMs',
  'idleTimeoutMs',
  'maxClientHelloBytes',
  'maxConnectionsPerListener',
] as const;

/** The numeric proxy settings of a GatewayParameters object (spec.proxy), ignoring anything else. */
export function settingsOf(params: GatewayParameters | undefined): ProxySettings | undefined {
  const proxy = params?.spec?.proxy;
  if (!proxy) return undefined;
  const settings: ProxySettings = {};
  for (const k of PROXY_SETTING_KEYS) {
    const v = proxy[k];
    if (typeof v === 'number' && Number.isFinite(v) && v > 0) settings[k] = v;
  }
  return Object.keys(settings).length > 0 ? settings : undefined;
}

export function mergeSettings(a: ProxySettings | undefined, b: ProxySettings | undefined): ProxySettings | undefined {
  if (!a) return b;
  if (!b) return a;
  // Rebuilt in a fixed key order so that the config hash never depends on merge order.
  const merged: ProxySettings = {};
  for (const k of PROXY_SETTING_KEYS) {
    const v = b[k] ?? a[k];
    if (v !== undefined) merged[k] = v;
  }
  return merged;
}
