/**
 * `tlsgate proxy`: the data plane of one Gateway in a cluster. It holds no Kubernetes
 * credentials; it dials the operator's config server with the client certificate mounted from
 * its Gateway's Secret, applies each config it receives to the proxy runtime, and keeps
 * serving the last good one whenever the operator is away.
 */
import { isIP } from 'node:net';
import { Command, InvalidArgumentError, Option } from 'commander';
import { ConfigClient } from './config-client.js';
import { startProxyRuntime, type ProxyRuntime } from './runtime.js';
import type { ObjectRef } from '../src/proxy-config.js';
import { missingProcessSettingsNotice } from '../src/proxy-process-env.js';

/** Below Kubernetes' default terminationGracePeriodSeconds (30), so the drain ends before SIGKILL. */
export const DEFAULT_DRAIN_SECONDS = 20;

interface ProxyCommandOptions {
  configServer: string;
  gateway: ObjectRef;
  cert: string;
  key: string;
  ca: string;
  serverName?: string;
  address: string;
  portOffset: number;
  adminAddress?: string;
  workers: number;
  drainSeconds: number;
}

export function registerProxyCommand(program: Command): void {
  program
    .command('proxy')
    .description(
      "Run one Gateway's proxy: receive its config from the operator's config server over mutual TLS " +
        'and serve it; keeps serving the last good config while the server is away',
    )
    .requiredOption('--config-server <url>', 'config server to dial, wss://host:port (mutual TLS; the path defaults to /v1/config)', parseUrl)
    .requiredOption('--gateway <namespace/name>', 'the Gateway this proxy serves; must be the one named by the --cert certificate', parseGateway)
    .requiredOption('--cert <file>', "this proxy's client certificate (PEM, the Gateway Secret's tls.crt); re-read when it changes")
    .requiredOption('--key <file>', 'the private key of --cert (PEM, tls.key); re-read when it changes')
    .requiredOption('--ca <file>', "CA bundle that signed the config server's certificate (PEM, ca.crt); re-read when it changes")
    .option('--server-name <name>', "name to verify in the config server's certificate (default: the host of --config-server)")
    .addOption(new Option('--address <addr>', 'IP address every listener port binds to').default('0.0.0.0').argParser(parseAddress))
    .addOption(
      new Option('--port-offset <n>', 'added to every listener port (e.g. 10000 serves 443 on 10443, to run without privileges)')
        .default(0)
        .argParser(parseInteger('--port-offset', 0, 65535)),
    )
    .option('--admin-address <host:port>', 'serve /healthz, /readyz (ready once a config is applied), /metrics and /config_dump here (default: none)', parseHostPort)
    .addOption(new Option('--workers <n>', 'worker processes sharing the listeners (1 = in-process)').default(1).argParser(parseInteger('--workers', 1, 1024)))
    .addOption(
      new Option('--drain-seconds <n>', 'on SIGTERM/SIGINT: report not ready, stop accepting, and let established connections drain this long')
        .default(DEFAULT_DRAIN_SECONDS)
        .argParser(parseInteger('--drain-seconds', 0, 3600)),
    )
    .action(async (options: ProxyCommandOptions) => {
      await runProxy(options);
    });
}

async function runProxy(options: ProxyCommandOptions): Promise<void> {
  const log = (event: string, fields: Record<string, unknown> = {}): void =>
    void process.stderr.write(JSON.stringify({ time: new Date().toISOString(), component: 'proxy', event, ...fields }) + '\n');
  const gatewayKey = `${options.gateway.namespace}/${options.gateway.name}`;

  const runtime: ProxyRuntime = await startProxyRuntime({
    address: options.address,
    portOffset: options.portOffset,
    workers: options.workers,
    ...(options.adminAddress !== undefined ? { adminAddress: options.adminAddress } : {}),
  });
  let client: ConfigClient;
  try {
    client = await ConfigClient.start({
      url: options.configServer,
      gateway: options.gateway,
      certFile: options.cert,
      keyFile: options.key,
      caFile: options.ca,
      ...(options.serverName ? { servername: options.serverName } : {}),
      // One Gateway per proxy: its config is the runtime's whole config set.
      sink: { apply: (config) => runtime.apply([config]) },
    });
  } catch (err) {
    await runtime.shutdown(0);
    throw err;
  }
  log('started', { gateway: gatewayKey, configServer: options.configServer, address: options.address, workers: options.workers });
  const settingsNotice = missingProcessSettingsNotice(process, options.workers);
  if (settingsNotice !== undefined) log('process_settings_missing', { notice: settingsNotice });

  await new Promise<void>((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (stopping) {
        log('exiting_now', { signal });
        process.exit(130);
      }
      stopping = true;
      log('draining', { signal, drainSeconds: options.drainSeconds });
      // Readiness drops at once (runtime.shutdown); the config connection closes meanwhile.
      Promise.all([client.close(), runtime.shutdown(options.drainSeconds * 1000)])
        .catch((err: Error) => log('shutdown_error', { error: err.message }))
        .finally(() => {
          process.off('SIGTERM', onSignal);
          process.off('SIGINT', onSignal);
          log('stopped', { gateway: gatewayKey });
          resolve();
        });
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}

function parseGateway(value: string): ObjectRef {
  const match = /^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)\/([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?)$/.exec(value);
  if (!match) throw new InvalidArgumentError('expected <namespace>/<name>, both Kubernetes names (lowercase), e.g. team-a/public');
  return { namespace: match[1]!, name: match[3]! };
}

function parseUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError('expected a URL such as wss://tlsgate-config.tlsgate-system.svc:9443');
  }
  if (url.protocol !== 'wss:') throw new InvalidArgumentError('expected a wss:// URL: the config server only speaks mutual TLS');
  return value;
}

function parseAddress(value: string): string {
  if (isIP(value) === 0) throw new InvalidArgumentError('expected an IP address such as 0.0.0.0, :: or 127.0.0.1');
  return value;
}

function parseHostPort(value: string): string {
  const match = /^(.*):(\d{1,5})$/.exec(value);
  const port = match ? Number(match[2]) : NaN;
  if (!match || !match[1] || port > 65535) throw new InvalidArgumentError('expected host:port, e.g. 0.0.0.0:9901');
  return value;
}

function parseInteger(flag: string, min: number, max: number): (value: string) => number {
  return (value) => {
    const parsed = Number(value);
    if (!/^-?\d+$/.test(value) || parsed < min || parsed > max) throw new InvalidArgumentError(`${flag} must be an integer from ${min} to ${max}`);
    return parsed;
  };
}
