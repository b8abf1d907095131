import { SFNClient } from '@aws-sdk/client-sfn';
import type { Command } from 'commander';
import type { MirrorbeatConfig } from '../../lib/config';
import { peerOf, type SiteId } from '../../lambdas/core/wire';
import { explainAwsError } from './aws';
import { answerApproval, type FailoverRequest, findPendingApproval, formatFailoverOutcome } from './failover';
import { awsOptions, currentPrimary, loadConfig, siteOption, siteOptionNamed, stamp, stateMachineArn } from './options';
import { runWorkflow, type WorkflowOutcome } from './workflow';

/** Moving the primary role: failover, switchover, and the answer to a failover that waits for approval. */
export function registerRoles(program: Command): void {
  awsOptions(program.command('failover'))
    .description(
      'Fail over to a site now (its failover workflow, without the cooldown or approval), or rehearse it with --dry-run',
    )
    .option('--site <site>', 'the site to promote', siteOption, 'standby' as SiteId)
    .option(
      '--dry-run',
      'a drill: run every step, change nothing, report what would happen and how long each step took',
    )
    .option('--reason <text>', 'why, carried in the decision record')
    .option('--json', 'print JSON only')
    .action(async (opts: FailoverCliOptions) =>
      runFailoverCli(loadConfig(opts.cdkJson, opts.context), 'failover', opts.site, opts),
    );
  awsOptions(program.command('switchover'))
    .description(
      'Planned handover to a site: the primary stops and confirms over the heartbeat volume, then the site is fenced in and promoted. Failback is a switchover back.',
    )
    .option(
      '--to <site>',
      'the site to promote (default: the one that is secondary now, read from the cluster record)',
      siteOptionNamed('--to'),
    )
    .option('--dry-run', 'run every step, change nothing, report what would happen')
    .option('--reason <text>', 'why, carried in the decision record')
    .option('--json', 'print JSON only')
    .action(async (opts: FailoverCliOptions & { to?: SiteId }) => {
      const config = loadConfig(opts.cdkJson, opts.context);
      return runFailoverCli(config, 'switchover', opts.to ?? peerOf(await currentPrimary(config)), opts);
    });
  for (const decision of ['approve', 'reject'] as const) {
    awsOptions(program.command(decision))
      .description(
        `${decision === 'approve' ? 'Approve' : 'Reject'} the failover that waits for approval (failoverMode approval)`,
      )
      .option('--site <site>', 'the site whose failover waits', siteOption, 'standby' as SiteId)
      .option('--execution <name>', 'the execution, when more than one waits (default: the newest)')
      .option('--reason <text>', 'why, recorded in the execution history')
      .action(async (opts: ApprovalCliOptions) =>
        runApprovalCli(loadConfig(opts.cdkJson, opts.context), decision, opts),
      );
  }
}

interface FailoverCliOptions {
  cdkJson: string;
  context: string[];
  region?: string;
  site: SiteId;
  dryRun?: boolean;
  reason?: string;
  json?: boolean;
}

interface ApprovalCliOptions {
  cdkJson: string;
  context: string[];
  region?: string;
  site: SiteId;
  execution?: string;
  reason?: string;
}

/** `mirrorbeat failover` and `switchover`: start the site's failover workflow as an operator and follow it. */
async function runFailoverCli(
  config: MirrorbeatConfig,
  kind: 'failover' | 'switchover',
  site: SiteId,
  opts: FailoverCliOptions,
): Promise<void> {
  const { arn, region } = await stateMachineArn(config, site, 'failover', opts.region);
  const dryRun = opts.dryRun === true;
  const request: FailoverRequest = {
    kind,
    dryRun,
    requestedBy: `cli:${process.env.USER ?? 'operator'}`,
    reason: opts.reason ?? `mirrorbeat ${kind} from the CLI`,
  };
  const name = `cli-${dryRun ? 'drill' : kind}-${stamp()}`;
  if (!opts.json)
    process.stdout.write(`${dryRun ? `${kind} drill` : kind} to ${site} through its failover workflow (${name})...\n`);
  let outcome: WorkflowOutcome;
  try {
    outcome = await runWorkflow(new SFNClient({ region }), arn, request, {
      name,
      timeoutMs: 30 * 60_000,
      onStatus: () => (opts.json ? undefined : process.stdout.write('.')),
    });
  } catch (error) {
    return explainAwsError(error);
  }
  process.stdout.write(opts.json ? `${JSON.stringify(outcome)}\n` : `\n${formatFailoverOutcome(request, outcome)}\n`);
  if (outcome.status !== 'SUCCEEDED') process.exitCode = 1;
}

/** `mirrorbeat approve` / `reject`: answer the failover that waits, found from its execution history. */
async function runApprovalCli(
  config: MirrorbeatConfig,
  decision: 'approve' | 'reject',
  opts: ApprovalCliOptions,
): Promise<void> {
  const { arn, region } = await stateMachineArn(config, opts.site, 'failover', opts.region);
  const sfn = new SFNClient({ region });
  try {
    const pending = await findPendingApproval(sfn, arn, opts.execution);
    if (pending === undefined) {
      process.stderr.write(
        `mirrorbeat: no failover of ${opts.site}${opts.execution ? ` named ${opts.execution}` : ''} waits for approval; see mirrorbeat status\n`,
      );
      process.exitCode = 1;
      return;
    }
    await answerApproval(
      sfn,
      pending,
      decision,
      `cli:${process.env.USER ?? 'operator'}`,
      opts.reason ?? `${decision} from the CLI`,
    );
    process.stdout.write(`${decision === 'approve' ? 'approved' : 'rejected'}: ${pending.name}\n`);
  } catch (error) {
    return explainAwsError(error);
  }
}
