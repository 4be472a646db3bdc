// The manifest watcher on the real file system (issue 17 defect 2): a file replaced by a
// rename (how editors and `sed -i` save) must still be seen when it is then written in place,
// whether the file or its directory was given, and in subdirectories made after the start.
import assert from 'node:assert/strict';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { watchManifestPaths } from '../../../proxy/standalone/watcher.js';
import { eventually, sleep, tempDir } from '../proxy/helpers.js';

const DEBOUNCE_MS = 30;

/** Counts the watcher's callbacks; `settled()` waits until a change has been reported after `count`. */
function watching(t: { after(fn: () => void): void }, paths: string[]) {
  let changes = 0;
  const errors: Error[] = [];
  const watcher = watchManifestPaths(paths, { debounceMs: DEBOUNCE_MS, onChange: () => changes++, onError: (e) => errors.push(e) });
  t.after(() => watcher.close());
  return {
    errors,
    changes: () => changes,
    /** Waits for a reload after the step made since `before` changes. */
    async changedSince(before: number, what: string): Promise<void> {
      await eventually(() => changes > before, what, 3000);
      await sleep(DEBOUNCE_MS * 3); // let the burst settle, so the next step is a burst of its own
    },
  };
}

function renameOver(file: string, text: string): void {
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.tmp`);
  writeFileSync(temp, text);
  renameSync(temp, file);
}

for (const given of ['file', 'directory'] as const) {
  test(`an in-place write after a rename-over is seen (${given} argument)`, async (t) => {
    const dir = tempDir('tlsgate-watcher-');
    t.after(() => dir.remove());
    const file = path.join(dir.dir, 'gateway.yaml');
    writeFileSync(file, 'a: 1\n');
    const w = watching(t, [given === 'file' ? file : dir.dir]);
    await sleep(50);

    let before = w.changes();
    renameOver(file, 'a: 2\n');
    await w.changedSince(before, 'the rename-over');

    before = w.changes();
    writeFileSync(file, 'a: 3\n');
    await w.changedSince(before, 'the in-place write after the rename-over');

    // And again: every later save, of either kind, is seen too.
    before = w.changes();
    renameOver(file, 'a: 4\n');
    await w.changedSince(before, 'a second rename-over');
    before = w.changes();
    writeFileSync(file, 'a: 5\n');
    await w.changedSince(before, 'a second in-place write');
    assert.deepEqual(w.errors, []);
  });
}

test('a directory argument: files in a subdirectory made after the start are seen, rename-over included', async (t) => {
  const dir = tempDir('tlsgate-watcher-');
  t.after(() => dir.remove());
  writeFileSync(path.join(dir.dir, 'gateway.yaml'), 'a: 1\n');
  const w = watching(t, [dir.dir]);
  await sleep(50);

  let before = w.changes();
  const sub = path.join(dir.dir, 'team-a');
  mkdirSync(sub);
  await w.changedSince(before, 'the new subdirectory');

  const file = path.join(sub, 'routes.yaml');
  before = w.changes();
  writeFileSync(file, 'b: 1\n');
  await w.changedSince(before, 'a file written in the new subdirectory');

  before = w.changes();
  renameOver(file, 'b: 2\n');
  await w.changedSince(before, 'a rename-over in the subdirectory');
  before = w.changes();
  writeFileSync(file, 'b: 3\n');
  await w.changedSince(before, 'an in-place write after it');
  assert.deepEqual(w.errors, []);
});

test('a file argument: other files in its directory do not trigger a reload', async (t) => {
  const dir = tempDir('tlsgate-watcher-');
  t.after(() => dir.remove());
  const file = path.join(dir.dir, 'gateway.yaml');
  writeFileSync(file, 'a: 1\n');
  const w = watching(t, [file]);
  await sleep(50);
  writeFileSync(path.join(dir.dir, 'unrelated.yaml'), 'x: 1\n');
  await sleep(DEBOUNCE_MS * 5);
  assert.equal(w.changes(), 0);
  writeFileSync(file, 'a: 2\n');
  await w.changedSince(0, 'the watched file');
});
