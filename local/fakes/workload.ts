import type { MirrorbeatConfig } from '../../lib/config';
import { SITE_IDS, type SiteId } from '../../lambdas/core/wire';
import type { CommandHandler } from '../emulate';

/**
 * The user's workload as the promotion actions see it, for the local runtime: a Route 53
 * hosted zone holding the record pair and the failover record's health check, each region's
 * Auto Scaling groups and ECS services, and an Aurora global database with one member cluster
 * per region. The real SDK clients call it through `emulate`; it answers as the services do,
 * including the parts that take time (a Route 53 change is PENDING before INSYNC, Aurora moves
 * the writer in minutes and reports it in FailoverState), on the runtime's virtual clock.
 */

/** Route 53 reports a change INSYNC after this (it promises within 60 s). */
const INSYNC_AFTER_MS = 30_000;
/** How long Aurora takes to move the writer: a switchover drains and syncs first, a failover does not. */
const SWITCHOVER_MS = 90_000;
const FAILOVER_MS = 60_000;

interface RecordSet {
  Name: string;
  Type: string;
  SetIdentifier: string;
  Failover?: 'PRIMARY' | 'SECONDARY';
  Weight?: number;
  HealthCheckId?: string;
  TTL: number;
  ResourceRecords: { Value: string }[];
}

interface Group {
  MinSize: number;
  MaxSize: number;
  DesiredCapacity: number;
}

interface GlobalDatabase {
  readonly id: string;
  readonly members: Readonly<Record<SiteId, string>>;
  writer: SiteId;
  moving?: { status: 'switching-over' | 'failing-over'; to: SiteId; untilMs: number; dataLoss: boolean };
}

/** Who calls: the region its clients are in, where its calls show on the timeline, which regions answer it. */
export interface Caller {
  readonly region: string;
  readonly note: (text: string) => void;
  readonly reachable: (site: SiteId) => boolean;
}

const fault = (name: string, message: string) => Object.assign(new Error(message), { name });

export class WorkloadFake {
  readonly records: RecordSet[] = [];
  readonly healthChecks = new Map<string, { inverted: boolean; version: number }>();
  /** Region → group name → capacity; region → "cluster/service" → desired count. */
  readonly groups = new Map<string, Map<string, Group>>();
  readonly services = new Map<string, Map<string, number>>();
  readonly aurora: GlobalDatabase | undefined;
  private readonly changes = new Map<string, number>();

  constructor(
    config: MirrorbeatConfig,
    private readonly regionOf: Readonly<Record<SiteId, string>>,
    private readonly now: () => number,
  ) {
    const { route53Records, route53FailoverRecord, capacity, auroraGlobalDatabase } = config.promotion;
    // Production is primary when the run starts: its record leads, its capacity runs, its cluster writes.
    if (route53Records !== undefined)
      for (const site of SITE_IDS)
        this.records.push({
          Name: `${route53Records.recordName.replace(/\.$/, '')}.`,
          Type: route53Records.recordType,
          SetIdentifier: route53Records.setIdentifiers[site],
          ...(route53Records.routing === 'failover'
            ? { Failover: site === 'production' ? 'PRIMARY' : 'SECONDARY' }
            : { Weight: site === 'production' ? route53Records.weight : 0 }),
          TTL: 60,
          ResourceRecords: [{ Value: site === 'production' ? '192.0.2.10' : '198.51.100.10' }],
        });
    if (route53FailoverRecord !== undefined) {
      this.healthChecks.set(route53FailoverRecord.healthCheckId, { inverted: false, version: 1 });
      // The pair the check guards: production's PRIMARY record carries it.
      for (const site of SITE_IDS)
        this.records.push({
          Name: `${route53FailoverRecord.recordName.replace(/\.$/, '')}.`,
          Type: 'A',
          SetIdentifier: site,
          Failover: site === 'production' ? 'PRIMARY' : 'SECONDARY',
          ...(site === 'production' ? { HealthCheckId: route53FailoverRecord.healthCheckId } : {}),
          TTL: 60,
          ResourceRecords: [{ Value: site === 'production' ? '192.0.2.20' : '198.51.100.20' }],
        });
    }
    for (const site of SITE_IDS) {
      const groups = new Map<string, Group>();
      const services = new Map<string, number>();
      for (const g of capacity?.[site]?.autoScalingGroups ?? [])
        groups.set(g.name, {
          MinSize: site === 'production' ? g.minSize : 0,
          MaxSize: site === 'production' ? g.desiredCapacity : 0,
          DesiredCapacity: site === 'production' ? g.desiredCapacity : 0,
        });
      for (const e of capacity?.[site]?.ecsServices ?? [])
        services.set(`${e.cluster}/${e.service}`, site === 'production' ? e.desiredCount : 0);
      this.groups.set(regionOf[site], groups);
      this.services.set(regionOf[site], services);
    }
    this.aurora =
      auroraGlobalDatabase === undefined
        ? undefined
        : {
            id: auroraGlobalDatabase.globalClusterIdentifier,
            members: auroraGlobalDatabase.clusterArns,
            writer: 'production',
          };
  }

