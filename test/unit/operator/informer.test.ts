// The resilient informer against a scripted list/watch endpoint on loopback: the API server
// is the part this test does not test, so a small HTTP server plays it, including the
// failures a real one cannot be made to produce on demand (500 on watch, 410 Gone).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import * as k8s from '@kubernetes/client-node';
import { ResilientInformer } from '../../../operator/sources/informer.js';
import { Backoff } from '../../../operator/sources/backoff.js';
import { waitFor } from '../../cluster/control-plane/wait.js';
import { kubeConfigFor } from './local-api.js';

type WatchStep = (res: http.ServerResponse) => void;

function namespace(name: string, rv: number) {
  return { metadata: { name, resourceVersion: String(rv), creationTimestamp: '2026-11-27T06:00:00Z' } };
}

test('lists, follows the watch, restarts after errors, prunes what vanished, relists on 410', async (t) => {
  let objects = [namespace('a', 1), namespace('b', 2)];
  let rv = 10;
  let lists = 0;
  const watchSteps: WatchStep[] = [];
  const open = new Set<http.ServerResponse>();
  let closing = false;
  const server = http.createServer((req, res) => {
    if (closing) {
      res.destroy();
      return;
    }
    const url = new URL(req.url!, 'http://x');
    if (url.pathname !== '/api/v1/namespaces') {
      res.writeHead(404).end();
      return;
    }
    if (url.searchParams.get('watch') !== 'true') {
      lists++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kind: 'NamespaceList', apiVersion: 'v1', metadata: { resourceVersion: String(rv) }, items: objects }));
      return;
    }
    const step = watchSteps.shift();
    if (!step) {
      // Hold the watch open until the test ends.
      res.writeHead(200, { 'content-type': 'application/json' });
      res.flushHeaders(); // a real API server sends headers at once; node would wait for a body
      open.add(res);
      return;
    }
    step(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    // Every connection, not only the held watches: the informer may have opened a new watch
    // just before it is stopped, and a connection left open kept this file's process alive
    // after its tests had passed (about 1 run in 40, and once in CI).
    closing = true;
    for (const res of open) res.destroy();
    server.closeAllConnections();
    server.close();
  });
  const kc = kubeConfigFor(server);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const logs: string[] = [];
  let changes = 0;

  // Watch 1: one event, then a clean close (the informer re-watches by itself).
  watchSteps.push((res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ type: 'ADDED', object: { apiVersion: 'v1', kind: 'Namespace', ...namespace('c', 11) } }) + '\n');
  });
  // Watch 2: the server fails. Meanwhile b is deleted and d created, unseen by any watch.
  watchSteps.push((res) => {
    objects = [namespace('a', 1), namespace('c', 11), namespace('d', 12)];
    rv = 12;
    res.writeHead(500, { 'content-type': 'application/json' }).end('{"kind":"Status","code":500}');
  });
  // Watch 3 (after our restart and a fresh list): 410 Gone; d is gone by then.
  watchSteps.push((res) => {
    objects = [namespace('a', 1), namespace('c', 11)];
    rv = 13;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired' } }) + '\n');
  });

  const informer = new ResilientInformer(
    kc,
    { kind: 'Namespace', apiVersion: 'v1', path: '/api/v1/namespaces', list: () => core.listNamespace() as never },
    { resyncMs: 60_000, onChange: () => changes++, log: (m) => logs.push(m), backoff: new Backoff(5, 20) },
  );
  t.after(() => informer.stop());
  await informer.start();
  assert.equal(informer.synced, true);

  const names = () => informer.list().map((o) => o.metadata?.name).sort().join(',');
  await waitFor('a and c after the 410 relist', 5000, async () => (names() === 'a,c' && lists >= 3 ? true : undefined), 10);
  assert.equal(lists, 3, 'first list, the list after the restart, the relist after 410');
  assert.ok(logs.some((m) => /informer Namespace: watch failed: HTTP 500/.test(m)), logs.join('\n'));
  assert.ok(changes >= 4, 'every change to the store was reported');
  const a = informer.list().find((o) => o.metadata?.name === 'a')!;
  assert.equal(a.kind, 'Namespace', 'plain objects carry their kind');
  assert.equal(typeof a.metadata?.creationTimestamp, 'string', 'dates stay strings, as the watch sends them');
});

test('an optional kind whose CRD is not installed (404) counts as synced and empty', async (t) => {
  const server = http.createServer((_req, res) => res.writeHead(404, { 'content-type': 'application/json' }).end('{"kind":"Status","code":404}'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  const kc = kubeConfigFor(server);
  const custom = kc.makeApiClient(k8s.CustomObjectsApi);
  const informer = new ResilientInformer(
    kc,
    {
      kind: 'GatewayParameters',
      apiVersion: 'tlsgate.dev/v1alpha1',
      path: '/apis/tlsgate.dev/v1alpha1/gatewayparameters',
      list: () => custom.listClusterCustomObject({ group: 'tlsgate.dev', version: 'v1alpha1', plural: 'gatewayparameters' }) as never,
      optional: true,
    },
    { resyncMs: 60_000, onChange: () => undefined, log: () => undefined },
  );
  t.after(() => informer.stop());
  await informer.start();
  assert.equal(informer.synced, true);
  assert.deepEqual(informer.list(), []);
});
