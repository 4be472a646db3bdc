import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildRuntime, deliveryMessage, serviceAddresses } from '../../../operator/snapshot.js';
import type { Snapshot } from '../../../src/gatewayapi/translate.js';

test('addresses come from load-balancer ingress, IPs and hostnames alike', () => {
  assert.deepEqual(
    serviceAddresses({ spec: { type: 'LoadBalancer', clusterIP: '10.0.0.9' }, status: { loadBalancer: { ingress: [{ ip: '192.0.2.1' }, { hostname: 'lb.example.com' }] } } }),
    [
      { type: 'IPAddress', value: '192.0.2.1' },
      { type: 'Hostname', value: 'lb.example.com' },
    ],
  );
});

test('a LoadBalancer without ingress has no address yet; ClusterIP and NodePort Services use the cluster IP', () => {
  assert.deepEqual(serviceAddresses({ spec: { type: 'LoadBalancer', clusterIP: '10.0.0.9' }, status: {} }), []);
  assert.deepEqual(serviceAddresses({ spec: { type: 'ClusterIP', clusterIP: '10.0.0.9' } }), [{ type: 'IPAddress', value: '10.0.0.9' }]);
  assert.deepEqual(serviceAddresses({ spec: { type: 'ClusterIP', clusterIP: 'None' } }), []);
  assert.deepEqual(serviceAddresses(undefined), []);
});

test('runtime: the acknowledged version counts only with a connected proxy; NACKs of the current version are explained', () => {
  const snapshot = {
    gateways: [
      { metadata: { namespace: 'default', name: 'a' }, spec: { gatewayClassName: 'c', listeners: [] } },
      { metadata: { namespace: 'default', name: 'b' }, spec: { gatewayClassName: 'c', listeners: [] } },
    ],
    services: [{ metadata: { namespace: 'default', name: 'tlsgate-a' }, spec: { type: 'LoadBalancer' }, status: { loadBalancer: { ingress: [{ ip: '192.0.2.7' }] } } }],
  } as unknown as Snapshot;
  const runtime = buildRuntime(snapshot, (key) =>
    key === 'default/a'
      ? { connectedProxies: 1, ackedProxies: 1, currentVersion: 'v2', ackedVersion: 'v2' }
      : { connectedProxies: 0, ackedProxies: 0, currentVersion: 'v1', ackedVersion: 'v1' },
  );
  assert.deepEqual(runtime['default/a'], { addresses: [{ type: 'IPAddress', value: '192.0.2.7' }], acknowledgedVersion: 'v2' });
  assert.equal(runtime['default/b']?.acknowledgedVersion, undefined);
  assert.match(runtime['default/b']!.message!, /Waiting for a proxy to connect/);
});

test('delivery messages: current-version NACK, stale NACK ignored, waiting for ACK', () => {
  assert.match(deliveryMessage({ connectedProxies: 1, ackedProxies: 0, currentVersion: 'v3', nack: { version: 'v3', error: 'listener tls: bad key' } })!, /rejected config version v3: listener tls: bad key/);
  assert.equal(deliveryMessage({ connectedProxies: 1, ackedProxies: 1, currentVersion: 'v3', ackedVersion: 'v3', nack: { version: 'v2', error: 'old' } }), undefined);
  assert.match(deliveryMessage({ connectedProxies: 2, ackedProxies: 0, currentVersion: 'v4', ackedVersion: 'v3' })!, /acknowledge config version v4/);
  assert.equal(deliveryMessage(undefined), undefined);
});
