// The metrics registry: per-connection counts kept as plain numbers come out as the
// documented Prometheus series, and the process metrics are there without the GC observer.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import client from 'prom-client';
import { createMetrics, FastHistogram } from '../../../proxy/metrics.js';
import { metricValue } from '../../e2e/proxy/helpers.js';

describe('createMetrics', () => {
  it('exports outcome counts and bytes kept on the hot path as tlsgate_connections_total and tlsgate_bytes_total', async () => {
    const metrics = createMetrics();
    const route = metrics.outcomeCounts('ns/gw', 'tls', 'ns/r');
    route.ok += 3;
    route.error += 1;
    // The same labels give the same counts object (compiled tables look it up once).
    assert.equal(metrics.outcomeCounts('ns/gw', 'tls', 'ns/r'), route);
    metrics.outcomeCounts('ns/gw', '', '').rejected += 2;
    metrics.traffic.fromClient += 100;
    metrics.traffic.toClient += 2500;
    let text = await metrics.registry.metrics();
    assert.equal(metricValue(text, 'tlsgate_connections_total', { gateway: 'ns/gw', listener: 'tls', route: 'ns/r', result: 'ok' }), 3);
    assert.equal(metricValue(text, 'tlsgate_connections_total', { gateway: 'ns/gw', listener: 'tls', route: 'ns/r', result: 'error' }), 1);
    assert.equal(metricValue(text, 'tlsgate_connections_total', { gateway: 'ns/gw', listener: '', route: '', result: 'rejected' }), 2);
    assert.ok(!text.includes('result="idle_timeout"'), 'results never seen have no series');
    assert.equal(metricValue(text, 'tlsgate_bytes_total', { direction: 'from_client' }), 100);
    assert.equal(metricValue(text, 'tlsgate_bytes_total', { direction: 'to_client' }), 2500);
    // Counters keep counting across scrapes (the copy is not added twice).
    route.ok += 1;
    text = await metrics.registry.metrics();
    assert.equal(metricValue(text, 'tlsgate_connections_total', { gateway: 'ns/gw', listener: 'tls', route: 'ns/r', result: 'ok' }), 4);
    assert.equal(metricValue(text, 'tlsgate_bytes_total', { direction: 'to_client' }), 2500);
  });

  it('FastHistogram prints exactly what a prom-client Histogram prints for the same observations, and sums across workers', async () => {
    const buckets = [0.001, 0.01, 0.1, 1];
    const ours = new client.Registry();
    const theirs = new client.Registry();
    const fast = new FastHistogram('x_seconds', 'help text', buckets, ours);
    const reference = new client.Histogram({ name: 'x_seconds', help: 'help text', buckets, registers: [theirs] });
    assert.equal(await ours.metrics(), await theirs.metrics(), 'before any observation');
    for (const value of [0, 0.0005, 0.001, 0.002, 0.05, 0.1, 0.7, 1, 3, 1000]) {
      fast.observe(value);
      reference.observe(value);
    }
    assert.equal(await ours.metrics(), await theirs.metrics());
    const text = await ours.metrics();
    assert.equal(metricValue(text, 'x_seconds_bucket', { le: '0.001' }), 3);
    assert.equal(metricValue(text, 'x_seconds_bucket', { le: '+Inf' }), 10);
    // What the cluster primary does with the workers' registries.
    const aggregated = client.AggregatorRegistry.aggregate([await ours.getMetricsAsJSON(), await ours.getMetricsAsJSON()]);
    const summed = await aggregated.metrics();
    assert.equal(metricValue(summed, 'x_seconds_bucket', { le: '0.1' }), 12);
    assert.equal(metricValue(summed, 'x_seconds_count'), 20);
  });

  it('registers process metrics read at scrape time, and no GC histogram', async () => {
    const metrics = createMetrics({ defaultMetrics: true });
    const text = await metrics.registry.metrics();
    for (const name of [
      'tlsgate_process_cpu_seconds_total',
      'tlsgate_process_cpu_user_seconds_total',
      'tlsgate_process_start_time_seconds',
      'tlsgate_process_resident_memory_bytes',
      'tlsgate_nodejs_heap_size_used_bytes',
      'tlsgate_nodejs_eventloop_lag_seconds',
      'tlsgate_nodejs_eventloop_lag_p99_seconds',
    ]) {
      assert.ok(new RegExp(`^${name} `, 'm').test(text), `${name} missing`);
    }
    assert.ok(metricValue(text, 'tlsgate_process_resident_memory_bytes') > 1024 * 1024);
    assert.ok(metricValue(text, 'tlsgate_process_cpu_seconds_total') > 0);
    if (process.platform === 'linux') assert.ok(metricValue(text, 'tlsgate_process_open_fds') > 0);
    assert.match(text, /^tlsgate_nodejs_version_info\{version="v\d+/m);
    assert.ok(!text.includes('tlsgate_nodejs_gc_duration_seconds'), 'the GC histogram (a perf_hooks observer per GC) is gone');
  });
});
