import {
  type AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  UpdateAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import { DescribeServicesCommand, type ECSClient, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import {
  ChangeResourceRecordSetsCommand,
  GetChangeCommand,
  ListResourceRecordSetsCommand,
  type ResourceRecordSet,
  type Route53Client,
} from '@aws-sdk/client-route-53';
import { StepError } from '../core/steps';
import {
  normalizedRecordName,
  type Route53FailoverRecord,
  type Route53Records,
  type SiteCapacity,
  type SiteId,
} from '../core/wire';
import { deadline } from '../shared/deadlines';

/**
 * The promotion actions that move the user's workload, not just a record: the capacity of the
 * promoted region (Auto Scaling groups, ECS services) and the Route 53 record pair that sends
 * traffic there. Each sets a state, so running it again changes nothing more.
 */

export interface WorkloadClients {
  readonly route53: Route53Client;
  readonly autoScaling: AutoScalingClient;
  readonly ecs: ECSClient;
}

/**
 * One run of an action that takes longer than a step may: done, or under way (`ref` says what
 * was started, so the next run of the step looks at it instead of starting it again).
 */
export type Progress =
  | { readonly done: true; readonly detail: string }
  | { readonly done: false; readonly detail: string; readonly ref: string };

/** The pair as Route 53 holds it: the promoted site's record and the other's. */
async function readPair(route53: Route53Client, records: Route53Records): Promise<Record<SiteId, ResourceRecordSet>> {
  const found: Partial<Record<SiteId, ResourceRecordSet>> = {};
  for (const set of await recordSetsNamed(route53, records.hostedZoneId, records.recordName, records.recordType)) {
    for (const site of ['production', 'standby'] as const)
      if (set.SetIdentifier === records.setIdentifiers[site]) found[site] = set;
  }
  for (const site of ['production', 'standby'] as const)
    if (found[site] === undefined)
      throw new StepError(
        'InvalidInput',
        `promotion.route53Records: no ${records.recordType} record ${records.recordName} with set identifier ${records.setIdentifiers[site]} in hosted zone ${records.hostedZoneId}; create the pair or correct setIdentifiers.${site}`,
      );
  return found as Record<SiteId, ResourceRecordSet>;
}

/** The record sets of one name (and type) in a zone: a name has at most a few, well under one page. */
async function recordSetsNamed(
  route53: Route53Client,
  hostedZoneId: string,
  recordName: string,
  recordType?: Route53Records['recordType'],
): Promise<ResourceRecordSet[]> {
  const out = await route53.send(
    new ListResourceRecordSetsCommand({
      HostedZoneId: hostedZoneId,
      StartRecordName: recordName,
      ...(recordType === undefined ? {} : { StartRecordType: recordType }),
      MaxItems: 100,
    }),
    deadline(),
  );
  const name = normalizedRecordName(recordName);
  return (out.ResourceRecordSets ?? []).filter(
    (set) => normalizedRecordName(set.Name ?? '') === name && (recordType === undefined || set.Type === recordType),
  );
}

/**
 * Whether inverting the health check moves traffic: the PRIMARY failover record of that name
 * must carry the check. Returns what it found; `tied` false says the configuration names a check
 * no PRIMARY record of that name uses (a drill fails on it, a promotion reports it).
 */
export async function checkFailoverRecord(
  route53: Route53Client,
  record: Route53FailoverRecord,
): Promise<{ tied: boolean; detail: string }> {
  const sets = await recordSetsNamed(route53, record.hostedZoneId, record.recordName);
  const primary = sets.find((set) => set.Failover === 'PRIMARY' && set.HealthCheckId === record.healthCheckId);
  return primary === undefined
    ? {
        tied: false,
        detail: `no PRIMARY failover record ${record.recordName} in hosted zone ${record.hostedZoneId} carries health check ${record.healthCheckId}, so inverting it moves no traffic; correct promotion.route53FailoverRecord or the record`,
      }
    : {
        tied: true,
        detail: `PRIMARY ${primary.Type} record ${record.recordName} (${primary.SetIdentifier}) carries it`,
      };
}

/** What the promoted and the other record must say: PRIMARY/SECONDARY, or the weight and 0. */
function wanted(records: Route53Records, promoted: SiteId, set: ResourceRecordSet, site: SiteId): ResourceRecordSet {
  const on = site === promoted;
  return records.routing === 'failover'
    ? { ...set, Failover: on ? 'PRIMARY' : 'SECONDARY' }
    : { ...set, Weight: on ? records.weight : 0 };
}

/** What the pair says once the promoted site has it. */
export const describe = (records: Route53Records, promoted: SiteId): string =>
  records.routing === 'failover'
    ? `${promoted} PRIMARY, the other SECONDARY`
    : `${promoted} weight ${records.weight}, the other 0`;

const same = (a: ResourceRecordSet, b: ResourceRecordSet) => a.Failover === b.Failover && a.Weight === b.Weight;

/** The change a promotion makes to the pair, or what it would make (dry run). */
export async function planRecords(
  route53: Route53Client,
  records: Route53Records,
  promoted: SiteId,
): Promise<{ changes: ResourceRecordSet[]; detail: string }> {
  const pair = await readPair(route53, records);
  const changes: ResourceRecordSet[] = [];
  for (const site of ['production', 'standby'] as const) {
    const set = wanted(records, promoted, pair[site], site);
    if (!same(set, pair[site])) changes.push(set);
  }
  const state = describe(records, promoted);
  return { changes, detail: changes.length === 0 ? `already ${state}` : state };
}

/**
 * Changes the pair in one batch (atomic in Route 53); the change id is the `ref` the next run
 * asks GetChange about, until Route 53 reports it INSYNC on all its authoritative servers.
 */
export async function changeRecords(
  route53: Route53Client,
  records: Route53Records,
  promoted: SiteId,
  changeId: string | undefined,
): Promise<Progress> {
  if (changeId !== undefined) {
    const status = (await route53.send(new GetChangeCommand({ Id: changeId }), deadline())).ChangeInfo?.Status;
    const id = changeId.replace(/^\/change\//, '');
    return status === 'INSYNC'
      ? { done: true, detail: `${describe(records, promoted)}, ${id} INSYNC` }
      : { done: false, detail: `${id} ${status ?? 'PENDING'}`, ref: changeId };
  }
  const { changes, detail } = await planRecords(route53, records, promoted);
  if (changes.length === 0) return { done: true, detail };
  const out = await route53.send(
    new ChangeResourceRecordSetsCommand({
      HostedZoneId: records.hostedZoneId,
      ChangeBatch: {
        Comment: `mirrorbeat: promote ${promoted}`,
        Changes: changes.map((set) => ({ Action: 'UPSERT', ResourceRecordSet: set })),
      },
    }),
    deadline(),
  );
  const id = out.ChangeInfo?.Id ?? '';
  return out.ChangeInfo?.Status === 'INSYNC'
    ? { done: true, detail: `${detail}, ${id.replace(/^\/change\//, '')} INSYNC` }
    : { done: false, detail: `${id.replace(/^\/change\//, '')} ${out.ChangeInfo?.Status ?? 'PENDING'}`, ref: id };
}

/**
 * A fenced site's own record of a weighted pair to weight 0, so no resolver is sent to it,
 * but only while the other record has a weight: with both at 0 Route 53 shares traffic
 * equally, and the promotion's change sets the other's weight anyway. The change is not
 * waited on (the promotion's is).
 */
export async function zeroOwnWeight(route53: Route53Client, records: Route53Records, site: SiteId): Promise<string> {
  const pair = await readPair(route53, records);
  const own = pair[site];
  const other = pair[site === 'production' ? 'standby' : 'production'];
  const name = `${records.recordName} ${records.setIdentifiers[site]}`;
  if (own.Weight === 0) return `${name} already weight 0`;
  if ((other.Weight ?? 0) === 0)
    return `${name} left at weight ${own.Weight}: the other record has weight 0 too, so its promotion moves the traffic`;
  const out = await route53.send(
    new ChangeResourceRecordSetsCommand({
      HostedZoneId: records.hostedZoneId,
      ChangeBatch: {
        Comment: `mirrorbeat: ${site} fenced`,
        Changes: [{ Action: 'UPSERT', ResourceRecordSet: { ...own, Weight: 0 } }],
      },
    }),
    deadline(),
  );
  return `${name} weight ${own.Weight}→0 (${(out.ChangeInfo?.Id ?? '').replace(/^\/change\//, '')})`;
}

/** The capacity the promoted region needs, set on each Auto Scaling group and ECS service; the lines it did. */
export async function setCapacity(
  clients: WorkloadClients,
  capacity: SiteCapacity,
  dryRun: boolean,
): Promise<string[]> {
  const lines: string[] = [];
  for (const group of capacity.autoScalingGroups) {
    const out = await clients.autoScaling.send(
      new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [group.name] }),
      deadline(),
    );
    const current = out.AutoScalingGroups?.[0];
    if (current === undefined)
      throw new StepError(
        'InvalidInput',
        `promotion.capacity: no Auto Scaling group ${group.name} in this region; correct its name`,
      );
    const maxSize = Math.max(current.MaxSize ?? 0, group.desiredCapacity);
    if (
      current.MinSize === group.minSize &&
      current.DesiredCapacity === group.desiredCapacity &&
      maxSize === current.MaxSize
    ) {
      lines.push(`${group.name} already min ${group.minSize}, desired ${group.desiredCapacity}`);
      continue;
    }
    const line = `${group.name} min ${current.MinSize}→${group.minSize}, desired ${current.DesiredCapacity}→${group.desiredCapacity}${maxSize === current.MaxSize ? '' : `, max ${current.MaxSize}→${maxSize}`}`;
    if (!dryRun)
      await clients.autoScaling.send(
        new UpdateAutoScalingGroupCommand({
          AutoScalingGroupName: group.name,
          MinSize: group.minSize,
          DesiredCapacity: group.desiredCapacity,
          MaxSize: maxSize,
        }),
        deadline(),
      );
    lines.push(line);
  }
  for (const service of capacity.ecsServices) {
    const name = `${service.cluster}/${service.service}`;
    const out = await clients.ecs.send(
      new DescribeServicesCommand({ cluster: service.cluster, services: [service.service] }),
      deadline(),
    );
    const current = out.services?.find((s) => s.status !== 'INACTIVE');
    if (current === undefined)
      throw new StepError(
        'InvalidInput',
        `promotion.capacity: no ECS service ${name} in this region; correct its cluster or service name`,
      );
    if (current.desiredCount === service.desiredCount) {
      lines.push(`${name} already desired ${service.desiredCount}`);
      continue;
    }
    if (!dryRun)
      await clients.ecs.send(
        new UpdateServiceCommand({
          cluster: service.cluster,
          service: service.service,
          desiredCount: service.desiredCount,
        }),
        deadline(),
      );
    lines.push(`${name} desired ${current.desiredCount}→${service.desiredCount}`);
  }
  return lines;
}

/**
 * A fenced site's capacity to zero: each Auto Scaling group's minimum and desired capacity
 * (its maximum is left for the next promotion), each ECS service's desired count.
 */
export async function zeroCapacity(clients: WorkloadClients, capacity: SiteCapacity): Promise<string[]> {
  return setCapacity(
    clients,
    {
      autoScalingGroups: capacity.autoScalingGroups.map((g) => ({ ...g, minSize: 0, desiredCapacity: 0 })),
      ecsServices: capacity.ecsServices.map((e) => ({ ...e, desiredCount: 0 })),
    },
    false,
  );
}
