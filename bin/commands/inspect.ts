import * as os from 'node:os';
import type { Command } from 'commander';
import { ConfigError } from '../../lib/config';
import type { SiteId } from '../../lambdas/core/wire';
import { acknowledgeNotices, readClusterStatus, readNotice } from '../../client/status';
import { explainAwsError } from './aws';
import { awsOptions, loadConfig, siteOptionNamed, siteTables } from './options';
import { registerReadiness } from './readiness';
import { formatNotice, formatStatus } from './status';

/** Reading a deployed cluster: status, one notice, acknowledging notices. */
export function registerInspect(program: Command): void {
  awsOptions(program.command('status'))
    .description("Both sites' roles, epoch, each path's mode and health, last beat ages (reads each site's own region)")
    .option('--json', 'print JSON only')
    .action(async (opts: { cdkJson: string; context: string[]; region?: string; json?: boolean }) => {
      const config = loadConfig(opts.cdkJson, opts.context);
      const status = await readClusterStatus(config.clusterName, siteTables(config), Date.now());
      const unreachable = status.sites.filter((s) => !s.reachable);
      if (unreachable.length === status.sites.length)
        explainAwsError(new Error(unreachable[0]?.error ?? 'unreachable'));
      process.stdout.write(opts.json ? `${JSON.stringify(status)}\n` : `${formatStatus(status)}\n`);
    });

  registerReadiness(program);

  awsOptions(program.command('notice <id>'))
    .description(
      'Show one notice whole, as its topic delivered it, with its delivery and acknowledgement (from either region)',
    )
    .option('--site <site>', 'the site that raised it (default: either)', siteOptionNamed('--site'))
    .option('--json', 'print JSON only')
    .action(
      async (
        id: string,
        opts: { cdkJson: string; context: string[]; region?: string; site?: SiteId; json?: boolean },
      ) => {
        const config = loadConfig(opts.cdkJson, opts.context);
        let found;
        try {
          found = await readNotice(siteTables(config), id, opts.site);
        } catch (error) {
          explainAwsError(error);
        }
        if (found === undefined)
          throw new ConfigError(
            `notice ${id}: not in the journal of ${opts.site ?? 'either site'} (ids are listed by mirrorbeat status; notices expire after 14 days)`,
          );
        process.stdout.write(
          opts.json ? `${JSON.stringify(found)}\n` : `${formatNotice(found, config.notifications.runbookUrl)}\n`,
        );
      },
    );

  awsOptions(program.command('ack [ids...]'))
    .description(
      'Acknowledge notices (ids from mirrorbeat status or the notice itself): status then shows who took them',
    )
    .option('--all', 'every unacknowledged notice in the journal (of --site, if given)')
    .option('--site <site>', 'the site that raised the notices (default: either)', siteOptionNamed('--site'))
    .option('--by <name>', 'who acknowledges (default: your user name)')
    .option('--note <text>', 'a short note shown next to the acknowledgement', '')
    .option('--json', 'print JSON only')
    .action(
      async (
        ids: string[],
        opts: {
          cdkJson: string;
          context: string[];
          region?: string;
          all?: boolean;
          site?: SiteId;
          by?: string;
          note: string;
          json?: boolean;
        },
      ) => {
        if (ids.length === 0 && opts.all !== true)
          throw new ConfigError(
            'ack: name the notice ids to acknowledge (mirrorbeat status lists them), or pass --all',
          );
        if (ids.length > 0 && opts.all === true) throw new ConfigError('ack: give notice ids or --all, not both');
        const config = loadConfig(opts.cdkJson, opts.context);
        const by = opts.by ?? `cli:${os.userInfo().username}`;
        let results;
        try {
          results = await acknowledgeNotices(
            siteTables(config),
            { ids, all: opts.all === true, site: opts.site, by, note: opts.note },
            Date.now(),
          );
        } catch (error) {
          explainAwsError(error);
        }
        if (opts.json) process.stdout.write(`${JSON.stringify(results)}\n`);
        else
          for (const r of results)
            process.stdout.write(
              `${r.id}: ${r.outcome === 'unknown' ? 'no such notice in the journal (it may have expired after 14 days)' : r.outcome === 'already' ? 'already acknowledged' : `acknowledged by ${by} (${r.site ?? ''})`}\n`,
            );
        if (results.some((r) => r.outcome === 'unknown')) process.exitCode = 1;
      },
    );
}
