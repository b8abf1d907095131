import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../lib/config';
import { LocalStartError } from '../local/start-error';
import { ScenarioError } from '../local/scenario';
import { AwsAccessError } from './commands/aws';
import { registerControls } from './commands/controls';
import { registerGameDay } from './commands/gameday';
import { registerInspect } from './commands/inspect';
import { registerPaths } from './commands/paths';
import { registerRehearse } from './commands/rehearse';
import { registerRoles } from './commands/roles';
import { registerSetup } from './commands/setup';

/** Exit statuses shared by every command (a contract): 2 for bad input, 1 for an internal error. */
const EXIT_BAD_INPUT = 2;

/** The mirrorbeat CLI: each command group lives in bin/commands/ and registers its commands here, in help order. */
export function buildCli(): Command {
  const program = new Command('mirrorbeat')
    .description('Two-region heartbeat over two independent paths, with fenced failover')
    .version(version(), '-V, --version', 'print the version')
    .exitOverride()
    .showHelpAfterError();
  registerSetup(program);
  registerInspect(program);
  registerPaths(program);
  registerRoles(program);
  registerControls(program);
  registerRehearse(program);
  registerGameDay(program);
  return program;
}

/** mirrorbeat's version, as its package.json says. */
function version(): string {
  const pkg = JSON.parse(readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

export async function main(argv: string[]): Promise<void> {
  try {
    await buildCli().parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) process.exit(error.exitCode === 0 ? 0 : EXIT_BAD_INPUT);
    if (error instanceof AwsAccessError) {
      process.stderr.write(`mirrorbeat: ${error.message}\n`);
      process.exit(1);
    }
    if (error instanceof LocalStartError) {
      process.stderr.write(`mirrorbeat: ${error.message}\n`);
      process.exit(1);
    }
    if (error instanceof ConfigError || error instanceof ScenarioError) {
      process.stderr.write(`mirrorbeat: ${error.message}\n`);
      process.exit(EXIT_BAD_INPUT);
    }
    process.stderr.write(
      `mirrorbeat: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  }
}
