import type { Command } from 'commander';
import type { MirrorbeatConfig } from '../../lib/config';
import { SiteNames } from '../../lib/names';
import { READINESS_EVENT, type ReadinessReport } from '../../lambdas/core/readiness';
import { peerOf, type SiteId } from '../../lambdas/core/wire';
import { AwsAccessError, explainAwsError } from './aws';
import { awsOptions, currentPrimary, loadConfig, siteOptionNamed, siteRegion } from './options';

/** `mirrorbeat readiness`: would a failover to a site succeed now? The site's own failover steps answer. */
export function registerReadiness(program: Command): void {
  awsOptions(program.command('readiness'))
    .description(
      "Would a failover to a site succeed now? Runs the site's readiness check (gates, quorum, approvers, promotion targets, hooks) with its own permissions; changes nothing",
    )
    .option(
      '--site <site>',
      'the site a failover would promote (default: the one that is secondary now, read from the cluster record)',
      siteOptionNamed('--site'),
    )
    .option('--json', 'print JSON only: { "ready": bool, "checks": [ { "name", "ok", "reason" } ] }')
    .action(async (opts: { cdkJson: string; context: string[]; region?: string; site?: SiteId; json?: boolean }) => {
      const config = loadConfig(opts.cdkJson, opts.context);
      const site = opts.site ?? peerOf(await currentPrimary(config));
      const report = await askReadiness(config, site, opts.region ?? siteRegion(config, site));
      process.stdout.write(
        opts.json
          ? `${JSON.stringify({ ready: report.ready, checks: report.checks })}\n`
          : `${formatReadiness(report)}\n`,
      );
    });
}

/** Invokes the site's failover steps with the readiness event and waits for the report. */
async function askReadiness(config: MirrorbeatConfig, site: SiteId, region: string): Promise<ReadinessReport> {
  const functionName = new SiteNames(config.clusterName, site).functionName('failover-steps');
  // Loaded when asked: the Lambda client is no part of --help.
  const { InvokeCommand, LambdaClient } = await import('@aws-sdk/client-lambda');
  let out;
  try {
    out = await new LambdaClient({ region }).send(
      new InvokeCommand({ FunctionName: functionName, Payload: Buffer.from(JSON.stringify(READINESS_EVENT)) }),
    );
  } catch (error) {
    return explainAwsError(error);
  }
  const text = Buffer.from(out.Payload ?? new Uint8Array()).toString('utf8');
  if (out.FunctionError !== undefined)
    throw new AwsAccessError(
      `the readiness check failed in ${site} (${functionName}, ${region}): ${text.slice(0, 300)}; see that function's log`,
    );
  return JSON.parse(text) as ReadinessReport;
}

/** The human view: the verdict, then one line per check. */
export function formatReadiness(report: ReadinessReport): string {
  const failing = report.checks.filter((c) => !c.ok).length;
  const width = Math.max(...report.checks.map((c) => c.name.length), 4);
  return [
    `failover readiness of ${report.site} at ${new Date(report.atMs).toISOString()}: ${report.ready ? 'READY' : `NOT READY (${failing} of ${report.checks.length} checks fail)`}`,
    ...report.checks.map((c) => `  ${c.ok ? 'ok  ' : 'FAIL'}  ${c.name.padEnd(width)}  ${c.reason}`),
  ].join('\n');
}
