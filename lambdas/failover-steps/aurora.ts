import {
  DescribeDBClustersCommand,
  DescribeGlobalClustersCommand,
  FailoverGlobalClusterCommand,
  type GlobalCluster,
  type RDSClient,
  SwitchoverGlobalClusterCommand,
} from '@aws-sdk/client-rds';
import { StepError } from '../core/steps';
import type { AuroraGlobalDatabase, SiteId } from '../core/wire';
import { deadline } from '../shared/deadlines';
import type { Progress } from './workload-actions';

/**
 * The Aurora global database action: the promoted site's member cluster becomes the writer.
 * A switchover (both regions up, no data lost) uses SwitchoverGlobalCluster; a failover (the
 * old primary lost) uses FailoverGlobalCluster with AllowDataLoss, which Aurora accepts while
 * the old primary's region is down. Either takes minutes: the step starts it and reports it
 * under way; the workflow waits and runs the step again until the cluster is the available
 * writer. Started again, it recognises its own operation in progress and does not start another.
 */

type Operation = 'SwitchoverGlobalCluster' | 'FailoverGlobalCluster';

const operationFor = (kind: 'failover' | 'switchover'): Operation =>
  kind === 'switchover' ? 'SwitchoverGlobalCluster' : 'FailoverGlobalCluster';

/** A member cluster's name, from its ARN: what a person recognises in a notice. */
const nameOf = (arn: string | undefined) => arn?.split(':').at(-1) ?? 'none';

interface GlobalView {
  readonly writer: string | undefined;
  readonly members: readonly string[];
  /** pending, failing-over, switching-over or cancelling while Aurora moves the writer. */
  readonly moving: string | undefined;
  readonly movingTo: string | undefined;
}

async function readGlobal(rds: RDSClient, db: AuroraGlobalDatabase, promoted: SiteId): Promise<GlobalView> {
  const out = await rds.send(
    new DescribeGlobalClustersCommand({ GlobalClusterIdentifier: db.globalClusterIdentifier }),
    deadline(),
  );
  const global: GlobalCluster | undefined = out.GlobalClusters?.[0];
  if (global === undefined)
    throw new StepError(
      'InvalidInput',
      `promotion.auroraGlobalDatabase.globalClusterIdentifier: no global database ${db.globalClusterIdentifier}; correct the identifier`,
    );
  const members = (global.GlobalClusterMembers ?? []).map((m) => m.DBClusterArn ?? '');
  const target = db.clusterArns[promoted];
  if (!members.includes(target))
    throw new StepError(
      'InvalidInput',
      `promotion.auroraGlobalDatabase.clusterArns.${promoted}: ${target} is not a member of ${db.globalClusterIdentifier} (members: ${members.map(nameOf).join(', ') || 'none'}); correct the ARN`,
    );
  return {
    writer: global.GlobalClusterMembers?.find((m) => m.IsWriter === true)?.DBClusterArn,
    members,
    moving: global.FailoverState?.Status,
    movingTo: global.FailoverState?.ToDbClusterArn,
  };
}

/** What the action would do now (a drill): it reads the global database and checks the configuration against it. */
export async function rehearseAurora(
  rds: RDSClient,
  db: AuroraGlobalDatabase,
  promoted: SiteId,
  kind: 'failover' | 'switchover',
): Promise<string> {
  const view = await readGlobal(rds, db, promoted);
  const target = db.clusterArns[promoted];
  if (view.writer === target && view.moving === undefined) return `${nameOf(target)} is already the writer`;
  return `would ${operationFor(kind)} ${db.globalClusterIdentifier} to ${nameOf(target)} (writer now ${nameOf(view.writer)}${view.moving === undefined ? '' : `, ${view.moving} to ${nameOf(view.movingTo)}`})`;
}

/** One run of the action: starts the operation, or looks how far the one under way has come. */
export async function promoteAurora(
  rds: RDSClient,
  db: AuroraGlobalDatabase,
  promoted: SiteId,
  kind: 'failover' | 'switchover',
  started: string | undefined,
): Promise<Progress> {
  const target = db.clusterArns[promoted];
  const view = await readGlobal(rds, db, promoted);
  if (view.moving !== undefined) {
    if (view.movingTo !== undefined && view.movingTo !== target)
      throw new Error(
        `${db.globalClusterIdentifier} is ${view.moving} to ${nameOf(view.movingTo)}, not to ${nameOf(target)}: someone else moved the writer; see the RDS console's events for the global database`,
      );
    if (view.moving === 'cancelling')
      throw new Error(
        `Aurora is cancelling the ${started ?? operationFor(kind)} of ${db.globalClusterIdentifier}; see the RDS console's events for the reason, then start the failover again`,
      );
    return { done: false, detail: `${view.moving} to ${nameOf(target)}`, ref: started ?? operationFor(kind) };
  }
  if (view.writer === target) {
    // The writer moved; the cluster takes the writes once it is available.
    const cluster = await rds.send(new DescribeDBClustersCommand({ DBClusterIdentifier: target }), deadline());
    const status = cluster.DBClusters?.[0]?.Status ?? 'unknown';
    const how = started === undefined ? 'already the writer' : `the writer (${started})`;
    return status === 'available'
      ? { done: true, detail: `${nameOf(target)} is ${how}, available` }
      : { done: false, detail: `${nameOf(target)} is ${how}, ${status}`, ref: started ?? 'writer' };
  }
  const operation = operationFor(kind);
  try {
    await rds.send(
      operation === 'SwitchoverGlobalCluster'
        ? new SwitchoverGlobalClusterCommand({
            GlobalClusterIdentifier: db.globalClusterIdentifier,
            TargetDbClusterIdentifier: target,
          })
        : new FailoverGlobalClusterCommand({
            GlobalClusterIdentifier: db.globalClusterIdentifier,
            TargetDbClusterIdentifier: target,
            AllowDataLoss: true,
          }),
      deadline(),
    );
  } catch (error) {
    // Aurora refuses while it is still settling an earlier operation: look again on the next run.
    if ((error as Error).name !== 'InvalidGlobalClusterStateFault') throw error;
    return { done: false, detail: `Aurora is busy: ${(error as Error).message}`, ref: started ?? operation };
  }
  return { done: false, detail: `${operation} to ${nameOf(target)} started`, ref: operation };
}
