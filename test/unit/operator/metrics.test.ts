// The operator's metrics registry: names and types as Prometheus expects them, gauges read
// from the operator's state at scrape time, per-Gateway series dropped with the Gateway.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OperatorMetrics } from '../../../operator/metrics.js';

function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

test('exposes every operator metric with its type, and build_info naming the version and Node', async () => {
  const metrics = new OperatorMetrics();
  const { contentType, body } = await metrics.exposition();
  assert.match(contentType, /^text\/plain; version=0\.0\.4/);
  const types = new Map([...body.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
  const expected: Record<string, string> = {
    tlsgate_operator_reconciles_total: 'counter',
    tlsgate_operator_reconcile_duration_seconds: 'histogram',
    tlsgate_operator_reconcile_debounce_seconds: 'histogram',
    tlsgate_operator_reconcile_queue_depth: 'gauge',
    tlsgate_operator_translate_duration_seconds: 'histogram',
    tlsgate_operator_status_writes_total: 'counter',
    tlsgate_operator_infrastructure_applies_total: 'counter',
    tlsgate_operator_infrastructure_deletes_total: 'counter',
    tlsgate_operator_write_retries_total: 'counter',
    tlsgate_operator_config_pushes_total: 'counter',
    tlsgate_operator_config_answer_duration_seconds: 'histogram',
    tlsgate_operator_connected_proxies: 'gauge',
    tlsgate_operator_leader: 'gauge',
    tlsgate_operator_watch_restarts_total: 'counter',
    tlsgate_operator_drift_repairs_total: 'counter',
    tlsgate_operator_build_info: 'gauge',
    tlsgate_operator_watched_objects: 'gauge',
    process_resident_memory_bytes: 'gauge',
  };
  for (const [name, type] of Object.entries(expected)) assert.equal(types.get(name), type, name);
  const info = /^tlsgate_operator_build_info\{version="([^"]+)",nodejs_version="([^"]+)"\} 1$/m.exec(body);
  assert.ok(info, 'build_info with its labels');
  assert.match(info[1]!, /^\d+\.\d+\.\d+/);
  assert.equal(info[2], process.version);
});

test('leader, queue depth and connected proxies are read from the operator when scraped', async () => {
  const metrics = new OperatorMetrics();
  let leader = false;
  let depth = 0;
  let proxies = new Map([['ns/a', 2]]);
  metrics.observe({ leader: () => leader, queueDepth: () => depth, connectedProxies: () => proxies, watchedObjects: () => new Map([['Secret', 7]]) });
  let { body } = await metrics.exposition();
  assert.equal(sample(body, 'tlsgate_operator_leader'), 0);
  assert.equal(sample(body, 'tlsgate_operator_reconcile_queue_depth'), 0);
  assert.equal(sample(body, 'tlsgate_operator_connected_proxies{gateway="ns/a"}'), 2);
  assert.equal(sample(body, 'tlsgate_operator_watched_objects{kind="Secret"}'), 7);
  leader = true;
  depth = 2;
  proxies = new Map([['ns/b', 1]]);
  ({ body } = await metrics.exposition());
  assert.equal(sample(body, 'tlsgate_operator_leader'), 1);
  assert.equal(sample(body, 'tlsgate_operator_reconcile_queue_depth'), 2);
  assert.equal(sample(body, 'tlsgate_operator_connected_proxies{gateway="ns/a"}'), undefined, 'a Gateway without proxies has no series');
  assert.equal(sample(body, 'tlsgate_operator_connected_proxies{gateway="ns/b"}'), 1);
});

test('a withdrawn Gateway loses its push and answer-latency series; others keep theirs', async () => {
  const metrics = new OperatorMetrics();
  metrics.configPushes.inc({ gateway: 'ns/a' });
  metrics.configPushes.inc({ gateway: 'ns/b' });
  metrics.configAnswerLatency.observe({ gateway: 'ns/a', result: 'ack' }, 0.02);
  metrics.configAnswerLatency.observe({ gateway: 'ns/a', result: 'nack' }, 0.03);
  metrics.forgetGateway('ns/a');
  const { body } = await metrics.exposition();
  assert.doesNotMatch(body, /gateway="ns\/a"/);
  assert.equal(sample(body, 'tlsgate_operator_config_pushes_total{gateway="ns/b"}'), 1);
});

test('two operators in one process have registries of their own', async () => {
  const one = new OperatorMetrics();
  const two = new OperatorMetrics();
  one.reconciles.inc({ result: 'success' });
  assert.equal(sample((await one.exposition()).body, 'tlsgate_operator_reconciles_total{result="success"}'), 1);
  assert.equal(sample((await two.exposition()).body, 'tlsgate_operator_reconciles_total{result="success"}'), undefined);
});
