import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { InvokeCommand } from '@aws-sdk/client-lambda';
import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { leaseTuningOf, promotionWaitMs } from '../core/lease';
import { signHeartbeat } from '../core/message';
import { resultOf, StepError, type StepInput } from '../core/steps';
import { clusterKey, type ClusterRecord, fenceKey, INITIAL_CLUSTER } from '../core/volume';
import { DetailType, EVENT_SOURCE } from '../core/wire';
import { deadline } from '../shared/deadlines';
import type { FailoverDeps, FailoverOptions } from './steps';

/**
 * The fence step: the one conditional write that moves the epoch, then the fence on the network path and the fence
 * hook.
 */
/**
 * The epoch this execution promotes to: one above the epoch it was started for (or drained at), or above the current
 * one.
 */
export function targetEpoch(input: StepInput, current: ClusterRecord): number {
  const expected = input.state.expectedEpoch ?? resultOf(input, 'drain')?.epoch;
  return (typeof expected === 'number' ? expected : current.epoch) + 1;
}

/**
 * Fence: the conditional write of epoch + 1 naming this site (exactly one promotion per
 * epoch), the fence record, the fence message on the network path, the fence hook. Started
 * again for an epoch it already fenced, it says so, and whether the promotion completed.
 */
export async function fence(
  input: StepInput,
  options: FailoverOptions,
  deps: FailoverDeps,
): Promise<Record<string, unknown>> {
  const { settings, store } = deps;
  const current = await store.readCluster();
  const epoch = targetEpoch(input, current);
  if (current.epoch === epoch && current.primary === settings.site) {
    // Run again after a timeout: the record moved; the fence record may not have been written yet.
    await putFenceRecord(deps, epoch, input.execution, 'attribute_not_exists(pk)');
    return { epoch, fenced: settings.peer, alreadyFenced: true, alreadyDone: current.verifiedAtMs !== undefined };
  }
  // Only a site its own replica names secondary may promote itself. With an eventually consistent
  // heartbeat volume the conditional write is checked against this region's replica alone: a site
  // that still reads itself primary may be cut off from a peer that already took over, and writing
  // the next epoch here would make two primaries at one epoch.
  const selfPromotion = current.primary === settings.site;
  const refusal = `${settings.site} is already primary at epoch ${current.epoch} in this region's replica: there is nothing to fail over to it. If ${settings.peer} took over, this replica has not seen it (the regions may be partitioned); compare both regions with: mirrorbeat status`;
  if (options.dryRun) {
    const would = selfPromotion
      ? `refuse: ${refusal}`
      : current.epoch === epoch - 1
        ? `write epoch ${epoch} naming ${settings.site} over ${current.primary} at epoch ${current.epoch}`
        : `nothing: the record is at epoch ${current.epoch}, not ${epoch - 1}; the fence would refuse`;
    return { epoch, fenced: settings.peer, dryRun: true, would, fenceHook: deps.fenceHook ?? null };
  }
  if (selfPromotion) throw new StepError('FenceConflict', refusal);
  const at = new Date(deps.now()).toISOString();
  const handover =
    options.kind === 'switchover' ? ' AND handover.execution = :exec AND attribute_exists(handover.drainedAtMs)' : '';
  // A gated takeover names the renewal it saw stand still: a renewal since then makes it lose.
  // (Quorum mode: the lease is the cluster record's own count; in two-region mode it lives in another item, checked by
  // confirm.)
  const lease =
    options.expectedLease === undefined || settings.tuning.consistency !== 'strong'
      ? ''
      : options.expectedLease === 0
        ? ' AND (attribute_not_exists(lease) OR lease = :lease)'
        : ' AND lease = :lease';
  const actAfterMs = promotionWaitMs(leaseTuningOf(settings.tuning), {
    handedOver: handover !== '',
    gated: options.gated,
  });
  try {
    await deps.db.send(
      new UpdateCommand({
        TableName: settings.heartbeatVolume,
        Key: clusterKey(),
        UpdateExpression:
          'SET epoch = :next, #primary = :me, promotedAt = :at, promotedBy = :by, handedOver = :handedOver, gated = :gated, actAfterMs = :wait, lease = if_not_exists(lease, :zero) + :one REMOVE handover, verifiedAt',
        ConditionExpression:
          (epoch - 1 === INITIAL_CLUSTER.epoch && handover === ''
            ? '(attribute_not_exists(epoch) OR (epoch = :prev AND #primary = :peer))'
            : '(epoch = :prev AND #primary = :peer)') +
          handover +
          lease,
        ExpressionAttributeNames: { '#primary': 'primary' },
        ExpressionAttributeValues: {
          ':next': epoch,
          ':prev': epoch - 1,
          ':me': settings.site,
          ':peer': settings.peer,
          ':at': at,
          ':by': input.execution,
          ':handedOver': handover !== '',
          ':gated': options.gated,
          ':wait': actAfterMs,
          ':zero': 0,
          ':one': 1,
          ...(handover === '' ? {} : { ':exec': input.execution }),
          ...(lease === '' ? {} : { ':lease': options.expectedLease }),
        },
      }),
    );
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
    const now = await store.readCluster();
    throw new StepError(
      'FenceConflict',
      `cluster record is at epoch ${now.epoch} with primary ${now.primary} (lease renewal ${now.lease ?? 0}); this ${options.kind} expected to move epoch ${epoch - 1} to ${epoch}${handover === '' ? '' : ' after its handover was confirmed'}${lease === '' ? '' : ` over lease renewal ${options.expectedLease ?? 0}`}`,
    );
  }
  await putFenceRecord(deps, epoch, input.execution);
  // From here on the record is final: what follows reaches other regions, each under a deadline, and only reports.
  const [networkFence, fenceHook, workloadFence] = await Promise.all([
    sendFenceMessage(deps, epoch),
    deps.fenceHook === undefined ? null : invokeFenceHook(deps, deps.fenceHook, epoch),
    // The old primary's own failover steps zero its capacity once its replica shows this epoch.
    deps.peerWorkloadFence === undefined ? null : invokeFenceHook(deps, deps.peerWorkloadFence, epoch),
  ]);
  return { epoch, fenced: settings.peer, networkFence, fenceHook, workloadFence, actAfterMs };
}

