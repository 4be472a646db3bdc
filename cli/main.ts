// The `tlsgate` command: one binary, one subcommand per face of the project. Each
// subcommand lives next to the code it runs and registers itself here.
import { Command } from 'commander';
import { registerTranslate } from './translate.js';
import { registerStandaloneCommand } from '../proxy/standalone/command.js';
import { registerOperator } from '../operator/cli.js';
import { registerProxyCommand } from '../proxy/cli-proxy.js';

export function buildProgram(): Command {
  const program = new Command('tlsgate')
    .description('Gateway API TLSRoute for Kubernetes: translate, standalone proxy, operator')
    .showHelpAfterError()
    .exitOverride();
  registerTranslate(program);
  registerStandaloneCommand(program);
  registerOperator(program);
  registerProxyCommand(program);
  return program;
}

async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    const code = (err as { exitCode?: number }).exitCode;
    if (typeof code === 'number') process.exit(code);
    process.stderr.write(`tlsgate: ${(err as Error).message}\n`);
    process.exit(1);
  }
}

await main(process.argv);
