/**
 * When a one-process proxy says it runs without the allocator setting (src/proxy-process-env.ts):
 * only when the setting cannot reach it any other way.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { missingAllocatorSettingNotice, PROXY_GLIBC_TUNABLES } from '../../../src/proxy-process-env.js';

test('a one-process proxy on glibc without GLIBC_TUNABLES is told the setting and where it is explained', () => {
  const notice = missingAllocatorSettingNotice({}, 1, true);
  assert.ok(notice !== undefined);
  assert.ok(notice.includes(`GLIBC_TUNABLES=${PROXY_GLIBC_TUNABLES}`), notice);
  assert.match(notice, /docs\/proxy\.md, "Memory allocator setting"/);
});

test('no notice when the setting, or any value the operator chose, is in the environment', () => {
  assert.equal(missingAllocatorSettingNotice({ GLIBC_TUNABLES: PROXY_GLIBC_TUNABLES }, 1, true), undefined);
  assert.equal(missingAllocatorSettingNotice({ GLIBC_TUNABLES: 'glibc.malloc.arena_max=2' }, 1, true), undefined);
});

test('no notice with forked workers (the primary gives it to them) or without glibc', () => {
  assert.equal(missingAllocatorSettingNotice({}, 2, true), undefined);
  assert.equal(missingAllocatorSettingNotice({}, 1, false), undefined);
});

test('this machine (Debian, glibc) is detected as glibc, so its one-process proxies would say it', () => {
  assert.ok(missingAllocatorSettingNotice({}, 1) !== undefined);
});
