import * as os from 'node:os';
import type { Command } from 'commander';
import { ConfigError } from '../../lib/config';
import { readHistory, formatHistory } from '../../client/history';
import { setMaintenance } from '../../client/maintenance';
import { SiteStore } from '../../lambdas/shared/store';
import { explainAwsError } from './aws';
import { awsOptions, loadConfig, siteTables } from './options';

/** Runtime controls of a deployed cluster, without a redeploy: maintenance mode, and the decisions taken so far. */
export function registerControls(program: Command): void {
  awsOptions(program.command('maintenance <state>'))
    .description(
      'Maintenance mode on or off, in both regions: while on, no automatic failover starts and a two-region self-fence primary does not step down for a silent standby (the quorum lease still holds); a reminder notice every hour',
    )
    .option('--reason <text>', 'why (required to switch on): shown in status, the notices and history')
    .option('--by <name>', 'who (default: your user name)')
    .option('--json', 'print JSON only')
    .action(
      async (
        state: string,
        opts: { cdkJson: string; context: string[]; region?: string; reason?: string; by?: string; json?: boolean },
      ) => {
        if (state !== 'on' && state !== 'off')
          throw new ConfigError(`maintenance: got ${JSON.stringify(state)}; allowed: on or off`);
        if (state === 'on' && (opts.reason === undefined || opts.reason.trim() === ''))
          throw new ConfigError(
            '--reason: required to switch maintenance on, such as --reason "CHG-42 database upgrade"',
          );
        if ((opts.reason ?? '').length > 200)
          throw new ConfigError(`--reason: got ${opts.reason?.length} characters; allowed: at most 200`);
        const config = loadConfig(opts.cdkJson, opts.context);
        const replicas = siteTables(config).map((t) => ({
          site: t.site,
          store: new SiteStore(t.db, t.heartbeatVolume, t.observations, config.consistency === 'eventual'),
        }));
        const writes = await setMaintenance(replicas, {
          on: state === 'on',
          reason: opts.reason ?? '',
          by: opts.by ?? os.userInfo().username,
          sinceMs: Date.now(),
        });
        if (writes.every((w) => !w.written)) explainAwsError(writes[0]?.failure);
        process.stdout.write(
          opts.json
            ? `${JSON.stringify(writes.map(({ failure: _, ...w }) => w))}\n`
            : `${writes
                .map((w) =>
                  w.written
                    ? `maintenance ${state}: written in ${w.site}'s region; its heartbeat module applies it within 20 s`
                    : `maintenance ${state}: NOT written in ${w.site}'s region (${w.error ?? ''}); replication carries the other region's write when it can`,
                )
                .join('\n')}\n`,
        );
      },
    );

  awsOptions(program.command('history'))
    .description(
      'Past decisions from the notice journal (14 days): failovers and their gates, aborts, promotions, demotions, path control, maintenance, who and why',
    )
    .option('--json', 'print JSON only')
    .action(async (opts: { cdkJson: string; context: string[]; region?: string; json?: boolean }) => {
      const config = loadConfig(opts.cdkJson, opts.context);
      const history = await readHistory(siteTables(config), Date.now());
      const { lastError, ...shown } = history;
      if (shown.unread.length === 2) explainAwsError(lastError);
      process.stdout.write(opts.json ? `${JSON.stringify(shown)}\n` : `${formatHistory(shown)}\n`);
    });
}
