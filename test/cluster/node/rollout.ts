// A proxy rollout under live traffic on the opt-in real node (scripts/real-node-rollout.sh).
//
// An operator in this process (as in the integration tests) serves a GatewayClass of its own;
// its Gateway has a TLS Terminate listener whose TLSRoute leads to `hello` pods; every pod, the
// two proxy replicas and the backends, runs as a real container on the real node. Clients on
// the host connect to the Gateway Service's LoadBalancer address: a new connection every 20 ms
// (TLS handshake, one HTTP request, the whole answer, close) and a few long-lived ones (one
// request every 500 ms on the same TLS connection) held across the rollout. The rollout is a
// GatewayParameters change (the proxy's CPU request), so the operator renders a new pod
// template and the Deployment controller replaces the pods (maxSurge 1, maxUnavailable 0).
// Printed: completed, refused, reset, timed-out and failed connections, before, during and
// after. Exit status 1 unless every connection completed. KILL_PROXY=1 then also SIGKILLs one
// proxy container and prints what the clients saw until it is back (a measurement, no verdict).
//
// Placement: the process agent binds every unscheduled pod to its own node whatever its
// nodeSelector says, so the GatewayParameters ask for the real node (nodeSelector and
// toleration, as a user would) and the Deployment starts with 0 replicas; this program then
// adds spec.template.spec.nodeName with a field manager of its own (the operator's server-side
// apply neither owns nor removes it) and only then asks for 2 replicas.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import tls from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import * as k8s from '@kubernetes/client-node';
import { deleteNamespace, freshNamespace, loadTestKubeConfig } from '../client.js';
import {
  createGatewayClass, createObject, deleteGatewayClass, eventually, selfSigned, testOperator, uniqueSuffix, waitForReadyEndpoints,
} from '../../integration/operator-support.js';
import { realNodeName, realNodeToleration } from './placement.js';
import { fromRoot } from '../../helpers/paths.js';

const HOST = 'rollout.example.com';
const GATEWAY = 'rollout';
const PROXY_IMAGE = 'tlsgate.test/tlsgate:dev';
const NEW_CONNECTION_EVERY_MS = 20;
const LONG_LIVED = 6;
const LONG_LIVED_REQUEST_EVERY_MS = 500;
const CONNECTION_TIMEOUT_MS = 10_000;
/**
 * Generous drain: the old pods keep their long-lived connections until this program ends them.
 * PRE_STOP_SECONDS=0 is the control run: without the preStop sleep, new connections are lost.
 */
const DRAIN = { preStopSeconds: Number(process.env.PRE_STOP_SECONDS ?? 5), seconds: 60 };

type Outcome = 'completed' | 'refused' | 'reset' | 'timeout' | 'failed';
/** `killed`: KILL_PROXY=1 only, after the rollout's counts; reported apart, not part of the verdict. */
type Phase = 'before' | 'during' | 'after' | 'killed';

const log = (message: string): void => void process.stdout.write(`${new Date().toISOString()} ${message}\n`);

function classify(error: NodeJS.ErrnoException): Outcome {
  if (error.code === 'ECONNREFUSED') return 'refused';
  // A reset before or during the handshake reads as ECONNRESET or as Node's "Client network
  // socket disconnected before secure TLS connection was established" (also ECONNRESET).
  if (error.code === 'ECONNRESET' || error.code === 'EPIPE') return 'reset';
  return 'failed';
}

/** One short connection: handshake, GET with Connection: close, the whole answer, the server's close. */
function shortConnection(address: string, ca: string): Promise<{ outcome: Outcome; detail?: string }> {
  return new Promise((resolve) => {
    let answer = '';
    let settled = false;
    const done = (outcome: Outcome, detail?: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(detail ? { outcome, detail } : { outcome });
    };
    const socket = tls.connect({ host: address, port: 443, servername: HOST, ca }, () => {
      socket.write(`GET / HTTP/1.1\r\nHost: ${HOST}\r\nConnection: close\r\n\r\n`);
    });
    const timer = setTimeout(() => done('timeout'), CONNECTION_TIMEOUT_MS);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.on('end', () => {
      if (/^HTTP\/1\.1 200 /.test(answer) && answer.includes('hello from ')) done('completed');
      else done('failed', `unexpected answer ${JSON.stringify(answer.slice(0, 120))}`);
    });
    socket.on('error', (error: NodeJS.ErrnoException) => done(classify(error), `${error.code ?? ''} ${error.message}`));
  });
}

