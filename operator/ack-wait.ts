// Waiting briefly for proxies to acknowledge a config just published, before statuses are
// written. Without it, every route change would write the Gateway `Programmed=False/Pending`
// (the new version is not acknowledged at the instant of publishing) and, a few milliseconds
// later, `Programmed=True` again: a flapping condition, an Event per change, and
// `kubectl wait --for=condition=Programmed` returning on a stale True. Proxies normally
// answer within tens of milliseconds; a proxy that does not answer within the grace period
// is reported as it is (Pending, or the NACK's error).
import type { EventEmitter } from 'node:events';
import type { GatewayDeliveryStatus } from './config-server.js';

/** The part of the config server this needs: its per-Gateway status and 'status' events. */
export interface DeliveryStatusSource extends Pick<EventEmitter, 'on' | 'off'> {
  status(gateway: string): GatewayDeliveryStatus;
}

/** Settled: the published version is acknowledged, a proxy rejected it, or no proxy is there to answer. */
export function deliverySettled(status: GatewayDeliveryStatus): boolean {
  if (status.currentVersion === undefined || status.connectedProxies === 0) return true;
  if (status.ackedProxies > 0) return true;
  return status.nack !== undefined && (status.nack.version === null || status.nack.version === status.currentVersion);
}

/**
 * Resolves once every Gateway in `gateways` has settled, or after `graceMs`. Never rejects:
 * the caller writes whatever status the proxies have reached by then.
 */
export function awaitDelivery(source: DeliveryStatusSource, gateways: readonly string[], graceMs: number): Promise<void> {
  const pending = new Set(gateways.filter((gateway) => !deliverySettled(source.status(gateway))));
  if (pending.size === 0 || graceMs <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      source.off('status', onStatus);
      resolve();
    };
    const onStatus = (gateway: string, status: GatewayDeliveryStatus) => {
      if (pending.has(gateway) && deliverySettled(status)) pending.delete(gateway);
      if (pending.size === 0) done();
    };
    const timer = setTimeout(done, graceMs);
    source.on('status', onStatus);
  });
}
