import { SFNClient } from '@aws-sdk/client-sfn';
import type { Command } from 'commander';
import { ConfigError, type MirrorbeatConfig } from '../../lib/config';
import { PATHS, type PathId, type SiteId } from '../../lambdas/core/wire';
import { explainAwsError } from './aws';
import { awsOptions, loadConfig, siteOption, stamp, stateMachineArn } from './options';
import { type PathRequest, runWorkflow, type WorkflowOutcome } from './workflow';

/** Switching a path on or off on both sites: `path activate|deactivate`, `mirror install|remove`. */
export function registerPaths(program: Command): void {
  const pathCommand = (action: 'activate' | 'deactivate', path: string, opts: PathCliOptions) =>
    runPathCli(
      loadConfig(opts.cdkJson, opts.context),
      {
        path: parsePathArg(path),
        action,
        reason: opts.reason ?? `mirrorbeat ${action} from the CLI`,
        force: opts.force === true,
      },
      opts,
    );
  const pathControl = program
    .command('path')
    .description('Switch a path on or off on both sites through the path-control workflow, and follow it to its end');
  for (const action of ['activate', 'deactivate'] as const) {
    awsOptions(pathControl.command(`${action} <path>`))
      .description(`${action} the network or storage path on both sites`)
      .option('--reason <text>', 'why, recorded in the path registry')
      .option('--force', 'allow disabling the last enabled path (the cluster is then unprotected)')
      .option('--site <site>', 'the site whose workflow runs the command', siteOption, 'production' as SiteId)
      .option('--json', 'print JSON only')
      .action(async (path: string, opts: PathCliOptions) => pathCommand(action, path, opts));
  }
  awsOptions(pathControl.command('set'))
    .description('switch both paths in one request command, applied at both sites with one acknowledgement')
    .option('--network <action>', 'activate or deactivate the network path', actionOption)
    .option('--storage <action>', 'activate or deactivate the storage path', actionOption)
    .option('--reason <text>', 'why, recorded in the path registry')
    .option('--force', 'allow leaving no working path (the cluster is then unprotected)')
    .option('--site <site>', 'the site whose workflow runs the command', siteOption, 'production' as SiteId)
    .option('--json', 'print JSON only')
    .action(async (opts: PathCliOptions & Partial<Record<PathId, 'activate' | 'deactivate'>>) => {
      const changes = PATHS.filter((p) => opts[p] !== undefined).map((p) => [p, opts[p]] as const);
      if (changes.length === 0) throw new ConfigError('path set: give --network <action>, --storage <action> or both');
      return runPathCli(
        loadConfig(opts.cdkJson, opts.context),
        {
          ...Object.fromEntries(changes),
          reason: opts.reason ?? `mirrorbeat path set from the CLI`,
          force: opts.force === true,
        },
        opts,
      );
    });
  const mirror = program
    .command('mirror')
    .description('Install or remove the storage mirror (the storage path) on both sites');
  for (const [verb, action] of [
    ['install', 'activate'],
    ['remove', 'deactivate'],
  ] as const) {
    awsOptions(mirror.command(verb))
      .description(`${verb} the heartbeat mirror: path ${action} storage`)
      .option('--reason <text>', 'why, recorded in the path registry')
      .option('--force', 'allow removing it when it is the last enabled path')
      .option('--site <site>', 'the site whose workflow runs the command', siteOption, 'production' as SiteId)
      .option('--json', 'print JSON only')
      .action(async (opts: PathCliOptions) => pathCommand(action, 'storage', opts));
  }
}

interface PathCliOptions {
  cdkJson: string;
  context: string[];
  region?: string;
  reason?: string;
  force?: boolean;
  site: SiteId;
  json?: boolean;
}

function actionOption(value: string): 'activate' | 'deactivate' {
  if (value !== 'activate' && value !== 'deactivate')
    throw new ConfigError(`action: got ${JSON.stringify(value)}; allowed: activate or deactivate`);
  return value;
}

function parsePathArg(value: string): PathId {
  if (!(PATHS as readonly string[]).includes(value))
    throw new ConfigError(`path: got ${JSON.stringify(value)}; allowed: network or storage`);
  return value as PathId;
}

async function runPathCli(config: MirrorbeatConfig, request: PathRequest, opts: PathCliOptions): Promise<void> {
  const { arn, region } = await stateMachineArn(config, opts.site, 'path-control', opts.region);
  const asked =
    'path' in request
      ? [[request.path, request.action] as const]
      : PATHS.filter((p) => request[p] !== undefined).map((p) => [p, request[p]] as const);
  const name = `cli-${asked.map(([p, a]) => `${a}-${p}`).join('-')}-${stamp()}`;
  const said = asked.map(([p, a]) => `${a} ${p}`).join(', ');
  if (!opts.json) process.stdout.write(`${said} through ${opts.site}'s path-control workflow (${name})...\n`);
  let outcome: WorkflowOutcome;
  try {
    outcome = await runWorkflow(new SFNClient({ region }), arn, request, {
      name,
      onStatus: () => (opts.json ? undefined : process.stdout.write('.')),
    });
  } catch (error) {
    return explainAwsError(error);
  }
  if (opts.json) process.stdout.write(`${JSON.stringify(outcome)}\n`);
  else
    process.stdout.write(
      outcome.status === 'SUCCEEDED'
        ? `\n${asked.map(([p, a]) => `${p} path ${a}d`).join(', ')} on both sites.\n`
        : `\n${outcome.status}: ${outcome.error ?? ''} ${outcome.cause ?? ''}\nThe local change was rolled back; see the command-refused notice and ${outcome.executionArn}.\n`,
    );
  if (outcome.status !== 'SUCCEEDED') process.exitCode = 1;
}
