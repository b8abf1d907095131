import type { Command } from 'commander';
import { ConfigError, CONTEXT_KEY, describeRoles } from '../../lib/config';
import { configWarnings } from '../../lib/config-warnings';
import type { SiteId } from '../../lambdas/core/wire';
import type * as Dashboard from '../../local/dashboard';
import type * as Definitions from '../../local/definitions';
import type * as Preflight from './preflight';
import { collect, loadConfig, siteOption } from './options';

// The CDK synthesis and the AWS SDK clients load only when a command needs them (rehearse.ts says why).
/* eslint-disable @typescript-eslint/no-require-imports */
const dashboard = () => require('../../local/dashboard') as typeof Dashboard;
const definitions = () => require('../../local/definitions') as typeof Definitions;
const preflights = () => require('./preflight') as typeof Preflight;
/* eslint-enable @typescript-eslint/no-require-imports */

/** Before and around a deploy: the configuration, the dashboard it synthesizes, the preflight. */
export function registerSetup(program: Command): void {
  program
    .command('config')
    .description(
      `Validate and print the cluster configuration (the "${CONTEXT_KEY}" key of cdk.json, with -c overrides)`,
    )
    .option('--cdk-json <file>', 'the cdk.json to read', 'cdk.json')
    .option(
      '-c, --context <key=value>',
      `override one key, as with cdk: -c ${CONTEXT_KEY}.intervalSeconds=5`,
      collect,
      [],
    )
    .option('--json', 'print JSON only')
    .action((opts: { cdkJson: string; context: string[]; json?: boolean }) => {
      const config = loadConfig(opts.cdkJson, opts.context);
      for (const warning of configWarnings(config)) process.stderr.write(`mirrorbeat: warning: ${warning}\n`);
      const text = JSON.stringify(config, null, 2);
      process.stdout.write(opts.json ? `${text}\n` : `Configuration is valid.\n${describeRoles(config)}\n${text}\n`);
    });

  program
    .command('preflight')
    .description(
      'Before the first deploy: credentials, regions enabled, CDK bootstrap, names still held by retained resources, Lambda concurrency, notification addresses (read-only calls)',
    )
    .option('--cdk-json <file>', 'the cdk.json that names the cluster and its regions', 'cdk.json')
    .option(
      '-c, --context <key=value>',
      `override one key, as with cdk: -c ${CONTEXT_KEY}.clusterName=orders`,
      collect,
      [],
    )
    .option('--json', 'print JSON only')
    .action(async (opts: { cdkJson: string; context: string[]; json?: boolean }) => {
      const { formatPreflight, preflight, sdkClients } = preflights();
      const results = await preflight(loadConfig(opts.cdkJson, opts.context), sdkClients());
      process.stdout.write(opts.json ? `${JSON.stringify(results)}\n` : `${formatPreflight(results)}\n`);
      if (results.some((r) => r.status === 'fail')) process.exitCode = 1;
    });

  program
    .command('dashboard')
    .description(
      "Sketch a site's CloudWatch dashboard as synthesized from the configuration: its widget grid in ASCII (nothing is deployed or called)",
    )
    .option('--cdk-json <file>', 'the cdk.json whose configuration to synthesize', 'cdk.json')
    .option('-c, --context <key=value>', `override one key: -c ${CONTEXT_KEY}.phiThreshold=10`, collect, [])
    .option('--site <site>', 'the site whose dashboard to sketch', siteOption, 'production' as SiteId)
    .option('--json', 'print the dashboard body (the JSON CloudFormation deploys) instead')
    .action((opts: { cdkJson: string; context: string[]; site: SiteId; json?: boolean }) => {
      const body = definitions().synthesizeDefinitions(loadConfig(opts.cdkJson, opts.context))[opts.site].dashboard;
      if (body === null) throw new ConfigError(`the ${opts.site} site has no dashboard`);
      process.stdout.write(opts.json ? `${JSON.stringify(body)}\n` : `${dashboard().sketchDashboard(body)}\n`);
    });
}
