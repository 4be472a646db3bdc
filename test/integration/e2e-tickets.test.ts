// Session tickets across the proxy replicas of one Gateway, on the cluster in a box: an
// operator (in this process, on the pod bridge) runs a Gateway with two proxy pods
// (GatewayParameters replicas: 2); a client connects to each pod's IP directly, and a TLS 1.3
// or TLS 1.2 session from pod A resumes on pod B. Without the shared ring each pod would have
// keys of its own and the resumption would be a full handshake.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { podsDir } from '../cluster/state.js';
import { TICKET_KEYS_SECRET_NAME, ticketKeyRing, withTicketKeys } from '../../operator/ticket-keys.js';
import { PROXY_ADMIN_PORT } from '../../operator/infra/render.js';
import type { ProxyConfig } from '../../src/proxy-config.js';
import { resumableHandshake, type TlsVersion } from '../helpers/traffic.js';
import { condition, createCertificateSecret, createEchoBackend, createObject, eventually, getCustom, operatorSuite, testOperator, GATEWAY_GROUP } from './operator-support.js';

const HOST = 'tickets.example.com';
const GATEWAY = 'tickets';

/** One handshake to a pod's Terminate listener (see resumableHandshake). */
function handshake(host: string, version: TlsVersion, session?: Buffer) {
  return resumableHandshake({ host, port: 443, servername: HOST, version, session });
}

