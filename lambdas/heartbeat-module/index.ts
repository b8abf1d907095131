import { performance } from 'node:perf_hooks';
import type { Context } from 'aws-lambda';
import { InvokeCommand } from '@aws-sdk/client-lambda';
import { deadline } from '../shared/deadlines';
import { cloudwatchClient, eventsClient, lambdaClientFor, regionOfArn, sfnClient } from '../shared/clients';
import { deployedNoticeDesk } from '../shared/desk';
import { logger, publishMetrics } from '../shared/observability';
import { siteParts } from '../shared/shell';
import { readSettings } from '../shared/settings';
import { Env, type HealthSources } from '../core/wire';
import { HealthProbe } from './health';
import { pathTimeoutMs } from './deps';
import { HeartbeatModule } from './module';
import { reclaimAfterMs } from './ticker';
import { TickTimings } from './tick-timing';
import { HANDOFF_MS, RUN_FOR_MS, runInvocation } from './driver';

const settings = readSettings();
const peerBusArn = settings.required(Env.peerBus);
const healthSources = settings.json<HealthSources>(Env.healthSources);
const heartbeatModule = new HeartbeatModule({
  settings,
  ...siteParts(settings),
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

/**
 * The EventBridge event CloudWatch sends when an alarm changes state (the stack's rule admits only the watched alarms).
 */
function isAlarmStateChange(event: unknown): event is { detail?: { alarmName?: string } } {
  return (
    typeof event === 'object' &&
    event !== null &&
    (event as Record<string, unknown>)['detail-type'] === 'CloudWatch Alarm State Change'
  );
}

/**
 * Invoked every minute by EventBridge Scheduler; the invocation that holds the site's ticker ticks every
 * intervalSeconds until a newer one takes over.
 */
export const handler = async (
  event: unknown,
  context: Pick<Context, 'getRemainingTimeInMillis' | 'awsRequestId'>,
): Promise<{ ticks: number } | { extraBeat: Record<string, unknown> }> => {
  if (isAlarmStateChange(event)) {
    // A watched alarm went to ALARM: beat now, on both paths, rather than at the next tick.
    const beat = await heartbeatModule.beatNow(Date.now(), performance.now());
    logger.info('extra beat on an alarm state change', { alarm: event.detail?.alarmName, ...beat });
    return { extraBeat: beat };
  }
  const intervalMs = settings.tuning.intervalSeconds * 1000;
  const timings = new TickTimings(pathTimeoutMs(settings.tuning.intervalSeconds));
  const outcome = await runInvocation(
    {
      mono: () => performance.now(),
      sleepUntil: async (atMono) => {
        const wait = atMono - performance.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      },
      claim: async (id) => {
        const nowMs = Date.now();
        return heartbeatModule.claimTicker(id, nowMs, nowMs + RUN_FOR_MS, HANDOFF_MS);
      },
      reclaimAfterMs: reclaimAfterMs(settings.tuning.intervalSeconds),
      begin: (id) => heartbeatModule.beginInvocation(id),
      step: async (kind) => {
        const tickMono = performance.now();
        const report = await heartbeatModule.tick(Date.now(), tickMono, kind);
        if (kind === 'tick') timings.record(performance.now() - tickMono, report.sent);
        publishMetrics(settings.cluster, settings.site, report.metrics, Date.now());
        if (kind === 'tick' && report.verdict !== 'ok')
          logger.info('tick', {
            serial: report.serial,
            sent: report.sent,
            states: report.states,
            phi: report.phi,
            verdict: report.verdict,
          });
        return report;
      },
      // Nothing escapes a tick: the next one may find the fault gone (a check that fails waits for it too).
      failed: (kind, error) =>
        logger.error(kind === 'tick' ? 'tick failed' : 'check between ticks failed', { error: String(error) }),
      alive: () => true,
    },
    context.awsRequestId,
    { intervalMs, remainingMs: context.getRemainingTimeInMillis() },
  );
  // One line an invocation: whether the ticks fit the path timeout at this memory size.
  if (outcome.claimed) logger.info('invocation summary', { ...timings.summary(), stopped: outcome.stopped });
  return { ticks: outcome.ticks };
};
