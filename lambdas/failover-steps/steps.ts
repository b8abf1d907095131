import { sinceDecision } from './since-decision';
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { drainLimitMs } from '../core/lease';
import type { Heartbeat } from '../core/message';
import { executionName, FAILOVER_EXAMPLE, refuseUnknownKeys, resultOf, StepError, type StepInput } from '../core/steps';
import { allCountedPathsFailed, pathState, type PathState } from '../core/verdict';
import { clusterKey } from '../core/volume';
import { type EbsReadiness, PATHS, type PathId } from '../core/wire';
import type { SigningKeys } from '../shared/keys';
import type { Settings } from '../shared/settings';
import type { SiteStore } from '../shared/store';
import { failureOf, NOTIFY_STEP, type NotifyDeps, runNotifyStep } from '../shared/workflow-notices';
import { type ActionDeps, type PromotionProgress, rehearseActions, takeActions } from './actions';
import { fence } from './fence';
import { cooldownGate, replicationGate } from './gates';
import { ebsReadinessGate, type ReadinessDeps } from './readiness';

export const FAILOVER_STEPS = [
  'confirm',
  'gates',
  'drain',
  'check-drain',
  'cancel-drain',
  'fence',
  'promote',
  'verify',
  NOTIFY_STEP,
] as const;

export interface FailoverDeps extends ActionDeps, NotifyDeps, ReadinessDeps {
  /** readiness.ebs, when configured: the data readiness gate. */
  readonly readiness: EbsReadiness | undefined;
  readonly settings: Settings;
  readonly store: SiteStore;
  readonly db: DynamoDBDocumentClient;
  readonly peerCloudWatch: CloudWatchClient;
  /** Signs the fence message this site sends on the network path. */
  readonly keys: Pick<SigningKeys, 'current'>;
  readonly peerEvents: EventBridgeClient;
  readonly peerBusArn: string;
  readonly fenceHook: string | undefined;
  /** The peer's failover-steps function, for its workload fence (promotion.capacity.whenFenced: zero). */
  readonly peerWorkloadFence: string | undefined;
  readonly now: () => number;
}

/**
 * What an execution was asked to do, from its input (the console's or the CLI's JSON, or the
 * heartbeat module's). A bad field fails the first step with a message naming it.
 */
export interface FailoverOptions {
  /** failover: the peer is lost or failed; switchover: a planned handover from a live primary. */
  readonly kind: 'failover' | 'switchover';
  /** A drill: every step runs and reports, nothing is written, called or sent. */
  readonly dryRun: boolean;
  /** heartbeat-module for automatic starts; anything else is a person (the console, the CLI). */
  readonly requestedBy: string;
  readonly reason: string;
  /** The renewal of the old primary's lease the heartbeat module saw stand still past its lease: the fence names it. */
  readonly expectedLease?: number;
  /**
   * The lease gate passed before the start (quorum mode): the old primary cannot be acting, so the promoted site acts
   * at once.
   */
  readonly gated: boolean;
}

/** What a person types into the console (the heartbeat module adds the rest), and the keys the workflow's steps add. */
const INPUT_KEYS = ['kind', 'dryRun', 'reason', 'requestedBy', 'expectedEpoch'] as const;
const MODULE_KEYS = ['expectedLease', 'gated', 'from', 'to', 'evidence'] as const;
const RESULT_KEYS = [
  'confirm',
  'drain',
  'checkDrain',
  'cancelDrain',
  'gates',
  'approval',
  'fence',
  'promote',
  'verify',
  'error',
  'failure',
] as const;

