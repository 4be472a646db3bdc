// Secrets at scale on the cluster in a box: the operator, run as its own process by the
// `tlsgate operator` command, is measured before and after SECRETS unrelated Secrets exist
// (most of them Helm-release-like: type helm.sh/release.v1, ~10 KB each; the rest Opaque).
// It watches only kubernetes.io/tls Secrets and its own, so its Secret cache must not grow by
// one of them; its resident memory (process_resident_memory_bytes from its own /metrics),
// the time until it is ready (every informer listed) and the time until a new Gateway is
// Programmed (a proxy pod started and ACKed) are printed for both runs.
//
// npm test creates 300 Secrets and measures readiness, memory and the Secret cache (about 15 s
// here); `npm run bench:secrets` runs this file with TLSGATE_SCALE_SECRETS=10000 and also times
// a new Gateway to Programmed in each run (a proxy pod start each, too slow for npm test's
// budget): the figures in docs/performance.md.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { deleteNamespace, freshNamespace, kubeconfigPath, loadTestKubeConfig, podNetwork } from '../cluster/client.js';
import { projectRoot, upstreamDir } from '../helpers/paths.js';
import { applyFile, condition, createCertificateSecret, createGatewayClass, deleteGatewayClass, eventually, getCustom, uniqueSuffix } from './operator-support.js';

const SECRETS = Number(process.env.TLSGATE_SCALE_SECRETS ?? 300);
/** The bench (TLSGATE_SCALE_SECRETS set) also waits for a new Gateway to be Programmed in each run. */
const MEASURE_PROGRAMMED = process.env.TLSGATE_SCALE_SECRETS !== undefined;
const HELM_SHARE = 0.7;
const SECRET_BYTES = 10 * 1024;

