// The session-ticket master Secret on the real API server, as operator replicas meet it at
// start (operator/ticket-keys.ts TicketKeySecretStore.loadOrCreate, with the install's RBAC):
//   - several replicas starting at once, none finding the Secret: one creates it, the others
//     get a 409 on their create (or find it) and read it; all end with the same master;
//   - a Secret that is there but unusable (a short master, no master field): an error naming
//     the Secret and the field, never the value, and the Secret left as it was.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';
import { loadTestKubeConfig, freshNamespace, deleteNamespace } from '../cluster/client.js';
import { MASTER_BYTES, MASTER_KEY, TICKET_KEYS_SECRET_NAME, TicketKeySecretStore } from '../../operator/ticket-keys.js';
import { deleteOperatorClusterRole, operatorKubeConfig, uniqueSuffix, waitFor } from './operator-support.js';

const REPLICAS = 5;
/** Rounds of the race at most: the 409 path must be taken in at least one (it was in each, when written). */
const MAX_ROUNDS = 5;

describe('operator: the session-ticket master Secret, created by replicas starting at once', () => {
  let admin: k8s.KubeConfig;
  let operatorAccess: k8s.KubeConfig;
  let ns: string;
  const clusterRole = `tlsgate-operator-it-${uniqueSuffix()}`;

  before(async () => {
    admin = loadTestKubeConfig();
    ns = await freshNamespace(admin, 'op-ticket-secret');
    operatorAccess = await operatorKubeConfig(admin, ns, clusterRole);
  });

  after(async () => {
    if (!admin) return;
    await deleteOperatorClusterRole(admin, clusterRole);
    if (ns) await deleteNamespace(admin, ns);
  });

  const core = () => admin.makeApiClient(k8s.CoreV1Api);
  const where = () => `Secret ${ns}/${TICKET_KEYS_SECRET_NAME}`;

  async function deleteSecret(): Promise<void> {
    await core().deleteNamespacedSecret({ name: TICKET_KEYS_SECRET_NAME, namespace: ns }).catch((err: { code?: number }) => {
      if (err.code !== 404) throw err;
    });
    await waitFor(`${where()} deleted`, 10_000, async () =>
      core().readNamespacedSecret({ name: TICKET_KEYS_SECRET_NAME, namespace: ns }).then(() => undefined, (err: { code?: number }) => err.code === 404 || undefined));
  }

  /** REPLICAS stores (each with its own API client and log) calling loadOrCreate at once. */
  async function startReplicas(): Promise<{ outcomes: PromiseSettledResult<Buffer>[]; logs: string[][] }> {
    const logs = Array.from({ length: REPLICAS }, (): string[] => []);
    const stores = logs.map((log) => new TicketKeySecretStore(operatorAccess, ns, (message) => log.push(message)));
    const outcomes = await Promise.allSettled(stores.map((store) => store.loadOrCreate()));
    return { outcomes, logs };
  }

  it(`${REPLICAS} replicas: one Secret, created by exactly one of them, and every replica holds its ${MASTER_BYTES}-byte master`, async (t) => {
    let after409 = 0;
    for (let round = 1; round <= MAX_ROUNDS && after409 === 0; round++) {
      await deleteSecret();
      const { outcomes, logs } = await startReplicas();
      const masters = outcomes.map((outcome, i) => {
        if (outcome.status === 'rejected') assert.fail(`replica ${i}: ${(outcome.reason as Error).message}`);
        return outcome.value;
      });
      const created = logs.filter((log) => log.some((line) => line.startsWith('created the session-ticket key Secret'))).length;
      const readAfter409 = logs.filter((log) => log.some((line) => line.includes('created by another replica meanwhile (409 on create)'))).length;
      t.diagnostic(`round ${round}: ${created} created, ${readAfter409} read it after a 409, ${REPLICAS - created - readAfter409} found it on their first read`);
      after409 += readAfter409;

      assert.equal(created, 1, `exactly one replica created the Secret: ${JSON.stringify(logs)}`);
      const secrets = await core().listNamespacedSecret({ namespace: ns, labelSelector: 'app.kubernetes.io/component=ticket-keys' });
      assert.deepEqual(secrets.items.map((s) => s.metadata?.name), [TICKET_KEYS_SECRET_NAME], 'one ticket-key Secret in the namespace');
      const stored = Buffer.from(secrets.items[0]!.data?.[MASTER_KEY] ?? '', 'base64');
      assert.equal(stored.length, MASTER_BYTES);
      for (const [i, master] of masters.entries()) {
        assert.equal(master.length, MASTER_BYTES, `replica ${i}: master length`);
        assert.ok(master.equals(stored), `replica ${i} holds the master that is in the Secret`);
      }
      const encoded = stored.toString('base64');
      assert.equal(logs.flat().some((line) => line.includes(encoded) || line.includes(stored.toString('hex'))), false, 'the master is never logged');
    }
    assert.ok(after409 > 0, `the race was exercised: in ${MAX_ROUNDS} rounds no replica met a 409 on its create`);
  });

  it('a replica starting later reads the Secret that is there and creates nothing', async () => {
    const existing = await core().readNamespacedSecret({ name: TICKET_KEYS_SECRET_NAME, namespace: ns });
    const log: string[] = [];
    const master = await new TicketKeySecretStore(operatorAccess, ns, (message) => log.push(message)).loadOrCreate();
    assert.ok(master.equals(Buffer.from(existing.data![MASTER_KEY]!, 'base64')));
    assert.deepEqual(log, [], 'neither created nor met a 409');
    const now = await core().readNamespacedSecret({ name: TICKET_KEYS_SECRET_NAME, namespace: ns });
    assert.equal(now.metadata?.resourceVersion, existing.metadata?.resourceVersion, 'the Secret is unchanged');
  });

  const unusable: { what: string; data: Record<string, string>; error: RegExp }[] = [
    { what: 'a 16-byte master', data: { [MASTER_KEY]: randomBytes(16).toString('base64') }, error: new RegExp(`: data\\.${MASTER_KEY} must hold at least ${MASTER_BYTES} bytes, got 16$`) },
    { what: 'no master field', data: { key: randomBytes(MASTER_BYTES).toString('base64') }, error: new RegExp(`: data\\.${MASTER_KEY} is missing$`) },
  ];
  for (const { what, data, error } of unusable) {
    it(`a Secret with ${what}: every replica fails with an error naming the Secret and the field, and the Secret stays as it is`, async () => {
      await deleteSecret();
      const created = await core().createNamespacedSecret({ namespace: ns, body: { metadata: { name: TICKET_KEYS_SECRET_NAME }, type: 'Opaque', data } });
      const { outcomes, logs } = await startReplicas();
      assert.deepEqual(logs.flat(), [], 'none created a Secret or met a 409');
      for (const outcome of outcomes) {
        assert.equal(outcome.status, 'rejected', 'an unusable master is an error, not a new master');
        const message = ((outcome as PromiseRejectedResult).reason as Error).message;
        assert.ok(message.startsWith(`${where()}: `), `names the Secret: ${message}`);
        assert.match(message, error);
        for (const value of Object.values(data)) assert.equal(message.includes(value), false, 'the value is not in the error');
      }
      const now = await core().readNamespacedSecret({ name: TICKET_KEYS_SECRET_NAME, namespace: ns });
      assert.equal(now.metadata?.resourceVersion, created.metadata?.resourceVersion, 'not replaced or changed');
      assert.deepEqual(now.data, data);
    });
  }
});