export function optionsOf(state: Readonly<Record<string, unknown>>): FailoverOptions {
  refuseUnknownKeys(state, INPUT_KEYS, [...MODULE_KEYS, ...RESULT_KEYS], FAILOVER_EXAMPLE);
  const { kind = 'failover', dryRun = false, requestedBy = 'operator', reason } = state;
  if (kind !== 'failover' && kind !== 'switchover')
    throw new StepError('InvalidInput', `kind: got ${JSON.stringify(kind)}; allowed: failover or switchover`);
  if (typeof dryRun !== 'boolean')
    throw new StepError('InvalidInput', `dryRun: got ${JSON.stringify(dryRun)}; expected true or false`);
  if (typeof requestedBy !== 'string' || requestedBy.length === 0)
    throw new StepError(
      'InvalidInput',
      `requestedBy: got ${JSON.stringify(requestedBy)}; expected who asked, such as "operator"`,
    );
  if (reason !== undefined && typeof reason !== 'string')
    throw new StepError('InvalidInput', `reason: got ${JSON.stringify(reason)}; expected a short text`);
  const expected = state.expectedEpoch;
  if (expected !== undefined && !(typeof expected === 'number' && Number.isInteger(expected) && expected >= 1)) {
    throw new StepError(
      'InvalidInput',
      `expectedEpoch: got ${JSON.stringify(expected)}; expected the current epoch, an integer of at least 1, or leave it out`,
    );
  }
  const { expectedLease, gated = false } = state;
  if (
    expectedLease !== undefined &&
    !(typeof expectedLease === 'number' && Number.isInteger(expectedLease) && expectedLease >= 0)
  ) {
    throw new StepError(
      'InvalidInput',
      `expectedLease: got ${JSON.stringify(expectedLease)}; expected the lease renewal count the start saw, a whole number, or leave it out`,
    );
  }
  if (typeof gated !== 'boolean')
    throw new StepError('InvalidInput', `gated: got ${JSON.stringify(gated)}; expected true or false, or leave it out`);
  return {
    kind,
    dryRun,
    requestedBy,
    reason: reason ?? (kind === 'switchover' ? 'planned switchover' : requestedBy),
    ...(expectedLease === undefined ? {} : { expectedLease }),
    gated: gated && expectedLease !== undefined,
  };
}

/** The epoch the fence step wrote; the steps after it act on that epoch and never derive it again. */
function fencedEpoch(input: StepInput): number {
  const epoch = resultOf(input, 'fence')?.epoch;
  if (typeof epoch !== 'number' || !Number.isInteger(epoch))
    throw new StepError(
      'InvalidInput',
      `state.fence.result.epoch: got ${JSON.stringify(epoch)}; the ${input.step} step runs after the fence step`,
    );
  return epoch;
}

/** Each step's result says how long its handler took, so a drill can report where the time goes. */
export async function runFailoverStep(input: StepInput, deps: FailoverDeps): Promise<Record<string, unknown>> {
  // The notice of a failed run goes out even when the run's input was malformed. A drill sends
  // none: the state machine skips its notify states, and this guards the rest.
  if (input.step === NOTIFY_STEP)
    return input.state.dryRun === true
      ? {
          notice: null,
          delivery: 'drill',
          ...failureOf(input.state, { outcome: 'DrillFailed', next: 'a step failed in the drill; see $.error' }),
        }
      : runNotifyStep(input, deps);
  // How long the step took, as its clock says (virtual in the local runtime): shown to people, never decides.
  const started = deps.now();
  const options = optionsOf(input.state);
  const result = await runStep(input, options, deps);
  return { ...result, tookMs: Math.round(deps.now() - started) };
}

