// Reading a run of the upstream conformance suite: the outcome of every test from the
// `go test -v` log, and passed/failed/skipped per profile and level. Pure (text in, values out)
// so that scripts/conformance.mjs stays orchestration and this is unit-tested.
//
// Why not the suite's own report alone: in v1.6.1 the report is written before the parallel
// tests run (upstream bug #5142), so it counts them as passed whatever happens. The log is
// complete, and which profile and level a test counts for comes from the suite itself
// (list-conformance-tests, built from test/conformance/cmd).

/** One test of the suite as list-conformance-tests prints it. */
export interface SuiteTest {
  name: string;
  features: string[];
  provisional: boolean;
  parallel: boolean;
  /** Profile name -> the level the test counts at there. */
  profiles: Record<string, 'core' | 'extended'>;
}

export type Outcome =
  | { kind: 'passed' }
  | { kind: 'failed' }
  /** Skipped because the GatewayClass does not claim a feature the test needs: not counted, as upstream. */
  | { kind: 'not-claimed'; feature: string }
  /** Any other skip; counts against the profile (a skipped core test makes it `partial`). */
  | { kind: 'skipped'; reason: string }
  /** Started or expected but no result line: the binary died or timed out. */
  | { kind: 'no-result' };

const RESULT_LINE = /^\s*--- (PASS|FAIL|SKIP): TestConformance\/([^/\s]+) \(/;
const NOT_CLAIMED = /Skipping (\S+): suite does not support (\S+)/;
const OTHER_SKIP = /Skipping (\S+): (.+)$/;

/**
 * The outcome of each top-level test (`TestConformance/<name>`) in a `-test.v` log. Sub-tests
 * (`TestConformance/<name>/<case>`) are part of their test's result and not listed.
 */
export function parseSuiteLog(log: string): Map<string, Outcome> {
  const results = new Map<string, 'PASS' | 'FAIL' | 'SKIP'>();
  const notClaimed = new Map<string, string>();
  const skipReasons = new Map<string, string>();
  for (const line of log.split('\n')) {
    const result = RESULT_LINE.exec(line);
    if (result) {
      results.set(result[2]!, result[1] as 'PASS' | 'FAIL' | 'SKIP');
      continue;
    }
    const unsupported = NOT_CLAIMED.exec(line);
    if (unsupported) {
      notClaimed.set(unsupported[1]!, unsupported[2]!);
      continue;
    }
    const skip = OTHER_SKIP.exec(line);
    if (skip) skipReasons.set(skip[1]!, skip[2]!.trim());
  }
  const outcomes = new Map<string, Outcome>();
  for (const [name, result] of results) {
    if (result === 'PASS') outcomes.set(name, { kind: 'passed' });
    else if (result === 'FAIL') outcomes.set(name, { kind: 'failed' });
    else if (notClaimed.has(name)) outcomes.set(name, { kind: 'not-claimed', feature: notClaimed.get(name)! });
    else outcomes.set(name, { kind: 'skipped', reason: skipReasons.get(name) ?? 'no reason logged' });
  }
  return outcomes;
}

export interface LevelCounts {
  passed: string[];
  failed: string[];
  skipped: string[];
  noResult: string[];
  notClaimed: string[];
}

export interface ProfileCounts {
  profile: string;
  core: LevelCounts;
  extended: LevelCounts;
}

const emptyLevel = (): LevelCounts => ({ passed: [], failed: [], skipped: [], noResult: [], notClaimed: [] });

/** Counts per profile and level; a test the log never finished is `noResult`, never a pass. */
export function countByProfile(tests: SuiteTest[], outcomes: Map<string, Outcome>, profiles: string[]): ProfileCounts[] {
  return profiles.map((profile) => {
    const counts: ProfileCounts = { profile, core: emptyLevel(), extended: emptyLevel() };
    for (const test of tests) {
      const level = test.profiles[profile];
      if (!level) continue;
      const bucket = counts[level];
      const outcome = outcomes.get(test.name) ?? { kind: 'no-result' };
      switch (outcome.kind) {
        case 'passed': bucket.passed.push(test.name); break;
        case 'failed': bucket.failed.push(test.name); break;
        case 'skipped': bucket.skipped.push(test.name); break;
        case 'not-claimed': bucket.notClaimed.push(test.name); break;
        case 'no-result': bucket.noResult.push(test.name); break;
      }
    }
    return counts;
  });
}

/** `success` only when every counted test passed: what the report's result would say, with the log's failures in. */
export function levelResult(level: LevelCounts): 'success' | 'partial' | 'failure' {
  if (level.failed.length > 0 || level.noResult.length > 0) return 'failure';
  if (level.skipped.length > 0) return 'partial';
  return 'success';
}

function levelLine(name: string, level: LevelCounts): string {
  const counted = level.passed.length + level.failed.length + level.skipped.length + level.noResult.length;
  const parts = [`${level.passed.length} passed`, `${level.failed.length} failed`, `${level.skipped.length} skipped`];
  if (level.noResult.length > 0) parts.push(`${level.noResult.length} without a result`);
  const notClaimed = level.notClaimed.length > 0 ? `; ${level.notClaimed.length} not run (feature not claimed)` : '';
  return `  ${name}: ${levelResult(level)}, ${counted} tests: ${parts.join(', ')}${notClaimed}`;
}

/** The console summary: one block per profile, failing tests named. */
export function renderSummary(counts: ProfileCounts[]): string {
  const lines: string[] = [];
  for (const { profile, core, extended } of counts) {
    lines.push(`${profile}`);
    lines.push(levelLine('core', core));
    lines.push(levelLine('extended', extended));
    for (const [label, names] of [
      ['failed', [...core.failed, ...extended.failed]],
      ['skipped', [...core.skipped, ...extended.skipped]],
      ['without a result', [...core.noResult, ...extended.noResult]],
    ] as const) {
      if (names.length > 0) lines.push(`  ${label}: ${names.join(', ')}`);
    }
  }
  return lines.join('\n');
}

/**
 * Tests the report counts as passed although the log has them failed or unfinished: the
 * parallel tests of bug #5142. `reportFailed` holds every name in the report's failedTests.
 */
export function missingFromReport(counts: ProfileCounts[], reportFailed: Set<string>): string[] {
  const names = new Set<string>();
  for (const { core, extended } of counts) {
    for (const name of [...core.failed, ...extended.failed, ...core.noResult, ...extended.noResult]) {
      if (!reportFailed.has(name)) names.add(name);
    }
  }
  return [...names].sort();
}

export interface ReadmeInput {
  command: string;
  suiteCommand: string;
  date: string;
  commit: string;
  goVersion: string;
  nodeVersion: string;
  reportFile: string;
  logFile: string;
  claimedFeatures: string[];
  counts: ProfileCounts[];
  notInReport: string[];
  exitCode: number | null;
}

function markdownRow(profile: string, levelName: string, level: LevelCounts): string {
  const names = (list: string[]) => (list.length > 0 ? list.map((n) => `\`${n}\``).join(', ') : '');
  return `| ${profile} | ${levelName} | ${levelResult(level)} | ${level.passed.length} | ${level.failed.length} | ${level.skipped.length + level.noResult.length} | ${level.notClaimed.length} | ${names([...level.failed, ...level.skipped, ...level.noResult])} |`;
}

/** conformance/reports/<version>/tlsgate/README.md: how the report was made and what the log says. */
export function renderReadme(input: ReadmeInput): string {
  const rows = input.counts.flatMap(({ profile, core, extended }) => [markdownRow(profile, 'core', core), markdownRow(profile, 'extended', extended)]);
  return [
    '# tlsgate: Gateway API conformance reports',
    '',
    'The upstream Gateway API conformance suite, unmodified (Go module',
    '`sigs.k8s.io/gateway-api/conformance`, pinned in `test/conformance/go.mod`), run against tlsgate',
    'installed from `dist/install.yaml` on the cluster in a box (see `docs/conformance.md`).',
    'Supported features are read by the suite from the GatewayClass status; no test is skipped',
    'by flag and no feature exempted. Written by `scripts/conformance.mjs`.',
    '',
    '## How to reproduce',
    '',
    '```sh',
    input.command,
    '```',
    '',
    'which builds the suite and runs, with `KUBECONFIG` pointing at the cluster:',
    '',
    '```sh',
    input.suiteCommand,
    '```',
    '',
    '## Last run',
    '',
    `- Date: ${input.date}; commit ${input.commit}; ${input.goVersion}; Node ${input.nodeVersion}`,
    `- Report: [${input.reportFile}](${input.reportFile}); full log kept outside the repository (${input.logFile})`,
    `- Exit status of the suite: ${input.exitCode}`,
    `- Features claimed in the GatewayClass status: ${input.claimedFeatures.length > 0 ? input.claimedFeatures.map((f) => `\`${f}\``).join(', ') : '(none)'}`,
    '',
    'Counted from the test log (see below why not from the report). "Not claimed": extended tests',
    'the suite did not run because the GatewayClass does not list their feature.',
    '',
    '| Profile | Level | Result | Passed | Failed | Skipped / no result | Not claimed | Not passed |',
    '|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    '**Upstream bug #5142.** In v1.6.1 the suite writes the report before its parallel tests run,',
    'so the report counts them as passed whatever their outcome. A run counts only when the suite',
    'exits 0 and its log has no `--- FAIL`; the table above is counted from the log.',
    input.notInReport.length > 0
      ? `In this run the report misses these failures: ${input.notInReport.map((n) => `\`${n}\``).join(', ')}.`
      : 'In this run the report and the log agree on the failures.',
    '',
  ].join('\n');
}
