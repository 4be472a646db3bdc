// The cluster in a box, node side: pods run as processes in their own network namespaces,
// Deployments, EndpointSlices, LoadBalancer Services, volumes, in-cluster API access,
// restarts and image errors, all observed through the real API and real sockets.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { loadTestKubeConfig, freshNamespace, deleteNamespace, waitFor, containerLog, podNode } from '../cluster/client.js';
import { readyPods, waitForPhase, httpGetText, tcpConversation } from './harness-helpers.js';

const echoLabels = { app: 'echo' };

function echoDeployment(): k8s.V1Deployment {
  return {
    metadata: { name: 'echo' },
    spec: {
      replicas: 2,
      selector: { matchLabels: echoLabels },
      template: {
        metadata: { labels: echoLabels },
        spec: {
          terminationGracePeriodSeconds: 5,
          containers: [{
            name: 'echo',
            image: 'registry.k8s.io/gateway-api/echo-basic:v1.5.1',
            env: [
              { name: 'TCP_ECHO_SERVER', value: '1' },
              { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
              { name: 'NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
            ],
            ports: [{ name: 'tcp', containerPort: 3000 }],
            readinessProbe: { tcpSocket: { port: 'tcp' }, periodSeconds: 1 },
            livenessProbe: { tcpSocket: { port: 3000 }, periodSeconds: 5 },
          }],
        },
      },
    },
  };
}

describe('cluster in a box: workloads', () => {
  let kc: k8s.KubeConfig;
  let core: k8s.CoreV1Api;
  let apps: k8s.AppsV1Api;
  let ns: string;

  before(async () => {
    kc = loadTestKubeConfig();
    core = kc.makeApiClient(k8s.CoreV1Api);
    apps = kc.makeApiClient(k8s.AppsV1Api);
    ns = await freshNamespace(kc, 'harness-work');
  });
  after(async () => { await deleteNamespace(kc, ns); });

  it('a 2-replica Deployment becomes Available with 2 Ready pods on distinct IPs, and its EndpointSlice lists both', async () => {
    await apps.createNamespacedDeployment({ namespace: ns, body: echoDeployment() });
    await core.createNamespacedService({
      namespace: ns,
      body: { metadata: { name: 'echo' }, spec: { selector: echoLabels, ports: [{ name: 'tcp', port: 3000, targetPort: 'tcp' }] } },
    });
    const deployment = await waitFor('Deployment echo to be Available with 2 ready replicas', 90_000, async () => {
      const d = await apps.readNamespacedDeployment({ name: 'echo', namespace: ns });
      const available = d.status?.conditions?.some((c) => c.type === 'Available' && c.status === 'True');
      return available && d.status?.readyReplicas === 2 ? d : undefined;
    });
    assert.equal(deployment.status?.availableReplicas, 2);
    const pods = await readyPods(core, ns, 'app=echo');
    assert.equal(pods.length, 2);
    const ips = pods.map((p) => p.status!.podIP!);
    assert.notEqual(ips[0], ips[1]);
    for (const ip of ips) assert.match(ip, /^10\.244\.\d+\.\d+$/);

    const discovery = kc.makeApiClient(k8s.DiscoveryV1Api);
    const endpoints = await waitFor('the EndpointSlice of Service echo to list both pods as ready', 30_000, async () => {
      const slices = await discovery.listNamespacedEndpointSlice({ namespace: ns, labelSelector: 'kubernetes.io/service-name=echo' });
      const ready = slices.items.flatMap((s) => s.endpoints ?? []).filter((e) => e.conditions?.ready === true);
      return ready.length === 2 ? ready : undefined;
    });
    assert.deepEqual(endpoints.flatMap((e) => e.addresses).sort(), [...ips].sort());
    assert.ok(endpoints.every((e) => e.nodeName === 'tlsgate-node'));

    // Each pod is reachable from the host at its own address and knows its own name.
    for (const pod of pods) {
      const [welcome, test] = await tcpConversation(pod.status!.podIP!, 3000, ['TEST'], 2);
      assert.equal(welcome, 'Gateway API Test TCP Server');
      const context = JSON.parse(test!) as { pod: string; namespace: string; isTLS: boolean };
      assert.equal(context.pod, pod.metadata!.name);
      assert.equal(context.namespace, ns);
      assert.equal(context.isTLS, false);
    }
  });

  it('a LoadBalancer Service gets an ingress address that reaches its pods from the host', async () => {
    await core.createNamespacedService({
      namespace: ns,
      body: { metadata: { name: 'echo-lb' }, spec: { type: 'LoadBalancer', selector: echoLabels, ports: [{ name: 'tcp', port: 7000, targetPort: 3000 }] } },
    });
    const ingressIp = await waitFor('Service echo-lb to get a LoadBalancer ingress', 30_000, async () => {
      const svc = await core.readNamespacedService({ name: 'echo-lb', namespace: ns });
      return svc.status?.loadBalancer?.ingress?.[0]?.ip;
    });
    assert.match(ingressIp, /^127\./);
    const podNames = new Set((await readyPods(core, ns, 'app=echo')).map((p) => p.metadata!.name!));
    const seen = new Set<string>();
    await waitFor('the LoadBalancer to reach both pods', 30_000, async () => {
      const [welcome, pong, test] = await tcpConversation(ingressIp, 7000, ['PING', 'TEST'], 3);
      assert.equal(welcome, 'Gateway API Test TCP Server');
      assert.equal(pong, 'PONG');
      const pod = (JSON.parse(test!) as { pod: string }).pod;
      assert.ok(podNames.has(pod), `answer from unknown pod ${pod}`);
      seen.add(pod);
      return seen.size === 2 ? true : undefined;
    }, 50);
  });

  it('a deleted pod is replaced by a new ready pod', async () => {
    const [victim] = await readyPods(core, ns, 'app=echo');
    assert.ok(victim);
    await core.deleteNamespacedPod({ name: victim.metadata!.name!, namespace: ns });
    const replaced = await waitFor('2 ready echo pods without the deleted one', 90_000, async () => {
      const pods = await readyPods(core, ns, 'app=echo');
      const names = pods.map((p) => p.metadata!.name!);
      return pods.length === 2 && !names.includes(victim.metadata!.name!) ? pods : undefined;
    });
    assert.equal(replaced.length, 2);
    await waitFor(`pod ${victim.metadata!.name} to be gone`, 30_000, async () =>
      core.readNamespacedPod({ name: victim.metadata!.name!, namespace: ns }).then(() => undefined, (e: unknown) => ((e as { code?: number }).code === 404 ? true : Promise.reject(e))));
  });

  it('pods reach each other by pod IP and through a Service name (cluster IP relay)', async () => {
    const [target] = await readyPods(core, ns, 'app=echo');
    assert.ok(target);
    // Connects to each address in TARGETS, expects the echo greeting, exits 0 only if all answered.
    const script = [
      "const net = require('net'); const targets = process.env.TARGETS.split(' ');",
      "let left = targets.length; const fail = (t, why) => { console.log('FAIL', t, why); process.exit(1); };",
      "for (const t of targets) { const [host, port] = t.split(':'); const s = net.connect(Number(port), host);",
      "  s.setTimeout(5000, () => fail(t, 'timeout')); s.on('error', (e) => fail(t, e.message));",
      "  s.once('data', (d) => { if (!String(d).startsWith('Gateway API Test TCP Server')) fail(t, String(d)); console.log('OK', t); s.destroy(); if (--left === 0) process.exit(0); }); }",
    ].join('\n');
    const targets = [`${target.status!.podIP}:3000`, 'echo:3000', `echo.${ns}.svc.cluster.local:3000`];
    await core.createNamespacedPod({
      namespace: ns,
      body: {
        metadata: { name: 'peer-client' },
        spec: { restartPolicy: 'Never', containers: [{ name: 'client', image: 'tlsgate.test/pause', command: ['node', '-e', script], env: [{ name: 'TARGETS', value: targets.join(' ') }] }] },
      },
    });
    const pod = await waitFor('peer-client to finish', 60_000, async () => {
      const p = await core.readNamespacedPod({ name: 'peer-client', namespace: ns });
      return p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed' ? p : undefined;
    });
    assert.equal(pod.status?.phase, 'Succeeded', containerLog(ns, 'peer-client', 'client'));
    assert.equal(containerLog(ns, 'peer-client', 'client').split('\n').filter((l) => l.startsWith('OK ')).length, 3);
  });

  it('a failing readiness probe takes the pod out of its EndpointSlice; passing again brings it back', async () => {
    // GET /toggle flips the /ready answer between 200 and 500.
    const script = "let ok = true; require('http').createServer((q, s) => { if (q.url === '/toggle') { ok = !ok; s.end(String(ok)); } else { s.statusCode = ok ? 200 : 500; s.end(); } }).listen(8080)";
    await core.createNamespacedPod({
      namespace: ns,
      body: {
        metadata: { name: 'flappy', labels: { app: 'flappy' } },
        spec: {
          terminationGracePeriodSeconds: 1,
          containers: [{
            name: 'web', image: 'tlsgate.test/pause', command: ['node', '-e', script], ports: [{ name: 'http', containerPort: 8080 }],
            readinessProbe: { httpGet: { path: '/ready', port: 'http' }, periodSeconds: 1, failureThreshold: 1 },
          }],
        },
      },
    });
    await core.createNamespacedService({ namespace: ns, body: { metadata: { name: 'flappy' }, spec: { selector: { app: 'flappy' }, ports: [{ port: 80, targetPort: 'http' }] } } });
    const discovery = kc.makeApiClient(k8s.DiscoveryV1Api);
    const endpointReady = async (): Promise<boolean | undefined> => {
      const slices = await discovery.listNamespacedEndpointSlice({ namespace: ns, labelSelector: 'kubernetes.io/service-name=flappy' });
      return slices.items.flatMap((s) => s.endpoints ?? [])[0]?.conditions?.ready;
    };
    await waitFor('flappy to be a ready endpoint', 60_000, async () => ((await endpointReady()) === true ? true : undefined));
    const pod = await core.readNamespacedPod({ name: 'flappy', namespace: ns });
    const toggle = `http://${pod.status!.podIP}:8080/toggle`;
    assert.equal((await httpGetText(toggle)).body, 'false');
    await waitFor('flappy to be an unready endpoint', 30_000, async () => ((await endpointReady()) === false ? true : undefined));
    const unready = await core.readNamespacedPod({ name: 'flappy', namespace: ns });
    assert.equal(unready.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'False');
    assert.equal(unready.status?.phase, 'Running');
    assert.equal((await httpGetText(toggle)).body, 'true');
    await waitFor('flappy to be ready again', 30_000, async () => ((await endpointReady()) === true ? true : undefined));
  });

  it('a failing liveness probe restarts the container', async () => {
    const script = "let ok = true; require('http').createServer((q, s) => { if (q.url === '/break') { ok = false; s.end('broken'); } else { s.statusCode = ok ? 200 : 500; s.end(); } }).listen(8080)";
    await core.createNamespacedPod({
      namespace: ns,
      body: {
        metadata: { name: 'sickly' },
        spec: {
          terminationGracePeriodSeconds: 1,
          containers: [{
            name: 'web', image: 'tlsgate.test/pause', command: ['node', '-e', script],
            readinessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 1 },
            livenessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 1, failureThreshold: 2 },
          }],
        },
      },
    });
    const pod = await waitFor('sickly to be ready', 60_000, async () => {
      const p = await core.readNamespacedPod({ name: 'sickly', namespace: ns });
      return p.status?.containerStatuses?.[0]?.ready ? p : undefined;
    });
    assert.equal(pod.status?.containerStatuses?.[0]?.restartCount, 0);
    assert.equal((await httpGetText(`http://${pod.status!.podIP}:8080/break`)).body, 'broken');
    // The restarted process starts healthy again, so the pod comes back ready.
    const restarted = await waitFor('sickly to be restarted and ready again', 60_000, async () => {
      const s = (await core.readNamespacedPod({ name: 'sickly', namespace: ns })).status?.containerStatuses?.[0];
      return s && s.restartCount >= 1 && s.ready ? s : undefined;
    });
    assert.ok(restarted.lastState?.terminated, 'the killed process is the last state');
  });

  it('init containers run to completion, in order, before the app container', async () => {
    await core.createNamespacedPod({
      namespace: ns,
      body: {
        metadata: { name: 'with-init' },
        spec: {
          restartPolicy: 'Never',
          initContainers: [
            { name: 'first', image: 'tlsgate.test/pause', command: ['sh', '-c', 'echo first > /work/order'], volumeMounts: [{ name: 'work', mountPath: '/work' }] },
            { name: 'second', image: 'tlsgate.test/pause', command: ['sh', '-c', 'echo second >> /work/order'], volumeMounts: [{ name: 'work', mountPath: '/work' }] },
          ],
          containers: [{ name: 'main', image: 'tlsgate.test/pause', command: ['sh', '-c', 'test "$(cat /work/order | tr "\\n" " ")" = "first second "'], volumeMounts: [{ name: 'work', mountPath: '/work' }] }],
          volumes: [{ name: 'work', emptyDir: {} }],
        },
      },
    });
    const pod = await waitFor('with-init to finish', 60_000, async () => {
      const p = await core.readNamespacedPod({ name: 'with-init', namespace: ns });
      return p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed' ? p : undefined;
    });
    assert.equal(pod.status?.phase, 'Succeeded', JSON.stringify(pod.status?.containerStatuses));
    assert.deepEqual(pod.status?.initContainerStatuses?.map((s) => s.state?.terminated?.exitCode), [0, 0]);
    assert.equal(pod.status?.conditions?.find((c) => c.type === 'Initialized')?.status, 'True');
  });

  it('a Secret update reaches the file mounted in the pod, and the mount is private to the pod', async () => {
    await core.createNamespacedSecret({ namespace: ns, body: { metadata: { name: 'harness-secret' }, stringData: { value: 'first' } } });
    const mountPath = `/etc/tlsgate-harness-${ns}`;
    // A tiny server in the pod that answers with the mounted file's current content.
    const script = `require('http').createServer((q, s) => { try { s.end(require('fs').readFileSync('${mountPath}/value')); } catch (e) { s.statusCode = 500; s.end(String(e)); } }).listen(8080)`;
    await core.createNamespacedPod({
      namespace: ns,
      body: {
        metadata: { name: 'secret-reader' },
        spec: {
          terminationGracePeriodSeconds: 2,
          containers: [{
            name: 'reader', image: 'tlsgate.test/pause', command: ['node', '-e', script],
            volumeMounts: [{ name: 'secret', mountPath }],
            readinessProbe: { httpGet: { path: '/', port: 8080 }, periodSeconds: 1 },
          }],
          volumes: [{ name: 'secret', secret: { secretName: 'harness-secret' } }],
        },
      },
    });
    const pod = await waitFor('secret-reader to be ready', 60_000, async () => {
      const p = await core.readNamespacedPod({ name: 'secret-reader', namespace: ns });
      return p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? p : undefined;
    });
    const url = `http://${pod.status!.podIP}:8080/`;
    assert.equal((await httpGetText(url)).body, 'first');
    // The host sees at most an empty mount point, never the Secret's content.
    assert.equal(existsSync(`${mountPath}/value`), false);

    await core.replaceNamespacedSecret({ name: 'harness-secret', namespace: ns, body: { metadata: { name: 'harness-secret' }, stringData: { value: 'second' } } });
    await waitFor('the updated Secret value in the mounted file', 30_000, async () =>
      ((await httpGetText(url)).body === 'second' ? true : undefined));
  });

  it('pods reach the apiserver in-cluster (Service DNS name, projected token, CA) and are authenticated as their ServiceAccount', async () => {
    const script = [
      "const fs = require('fs'), https = require('https');",
      "const dir = '/var/run/secrets/kubernetes.io/serviceaccount';",
      "const ns = fs.readFileSync(dir + '/namespace', 'utf8');",
      "https.get({ host: 'kubernetes.default.svc', port: Number(process.env.KUBERNETES_SERVICE_PORT), path: '/api/v1/namespaces/' + ns + '/secrets',",
      "  ca: fs.readFileSync(dir + '/ca.crt'), headers: { authorization: 'Bearer ' + fs.readFileSync(dir + '/token', 'utf8') } }, (res) => {",
      "  let body = ''; res.on('data', (c) => body += c);",
      "  res.on('end', () => { console.log(res.statusCode, body); process.exit(res.statusCode === 403 && body.includes('system:serviceaccount:' + ns + ':default') ? 0 : 1); });",
      "}).on('error', (e) => { console.log('error', e.message); process.exit(2); });",
    ].join('\n');
    await core.createNamespacedPod({
      namespace: ns,
      body: {
        metadata: { name: 'api-client' },
        spec: { restartPolicy: 'Never', containers: [{ name: 'client', image: 'tlsgate.test/pause', command: ['node', '-e', script] }] },
      },
    });
    const pod = await waitFor('api-client to finish', 60_000, async () => {
      const p = await core.readNamespacedPod({ name: 'api-client', namespace: ns });
      return p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed' ? p : undefined;
    });
    assert.equal(pod.status?.phase, 'Succeeded', `container status: ${JSON.stringify(pod.status?.containerStatuses?.[0]?.state)}`);
  });

  it('runs the tlsgate image from this checkout, with the container args', async () => {
    await core.createNamespacedPod({
      namespace: ns,
      body: { metadata: { name: 'tlsgate-help' }, spec: { restartPolicy: 'Never', containers: [{ name: 'tlsgate', image: 'ghcr.io/tlsgate/tlsgate:dev', args: ['--help'] }] } },
    });
    const pod = await waitForPhase(core, ns, 'tlsgate-help', 'Succeeded');
    assert.equal(pod.status?.containerStatuses?.[0]?.state?.terminated?.exitCode, 0);
    // Its output (the CLI's help) is in the container log the agent keeps, after the start
    // line with the argv: the pods' Node that cluster:up recorded runs the CLI.
    const log = containerLog(ns, 'tlsgate-help', 'tlsgate');
    assert.match(log, /Usage: tlsgate/);
    const start = log.split('\n').find((l) => l.startsWith('--- '));
    assert.match(start ?? '', / start #0: (\S+) \S+\/bin\/tlsgate\.js --help$/);
    assert.equal(/ start #0: (\S+) /.exec(start!)![1], podNode().path);
  });

  it('pods run the Node that cluster:up recorded, also as `node` on their PATH', async () => {
    const expected = podNode();
    await core.createNamespacedPod({
      namespace: ns,
      body: { metadata: { name: 'node-version' }, spec: { restartPolicy: 'Never', containers: [{
        name: 'main', image: 'tlsgate.test/pause', command: ['sh', '-c', 'node -p "process.version + \' \' + process.execPath"'],
      }] } },
    });
    const pod = await waitForPhase(core, ns, 'node-version', 'Succeeded');
    assert.equal(pod.status?.containerStatuses?.[0]?.state?.terminated?.exitCode, 0);
    const printed = containerLog(ns, 'node-version', 'main').split('\n').filter((l) => l !== '' && !l.startsWith('--- '));
    assert.deepEqual(printed, [`${expected.version} ${realpathSync(expected.path)}`]);
  });

  it('restarts a failing container per restartPolicy and reports its last state', async () => {
    await core.createNamespacedPod({
      namespace: ns,
      body: { metadata: { name: 'crasher' }, spec: { restartPolicy: 'Always', containers: [{ name: 'crash', image: 'tlsgate.test/pause', command: ['sh', '-c', 'exit 3'] }] } },
    });
    // Between restarts the container waits out its back-off, as the kubelet shows it.
    const status = await waitFor('crasher to be restarted at least twice and back off', 60_000, async () => {
      const p = await core.readNamespacedPod({ name: 'crasher', namespace: ns });
      const s = p.status?.containerStatuses?.[0];
      return s && s.restartCount >= 2 && s.state?.waiting?.reason === 'CrashLoopBackOff' ? s : undefined;
    }, 100);
    assert.equal(status.lastState?.terminated?.exitCode, 3);
    assert.equal(status.ready, false);
    assert.ok(containerLog(ns, 'crasher', 'crash').split('\n').filter((l) => l.startsWith('--- ')).length >= 3, 'one log header per start');
  });

  it('deletion sends SIGTERM first, and SIGKILL to a container that ignores it once the grace period is over', async () => {
    const hostDir = mkdtempSync(path.join(tmpdir(), 'tlsgate-grace-'));
    try {
      const pod = (name: string, script: string): k8s.V1Pod => ({
        metadata: { name },
        spec: {
          terminationGracePeriodSeconds: 2,
          containers: [{ name: 'main', image: 'tlsgate.test/pause', command: ['sh', '-c', script], volumeMounts: [{ name: 'out', mountPath: '/out' }] }],
          volumes: [{ name: 'out', hostPath: { path: hostDir } }],
        },
      });
      // One container leaves a note when SIGTERM arrives; the other ignores SIGTERM.
      await core.createNamespacedPod({ namespace: ns, body: pod('polite', `trap 'echo got-TERM > /out/polite; exit 0' TERM; touch /out/polite-started; while true; do sleep 0.2; done`) });
      await core.createNamespacedPod({ namespace: ns, body: pod('stubborn', `trap '' TERM; touch /out/stubborn-started; while true; do sleep 0.2; done`) });
      await waitFor('both containers to start', 60_000, async () =>
        (existsSync(path.join(hostDir, 'polite-started')) && existsSync(path.join(hostDir, 'stubborn-started')) ? true : undefined));
      await core.deleteNamespacedPod({ name: 'polite', namespace: ns });
      await core.deleteNamespacedPod({ name: 'stubborn', namespace: ns });
      const gone = (name: string) => core.readNamespacedPod({ name, namespace: ns })
        .then(() => undefined, (e: unknown) => ((e as { code?: number }).code === 404 ? true : Promise.reject(e)));
      await waitFor('both pods to be gone', 60_000, async () => ((await gone('polite')) && (await gone('stubborn')) ? true : undefined));
      assert.equal(readFileSync(path.join(hostDir, 'polite'), 'utf8').trim(), 'got-TERM');
      // The stubborn one could only have ended by SIGKILL: it never wrote anything on TERM.
      assert.equal(existsSync(path.join(hostDir, 'stubborn')), false);
    } finally {
      rmSync(hostDir, { recursive: true, force: true });
    }
  });

  it('an image missing from the image table is an error on the pod, not a silent skip', async () => {
    await core.createNamespacedPod({
      namespace: ns,
      body: { metadata: { name: 'unknown-image' }, spec: { containers: [{ name: 'main', image: 'example.com/not/in-the-table:1.0' }] } },
    });
    const waiting = await waitFor('unknown-image to report ErrImagePull', 30_000, async () => {
      const p = await core.readNamespacedPod({ name: 'unknown-image', namespace: ns });
      const w = p.status?.containerStatuses?.[0]?.state?.waiting;
      return w?.reason === 'ErrImagePull' ? w : undefined;
    });
    assert.match(waiting.message ?? '', /example\.com\/not\/in-the-table:1\.0/);
    const pod = await core.readNamespacedPod({ name: 'unknown-image', namespace: ns });
    assert.equal(pod.status?.phase, 'Pending');
  });
});
