/**
 * The sides of the comparison, all in front of the same backends with the same
 * certificates, one worker each unless asked otherwise:
 *
 * - direct: no proxy (the ceiling); Terminate work goes to TLS servers that are the backends;
 * - tlsgate: `tlsgate standalone` serving generated Gateway API manifests;
 * - nginx: Debian's nginx, stream module, `ssl_preread` passthrough and `ssl` termination;
 * - HAProxy: Debian's HAProxy, `mode tcp` with `req.ssl_sni`, and `ssl crt` termination;
 * - node: the plain Node.js floor (node-floor.ts), what any Node proxy pays at least.
 *
 * Every proxy has one Passthrough port (routing by SNI to passHello, passBulk, passTls) and one
 * Terminate port (routing by SNI to termHello, termBulk).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import type { NodeFloorConfig } from './node-floor.js';
import { ProxyProcess } from './proxy-process.js';
import type { BenchCertificates } from './pki.js';
import { nginxStreamModulePath, portsInUse, toolVersion } from './system.js';
import { BENCH_DOMAIN, SNI, type BackendPorts, type Endpoint, type Workload } from './workloads.js';
import { proxyGlibcTunables, PROXY_NODE_FLAGS } from '../../src/proxy-process-env.js';

export type TargetName = 'direct' | 'tlsgate' | 'nginx' | 'haproxy' | 'node';

export interface BenchTarget {
  name: TargetName;
  /** What ran, e.g. "nginx/1.22.1"; shown under the table. */
  version: string;
  endpoint(workload: Workload): Endpoint;
  /** The proxy's root process (its tree is measured); undefined for direct. */
  process: ProxyProcess | undefined;
  stop(): Promise<void>;
}

export interface TargetContext {
  host: string;
  workDir: string;
  backends: BackendPorts;
  certificates: BenchCertificates;
  proxyCpus: string;
  workers: number;
  /** Listener ports are derived from this (all below the ephemeral range). */
  portBase: number;
  /** Extra `node` options for the Node.js proxies (tlsgate, node), e.g. `--cpu-prof`; none by default. */
  nodeArgs?: string[];
  /** The Node.js binary the Node.js proxies (tlsgate, node) run on; the orchestrator's own by default. */
  node?: NodeRuntime;
}

/** A Node.js binary and the version it reports (`node -v`). */
export interface NodeRuntime {
  path: string;
  version: string;
}

/**
 * The Node.js binary at `binary` and its version, checked by running it: the container image
 * targets a newer Node than the machine may have, and a path that does not run, or runs
 * something that is not Node, must fail the run before anything is measured.
 */
