import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Command, CommanderError } from 'commander';
import { ConfigError, configFromContext, CONTEXT_KEY } from '../lib/config';

/** Exit statuses shared by every command (DESIGN.md): 2 for bad input, 1 for an internal error. */
const EXIT_BAD_INPUT = 2;

function readCdkContext(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new ConfigError(`${file}: cannot be read; run from the project folder or pass --cdk-json FILE`);
  }
  try {
    const json = JSON.parse(text) as { context?: Record<string, unknown> };
    return json.context ?? {};
  } catch (error) {
    throw new ConfigError(`${file}: not valid JSON (${(error as Error).message})`);
  }
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function buildCli(): Command {
  const program = new Command('mirrorbeat')
    .description('Two-region heartbeat over two independent paths, with fenced failover')
    .exitOverride()
    .showHelpAfterError();

  program
    .command('config')
    .description(`Validate and print the cluster configuration (the "${CONTEXT_KEY}" key of cdk.json, with -c overrides)`)
    .option('--cdk-json <file>', 'the cdk.json to read', 'cdk.json')
    .option('-c, --context <key=value>', `override one key, as with cdk: -c ${CONTEXT_KEY}.intervalSeconds=5`, collect, [])
    .option('--json', 'print JSON only')
    .action((opts: { cdkJson: string; context: string[]; json?: boolean }) => {
      const context = readCdkContext(path.resolve(opts.cdkJson));
      for (const pair of opts.context) {
        const at = pair.indexOf('=');
        if (at <= 0) throw new ConfigError(`-c ${pair}: expected key=value, such as ${CONTEXT_KEY}.intervalSeconds=5`);
        context[pair.slice(0, at)] = pair.slice(at + 1);
      }
      const config = configFromContext(context);
      const text = JSON.stringify(config, null, 2);
      process.stdout.write(opts.json ? `${text}\n` : `Configuration is valid.\n${text}\n`);
    });

  return program;
}

export function main(argv: string[]): void {
  try {
    buildCli().parse(argv);
  } catch (error) {
    if (error instanceof CommanderError) process.exit(error.exitCode === 0 ? 0 : EXIT_BAD_INPUT);
    if (error instanceof ConfigError) {
      process.stderr.write(`mirrorbeat: ${error.message}\n`);
      process.exit(EXIT_BAD_INPUT);
    }
    process.stderr.write(`mirrorbeat: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  }
}
