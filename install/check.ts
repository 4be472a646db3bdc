/**
 * `npm run install:check [-- --kubeconfig FILE]`: the pre-flight for plain manifests. Reads
 * the Gateway API CRDs in the cluster (kubectl, the current context unless told) and says
 * whether dist/release/crds.yaml may be applied: exit 0 when nothing would be replaced that
 * must not be, exit 1 with one line per CRD to keep, and what to do, otherwise.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { crdConflicts, shippedCrds, type CrdSummary } from './crd-guard.js';
import { releaseManifests } from './release.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const shipped = shippedCrds(releaseManifests({ root, image: 'unused' }).crds);

let listed: { items: { metadata: { name: string; annotations?: Record<string, string> } }[] };
try {
  listed = JSON.parse(execFileSync('kubectl', [...process.argv.slice(2), 'get', 'customresourcedefinitions', '-o', 'json'], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, stdio: ['ignore', 'pipe', 'pipe'] }));
} catch (error) {
  const e = error as Error & { stderr?: string };
  process.stderr.write(`install:check: cannot list the cluster's CRDs: ${e.stderr?.trim() || e.message}\n`);
  process.exit(2);
}
const inCluster: CrdSummary[] = listed.items.map((item) => ({ name: item.metadata.name, annotations: item.metadata.annotations ?? {} }));
const problems = crdConflicts(inCluster, shipped);
const present = inCluster.filter((crd) => shipped.names.includes(crd.name)).length;
if (problems.length > 0) {
  process.stderr.write(`install:check: dist/release/crds.yaml (Gateway API ${shipped.bundleVersion} ${shipped.channel}) must not be applied here:\n${problems.map((p) => `  - ${p}`).join('\n')}\n`);
  process.exit(1);
}
process.stdout.write(`install:check: ok: ${present} of the ${shipped.names.length} Gateway API CRDs present, none of another channel or newer than ${shipped.bundleVersion}\n`);
