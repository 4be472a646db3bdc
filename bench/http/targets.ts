/**
 * The sides of the HTTP comparison, each with one plain HTTP port and one HTTPS port in front
 * of the same Go backend (bench/proxy/go/http_backends.go), with the same ECDSA P-256
 * certificate, one worker each unless asked otherwise:
 *
 * - direct: no proxy, the backend itself (plain HTTP only): the latency baseline;
 * - tlsgate: `tlsgate standalone` serving generated Gateway + HTTPRoute manifests, started as
 *   the Deployment starts a proxy (PROXY_NODE_FLAGS, GLIBC_TUNABLES), access log on as shipped;
 * - nginx: Debian's nginx, `proxy_pass` to an `upstream { keepalive 64; }`;
 * - haproxy: Debian's HAProxy, `mode http`, server connections reused;
 * - node: the plain Node floor (node-floor.ts): http.createServer + http.request with a keep-alive Agent.
 *
 * Every proxy forwards the request with X-Forwarded-For/-Proto/-Host, as tlsgate does, so that
 * they do the same work; none but tlsgate writes an access log (each product's default).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { issueCertificate, type IssuedCertificate } from '../../examples/demo/pki.js';
import { ProxyProcess } from '../proxy/proxy-process.js';
import { portsInUse, toolVersion } from '../proxy/system.js';
import { CURRENT_NODE, PROJECT_ROOT, nodeProxyArgs, nodeProxyEnv, tlsgateMissing, type NodeRuntime } from '../proxy/targets.js';
import type { HttpNodeFloorConfig } from './node-floor.js';
import { BENCH_HOST, CERTIFICATE_NAME, type Endpoint } from './workloads.js';

export type HttpTargetName = 'direct' | 'tlsgate' | 'nginx' | 'haproxy' | 'node';
export const HTTP_TARGETS: readonly HttpTargetName[] = ['direct', 'tlsgate', 'nginx', 'haproxy', 'node'];

export interface HttpTarget {
  name: HttpTargetName;
  /** What ran, e.g. "nginx/1.22.1"; shown under the tables. */
  version: string;
  http: Endpoint;
  /** Undefined for direct (the backend speaks plain HTTP only). */
  https: Endpoint | undefined;
  /** The proxy's root process (its tree is measured); undefined for direct. */
  process: ProxyProcess | undefined;
  stop(): Promise<void>;
}

export interface HttpBenchCertificates {
  ca: IssuedCertificate;
  gateway: IssuedCertificate;
  /** Files for nginx and HAProxy. */
  files: { cert: string; key: string; combined: string };
}

export interface HttpTargetContext {
  host: string;
  workDir: string;
  backendPort: number;
  certificates: HttpBenchCertificates;
  proxyCpus: string;
  workers: number;
  /** Listener ports are derived from this (all below the ephemeral range). */
  portBase: number;
  /** Extra `node` options for the Node.js proxies, e.g. `--cpu-prof`. */
  nodeArgs?: string[];
  /** The Node.js binary the Node.js proxies run on; the orchestrator's own by default. */
  node?: NodeRuntime;
}

interface ListenerPorts {
  http: number;
  https: number;
}

/** Listener ports per target, from --port-base; tlsgate's are its Gateway's (80, 443) plus the offset. */
export function targetPorts(portBase: number): Record<Exclude<HttpTargetName, 'direct'>, ListenerPorts> & { tlsgateAdmin: number } {
  return {
    tlsgate: { http: portBase + GATEWAY_HTTP_PORT, https: portBase + GATEWAY_HTTPS_PORT },
    tlsgateAdmin: portBase + 900,
    nginx: { http: portBase + 1080, https: portBase + 1443 },
    haproxy: { http: portBase + 2080, https: portBase + 2443 },
    node: { http: portBase + 3080, https: portBase + 3443 },
  };
}

const READY_TIMEOUT_MS = 30000;

export function issueHttpBenchCertificates(directory: string): HttpBenchCertificates {
  const ca = issueCertificate({ commonName: 'tlsgate HTTP bench CA', organization: 'tlsgate bench', dnsNames: [], isCA: true, validDays: 2 });
  const gateway = issueCertificate({ commonName: CERTIFICATE_NAME, organization: 'tlsgate bench', dnsNames: [CERTIFICATE_NAME], isCA: false, validDays: 2, issuer: ca });
  const files = { cert: path.join(directory, 'http-gateway.crt'), key: path.join(directory, 'http-gateway.key'), combined: path.join(directory, 'http-gateway.pem') };
  writeFileSync(files.cert, gateway.certificatePem);
  writeFileSync(files.key, gateway.privateKeyPem, { mode: 0o600 });
  // HAProxy wants the chain and the key in one file.
  writeFileSync(files.combined, gateway.certificatePem + gateway.privateKeyPem, { mode: 0o600 });
  return { ca, gateway, files };
}

