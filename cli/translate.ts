// `tlsgate translate`: run translate on manifest files and print every object with its
// computed status, then each Gateway's proxy config. This is how users debug "why is my
// route not attached" without a cluster.
import { Command, Option } from 'commander';
import { translate } from '../src/gatewayapi/translate.js';
import { loadManifests } from '../src/manifests/load.js';
import { renderDocuments, toJsonList, toYamlStream } from '../src/manifests/render.js';

interface TranslateOptions {
  file: string[];
  output: 'yaml' | 'json';
  showSecrets?: boolean;
  now?: string;
}

function parseNow(value: string | undefined): Date {
  if (value === undefined) return new Date();
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw new Error(`--now: "${value}" is not an ISO 8601 date`);
  return date;
}

export function registerTranslate(program: Command): void {
  program
    .command('translate')
    .description('translate Gateway API manifests and print their statuses and proxy configs')
    .requiredOption('-f, --file <path...>', 'manifest files or directories (YAML, JSON, kubectl Lists)')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['yaml', 'json']).default('yaml'))
    .option('--show-secrets', 'print private keys in proxy configs (redacted by default)')
    .option('--now <iso-date>', 'evaluate certificate expiry at this time instead of the current time')
    .action(async (opts: TranslateOptions) => {
      const now = parseNow(opts.now);
      const { snapshot, warnings, rejected } = await loadManifests(opts.file);
      for (const warning of warnings) process.stderr.write(`warning: ${warning}\n`);
      const output = translate({ snapshot, now });
      const docs = renderDocuments(snapshot, output, { showSecrets: opts.showSecrets === true });
      process.stdout.write(opts.output === 'json' ? toJsonList(docs) : toYamlStream(docs));
      // Like `kubectl apply -f`: the rest is translated and printed, and the exit code says that
      // some objects were refused (their refusals are among the warnings above).
      if (rejected.length > 0) process.exitCode = 1;
    });
}