async function putFenceRecord(deps: FailoverDeps, epoch: number, execution: string, condition?: string): Promise<void> {
  const { settings } = deps;
  const item = {
    ...fenceKey(epoch),
    fenced: settings.peer,
    by: settings.site,
    at: new Date(deps.now()).toISOString(),
    execution,
  };
  try {
    await deps.db.send(
      new PutCommand({
        TableName: settings.heartbeatVolume,
        Item: item,
        ...(condition === undefined ? {} : { ConditionExpression: condition }),
      }),
    );
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
  }
}

/** The fence hook, asynchronously (it may live in another region): "invoked", or why not. */
async function invokeFenceHook(deps: FailoverDeps, functionArn: string, epoch: number): Promise<string> {
  const { settings } = deps;
  try {
    const payload = { fenced: settings.peer, epoch, by: settings.site, cluster: settings.cluster };
    await deps.lambdaFor(functionArn).send(
      new InvokeCommand({
        FunctionName: functionArn,
        InvocationType: 'Event',
        Payload: Buffer.from(JSON.stringify(payload)),
      }),
      deadline(),
    );
    return 'invoked';
  } catch (error) {
    return `not invoked: ${String(error)}`;
  }
}

/**
 * The fence on the network path: a signed beat at the new epoch claiming primary, so an old
 * primary whose replica has not caught up demotes at once. Best effort: the storage path
 * carries the fence too, and an isolated old primary demotes by its lease.
 */
async function sendFenceMessage(deps: FailoverDeps, epoch: number): Promise<string> {
  const { settings, store } = deps;
  try {
    // A path the operators switched off carries nothing, not even a fence: its beats would count at the peer.
    const mode = await store.paths.readPathMode(settings.site, 'network');
    if (mode !== 'enabled') return `not sent: the network path is ${mode} at ${settings.site}`;
    const nowMs = deps.now();
    const beat = signHeartbeat(
      {
        v: 1,
        cluster: settings.cluster,
        site: settings.site,
        region: settings.region,
        serial: await store.ticker.nextSerial(settings.site, nowMs),
        sentAt: new Date(nowMs).toISOString(),
        epoch,
        role: 'primary',
        health: 'ok',
        notice: { kind: 'fence', detail: `${settings.site} promoted at epoch ${epoch}; ${settings.peer} is fenced` },
      },
      await deps.keys.current(),
    );
    const out = await deps.peerEvents.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: deps.peerBusArn,
            Source: EVENT_SOURCE,
            DetailType: DetailType.heartbeat,
            Detail: JSON.stringify(beat),
          },
        ],
      }),
      deadline(),
    );
    return (out.FailedEntryCount ?? 0) > 0 ? `not delivered: ${out.Entries?.[0]?.ErrorCode ?? 'refused'}` : 'sent';
  } catch (error) {
    return `not delivered: ${String(error)}`;
  }
}
