// docs/authoring.md's examples are complete and correct: each type-checks under the
// project's strict settings with `tlsgate` resolved to this checkout, and when run it
// synthesizes the same objects as its golden file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import ts from 'typescript';
import { parseAllDocuments } from 'yaml';
import { fromRoot } from '../../helpers/paths.js';
import { byKindAndName, schemaErrors, type KubeObject } from './helpers.js';

/** The doc's examples: the section heading, the chart it writes and its golden file. */
const EXAMPLES = [
  { heading: 'A complete example', output: 'shared-gateway.k8s.yaml', golden: 'shared-gateway.yaml' },
  { heading: 'HTTP and HTTPS routes', output: 'web-gateway.k8s.yaml', golden: 'web-gateway.yaml' },
] as const;

function exampleSource(heading: string): string {
  const doc = readFileSync(fromRoot('docs', 'authoring.md'), 'utf8');
  const block = new RegExp(`## ${heading}[\\s\\S]*?\`\`\`ts\\n([\\s\\S]*?)\`\`\``).exec(doc);
  assert.ok(block, `docs/authoring.md has a \`\`\`ts block under "${heading}"`);
  return block[1]!;
}

function readObjects(file: string): KubeObject[] {
  return parseAllDocuments(readFileSync(file, 'utf8')).map((d) => d.toJS() as KubeObject | null).filter((o): o is KubeObject => o !== null);
}

for (const example of EXAMPLES) {
  test(`the authoring example "${example.heading}" type-checks under the strict project settings`, () => {
    const virtual = fromRoot('docs', '__authoring_example__.ts');
    const source = exampleSource(example.heading);
    const options: ts.CompilerOptions = {
      strict: true,
      noUnusedLocals: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      types: ['node'],
      skipLibCheck: true,
      noEmit: true,
      baseUrl: fromRoot(),
      paths: { tlsgate: ['src/index.ts'] },
    };
    const host = ts.createCompilerHost(options);
    const getSourceFile = host.getSourceFile.bind(host);
    host.getSourceFile = (name, language, ...rest) =>
      name === virtual ? ts.createSourceFile(name, source, language) : getSourceFile(name, language, ...rest);
    const fileExists = host.fileExists.bind(host);
    host.fileExists = (name) => name === virtual || fileExists(name);
    const program = ts.createProgram([virtual], options, host);
    const diagnostics = ts.getPreEmitDiagnostics(program).filter((d) => d.file?.fileName === virtual);
    assert.deepStrictEqual(diagnostics.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n')), []);
  });

  test(`the authoring example "${example.heading}" synthesizes its golden objects, valid against the CRD schemas`, () => {
    const work = mkdtempSync(path.join(os.tmpdir(), 'tlsgate-doc-'));
    // The script lives in dist/ (git-ignored) so that `cdk8s` resolves from the project.
    const script = fromRoot('dist', `authoring-example-${process.pid}-${example.golden}.mjs`);
    try {
      const js = ts.transpileModule(exampleSource(example.heading), { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText;
      writeFileSync(script, js.replace(`from 'tlsgate'`, `from '${pathToFileURL(fromRoot('dist', 'src', 'index.js')).href}'`));
      execFileSync(process.execPath, [script], { env: { ...process.env, CDK8S_OUTDIR: work }, stdio: 'pipe' });
      assert.deepStrictEqual(readdirSync(work), [example.output]);
      const golden = readObjects(fromRoot('test', 'unit', 'constructs', 'golden', example.golden));
      const synthesized = readObjects(path.join(work, example.output));
      assert.deepStrictEqual(byKindAndName(synthesized), byKindAndName(golden));
      assert.deepStrictEqual(synthesized.filter((o) => o.apiVersion.startsWith('gateway.networking.k8s.io/')).flatMap(schemaErrors), []);
    } finally {
      rmSync(work, { recursive: true, force: true });
      rmSync(script, { force: true });
    }
  });
}
