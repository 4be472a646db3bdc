// Leader election on a real coordination.k8s.io/v1 Lease: exactly one leader among two
// candidates, failover after a crash (lease expiry by local observation), fast handover on
// a graceful stop, and MicroTime timestamps the API server accepts.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import * as k8s from '@kubernetes/client-node';
import { loadTestKubeConfig, freshNamespace, deleteNamespace } from '../cluster/client.js';
import { LeaderElector } from '../../operator/leader.js';
import { eventually } from './operator-support.js';

describe('operator: leader election', () => {
  let kc: k8s.KubeConfig;
  let ns: string;
  const electors: LeaderElector[] = [];
  const logs: string[] = [];

  const candidate = (identity: string) => {
    const elector = new LeaderElector(kc, {
      namespace: ns,
      name: 'tlsgate-operator',
      identity,
      leaseDurationSeconds: 4,
      renewDeadlineSeconds: 3,
      retryPeriodSeconds: 0.5,
      log: (m) => logs.push(m),
    });
    electors.push(elector);
    elector.start();
    return elector;
  };

  before(async () => {
    kc = loadTestKubeConfig();
    ns = await freshNamespace(kc, 'op-leader');
  });
  after(async () => {
    for (const elector of electors) await elector.stop({ release: false });
    await deleteNamespace(kc, ns);
  });

  it('two candidates: exactly one leader, recorded in the Lease with microsecond times', async () => {
    const a = candidate('replica-a');
    const b = candidate('replica-b');
    const leader = await eventually('a leader', async () => (a.isLeader ? a : b.isLeader ? b : undefined));
    // Sample for several lease-renewal periods: never two leaders, never a change of leader.
    for (let i = 0; i < 12; i++) {
      assert.equal(Number(a.isLeader) + Number(b.isLeader), 1, 'exactly one leader');
      assert.ok(leader.isLeader, 'the leader kept the lease while renewing');
      await sleep(250);
    }
    const lease = await kc.makeApiClient(k8s.CoordinationV1Api).readNamespacedLease({ name: 'tlsgate-operator', namespace: ns });
    assert.equal(lease.spec?.holderIdentity, leader === a ? 'replica-a' : 'replica-b');
    assert.equal(lease.spec?.leaseDurationSeconds, 4);
    // The raw JSON carries MicroTime with six fractional digits (a plain Date would be a 400).
    const raw = await kc.makeApiClient(k8s.CustomObjectsApi).getNamespacedCustomObject({ group: 'coordination.k8s.io', version: 'v1', namespace: ns, plural: 'leases', name: 'tlsgate-operator' });
    assert.match((raw as any).spec.renewTime, /\.\d{6}Z$/);
  });

  it('a crashed leader is replaced once its lease expires; a graceful stop hands over at once', async (t) => {
    const [a, b] = electors as [LeaderElector, LeaderElector];
    const leader = a.isLeader ? a : b;
    const follower = leader === a ? b : a;
    const before = await kc.makeApiClient(k8s.CoordinationV1Api).readNamespacedLease({ name: 'tlsgate-operator', namespace: ns });
    const crashedAt = performance.now();
    await leader.stop({ release: false }); // no release: the lease must expire
    await eventually('the follower takes over', async () => follower.isLeader, 20_000);
    t.diagnostic(`failover after a crash: ${Math.round(performance.now() - crashedAt)} ms (lease duration 4 s, retry period 0.5 s)`);
    const after = await kc.makeApiClient(k8s.CoordinationV1Api).readNamespacedLease({ name: 'tlsgate-operator', namespace: ns });
    assert.equal(after.spec?.leaseTransitions, (before.spec?.leaseTransitions ?? 0) + 1);
    assert.equal(leader.isLeader, false);

    const c = candidate('replica-c');
    await sleep(1500);
    assert.equal(c.isLeader, false, 'no takeover while the leader renews');
    const releasedAt = performance.now();
    await follower.stop(); // graceful: releases the lease
    await eventually('the third candidate takes over after the release', async () => c.isLeader, 10_000);
    t.diagnostic(`handover after a graceful stop: ${Math.round(performance.now() - releasedAt)} ms`);
  });
});