export function directTarget(context: HttpTargetContext): HttpTarget {
  return {
    name: 'direct',
    version: 'the Go backend itself',
    http: { host: context.host, port: context.backendPort },
    https: undefined,
    process: undefined,
    stop: async () => undefined,
  };
}

async function startProcessTarget(
  name: HttpTargetName,
  version: string,
  context: HttpTargetContext,
  ports: ListenerPorts,
  command: string,
  args: string[],
  options: { extraPorts?: number[]; extraReadyCheck?: () => Promise<boolean>; env?: NodeJS.ProcessEnv } = {},
): Promise<HttpTarget> {
  // A port that already accepts would make the readiness check (and the measurements) talk to
  // whatever holds it, so refuse to start instead.
  const busy = await portsInUse(context.host, [ports.http, ports.https, ...(options.extraPorts ?? [])]);
  if (busy.length > 0) throw new Error(`${name}: port(s) ${busy.join(', ')} on ${context.host} already in use (choose another --port-base)`);
  const proxy = ProxyProcess.start({ name, command, args, cpus: context.proxyCpus, logFile: path.join(context.workDir, `${name}.log`), cwd: context.workDir, ...(options.env ? { env: options.env } : {}) });
  const http = { host: context.host, port: ports.http };
  const https = { host: context.host, port: ports.https };
  try {
    await proxy.waitReady([http, https], READY_TIMEOUT_MS, options.extraReadyCheck);
  } catch (error) {
    await proxy.stop(1000);
    throw error;
  }
  return { name, version, http, https, process: proxy, stop: () => proxy.stop() };
}

// ---- nginx -----------------------------------------------------------------------------------

/** Keep-alive connections nginx keeps per worker to the backend (the issue: `upstream { keepalive N; }`). */
export const NGINX_UPSTREAM_KEEPALIVE = 64;

export function nginxHttpConfig(context: HttpTargetContext, ports: ListenerPorts): string {
  const { host, backendPort, certificates, workDir } = context;
  const temp = (name: string): string => path.join(workDir, `nginx-${name}-temp`);
  return `# Generated by bench/http (tlsgate's HTTP benchmark).
daemon off;
master_process on;
worker_processes ${context.workers};
worker_rlimit_nofile 20000;
pid ${path.join(workDir, 'nginx-http.pid')};
error_log ${path.join(workDir, 'nginx-http-error.log')} warn;
events {
  worker_connections 20000;
}
http {
  access_log off;
  client_body_temp_path ${temp('client-body')};
  proxy_temp_path ${temp('proxy')};
  fastcgi_temp_path ${temp('fastcgi')};
  uwsgi_temp_path ${temp('uwsgi')};
  scgi_temp_path ${temp('scgi')};
  # The defaults (1,000 requests) would close the load generator's connections mid-phase.
  keepalive_requests 1000000;
  keepalive_timeout 120s;
  client_max_body_size 0;
  upstream bench_backend {
    server ${host}:${backendPort};
    keepalive ${NGINX_UPSTREAM_KEEPALIVE};
    keepalive_requests 1000000;
    keepalive_timeout 120s;
  }
  server {
    listen ${host}:${ports.http} backlog=4096;
    listen ${host}:${ports.https} ssl backlog=4096;
    server_name ${BENCH_HOST};
    ssl_certificate ${certificates.files.cert};
    ssl_certificate_key ${certificates.files.key};
    ssl_protocols TLSv1.2 TLSv1.3;
    location / {
      proxy_pass http://bench_backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Forwarded-Host $http_host;
      # Stream uploads as tlsgate does, instead of spooling them to a temporary file first, read
      # 64 KiB at a time as Node reads: with the default 16 KiB buffer nginx made 623-833 uploads
      # per CPU-second against 1,729-1,848 with 64 KiB (two alternating pairs, 1 MiB uploads).
      proxy_request_buffering off;
      client_body_buffer_size 64k;
      # Responses streamed through a 64 KiB buffer, as tlsgate pipes them (backpressure, no
      # spooling; Node reads 64 KiB at a time too). Buffered in memory instead (proxy_buffering on,
      # 8 x 64k, no temporary file), 1 MiB responses measured 236-1,400 requests per CPU-second
      # from one repetition to the next; streamed, 1,169-1,350.
      proxy_buffering off;
      proxy_buffer_size 64k;
      # Unused while streaming, but nginx checks the default busy size (2 x 64k) against them.
      proxy_buffers 8 64k;
    }
  }
}
`;
}

