// The follower's duties (operator/step-down.ts), found by the e2e fault test that stops the
// API server for 60 s: the leader steps down at its renew deadline while its label cannot be
// removed; when the other replica wins the Lease afterwards, the proxies must end up there.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { retryWhile, stepDown, stepDownTiming, type StepDownActions } from '../../../operator/step-down.js';

interface Script {
  /** Results of successive label removals (then: success). */
  labelResults?: boolean[];
  /** Answers of successive proxiesConnected() calls (then: false). */
  connected?: boolean[];
  /** Called before each stillFollowing() answer; return false to end the follow. */
  following?: (calls: string[]) => boolean;
}

function script({ labelResults = [], connected = [], following = () => true }: Script): { calls: string[]; actions: StepDownActions } {
  const calls: string[] = [];
  return {
    calls,
    actions: {
      removeLeaderLabel: async () => {
        const ok = labelResults.shift() ?? true;
        calls.push(ok ? 'label removed' : 'label removal failed');
        return ok;
      },
      proxiesConnected: () => connected.shift() ?? false,
      handOverProxies: async () => { calls.push('handed over'); },
      stillFollowing: () => following(calls),
    },
  };
}

const fast = { retryMs: () => 1, checkMs: 1 };

test('while the API server is away the label removal is retried; proxies are handed over only after it succeeded', async () => {
  // Follow until the handover happened and one more check found nobody connected.
  let checksAfterHandover = 0;
  const { calls, actions } = script({
    labelResults: [false, false, false, true],
    connected: [true],
    following: (c) => !c.includes('handed over') || checksAfterHandover++ < 1,
  });
  assert.equal(await stepDown(actions, fast), 1);
  assert.deepEqual(calls, ['label removal failed', 'label removal failed', 'label removal failed', 'label removed', 'handed over']);
});

test('proxies that come back to the follower (endpoints not yet updated) are handed over again', async () => {
  let checks = 0;
  const { calls, actions } = script({ connected: [true, true, false, true, false, false], following: () => checks++ < 7 });
  assert.equal(await stepDown(actions, fast), 3);
  assert.deepEqual(calls, ['label removed', 'handed over', 'handed over', 'handed over']);
});

test('leading again (or stopping) while the label cannot be removed ends the step-down: nothing is handed over', async () => {
  const { calls, actions } = script({
    labelResults: [false, false, false, false, false],
    connected: [true, true, true],
    following: (c) => c.length < 2, // re-elected after the second failure
  });
  assert.equal(await stepDown(actions, fast), 0);
  assert.deepEqual(calls, ['label removal failed', 'label removal failed']);
});

test('a follower without proxies connected hands nothing over (a fresh replica, or after a clean handover)', async () => {
  let checks = 0;
  const { calls, actions } = script({ following: () => checks++ < 4 });
  assert.equal(await stepDown(actions, fast), 0);
  assert.deepEqual(calls, ['label removed']);
});

test('retryWhile: retries until the step succeeds, or gives up once it is no longer wanted', async () => {
  const results = [false, false, true];
  let steps = 0;
  assert.equal(await retryWhile(async () => { steps++; return results.shift()!; }, () => true, () => 1), true);
  assert.equal(steps, 3);
  let wanted = 2;
  assert.equal(await retryWhile(async () => false, () => wanted-- > 0, () => 1), false);
});

test('label retries back off from 1 s to at most 10 s; followers check every 3 s', () => {
  assert.deepEqual([0, 1, 2, 3, 4, 10].map(stepDownTiming.retryMs), [1000, 2000, 4000, 8000, 10_000, 10_000]);
  assert.equal(stepDownTiming.checkMs, 3000);
});
