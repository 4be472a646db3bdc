// helm and the chart for the chart's tests (unit and on the cluster): one way to get both.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { helmChart } from '../../install/chart.js';
import { projectRoot } from './paths.js';

/** The helm binary: built once (minutes, cold) by install/build-helm.sh, then reused from .cache/bin. */
export function buildHelm(): string {
  return execFileSync('bash', [path.join(projectRoot, 'install', 'build-helm.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 1_500_000 }).trim().split('\n').pop()!;
}

/** The chart written into a new temporary directory: `work` (to remove afterwards) and `chartDir` inside it. */
export function writeChart(prefix: string): { work: string; chartDir: string } {
  const work = mkdtempSync(path.join(os.tmpdir(), prefix));
  const chartDir = path.join(work, 'tlsgate');
  for (const [file, content] of helmChart({ root: projectRoot, version: '0.1.0' })) {
    mkdirSync(path.dirname(path.join(chartDir, file)), { recursive: true });
    writeFileSync(path.join(chartDir, file), content);
  }
  return { work, chartDir };
}
