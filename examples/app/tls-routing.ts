// The upstream "TLS routing" example (gateway-api v1.6.1 examples/standard/tls-routing),
// written with the tlsgate constructs. It synthesizes to exactly the upstream objects:
// the golden test compares them as data.
import { Chart } from 'cdk8s';
import type { Construct } from 'constructs';
import { Gateway, TlsRoute } from '../../src/constructs/index.js';

export function tlsRoutingChart(scope: Construct, id = 'tls-routing'): Chart {
  // No chart labels and no hashes in names: the manifests read like hand-written YAML.
  const chart = new Chart(scope, id, { disableResourceNameHashes: true });

  const gateway = new Gateway(chart, 'example-gateway', {
    metadata: { name: 'example-gateway' },
    gatewayClass: 'example-gateway-class',
  });
  const passthrough = gateway.addListener({ name: 'tls', port: 443, mode: 'Passthrough' });
  const terminate = gateway.addListener({
    name: 'tls-terminate',
    port: 8443,
    mode: 'Terminate',
    certificates: [{ name: 'tls-terminate-certificate' }],
  });

  new TlsRoute(chart, 'foo-route', {
    metadata: { name: 'foo-route' },
    parents: [passthrough],
    hostnames: ['foo.example.com'],
    backends: [{ name: 'foo-svc', port: 443 }],
  });
  new TlsRoute(chart, 'bar-route', {
    metadata: { name: 'bar-route' },
    parents: [terminate],
    hostnames: ['bar.example.com'],
    backends: [{ name: 'bar-svc', port: 8080 }],
  });
  return chart;
}
