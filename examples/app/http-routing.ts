// The upstream "HTTP routing" example (gateway-api v1.6.1 examples/standard/http-routing),
// written with the tlsgate constructs. It synthesizes to exactly the upstream objects
// (examples/upstream-http/http-routing/): the golden test compares them as data.
import { Chart } from 'cdk8s';
import type { Construct } from 'constructs';
import { Gateway, HttpRoute } from '../../src/constructs/index.js';

export function httpRoutingChart(scope: Construct, id = 'http-routing'): Chart {
  // No chart labels and no hashes in names: the manifests read like hand-written YAML.
  const chart = new Chart(scope, id, { disableResourceNameHashes: true });

  const gateway = new Gateway(chart, 'example-gateway', {
    metadata: { name: 'example-gateway' },
    gatewayClass: 'example-gateway-class',
    listeners: [{ name: 'http', protocol: 'HTTP', port: 80 }],
  });

  // Every request for example.com.
  new HttpRoute(chart, 'example-route', {
    metadata: { name: 'example-route' },
    parents: [gateway],
    hostnames: ['example.com'],
    rules: [{ backends: [{ name: 'example-svc', port: 80 }] }],
  });

  // foo.example.com/login and below.
  new HttpRoute(chart, 'foo-route', {
    metadata: { name: 'foo-route' },
    parents: [gateway],
    hostnames: ['foo.example.com'],
    rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/login' } }], backends: [{ name: 'foo-svc', port: 8080 }] }],
  });

  // bar.example.com: requests with `env: canary` go to the canary, the rest to bar-svc.
  new HttpRoute(chart, 'bar-route', {
    metadata: { name: 'bar-route' },
    parents: [gateway],
    hostnames: ['bar.example.com'],
    rules: [
      { matches: [{ headers: [{ type: 'Exact', name: 'env', value: 'canary' }] }], backends: [{ name: 'bar-svc-canary', port: 8080 }] },
      { backends: [{ name: 'bar-svc', port: 8080 }] },
    ],
  });
  return chart;
}
