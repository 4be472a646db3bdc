// `tlsgate translate`: run translate on manifest files and print every object with its
// computed status, then each Gateway's proxy config. This is how users debug "why is my
// route not attached" without a cluster.
import { Command, InvalidArgumentError, Option } from 'commander';
import { translate } from '../src/gatewayapi/translate.js';
import { DEFAULT_MAX_MANIFEST_FILE_BYTES, loadManifests } from '../src/manifests/load.js';
import { renderDocuments, toJsonList, toYamlStream } from '../src/manifests/render.js';

interface TranslateOptions {
  file: string[];
  output: 'yaml' | 'json';
  showSecrets?: boolean;
  now?: string;
  maxFileMib: number;
}

function parseNow(value: string | undefined): Date {
  if (value === undefined) return new Date();
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw new Error(`--now: "${value}" is not an ISO 8601 date`);
  return date;
}

function parseMib(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 1024) throw new InvalidArgumentError(`--max-file-mib: "${value}" is not a whole number of MiB from 1 to 1024`);
  return n;
}

export function registerTranslate(program: Command): void {
  program
    .command('translate')
    .description('translate Gateway API manifests and print their statuses and proxy configs')
    .requiredOption('-f, --file <path...>', 'manifest files or directories (YAML, JSON, kubectl Lists)')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['yaml', 'json']).default('yaml'))
    .option('--show-secrets', 'print private keys in proxy configs (redacted by default)')
    .option('--now <iso-date>', 'evaluate certificate expiry at this time instead of the current time')
    .addOption(
      new Option('--max-file-mib <n>', "a manifest file larger than this many MiB is refused (parsing YAML takes about 35 times a file's size in memory)")
        .default(DEFAULT_MAX_MANIFEST_FILE_BYTES / (1024 * 1024))
        .argParser(parseMib),
    )
    .action(async (opts: TranslateOptions) => {
      const now = parseNow(opts.now);
      const { snapshot, warnings, rejected } = await loadManifests(opts.file, { maxFileBytes: opts.maxFileMib * 1024 * 1024 });
      for (const warning of warnings) process.stderr.write(`warning: ${warning}\n`);
      const output = translate({ snapshot, now });
      const docs = renderDocuments(snapshot, output, { showSecrets: opts.showSecrets === true });
      process.stdout.write(opts.output === 'json' ? toJsonList(docs) : toYamlStream(docs));
      // Like `kubectl apply -f`: the rest is translated and printed, and the exit code says that
      // some objects were refused (their refusals are among the warnings above).
      if (rejected.length > 0) process.exitCode = 1;
    });
}
