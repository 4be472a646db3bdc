/** `tlsgate operator`: run the control plane against a cluster (kubeconfig or in-cluster). */
import os from 'node:os';
import * as k8s from '@kubernetes/client-node';
import { Command, InvalidArgumentError, Option } from 'commander';
import { startAdminServer } from './admin.js';
import { Operator } from './operator.js';
import { jsonLogger, LOG_LEVELS, type LogLevel } from './log.js';

export const DEFAULT_IMAGE = 'ghcr.io/tlsgate/tlsgate:0.1.0';

function hostPort(flag: string, value: string): { host: string; port: number } {
  const match = /^(.*):(\d+)$/.exec(value);
  const port = match ? Number(match[2]) : NaN;
  if (!match || !Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`${flag}: expected host:port, got "${value}"`);
  return { host: match[1]!.replace(/^\[(.*)\]$/, '$1') || '0.0.0.0', port };
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`expected a positive integer, got "${value}"`);
  return n;
}

export function loadKubeConfig(path: string | undefined): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  if (path) kc.loadFromFile(path);
  else kc.loadFromDefault(); // $KUBECONFIG, ~/.kube/config, else the in-cluster service account
  return kc;
}

interface OperatorFlags {
  kubeconfig?: string;
  namespace: string;
  identity?: string;
  podName?: string;
  proxyImage: string;
  proxyImagePullPolicy: 'Always' | 'IfNotPresent' | 'Never';
  configServerAddress: string;
  configServerUrl?: string;
  configServerSan: string[];
  adminAddress: string;
  leaseName: string;
  leaseDuration: number;
  renewDeadline: number;
  retryPeriod: number;
  resyncSeconds: number;
  debounceMs: number;
  ticketKeyRotationSeconds: number;
  logLevel: LogLevel;
  controllerName?: string;
}

export function registerOperator(program: Command): void {
  program
    .command('operator')
    .description(
      'Run the tlsgate operator: watch Gateway API objects, write their status, run one proxy Deployment per Gateway, and serve proxy configs over mutual TLS.',
    )
    .option('--kubeconfig <path>', 'kubeconfig file; default: $KUBECONFIG, ~/.kube/config, else the in-cluster service account')
    .option('--namespace <ns>', "the operator's namespace (CA Secret, leader Lease)", process.env.POD_NAMESPACE ?? 'tlsgate-system')
    .option('--identity <id>', "this replica's identity in the leader Lease (default: $POD_NAME, else hostname-pid)")
    .option('--pod-name <name>', "this replica's pod; the leader labels it so the config-server Service routes to it (default: $POD_NAME)", process.env.POD_NAME)
    .option('--controller-name <name>', "the GatewayClass controllerName this operator serves (default: tlsgate.dev/gateway-controller); another name runs a second tlsgate beside the first")
    .option('--proxy-image <image>', 'image of the per-Gateway proxy pods (runs `tlsgate proxy`)', process.env.TLSGATE_IMAGE ?? DEFAULT_IMAGE)
    .addOption(new Option('--proxy-image-pull-policy <policy>', 'imagePullPolicy of the proxy pods').choices(['Always', 'IfNotPresent', 'Never']).default('IfNotPresent'))
    .option('--config-server-address <host:port>', 'where the config server listens (mTLS WebSocket)', '0.0.0.0:9443')
    .option('--config-server-url <url>', 'the wss:// URL proxies dial (default: wss://tlsgate-config.<namespace>.svc:<port>)')
    .option(
      '--config-server-san <name>',
      "extra DNS name or IP for the config server's certificate (repeatable); the URL's host and the Service names are always included",
      (value: string, previous: string[]) => [...previous, value],
      [] as string[],
    )
    .option('--admin-address <host:port>', 'plain-HTTP /healthz, /readyz, /leader and /metrics (Prometheus)', '0.0.0.0:8081')
    .addOption(new Option('--log-level <level>', 'least severe level logged (JSON lines on stderr)').choices([...LOG_LEVELS]).default('info'))
    .option('--lease-name <name>', 'name of the leader-election Lease', 'tlsgate-operator')
    .option('--lease-duration <seconds>', 'how long a silent leader keeps the lease before others take over', positiveInt, 15)
    .option('--renew-deadline <seconds>', 'a leader that could not renew for this long steps down', positiveInt, 10)
    .option('--retry-period <seconds>', 'how often to renew or try to acquire the lease', positiveInt, 2)
    .option('--resync-seconds <seconds>', 'full relist of every watch and full re-apply of infrastructure', positiveInt, 300)
    .option('--debounce-ms <ms>', 'quiet time after a change before reconciling (changes within it coalesce)', positiveInt, 75)
    .option(
      '--ticket-key-rotation-seconds <seconds>',
      "how often every Gateway's session-ticket keys (shared by all its proxy replicas) change; the previous key still decrypts for one more period",
      positiveInt,
      3600,
    )
    .action(async (flags: OperatorFlags) => {
      await runOperator(flags);
    });
}

