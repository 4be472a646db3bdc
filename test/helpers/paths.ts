import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';

/** The project root, found from this compiled file (dist/test/helpers) or the source. */
function findRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json')) || path.basename(dir) === 'dist') {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('project root not found above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
  return dir;
}

export const projectRoot = findRoot();
/** The shared folder beside the checkout (upstream CRDs, examples, conformance manifests). */
export const sharedDir = path.resolve(projectRoot, '..', 'shared');
export const upstreamDir = path.join(sharedDir, 'gateway-api', 'v1.6.1');
export const fromRoot = (...parts: string[]): string => path.join(projectRoot, ...parts);
