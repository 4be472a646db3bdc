/**
 * The benchmark's load side is a Go program (bench/proxy/go): the Node.js load generators and
 * backends used most of the load core and left every proxy at 43-68 % of its own, far from
 * saturation (docs/performance.md, "Pinning"). This builds it, or reuses the cached build.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { PROJECT_ROOT } from './targets.js';

const BUILD_SCRIPT = path.join(PROJECT_ROOT, 'scripts', 'build-bench-loadgen.sh');

/** The path of the load side's binary; throws, with the build's own message, when Go is missing or the build fails. */
export function buildGoLoadSide(): string {
  let output: string;
  try {
    output = execFileSync('bash', [BUILD_SCRIPT], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  } catch (error) {
    throw new Error(`the Go load side (bench/proxy/go) did not build: ${BUILD_SCRIPT} failed (${(error as Error).message.split('\n')[0]}); see its message above`);
  }
  const binary = output.trim().split('\n').pop();
  if (!binary) throw new Error(`${BUILD_SCRIPT} printed no binary path`);
  return binary;
}
