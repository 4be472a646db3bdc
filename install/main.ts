/** `npm run synth:install`: writes dist/install.yaml (image from $TLSGATE_IMAGE). */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { installObjects } from './app.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const image = process.env.TLSGATE_IMAGE ?? 'ghcr.io/tlsgate/tlsgate:0.1.0';
const objects = installObjects({ root, image, imagePullPolicy: (process.env.TLSGATE_IMAGE_PULL_POLICY as 'IfNotPresent' | undefined) ?? 'IfNotPresent' });
const out = path.join(root, 'dist', 'install.yaml');
mkdirSync(path.dirname(out), { recursive: true });
writeFileSync(out, objects.map((object) => stringify(object, { lineWidth: 0 })).join('---\n'));
process.stdout.write(`wrote ${path.relative(process.cwd(), out)}: ${objects.length} objects, image ${image}\n`);