/**
 * A long-lived connection: one request every LONG_LIVED_REQUEST_EVERY_MS on the same TLS
 * session until `release` resolves, then a clean close of our side and the server's.
 */
async function longLivedConnection(address: string, ca: string, release: Promise<void>): Promise<{ outcome: Outcome; requests: number; detail?: string }> {
  const socket = tls.connect({ host: address, port: 443, servername: HOST, ca });
  socket.setEncoding('utf8');
  let failure: { outcome: Outcome; detail: string } | undefined;
  let closed = false;
  socket.on('error', (error: NodeJS.ErrnoException) => (failure ??= { outcome: classify(error), detail: `${error.code ?? ''} ${error.message}` }));
  socket.on('close', () => (closed = true));
  let buffered = '';
  const waiters: (() => void)[] = [];
  socket.on('data', (chunk: string) => {
    buffered += chunk;
    waiters.splice(0).forEach((wake) => wake());
  });
  const oneAnswer = async (): Promise<boolean> => {
    const deadline = Date.now() + CONNECTION_TIMEOUT_MS;
    // hello answers with a one-line body: the answer is complete at its newline.
    while (!/hello from [^\n]*\n/.test(buffered)) {
      if (failure || closed || Date.now() > deadline) return false;
      await Promise.race([new Promise<void>((wake) => waiters.push(wake)), sleep(100)]);
    }
    buffered = buffered.replace(/^[\s\S]*?hello from [^\n]*\n/, '');
    return true;
  };
  let released = false;
  void release.then(() => (released = true));
  let requests = 0;
  await new Promise<void>((resolve) => (socket.once('secureConnect', resolve), socket.once('close', resolve)));
  while (!released) {
    if (failure || closed) break;
    socket.write(`GET / HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`);
    if (!(await oneAnswer())) break;
    requests++;
    await sleep(LONG_LIVED_REQUEST_EVERY_MS);
  }
  if (failure) return { ...failure, requests };
  if (closed || !released) return { outcome: 'failed', requests, detail: closed ? 'closed by the other side while held' : 'an answer did not come' };
  socket.end();
  await new Promise<void>((resolve) => (closed ? resolve() : socket.once('close', () => resolve())));
  return failure ? { ...(failure as { outcome: Outcome; detail: string }), requests } : { outcome: 'completed', requests };
}

/**
 * SIGKILL to one proxy container's process, found on the host through the node's containerd
 * (the process the kubelet started, not a process of this program); waits until the kubelet
 * has restarted it and it is Ready again.
 */
async function killOneProxy(core: k8s.CoreV1Api, ns: string, names: string[]): Promise<void> {
  const name = names[0]!;
  const status = (await core.readNamespacedPod({ name, namespace: ns })).status!.containerStatuses![0]!;
  const id = status.containerID!.replace('containerd://', '');
  const tasks = execFileSync('ctr', ['--address', path.join(fromRoot('.cache/real-node/run/containerd'), 'containerd.sock'), '--namespace', 'k8s.io', 'tasks', 'ls'], { encoding: 'utf8' });
  const pid = Number(tasks.split('\n').find((line) => line.startsWith(id))?.trim().split(/\s+/)[1]);
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`no running task for container ${id} of pod ${ns}/${name}`);
  const killed = Date.now();
  process.kill(pid, 'SIGKILL');
  log(`SIGKILL to pid ${pid} (proxy container ${id.slice(0, 12)} of ${name}, restartCount ${status.restartCount})`);
  const back = await eventually(`${name} restarted and Ready`, async () => {
    const s = (await core.readNamespacedPod({ name, namespace: ns })).status!.containerStatuses![0]!;
    return s.restartCount! > status.restartCount! && s.ready ? s : undefined;
  }, 90_000);
  log(`${name} Ready again ${((Date.now() - killed) / 1000).toFixed(1)} s later: restartCount ${back.restartCount}, lastState ${JSON.stringify(back.lastState?.terminated)}`);
}

