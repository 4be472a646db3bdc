// The step-down after losing the Lease: found by the e2e fault test that stops the API server
// for 60 s (the leader steps down at its renew deadline while the label cannot be removed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stepDown, stepDownDelayMs } from '../../../operator/step-down.js';

function script(labelResults: boolean[], following: () => boolean = () => true) {
  const calls: string[] = [];
  return {
    calls,
    actions: {
      removeLeaderLabel: async () => {
        const ok = labelResults.shift() ?? true;
        calls.push(ok ? 'label removed' : 'label removal failed');
        return ok;
      },
      handOverProxies: async () => { calls.push('handed over'); },
      stillFollowing: following,
    },
  };
}

test('while the API server is away the label removal is retried, and proxies are handed over only after it succeeded', async () => {
  const { calls, actions } = script([false, false, false, true]);
  const result = await stepDown(actions, () => 1);
  assert.equal(result, 'handed-over');
  assert.deepEqual(calls, ['label removal failed', 'label removal failed', 'label removal failed', 'label removed', 'handed over']);
});

test('leading again (or stopping) while the label cannot be removed abandons the step-down: nothing is handed over', async () => {
  let following = true;
  const { calls, actions } = script([false, false, false, false, false], () => following);
  const done = stepDown(actions, (attempt) => {
    if (attempt === 1) following = false; // re-elected after the second failure
    return 1;
  });
  assert.equal(await done, 'abandoned');
  assert.deepEqual(calls, ['label removal failed', 'label removal failed']);
});

test('a normal step-down (the API answers) removes the label and hands over at once', async () => {
  const { calls, actions } = script([true]);
  assert.equal(await stepDown(actions, () => { throw new Error('no retry expected'); }), 'handed-over');
  assert.deepEqual(calls, ['label removed', 'handed over']);
});

test('retry delays grow from 1 s to at most 10 s', () => {
  assert.deepEqual([0, 1, 2, 3, 4, 10].map(stepDownDelayMs), [1000, 2000, 4000, 8000, 10_000, 10_000]);
});