export async function startNginx(context: HttpTargetContext): Promise<HttpTarget> {
  const ports = targetPorts(context.portBase).nginx;
  const configFile = path.join(context.workDir, 'nginx-http.conf');
  writeFileSync(configFile, nginxHttpConfig(context, ports));
  // -e: the error log from the start (not /var/log/nginx), -p: a private prefix.
  const args = ['-p', context.workDir, '-e', path.join(context.workDir, 'nginx-http-error.log'), '-c', configFile];
  return startProcessTarget('nginx', toolVersion('nginx -v').replace(/^nginx version:\s*/, ''), context, ports, 'nginx', args);
}

// ---- HAProxy ---------------------------------------------------------------------------------

export function haproxyHttpConfig(context: HttpTargetContext, ports: ListenerPorts): string {
  const { host, backendPort, certificates } = context;
  return `# Generated by bench/http (tlsgate's HTTP benchmark).
global
  nbthread ${context.workers}
  maxconn 9500
  ssl-default-bind-options ssl-min-ver TLSv1.2

defaults
  mode http
  option http-keep-alive
  timeout connect 5s
  timeout client 120s
  timeout server 120s
  timeout http-request 60s
  timeout http-keep-alive 120s

frontend web
  bind ${host}:${ports.http}
  bind ${host}:${ports.https} ssl crt ${certificates.files.combined} alpn http/1.1
  option forwardfor
  http-request set-header X-Forwarded-Proto https if { ssl_fc }
  http-request set-header X-Forwarded-Proto http if !{ ssl_fc }
  http-request set-header X-Forwarded-Host %[req.hdr(host)]
  default_backend app

backend app
  # Idle server connections are shared by every client connection (the pool tlsgate and nginx keep).
  http-reuse always
  server s1 ${host}:${backendPort}
`;
}

export async function startHaproxy(context: HttpTargetContext): Promise<HttpTarget> {
  const ports = targetPorts(context.portBase).haproxy;
  const configFile = path.join(context.workDir, 'haproxy-http.cfg');
  writeFileSync(configFile, haproxyHttpConfig(context, ports));
  const version = toolVersion('haproxy -v').replace(/^HAProxy version\s*/, '').split(' ')[0] ?? 'unknown';
  return startProcessTarget('haproxy', `HAProxy ${version}`, context, ports, 'haproxy', ['-db', '-f', configFile]);
}

// ---- plain Node floor ------------------------------------------------------------------------

export function nodeFloorConfig(context: HttpTargetContext): HttpNodeFloorConfig {
  const ports = targetPorts(context.portBase).node;
  return {
    host: context.host,
    httpPort: ports.http,
    httpsPort: ports.https,
    backendHost: context.host,
    backendPort: context.backendPort,
    certificatePem: context.certificates.gateway.certificatePem,
    privateKeyPem: context.certificates.gateway.privateKeyPem,
    workers: context.workers,
  };
}

export async function startNodeFloor(context: HttpTargetContext): Promise<HttpTarget> {
  const config = nodeFloorConfig(context);
  const configFile = path.join(context.workDir, 'http-node-floor.json');
  writeFileSync(configFile, JSON.stringify(config), { mode: 0o600 });
  const script = fileURLToPath(new URL('./node-floor.js', import.meta.url));
  const node = context.node ?? CURRENT_NODE;
  return startProcessTarget('node', `plain Node ${node.version} HTTP proxy`, context, { http: config.httpPort, https: config.httpsPort }, node.path, [...nodeProxyArgs(context), script, configFile], {
    env: nodeProxyEnv(),
  });
}

// ---- tlsgate ---------------------------------------------------------------------------------

/** Listener ports in the generated Gateway; standalone adds the port offset. */
const GATEWAY_HTTP_PORT = 80;
const GATEWAY_HTTPS_PORT = 443;
const NAMESPACE = 'default';
const SERVICE = 'bench-app';

