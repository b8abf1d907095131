import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { GetHealthCheckCommand, type Route53Client, UpdateHealthCheckCommand } from '@aws-sdk/client-route-53';
import {
  type Route53RecoveryClusterClient,
  UpdateRoutingControlStatesCommand,
} from '@aws-sdk/client-route53-recovery-cluster';
import { PutEventsCommand, type EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { DetailType, EVENT_SOURCE, type PromotionActions, type SiteId } from '../core/wire';
import { deadline, HOOK_DEADLINE_MS } from '../shared/deadlines';

export interface ActionDeps {
  readonly actions: PromotionActions;
  readonly route53: Route53Client;
  /** A client for one Route 53 ARC cluster endpoint. */
  readonly arcFor: (endpoint: { readonly url: string; readonly region: string }) => Route53RecoveryClusterClient;
  readonly lambdaFor: (functionArn: string) => LambdaClient;
  readonly events: EventBridgeClient;
  readonly siteBus: string | undefined;
  readonly promotionHook: string | undefined;
}

/** What one promotion action did (or, in a drill, would do). */
export interface ActionTaken {
  readonly action: 'arc-routing-controls' | 'route53-health-check' | 'hook' | 'site-promoted-event';
  readonly target: string;
  readonly detail: string;
}

/**
 * The promotion actions, in order: traffic first (Route 53 ARC routing controls, then the
 * failover record's health check), then the user's hook, then the SitePromoted event. Each
 * sets a state rather than toggling one, so running them again is harmless: a failover
 * started again after a failed promote resumes here.
 */
export function plannedActions(deps: ActionDeps, promoted: SiteId): ActionTaken[] {
  const { actions } = deps;
  const planned: ActionTaken[] = [];
  if (actions.arc !== undefined) {
    const on = actions.arc.routingControls[promoted];
    const off = actions.arc.routingControls[promoted === 'production' ? 'standby' : 'production'];
    planned.push({ action: 'arc-routing-controls', target: `${on}, ${off}`, detail: `${promoted} On, the other Off` });
  }
  if (actions.route53HealthCheckId !== undefined) {
    // The health check guards the production (PRIMARY) failover record: inverted, Route 53 answers with the standby.
    planned.push({
      action: 'route53-health-check',
      target: actions.route53HealthCheckId,
      detail: `Inverted ${promoted === 'standby'}`,
    });
  }
  if (deps.promotionHook !== undefined)
    planned.push({ action: 'hook', target: deps.promotionHook, detail: 'invoked with the decision record' });
  if (deps.siteBus !== undefined)
    planned.push({
      action: 'site-promoted-event',
      target: deps.siteBus,
      detail: `${EVENT_SOURCE} ${DetailType.sitePromoted}`,
    });
  return planned;
}

export async function takeActions(
  deps: ActionDeps,
  promoted: SiteId,
  decision: Record<string, unknown>,
): Promise<ActionTaken[]> {
  const taken: ActionTaken[] = [];
  for (const planned of plannedActions(deps, promoted)) {
    switch (planned.action) {
      case 'arc-routing-controls':
        taken.push({ ...planned, detail: `${planned.detail} via ${await setRoutingControls(deps, promoted)}` });
        break;
      case 'route53-health-check': {
        const id = deps.actions.route53HealthCheckId as string;
        const inverted = promoted === 'standby';
        // UpdateHealthCheck needs the current version; a concurrent change makes it retry.
        const current = await deps.route53.send(new GetHealthCheckCommand({ HealthCheckId: id }), deadline());
        await deps.route53.send(
          new UpdateHealthCheckCommand({
            HealthCheckId: id,
            Inverted: inverted,
            HealthCheckVersion: current.HealthCheck?.HealthCheckVersion,
          }),
          deadline(),
        );
        taken.push(planned);
        break;
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
        taken.push(planned);
        break;
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
        taken.push(planned);
        break;
      }
    }
  }
  return taken;
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