async function freePort(host: string): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function metricValue(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

interface Run {
  readyMs: number;
  programmedMs?: number;
  rssBytes: number;
  cachedSecrets: number;
}

describe(`operator: ${SECRETS} unrelated Secrets`, () => {
  let kc: k8s.KubeConfig;
  let ns: string;
  let secretsNs: string;
  const suffix = uniqueSuffix();
  const className = `it-scale-${suffix}`;
  const controllerName = `tlsgate.dev/it-scale-${suffix}`;
  let child: ChildProcess | undefined;
  const output: string[] = [];

  before(async () => {
    kc = loadTestKubeConfig();
    ns = await freshNamespace(kc, 'op-scale');
    secretsNs = await freshNamespace(kc, 'op-scale-secrets');
    await createGatewayClass(kc, className, controllerName);
    await createCertificateSecret(kc, ns, 'tls-terminate-certificate', 'bar.example.com');
  });

  after(async () => {
    await stopOperator();
    await deleteGatewayClass(kc, className);
    await deleteNamespace(kc, ns);
    await deleteNamespace(kc, secretsNs);
  });

  async function stopOperator(): Promise<void> {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill('SIGTERM');
    await exited;
  }

  /** Starts `tlsgate operator` with a new Gateway waiting for it; measures until it is Programmed. */
  async function measure(gatewayName: string): Promise<Run> {
    if (MEASURE_PROGRAMMED) await applyFile(kc, path.join(upstreamDir, 'examples', 'gateway.yaml'), ns, (gw) => {
      gw.metadata.name = gatewayName;
      gw.spec.gatewayClassName = className;
    });
    const configPort = await freePort(podNetwork.gatewayIp);
    const adminPort = await freePort('127.0.0.1');
    const url = `wss://${podNetwork.gatewayIp}:${configPort}`;
    const env = { ...process.env };
    delete env.POD_NAME; // not in a pod: no leader label to write
    const started = Date.now();
    child = spawn(
      process.execPath,
      [
        path.join(projectRoot, 'bin', 'tlsgate.js'),
        'operator',
        '--kubeconfig', kubeconfigPath,
        '--namespace', ns,
        '--identity', `scale-${gatewayName}`,
        '--controller-name', controllerName,
        '--proxy-image', 'tlsgate:dev',
        '--config-server-address', `${podNetwork.gatewayIp}:${configPort}`,
        '--config-server-url', url,
        '--admin-address', `127.0.0.1:${adminPort}`,
        '--lease-duration', '6', '--renew-deadline', '4', '--retry-period', '1',
        '--debounce-ms', '50',
        '--log-level', 'warn',
      ],
      { env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout!.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    const admin = `http://127.0.0.1:${adminPort}`;
    const alive = () => assert.equal(child?.exitCode ?? null, null, `the operator exited: ${output.join('').slice(-2000)}`);
    await eventually('the operator ready (every informer listed)', async () => {
      alive();
      return (await fetch(`${admin}/readyz`)).status === 200;
    }, 120_000);
    const readyMs = Date.now() - started;
    let programmedMs: number | undefined;
    if (MEASURE_PROGRAMMED) {
      await eventually(`Gateway ${gatewayName} Programmed=True`, async () => {
        alive();
        const gw = await getCustom(kc, 'gateways', ns, gatewayName);
        return condition(gw.status?.conditions, 'Programmed')?.status === 'True';
      }, 120_000);
      programmedMs = Date.now() - started;
    } else {
      // Its first reconcile done (the CA and ticket-key Secrets it creates are in its cache).
      await eventually('a reconcile', async () => {
        alive();
        return (metricValue(await (await fetch(`${admin}/metrics`)).text(), 'tlsgate_operator_reconciles_total{result="success"}') ?? 0) >= 1;
      });
    }
    const metrics = await (await fetch(`${admin}/metrics`)).text();
    await stopOperator();
    return {
      readyMs,
      programmedMs,
      rssBytes: metricValue(metrics, 'process_resident_memory_bytes')!,
      cachedSecrets: metricValue(metrics, 'tlsgate_operator_watched_objects{kind="Secret"}')!,
    };
  }

  async function createUnrelatedSecrets(): Promise<number> {
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const started = Date.now();
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < SECRETS; i = next++) {
        const helm = i < SECRETS * HELM_SHARE;
        const payload = randomBytes((SECRET_BYTES * 3) / 4).toString('base64'); // ~10 KB once base64
        const body: k8s.V1Secret = helm
          ? {
              metadata: { name: `sh.helm.release.v1.app-${i}.v1`, labels: { owner: 'helm', name: `app-${i}`, status: 'deployed', version: '1' } },
              type: 'helm.sh/release.v1',
              data: { release: Buffer.from(payload).toString('base64') },
            }
          : { metadata: { name: `app-config-${i}` }, type: 'Opaque', data: { 'config.json': Buffer.from(payload).toString('base64') } };
        await core.createNamespacedSecret({ namespace: secretsNs, body });
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    return Date.now() - started;
  }

  it('caches none of them; memory and startup are printed before and after', async () => {
    const beforeRun = await measure('scale-before');
    const createMs = await createUnrelatedSecrets();
    const afterRun = await measure('scale-after');
    const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
    console.log(`# ${SECRETS} unrelated Secrets (${Math.round(HELM_SHARE * 100)}% helm.sh/release.v1, ~${SECRET_BYTES / 1024} KB each) created in ${createMs} ms`);
    for (const [label, run] of [['before', beforeRun], ['after', afterRun]] as const) {
      const programmed = run.programmedMs === undefined ? '' : `, new Gateway Programmed ${run.programmedMs} ms after start`;
      console.log(`# ${label}: RSS ${mib(run.rssBytes)} MiB, ready in ${run.readyMs} ms${programmed}, Secrets cached ${run.cachedSecrets}`);
    }
    // Caching the unrelated Secrets would add all SECRETS of them. In the bench (run alone) the
    // second run has one Gateway more, whose proxy client-certificate Secret is cached; in
    // npm test the namespaces of earlier suites are still being deleted, so their certificates
    // may leave the cache between the two runs and it may shrink.
    const grown = afterRun.cachedSecrets - beforeRun.cachedSecrets;
    assert.ok(grown < Math.max(10, SECRETS / 20), `the Secret cache grew by ${grown} (${beforeRun.cachedSecrets} → ${afterRun.cachedSecrets}): the unrelated Secrets were cached`);
    if (MEASURE_PROGRAMMED) assert.ok(grown >= 1, `the new Gateway's client-certificate Secret is cached (${beforeRun.cachedSecrets} → ${afterRun.cachedSecrets})`);
    assert.ok(afterRun.rssBytes > 0 && beforeRun.rssBytes > 0);
  });
});