export function nodeRuntime(binary: string): NodeRuntime {
  const resolved = path.resolve(binary);
  let output: string;
  try {
    output = execFileSync(resolved, ['-v'], { encoding: 'utf8', timeout: 10000, stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  } catch (error) {
    throw new Error(`--node ${resolved}: cannot run it (${(error as Error).message.split('\n')[0]})`);
  }
  if (!/^v\d+\.\d+\.\d+/.test(output)) throw new Error(`--node ${resolved}: \`-v\` printed "${output.slice(0, 80)}", not a Node.js version`);
  return { path: resolved, version: output };
}

/** The orchestrator's own Node.js, the default for the Node.js proxies. */
export const CURRENT_NODE: NodeRuntime = { path: process.execPath, version: process.version };

const PASS_WORKLOADS: Workload[] = ['passHello', 'passBulk', 'passTls'];
const TERM_WORKLOADS: Workload[] = ['termHello', 'termBulk'];
const READY_TIMEOUT_MS = 30000;

/** The project root, from dist/bench/proxy/ (compiled) or bench/proxy/ (source). */
export const PROJECT_ROOT = path.resolve(fileURLToPath(new URL('.', import.meta.url)), existsSync(fileURLToPath(new URL('../../../package.json', import.meta.url))) ? '../../..' : '../..');

interface ListenerPorts {
  passthrough: number;
  terminate: number;
}

function routedEndpoint(host: string, ports: ListenerPorts): (workload: Workload) => Endpoint {
  return (workload) => ({ host, port: PASS_WORKLOADS.includes(workload) ? ports.passthrough : ports.terminate });
}

export function directTarget(context: TargetContext): BenchTarget {
  const { backends, host } = context;
  return {
    name: 'direct',
    version: `Node ${process.version} backends`,
    process: undefined,
    endpoint: (workload) => {
      if (workload === 'termHello') return { host, port: backends.directTermHello };
      if (workload === 'termBulk') return { host, port: backends.directTermBulk };
      return { host, port: backends[workload] };
    },
    stop: async () => undefined,
  };
}

async function startProcessTarget(
  name: TargetName,
  version: string,
  context: TargetContext,
  ports: ListenerPorts,
  command: string,
  args: string[],
  extraPorts: number[] = [],
  extraReadyCheck?: () => Promise<boolean>,
  env?: NodeJS.ProcessEnv,
): Promise<BenchTarget> {
  // A port that already accepts would make the readiness check (and the measurements) talk to
  // whatever holds it, so refuse to start instead.
  const busy = await portsInUse(context.host, [ports.passthrough, ports.terminate, ...extraPorts]);
  if (busy.length > 0) throw new Error(`${name}: port(s) ${busy.join(', ')} on ${context.host} already in use (choose another --port-base)`);
  const proxy = ProxyProcess.start({ name, command, args, cpus: context.proxyCpus, logFile: path.join(context.workDir, `${name}.log`), cwd: context.workDir, ...(env ? { env } : {}) });
  const endpoint = routedEndpoint(context.host, ports);
  try {
    await proxy.waitReady([endpoint('passHello'), endpoint('termHello')], READY_TIMEOUT_MS, extraReadyCheck);
  } catch (error) {
    await proxy.stop(1000);
    throw error;
  }
  return { name, version, process: proxy, endpoint, stop: () => proxy.stop() };
}

// ---- nginx -----------------------------------------------------------------------------------

export function nginxConfig(context: TargetContext, ports: ListenerPorts, modulePath: string): string {
  const { host, backends, certificates } = context;
  const map = (variable: string, target: string, workloads: Workload[]): string =>
    [`  map ${variable} ${target} {`, ...workloads.map((w) => `    ${SNI[w]} ${host}:${backends[w]};`), '  }'].join('\n');
  return `# Generated by bench/proxy (tlsgate's proxy benchmark).
load_module ${modulePath};
daemon off;
master_process on;
worker_processes ${context.workers};
worker_rlimit_nofile 20000;
pid ${path.join(context.workDir, 'nginx.pid')};
error_log ${path.join(context.workDir, 'nginx-error.log')} warn;
events {
  worker_connections 20000;
}
stream {
${map('$ssl_preread_server_name', '$passthrough_backend', PASS_WORKLOADS)}
${map('$ssl_server_name', '$terminate_backend', TERM_WORKLOADS)}
  server {
    listen ${host}:${ports.passthrough} backlog=4096;
    ssl_preread on;
    preread_timeout 10s;
    proxy_pass $passthrough_backend;
  }
  server {
    listen ${host}:${ports.terminate} ssl backlog=4096;
    ssl_certificate ${certificates.files.gatewayCert};
    ssl_certificate_key ${certificates.files.gatewayKey};
    ssl_protocols TLSv1.2 TLSv1.3;
    proxy_pass $terminate_backend;
  }
}
`;
}

export async function startNginx(context: TargetContext): Promise<BenchTarget> {
  const ports = { passthrough: context.portBase + 1443, terminate: context.portBase + 9443 };
  const configFile = path.join(context.workDir, 'nginx.conf');
  writeFileSync(configFile, nginxConfig(context, ports, nginxStreamModulePath()));
  // -e: the error log from the start (not /var/log/nginx), -p: a private prefix.
  const args = ['-p', context.workDir, '-e', path.join(context.workDir, 'nginx-error.log'), '-c', configFile];
  return startProcessTarget('nginx', toolVersion('nginx -v').replace(/^nginx version:\s*/, ''), context, ports, 'nginx', args);
}

// ---- HAProxy ---------------------------------------------------------------------------------

export function haproxyConfig(context: TargetContext, ports: ListenerPorts): string {
  const { host, backends, certificates } = context;
  const backendSections = [...PASS_WORKLOADS, ...TERM_WORKLOADS].map((w) => `backend be_${w}\n  server s1 ${host}:${backends[w]}\n`);
  return `# Generated by bench/proxy (tlsgate's proxy benchmark).
global
  nbthread ${context.workers}
  # Two descriptors per proxied connection must fit in the 20,000 open files allowed.
  maxconn 9500
  ssl-default-bind-options ssl-min-ver TLSv1.2

defaults
  mode tcp
  timeout connect 5s
  timeout client 120s
  timeout server 120s

frontend passthrough
  bind ${host}:${ports.passthrough}
  tcp-request inspect-delay 10s
  tcp-request content accept if { req_ssl_hello_type 1 }
${PASS_WORKLOADS.map((w) => `  use_backend be_${w} if { req.ssl_sni -i ${SNI[w]} }`).join('\n')}

frontend terminate
  bind ${host}:${ports.terminate} ssl crt ${certificates.files.gatewayCombined}
${TERM_WORKLOADS.map((w) => `  use_backend be_${w} if { ssl_fc_sni -i ${SNI[w]} }`).join('\n')}

${backendSections.join('\n')}`;
}

export async function startHaproxy(context: TargetContext): Promise<BenchTarget> {
  const ports = { passthrough: context.portBase + 2443, terminate: context.portBase + 10443 };
  const configFile = path.join(context.workDir, 'haproxy.cfg');
  writeFileSync(configFile, haproxyConfig(context, ports));
  const version = toolVersion('haproxy -v').replace(/^HAProxy version\s*/, '').split(' ')[0] ?? 'unknown';
  return startProcessTarget('haproxy', `HAProxy ${version}`, context, ports, 'haproxy', ['-db', '-f', configFile]);
}

// ---- plain Node floor ------------------------------------------------------------------------

export async function startNodeFloor(context: TargetContext): Promise<BenchTarget> {
  const ports = { passthrough: context.portBase + 3443, terminate: context.portBase + 11443 };
  const config: NodeFloorConfig = {
    host: context.host,
    passthroughPort: ports.passthrough,
    terminatePort: ports.terminate,
    routes: Object.fromEntries([...PASS_WORKLOADS, ...TERM_WORKLOADS].map((w) => [SNI[w], context.backends[w]])),
    certificatePem: context.certificates.gateway.certificatePem,
    privateKeyPem: context.certificates.gateway.privateKeyPem,
    workers: context.workers,
  };
  const configFile = path.join(context.workDir, 'node-floor.json');
  writeFileSync(configFile, JSON.stringify(config), { mode: 0o600 });
  const script = fileURLToPath(new URL('./node-floor.js', import.meta.url));
  const node = context.node ?? CURRENT_NODE;
  return startProcessTarget('node', `plain Node ${node.version} relay`, context, ports, node.path, [...nodeProxyArgs(context), script, configFile], [], undefined, nodeProxyEnv());
}

// ---- tlsgate ---------------------------------------------------------------------------------

/** Listener ports in the generated Gateway; standalone adds the port offset. */
const GATEWAY_PASSTHROUGH_PORT = 443;
const GATEWAY_TERMINATE_PORT = 8443;

/** Why tlsgate cannot run yet (the standalone command or the runtime not built), or undefined. */
export function tlsgateMissing(): string | undefined {
  const required = ['bin/tlsgate.js', 'dist/cli/main.js', 'dist/proxy/runtime.js'];
  const missing = required.filter((file) => !existsSync(path.join(PROJECT_ROOT, file)));
  if (missing.length > 0) return `not built yet (missing ${missing.join(', ')})`;
  return undefined;
}

/** The Gateway API objects tlsgate standalone serves: what a cluster would hold for the bench. */
export function tlsgateManifests(context: TargetContext, controllerName: string): object[] {
  const { host, backends, certificates } = context;
  const objects: object[] = [
    { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'GatewayClass', metadata: { name: 'bench' }, spec: { controllerName } },
    {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'Gateway',
      metadata: { name: 'bench', namespace: 'default' },
      spec: {
        gatewayClassName: 'bench',
        infrastructure: { parametersRef: { group: 'tlsgate.dev', kind: 'GatewayParameters', name: 'bench' } },
        listeners: [
          { name: 'passthrough', protocol: 'TLS', port: GATEWAY_PASSTHROUGH_PORT, hostname: `*.pass.${BENCH_DOMAIN}`, tls: { mode: 'Passthrough' } },
          {
            name: 'terminate',
            protocol: 'TLS',
            port: GATEWAY_TERMINATE_PORT,
            hostname: `*.term.${BENCH_DOMAIN}`,
            tls: { mode: 'Terminate', certificateRefs: [{ name: 'bench-gateway-certificate' }] },
          },
        ],
      },
    },
    {
      // The connection limit as nginx's worker_connections: the default 10,000 per listener is
      // split between workers (5,000 each with two), and the kernel spreads the 9,000 idle
      // connections unevenly, so with two workers the memory phase lost 25-121 of them to it.
      apiVersion: 'tlsgate.dev/v1alpha1',
      kind: 'GatewayParameters',
      metadata: { name: 'bench', namespace: 'default' },
      spec: { proxy: { maxConnectionsPerListener: 20_000 } },
    },
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'bench-gateway-certificate', namespace: 'default' },
      type: 'kubernetes.io/tls',
      data: {
        'tls.crt': Buffer.from(certificates.gateway.certificatePem).toString('base64'),
        'tls.key': Buffer.from(certificates.gateway.privateKeyPem).toString('base64'),
      },
    },
  ];
  for (const workload of [...PASS_WORKLOADS, ...TERM_WORKLOADS]) {
    const service = `bench-${workload.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
    objects.push(
      {
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'TLSRoute',
        metadata: { name: service, namespace: 'default' },
        spec: {
          parentRefs: [{ name: 'bench', sectionName: PASS_WORKLOADS.includes(workload) ? 'passthrough' : 'terminate' }],
          hostnames: [SNI[workload]],
          rules: [{ backendRefs: [{ name: service, port: 443 }] }],
        },
      },
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: service, namespace: 'default' },
        spec: { ports: [{ name: 'tcp', protocol: 'TCP', port: 443, targetPort: backends[workload] }] },
      },
      {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: { name: `${service}-bench`, namespace: 'default', labels: { 'kubernetes.io/service-name': service } },
        addressType: 'IPv4',
        endpoints: [{ addresses: [host], conditions: { ready: true } }],
        ports: [{ name: 'tcp', protocol: 'TCP', port: backends[workload] }],
      },
    );
  }
  return objects;
}

export async function startTlsgate(context: TargetContext, controllerName: string): Promise<BenchTarget> {
  const missing = tlsgateMissing();
  if (missing) throw new Error(`tlsgate ${missing}`);
  const offset = context.portBase;
  const ports = { passthrough: GATEWAY_PASSTHROUGH_PORT + offset, terminate: GATEWAY_TERMINATE_PORT + offset };
  const adminPort = context.portBase + 900;
  const manifestDir = path.join(context.workDir, 'tlsgate-manifests');
  mkdirSync(manifestDir, { recursive: true });
  writeFileSync(path.join(manifestDir, 'bench.yaml'), tlsgateManifests(context, controllerName).map((o) => stringify(o)).join('---\n'), { mode: 0o600 });
  const args = [
    ...nodeProxyArgs(context),
    path.join(PROJECT_ROOT, 'bin/tlsgate.js'),
    'standalone',
    '-f',
    manifestDir,
    '--address',
    context.host,
    '--port-offset',
    String(offset),
    '--workers',
    String(context.workers),
    '--admin-address',
    `${context.host}:${adminPort}`,
  ];
  const node = context.node ?? CURRENT_NODE;
  // Access logs stay on, as shipped (to the log file); nginx and HAProxy log nothing per connection.
  return startProcessTarget('tlsgate', `tlsgate ${readPackageVersion()} on Node ${node.version}`, context, ports, node.path, args, [adminPort], () =>
    httpOk(`http://${context.host}:${adminPort}/readyz`), nodeProxyEnv(),
  );
}

/**
 * The Node proxies run with the allocator setting and the V8 flags that tlsgate's Deployment and
 * workers get (PROXY_GLIBC_TUNABLES, PROXY_NODE_FLAGS): measured as shipped, and the plain relay
 * alike so it stays a floor.
 */
export function nodeProxyEnv(): NodeJS.ProcessEnv {
  return { ...process.env, GLIBC_TUNABLES: proxyGlibcTunables(process.env) };
}

/** Node's arguments before a Node proxy's script: PROXY_NODE_FLAGS, then the run's own (--cpu-prof). */
export function nodeProxyArgs(context: Pick<TargetContext, 'nodeArgs'>): string[] {
  return [...PROXY_NODE_FLAGS, ...(context.nodeArgs ?? [])];
}

function readPackageVersion(): string {
  try {
    return (JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

function httpOk(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const request = http.get(url, (response) => {
      response.resume();
      resolve(response.statusCode === 200);
    });
    request.on('error', () => resolve(false));
    request.setTimeout(1000, () => request.destroy());
  });
}
