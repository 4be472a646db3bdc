// Golden tests: each test/golden/<scenario>.in.yaml must translate to exactly the
// committed <scenario>.out.yaml. On an intended change, run `npm run goldens:update`
// and review the diff.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expectedOutput, listScenarios, runScenario } from '../../golden/golden.js';

const scenarios = listScenarios();

test('there are golden scenarios', () => {
  assert.ok(scenarios.length >= 24, `expected at least 24 scenarios, found ${scenarios.length}`);
});

for (const name of scenarios) {
  test(`golden ${name}`, () => {
    const expected = expectedOutput(name);
    assert.ok(expected !== undefined, `${name}.out.yaml is missing; run npm run goldens:update`);
    const { rendered, output, configsWithoutRuntime } = runScenario(name);
    assert.equal(rendered, expected, `${name}: output differs from ${name}.out.yaml (npm run goldens:update, then review the diff)`);
    // Runtime (addresses, ACKs) only affects status, never the proxy configs.
    assert.deepEqual(output.proxyConfigs, configsWithoutRuntime);
    // Private keys never leak into statuses.
    assert.doesNotMatch(JSON.stringify([output.gateways, output.tlsRoutes, output.gatewayClasses]), /PRIVATE KEY/);
  });
}
