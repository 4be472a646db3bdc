// The `tlsgate` command: one binary, one subcommand per face of the project. Each
// subcommand lives next to the code it runs and registers itself here.
//
// Subcommand modules are loaded only when their command runs: `tlsgate proxy` must not load
// the Kubernetes client (the proxy has no API access, and loading it costs seconds and
// tens of MB at every proxy start). Top-level help loads them all to list them.
import { createRequire } from 'node:module';
import { Command } from 'commander';

type Register = (program: Command) => void;

// package.json sits two levels above dist/cli/main.js, in the checkout and in the image alike.
const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };
const VERSION_FLAGS = new Set(['--version', '-V']);

const SUBCOMMANDS: Record<string, () => Promise<Register>> = {
  translate: async () => (await import('./translate.js')).registerTranslate,
  standalone: async () => (await import('../proxy/standalone/command.js')).registerStandaloneCommand,
  proxy: async () => (await import('../proxy/cli-proxy.js')).registerProxyCommand,
  operator: async () => (await import('../operator/cli.js')).registerOperator,
};

export async function buildProgram(argv: readonly string[]): Promise<Command> {
  const program = new Command('tlsgate')
    .description('Gateway API TLSRoute for Kubernetes: translate, standalone proxy, operator')
    .version(version, '-V, --version', 'print the tlsgate version')
    .showHelpAfterError()
    .exitOverride();
  const requested = argv[2];
  // --version needs no subcommand: loading them all would cost seconds for one line.
  const names = requested !== undefined && requested in SUBCOMMANDS ? [requested] : requested !== undefined && VERSION_FLAGS.has(requested) ? [] : Object.keys(SUBCOMMANDS);
  for (const name of names) (await SUBCOMMANDS[name]!())(program);
  return program;
}

async function main(argv: string[]): Promise<void> {
  try {
    const program = await buildProgram(argv);
    await program.parseAsync(argv);
  } catch (err) {
    const code = (err as { exitCode?: number }).exitCode;
    if (typeof code === 'number') process.exit(code);
    process.stderr.write(`tlsgate: ${(err as Error).message}\n`);
    process.exit(1);
  }
}

await main(process.argv);
