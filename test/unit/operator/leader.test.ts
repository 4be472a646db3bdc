// The leader elector's stop() against a scripted Lease endpoint on loopback: a renew that the
// API server has already applied but whose answer is still on its way when stop() begins
// (seen on the cluster: "is no longer the leader" then "became the leader" after SIGTERM).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { LeaderElector } from '../../../operator/leader.js';
import { waitFor } from '../../cluster/control-plane/wait.js';
import { kubeConfigFor } from './local-api.js';

interface LeaseRecord {
  holderIdentity?: string;
  renewTime?: string;
  leaseDurationSeconds?: number;
  resourceVersion: number;
}

/** One Lease with resourceVersion checks on replace; `holdNextReplace` applies a replace but delays its answer. */
function fakeLeaseServer(initial: LeaseRecord) {
  const state = { lease: initial, holdNextReplace: false, held: undefined as (() => void) | undefined, replaces: 0 };
  const body = () => ({
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name: 'lease', namespace: 'ns', resourceVersion: String(state.lease.resourceVersion) },
    spec: { holderIdentity: state.lease.holderIdentity, renewTime: state.lease.renewTime, leaseDurationSeconds: state.lease.leaseDurationSeconds },
  });
  const server = http.createServer((req, res) => {
    const send = (code: number, payload: unknown) => res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(payload));
    if (req.method === 'GET') return send(200, body());
    if (req.method !== 'PUT') return send(405, { kind: 'Status', code: 405 });
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString()));
    req.on('end', () => {
      const sent = JSON.parse(text);
      if (Number(sent.metadata.resourceVersion) !== state.lease.resourceVersion) return send(409, { kind: 'Status', code: 409, reason: 'Conflict' });
      state.replaces++;
      state.lease = { holderIdentity: sent.spec.holderIdentity ?? undefined, renewTime: sent.spec.renewTime, leaseDurationSeconds: sent.spec.leaseDurationSeconds, resourceVersion: state.lease.resourceVersion + 1 };
      const answer = body();
      if (state.holdNextReplace) {
        state.holdNextReplace = false;
        state.held = () => send(200, answer);
        return;
      }
      send(200, answer);
    });
  });
  return { server, state };
}

test('stop() while a renew is in flight: no leadership reported after stop, and the lease is released', async (t) => {
  const { server, state } = fakeLeaseServer({ holderIdentity: 'me', leaseDurationSeconds: 15, resourceVersion: 1 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  const kc = kubeConfigFor(server);
  const logs: string[] = [];
  const elector = new LeaderElector(kc, { namespace: 'ns', name: 'lease', identity: 'me', leaseDurationSeconds: 15, renewDeadlineSeconds: 10, retryPeriodSeconds: 0.05, log: (m) => logs.push(m) });
  const events: string[] = [];
  elector.on('started-leading', () => events.push('started'));
  elector.on('stopped-leading', () => events.push('stopped'));
  elector.start();
  await waitFor('leading', 5_000, async () => elector.isLeader || undefined);

  // The next renew is applied by the server, its answer held back.
  state.holdNextReplace = true;
  await waitFor('a renew held in flight', 5_000, async () => state.held);
  const stopping = elector.stop();
  const eventsAtStop = events.length;
  setTimeout(() => state.held!(), 100);
  await stopping;
  // Anything late (the held answer) has arrived by now.
  await new Promise((resolve) => setTimeout(resolve, 200));

  assert.equal(elector.isLeader, false, 'not leading after stop()');
  assert.deepEqual(events.slice(eventsAtStop - 1), ['started', 'stopped'], `after stop() began only "stopped-leading" (events: ${events.join(', ')}; logs: ${logs.join(' | ')})`);
  assert.equal(state.lease.holderIdentity, undefined, `the lease released (logs: ${logs.join(' | ')})`);
  assert.ok(!logs.some((l) => l.includes('release failed')), logs.join(' | '));
});
