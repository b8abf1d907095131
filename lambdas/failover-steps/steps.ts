import { GetMetricDataCommand, type CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { PutEventsCommand, type EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Heartbeat } from '../core/message';
import { executionName, StepError, type StepInput } from '../core/steps';
import { allCountedPathsFailed, pathState, type PathState } from '../core/verdict';
import { clusterKey, fenceKey, INITIAL_CLUSTER } from '../core/volume';
import { DetailType, EVENT_SOURCE, PATHS, type PathId } from '../core/wire';
import type { Settings } from '../shared/settings';
import type { SiteStore } from '../shared/store';

export const FAILOVER_STEPS = ['confirm', 'gates', 'fence', 'promote', 'verify'] as const;

export interface FailoverDeps {
  readonly settings: Settings;
  readonly store: SiteStore;
  readonly db: DynamoDBDocumentClient;
  readonly peerCloudWatch: CloudWatchClient;
  readonly events: EventBridgeClient;
  readonly lambdaFor: (functionArn: string) => LambdaClient;
  readonly siteBus: string | undefined;
  readonly promotionHook: string | undefined;
  readonly fenceHook: string | undefined;
  readonly now: () => number;
}

/** The epoch this failover promotes to: one above the epoch it was started for, or above the current one. */
async function targetEpoch(input: StepInput, deps: FailoverDeps): Promise<number> {
  const expected = input.state.expectedEpoch;
  if (typeof expected === 'number' && Number.isInteger(expected) && expected >= 1) return expected + 1;
  return (await deps.store.readCluster()).epoch + 1;
}

/** The epoch the fence step wrote; the steps after it act on that epoch and never derive it again. */
function fencedEpoch(input: StepInput): number {
  const epoch = (input.state.fence as { result?: { epoch?: unknown } } | undefined)?.result?.epoch;
  if (typeof epoch !== 'number' || !Number.isInteger(epoch)) throw new StepError('InvalidInput', `state.fence.result.epoch: got ${JSON.stringify(epoch)}; the ${input.step} step runs after the fence step`);
  return epoch;
}

export async function runFailoverStep(input: StepInput, deps: FailoverDeps): Promise<Record<string, unknown>> {
  const { settings, store } = deps;
  switch (input.step) {
    case 'confirm': {
      // Re-check both paths now: beats that came back while the workflow started abort it.
      const nowMs = deps.now();
      const states = {} as Record<PathId, PathState>;
      const ages = {} as Record<PathId, number | null>;
      const seen: Heartbeat[] = [];
      for (const path of PATHS) {
        const [observation, mode] = await Promise.all([store.readObservation(path, settings.peer), store.readPathMode(settings.site, path)]);
        states[path] = pathState({ path, mode, lastValidArrivalMs: observation?.arrivedAtMs }, nowMs, settings.tuning.deadlineFloorSeconds * 1000, settings.tuning.intervalSeconds * 1000);
        ages[path] = observation === undefined ? null : nowMs - observation.arrivedAtMs;
        if (observation !== undefined && states[path] !== 'failed') seen.push(observation.beat);
      }
      const lost = allCountedPathsFailed(PATHS.map((p) => states[p]));
      if (input.state.reason === 'peer-failure-reported') {
        // The peer is alive and said its workload failed: go on while its newest beat still says so.
        const newest = seen.sort((a, b) => b.serial - a.serial)[0];
        const stillFailed = lost || newest?.health === 'failed';
        return { peerLost: stillFailed, reason: 'peer-failure-reported', peerHealth: newest?.health ?? null, states, beatAgesMs: ages };
      }
      return { peerLost: lost, reason: 'peer-lost', states, beatAgesMs: ages };
    }
    case 'gates': {
      // Replication lag from the peer's region into ours; the metric lives in the peer's region.
      const end = new Date(deps.now());
      const out = await deps.peerCloudWatch.send(
        new GetMetricDataCommand({
          StartTime: new Date(end.getTime() - 5 * 60_000),
          EndTime: end,
          MetricDataQueries: [
            {
              Id: 'lag',
              MetricStat: {
                Metric: { Namespace: 'AWS/DynamoDB', MetricName: 'ReplicationLatency', Dimensions: [{ Name: 'TableName', Value: settings.heartbeatVolume }, { Name: 'ReceivingRegion', Value: settings.region }] },
                Period: 60,
                Stat: 'Maximum',
              },
            },
          ],
        }),
      ).catch((error: unknown) => ({ error: String(error) }));
      if ('error' in out) return { passed: true, replicationLagMs: null, evidence: `lag unknown, the peer region did not answer (${out.error}); a lost region cannot report its lag` };
      const latest = out.MetricDataResults?.[0]?.Values?.[0];
      const budgetMs = settings.tuning.rpoBudgetSeconds * 1000;
      if (latest === undefined) return { passed: true, replicationLagMs: null, evidence: 'no replication latency reported in the last 5 minutes' };
      return { passed: latest <= budgetMs, replicationLagMs: latest, budgetMs, evidence: `replication lag ${latest} ms against a budget of ${budgetMs} ms` };
    }
    case 'fence': {
      const epoch = await targetEpoch(input, deps);
      const at = new Date(deps.now()).toISOString();
      try {
        // Exactly one promotion per epoch: the conditional write admits the first and refuses the rest.
        await deps.db.send(
          new UpdateCommand({
            TableName: settings.heartbeatVolume,
            Key: clusterKey(),
            UpdateExpression: 'SET epoch = :next, #primary = :me, promotedAt = :at, promotedBy = :by',
            ConditionExpression: epoch - 1 === INITIAL_CLUSTER.epoch ? 'attribute_not_exists(epoch) OR epoch = :prev' : 'epoch = :prev',
            ExpressionAttributeNames: { '#primary': 'primary' },
            ExpressionAttributeValues: { ':next': epoch, ':prev': epoch - 1, ':me': settings.site, ':at': at, ':by': input.execution },
          }),
        );
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        const now = await store.readCluster();
        if (!(now.epoch === epoch && now.primary === settings.site)) {
          throw new StepError('FenceConflict', `cluster record is at epoch ${now.epoch} with primary ${now.primary}; this failover expected to move epoch ${epoch - 1} to ${epoch}`);
        }
      }
      await deps.db.send(new PutCommand({ TableName: settings.heartbeatVolume, Item: { ...fenceKey(epoch), fenced: settings.peer, by: settings.site, at, execution: input.execution } }));
      if (deps.fenceHook !== undefined) {
        await deps.lambdaFor(deps.fenceHook).send(new InvokeCommand({ FunctionName: deps.fenceHook, InvocationType: 'Event', Payload: Buffer.from(JSON.stringify({ fenced: settings.peer, epoch, by: settings.site })) }));
      }
      return { epoch, fenced: settings.peer };
    }
    case 'promote': {
      const epoch = fencedEpoch(input);
      const decision = { cluster: settings.cluster, promoted: settings.site, epoch, execution: executionName(input.execution), confirm: input.state.confirm, gates: input.state.gates };
      const actions: string[] = [];
      if (deps.promotionHook !== undefined) {
        const out = await deps.lambdaFor(deps.promotionHook).send(new InvokeCommand({ FunctionName: deps.promotionHook, Payload: Buffer.from(JSON.stringify(decision)) }));
        if (out.FunctionError !== undefined) throw new Error(`promotion hook ${deps.promotionHook} failed: ${out.FunctionError}`);
        actions.push('hook');
      }
      if (deps.siteBus !== undefined) {
        await deps.events.send(new PutEventsCommand({ Entries: [{ EventBusName: deps.siteBus, Source: EVENT_SOURCE, DetailType: DetailType.sitePromoted, Detail: JSON.stringify(decision) }] }));
        actions.push('site-promoted-event');
      }
      return { epoch, actions };
    }
    case 'verify': {
      const epoch = fencedEpoch(input);
      const record = await store.readCluster();
      return { ok: record.epoch === epoch && record.primary === settings.site, cluster: record };
    }
    default:
      throw new StepError('InvalidInput', `step: got ${JSON.stringify(input.step)}; allowed: ${FAILOVER_STEPS.join(', ')}`);
  }
}
