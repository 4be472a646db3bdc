import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { Coalescer } from '../../../operator/coalescer.js';

test('a burst of triggers becomes one run', async () => {
  let runs = 0;
  const coalescer = new Coalescer(async () => void runs++, { delayMs: 20, maxDelayMs: 1000, onError: (err) => assert.fail(String(err)) });
  for (let i = 0; i < 50; i++) coalescer.trigger();
  await sleep(5);
  coalescer.trigger();
  await sleep(30);
  await coalescer.idle();
  assert.equal(runs, 1);
});

test('runs never overlap; a trigger during a run causes exactly one more run after it', async () => {
  let running = 0;
  let maxRunning = 0;
  let runs = 0;
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const coalescer = new Coalescer(
    async () => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      runs++;
      if (runs === 1) await gate;
      running--;
    },
    { delayMs: 1, maxDelayMs: 1000, onError: (err) => assert.fail(String(err)) },
  );
  coalescer.trigger();
  while (runs === 0) await sleep(1);
  for (let i = 0; i < 10; i++) coalescer.trigger();
  release();
  while (runs < 2) await sleep(1);
  await coalescer.idle();
  assert.equal(runs, 2);
  assert.equal(maxRunning, 1);
});

test('a steady stream of triggers cannot postpone a run beyond maxDelayMs (by the injected clock)', async () => {
  let now = 0;
  let runs = 0;
  const coalescer = new Coalescer(async () => void runs++, { delayMs: 1_000_000, maxDelayMs: 10, onError: (err) => assert.fail(String(err)) }, () => now);
  coalescer.trigger();
  now = 10; // the deadline has passed: the next trigger schedules an immediate run
  coalescer.trigger();
  await coalescer.idle();
  assert.equal(runs, 1);
});

test('a failing run is reported and does not stop later runs', async () => {
  const errors: unknown[] = [];
  let runs = 0;
  const coalescer = new Coalescer(
    async () => {
      runs++;
      if (runs === 1) throw new Error('boom');
    },
    { delayMs: 1, maxDelayMs: 10, onError: (err) => errors.push(err) },
  );
  coalescer.trigger();
  await sleep(5);
  await coalescer.idle();
  coalescer.trigger();
  await sleep(5);
  await coalescer.idle();
  assert.equal(runs, 2);
  assert.equal((errors[0] as Error).message, 'boom');
  coalescer.stop();
  coalescer.trigger();
  await sleep(5);
  assert.equal(runs, 2, 'stopped: no more runs');
});

test('a trigger from inside the run, before its first await, still waits for the run to end', async () => {
  // The operator's reconcile publishes configs synchronously, and the config server's status
  // event triggers the coalescer from inside that call: it must queue one run after this one,
  // not start a second, overlapping run (which raced status writes into 409 conflicts).
  let running = 0;
  let maxRunning = 0;
  let runs = 0;
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const coalescer: Coalescer = new Coalescer(
    async () => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      runs++;
      if (runs === 1) {
        coalescer.trigger();
        await gate;
      }
      running--;
    },
    { delayMs: 1, maxDelayMs: 1000, onError: (err) => assert.fail(String(err)) },
  );
  coalescer.trigger();
  while (runs === 0) await sleep(1);
  await sleep(20); // long enough for a wrongly scheduled second run to start
  assert.equal(maxRunning, 1, 'the run triggered from inside did not start while the first was running');
  release();
  while (runs < 2) await sleep(1);
  await coalescer.idle();
  assert.equal(runs, 2, 'exactly one run follows');
  assert.equal(maxRunning, 1);
});

test('the quiet time counts from a trigger during a run: a run that outlasted it is followed at once, a short one is not', async () => {
  // The injected clock decides; delays are so long (1,000,000) that a run scheduled the old
  // way (a full delay after the run ended) could never start within this test.
  let now = 0;
  let runs = 0;
  const gates: (() => void)[] = [];
  const coalescer = new Coalescer(
    async () => {
      runs++;
      await new Promise<void>((resolve) => gates.push(resolve));
    },
    { delayMs: 1_000_000, maxDelayMs: 1_000_000, onError: (err) => assert.fail(String(err)) },
    () => now,
  );
  const waitForRuns = async (n: number): Promise<void> => {
    for (let i = 0; i < 200 && runs < n; i++) await sleep(5);
    assert.equal(runs, n, `run ${n} started`);
  };
  // stop() in finally: a failed assertion must not leave a 1,000,000 ms timer holding the process.
  try {
    coalescer.trigger();
    now = 1_000_000; // past maxDelayMs: the next trigger runs at once
    coalescer.trigger();
    await waitForRuns(1);
    now += 1;
    coalescer.trigger(); // during the run
    now += 1_000_000; // the run outlasts the quiet time of that trigger
    gates.shift()!();
    await waitForRuns(2);

    // A trigger during the second run, which ends well within that trigger's quiet time.
    coalescer.trigger();
    now += 10;
    gates.shift()!();
    await sleep(30);
    assert.equal(runs, 2, 'the follow-up waits for the quiet time after the trigger');
  } finally {
    coalescer.stop();
    for (const open of gates.splice(0)) open();
  }
});
