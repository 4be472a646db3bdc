// `npm run conformance [-- --profiles GATEWAY-TLS,GATEWAY-HTTP]`: the upstream Gateway API
// conformance suite, unmodified, against tlsgate on the cluster in a box.
//
//  1. builds the suite's test binary, echo-basic, CoreDNS and the test lister
//     (scripts/build-conformance.sh; cached by the pins' hash), the TypeScript, and
//     dist/install.yaml;
//  2. brings the cluster up if it is not (scripts/cluster-up.sh is idempotent);
//  3. installs tlsgate from dist/install.yaml and waits for the operator and for the
//     GatewayClass to be Accepted with its supportedFeatures written (the suite reads the
//     features from there: no feature flags, no --skip-tests, no --exempt-features);
//  4. runs conformance.test -test.v -test.timeout 60m with the upstream flags, the log to
//     .cache/conformance/ and the console;
//  5. writes the report in upstream's layout, conformance/reports/<gateway API version>/tlsgate/
//     <channel>-<version>-<mode>-report.yaml, and a README there with the exact command and the
//     counts per profile taken from the log (upstream bug #5142: the report misses the parallel
//     tests' failures);
//  6. uninstalls tlsgate (never the CRDs), so the integration tests find the cluster as before.
//
// Exit status 1 when the suite's binary fails or its log has `--- FAIL`.
// The cluster is shared on a workstation: run it inside `flock /tmp/tlsgate-cluster.lock`.
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, createWriteStream, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parse, parseAllDocuments } from 'yaml';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(root);

const { values: options } = parseArgs({
  options: { profiles: { type: 'string', default: 'GATEWAY-TLS,GATEWAY-HTTP' } },
  strict: true,
});
const profiles = options.profiles.split(',').map((p) => p.trim()).filter(Boolean);
if (profiles.length === 0) {
  console.error('conformance: --profiles names no profile');
  process.exit(2);
}

// Who we are in the report (ConformanceReport.implementation); the suite refuses empty values.
const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
const implementation = {
  organization: 'tlsgate',
  project: 'tlsgate',
  url: 'https://github.com/tlsgate/tlsgate',
  version: `v${pkg.version}`,
  contact: 'https://github.com/tlsgate/tlsgate/issues',
};
const mode = 'default';
const kubeconfig = path.join(root, '.cache', 'cluster', 'kubeconfig');
const OPERATOR_NAMESPACE = 'tlsgate-system';
const OPERATOR_NAME = 'tlsgate-operator';

/** Stops the run; the uninstall in `finally` still happens. */
function fail(message) {
  throw new Error(message);
}

function step(message) {
  console.log(`\n== conformance: ${message}`);
}

/** Runs a command with its output on the console; throws with the command named on failure. */
function run(command, args, opts = {}) {
  execFileSync(command, args, { stdio: ['ignore', opts.quiet ? 'pipe' : 'inherit', 'inherit'], ...opts });
}

function output(command, args) {
  return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
}

const kubectl = (args) => output('kubectl', ['--kubeconfig', kubeconfig, ...args]);

async function sleep(ms) {
  await new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `probe` (returns a value when done) every 2 s for up to `timeoutMs`; the error says what was last seen. */
async function waitFor(what, timeoutMs, probe) {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    try {
      const { done, value, seen } = probe();
      if (done) return value;
      last = seen ?? '';
    } catch (error) {
      last = error.message.split('\n')[0];
    }
    if (Date.now() > deadline) fail(`timed out after ${timeoutMs / 1000} s waiting for ${what}; last seen: ${last || 'nothing'}`);
    await sleep(2000);
  }
}

// 1. Builds.
step('building the suite, echo-basic and CoreDNS (scripts/build-conformance.sh)');
const binDir = output('bash', ['scripts/build-conformance.sh']).split('\n').pop();
step('compiling TypeScript and writing dist/install.yaml');
try {
  run('npx', ['tsc', '-p', 'tsconfig.json']);
} catch {
  // Same policy as cluster:up: on a shared checkout another engineer's half-written file may
  // not type-check; tsc still emits, and the run tests what was emitted.
  console.error('conformance: tsc reported errors (above); continuing with what it emitted');
}
run('node', ['dist/install/main.js']);
const installYaml = path.join(root, 'dist', 'install.yaml');

