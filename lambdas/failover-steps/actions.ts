import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { GetHealthCheckCommand, type Route53Client, UpdateHealthCheckCommand } from '@aws-sdk/client-route-53';
import {
  type Route53RecoveryClusterClient,
  UpdateRoutingControlStatesCommand,
} from '@aws-sdk/client-route53-recovery-cluster';
import { PutEventsCommand, type EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { RDSClient } from '@aws-sdk/client-rds';
import {
  DetailType,
  EVENT_SOURCE,
  type AuroraGlobalDatabase,
  type PromotionActions,
  type Route53FailoverRecord,
  type Route53Records,
  type SiteCapacity,
  type SiteId,
} from '../core/wire';
import { StepError } from '../core/steps';
import { deadline, HOOK_DEADLINE_MS } from '../shared/deadlines';
import { promoteAurora, rehearseAurora } from './aurora';
import {
  changeRecords,
  checkFailoverRecord,
  describe,
  planRecords,
  type Progress,
  setCapacity,
  type WorkloadClients,
} from './workload-actions';

export interface ActionDeps extends WorkloadClients {
  readonly actions: PromotionActions;
  readonly route53: Route53Client;
  readonly rds: RDSClient;
  /** A client for one Route 53 ARC cluster endpoint. */
  readonly arcFor: (endpoint: { readonly url: string; readonly region: string }) => Route53RecoveryClusterClient;
  readonly lambdaFor: (functionArn: string) => LambdaClient;
  readonly events: EventBridgeClient;
  readonly siteBus: string | undefined;
  readonly promotionHook: string | undefined;
  readonly now: () => number;
}

export type ActionName =
  | 'capacity'
  | 'aurora-global-database'
  | 'arc-routing-controls'
  | 'route53-health-check'
  | 'route53-records'
  | 'hook'
  | 'site-promoted-event';

/** What one promotion action did (or, in a drill, would do). */
export interface ActionTaken {
  readonly action: ActionName;
  readonly target: string;
  readonly detail: string;
  /** How long the action took, from its start to done (a drill takes none). */
  readonly tookMs?: number;
}

/**
 * Where a promotion stands: the actions done, and the one under way, if any. While one is under
 * way the workflow waits and runs the promote step again with this as its previous result: the
 * actions done are not taken again, the one under way is looked at, not started again.
 */
export interface PromotionProgress {
  readonly actions: readonly ActionTaken[];
  readonly pending?: {
    readonly action: ActionName;
    readonly detail: string;
    readonly sinceMs: number;
    readonly ref: string;
  };
}

/** How long Route 53 may take to report a change INSYNC (it usually takes under a minute). */
const INSYNC_WAIT_MS = 300_000;

/**
 * The promotion actions, in order: the promoted region's capacity first (so it can take the
 * traffic), then its database (the Aurora writer), then traffic (Route 53 ARC routing
 * controls, the failover record's health check, the Route 53 record pair), then the user's
 * hook, then the SitePromoted event. Each sets a state rather than toggling one, so running
 * them again is harmless: a failover started again after a failed promote resumes here.
 */
export function plannedActions(deps: ActionDeps, promoted: SiteId): ActionTaken[] {
  const { actions } = deps;
  const planned: ActionTaken[] = [];
  const capacity = actions.capacity?.[promoted];
  if (capacity !== undefined && capacity.autoScalingGroups.length + capacity.ecsServices.length > 0)
    planned.push({
      action: 'capacity',
      target: [
        ...capacity.autoScalingGroups.map((g) => g.name),
        ...capacity.ecsServices.map((e) => `${e.cluster}/${e.service}`),
      ].join(', '),
      detail: [
        ...capacity.autoScalingGroups.map((g) => `${g.name} min ${g.minSize}, desired ${g.desiredCapacity}`),
        ...capacity.ecsServices.map((e) => `${e.cluster}/${e.service} desired ${e.desiredCount}`),
      ].join('; '),
    });
  const aurora = actions.auroraGlobalDatabase;
  if (aurora !== undefined)
    planned.push({
      action: 'aurora-global-database',
      target: aurora.globalClusterIdentifier,
      detail: `${aurora.clusterArns[promoted].split(':').at(-1)} the writer`,
    });
  if (actions.arc !== undefined) {
    const on = actions.arc.routingControls[promoted];
    const off = actions.arc.routingControls[promoted === 'production' ? 'standby' : 'production'];
    planned.push({ action: 'arc-routing-controls', target: `${on}, ${off}`, detail: `${promoted} On, the other Off` });
  }
  if (actions.route53FailoverRecord !== undefined) {
    // The health check guards the production (PRIMARY) failover record: inverted, Route 53 answers with the standby.
    planned.push({
      action: 'route53-health-check',
      target: actions.route53FailoverRecord.healthCheckId,
      detail: `Inverted ${promoted === 'standby'}`,
    });
  }
  const records = actions.route53Records;
  if (records !== undefined)
    planned.push({
      action: 'route53-records',
      target: `${records.recordName} ${records.recordType} in ${records.hostedZoneId}`,
      detail: describe(records, promoted),
    });
  if (deps.promotionHook !== undefined)
    planned.push({ action: 'hook', target: deps.promotionHook, detail: 'invoked with the decision record' });
  if (deps.siteBus !== undefined)
    planned.push({
      action: 'site-promoted-event',
      target: deps.siteBus,
      detail: `${DetailType.sitePromoted} on the site bus`,
    });
  return planned;
}

/**
 * What the actions would do (a drill): the ones that read first (capacity, Aurora, the record
 * pair) read now, so a drill finds a wrong name or a missing record before a failover does.
 */
export async function rehearseActions(
  deps: ActionDeps,
  promoted: SiteId,
  kind: 'failover' | 'switchover',
): Promise<ActionTaken[]> {
  return Promise.all(plannedActions(deps, promoted).map((planned) => rehearseAction(deps, planned, promoted, kind)));
}

/** What one planned action would do now: it reads its target where the action reads one first. */
export async function rehearseAction(
  deps: ActionDeps,
  planned: ActionTaken,
  promoted: SiteId,
  kind: 'failover' | 'switchover',
): Promise<ActionTaken> {
  switch (planned.action) {
    case 'capacity':
      return {
        ...planned,
        detail: `would set ${(await setCapacity(deps, deps.actions.capacity?.[promoted] as SiteCapacity, true)).join('; ')}`,
      };
    case 'aurora-global-database':
      return {
        ...planned,
        detail: await rehearseAurora(
          deps.rds,
          deps.actions.auroraGlobalDatabase as AuroraGlobalDatabase,
          promoted,
          kind,
        ),
      };
    case 'route53-records': {
      const plan = await planRecords(deps.route53, deps.actions.route53Records as Route53Records, promoted);
      return { ...planned, detail: plan.changes.length === 0 ? plan.detail : `would set ${plan.detail}` };
    }
    case 'route53-health-check': {
      const check = await checkFailoverRecord(
        deps.route53,
        deps.actions.route53FailoverRecord as Route53FailoverRecord,
      );
      if (!check.tied) throw new StepError('InvalidInput', `promotion.route53FailoverRecord: ${check.detail}`);
      return { ...planned, detail: `would set ${planned.detail}; ${check.detail}` };
    }
    case 'hook':
      return { ...planned, detail: 'would be invoked with the decision record' };
    case 'site-promoted-event':
      return { ...planned, detail: `would put ${planned.detail}` };
    default:
      return { ...planned, detail: `would set ${planned.detail}` };
  }
}

/**
 * Takes the actions in order, from where `previous` left off. An action that takes longer
 * than a step (the Aurora writer, a Route 53 change going INSYNC) ends the run with it
 * pending; one that stays pending past its limit fails the promotion.
 */
export async function takeActions(
  deps: ActionDeps,
  promoted: SiteId,
  decision: Record<string, unknown>,
  kind: 'failover' | 'switchover',
  previous: PromotionProgress | undefined,
): Promise<PromotionProgress> {
  const done = new Set((previous?.actions ?? []).map((a) => a.action));
  const taken: ActionTaken[] = [...(previous?.actions ?? [])];
  for (const planned of plannedActions(deps, promoted)) {
    if (done.has(planned.action)) continue;
    const resumed = previous?.pending?.action === planned.action ? previous.pending : undefined;
    const sinceMs = resumed?.sinceMs ?? deps.now();
    const progress = await runAction(deps, planned, promoted, decision, kind, resumed?.ref);
    if (!progress.done) {
      const limitMs =
        planned.action === 'aurora-global-database'
          ? (deps.actions.auroraGlobalDatabase?.waitSeconds ?? 900) * 1000
          : INSYNC_WAIT_MS;
      if (deps.now() - sinceMs > limitMs)
        throw new Error(
          `${planned.action} ${planned.target} not done after ${Math.round(limitMs / 1000)} s (${progress.detail}); see it in its console, then start the failover again to resume`,
        );
      return {
        actions: taken,
        pending: { action: planned.action, detail: progress.detail, sinceMs, ref: progress.ref },
      };
    }
    taken.push({ ...planned, detail: progress.detail, tookMs: deps.now() - sinceMs });
  }
  return { actions: taken };
}

async function runAction(
  deps: ActionDeps,
  planned: ActionTaken,
  promoted: SiteId,
  decision: Record<string, unknown>,
  kind: 'failover' | 'switchover',
  ref: string | undefined,
): Promise<Progress> {
  const finished = (detail: string): Progress => ({ done: true, detail });
  switch (planned.action) {
    case 'capacity':
      return finished((await setCapacity(deps, deps.actions.capacity?.[promoted] as SiteCapacity, false)).join('; '));
    case 'aurora-global-database':
      return promoteAurora(deps.rds, deps.actions.auroraGlobalDatabase as AuroraGlobalDatabase, promoted, kind, ref);
    case 'route53-records':
      return changeRecords(deps.route53, deps.actions.route53Records as Route53Records, promoted, ref);
    case 'arc-routing-controls':
      return finished(`${planned.detail} via ${await setRoutingControls(deps, promoted)}`);
    case 'route53-health-check': {
      const record = deps.actions.route53FailoverRecord as Route53FailoverRecord;
      const id = record.healthCheckId;
      // UpdateHealthCheck needs the current version; a concurrent change makes it retry.
      const current = await deps.route53.send(new GetHealthCheckCommand({ HealthCheckId: id }), deadline());
      await deps.route53.send(
        new UpdateHealthCheckCommand({
          HealthCheckId: id,
          Inverted: promoted === 'standby',
          HealthCheckVersion: current.HealthCheck?.HealthCheckVersion,
        }),
        deadline(),
      );
      // A promotion under way does not stop for a record that does not use the check; it says so.
      return finished(`${planned.detail}; ${(await checkFailoverRecord(deps.route53, record)).detail}`);
    }
    case 'hook': {
      const out = await deps
        .lambdaFor(planned.target)
        .send(
          new InvokeCommand({ FunctionName: planned.target, Payload: Buffer.from(JSON.stringify(decision)) }),
          deadline(HOOK_DEADLINE_MS),
        );
      if (out.FunctionError !== undefined)
        throw new Error(`promotion hook ${planned.target} failed: ${out.FunctionError}`);
      return finished(planned.detail);
    }
    case 'site-promoted-event': {
      const out = await deps.events.send(
        new PutEventsCommand({
          Entries: [
            {
              EventBusName: planned.target,
              Source: EVENT_SOURCE,
              DetailType: DetailType.sitePromoted,
              Detail: JSON.stringify(decision),
            },
          ],
        }),
      );
      if ((out.FailedEntryCount ?? 0) > 0)
        throw new Error(
          `the site bus refused the ${DetailType.sitePromoted} event: ${out.Entries?.[0]?.ErrorCode ?? 'unknown'}`,
        );
      return finished(planned.detail);
    }
  }
}

/**
 * Route 53 ARC's data plane is five regional cluster endpoints; any one of them may be
 * down, so each is tried in turn (what AWS recommends), and the first that answers wins.
 */
async function setRoutingControls(deps: ActionDeps, promoted: SiteId): Promise<string> {
  const arc = deps.actions.arc as NonNullable<PromotionActions['arc']>;
  const other: SiteId = promoted === 'production' ? 'standby' : 'production';
  const entries = [
    { RoutingControlArn: arc.routingControls[promoted], RoutingControlState: 'On' as const },
    { RoutingControlArn: arc.routingControls[other], RoutingControlState: 'Off' as const },
  ];
  const failures: string[] = [];
  for (const endpoint of arc.clusterEndpoints) {
    try {
      await deps
        .arcFor(endpoint)
        .send(new UpdateRoutingControlStatesCommand({ UpdateRoutingControlStateEntries: entries }), deadline());
      return endpoint.region;
    } catch (error) {
      failures.push(`${endpoint.region}: ${(error as Error).name}: ${(error as Error).message}`);
    }
  }
  throw new Error(`no Route 53 ARC cluster endpoint set the routing controls (${failures.join('; ')})`);
}
