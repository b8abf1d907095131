import { performance } from 'node:perf_hooks';
import type { Context } from 'aws-lambda';
import { InvokeCommand } from '@aws-sdk/client-lambda';
import { deadline } from '../shared/deadlines';
import {
  cloudwatchClient,
  documentClient,
  eventsClient,
  lambdaClientFor,
  regionOfArn,
  secretsClient,
  sfnClient,
} from '../shared/clients';
import { SigningKeys } from '../shared/keys';
import { deployedNoticeDesk } from '../shared/desk';
import { logger, publishMetrics } from '../shared/observability';
import { readSettings } from '../shared/settings';
import { SiteStore } from '../shared/store';
import { Env, type HealthSources } from '../core/wire';
import { HealthProbe } from './health';
import { pathTimeoutMs } from './deps';
import { HeartbeatModule } from './module';

/** Stop this long before the Lambda timeout, and leave the next minute's invocation to carry on. */
const SAFETY_MS = 3_000;
const RUN_FOR_MS = 58_000;

const settings = readSettings();
const peerBusArn = settings.required(Env.peerBus);
const healthSources = settings.json<HealthSources>(Env.healthSources);
const heartbeatModule = new HeartbeatModule({
  settings,
  store: new SiteStore(
    documentClient(),
    settings.heartbeatVolume,
    settings.observations,
    settings.tuning.consistency === 'eventual',
  ),
  keys: new SigningKeys(secretsClient(), settings.required(Env.signingKey)),
  peerEvents: eventsClient(regionOfArn(peerBusArn)),
  peerBusArn,
  sfn: sfnClient(),
  failoverStateMachineArn: settings.optional(Env.failoverStateMachine),
  notices: deployedNoticeDesk(settings, pathTimeoutMs(settings.tuning.intervalSeconds)),
  fenceHook: fenceHookOf([settings.optional(Env.fenceHook), settings.optional(Env.workloadFence)]),
  health: new HealthProbe(healthSources, healthSources.alarmNames.length > 0 ? cloudwatchClient() : undefined),
  log: (level, message, detail) => logger[level](message, detail ?? {}),
});

/**
 * Your fence hook and the built-in workload fence (this site's failover steps), as one
 * function: asynchronous invokes, so a slow hook never holds the tick.
 */
function fenceHookOf(
  functionArns: readonly (string | undefined)[],
): ((event: Readonly<Record<string, unknown>>) => Promise<void>) | undefined {
  const targets = functionArns.filter((arn): arn is string => arn !== undefined);
  if (targets.length === 0) return undefined;
  return async (event) => {
    // Each target on its own: a hook that cannot be invoked does not keep the other from its event.
    const outcomes = await Promise.allSettled(
      targets.map((functionArn) =>
        lambdaClientFor(functionArn).send(
          new InvokeCommand({
            FunctionName: functionArn,
            InvocationType: 'Event',
            Payload: Buffer.from(JSON.stringify(event)),
          }),
          deadline(),
        ),
      ),
    );
    const failed = outcomes.flatMap((o, i) => (o.status === 'rejected' ? [`${targets[i]}: ${String(o.reason)}`] : []));
    if (failed.length > 0) throw new Error(failed.join('; '));
  };
}

/** The EventBridge event CloudWatch sends when an alarm changes state (the stack's rule admits only the watched alarms). */
function isAlarmStateChange(event: unknown): event is { detail?: { alarmName?: string } } {
  return (
    typeof event === 'object' &&
    event !== null &&
    (event as Record<string, unknown>)['detail-type'] === 'CloudWatch Alarm State Change'
  );
}

/** Invoked every minute by EventBridge Scheduler; ticks every intervalSeconds until just before the next invocation. */
export const handler = async (
  event: unknown,
  context: Pick<Context, 'getRemainingTimeInMillis'>,
): Promise<{ ticks: number } | { extraBeat: Record<string, unknown> }> => {
  if (isAlarmStateChange(event)) {
    // A watched alarm went to ALARM: beat now, on both paths, rather than at the next tick.
    const beat = await heartbeatModule.beatNow(Date.now(), performance.now());
    logger.info('extra beat on an alarm state change', { alarm: event.detail?.alarmName, ...beat });
    return { extraBeat: beat };
  }
  const startedAt = Date.now();
  heartbeatModule.beginInvocation();
  const intervalMs = settings.tuning.intervalSeconds * 1000;
  let ticks = 0;
  for (let next = startedAt; ; next += intervalMs) {
    const wait = next - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    if (Date.now() - startedAt >= RUN_FOR_MS || context.getRemainingTimeInMillis() < intervalMs + SAFETY_MS) break;
    try {
      const report = await heartbeatModule.tick(Date.now(), performance.now());
      publishMetrics(settings.cluster, settings.site, report.metrics);
      if (report.verdict !== 'ok')
        logger.info('tick', {
          serial: report.serial,
          sent: report.sent,
          states: report.states,
          verdict: report.verdict,
        });
    } catch (error) {
      // Nothing escapes a tick: the next one may find the fault gone.
      logger.error('tick failed', { error: String(error) });
    }
    ticks += 1;
  }
  return { ticks };
};
