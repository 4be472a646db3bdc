// Reconciling again after failed writes: the delay grows (with jitter) while writes keep
// failing, a clean reconcile resets it and cancels the pending retry, and stop() ends it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WriteRetry } from '../../../operator/write-retry.js';
import { Backoff } from '../../../operator/sources/backoff.js';

test('failed writes schedule a reconcile after a growing, jittered delay; success resets it', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  let triggers = 0;
  const retries: [string[], number][] = [];
  const retry = new WriteRetry({ trigger: () => triggers++, onRetry: (failed, delayMs) => retries.push([failed, delayMs]), backoff: new Backoff(1000, 8000, () => 0.5) });
  retry.settled(['status of Gateway ns/a']);
  assert.deepEqual(retries, [[['status of Gateway ns/a'], 750]], 'half fixed, half jitter');
  t.mock.timers.tick(749);
  assert.equal(triggers, 0);
  t.mock.timers.tick(1);
  assert.equal(triggers, 1);
  retry.settled(['status of Gateway ns/a']);
  retry.settled(['status of Gateway ns/a']);
  retry.settled(['status of Gateway ns/a']);
  retry.settled(['status of Gateway ns/a']);
  assert.deepEqual(retries.map(([, d]) => d), [750, 1500, 3000, 6000, 6000], 'doubling up to the cap');
  t.mock.timers.tick(6000);
  assert.equal(triggers, 2, 'a later failure replaces the pending retry; only one fires');
  retry.settled([]);
  retry.settled(['infrastructure of Gateway ns/b']);
  assert.equal(retries.at(-1)![1], 750, 'a clean reconcile reset the backoff');
  retry.settled([]);
  t.mock.timers.tick(10_000);
  assert.equal(triggers, 2, 'a clean reconcile cancels the pending retry');
  retry.settled(['x']);
  retry.stop();
  t.mock.timers.tick(10_000);
  assert.equal(triggers, 2, 'stopped');
  retry.settled(['y']);
  assert.equal(retries.length, 7, 'nothing scheduled after stop');
});
