// Regenerates test/golden/*.out.yaml from the *.in.yaml next to them, using the compiled
// translate (run `npm run build` first; `npm run goldens:update` does both).
// Prints which files changed: review every diff before committing.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { GOLDEN_DIR, expectedOutput, listScenarios, runScenario } from '../dist/test/golden/golden.js';

let changed = 0;
for (const name of listScenarios()) {
  const { rendered } = runScenario(name);
  if (expectedOutput(name) === rendered) continue;
  writeFileSync(path.join(GOLDEN_DIR, `${name}.out.yaml`), rendered);
  changed++;
  console.log(`updated ${name}.out.yaml`);
}
console.log(`${listScenarios().length} scenarios, ${changed} updated`);
