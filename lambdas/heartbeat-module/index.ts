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
import { checkBefore } from '../core/site';
import { HeartbeatModule } from './module';
import { reclaimAfterMs } from './ticker';
import { TickTimings } from './tick-timing';

/** Stop this long before the Lambda timeout. */
const SAFETY_MS = 3_000;
/**
 * The handoff. One invocation ticks at a time, for up to RUN_FOR_MS (lib/site-stack.ts gives
 * the function this and a margin as its timeout), with its state in one container all along.
 * Scheduler still invokes every minute: an invocation that finds a live ticker with more than
 * HANDOFF_MS to run returns at once; one that finds the ticker near its end, or silent for
 * three intervals, claims it, and the old one stops at its next tick. So the next invocation
 * takes over before the last one ends, with up to HANDOFF_MS of Scheduler lateness to spare.
 */
const RUN_FOR_MS = 10 * 60_000;
const HANDOFF_MS = 90_000;

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

/** Invoked every minute by EventBridge Scheduler; the invocation that holds the site's ticker ticks every intervalSeconds until a newer one takes over. */
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
  const id = context.awsRequestId;
  const claim = (atMs: number) => heartbeatModule.claimTicker(id, atMs, atMs + RUN_FOR_MS, HANDOFF_MS);
  if (!(await claim(Date.now()))) {
    // The ticker may have died with its container just now: look once more when a dead one has been silent long enough.
    await new Promise((resolve) => setTimeout(resolve, reclaimAfterMs(settings.tuning.intervalSeconds)));
    if (!(await claim(Date.now()))) return { ticks: 0 };
  }
  const startedAt = Date.now();
  heartbeatModule.beginInvocation(id);
  const intervalMs = settings.tuning.intervalSeconds * 1000;
  const timings = new TickTimings(pathTimeoutMs(settings.tuning.intervalSeconds));
  let ticks = 0;
  for (let next = startedAt; ; next += intervalMs) {
    const wait = next - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    if (Date.now() - startedAt >= RUN_FOR_MS || context.getRemainingTimeInMillis() < intervalMs + SAFETY_MS) break;
    try {
      const [tickWall, tickMono] = [Date.now(), performance.now()];
      const report = await heartbeatModule.tick(tickWall, tickMono);
      timings.record(performance.now() - tickMono, report.sent);
      publishMetrics(settings.cluster, settings.site, report.metrics);
      if (report.superseded) {
        ticks += 1;
        break;
      }
      if (report.verdict !== 'ok')
        logger.info('tick', {
          serial: report.serial,
          sent: report.sent,
          states: report.states,
          phi: report.phi,
          verdict: report.verdict,
        });
      // A decision that would change before the next tick (a path's deadline, the confirmation window, the lease
      // gate, the standby's second read of the record) is checked then, not rounded up to the tick.
      const toMono = (atMs: number) => tickMono + (atMs - report.atMs);
      const nextTickMono = tickMono + (next + intervalMs - tickWall);
      for (let wake = report.wakeAtMs; wake !== undefined && checkBefore(toMono(wake), nextTickMono, intervalMs);) {
        const wait = toMono(wake) - performance.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        const checked = await heartbeatModule.tick(Date.now(), performance.now(), 'check').catch((error: unknown) => {
          // A check that fails waits for the next tick, which reads everything again.
          logger.error('check between ticks failed', { error: String(error) });
          return undefined;
        });
        if (checked === undefined) break;
        publishMetrics(settings.cluster, settings.site, checked.metrics);
        wake = checked.wakeAtMs;
      }
    } catch (error) {
      // Nothing escapes a tick: the next one may find the fault gone.
      logger.error('tick failed', { error: String(error) });
    }
    ticks += 1;
  }
  // One line an invocation: whether the ticks fit the path timeout at this memory size.
  logger.info('invocation summary', { ...timings.summary() });
  return { ticks };
};
