// `npm run cluster:up` (through scripts/cluster-up.sh, which builds or reuses the binaries):
// etcd, kube-apiserver, kube-controller-manager and the local node agent, all on this host,
// then the Gateway API CRDs. A no-op when the cluster recorded in state.json is healthy.
//
//   node dist/test/cluster/up.js --bin <dir with etcd, kube-apiserver, kube-controller-manager> [--node <node binary for the pods>]
import { existsSync, mkdirSync, readFileSync, writeFileSync, rmSync, cpSync, realpathSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as k8s from '@kubernetes/client-node';
import { projectRoot } from '../helpers/paths.js';
import {
  clusterDir, pkiDir, logDir, kubeconfigPath, logPath, nodeName,
  readClusterState, writeClusterState, type ClusterState, type PodNode,
} from './state.js';
import { createPki, readAdminToken, type Pki } from './control-plane/pki.js';
import { startDetached, isRunning, logTail } from './control-plane/processes.js';
import { waitFor, httpGet, GiveUp } from './control-plane/wait.js';
import { etcdArgs, apiserverArgs, controllerManagerArgs } from './control-plane/components.js';
import { installCrds } from './control-plane/crds.js';
import { tearDown } from './down.js';

const log = (msg: string): void => console.log(`cluster-up: ${msg}`);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Runs `step`; on failure adds the component's log tail to the error, which is what one needs. */
async function step<T>(component: string, what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`${what} failed: ${message}\n  last lines of ${logPath(component)}:\n${logTail(logPath(component))}`);
  }
}

function writeKubeconfig(port: number, caFile: string, token: string): void {
  const ca = readFileSync(caFile).toString('base64');
  // Plain YAML with the CA embedded, so the file works from any directory and for kubectl.
  writeFileSync(kubeconfigPath, [
    'apiVersion: v1', 'kind: Config',
    'clusters:', '- name: tlsgate-test', '  cluster:', `    server: https://127.0.0.1:${port}`, `    certificate-authority-data: ${ca}`,
    'users:', '- name: admin', '  user:', `    token: ${token}`,
    'contexts:', '- name: tlsgate-test', '  context:', '    cluster: tlsgate-test', '    user: admin',
    'current-context: tlsgate-test', '',
  ].join('\n'), { mode: 0o600 });
}

const expectedCommands: Record<string, string> = {
  etcd: 'etcd', apiserver: 'kube-apiserver', 'controller-manager': 'kube-controller-manager', agent: 'agent/main.js',
};

/** True when every recorded process still runs and the apiserver answers /readyz. */
async function alreadyUp(state: ClusterState): Promise<boolean> {
  for (const [component, pid] of Object.entries(state.pids)) {
    if (!isRunning(pid, expectedCommands[component] ?? component)) {
      log(`${component} (pid ${pid}) is not running`);
      return false;
    }
  }
  try {
    const res = await httpGet(`https://127.0.0.1:${state.apiserverPort}/readyz`, { ca: readFileSync(path.join(pkiDir, 'ca.crt')), token: readAdminToken(pkiDir) });
    return res.status === 200;
  } catch {
    return false;
  }
}

/** The pods' Node as given to `--node` (default: this process's), checked by running it. */
export function podNodeFrom(binary: string | undefined): PodNode {
  if (binary === undefined) return { path: process.execPath, version: process.version };
  const resolved = path.resolve(binary);
  let version: string;
  try {
    version = execFileSync(resolved, ['-v'], { encoding: 'utf8', timeout: 20_000 }).trim();
  } catch (error) {
    throw new Error(`--node ${binary}: cannot run "${resolved} -v": ${error instanceof Error ? error.message : String(error)}`);
  }
  if (!/^v\d+\.\d+\.\d+/.test(version)) throw new Error(`--node ${binary}: "${resolved} -v" printed "${version}", not a Node version`);
  return { path: resolved, version };
}

/** The running cluster's pods run another Node than the one asked for: left alone, not torn down. */
export class PodNodeMismatch extends Error {}

