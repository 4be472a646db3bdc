// `npm run cluster:down`: stops what cluster:up started (by the PIDs in state.json, newest
// first), removes the pod network and mount points, then deletes .cache/cluster.
import { existsSync, readFileSync, rmSync, rmdirSync, statSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { clusterDir, createdMountPointsPath, readClusterState } from './state.js';
import { stopProcess } from './control-plane/processes.js';
import { removeAllPodNetworks } from './agent/network.js';

const expected: Record<string, string> = {
  etcd: 'etcd', apiserver: 'kube-apiserver', 'controller-manager': 'kube-controller-manager', agent: 'agent/main.js',
};

/** Removes the (empty) directories the agent created on the host as mount points. */
function removeCreatedMountPoints(): void {
  if (!existsSync(createdMountPointsPath)) return;
  const entries = readFileSync(createdMountPointsPath, 'utf8').split('\n').filter(Boolean);
  // Lines are "d <dir>" or "f <empty file>"; files first, then directories deepest first,
  // so parents are empty by the time we reach them. Anything not empty is left alone.
  const files = entries.filter((e) => e.startsWith('f ')).map((e) => e.slice(2));
  const dirs = entries.filter((e) => e.startsWith('d ')).map((e) => e.slice(2));
  for (const file of new Set(files)) {
    try { if (statSync(file).size === 0) unlinkSync(file); } catch { /* already gone */ }
  }
  for (const dir of [...new Set(dirs)].sort((a, b) => b.length - a.length)) {
    try { rmdirSync(dir); } catch { /* not empty or already gone: leave it */ }
  }
}

export async function tearDown(log: (msg: string) => void = (m) => console.log(`cluster-down: ${m}`)): Promise<void> {
  const state = readClusterState();
  if (state) {
    // The agent first: it stops pods gracefully and releases their namespaces.
    const order = ['agent', 'controller-manager', 'apiserver', 'etcd'].filter((c) => state.pids[c] !== undefined);
    for (const component of order) {
      const result = await stopProcess(state.pids[component]!, expected[component]!, component === 'agent' ? 20_000 : 10_000);
      log(`${component} (pid ${state.pids[component]}): ${result}`);
    }
  } else {
    log('no state.json: nothing recorded to stop');
  }
  removeAllPodNetworks();
  removeCreatedMountPoints();
  rmSync(clusterDir, { recursive: true, force: true });
  log(`removed ${clusterDir}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  await tearDown();
}
