import { InvokeCommand } from '@aws-sdk/client-lambda';
import { ListSubscriptionsByTopicCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { Notice } from '../core/notices';
import { parseRecorded } from '../core/quorum';
import {
  parseReadiness,
  type ReadinessCheck,
  type ReadinessReport,
  readinessChange,
  recordedReadiness,
  reportOf,
} from '../core/readiness';
import { StepError } from '../core/steps';
import { deadline, deadlineSignal, REMOTE_CALL_DEADLINE_MS } from '../shared/deadlines';
import { plannedActions, rehearseAction } from './actions';
import { cooldownGate, type GateCheck, replicationGate } from './gates';
import { ebsReadinessGate } from './readiness';
import type { FailoverDeps, FailoverOptions } from './steps';

/**
 * Continuous failover readiness: "would a failover to this site succeed now?", asked on a schedule (default every 30
 * minutes) and by `mirrorbeat readiness`, long before a disaster asks it. Every check reads; none writes, starts or
 * sends anything the workload sees. What a check cannot reach is a failed check, named.
 */
export interface ReadinessDeps extends FailoverDeps {
  readonly sns: SNSClient;
  /** The critical topic: an approval request goes there (a failover-started notice). */
  readonly approvalTopic: string | undefined;
}

/** The automatic failover the cooldown binds: a live peer reporting its workload failed. */
const AUTOMATIC: FailoverOptions = {
  kind: 'failover',
  dryRun: true,
  requestedBy: 'heartbeat-module',
  reason: 'peer-failure-reported',
  gated: false,
};

/** A check that could not run fails, with what it could not reach. */
async function settle(
  name: string,
  check: () => Promise<ReadinessCheck | ReadinessCheck[]>,
): Promise<ReadinessCheck[]> {
  try {
    return [await check()].flat();
  } catch (error) {
    const e = error as { name?: string; message?: string };
    const message = (e.message ?? String(error)).split('\n')[0];
    // A step's own refusal is a finding (a target that is not there), said as the failover would say it.
    if (error instanceof StepError) return [{ name, ok: false, reason: message ?? '' }];
    return [{ name, ok: false, reason: `could not check: ${e.name ?? 'Error'}: ${message}` }];
  }
}

const fromGate = (gate: GateCheck): ReadinessCheck => ({ name: gate.gate, ok: gate.passed, reason: gate.evidence });

export async function failoverReadiness(deps: ReadinessDeps): Promise<ReadinessReport> {
  const { settings, store } = deps;
  const atMs = deps.now();
  let primary: string | undefined;
  const role = await settle('cluster-record', async () => {
    // A strong read in quorum mode: it succeeds only with a majority, as the fence's write would.
    const cluster = await store.readCluster(deadlineSignal(REMOTE_CALL_DEADLINE_MS));
    primary = cluster.primary;
    return {
      name: 'role',
      ok: true,
      reason:
        cluster.primary === settings.site
          ? `${settings.site} is primary at epoch ${cluster.epoch}: a failover would promote ${settings.peer}, which checks its own readiness`
          : `${settings.site} is secondary at epoch ${cluster.epoch}, ${cluster.primary} is primary: a failover would promote ${settings.site}`,
    };
  });
  if (primary === settings.site) return reportOf(settings.site, atMs, role);
  const ebs = deps.readiness;
  const checks = await Promise.all([
    settle('failover-mode', () => modeCheck(deps)),
    settle('maintenance', () => maintenanceCheck(deps)),
    settle('quorum', () => quorumCheck(deps)),
    settle('replication-lag', async () => fromGate(await replicationGate(deps))),
    settle('cooldown', () => cooldownCheck(deps)),
    ...(ebs === undefined ? [] : [settle('ebs-readiness', async () => fromGate(await ebsReadinessGate(ebs, deps)))]),
    ...actionChecks(deps),
    settle('fence-hook', () => hookCheck(deps, deps.fenceHook, 'fence hook')),
  ]);
  return reportOf(settings.site, atMs, [...role, ...checks.flat()]);
}

/** An automatic failover that waits for approval needs someone to ask. */
async function modeCheck(deps: ReadinessDeps): Promise<ReadinessCheck> {
  const { failoverMode } = deps.settings.tuning;
  const name = 'failover-mode';
  if (failoverMode === 'automatic')
    return { name, ok: true, reason: 'automatic: this site promotes itself when it loses its peer on every path' };
  if (failoverMode === 'manual')
    return {
      name,
      ok: true,
      reason: `manual: nothing fails over by itself; a person runs npx mirrorbeat failover --site ${deps.settings.site}`,
    };
  if (deps.approvalTopic === undefined) return { name, ok: false, reason: 'approval: no critical topic configured' };
  let confirmed = 0;
  let pending = 0;
  let token: string | undefined;
  do {
    const page = await deps.sns.send(
      new ListSubscriptionsByTopicCommand({ TopicArn: deps.approvalTopic, NextToken: token }),
      deadline(),
    );
    for (const s of page.Subscriptions ?? [])
      if (s.SubscriptionArn === 'PendingConfirmation') pending += 1;
      else if (s.SubscriptionArn !== undefined && s.SubscriptionArn !== 'Deleted') confirmed += 1;
    token = page.NextToken;
  } while (token !== undefined);
  if (confirmed > 0)
    return {
      name,
      ok: true,
      reason: `approval: ${confirmed} confirmed subscription(s) to the critical topic receive the approval request`,
    };
  return {
    name,
    ok: false,
    reason: `approval: no confirmed subscription to the critical topic${pending > 0 ? ` (${pending} pending confirmation)` : ''}: nobody receives the approval request, and an automatic failover would time out unapproved; subscribe someone (notifications.criticalEmails) and confirm it`,
  };
}

async function maintenanceCheck(deps: ReadinessDeps): Promise<ReadinessCheck> {
  const m = await deps.store.readMaintenance(deadlineSignal(REMOTE_CALL_DEADLINE_MS));
  if (m?.on !== true) return { name: 'maintenance', ok: true, reason: 'maintenance mode is off' };
  return {
    name: 'maintenance',
    ok: false,
    reason: `maintenance mode on since ${new Date(m.sinceMs).toISOString()} by ${m.by}${m.reason === '' ? '' : ` (${m.reason})`}: no automatic failover; end it: npx mirrorbeat maintenance off`,
  };
}

/** Quorum mode: the votes as this site's heartbeat module last recorded them (core/quorum.ts). */
async function quorumCheck(deps: ReadinessDeps): Promise<ReadinessCheck> {
  const { settings } = deps;
  if (settings.tuning.consistency !== 'strong')
    return { name: 'quorum', ok: true, reason: 'two-region mode: no witness, no quorum to lose' };
  const view = await deps.store.views.readView(settings.site, deadlineSignal(REMOTE_CALL_DEADLINE_MS));
  const q = parseRecorded(view?.quorum);
  if (q === undefined)
    return { name: 'quorum', ok: true, reason: 'no quorum recorded yet by this site’s heartbeat module' };
  const seen = `majority ${q.majority ? 'reached' : 'NOT reached'}, ${settings.peer}'s replica ${q.peerReplica}, witness ${q.witness}`;
  return q.degraded
    ? {
        name: 'quorum',
        ok: false,
        reason: `quorum degraded since ${String(view?.quorumSince)} (${seen}): one more fault and no region has a majority, so no failover can happen`,
      }
    : { name: 'quorum', ok: true, reason: `whole: ${seen}` };
}

/** The cooldown holds only a failover away from a live peer that reports its workload failed; a lost one never. */
async function cooldownCheck(deps: ReadinessDeps): Promise<ReadinessCheck> {
  const gate = await cooldownGate(AUTOMATIC, deps);
  return {
    name: 'cooldown',
    ok: true,
    reason: gate.passed
      ? `not held: ${gate.evidence}`
      : `a failover on a reported workload failure is held until ${String(gate.until)}; a lost primary is never held`,
  };
}

/** Each promotion action read as a drill reads it: its target must exist and be readable with the granted rights. */
function actionChecks(deps: ReadinessDeps): Promise<ReadinessCheck[]>[] {
  const site = deps.settings.site;
  const planned = plannedActions(deps, site);
  const moving = planned.filter((p) => p.action !== 'site-promoted-event');
  const none: Promise<ReadinessCheck[]>[] =
    moving.length > 0
      ? []
      : [
          Promise.resolve([
            {
              name: 'promotion-actions',
              ok: true,
              reason:
                'none configured: a failover moves the cluster record and puts SitePromoted on the site bus; nothing of your workload moves (see promotion.* in the configuration)',
            },
          ]),
        ];
  return [
    ...none,
    ...planned.map((p) =>
      settle(`action:${p.action}`, async () => {
        if (p.action === 'hook') return hookCheck(deps, deps.promotionHook, 'promotion hook', `action:${p.action}`);
        if (p.action === 'arc-routing-controls')
          return {
            name: `action:${p.action}`,
            ok: true,
            reason: `${p.target}: not read (Route 53 ARC's cluster endpoints are called only during a failover)`,
          };
        const done = await rehearseAction(deps, p, site, 'failover');
        return { name: `action:${p.action}`, ok: true, reason: `${done.target}: ${done.detail}` };
      }),
    ),
  ];
}

/** A hook is invoked with Lambda's DryRun: the function exists and this site may invoke it; nothing runs. */
async function hookCheck(
  deps: ReadinessDeps,
  arn: string | undefined,
  what: string,
  name = 'fence-hook',
): Promise<ReadinessCheck> {
  if (arn === undefined)
    return {
      name,
      ok: true,
      reason: `no ${what}: the old primary is fenced by the epoch write and the fence message; its workload stops only where something acts on them (promotion.capacity.whenFenced, or your own consumer of the site bus)`,
    };
  const out = await deps
    .lambdaFor(arn)
    .send(new InvokeCommand({ FunctionName: arn, InvocationType: 'DryRun' }), deadline());
  return { name, ok: true, reason: `${arn}: invocable (DryRun answered ${out.StatusCode ?? 'no status'})` };
}

/**
 * Runs the check, records it in this site's view and, when the verdict changed, announces it. Returns the report and
 * the notice it raised, if any.
 */
export async function checkReadiness(deps: ReadinessDeps): Promise<{ report: ReadinessReport; notice: Notice | null }> {
  const { settings } = deps;
  const report = await failoverReadiness(deps);
  // Without a majority the view cannot be written: the report is still returned and the metric still published.
  const previous = await deps.store.views
    .recordView(
      settings.site,
      'readiness',
      recordedReadiness(report),
      report.atMs,
      `readiness-${report.atMs}`,
      deadlineSignal(REMOTE_CALL_DEADLINE_MS),
    )
    .catch(() => false as const);
  if (previous === false) return { report, notice: null };
  const kind = readinessChange(previous === null ? undefined : parseReadiness(previous), report);
  if (kind === null) return { report, notice: null };
  const failing = report.checks.filter((c) => !c.ok);
  const notice: Notice = {
    kind,
    site: settings.site,
    region: settings.region,
    cluster: settings.cluster,
    atMs: report.atMs,
    detail: {
      why:
        kind === 'readiness-failed'
          ? failing.map((c) => `${c.name}: ${c.reason}`).join('; ')
          : `every check passes again (${report.checks.length} checks)`,
      failing: failing.map((c) => c.name),
      next:
        kind === 'readiness-failed'
          ? `mend what the failing checks name before a failover needs them; see every check: npx mirrorbeat readiness --site ${settings.site} --region ${settings.region}`
          : 'nothing: a failover to this site would succeed as far as it can be checked in advance',
    },
  };
  await deps.notices.announce(notice, report.atMs);
  return { report, notice };
}