async function runOperator(flags: OperatorFlags): Promise<void> {
  if (flags.renewDeadline >= flags.leaseDuration) throw new Error('--renew-deadline must be shorter than --lease-duration');
  const logger = jsonLogger(flags.logLevel);
  const kubeConfig = loadKubeConfig(flags.kubeconfig);
  const identity = flags.identity ?? process.env.POD_NAME ?? `${os.hostname()}-${process.pid}`;
  const listen = hostPort('--config-server-address', flags.configServerAddress);
  const adminAddress = hostPort('--admin-address', flags.adminAddress);
  const port = listen.port;
  const service = `tlsgate-config.${flags.namespace}.svc`;
  const advertisedUrl = flags.configServerUrl ?? `wss://${service}:${port}`;
  const urlHost = new URL(advertisedUrl).hostname.replace(/^\[(.*)\]$/, '$1');
  const names = new Set([urlHost, service, `${service}.cluster.local`, 'tlsgate-config', ...flags.configServerSan]);
  const isIp = (name: string) => /^[\d.]+$/.test(name) || name.includes(':');
  const operator = new Operator({
    kubeConfig,
    namespace: flags.namespace,
    identity,
    podName: flags.podName,
    ...(flags.controllerName ? { controllerName: flags.controllerName } : {}),
    proxyImage: flags.proxyImage,
    proxyImagePullPolicy: flags.proxyImagePullPolicy,
    configServer: {
      host: listen.host,
      port,
      advertisedUrl,
      dnsNames: [...names].filter((n) => !isIp(n)),
      ipAddresses: [...names].filter(isIp),
    },
    lease: { name: flags.leaseName, durationSeconds: flags.leaseDuration, renewDeadlineSeconds: flags.renewDeadline, retryPeriodSeconds: flags.retryPeriod },
    resyncMs: flags.resyncSeconds * 1000,
    debounceMs: flags.debounceMs,
    ticketKeyRotationMs: flags.ticketKeyRotationSeconds * 1000,
    logger,
  });
  const admin = await startAdminServer(adminAddress.host, adminAddress.port, {
    synced: () => operator.synced,
    leader: () => operator.isLeader,
    metrics: () => operator.metrics.exposition(),
    warn: (message) => logger.warn(message, { component: 'admin' }),
  });
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info(`${signal}: stopping`, { component: 'operator' });
    admin.close();
    operator.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error(`stop failed: ${(err as Error).message}`, { component: 'operator' });
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
  await operator.start();
  logger.info(`started as ${identity}; config server on ${listen.host}:${operator.configServerPort}, proxies dial ${advertisedUrl}`, { component: 'operator' });
  // Keep running until a signal: the informers, timers and servers hold the event loop.
  await new Promise<void>(() => undefined);
}
