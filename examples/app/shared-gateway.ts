// A realistic setup: the platform team runs one Gateway in `infra`; two application teams
// attach their own TLSRoutes from their namespaces.
//
// - Listeners admit routes only from namespaces labelled `tlsgate.dev/shared-gateway: "true"`
//   (allowedRoutes Selector); team-a and team-b carry the label.
// - Port 443 is Mixed: `apps` passes TLS through to the teams' pods for *.apps.example.com
//   (a wildcard listener), `secure` terminates TLS for *.secure.example.com.
// - team-a shifts traffic between two versions of its billing service (weights 90/10).
// - team-b's ledger route forwards to a Service in the `data` namespace; the construct
//   writes the ReferenceGrant that lets it.
import { Chart } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import type { Construct } from 'constructs';
import { Gateway, GatewayClass, TlsRoute } from '../../src/constructs/index.js';

const SHARED_GATEWAY_LABEL = 'tlsgate.dev/shared-gateway';

export function sharedGatewayChart(scope: Construct, id = 'shared-gateway'): Chart {
  const chart = new Chart(scope, id, { disableResourceNameHashes: true });

  for (const name of ['team-a', 'team-b']) {
    new kplus.Namespace(chart, `namespace-${name}`, { metadata: { name, labels: { [SHARED_GATEWAY_LABEL]: 'true' } } });
  }
  const teamsOnly = { from: 'Selector', selector: { matchLabels: { [SHARED_GATEWAY_LABEL]: 'true' } } } as const;

  const gatewayClass = new GatewayClass(chart, 'tlsgate', { metadata: { name: 'tlsgate' }, description: 'tlsgate TLS proxies' });
  const gateway = new Gateway(chart, 'shared', {
    metadata: { name: 'shared', namespace: 'infra' },
    gatewayClass,
  });
  const apps = gateway.addListener({
    name: 'apps',
    port: 443,
    hostname: '*.apps.example.com',
    mode: 'Passthrough',
    allowedRoutes: { namespaces: teamsOnly },
  });
  const secure = gateway.addListener({
    name: 'secure',
    port: 443,
    hostname: '*.secure.example.com',
    mode: 'Terminate',
    // Issued into infra by the platform team (e.g. cert-manager); not part of this app.
    certificates: [{ name: 'secure-example-com-tls' }],
    allowedRoutes: { namespaces: teamsOnly, kinds: [{ kind: 'TLSRoute' }] },
  });

  // team-a: billing, canary of v2 at 10 %.
  const billingV1 = service(chart, 'team-a', 'billing-v1', 8443);
  const billingV2 = service(chart, 'team-a', 'billing-v2', 8443);
  new TlsRoute(chart, 'billing', {
    metadata: { name: 'billing', namespace: 'team-a' },
    parents: [apps],
    hostnames: ['billing.apps.example.com'],
    backends: [
      { service: billingV1, weight: 90 },
      { service: billingV2, weight: 10 },
    ],
  });

  // team-b: ledger, TLS terminated at the Gateway, plain TCP to a proxy run by the data team.
  const ledgerDb = service(chart, 'data', 'ledger-db-proxy', 5432);
  new TlsRoute(chart, 'ledger', {
    metadata: { name: 'ledger', namespace: 'team-b' },
    parents: [secure],
    hostnames: ['ledger.secure.example.com'],
    backends: [ledgerDb],
  });
  return chart;
}

function service(scope: Construct, namespace: string, name: string, port: number): kplus.Service {
  const svc = new kplus.Service(scope, `${namespace}-${name}`, { metadata: { name, namespace }, ports: [{ port }] });
  svc.selectLabel('app.kubernetes.io/name', name);
  return svc;
}