describe('e2e: session tickets shared by the proxy pods of a Gateway', () => {
  let podIps: string[] = [];
  const suite = operatorSuite({
    name: 'tickets',
    namespacePrefix: 'e2e-tickets',
    gatewayParameters: { 'two-replicas': { deployment: { replicas: 2 }, service: { type: 'ClusterIP' } } },
    setup: async ({ kc, ns, className }) => {
      await createCertificateSecret(kc, ns, 'gateway-cert', HOST);
      // The backend greets first: the proxy's tickets come before its greeting.
      await createEchoBackend(kc, ns);
      await createObject(kc, {
        apiVersion: `${GATEWAY_GROUP}/v1`, kind: 'Gateway', metadata: { name: GATEWAY, namespace: ns },
        spec: {
          gatewayClassName: className,
          infrastructure: { parametersRef: { group: 'tlsgate.dev', kind: 'GatewayParameters', name: 'two-replicas' } },
          listeners: [{ name: 'term', protocol: 'TLS', port: 443, hostname: HOST, tls: { mode: 'Terminate', certificateRefs: [{ name: 'gateway-cert' }] } }],
        },
      });
      await createObject(kc, {
        apiVersion: `${GATEWAY_GROUP}/v1`, kind: 'TLSRoute', metadata: { name: 'echo', namespace: ns },
        spec: { parentRefs: [{ name: GATEWAY }], hostnames: [HOST], rules: [{ backendRefs: [{ name: 'echo', port: 3000 }] }] },
      });
    },
  });

  const why = () => `\noperator log (last 15):\n${suite.logs.slice(-15).join('\n')}`;

  it('the operator keeps one master secret for the ticket keys in its namespace', async () => {
    const secret = await suite.kc.makeApiClient(k8s.CoreV1Api).readNamespacedSecret({ name: TICKET_KEYS_SECRET_NAME, namespace: suite.ns });
    assert.equal(Buffer.from(secret.data?.master ?? '', 'base64').length, 32);
    assert.equal(suite.logs.some((line) => line.includes(secret.data!.master!)), false, 'never logged');
  });

  it('both proxy pods serve the same config with the ring, redacted in /config_dump', async () => {
    await eventually('Gateway Programmed', async () => condition((await getCustom(suite.kc, 'gateways', suite.ns, GATEWAY)).status?.conditions, 'Programmed')?.status === 'True', 90_000)
      .catch((err: Error) => assert.fail(`${err.message}${why()}`));
    const core = suite.kc.makeApiClient(k8s.CoreV1Api);
    const dumps = await eventually('two ready proxy pods, each serving a config and carrying traffic', async () => {
      const pods = (await core.listNamespacedPod({ namespace: suite.ns, labelSelector: `gateway.networking.k8s.io/gateway-name=${GATEWAY}` })).items
        .filter((p) => !p.metadata?.deletionTimestamp && p.status?.podIP && (p.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'));
      if (pods.length !== 2) return undefined;
      const result = await Promise.all(pods.map(async (p) => {
        const res = await fetch(`http://${p.status!.podIP}:${PROXY_ADMIN_PORT}/config_dump`, { signal: AbortSignal.timeout(3000) });
        return { ip: p.status!.podIP!, body: await res.text() };
      }));
      if (!result.every((d) => (JSON.parse(d.body) as { configs: ProxyConfig[] }).configs.length === 1)) return undefined;
      // Programmed and a config are not yet traffic: the route or the echo backend's endpoints
      // may come one reconcile later. Each pod must carry a handshake through to the greeting.
      try {
        await Promise.all(result.map((d) => handshake(d.ip, 'TLSv1.3')));
      } catch {
        return undefined;
      }
      return result;
    }, 90_000).catch((err: Error) => assert.fail(`${err.message}${why()}`));
    podIps = dumps.map((d) => d.ip);
    assert.notEqual(podIps[0], podIps[1], 'two pods, two addresses');
    const [a, b] = dumps.map((d) => JSON.parse(d.body) as { versions: Record<string, string>; configs: ProxyConfig[] });
    assert.deepEqual(a!.configs[0]!.sessionTicketKeys, ['<redacted>', '<redacted>']);
    const served = a!.versions[`${suite.ns}/${GATEWAY}`]!;
    assert.equal(b!.versions[`${suite.ns}/${GATEWAY}`], served, 'the same version: the same ring');
    // The status names translate's version, a prefix of the one with the ring that the pods serve.
    const programmed = condition((await getCustom(suite.kc, 'gateways', suite.ns, GATEWAY)).status?.conditions, 'Programmed');
    assert.equal(programmed?.status, 'True');
    assert.ok(String(programmed?.message).includes(served.slice(0, 12)), `Programmed names the served version ${served}: ${programmed?.message}`);
  });

  for (const version of ['TLSv1.3', 'TLSv1.2'] as const) {
    it(`${version}: a session from pod A resumes on pod B, and one from B on A`, async () => {
      assert.equal(podIps.length, 2, 'the pods were found');
      for (const [from, to] of [[podIps[0]!, podIps[1]!], [podIps[1]!, podIps[0]!]]) {
        const first = await handshake(from, version);
        assert.equal(first.reused, false);
        assert.ok(first.ticket, `${version}: ${from} sent a ticket`);
        const second = await handshake(to, version, first.ticket);
        assert.equal(second.reused, true, `${version}: a ticket from ${from} resumes on ${to}${why()}`);
      }
    });
  }

  it('the ring is the one derived from the master Secret and the Gateway UID, and appears in no log, status or event', async () => {
    const core = suite.kc.makeApiClient(k8s.CoreV1Api);
    const secret = await core.readNamespacedSecret({ name: TICKET_KEYS_SECRET_NAME, namespace: suite.ns });
    const master = Buffer.from(secret.data!.master!, 'base64');
    const gateway = await getCustom(suite.kc, 'gateways', suite.ns, GATEWAY);
    const now = Date.now();
    // This period's and the last one's ring (should the hour have turned during the test).
    const keys = [...ticketKeyRing(master, gateway.metadata.uid, now, 3_600_000), ...ticketKeyRing(master, gateway.metadata.uid, now - 3_600_000, 3_600_000)];
    const forms = keys.flatMap((k) => [k, Buffer.from(k, 'base64').toString('hex')]);
    const proxyLogs = existsSync(podsDir)
      ? readdirSync(podsDir).filter((d) => d.startsWith(`${suite.ns}_tlsgate-`)).map((d) => path.join(podsDir, d, 'logs', 'proxy.log')).filter(existsSync)
      : [];
    assert.ok(proxyLogs.length >= 2, `the proxy pods' logs were found under ${podsDir}`);
    const events = await suite.kc.makeApiClient(k8s.EventsV1Api).listNamespacedEvent({ namespace: suite.ns });
    const places: [string, string][] = [
      ['operator log', suite.logs.join('\n')],
      ['Gateway status', JSON.stringify(gateway.status)],
      ['events', JSON.stringify(events.items)],
      ...proxyLogs.map((f): [string, string] => [f, readFileSync(f, 'utf8')]),
    ];
    for (const [where, text] of places) {
      for (const form of forms) assert.equal(text.includes(form), false, `a ticket key in the ${where}`);
    }
    // The search looks for the right thing: the pods serve exactly this period's ring (the
    // version covers the keys), derived here from nothing but the Secret and the Gateway's UID.
    const translated = suite.operator.lastOutput!.proxyConfigs.find((c) => c.gateway.namespace === suite.ns && c.gateway.name === GATEWAY)!;
    const expected = withTicketKeys(translated, ticketKeyRing(master, gateway.metadata.uid, Date.now(), 3_600_000)).version;
    assert.deepEqual(await podVersions(), [expected, expected]);
  });

  /** The config version each proxy pod serves (from its /config_dump). */
  async function podVersions(): Promise<string[]> {
    return Promise.all(podIps.map(async (ip) => {
      const res = await fetch(`http://${ip}:${PROXY_ADMIN_PORT}/config_dump`, { signal: AbortSignal.timeout(3000) });
      return ((await res.json()) as { versions: Record<string, string> }).versions[`${suite.ns}/${GATEWAY}`] ?? '';
    }));
  }

  /** Both pods on one version other than `old`; polled often, so the caller is early in a period. */
  async function nextCommonVersion(old: string, timeoutMs: number): Promise<string> {
    return eventually(`both proxy pods on a version other than ${old.slice(0, 12)}`, async () => {
      const [a, b] = await podVersions();
      return a !== old && a === b && a;
    }, timeoutMs).catch((err: Error) => assert.fail(`${err.message}${why()}`));
  }

  /** Stops the operator and starts another on the same config-server port (so the proxy pods stay as they are). */
  async function restartOperator(ticketKeyRotationMs?: number): Promise<string[]> {
    const port = suite.operator.configServerPort;
    await suite.operator.stop();
    const fresh: string[] = [];
    suite.operator = testOperator(suite.kc, { namespace: suite.ns, controllerName: suite.controllerName, logs: fresh, configServerPort: port, ...(ticketKeyRotationMs ? { ticketKeyRotationMs } : {}) });
    await suite.operator.start();
    return fresh;
  }

  it('another operator (as after a leader change) reads the same master: the same ring, and old tickets still resume', async () => {
    const [before] = await podVersions();
    const ticket = (await handshake(podIps[0]!, 'TLSv1.3')).ticket;
    assert.ok(ticket);
    const fresh = await restartOperator();
    // Both proxies reconnected to the new operator and acknowledged what it published.
    const acked = await eventually('both proxies ACK the new operator', async () => {
      const lines = fresh.filter((l) => l.includes('config_acked') && l.includes(`"gateway":"${suite.ns}/${GATEWAY}"`));
      return new Set(lines.map((l) => /"remoteAddress":"([^"]+)"/.exec(l)?.[1])).size >= 2 && lines;
    }, 45_000).catch((err: Error) => assert.fail(`${err.message}\nnew operator log:\n${fresh.slice(-15).join('\n')}`));
    assert.ok(acked.every((l) => l.includes(`"version":"${before}"`)), `the new operator published the version the pods already had (${before}):\n${acked.join('\n')}`);
    assert.deepEqual(await podVersions(), [before, before]);
    assert.equal((await handshake(podIps[1]!, 'TLSv1.3', ticket)).reused, true, 'a ticket from before the restart resumes on the other pod');
  });

  it('at each period boundary the operator publishes the next ring: a ticket resumes across one rotation, not two', async () => {
    await restartOperator(3000); // a 3 s period instead of the hour
    const [start] = await podVersions();
    const ofRestart = await nextCommonVersion(start!, 30_000); // the current 3 s period's ring, on both pods
    // One more boundary, so that the ticket below is surely issued early in its period.
    const first = await nextCommonVersion(ofRestart, 10_000);
    const ticket = (await handshake(podIps[0]!, 'TLSv1.3')).ticket;
    assert.ok(ticket);
    const second = await nextCommonVersion(first, 10_000);
    assert.equal((await handshake(podIps[1]!, 'TLSv1.3', ticket)).reused, true, `after one rotation (${first.slice(0, 12)} → ${second.slice(0, 12)}) the previous key still decrypts`);
    await nextCommonVersion(second, 10_000);
    assert.equal((await handshake(podIps[1]!, 'TLSv1.3', ticket)).reused, false, 'after two rotations its key is gone');
    assert.equal((await handshake(podIps[0]!, 'TLSv1.3', ticket)).reused, false, 'also on the pod that issued it');
  });
});
