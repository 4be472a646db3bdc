// Counting a conformance run from its log: the parts of scripts/conformance.mjs that decide
// what the console and the README say passed, failed or was skipped.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { countByProfile, levelResult, missingFromReport, parseSuiteLog, renderReadme, renderSummary, type SuiteTest } from './results.js';

// The shape of a `conformance.test -test.v` log: parallel tests paused and continued, results
// nested under the parent, sub-test results, skip messages logged before the SKIP line.
const log = `=== RUN   TestConformance
    conformance.go:118: Running conformance tests with:
=== RUN   TestConformance/GatewayInvalidRouteKind
=== PAUSE TestConformance/GatewayInvalidRouteKind
=== RUN   TestConformance/TLSRouteSimpleSameNamespace
=== RUN   TestConformance/TLSRouteSimpleSameNamespace/abc.example.com
=== RUN   TestConformance/HTTPRouteQueryParamMatching
    conformance.go:56: Skipping HTTPRouteQueryParamMatching: suite does not support HTTPRouteQueryParamMatching
=== RUN   TestConformance/HTTPRouteExplicitlySkipped
    conformance.go:68: Skipping HTTPRouteExplicitlySkipped: test explicitly skipped
=== CONT  TestConformance/GatewayInvalidRouteKind
    gateway-invalid-route-kind.go:60: Conditions not as expected
--- FAIL: TestConformance (301.22s)
    --- PASS: TestConformance/TLSRouteSimpleSameNamespace (12.10s)
        --- PASS: TestConformance/TLSRouteSimpleSameNamespace/abc.example.com (2.00s)
    --- SKIP: TestConformance/HTTPRouteQueryParamMatching (0.00s)
    --- SKIP: TestConformance/HTTPRouteExplicitlySkipped (0.00s)
    --- FAIL: TestConformance/GatewayInvalidRouteKind (60.01s)
FAIL
`;

const tests: SuiteTest[] = [
  { name: 'GatewayInvalidRouteKind', features: ['Gateway'], provisional: false, parallel: true, profiles: { 'GATEWAY-HTTP': 'core', 'GATEWAY-TLS': 'core' } },
  { name: 'TLSRouteSimpleSameNamespace', features: ['Gateway', 'TLSRoute'], provisional: false, parallel: false, profiles: { 'GATEWAY-TLS': 'core' } },
  { name: 'HTTPRouteQueryParamMatching', features: ['Gateway', 'HTTPRoute', 'HTTPRouteQueryParamMatching'], provisional: false, parallel: false, profiles: { 'GATEWAY-HTTP': 'extended' } },
  { name: 'HTTPRouteExplicitlySkipped', features: ['Gateway', 'HTTPRoute'], provisional: false, parallel: false, profiles: { 'GATEWAY-HTTP': 'core' } },
  { name: 'HTTPRouteNeverRan', features: ['Gateway', 'HTTPRoute'], provisional: false, parallel: false, profiles: { 'GATEWAY-HTTP': 'core' } },
];

describe('conformance results from the suite log', () => {
  it('reads each top-level test outcome, ignoring sub-tests and the parent', () => {
    const outcomes = parseSuiteLog(log);
    assert.deepEqual(Object.fromEntries(outcomes), {
      TLSRouteSimpleSameNamespace: { kind: 'passed' },
      HTTPRouteQueryParamMatching: { kind: 'not-claimed', feature: 'HTTPRouteQueryParamMatching' },
      HTTPRouteExplicitlySkipped: { kind: 'skipped', reason: 'test explicitly skipped' },
      GatewayInvalidRouteKind: { kind: 'failed' },
    });
  });

  it('counts per profile and level; a test without a result fails its level, an unclaimed feature is not counted', () => {
    const [http, tls] = countByProfile(tests, parseSuiteLog(log), ['GATEWAY-HTTP', 'GATEWAY-TLS']);
    assert.deepEqual(http!.core, { passed: [], failed: ['GatewayInvalidRouteKind'], skipped: ['HTTPRouteExplicitlySkipped'], noResult: ['HTTPRouteNeverRan'], notClaimed: [] });
    assert.deepEqual(http!.extended, { passed: [], failed: [], skipped: [], noResult: [], notClaimed: ['HTTPRouteQueryParamMatching'] });
    assert.equal(levelResult(http!.core), 'failure');
    assert.equal(levelResult(http!.extended), 'success');
    assert.deepEqual(tls!.core.passed, ['TLSRouteSimpleSameNamespace']);
    assert.deepEqual(tls!.core.failed, ['GatewayInvalidRouteKind']);
  });

  it('calls a level partial when a counted test was skipped, success only when all passed', () => {
    const level = { passed: ['A'], failed: [], skipped: ['B'], noResult: [], notClaimed: ['C'] };
    assert.equal(levelResult(level), 'partial');
    assert.equal(levelResult({ ...level, skipped: [] }), 'success');
  });

  it('names the failures the report counted as passed (upstream bug #5142)', () => {
    const counts = countByProfile(tests, parseSuiteLog(log), ['GATEWAY-HTTP', 'GATEWAY-TLS']);
    assert.deepEqual(missingFromReport(counts, new Set()), ['GatewayInvalidRouteKind', 'HTTPRouteNeverRan']);
    assert.deepEqual(missingFromReport(counts, new Set(['GatewayInvalidRouteKind', 'HTTPRouteNeverRan'])), []);
  });

  it('prints the counts and names every test that did not pass', () => {
    const summary = renderSummary(countByProfile(tests, parseSuiteLog(log), ['GATEWAY-TLS']));
    assert.match(summary, /^GATEWAY-TLS\n  core: failure, 2 tests: 1 passed, 1 failed, 0 skipped\n  extended: success, 0 tests/);
    assert.match(summary, /failed: GatewayInvalidRouteKind/);
  });

  it('writes a README with the command, the table from the log and the report discrepancy', () => {
    const counts = countByProfile(tests, parseSuiteLog(log), ['GATEWAY-HTTP']);
    const readme = renderReadme({
      command: 'npm run conformance -- --profiles GATEWAY-HTTP', suiteCommand: 'conformance.test -test.v', date: '2026-01-01T00:00:00Z',
      commit: 'abc', goVersion: 'go1.26.8', nodeVersion: 'v20.20.2', reportFile: 'standard-v0.1.0-default-report.yaml', logFile: '.cache/x.log',
      claimedFeatures: ['Gateway'], counts, notInReport: ['GatewayInvalidRouteKind'], exitCode: 1,
    });
    assert.match(readme, /npm run conformance -- --profiles GATEWAY-HTTP/);
    assert.match(readme, /\| GATEWAY-HTTP \| core \| failure \| 0 \| 1 \| 2 \| 0 \| `GatewayInvalidRouteKind`, `HTTPRouteExplicitlySkipped`, `HTTPRouteNeverRan` \|/);
    assert.match(readme, /the report misses these failures: `GatewayInvalidRouteKind`/);
  });
});