  route53({ note }: Caller): CommandHandler {
    return async (command, input) => {
      switch (command) {
        case 'ListResourceRecordSetsCommand':
          return { ResourceRecordSets: this.records.map((r) => ({ ...r })), IsTruncated: false };
        case 'ChangeResourceRecordSetsCommand': {
          const batch = input.ChangeBatch as { Changes: { Action: string; ResourceRecordSet: RecordSet }[] };
          for (const { ResourceRecordSet: set } of batch.Changes) {
            const at = this.records.findIndex((r) => r.SetIdentifier === set.SetIdentifier && r.Type === set.Type);
            if (at < 0) throw fault('InvalidChangeBatch', `no record set ${set.SetIdentifier} to UPSERT over`);
            this.records[at] = { ...set };
          }
          const id = `/change/C${String(this.changes.size + 1).padStart(12, '0')}`;
          this.changes.set(id, this.now() + INSYNC_AFTER_MS);
          note(
            `Route 53 change ${id.slice(8)}: ${batch.Changes.map((c) => `${c.ResourceRecordSet.SetIdentifier} ${c.ResourceRecordSet.Failover ?? `weight ${c.ResourceRecordSet.Weight}`}`).join(', ')}`,
          );
          return { ChangeInfo: { Id: id, Status: 'PENDING', SubmittedAt: new Date(this.now()) } };
        }
        case 'GetChangeCommand': {
          const insyncAt = this.changes.get(String(input.Id));
          if (insyncAt === undefined) throw fault('NoSuchChange', `no change ${String(input.Id)}`);
          return { ChangeInfo: { Id: input.Id, Status: this.now() >= insyncAt ? 'INSYNC' : 'PENDING' } };
        }
        case 'GetHealthCheckCommand': {
          const check = this.healthChecks.get(String(input.HealthCheckId));
          if (check === undefined) throw fault('NoSuchHealthCheck', `no health check ${String(input.HealthCheckId)}`);
          return { HealthCheck: { Id: input.HealthCheckId, HealthCheckVersion: check.version } };
        }
        case 'UpdateHealthCheckCommand': {
          const check = this.healthChecks.get(String(input.HealthCheckId));
          if (check === undefined) throw fault('NoSuchHealthCheck', `no health check ${String(input.HealthCheckId)}`);
          if (input.HealthCheckVersion !== check.version)
            throw fault('HealthCheckVersionMismatch', 'the health check changed since it was read');
          check.inverted = input.Inverted === true;
          check.version += 1;
          note(`Route 53 health check ${String(input.HealthCheckId)} Inverted ${check.inverted}`);
          return { HealthCheck: { Id: input.HealthCheckId, HealthCheckVersion: check.version } };
        }
        default:
          throw new Error(`the local Route 53 fake does not answer ${command}`);
      }
    };
  }

  autoScaling({ region, note }: Caller): CommandHandler {
    const groups = this.groups.get(region) ?? new Map<string, Group>();
    return async (command, input) => {
      if (command === 'DescribeAutoScalingGroupsCommand')
        return {
          AutoScalingGroups: ((input.AutoScalingGroupNames as string[] | undefined) ?? [...groups.keys()]).flatMap(
            (name) => {
              const g = groups.get(name);
              return g === undefined ? [] : [{ AutoScalingGroupName: name, ...g }];
            },
          ),
        };
      if (command === 'UpdateAutoScalingGroupCommand') {
        const name = String(input.AutoScalingGroupName);
        const g = groups.get(name);
        if (g === undefined) throw fault('ValidationError', `AutoScalingGroup name not found - ${name}`);
        const next = {
          MinSize: (input.MinSize as number | undefined) ?? g.MinSize,
          MaxSize: (input.MaxSize as number | undefined) ?? g.MaxSize,
          DesiredCapacity: (input.DesiredCapacity as number | undefined) ?? g.DesiredCapacity,
        };
        if (next.MinSize > next.DesiredCapacity || next.DesiredCapacity > next.MaxSize)
          throw fault(
            'ValidationError',
            `Desired capacity:${next.DesiredCapacity} must be between ${next.MinSize} and ${next.MaxSize}`,
          );
        Object.assign(g, next);
        note(`${region} Auto Scaling group ${name}: min ${g.MinSize}, desired ${g.DesiredCapacity}, max ${g.MaxSize}`);
        return {};
      }
      throw new Error(`the local Auto Scaling fake does not answer ${command}`);
    };
  }

