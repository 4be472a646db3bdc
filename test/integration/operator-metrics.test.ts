// The operator's /metrics on the cluster in a box: scraped over real HTTP from the admin
// server, every family is there, and the values move as the operator works: reconciles and
// translates counted and timed, the Gateway's status write and infrastructure applies counted,
// a config pushed and ACKed by a real proxy pod (with its latency), the proxy counted as
// connected, this replica the leader; a route change pushes and ACKs once more.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as k8s from '@kubernetes/client-node';
import { startAdminServer } from '../../operator/admin.js';
import { upstreamDir } from '../helpers/paths.js';
import { applyFile, condition, createCertificateSecret, eventually, getCustom, operatorSuite, GATEWAY_GROUP } from './operator-support.js';

/** The value of one series (name with its labels, as exposed), or undefined when absent. */
function value(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('operator: /metrics on the cluster in a box', () => {
  const suite = operatorSuite({
    name: 'metrics',
    setup: async ({ kc, ns, className }) => {
      await createCertificateSecret(kc, ns, 'tls-terminate-certificate', 'bar.example.com');
      const core = kc.makeApiClient(k8s.CoreV1Api);
      await core.createNamespacedService({ namespace: ns, body: { metadata: { name: 'foo-svc' }, spec: { ports: [{ port: 443 }] } } });
      await applyFile(kc, path.join(upstreamDir, 'examples', 'gateway.yaml'), ns, (gw) => (gw.spec.gatewayClassName = className));
      await applyFile(kc, path.join(upstreamDir, 'examples', 'tls-route.yaml'), ns);
    },
  });
  let admin: http.Server;
  let url: string;
  const scrape = async (): Promise<string> => {
    const response = await fetch(url);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    return response.text();
  };

  before(async () => {
    admin = await startAdminServer('127.0.0.1', 0, {
      synced: () => suite.operator.synced,
      leader: () => suite.operator.isLeader,
      metrics: () => suite.operator.metrics.exposition(),
      warn: (message) => suite.logs.push(message),
    });
    url = `http://127.0.0.1:${(admin.address() as AddressInfo).port}/metrics`;
  });
  after(() => new Promise<void>((resolve) => (admin ? admin.close(() => resolve()) : resolve())));

  it('counts what the operator did up to Programmed, and counts a route change again', async () => {
    const gateway = `${suite.ns}/example-gateway`;
    await eventually('Gateway Programmed=True (a proxy pod ACKed)', async () => {
      const gw = await getCustom(suite.kc, 'gateways', suite.ns, 'example-gateway');
      return condition(gw.status?.conditions, 'Programmed')?.status === 'True';
    }, 90_000);
    // The status write that made it Programmed is counted once the write returns.
    const first = await eventually('the Gateway status write counted', async () => {
      const text = await scrape();
      return (value(text, 'tlsgate_operator_status_writes_total{kind="Gateway",result="success"}') ?? 0) >= 1 && text;
    });
    assert.equal(value(first, 'tlsgate_operator_leader'), 1);
    assert.ok(value(first, `tlsgate_operator_connected_proxies{gateway="${gateway}"}`)! >= 1, 'the proxy pod is counted as connected');
    assert.ok(value(first, 'tlsgate_operator_reconciles_total{result="success"}')! >= 1);
    assert.ok(value(first, 'tlsgate_operator_reconcile_duration_seconds_count')! >= 1);
    assert.ok(value(first, 'tlsgate_operator_translate_duration_seconds_count')! >= 1);
    assert.ok(value(first, 'tlsgate_operator_reconcile_debounce_seconds_count')! >= 1);
    assert.ok(value(first, 'tlsgate_operator_status_writes_total{kind="GatewayClass",result="success"}')! >= 1);
    assert.ok(value(first, 'tlsgate_operator_status_writes_total{kind="TLSRoute",result="success"}')! >= 1);
    for (const kind of ['Secret', 'ServiceAccount', 'Service', 'Deployment']) {
      assert.ok(value(first, `tlsgate_operator_infrastructure_applies_total{kind="${kind}",result="success"}`)! >= 1, `${kind} applied`);
    }
    const pushes = value(first, `tlsgate_operator_config_pushes_total{gateway="${gateway}"}`)!;
    const acks = value(first, `tlsgate_operator_config_answer_duration_seconds_count{gateway="${gateway}",result="ack"}`)!;
    assert.ok(pushes >= 1, 'a config pushed');
    assert.ok(acks >= 1, 'an ACK timed');
    const ackSeconds = value(first, `tlsgate_operator_config_answer_duration_seconds_sum{gateway="${gateway}",result="ack"}`)!;
    assert.ok(ackSeconds > 0 && ackSeconds < 60 * acks, `ACK latency sum ${ackSeconds} s over ${acks} ACKs`);
    assert.match(first, /^tlsgate_operator_build_info\{version="\d+\.\d+\.\d+[^"]*",nodejs_version="v\d+\.\d+\.\d+"\} 1$/m);
    assert.ok(value(first, 'process_resident_memory_bytes')! > 10 * 1024 * 1024);
    const reconciles = value(first, 'tlsgate_operator_reconciles_total{result="success"}')!;

    // A route change is a new config version: pushed, ACKed by the same proxy, reconciled.
    const custom = suite.kc.makeApiClient(k8s.CustomObjectsApi);
    await custom.patchNamespacedCustomObject(
      { group: GATEWAY_GROUP, version: 'v1', plural: 'tlsroutes', namespace: suite.ns, name: 'foo-route', body: { spec: { hostnames: ['foo.example.com', 'foo2.example.com'] } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    // The reconcile that pushed is counted when it ends (after its status writes), which can be
    // after the proxy's ACK is: all three are waited for.
    const second = await eventually('a second push ACKed and its reconcile counted', async () => {
      const text = await scrape();
      const moved =
        value(text, `tlsgate_operator_config_pushes_total{gateway="${gateway}"}`)! > pushes &&
        value(text, `tlsgate_operator_config_answer_duration_seconds_count{gateway="${gateway}",result="ack"}`)! > acks &&
        value(text, 'tlsgate_operator_reconciles_total{result="success"}')! > reconciles;
      return moved && text;
    });
    assert.equal(value(second, `tlsgate_operator_config_answer_duration_seconds_count{gateway="${gateway}",result="nack"}`) ?? 0, 0, 'no NACK');
  });
});
