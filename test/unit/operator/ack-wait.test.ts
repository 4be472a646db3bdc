import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { GatewayDeliveryStatus } from '../../../operator/config-server.js';
import { awaitDelivery, deliverySettled } from '../../../operator/ack-wait.js';

/** Stands in for the config server's status bookkeeping (tested in test/unit/delivery). */
class FakeDelivery extends EventEmitter {
  statuses = new Map<string, GatewayDeliveryStatus>();
  status(gateway: string): GatewayDeliveryStatus {
    return this.statuses.get(gateway) ?? { connectedProxies: 0, ackedProxies: 0 };
  }
  set(gateway: string, status: GatewayDeliveryStatus): void {
    this.statuses.set(gateway, status);
    this.emit('status', gateway, status);
  }
}

const waiting: GatewayDeliveryStatus = { connectedProxies: 1, currentVersion: 'v2', ackedVersion: 'v1', ackedProxies: 0 };
const acked: GatewayDeliveryStatus = { connectedProxies: 1, currentVersion: 'v2', ackedVersion: 'v2', ackedProxies: 1 };

describe('awaitDelivery: a short wait for proxies to acknowledge a published config', () => {
  it('settled: acknowledged, rejected (this version or unknown), or nobody connected; not while only an older version is acknowledged', () => {
    assert.equal(deliverySettled(waiting), false);
    assert.equal(deliverySettled(acked), true);
    assert.equal(deliverySettled({ ...waiting, nack: { version: 'v2', error: 'bad' } }), true);
    assert.equal(deliverySettled({ ...waiting, nack: { version: null, error: 'bad' } }), true);
    assert.equal(deliverySettled({ ...waiting, nack: { version: 'v1', error: 'old' } }), false);
    assert.equal(deliverySettled({ connectedProxies: 0, currentVersion: 'v2', ackedProxies: 0 }), true);
  });

  it('resolves as soon as every waiting Gateway is acknowledged, well before the grace period', async () => {
    const delivery = new FakeDelivery();
    delivery.set('ns/a', waiting);
    delivery.set('ns/b', waiting);
    const started = performance.now();
    let resolved = false;
    const wait = awaitDelivery(delivery, ['ns/a', 'ns/b'], 10_000).then(() => (resolved = true));
    setTimeout(() => delivery.set('ns/a', acked), 10);
    await new Promise((r) => setTimeout(r, 40));
    assert.equal(resolved, false, 'still waiting for ns/b');
    delivery.set('ns/b', acked);
    await wait;
    assert.ok(performance.now() - started < 5_000, 'did not wait for the grace period');
    assert.equal(delivery.listenerCount('status'), 0, 'its listener is removed');
  });

  it('gives up after the grace period when a proxy never answers, and removes its listener', async () => {
    const delivery = new FakeDelivery();
    delivery.set('ns/a', waiting);
    const started = performance.now();
    await awaitDelivery(delivery, ['ns/a'], 50);
    assert.ok(performance.now() - started >= 45);
    assert.equal(delivery.listenerCount('status'), 0);
  });

  it('does not wait at all when nothing is pending', async () => {
    const delivery = new FakeDelivery();
    delivery.set('ns/a', acked);
    await awaitDelivery(delivery, ['ns/a', 'ns/unknown'], 60_000);
    assert.equal(delivery.listenerCount('status'), 0);
  });
});