async function deploymentOf(apps: k8s.AppsV1Api, ns: string): Promise<k8s.V1Deployment | undefined> {
  const list = await apps.listNamespacedDeployment({ namespace: ns, labelSelector: `gateway.networking.k8s.io/gateway-name=${GATEWAY}` });
  return list.items[0];
}

async function main(): Promise<void> {
  const kc = loadTestKubeConfig();
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const apps = kc.makeApiClient(k8s.AppsV1Api);
  const custom = kc.makeApiClient(k8s.CustomObjectsApi);
  const suffix = uniqueSuffix();
  const className = `real-node-rollout-${suffix}`;
  const ns = await freshNamespace(kc, 'real-node-rollout');
  const operatorLogs: string[] = [];
  const operator = testOperator(kc, { namespace: ns, controllerName: `tlsgate.dev/real-node-rollout-${suffix}`, proxyImage: PROXY_IMAGE, logs: operatorLogs });
  const started = Date.now();
  try {
    log(`namespace ${ns}, GatewayClass ${className}`);
    const parameters = (replicas: number, cpu: string) => ({
      deployment: {
        replicas,
        nodeSelector: { [realNodeToleration.key]: 'true' },
        tolerations: [realNodeToleration],
        resources: { requests: { cpu, memory: '64Mi' }, limits: { cpu: '1', memory: '512Mi' } },
        drain: DRAIN,
      },
      service: { type: 'LoadBalancer' },
    });
    await custom.createNamespacedCustomObject({
      group: 'tlsgate.dev', version: 'v1alpha1', plural: 'gatewayparameters', namespace: ns,
      body: { apiVersion: 'tlsgate.dev/v1alpha1', kind: 'GatewayParameters', metadata: { name: 'proxy' }, spec: parameters(0, '100m') },
    });
    const setParameters = (replicas: number, cpu: string) => custom.patchNamespacedCustomObject(
      { group: 'tlsgate.dev', version: 'v1alpha1', plural: 'gatewayparameters', namespace: ns, name: 'proxy', body: { spec: parameters(replicas, cpu) } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    await createGatewayClass(kc, className, `tlsgate.dev/real-node-rollout-${suffix}`);

    // The backend: hello on the real node, behind a ClusterIP Service.
    await apps.createNamespacedDeployment({
      namespace: ns,
      body: {
        metadata: { name: 'hello' },
        spec: {
          replicas: 2,
          selector: { matchLabels: { app: 'hello' } },
          template: {
            metadata: { labels: { app: 'hello' } },
            spec: {
              nodeName: realNodeName,
              tolerations: [realNodeToleration],
              automountServiceAccountToken: false,
              securityContext: { runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, seccompProfile: { type: 'RuntimeDefault' } },
              containers: [{
                name: 'hello', image: 'tlsgate.test/hello:v1', imagePullPolicy: 'Never',
                // The kubelet's variables for Service `hello` include HELLO_PORT=tcp://…, which hello would read.
                env: [{ name: 'HELLO_PORT', value: '8080' }],
                ports: [{ containerPort: 8080, name: 'http' }],
                readinessProbe: { httpGet: { path: '/', port: 'http' }, periodSeconds: 2 },
                securityContext: { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
              }],
            },
          },
        },
      },
    });
    await core.createNamespacedService({ namespace: ns, body: { metadata: { name: 'hello' }, spec: { selector: { app: 'hello' }, ports: [{ port: 8080, targetPort: 'http' }] } } });

    const { cert, key } = selfSigned(HOST);
    await core.createNamespacedSecret({
      namespace: ns,
      body: { metadata: { name: 'gateway-cert' }, type: 'kubernetes.io/tls', stringData: { 'tls.crt': cert, 'tls.key': key } },
    });
    await createObject(kc, {
      apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name: GATEWAY, namespace: ns },
      spec: {
        gatewayClassName: className,
        infrastructure: { parametersRef: { group: 'tlsgate.dev', kind: 'GatewayParameters', name: 'proxy' } },
        listeners: [{ name: 'tls', protocol: 'TLS', port: 443, hostname: HOST, tls: { mode: 'Terminate', certificateRefs: [{ name: 'gateway-cert' }] } }],
      },
    });
    await createObject(kc, {
      apiVersion: 'gateway.networking.k8s.io/v1', kind: 'TLSRoute', metadata: { name: 'hello', namespace: ns },
      spec: { parentRefs: [{ name: GATEWAY, sectionName: 'tls' }], hostnames: [HOST], rules: [{ backendRefs: [{ name: 'hello', port: 8080 }] }] },
    });
    await operator.start();
    await waitForReadyEndpoints(kc, ns, 'hello');

    const deployment = await eventually('the proxy Deployment the operator renders', () => deploymentOf(apps, ns), 60_000);
    const deploymentName = deployment.metadata!.name!;
    await apps.patchNamespacedDeployment(
      { name: deploymentName, namespace: ns, fieldManager: 'tlsgate-real-node-placement', body: { spec: { template: { spec: { nodeName: realNodeName } } } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch),
    );
    await setParameters(2, '100m');
    const available = async (): Promise<k8s.V1Deployment | false> => {
      const d = await apps.readNamespacedDeployment({ name: deploymentName, namespace: ns });
      const s = d.status ?? {};
      const settled = s.observedGeneration === d.metadata?.generation && s.updatedReplicas === 2 && s.availableReplicas === 2 && s.replicas === 2;
      return settled ? d : false;
    };
    await eventually('2 proxy replicas available on the real node', available, 180_000);
    const service = await eventually('the LoadBalancer address of the proxy Service', async () => {
      const s = await core.readNamespacedService({ name: deploymentName, namespace: ns });
      return s.status?.loadBalancer?.ingress?.[0]?.ip ? s : undefined;
    }, 60_000);
    const address = service.status!.loadBalancer!.ingress![0]!.ip!;
    const pods = async () => (await core.listNamespacedPod({ namespace: ns, labelSelector: `gateway.networking.k8s.io/gateway-name=${GATEWAY}` })).items;
    const describePods = async () => (await pods()).map((p) => `${p.metadata!.name} ${p.spec!.nodeName} ${p.status!.podIP} ${p.metadata!.deletionTimestamp ? 'terminating' : p.status!.phase}`).join('; ');
    log(`proxy Deployment ${deploymentName} ready in ${Math.round((Date.now() - started) / 1000)} s at ${address}:443: ${await describePods()}`);
    await eventually('a first connection through the Gateway', async () => (await shortConnection(address, cert)).outcome === 'completed', 60_000);

    // Traffic: short connections every 20 ms, long-lived ones held across the rollout.
    let phase: Phase = 'before';
    const counts: Record<Phase, Record<Outcome, number>> = {
      before: { completed: 0, refused: 0, reset: 0, timeout: 0, failed: 0 },
      during: { completed: 0, refused: 0, reset: 0, timeout: 0, failed: 0 },
      after: { completed: 0, refused: 0, reset: 0, timeout: 0, failed: 0 },
      killed: { completed: 0, refused: 0, reset: 0, timeout: 0, failed: 0 },
    };
    const details: string[] = [];
    let sending = true;
    const inFlight = new Set<Promise<void>>();
    const sender = (async () => {
      let next = Date.now();
      while (sending) {
        const at: Phase = phase;
        const attempt = shortConnection(address, cert).then(({ outcome, detail }) => {
          counts[at][outcome]++;
          if (detail && details.length < 20) details.push(`${at}: ${outcome}: ${detail}`);
        });
        inFlight.add(attempt);
        void attempt.finally(() => inFlight.delete(attempt));
        next += NEW_CONNECTION_EVERY_MS;
        await sleep(Math.max(0, next - Date.now()));
      }
    })();
    let releaseLongLived!: () => void;
    const release = new Promise<void>((resolve) => (releaseLongLived = resolve));
    const longLived = Array.from({ length: LONG_LIVED }, () => longLivedConnection(address, cert, release));

    await sleep(5_000);
    const oldPods = (await pods()).map((p) => p.metadata!.name!);
    phase = 'during';
    const rolloutStart = Date.now();
    log(`rollout: GatewayParameters spec.deployment.resources.requests.cpu 100m -> 150m (old pods ${oldPods.join(', ')})`);
    await setParameters(2, '150m');
    await eventually('the Deployment to see the new template', async () => {
      const d = await apps.readNamespacedDeployment({ name: deploymentName, namespace: ns });
      return d.status?.observedGeneration === d.metadata?.generation && d.spec?.template.spec?.containers[0]?.resources?.requests?.cpu === '150m';
    }, 60_000);
    await eventually('the rollout to finish (2 new replicas available)', available, 240_000);
    log(`rollout finished in ${((Date.now() - rolloutStart) / 1000).toFixed(1)} s: ${await describePods()}`);
    // What the kubelet did with the old pods: deleted at deletionTimestamp minus the grace
    // period; SIGTERM (the proxy logs `draining`) only after the preStop sleep.
    for (const pod of (await pods()).filter((p) => oldPods.includes(p.metadata!.name!))) {
      const name = pod.metadata!.name!;
      const container = pod.spec!.containers[0]!;
      const deleted = new Date(pod.metadata!.deletionTimestamp!).getTime() - pod.metadata!.deletionGracePeriodSeconds! * 1000;
      const lines = await core.readNamespacedPodLog({ name, namespace: ns, container: 'proxy' }).catch((e: Error) => `(no log: ${e.message})`);
      const draining = lines.split('\n').map((l) => { try { return JSON.parse(l); } catch { return undefined; } }).find((l) => l?.event === 'draining');
      log(`old pod ${name}: preStop ${JSON.stringify(container.lifecycle?.preStop)}, terminationGracePeriodSeconds ${pod.spec!.terminationGracePeriodSeconds}, ` +
        `deleted ${new Date(deleted).toISOString()}, proxy logged draining ${draining ? `${((Date.parse(draining.time) - deleted) / 1000).toFixed(1)} s later` : 'not yet'}`);
    }
    // Long-lived connections end now, while the old pods still drain them.
    await sleep(3_000);
    releaseLongLived();
    const longLivedResults = await Promise.all(longLived);
    await eventually('the old proxy pods to be gone', async () => {
      const names = new Set((await pods()).map((p) => p.metadata!.name!));
      return oldPods.every((name) => !names.has(name));
    }, 120_000);
    log(`old pods gone ${((Date.now() - rolloutStart) / 1000).toFixed(1)} s after the change`);
    phase = 'after';
    await sleep(5_000);
    if (process.env.KILL_PROXY === '1') {
      phase = 'killed';
      await killOneProxy(core, ns, (await pods()).map((p) => p.metadata!.name!));
      await sleep(5_000);
    }
    sending = false;
    await sender;
    await Promise.all([...inFlight]);

    const total = (outcome: Outcome) => counts.before[outcome] + counts.during[outcome] + counts.after[outcome];
    for (const p of ['before', 'during', 'after'] as const) log(`new connections ${p}: ${JSON.stringify(counts[p])}`);
    if (process.env.KILL_PROXY === '1') log(`new connections from the SIGKILL on (not part of the verdict): ${JSON.stringify(counts.killed)}`);
    log(`new connections, all: completed ${total('completed')}, refused ${total('refused')}, reset ${total('reset')}, timeout ${total('timeout')}, failed ${total('failed')}`);
    const longLivedCounts = longLivedResults.reduce<Record<string, number>>((acc, r) => ((acc[r.outcome] = (acc[r.outcome] ?? 0) + 1), acc), {});
    log(`long-lived connections (${LONG_LIVED}, held across the rollout): ${JSON.stringify(longLivedCounts)}; requests answered on them: ${longLivedResults.map((r) => r.requests).join(', ')}`);
    for (const r of longLivedResults) if (r.detail) details.push(`long-lived: ${r.outcome}: ${r.detail}`);
    for (const d of details) log(`  ${d}`);
    const bad = (['refused', 'reset', 'timeout', 'failed'] as const).reduce((n, o) => n + total(o), 0) + longLivedResults.filter((r) => r.outcome !== 'completed').length;
    log(bad === 0 ? 'PASS: no connection refused, reset or lost' : `FAIL: ${bad} connections did not complete`);
    process.exitCode = bad === 0 ? 0 : 1;
  } catch (error) {
    log(`error: ${error instanceof Error ? error.message : String(error)}`);
    log(`operator log (last 30 lines):\n${operatorLogs.slice(-30).join('\n')}`);
    process.exitCode = 2;
  } finally {
    await operator.stop().catch(() => undefined);
    await deleteGatewayClass(kc, className);
    if (process.env.KEEP_NAMESPACE !== '1') await deleteNamespace(kc, ns);
  }
}

void main();
