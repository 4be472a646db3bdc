/**
 * `tlsgate standalone`: the command-line face of standalone mode. Parses and checks options,
 * runs a StandaloneGateway, and shuts it down gracefully on SIGTERM/SIGINT.
 */
import { availableParallelism } from 'node:os';
import { isIP } from 'node:net';
import { Command, InvalidArgumentError, Option } from 'commander';
import { missingProcessSettingsNotice } from '../../src/proxy-process-env.js';

export const DEFAULT_ADDRESS = '127.0.0.1';
export const DEFAULT_GRACE_SECONDS = 10;
export const DEFAULT_PORT_RETRY_SECONDS = 30;
/** As DEFAULT_MAX_MANIFEST_FILE_BYTES (src/manifests/load.ts); here so --help loads no more than the command. */
export const DEFAULT_MAX_FILE_MIB = 16;

interface StandaloneCommandOptions {
  file: string[];
  address: string;
  portOffset: number;
  adminAddress?: string;
  watch: boolean;
  workers: number;
  gracePeriod: number;
  portRetry: number;
  maxFileMib: number;
}

export function registerStandaloneCommand(program: Command): void {
  program
    .command('standalone')
    .description(
      'Serve Gateway API manifests (Gateways, TLSRoutes, Secrets, Services, EndpointSlices) with the ' +
        'tlsgate proxy, without a cluster; prints a status table of Gateways, listeners and routes',
    )
    .requiredOption('-f, --file <path...>', 'manifest files or directories (YAML or JSON), as for `tlsgate translate`')
    .addOption(new Option('--address <addr>', 'IP address every listener binds to').default(DEFAULT_ADDRESS).argParser(parseAddress))
    .addOption(
      new Option('--port-offset <n>', 'added to every listener port, e.g. 10000 serves 443 on 10443').default(0).argParser(parseInteger('--port-offset', 0, 65535)),
    )
    .option('--admin-address <host:port>', 'serve /healthz, /readyz, /metrics and /config_dump here', parseHostPort)
    .option('--watch', 'reload when the manifest files change (hitless)', false)
    .addOption(
      new Option('--workers <n>', 'worker processes sharing the listeners (1 = in-process)')
        .default(availableParallelism(), 'one per CPU')
        .argParser(parseInteger('--workers', 1, 1024)),
    )
    .addOption(
      new Option('--port-retry <seconds>', 'how often listener ports that could not be bound (PortUnavailable) are tried again; also on every --watch reload')
        .default(DEFAULT_PORT_RETRY_SECONDS)
        .argParser(parseInteger('--port-retry', 1, 3600)),
    )
    .addOption(
      new Option('--max-file-mib <n>', 'a manifest file larger than this many MiB is refused (parsing YAML takes about 35 times a file\'s size in memory)')
        .default(DEFAULT_MAX_FILE_MIB)
        .argParser(parseInteger('--max-file-mib', 1, 1024)),
    )
    .addOption(
      new Option('--grace-period <seconds>', 'on SIGTERM/SIGINT, how long established connections may drain')
        .default(DEFAULT_GRACE_SECONDS)
        .argParser(parseInteger('--grace-period', 0, 3600)),
    )
    .action(async (options: StandaloneCommandOptions) => {
      await runStandaloneCommand(options);
    });
}

async function runStandaloneCommand(options: StandaloneCommandOptions): Promise<void> {
  const log = (line: string): void => void process.stderr.write(`tlsgate standalone: ${line}\n`);
  const settingsNotice = missingProcessSettingsNotice(process, options.workers);
  if (settingsNotice !== undefined) log(`notice: ${settingsNotice}`);
  // Loaded on use: the other subcommands should not pay for the proxy engine at startup.
  const { startThreadedStandalone } = await import('./threaded.js');
  const gateway = await startThreadedStandalone({
    paths: options.file,
    address: options.address,
    portOffset: options.portOffset,
    ...(options.adminAddress !== undefined ? { adminAddress: options.adminAddress } : {}),
    workers: options.workers,
    watch: options.watch,
    portRetryMs: options.portRetry * 1000,
    maxFileBytes: options.maxFileMib * 1024 * 1024,
    out: (text) => void process.stdout.write(text),
    log,
  });
  const adminPort = gateway.runtime.adminPort();
  if (adminPort !== null && options.adminAddress !== undefined) {
    const host = options.adminAddress.slice(0, options.adminAddress.lastIndexOf(':'));
    process.stdout.write(`admin: http://${host}:${adminPort}/ (/healthz /readyz /metrics /config_dump)\n`);
  }
  const refused = gateway.firstApplyErrorCount;
  if (!options.watch && gateway.runtime.boundPorts().length === 0 && !gateway.retryingPorts) {
    // Nothing is served and, without --watch or a port to try again, nothing ever will be.
    // (Left to itself the process would also end, since no socket holds it: with Node's
    // cryptic exit code 13 for the signal wait that never settles.)
    await gateway.stop(0);
    throw new Error(
      refused > 0
        ? `nothing could be served (${refused} Gateway(s) refused, see above)`
        : 'nothing to serve: no Gateway of our class has a listener that can be served (see the status above); with --watch, tlsgate would wait for changes',
    );
  }

  await new Promise<void>((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (stopping) {
        log(`${signal} again, exiting now`);
        process.exit(130);
      }
      stopping = true;
      log(`${signal}: no longer accepting, draining for up to ${options.gracePeriod}s`);
      gateway
        .stop(options.gracePeriod * 1000)
        .catch((error: Error) => log(`shutdown error: ${error.message}`))
        .finally(() => {
          process.off('SIGTERM', onSignal);
          process.off('SIGINT', onSignal);
          log('stopped');
          resolve();
        });
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}

function parseAddress(value: string): string {
  if (isIP(value) === 0) throw new InvalidArgumentError(`"${value}" is not an IPv4 or IPv6 address.`);
  return value;
}

function parseHostPort(value: string): string {
  const match = /^(.*):(\d+)$/.exec(value);
  const port = match ? Number(match[2]) : NaN;
  if (!match || !match[1] || port > 65535) throw new InvalidArgumentError(`"${value}" is not host:port.`);
  return value;
}

function parseInteger(flag: string, min: number, max: number): (value: string) => number {
  return (value) => {
    const number = Number(value);
    if (!Number.isInteger(number) || number < min || number > max) {
      throw new InvalidArgumentError(`${flag} must be an integer from ${min} to ${max}, got "${value}".`);
    }
    return number;
  };
}