async function runStep(
  input: StepInput,
  options: FailoverOptions,
  deps: FailoverDeps,
): Promise<Record<string, unknown>> {
  const { settings, store } = deps;
  switch (input.step) {
    case 'confirm': {
      // Re-check both paths now: beats that came back while the workflow started abort it.
      const { states, ages, live, observed } = await peerPaths(deps);
      if (options.expectedLease !== undefined) {
        // And the lease: a renewal since the start means the old primary still acts (it reaches the witness).
        const record = await store.readCluster();
        if (record.epoch !== input.state.expectedEpoch || (record.lease ?? 0) !== options.expectedLease) {
          return {
            peerLost: false,
            reason: options.reason,
            states,
            beatAgesMs: ages,
            lease: { expected: options.expectedLease, now: record.lease ?? 0, epoch: record.epoch },
            why: `the cluster record moved since the start (epoch ${record.epoch}, lease renewal ${record.lease ?? 0}, expected ${options.expectedLease}): ${record.primary} still renews its lease`,
          };
        }
      }
      const since = sinceDecision(input, observed, states);
      if (since !== undefined) {
        // Counted, not timed: beats the module had not seen when it decided are what came back (no clock enters).
        const back = since.filter((b) => options.reason !== 'peer-stepped-down' || b.role === 'primary');
        return {
          peerLost: back.length === 0,
          reason: options.reason,
          states,
          beatAgesMs: ages,
          newBeats: since.map((b) => ({ serial: b.serial, role: b.role, epoch: b.epoch })),
          ...(back.length === 0
            ? {}
            : { why: `${settings.peer} beat again since the decision (serial ${back[0]?.serial})` }),
        };
      }
      const lost = allCountedPathsFailed(PATHS.map((p) => states[p]));
      if (options.reason === 'peer-failure-reported') {
        // The peer is alive and said its workload failed: go on while its newest beat still says so.
        const newest = live.sort((a, b) => b.serial - a.serial)[0];
        return {
          peerLost: lost || newest?.health === 'failed',
          reason: options.reason,
          peerHealth: newest?.health ?? null,
          states,
          beatAgesMs: ages,
        };
      }
      return { peerLost: lost, reason: options.reason, states, beatAgesMs: ages };
    }
    case 'gates': {
      // Side by side: each waits on another service under its own deadline.
      const checks = await Promise.all([
        replicationGate(deps),
        cooldownGate(options, deps),
        ...(deps.readiness === undefined ? [] : [ebsReadinessGate(deps.readiness, deps)]),
      ]);
      return { passed: checks.every((c) => c.passed), checks };
    }
    case 'drain': {
      const cluster = await store.readCluster();
      if (cluster.primary === settings.site) {
        throw new StepError(
          'CommandRefused',
          `${settings.site} is already primary at epoch ${cluster.epoch}: a switchover runs in the site it promotes; to hand back, run: mirrorbeat switchover --to ${settings.peer}`,
        );
      }
      const { states } = await peerPaths(deps);
      if (!PATHS.some((p) => states[p] === 'healthy' || states[p] === 'suspect')) {
        throw new StepError(
          'CommandRefused',
          `${settings.peer} is not beating on any enabled path (${PATHS.map((p) => `${p} ${states[p]}`).join(', ')}): a switchover needs a live primary to hand over; to take over from a lost one, run: mirrorbeat failover --site ${settings.site}`,
        );
      }
      if (options.dryRun)
        return {
          epoch: cluster.epoch,
          from: settings.peer,
          dryRun: true,
          would: `ask ${settings.peer} to stop acting as primary at epoch ${cluster.epoch}`,
        };
      const nowMs = deps.now();
      if (!(await store.requestHandover(cluster.epoch, settings.site, input.execution, nowMs))) {
        const now = await store.readCluster();
        throw new StepError(
          'CommandRefused',
          `the cluster record moved (epoch ${now.epoch}, primary ${now.primary}${now.handover ? `, handover to ${now.handover.to} pending for ${executionName(now.handover.execution)}` : ''}); check mirrorbeat status and try again`,
        );
      }
      return { epoch: cluster.epoch, from: settings.peer, requestedAtMs: nowMs };
    }
    case 'check-drain': {
      if (options.dryRun) return { drained: true, expired: false, dryRun: true };
      const { handover, epoch } = await store.readCluster();
      if (handover === undefined || handover.execution !== input.execution) {
        throw new StepError(
          'CommandRefused',
          `the handover this switchover asked for is gone (cluster record at epoch ${epoch}); another switchover or failover took over`,
        );
      }
      if (handover.drainedAtMs !== undefined)
        return { drained: true, expired: false, drainedAfterMs: handover.drainedAtMs - handover.requestedAtMs };
      const waitedMs = deps.now() - handover.requestedAtMs;
      const limitMs = drainLimitMs(settings.tuning);
      return {
        drained: false,
        expired: waitedMs > limitMs,
        waitedMs,
        ...(waitedMs > limitMs
          ? {
              detail: `${settings.peer} did not confirm the handover within ${limitMs} ms; the switchover is withdrawn and it stays primary`,
            }
          : {}),
      };
    }
    case 'cancel-drain': {
      if (options.kind !== 'switchover' || options.dryRun) return { cancelled: false };
      return { cancelled: await store.cancelHandover(input.execution) };
    }
    case 'fence':
      return fence(input, options, deps);
    case 'promote': {
      const epoch = fencedEpoch(input);
      const decision = {
        cluster: settings.cluster,
        promoted: settings.site,
        epoch,
        kind: options.kind,
        reason: options.reason,
        execution: executionName(input.execution),
        confirm: resultOf(input, 'confirm'),
        gates: resultOf(input, 'gates'),
      };
      if (options.dryRun)
        return { epoch, dryRun: true, actions: await rehearseActions(deps, settings.site, options.kind) };
      // Run again while an action is under way (the workflow's WaitForWorkload): it resumes where it stood.
      const previous = resultOf(input, 'promote') as PromotionProgress | undefined;
      return { epoch, ...(await takeActions(deps, settings.site, decision, options.kind, previous)) };
    }
    case 'verify': {
      const epoch = fencedEpoch(input);
      const record = await store.readCluster();
      const ok = options.dryRun
        ? record.primary !== settings.site && record.epoch === epoch - 1
        : record.epoch === epoch && record.primary === settings.site;
      if (ok && !options.dryRun) {
        // The promotion is complete: a second start for this epoch now does nothing.
        await deps.db.send(
          new UpdateCommand({
            TableName: settings.heartbeatVolume,
            Key: clusterKey(),
            UpdateExpression: 'SET verifiedAt = :at',
            ConditionExpression: 'epoch = :epoch',
            ExpressionAttributeValues: { ':at': new Date(deps.now()).toISOString(), ':epoch': epoch },
          }),
        );
      }
      return { ok, cluster: record, decision: decisionRecord(input, options, deps, epoch) };
    }
    default:
      throw new StepError(
        'InvalidInput',
        `step: got ${JSON.stringify(input.step)}; allowed: ${FAILOVER_STEPS.join(', ')}`,
      );
  }
}