  ecs({ region, note }: Caller): CommandHandler {
    const services = this.services.get(region) ?? new Map<string, number>();
    return async (command, input) => {
      if (command === 'DescribeServicesCommand')
        return {
          services: ((input.services as string[] | undefined) ?? []).flatMap((name) => {
            const count = services.get(`${String(input.cluster)}/${name}`);
            return count === undefined ? [] : [{ serviceName: name, status: 'ACTIVE', desiredCount: count }];
          }),
          failures: [],
        };
      if (command !== 'UpdateServiceCommand') throw new Error(`the local ECS fake does not answer ${command}`);
      const key = `${String(input.cluster)}/${String(input.service)}`;
      if (!services.has(key)) throw fault('ServiceNotFoundException', `Service not found: ${key}`);
      services.set(key, Number(input.desiredCount));
      note(`${region} ECS service ${key}: desired ${String(input.desiredCount)}`);
      return { service: { serviceName: input.service, desiredCount: input.desiredCount } };
    };
  }

  /** The global database seen from the caller's region. */
  rds({ region, note, reachable }: Caller): CommandHandler {
    return async (command, input) => {
      const db = this.aurora;
      if (db === undefined) throw new Error('no Aurora global database: promotion.auroraGlobalDatabase is not set');
      this.settle(note);
      const siteOf = (arn: unknown) => SITE_IDS.find((s) => db.members[s] === arn);
      switch (command) {
        case 'DescribeGlobalClustersCommand':
          if (input.GlobalClusterIdentifier !== db.id)
            throw fault(
              'GlobalClusterNotFoundFault',
              `GlobalCluster ${String(input.GlobalClusterIdentifier)} not found`,
            );
          return {
            GlobalClusters: [
              {
                GlobalClusterIdentifier: db.id,
                Status: 'available',
                GlobalClusterMembers: SITE_IDS.map((s) => ({ DBClusterArn: db.members[s], IsWriter: s === db.writer })),
                ...(db.moving === undefined
                  ? {}
                  : {
                      FailoverState: {
                        Status: db.moving.status,
                        FromDbClusterArn: db.members[db.writer],
                        ToDbClusterArn: db.members[db.moving.to],
                        IsDataLossAllowed: db.moving.dataLoss,
                      },
                    }),
              },
            ],
          };
        case 'DescribeDBClustersCommand': {
          const site = siteOf(input.DBClusterIdentifier);
          if (site === undefined || this.regionOf[site] !== region)
            throw fault('DBClusterNotFoundFault', `DBCluster ${String(input.DBClusterIdentifier)} not found`);
          return {
            DBClusters: [
              { DBClusterArn: db.members[site], Status: db.moving === undefined ? 'available' : 'modifying' },
            ],
          };
        }
        case 'SwitchoverGlobalClusterCommand':
        case 'FailoverGlobalClusterCommand': {
          const to = siteOf(input.TargetDbClusterIdentifier);
          if (to === undefined)
            throw fault('DBClusterNotFoundFault', 'the target is not a member of the global database');
          if (db.moving !== undefined || db.writer === to)
            throw fault(
              'InvalidGlobalClusterStateFault',
              `global cluster ${db.id} is not in a state to move its writer`,
            );
          const switchover = command === 'SwitchoverGlobalClusterCommand';
          // A switchover syncs the secondary with the writer first: both regions must answer.
          if (switchover && !reachable(db.writer))
            throw fault(
              'InvalidGlobalClusterStateFault',
              `the writer ${db.members[db.writer]} does not answer: a switchover needs it; fail over instead`,
            );
          db.moving = {
            status: switchover ? 'switching-over' : 'failing-over',
            to,
            untilMs: this.now() + (switchover ? SWITCHOVER_MS : FAILOVER_MS),
            dataLoss: !switchover,
          };
          note(`Aurora ${db.id}: ${db.moving.status} to ${db.members[to].split(':').at(-1)}`);
          return { GlobalCluster: { GlobalClusterIdentifier: db.id } };
        }
        default:
          throw new Error(`the local RDS fake does not answer ${command}`);
      }
    };
  }

  /** A move whose time has come completes. */
  private settle(note: (text: string) => void): void {
    const db = this.aurora;
    if (db?.moving === undefined || this.now() < db.moving.untilMs) return;
    db.writer = db.moving.to;
    db.moving = undefined;
    note(`Aurora ${db.id}: ${db.members[db.writer].split(':').at(-1)} is the writer`);
  }
}
