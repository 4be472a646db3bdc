// The upstream "simple HTTP and HTTPS" example (gateway-api v1.6.1
// examples/standard/simple-http-https), written with the tlsgate constructs. It synthesizes
// to exactly the upstream objects (examples/upstream-http/simple-http-https/): the golden
// test compares them as data.
import { Chart } from 'cdk8s';
import type { Construct } from 'constructs';
import { Gateway, HttpRoute } from '../../src/constructs/index.js';

export function simpleHttpHttpsChart(scope: Construct, id = 'simple-http-https'): Chart {
  const chart = new Chart(scope, id, { disableResourceNameHashes: true });

  const gateway = new Gateway(chart, 'example-gateway', { metadata: { name: 'example-gateway' }, gatewayClass: 'prod' });
  const http = gateway.addListener({ name: 'http', port: 80, protocol: 'HTTP', hostname: '*.example.com' });
  const https = gateway.addListener({
    name: 'https',
    port: 443,
    protocol: 'HTTPS',
    hostname: '*.example.com',
    mode: 'Terminate',
    certificates: [{ kind: 'Secret', name: 'example-com' }],
  });
  // No mode: HTTPS listeners always terminate (the CRD default), and the manifest says so by omission.
  gateway.addListener({ name: 'https-default-tls-mode', port: 8443, protocol: 'HTTPS', hostname: '*.foo.com', certificates: [{ kind: 'Secret', name: 'foo-com' }] });

  const everything = [{ path: { type: 'PathPrefix' as const, value: '/' } }];
  new HttpRoute(chart, 'foo', {
    metadata: { name: 'foo' },
    parents: [https],
    hostnames: ['foo.example.com'],
    rules: [
      { matches: everything, backends: [{ name: 'foo-app', port: 80 }] },
      { matches: [{ path: { type: 'PathPrefix', value: '/orders' } }], backends: [{ name: 'foo-orders-app', port: 80 }] },
    ],
  });
  new HttpRoute(chart, 'bar', {
    metadata: { name: 'bar' },
    parents: [https],
    hostnames: ['bar.example.com'],
    rules: [{ matches: everything, backends: [{ name: 'bar-app', port: 80 }] }],
  });

  // Plain HTTP only redirects to HTTPS.
  new HttpRoute(chart, 'tls-redirect', {
    metadata: { name: 'tls-redirect' },
    parents: [http],
    hostnames: ['foo.example.com', 'bar.example.com'],
    rules: [{ filters: [{ type: 'RequestRedirect', requestRedirect: { scheme: 'https', port: 443 } }] }],
  });
  return chart;
}
