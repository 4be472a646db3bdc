// The operator's watched kinds against a stand-in API server on loopback (the API server is
// not what is tested): Secrets are listed and watched only with their selectors, and every
// list is paginated and put back together in order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { ResilientInformer } from '../../../operator/sources/informer.js';
import { listAllPages, OWNED_LABEL_SELECTOR, PAGE_SIZE, TLS_SECRET_FIELD_SELECTOR, watchedKinds } from '../../../operator/sources/kinds.js';
import { waitFor } from '../../cluster/control-plane/wait.js';
import { kubeConfigFor } from './local-api.js';

test('listAllPages follows continue tokens and keeps the first page’s resourceVersion', async () => {
  const tokens: (string | undefined)[] = [];
  const pages: Record<string, { metadata: { resourceVersion?: string; _continue?: string; continue?: string }; items: { metadata: { name: string } }[] }> = {
    first: { metadata: { resourceVersion: '7', _continue: 'a' }, items: [{ metadata: { name: '1' } }] },
    a: { metadata: { resourceVersion: '9', continue: 'b' }, items: [{ metadata: { name: '2' } }] },
    b: { metadata: {}, items: [{ metadata: { name: '3' } }] },
  };
  const list = await listAllPages(async (token) => {
    tokens.push(token);
    return pages[token ?? 'first']!;
  });
  assert.deepEqual(tokens, [undefined, 'a', 'b']);
  assert.deepEqual(list.items.map((i) => i.metadata?.name), ['1', '2', '3']);
  assert.equal(list.metadata?.resourceVersion, '7');
});

test('Secrets: one informer per selector, both on list and watch, in pages of PAGE_SIZE', { timeout: 20_000 }, async (t) => {
  const requests: URL[] = [];
  const total = PAGE_SIZE + 3;
  const server = http.createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    requests.push(url);
    if (url.searchParams.get('watch') === 'true') {
      res.writeHead(200, { 'content-type': 'application/json' }); // an open watch with no events
      res.flushHeaders();
      return;
    }
    const tls = url.searchParams.get('fieldSelector') === TLS_SECRET_FIELD_SELECTOR;
    const start = Number(url.searchParams.get('continue') ?? 0);
    const count = tls ? total : 1;
    const limit = Number(url.searchParams.get('limit'));
    const items = Array.from({ length: Math.min(limit, count - start) }, (_, i) => ({
      metadata: { name: `${tls ? 'cert' : 'ours'}-${start + i}`, namespace: 'ns', resourceVersion: '1' },
      type: tls ? 'kubernetes.io/tls' : 'Opaque',
    }));
    const next = start + items.length < count ? String(start + items.length) : undefined;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ kind: 'SecretList', apiVersion: 'v1', metadata: { resourceVersion: '5', ...(next ? { continue: next } : {}) }, items }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  const kinds = watchedKinds(kubeConfigFor(server)).filter((k) => k.field === 'secrets');
  assert.equal(kinds.length, 2);
  const informers = kinds.map((kind) => new ResilientInformer(kubeConfigFor(server), kind, { resyncMs: 60_000, log: () => undefined, onChange: () => undefined }));
  t.after(() => informers.forEach((i) => i.stop()));
  await Promise.all(informers.map((i) => i.start()));
  assert.deepEqual(informers.map((i) => i.size).sort((a, b) => a - b), [1, total]);
  await waitFor('both watches', 5000, async () => requests.filter((u) => u.searchParams.get('watch') === 'true').length >= 2 || undefined);
  const secretRequests = requests.filter((u) => u.pathname === '/api/v1/secrets');
  for (const url of secretRequests) {
    const selectors = [url.searchParams.get('fieldSelector'), url.searchParams.get('labelSelector')];
    assert.ok(
      (selectors[0] === TLS_SECRET_FIELD_SELECTOR && selectors[1] === null) || (selectors[0] === null && selectors[1] === OWNED_LABEL_SELECTOR),
      `every Secret request is selected: ${url.search}`,
    );
    if (url.searchParams.get('watch') !== 'true') assert.equal(url.searchParams.get('limit'), String(PAGE_SIZE));
  }
  const tlsLists = secretRequests.filter((u) => u.searchParams.get('fieldSelector') && u.searchParams.get('watch') !== 'true');
  assert.deepEqual(tlsLists.map((u) => u.searchParams.get('continue')), [null, String(PAGE_SIZE)], 'two pages');
});
