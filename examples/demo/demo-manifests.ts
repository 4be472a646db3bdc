/**
 * The manifests the demo serves: the upstream "TLS routing" example (copied into
 * examples/demo/manifests/, see examples/demo/README.md for its source), its Gateway with one
 * listener added: `https` on the Passthrough listener's port 443 for app.example.com, and the
 * HTTPRoute `app-route` (manifests/app-route.yaml); plus what a cluster would have provided
 * around them: the GatewayClass, the Services and EndpointSlices of the three backends
 * (pointing at their real loopback ports) and the Terminate and HTTPS listeners' Secrets.
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { isSeq, parseDocument, stringify } from 'yaml';
import type { IssuedCertificate } from './pki.js';

export const UPSTREAM_FILES = ['tls-route.yaml', 'tls-route-terminate.yaml'] as const;
/** The upstream Gateway, written with the demo's HTTPS listener added to it. */
export const GATEWAY_FILE = 'gateway.yaml';
/** The demo's own HTTPRoute (examples/demo/manifests/app-route.yaml). */
export const APP_ROUTE_FILE = 'app-route.yaml';
/** The listener the demo adds: HTTPS beside the TLS Passthrough listener on one port, chosen by SNI. */
export const HTTPS_LISTENER = {
  name: 'https',
  protocol: 'HTTPS',
  port: 443,
  hostname: 'app.example.com',
  tls: { mode: 'Terminate', certificateRefs: [{ name: 'app-certificate' }] },
} as const;
export const GATEWAY_CLASS = 'example-gateway-class';
export const GENERATED_FILE = 'demo-environment.yaml';

export interface BackendAddress {
  host: string;
  port: number;
}

export interface DemoEnvironment {
  controllerName: string;
  foo: BackendAddress;
  bar: BackendAddress;
  gatewayCertificate: IssuedCertificate;
  /** The HTTPS app and its listener's certificate; tests of the TLS listeners alone leave them out. */
  app?: BackendAddress;
  appCertificate?: IssuedCertificate;
}

/** The objects around the upstream example, as plain Kubernetes manifests. */
export function environmentObjects(env: DemoEnvironment): object[] {
  return [
    {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'GatewayClass',
      metadata: { name: GATEWAY_CLASS },
      spec: { controllerName: env.controllerName },
    },
    ...serviceWithEndpoints('foo-svc', 'https', 443, env.foo),
    ...serviceWithEndpoints('bar-svc', 'tcp', 8080, env.bar),
    tlsSecret('tls-terminate-certificate', env.gatewayCertificate),
    ...(env.app && env.appCertificate ? [...serviceWithEndpoints('app-svc', 'http', 8080, env.app), tlsSecret('app-certificate', env.appCertificate)] : []),
  ];
}

function tlsSecret(name: string, certificate: IssuedCertificate): object {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name },
    type: 'kubernetes.io/tls',
    data: {
      'tls.crt': Buffer.from(certificate.certificatePem).toString('base64'),
      'tls.key': Buffer.from(certificate.privateKeyPem).toString('base64'),
    },
  };
}

/** The upstream Gateway manifest with the demo's HTTPS listener appended, its comments kept. */
export function gatewayWithHttps(upstreamGatewayYaml: string): string {
  const document = parseDocument(upstreamGatewayYaml);
  const listeners = document.getIn(['spec', 'listeners']);
  if (!isSeq(listeners)) throw new Error('examples/demo/manifests/gateway.yaml: spec.listeners is not a list');
  listeners.add(document.createNode(HTTPS_LISTENER));
  return (
    '# The upstream example\'s gateway.yaml (examples/demo/README.md) plus the listener `https`, added by\n' +
    '# `npm start` (examples/demo/demo-manifests.ts): HTTPS on the Passthrough listener\'s port, chosen by SNI.\n' +
    document.toString()
  );
}

/** A Service port (what routes reference) mapped to the backend's real port, as in a cluster. */
function serviceWithEndpoints(name: string, portName: string, servicePort: number, backend: BackendAddress): object[] {
  return [
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name },
      spec: { ports: [{ name: portName, protocol: 'TCP', port: servicePort, targetPort: backend.port }] },
    },
    {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: `${name}-demo`, labels: { 'kubernetes.io/service-name': name } },
      addressType: backend.host.includes(':') ? 'IPv6' : 'IPv4',
      endpoints: [{ addresses: [backend.host], conditions: { ready: true } }],
      ports: [{ name: portName, protocol: 'TCP', port: backend.port }],
    },
  ];
}

/**
 * Writes the upstream example and the environment into `directory` (fresh each run, so that
 * the demo always starts from the upstream example) and returns the files to serve.
 */
export function writeDemoManifests(directory: string, upstreamDirectory: string, env: DemoEnvironment): string[] {
  mkdirSync(directory, { recursive: true });
  const files: string[] = [];
  const gateway = path.join(directory, GATEWAY_FILE);
  writeFileSync(gateway, gatewayWithHttps(readFileSync(path.join(upstreamDirectory, GATEWAY_FILE), 'utf8')));
  files.push(gateway);
  for (const file of [...UPSTREAM_FILES, APP_ROUTE_FILE]) {
    copyFileSync(path.join(upstreamDirectory, file), path.join(directory, file));
    files.push(path.join(directory, file));
  }
  const generated = path.join(directory, GENERATED_FILE);
  const header =
    '# Generated by `npm start` (examples/demo/demo-manifests.ts): what a cluster would provide around\n' +
    '# the upstream example. The Secrets hold the demo gateway\'s private keys; .demo/ is git-ignored.\n';
  writeFileSync(generated, header + environmentObjects(env).map((o) => stringify(o)).join('---\n'), { mode: 0o600 });
  files.push(generated);
  return files;
}