/** The Gateway API objects tlsgate standalone serves: what a cluster would hold for the bench. */
export function tlsgateHttpManifests(context: HttpTargetContext, controllerName: string): object[] {
  const { host, backendPort, certificates } = context;
  const listenerHostname = `*.${BENCH_HOST.split('.').slice(1).join('.')}`;
  return [
    { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'GatewayClass', metadata: { name: 'bench-http' }, spec: { controllerName } },
    {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'Gateway',
      metadata: { name: 'bench-http', namespace: NAMESPACE },
      spec: {
        gatewayClassName: 'bench-http',
        listeners: [
          { name: 'http', protocol: 'HTTP', port: GATEWAY_HTTP_PORT, hostname: listenerHostname },
          { name: 'https', protocol: 'HTTPS', port: GATEWAY_HTTPS_PORT, hostname: listenerHostname, tls: { mode: 'Terminate', certificateRefs: [{ name: 'bench-http-certificate' }] } },
        ],
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'bench-http-certificate', namespace: NAMESPACE },
      type: 'kubernetes.io/tls',
      data: {
        'tls.crt': Buffer.from(certificates.gateway.certificatePem).toString('base64'),
        'tls.key': Buffer.from(certificates.gateway.privateKeyPem).toString('base64'),
      },
    },
    {
      // Both listeners (no sectionName), one rule: everything to the backend, as nginx's `location /`.
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: 'bench-app', namespace: NAMESPACE },
      spec: {
        parentRefs: [{ name: 'bench-http' }],
        hostnames: [BENCH_HOST],
        rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/' } }], backendRefs: [{ name: SERVICE, port: 80 }] }],
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: SERVICE, namespace: NAMESPACE },
      spec: { ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: backendPort }] },
    },
    {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: `${SERVICE}-bench`, namespace: NAMESPACE, labels: { 'kubernetes.io/service-name': SERVICE } },
      addressType: 'IPv4',
      endpoints: [{ addresses: [host], conditions: { ready: true } }],
      ports: [{ name: 'http', protocol: 'TCP', port: backendPort }],
    },
  ];
}

export async function startTlsgate(context: HttpTargetContext, controllerName: string): Promise<HttpTarget> {
  const missing = tlsgateMissing();
  if (missing) throw new Error(`tlsgate ${missing}`);
  const allPorts = targetPorts(context.portBase);
  const manifestDir = path.join(context.workDir, 'tlsgate-http-manifests');
  mkdirSync(manifestDir, { recursive: true });
  writeFileSync(path.join(manifestDir, 'bench.yaml'), tlsgateHttpManifests(context, controllerName).map((o) => stringify(o)).join('---\n'), { mode: 0o600 });
  const args = [
    ...nodeProxyArgs(context),
    path.join(PROJECT_ROOT, 'bin/tlsgate.js'),
    'standalone',
    '-f',
    manifestDir,
    '--address',
    context.host,
    '--port-offset',
    String(context.portBase),
    '--workers',
    String(context.workers),
    '--admin-address',
    `${context.host}:${allPorts.tlsgateAdmin}`,
  ];
  const node = context.node ?? CURRENT_NODE;
  const version = `tlsgate on Node ${node.version}`;
  // Access logs stay on, as shipped (one line per request, to the log file); nginx and HAProxy log nothing.
  return startProcessTarget('tlsgate', version, context, allPorts.tlsgate, node.path, args, {
    extraPorts: [allPorts.tlsgateAdmin],
    extraReadyCheck: () => adminReady(context.host, allPorts.tlsgateAdmin),
    env: nodeProxyEnv(),
  });
}

async function adminReady(host: string, port: number): Promise<boolean> {
  try {
    const response = await fetch(`http://${host}:${port}/readyz`, { signal: AbortSignal.timeout(1000) });
    await response.arrayBuffer();
    return response.status === 200;
  } catch {
    return false;
  }
}

export async function startHttpTarget(name: HttpTargetName, context: HttpTargetContext): Promise<HttpTarget> {
  switch (name) {
    case 'direct':
      return directTarget(context);
    case 'tlsgate': {
      // Loaded only when tlsgate runs, so that the references can be measured on their own
      // while the project's own modules are being changed.
      const { CONTROLLER_NAME } = await import('../../src/gatewayapi/translate.js');
      return startTlsgate(context, CONTROLLER_NAME);
    }
    case 'nginx':
      return startNginx(context);
    case 'haproxy':
      return startHaproxy(context);
    case 'node':
      return startNodeFloor(context);
  }
}
