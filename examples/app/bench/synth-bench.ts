// How long validation and synthesis take for many routes on one Gateway, next to the same
// objects written with the generated L1 classes (no validation).
// Run: npm run build && node dist/examples/app/bench/synth-bench.js
import { App, Chart } from 'cdk8s';
import * as gwapi from '../../../imports/gwapi-gateway.networking.k8s.io.js';
import { Gateway, TlsRoute } from '../../../src/constructs/index.js';

function timed(label: string, build: (chart: Chart) => void): void {
  const app = new App();
  const chart = new Chart(app, 'bench', { disableResourceNameHashes: true });
  const t0 = performance.now();
  build(chart);
  const t1 = performance.now();
  const bytes = app.synthYaml().length;
  const t2 = performance.now();
  console.log(`${label}: build ${(t1 - t0).toFixed(0)} ms, validate+synth ${(t2 - t1).toFixed(0)} ms, ${bytes} bytes of YAML`);
}

const routes = Number(process.argv[2] ?? 1000);
// A warm-up run, so that module loading and JIT do not count against the first measurement.
timed('warm-up (100 routes)', (chart) => constructs(chart, 100));
timed(`tlsgate constructs (${routes} routes)`, (chart) => constructs(chart, routes));
timed(`generated L1 classes (${routes} routes)`, (chart) => {
  for (let i = 0; i < routes; i++) {
    new gwapi.TlsRoute(chart, `r${i}`, {
      metadata: { namespace: `team-${i % 10}` },
      spec: { parentRefs: [{ name: 'gw', namespace: 'infra', sectionName: 'tls' }], hostnames: [`app${i}.example.com`], rules: [{ backendRefs: [{ name: `svc${i}`, port: 443 }] }] },
    });
  }
});

function constructs(chart: Chart, n: number): void {
  const gateway = new Gateway(chart, 'gw', {
    metadata: { name: 'gw', namespace: 'infra' },
    gatewayClass: 'tlsgate',
    listeners: [{ name: 'tls', port: 443, mode: 'Passthrough', hostname: '*.example.com', allowedRoutes: { namespaces: { from: 'All' } } }],
  });
  for (let i = 0; i < n; i++) {
    new TlsRoute(chart, `r${i}`, {
      metadata: { namespace: `team-${i % 10}` },
      parents: [gateway.listener('tls')],
      hostnames: [`app${i}.example.com`],
      backends: [{ name: `svc${i}`, port: 443 }],
    });
  }
}