const samePath = (a: string, b: string): boolean => {
  try { return realpathSync(a) === realpathSync(b); } catch { return a === b; }
};

export async function bringUp(binDir: string, podNode: PodNode = podNodeFrom(undefined)): Promise<ClusterState> {
  const began = Date.now();
  const previous = readClusterState();
  if (previous) {
    if (await alreadyUp(previous)) {
      const running = previous.podNode ?? { path: process.execPath, version: process.version };
      // Someone else's cluster on another Node: restarting it would kill their pods, so say so.
      if (!samePath(running.path, podNode.path)) {
        throw new PodNodeMismatch(`the cluster is already up with pods on Node ${running.version} (${running.path}), not ${podNode.version} (${podNode.path}); run \`npm run cluster:down\` first`);
      }
      log(`already up (apiserver https://127.0.0.1:${previous.apiserverPort}, kubeconfig ${kubeconfigPath}, pods on Node ${running.version})`);
      return previous;
    }
    log('a previous cluster is recorded but unhealthy; tearing it down first');
    await tearDown();
  } else if (existsSync(clusterDir)) {
    // A start-up that died half-way: stop whatever it left, then start clean.
    await tearDown();
  }
  for (const bin of ['etcd', 'kube-apiserver', 'kube-controller-manager']) {
    if (!existsSync(path.join(binDir, bin))) throw new Error(`${bin} not found in ${binDir}; run scripts/cluster-build.sh`);
  }
  mkdirSync(logDir, { recursive: true });
  const pki: Pki = createPki(pkiDir);
  const [etcdClientPort, etcdPeerPort, apiserverPort] = [await freePort(), await freePort(), await freePort()];
  const state: ClusterState = { binDir, apiserverPort, etcdClientPort, etcdPeerPort, pids: {}, startedAt: new Date().toISOString(), podNode };
  // Written now (and again at the end) so that cluster:down can stop a half-started cluster.
  const record = (component: string, pid: number): void => { state.pids[component] = pid; writeClusterState(state); };
  const since = (t: number): string => `${((Date.now() - t) / 1000).toFixed(1)} s`;

  let t = Date.now();
  record('etcd', startDetached('etcd', path.join(binDir, 'etcd'), etcdArgs(etcdClientPort, etcdPeerPort)).pid);
  await step('etcd', 'starting etcd', () => waitFor('etcd /health', 30_000, async () => {
    if (!isRunning(state.pids.etcd!, 'etcd')) throw new GiveUp('etcd exited');
    const res = await httpGet(`http://127.0.0.1:${etcdClientPort}/health`);
    return res.body.includes('"health":"true"') ? true : undefined;
  }));
  log(`etcd ready in ${since(t)}`);

  t = Date.now();
  record('apiserver', startDetached('apiserver', path.join(binDir, 'kube-apiserver'), apiserverArgs(pki, apiserverPort, etcdClientPort, pkiDir)).pid);
  const ca = readFileSync(pki.caCert);
  await step('apiserver', 'starting kube-apiserver', async () => {
    try {
      await waitFor('kube-apiserver /readyz', 120_000, async () => {
        if (!isRunning(state.pids.apiserver!, 'kube-apiserver')) throw new GiveUp('kube-apiserver exited');
        const res = await httpGet(`https://127.0.0.1:${apiserverPort}/readyz`, { ca, token: pki.adminToken });
        return res.status === 200 ? true : undefined;
      });
    } catch (error) {
      const verbose = await httpGet(`https://127.0.0.1:${apiserverPort}/readyz?verbose`, { ca, token: pki.adminToken }).then((r) => r.body, () => '(no answer)');
      throw new Error(`${(error as Error).message}\n  /readyz?verbose:\n${verbose.split('\n').filter((l) => !l.includes('ok')).join('\n')}`);
    }
  });
  log(`kube-apiserver ready in ${since(t)} on https://127.0.0.1:${apiserverPort}`);
  writeKubeconfig(apiserverPort, pki.caCert, pki.adminToken);

  const kc = new k8s.KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  await step('apiserver', 'waiting for the system namespaces', () => waitFor('namespaces default, kube-system and kube-node-lease', 30_000, async () => {
    for (const name of ['default', 'kube-system', 'kube-node-lease']) await core.readNamespace({ name });
    return true;
  }));

  t = Date.now();
  record('controller-manager', startDetached('controller-manager', path.join(binDir, 'kube-controller-manager'), controllerManagerArgs(pki, kubeconfigPath, pkiDir)).pid);

  const installed = await step('apiserver', 'installing the CRDs', () => installCrds(kc, path.join(projectRoot, 'crds')));
  log(`installed ${installed.length} objects from crds/: ${installed.join(', ')}`);

  await step('controller-manager', 'starting kube-controller-manager', () => waitFor('the default ServiceAccount (created by kube-controller-manager)', 90_000, async () => {
    if (!isRunning(state.pids['controller-manager']!, 'kube-controller-manager')) throw new GiveUp('kube-controller-manager exited');
    return core.readNamespacedServiceAccount({ name: 'default', namespace: 'default' }).then(() => true);
  }));
  log(`kube-controller-manager working in ${since(t)}`);

  t = Date.now();
  const agentMain = path.join(path.dirname(fileURLToPath(import.meta.url)), 'agent', 'main.js');
  // The agent itself stays on this Node; only what it runs in pods uses the chosen one.
  record('agent', startDetached('agent', process.execPath, ['--enable-source-maps', agentMain, '--kubeconfig', kubeconfigPath,
    '--apiserver-port', String(apiserverPort), '--pod-node', podNode.path]).pid);
  await step('agent', 'starting the node agent', () => waitFor(`Node ${nodeName} to be Ready`, 30_000, async () => {
    if (!isRunning(state.pids.agent!, 'agent/main.js')) throw new GiveUp('the node agent exited');
    const node = await core.readNode({ name: nodeName });
    return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? true : undefined;
  }));
  log(`node agent ready in ${since(t)}; pods run Node ${podNode.version} (${podNode.path})`);

  writeClusterState(state);
  log(`up in ${since(began)}; kubeconfig: ${kubeconfigPath}; logs: ${logDir}`);
  return state;
}

