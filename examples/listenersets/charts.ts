// Per-team listeners on one shared Gateway (GEP-1713 ListenerSets), as cdk8s charts:
//
// - platformChart: the GatewayClass and the shared Gateway in `platform`, with one HTTPS listener
//   of its own (www.example.com) and `allowedListeners` admitting ListenerSets from namespaces
//   labelled `tlsgate.dev/team`. The platform team never edits it for a team's hostname again.
// - teamChart: one team's namespace (labelled), its certificate Secret, its Service, and a
//   ListenerSet adding an HTTPS listener for its hostname on the Gateway's port, with an
//   HTTPRoute attached to the set. A team may also pass TLS through to a service of its own.
//
// Everything a team writes lives in its namespace: the certificate needs no ReferenceGrant, and
// `allowedRoutes` of its listeners default to the set's own namespace.
import { ApiObject, Chart } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import type { Construct } from 'constructs';
import { Gateway, GatewayClass, HttpRoute, ListenerSet, TlsRoute } from '../../src/constructs/index.js';

export const TEAM_LABEL = 'tlsgate.dev/team';

/** A certificate and its key, PEM (from cert-manager, a CA of yours, or examples/demo/pki.ts). */
export interface CertificatePem {
  readonly certificatePem: string;
  readonly privateKeyPem: string;
}

/**
 * Where a Service's pods answer, for running the manifests without a cluster (`tlsgate
 * standalone`): an EndpointSlice is written, as the cluster's controller would.
 */
export interface LoopbackEndpoint {
  readonly address: string;
  readonly port: number;
}

export interface PlatformOptions {
  readonly port: number;
  readonly certificate: CertificatePem;
  readonly siteEndpoint?: LoopbackEndpoint;
}

export function platformChart(scope: Construct, options: PlatformOptions): { chart: Chart; gateway: Gateway } {
  const chart = new Chart(scope, 'platform', { disableResourceNameHashes: true, namespace: 'platform' });
  new kplus.Namespace(chart, 'namespace', { metadata: { name: 'platform', namespace: undefined } });
  const gatewayClass = new GatewayClass(chart, 'class', { metadata: { name: 'tlsgate' } });
  const certificate = tlsSecret(chart, 'www-tls', options.certificate);
  const gateway = new Gateway(chart, 'shared', {
    metadata: { name: 'shared' },
    gatewayClass,
    // The handshake: teams' ListenerSets may attach only from namespaces carrying the team label.
    allowedListeners: { from: 'Selector', selector: { matchExpressions: [{ key: TEAM_LABEL, operator: 'Exists' }] } },
    listeners: [{ name: 'www', port: options.port, protocol: 'HTTPS', hostname: 'www.example.com', certificates: [certificate] }],
  });
  const site = service(chart, 'site', 8080, options.siteEndpoint);
  new HttpRoute(chart, 'site-route', { metadata: { name: 'site' }, parents: [gateway.listener('www')], rules: [{ backends: [site] }] });
  return { chart, gateway };
}

export interface TeamOptions {
  readonly team: string;
  readonly gateway: Gateway;
  readonly port: number;
  /** The team's web hostname, served over HTTPS with `certificate`. */
  readonly hostname: string;
  readonly certificate: CertificatePem;
  readonly webEndpoint?: LoopbackEndpoint;
  /** A TLS service passed through untouched (the backend shows its own certificate), by SNI. */
  readonly passthrough?: { readonly hostname: string; readonly endpoint?: LoopbackEndpoint };
}

export function teamChart(scope: Construct, options: TeamOptions): Chart {
  const namespace = options.team;
  const chart = new Chart(scope, options.team, { disableResourceNameHashes: true, namespace });
  new kplus.Namespace(chart, 'namespace', { metadata: { name: namespace, namespace: undefined, labels: { [TEAM_LABEL]: options.team } } });
  const certificate = tlsSecret(chart, 'web-tls', options.certificate);
  const listeners = new ListenerSet(chart, 'listeners', {
    metadata: { name: 'listeners' },
    parent: options.gateway,
    listeners: [{ name: 'web', port: options.port, protocol: 'HTTPS', hostname: options.hostname, certificates: [certificate] }],
  });
  const web = service(chart, 'web', 8080, options.webEndpoint);
  new HttpRoute(chart, 'web-route', { metadata: { name: 'web' }, parents: [listeners.listener('web')], rules: [{ backends: [web] }] });
  if (options.passthrough) {
    const pass = listeners.addListener({ name: 'tls', port: options.port, protocol: 'TLS', mode: 'Passthrough', hostname: options.passthrough.hostname });
    const tlsService = service(chart, 'tls', 443, options.passthrough.endpoint);
    new TlsRoute(chart, 'tls-route', { metadata: { name: 'tls' }, parents: [pass], hostnames: [options.passthrough.hostname], backends: [tlsService] });
  }
  return chart;
}

function tlsSecret(chart: Chart, name: string, certificate: CertificatePem): kplus.Secret {
  return new kplus.Secret(chart, name, {
    metadata: { name },
    type: 'kubernetes.io/tls',
    stringData: { 'tls.crt': certificate.certificatePem, 'tls.key': certificate.privateKeyPem },
  });
}

function service(chart: Chart, name: string, port: number, endpoint: LoopbackEndpoint | undefined): kplus.Service {
  const svc = new kplus.Service(chart, `${name}-service`, { metadata: { name }, ports: [{ name: 'main', port, targetPort: endpoint?.port ?? port }] });
  if (endpoint) {
    new ApiObject(chart, `${name}-endpoints`, {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: `${name}-loopback`, labels: { 'kubernetes.io/service-name': name } },
      addressType: 'IPv4',
      endpoints: [{ addresses: [endpoint.address], conditions: { ready: true } }],
      ports: [{ name: 'main', protocol: 'TCP', port: endpoint.port }],
    });
  }
  return svc;
}
