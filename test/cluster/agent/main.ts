// The local node agent: a test-only stand-in for kubelet, scheduler, kube-proxy and a cloud
// LoadBalancer controller, started in the background by cluster:up.
//
//   node dist/test/cluster/agent/main.js --kubeconfig .cache/cluster/kubeconfig --apiserver-port <port> [--pod-node <node binary>]
//
// --pod-node: the Node binary the pods run (the image's `node`); default: the agent's own.
//
// SIGTERM stops every pod (grace capped at 10 s), removes the pod network and exits.
import * as k8s from '@kubernetes/client-node';
import { setTimeout as sleep } from 'node:timers/promises';
import { ensureBridge, removeAllPodNetworks, PodIpAllocator } from './network.js';
import { NodeRegistration } from './node.js';
import { ServiceProxy } from './services.js';
import { PodManager } from './pods.js';
import { nodeName } from '../state.js';
import { setPodNodeBinary, podNodeBinary } from './pod-node.js';

const log = (msg: string): void => console.log(`${new Date().toISOString()} ${msg}`);

function argument(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const kubeconfig = argument('--kubeconfig');
  const apiserverPort = Number(argument('--apiserver-port'));
  if (!kubeconfig || !Number.isInteger(apiserverPort) || apiserverPort <= 0) throw new Error('usage: main.js --kubeconfig <file> --apiserver-port <port> [--pod-node <node binary>]');
  const podNode = argument('--pod-node');
  if (podNode !== undefined) setPodNodeBinary(podNode);
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(kubeconfig);

  // A previous agent that was killed hard may have left namespaces behind.
  removeAllPodNetworks();
  ensureBridge();

  const version = await kc.makeApiClient(k8s.VersionApi).getCode();
  const node = new NodeRegistration(kc, version.gitVersion, log);
  await node.register();

  const services = new ServiceProxy(kc, apiserverPort, log);
  // Pods reach the apiserver like in a real cluster: the `kubernetes` Service's cluster IP,
  // relayed by the service proxy to the apiserver on the host's loopback.
  const apiserver = { host: '10.96.0.1', port: 443 };
  const pods = new PodManager(kc, new PodIpAllocator(), services, apiserver, log);

  let running = true;
  const shutdown = async (signal: string): Promise<void> => {
    if (!running) return;
    running = false;
    log(`${signal}: stopping all pods`);
    node.stop();
    await pods.stopAll(10);
    services.stop();
    removeAllPodNetworks();
    log('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));

  log(`node agent running as Node ${nodeName} (Kubernetes ${version.gitVersion}); pods run ${podNodeBinary()}`);
  let lastError = '';
  while (running) {
    try {
      await services.sync();
      await pods.tick();
      lastError = '';
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      // Log a repeating error once, not every second.
      if (message !== lastError) log(`sync failed: ${message}`);
      lastError = message;
    }
    await sleep(1000);
  }
}

main().catch((error: unknown) => {
  log(`fatal: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
  process.exit(1);
});