async function main(): Promise<void> {
  const binIndex = process.argv.indexOf('--bin');
  const binDir = binIndex > 0 ? process.argv[binIndex + 1] : undefined;
  if (!binDir) throw new Error('usage: up.js --bin <directory with etcd, kube-apiserver, kube-controller-manager> [--node <node binary for the pods>]');
  const nodeIndex = process.argv.indexOf('--node');
  const nodeArgument = nodeIndex > 0 ? process.argv[nodeIndex + 1] : undefined;
  if (nodeIndex > 0 && !nodeArgument) throw new Error('--node needs the path of a node binary');
  let podNode: PodNode;
  try {
    podNode = podNodeFrom(nodeArgument);
  } catch (error) {
    // Nothing started yet, and a running cluster is not this mistake's business: just say it.
    console.error(`cluster-up: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
    return;
  }
  try {
    await bringUp(path.resolve(binDir), podNode);
  } catch (error) {
    console.error(`cluster-up: ${error instanceof Error ? error.message : String(error)}`);
    if (error instanceof PodNodeMismatch) { process.exitCode = 1; return; }
    // Keep the components' logs for whoever debugs this (CI artefacts); the rest goes.
    const kept = path.join(path.dirname(clusterDir), 'cluster-failed-logs');
    rmSync(kept, { recursive: true, force: true });
    if (existsSync(logDir)) { cpSync(logDir, kept, { recursive: true }); console.error(`cluster-up: logs kept in ${kept}`); }
    console.error('cluster-up: stopping what was started');
    await tearDown().catch((e: unknown) => console.error(`cluster-up: cleanup failed too: ${String(e)}`));
    process.exitCode = 1;
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  await main();
}
