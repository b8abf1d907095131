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

function parsePathArg(value: string): PathId {
  if (!(PATHS as readonly string[]).includes(value))
    throw new ConfigError(`path: got ${JSON.stringify(value)}; allowed: network or storage`);
  return value as PathId;
}

async function runPathCli(config: MirrorbeatConfig, request: PathRequest, opts: PathCliOptions): Promise<void> {
  const { arn, region } = await stateMachineArn(config, opts.site, 'path-control', opts.region);
  const name = `cli-${request.action}-${request.path}-${stamp()}`;
  if (!opts.json)
    process.stdout.write(
      `${request.action} ${request.path} through ${opts.site}'s path-control workflow (${name})...\n`,
    );
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
        ? `\n${request.path} path ${request.action}d on both sites.\n`
        : `\n${outcome.status}: ${outcome.error ?? ''} ${outcome.cause ?? ''}\nThe local change was rolled back; see the command-refused notice and ${outcome.executionArn}.\n`,
    );
  if (outcome.status !== 'SUCCEEDED') process.exitCode = 1;
}