/** The peer as the observations show it now, judged with the floor deadline (never stricter than the module). */
async function peerPaths(deps: FailoverDeps): Promise<{
  states: Record<PathId, PathState>;
  ages: Record<PathId, number | null>;
  live: Heartbeat[];
  observed: Partial<Record<PathId, Heartbeat>>;
}> {
  const { settings, store } = deps;
  const nowMs = deps.now();
  const states = {} as Record<PathId, PathState>;
  const ages = {} as Record<PathId, number | null>;
  const live: Heartbeat[] = [];
  const observed: Partial<Record<PathId, Heartbeat>> = {};
  for (const path of PATHS) {
    const [observation, mode] = await Promise.all([
      store.readObservation(path, settings.peer),
      store.paths.readPathMode(settings.site, path),
    ]);
    states[path] = pathState(
      { path, mode, lastValidArrivalMs: observation?.arrivedAtMs },
      nowMs,
      settings.tuning.deadlineFloorSeconds * 1000,
      settings.tuning.intervalSeconds * 1000,
    );
    ages[path] = observation === undefined ? null : nowMs - observation.arrivedAtMs;
    if (observation !== undefined && states[path] !== 'failed') live.push(observation.beat);
    if (observation !== undefined) observed[path] = observation.beat;
  }
  return { states, ages, live, observed };
}

/**
 * The decision record the promoted notice carries: why, on what evidence, through which gates, with what effect, how
 * fast.
 */
function decisionRecord(
  input: StepInput,
  options: FailoverOptions,
  deps: FailoverDeps,
  epoch: number,
): Record<string, unknown> {
  const { settings } = deps;
  const startedAtMs = typeof input.startedAt === 'string' ? Date.parse(input.startedAt) : NaN;
  const steps: Record<string, unknown> = {};
  for (const step of FAILOVER_STEPS) {
    const took = resultOf(input, step)?.tookMs;
    if (typeof took === 'number') steps[step] = took;
  }
  return {
    cluster: settings.cluster,
    kind: options.kind,
    dryRun: options.dryRun,
    reason: options.reason,
    requestedBy: options.requestedBy,
    from: settings.peer,
    to: settings.site,
    epoch,
    execution: executionName(input.execution),
    evidence: input.state.evidence ?? null,
    confirm: resultOf(input, 'confirm') ?? null,
    drain: resultOf(input, 'drain') ?? null,
    gates: resultOf(input, 'gates') ?? null,
    fence: resultOf(input, 'fence') ?? null,
    actions: resultOf(input, 'promote')?.actions ?? [],
    stepMs: steps,
    decisionToVerifiedMs: Number.isFinite(startedAtMs) ? deps.now() - startedAtMs : null,
  };
}
