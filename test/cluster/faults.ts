// Faults for the cluster in a box: the kube-apiserver stopped and started again exactly as
// cluster:up started it (same binary, flags, port, PKI and etcd), so every kubeconfig,
// ServiceAccount token and watch client keeps working once it is back.
//
//   import { stopApiServer, startApiServer } from '../cluster/faults.js';
//   await stopApiServer();                  // SIGTERM (SIGKILL after 10 s); { kill: true }: no grace
//   try { ...the outage... } finally { await startApiServer(); }   // waits for /readyz
//
// From a shell (e.g. to recover after a test died during an outage):
//   node dist/test/cluster/faults.js apiserver-stop | apiserver-start | apiserver-status
//
// Run these only while holding the cluster lock: everyone's tests fail while it is down.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { pkiDir, readClusterState, writeClusterState, logPath, type ClusterState } from './state.js';
import { existingPki } from './control-plane/pki.js';
import { apiserverArgs } from './control-plane/components.js';
import { startDetached, stopProcess, isRunning, logTail } from './control-plane/processes.js';
import { waitFor, httpGet, GiveUp } from './control-plane/wait.js';

const APISERVER = 'kube-apiserver';

function clusterState(): ClusterState {
  const state = readClusterState();
  if (!state) throw new Error('no cluster recorded in .cache/cluster/state.json; run `npm run cluster:up` first');
  return state;
}

/** Whether the apiserver recorded in state.json is running. */
export function apiServerRunning(): boolean {
  const pid = clusterState().pids.apiserver;
  return pid !== undefined && isRunning(pid, APISERVER);
}

/** True when something accepts TCP connections on the apiserver's port. */
function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.setTimeout(1000, () => { socket.destroy(); resolve(false); });
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Stops the kube-apiserver: SIGTERM, SIGKILL after 10 s (or at once with `kill`), and waits
 * until its port refuses connections. etcd, the controller-manager and the node agent keep
 * running. Returns what happened to the process.
 */
export async function stopApiServer(options: { kill?: boolean } = {}): Promise<'stopped' | 'killed'> {
  const state = clusterState();
  const pid = state.pids.apiserver;
  if (pid === undefined || !isRunning(pid, APISERVER)) throw new Error(`the kube-apiserver (pid ${pid ?? 'none'}) is not running`);
  const outcome = await stopProcess(pid, APISERVER, options.kill ? 0 : 10_000);
  if (outcome === 'not running') throw new Error(`the kube-apiserver (pid ${pid}) exited before it was stopped`);
  await waitFor(`port ${state.apiserverPort} to refuse connections`, 10_000, async () => (await portOpen(state.apiserverPort)) ? undefined : true, 100);
  return outcome;
}

/**
 * Starts the kube-apiserver again with cluster:up's flags and port, waits for `/readyz`
 * (120 s budget, like cluster:up) and records the new PID in state.json. Its output is
 * appended to the same log file.
 */
export async function startApiServer(): Promise<{ pid: number; readyAfterMs: number }> {
  const began = performance.now();
  const state = clusterState();
  const previous = state.pids.apiserver;
  if (previous !== undefined && isRunning(previous, APISERVER)) throw new Error(`the kube-apiserver is already running (pid ${previous})`);
  const pki = existingPki(pkiDir);
  const started = startDetached('apiserver', path.join(state.binDir, APISERVER), apiserverArgs(pki, state.apiserverPort, state.etcdClientPort, pkiDir));
  state.pids.apiserver = started.pid;
  writeClusterState(state);
  const ca = readFileSync(pki.caCert);
  try {
    await waitFor('kube-apiserver /readyz after a restart', 120_000, async () => {
      if (!isRunning(started.pid, APISERVER)) throw new GiveUp('kube-apiserver exited');
      const res = await httpGet(`https://127.0.0.1:${state.apiserverPort}/readyz`, { ca, token: pki.adminToken });
      return res.status === 200 ? true : undefined;
    });
  } catch (error) {
    throw new Error(`${(error as Error).message}\n  last lines of ${logPath('apiserver')}:\n${logTail(logPath('apiserver'))}`);
  }
  return { pid: started.pid, readyAfterMs: Math.round(performance.now() - began) };
}

async function main(command: string | undefined): Promise<void> {
  switch (command) {
    case 'apiserver-stop':
      console.log(`faults: kube-apiserver ${await stopApiServer()}`);
      return;
    case 'apiserver-start': {
      const { pid, readyAfterMs } = await startApiServer();
      console.log(`faults: kube-apiserver pid ${pid} ready in ${readyAfterMs} ms`);
      return;
    }
    case 'apiserver-status':
      console.log(`faults: kube-apiserver ${apiServerRunning() ? 'running' : 'not running'}`);
      return;
    default:
      throw new Error('usage: faults.js apiserver-stop | apiserver-start | apiserver-status');
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  main(process.argv[2]).catch((error: unknown) => {
    console.error(`faults: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  });
}