// 2. Cluster.
step('cluster in a box (npm run cluster:up; already up is fine)');
// A cluster that is up keeps its pods' Node (npm test runs the suite on the cluster it restarted
// with --node, the image's Node); cluster:up refuses a running cluster with another one.
const podNode = (() => {
  try {
    return JSON.parse(readFileSync(path.join(root, '.cache', 'cluster', 'state.json'), 'utf8')).podNode?.path;
  } catch {
    return undefined;
  }
})();
run('bash', ['scripts/cluster-up.sh', ...(podNode ? ['--node', podNode] : [])]);

// 3. Install, as a user would: server-side apply of the manifest (taking over the CRDs
// cluster:up applied), then wait for the operator and its GatewayClass.
step('installing tlsgate from dist/install.yaml');
await waitFor(`namespace ${OPERATOR_NAMESPACE} of an earlier install to be gone`, 180_000, () => {
  const phase = kubectl(['get', 'namespace', OPERATOR_NAMESPACE, '--ignore-not-found', '-o', 'jsonpath={.status.phase}']);
  return { done: phase !== 'Terminating', seen: `phase ${phase}` };
});
const classes = parseAllDocuments(readFileSync(installYaml, 'utf8')).map((d) => d.toJS()).filter((d) => d?.kind === 'GatewayClass');
if (classes.length !== 1) {
  console.error(`conformance: dist/install.yaml has ${classes.length} GatewayClasses, expected 1`);
  process.exit(1);
}
const gatewayClass = classes[0].metadata.name;

let exitCode = null;
let uninstalled = false;
function uninstall() {
  if (uninstalled) return;
  uninstalled = true;
  step('uninstalling tlsgate (the CRDs stay)');
  const problems = [];
  for (const args of [
    ['delete', 'namespace', OPERATOR_NAMESPACE, '--ignore-not-found', '--timeout=180s'],
    ['delete', 'clusterrolebinding', OPERATOR_NAME, '--ignore-not-found'],
    ['delete', 'clusterrole', OPERATOR_NAME, '--ignore-not-found'],
    ['delete', 'gatewayclass', gatewayClass, '--ignore-not-found'],
  ]) {
    try {
      kubectl(args);
    } catch (error) {
      problems.push(`kubectl ${args.join(' ')}: ${error.message.split('\n')[0]}`);
    }
  }
  if (problems.length > 0) console.error(`conformance: uninstall incomplete:\n  ${problems.join('\n  ')}`);
}
process.on('SIGINT', () => { uninstall(); process.exit(130); });
process.on('SIGTERM', () => { uninstall(); process.exit(143); });

