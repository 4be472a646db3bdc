/**
 * `npm run synth:install`: every release artifact from the one install app (image from
 * $TLSGATE_IMAGE):
 *   dist/install.yaml                    everything in one file (CRDs, policy, operator)
 *   dist/release/crds.yaml               the Gateway API CRDs
 *   dist/release/install.yaml            the operator, its RBAC, our GatewayParameters CRD, GatewayClass
 *   dist/release/admission-policy.yaml   the upstream safe-upgrades policy (optional)
 *   dist/release/chart/tlsgate/          the Helm chart
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { installObjects } from './app.js';
import { CHART_NAME, helmChart } from './chart.js';
import { releaseManifests } from './release.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const { version } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string };
const image = process.env.TLSGATE_IMAGE ?? `ghcr.io/tlsgate/tlsgate:${version}`;
const options = { root, image, imagePullPolicy: (process.env.TLSGATE_IMAGE_PULL_POLICY as 'IfNotPresent' | undefined) ?? 'IfNotPresent' };
const toYaml = (objects: Record<string, any>[]): string => objects.map((object) => stringify(object, { lineWidth: 0 })).join('---\n');

function write(relative: string, content: string): void {
  const file = path.join(root, relative);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, content);
}

const all = installObjects(options);
write(path.join('dist', 'install.yaml'), toYaml(all));
const parts = releaseManifests(options);
write(path.join('dist', 'release', 'crds.yaml'), toYaml(parts.crds));
write(path.join('dist', 'release', 'install.yaml'), toYaml(parts.install));
write(path.join('dist', 'release', 'admission-policy.yaml'), toYaml(parts.admissionPolicy));
const chartDir = path.join('dist', 'release', 'chart', CHART_NAME);
rmSync(path.join(root, chartDir), { recursive: true, force: true });
for (const [file, content] of helmChart({ root, version })) write(path.join(chartDir, file), content);

process.stdout.write(
  `wrote dist/install.yaml (${all.length} objects, image ${image}); dist/release/: crds.yaml (${parts.crds.length}), ` +
    `install.yaml (${parts.install.length}), admission-policy.yaml (${parts.admissionPolicy.length}), chart/${CHART_NAME} ${version}\n`,
);
