// Run by test/docs.test.ts in a child process (commander is an ES module, which Jest's runtime cannot load): parses
// each argv of the JSON file given with the CLI's own parser, every action replaced, and prints what it refused.
import { readFileSync } from 'node:fs';
import { type Command, CommanderError } from 'commander';
import { buildCli } from '../bin/cli';

/** The CLI with every action replaced: parsing is all that happens. */
function parserOnly(): Command {
  const program = buildCli();
  const quiet = (cmd: Command) => {
    cmd.configureOutput({ writeOut: () => {}, writeErr: () => {} });
    cmd.exitOverride();
    if (cmd.commands.length === 0) cmd.action(() => {});
    cmd.commands.forEach(quiet);
  };
  quiet(program);
  return program;
}

async function main(): Promise<void> {
  const argvs = JSON.parse(readFileSync(process.argv[2] ?? '', 'utf8')) as string[][];
  const refused: (string | null)[] = [];
  for (const argv of argvs) {
    try {
      await parserOnly().parseAsync(['node', 'mirrorbeat', ...argv]);
      refused.push(null);
    } catch (error) {
      refused.push(
        error instanceof CommanderError && error.exitCode === 0
          ? null
          : error instanceof Error
            ? error.message
            : String(error),
      );
    }
  }
  process.stdout.write(JSON.stringify(refused));
}

void main();