let claimedFeatures = [];
try {
  run('kubectl', ['--kubeconfig', kubeconfig, 'apply', '--server-side', '--force-conflicts', '--field-manager', 'tlsgate-conformance', '-f', installYaml]);
  run('kubectl', ['--kubeconfig', kubeconfig, '-n', OPERATOR_NAMESPACE, 'rollout', 'status', `deployment/${OPERATOR_NAME}`, '--timeout=240s']);
  claimedFeatures = await waitFor(`GatewayClass ${gatewayClass} Accepted with supportedFeatures`, 120_000, () => {
    const gwc = JSON.parse(kubectl(['get', 'gatewayclass', gatewayClass, '-o', 'json']));
    const accepted = (gwc.status?.conditions ?? []).find((c) => c.type === 'Accepted');
    const features = (gwc.status?.supportedFeatures ?? []).map((f) => f.name).sort();
    return {
      done: accepted?.status === 'True' && accepted.observedGeneration === gwc.metadata.generation && features.length > 0,
      value: features,
      seen: `Accepted=${accepted?.status ?? '?'}/${accepted?.reason ?? '?'}, ${features.length} features`,
    };
  });
  console.log(`GatewayClass ${gatewayClass} claims ${claimedFeatures.length} features: ${claimedFeatures.join(', ')}`);

  // 4. The suite.
  const date = new Date();
  const stamp = date.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const runDir = path.join(root, '.cache', 'conformance');
  mkdirSync(runDir, { recursive: true });
  const logFile = path.join(runDir, `${stamp}-${profiles.join('_')}.log`);
  const rawReport = path.join(runDir, `${stamp}-report.yaml`);
  const suiteArgs = [
    '-test.v', '-test.timeout', '60m',
    `--gateway-class=${gatewayClass}`,
    `--conformance-profiles=${profiles.join(',')}`,
    `--organization=${implementation.organization}`,
    `--project=${implementation.project}`,
    `--url=${implementation.url}`,
    `--version=${implementation.version}`,
    `--contact=${implementation.contact}`,
    `--mode=${mode}`,
    `--report-output=${rawReport}`,
  ];
  step(`running the suite (log: ${path.relative(root, logFile)})`);
  const log = createWriteStream(logFile);
  exitCode = await new Promise((resolve, reject) => {
    const child = spawn(path.join(binDir, 'conformance.test'), suiteArgs, {
      cwd: path.join(root, 'test', 'conformance'),
      env: { ...process.env, KUBECONFIG: kubeconfig },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    for (const stream of [child.stdout, child.stderr]) {
      stream.on('data', (chunk) => { process.stdout.write(chunk); log.write(chunk); });
    }
    child.on('error', reject);
    child.on('close', (code, signal) => resolve(code ?? (signal ? `signal ${signal}` : null)));
  });
  await new Promise((resolve) => log.end(resolve));

  // 5. Results and report.
  const results = await import(path.join(root, 'dist', 'test', 'conformance', 'results.js'));
  const logText = readFileSync(logFile, 'utf8');
  const tests = JSON.parse(output(path.join(binDir, 'list-conformance-tests'), []));
  const counts = results.countByProfile(tests, results.parseSuiteLog(logText), profiles);
  const hasFail = /^\s*--- FAIL/m.test(logText);

  let reportPath = '(none: the suite wrote no report)';
  let notInReport = [];
  try {
    const report = parse(readFileSync(rawReport, 'utf8'));
    const reportFailed = new Set((report.profiles ?? []).flatMap((p) => [...(p.core?.failedTests ?? []), ...(p.extended?.failedTests ?? [])]));
    notInReport = results.missingFromReport(counts, reportFailed);
    const dir = path.join(root, 'conformance', 'reports', report.gatewayAPIVersion, implementation.project);
    mkdirSync(dir, { recursive: true });
    const name = `${report.gatewayAPIChannel}-${implementation.version}-${report.mode}-report.yaml`;
    copyFileSync(rawReport, path.join(dir, name));
    reportPath = path.relative(root, path.join(dir, name));
    const flags = suiteArgs.map((a) => (a.startsWith('--report-output=') ? `--report-output=${name}` : a));
    writeFileSync(path.join(dir, 'README.md'), results.renderReadme({
      command: `flock /tmp/tlsgate-cluster.lock npm run conformance -- --profiles ${profiles.join(',')}`,
      suiteCommand: `conformance.test ${flags.join(' ')}`,
      date: date.toISOString(),
      commit: output('git', ['describe', '--always', '--dirty', '--abbrev=12']),
      goVersion: output('go', ['version']),
      nodeVersion: process.version,
      reportFile: name,
      logFile: path.relative(root, logFile),
      claimedFeatures,
      counts,
      notInReport,
      exitCode,
    }));
  } catch (error) {
    console.error(`conformance: no report to publish: ${error.message.split('\n')[0]}`);
  }

  step('results (counted from the log)');
  console.log(results.renderSummary(counts));
  if (notInReport.length > 0) console.log(`the report counts these as passed (upstream bug #5142): ${notInReport.join(', ')}`);
  console.log(`suite exit status ${exitCode}; --- FAIL in the log: ${hasFail ? 'yes' : 'no'}`);
  console.log(`report: ${reportPath}\nlog: ${path.relative(root, logFile)}`);
  if (hasFail && exitCode === 0) exitCode = 1;
} catch (error) {
  console.error(`conformance: ${error.message}`);
  exitCode = 1;
} finally {
  uninstall();
}
process.exit(exitCode === 0 ? 0 : 1);
