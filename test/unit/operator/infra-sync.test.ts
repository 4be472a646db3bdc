// InfrastructureSync's drift bookkeeping and failure reporting. The API server is not what is
// tested here (the cluster test operator-drift does that), so a recording client stands in.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InfrastructureSync } from '../../../operator/infra/sync.js';
import type { AppliableObject, InfraClient, ObjectId } from '../../../operator/infra/apply.js';

class RecordingClient {
  applies: string[] = [];
  version = 100;
  failKind: string | undefined;
  async apply(object: AppliableObject): Promise<{ resourceVersion: string }> {
    if (object.kind === this.failKind) throw Object.assign(new Error('boom'), { code: 500 });
    this.applies.push(`${object.kind}/${object.metadata.name}`);
    return { resourceVersion: String(++this.version) };
  }
  async delete(_id: ObjectId): Promise<void> {}
  async listManaged(): Promise<ObjectId[]> {
    return [];
  }
}

const object = (kind: string, name: string, spec: unknown = { a: 1 }): AppliableObject => ({ apiVersion: 'v1', kind, metadata: { name, namespace: 'ns' }, spec });
const gateway = { gateway: 'ns/gw', objects: [object('ServiceAccount', 'p'), object('Service', 'p'), object('Deployment', 'p')] };

function setup() {
  const client = new RecordingClient();
  const logs: string[] = [];
  const sync = new InfrastructureSync(client as unknown as InfraClient, (m) => logs.push(m));
  return { client, logs, sync };
}

test('an unchanged rendering is not applied again; a deletion by someone else makes it due', async () => {
  const { client, sync } = setup();
  await sync.sync([gateway], false);
  assert.equal(client.applies.length, 3);
  await sync.sync([gateway], false);
  assert.equal(client.applies.length, 3, 'nothing changed, nothing applied');
  const deployment = { metadata: { name: 'p', namespace: 'ns', resourceVersion: '103' }, spec: { a: 1 } };
  const drift = sync.noticeChange('Deployment', 'delete', deployment, deployment);
  assert.deepEqual(drift, { gateway: 'ns/gw', id: { kind: 'Deployment', namespace: 'ns', name: 'p' }, what: 'deleted' });
  await sync.sync([gateway], false);
  assert.equal(client.applies.length, 6, 'the Gateway applied again');
});

test('our own write and a status-only change are not drift; an edit of what we render is', async () => {
  const { sync } = setup();
  await sync.sync([gateway], false);
  const ours = { metadata: { name: 'p', namespace: 'ns', resourceVersion: '102' }, spec: { a: 2 } };
  const previous = { metadata: { name: 'p', namespace: 'ns' }, spec: { a: 1 } };
  assert.equal(sync.noticeChange('Service', 'upsert', ours, previous), undefined, 'the version our apply returned');
  const before = { metadata: { name: 'p', namespace: 'ns', resourceVersion: '200' }, spec: { a: 1 } };
  const statusOnly = { ...before, metadata: { ...before.metadata, resourceVersion: '201' }, status: { loadBalancer: { ingress: [{ ip: '10.0.0.1' }] } } };
  assert.equal(sync.noticeChange('Service', 'upsert', statusOnly, before), undefined, 'status is not ours to set');
  const edited = { metadata: { name: 'p', namespace: 'ns', resourceVersion: '202' }, spec: { a: 9 } };
  assert.equal(sync.noticeChange('Service', 'upsert', edited, statusOnly)?.what, 'changed');
  assert.equal(sync.noticeChange('Service', 'upsert', { metadata: { name: 'other', namespace: 'ns', resourceVersion: '5' } }, undefined), undefined, 'not an object we applied');
});

test('a failed apply names the Gateway and the object, and the Gateway is tried again next time', async () => {
  const { client, logs, sync } = setup();
  client.failKind = 'Service';
  const result = await sync.sync([gateway], false);
  assert.deepEqual(result.failedGateways, ['ns/gw']);
  assert.match(logs.join('\n'), /infrastructure of Gateway ns\/gw: apply Service ns\/p: HTTP 500: boom/);
  client.failKind = undefined;
  const retried = await sync.sync([gateway], false);
  assert.deepEqual(retried.failedGateways, []);
  assert.deepEqual(client.applies.slice(-3), ['ServiceAccount/p', 'Service/p', 'Deployment/p']);
});
