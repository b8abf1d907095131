import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { Env } from '../lambdas/core/wire';
import { KEY, serialKey, TTL_ATTRIBUTE } from '../lambdas/core/volume';
import type { MirrorbeatFunction } from './function';

/** Provisioned capacity of a table: the units it keeps at least. */
export interface TableCapacity {
  readonly read: number;
  readonly write: number;
}

/**
 * Auto scaling may raise provisioned capacity to this many times the configured units (a failover's burst), never lower
 * it.
 */
export const CAPACITY_CEILING_FACTOR = 4;

/**
 * On demand, or provisioned with the given units as the floor auto scaling keeps (TableV2 scales writes automatically).
 */
function billing(capacity: TableCapacity | undefined): dynamodb.Billing {
  if (capacity === undefined) return dynamodb.Billing.onDemand();
  const scaled = (units: number) =>
    dynamodb.Capacity.autoscaled({ minCapacity: units, maxCapacity: units * CAPACITY_CEILING_FACTOR });
  return dynamodb.Billing.provisioned({ readCapacity: scaled(capacity.read), writeCapacity: scaled(capacity.write) });
}

/** What both of mirrorbeat's tables share: the pk/sk layout, PITR, encryption at rest (billing is each table's own). */
const TABLE_DEFAULTS = {
  partitionKey: { name: KEY.pk, type: dynamodb.AttributeType.STRING },
  sortKey: { name: KEY.sk, type: dynamodb.AttributeType.STRING },
  pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
  encryption: dynamodb.TableEncryptionV2.awsManagedKey(),
} satisfies Partial<dynamodb.TablePropsV2>;

/** `readSerial`: read, and take the next beat serial (an UpdateItem on the SERIAL items only). */
export type TableAccess = 'read' | 'readSerial' | 'readWrite';

function grant(table: dynamodb.ITableV2, fn: MirrorbeatFunction, access: TableAccess): void {
  if (access === 'readWrite') {
    table.grantReadWriteData(fn.role);
    return;
  }
  table.grantReadData(fn.role);
  if (access === 'readSerial') {
    fn.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:UpdateItem'],
        resources: [table.tableArn],
        conditions: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [serialKey('production').pk] } },
      }),
    );
  }
}

export interface HeartbeatVolumeProps {
  readonly tableName: string;
  /**
   * Region of the replica, when this stack owns the global table. Without it the stack
   * refers to its local replica of a table another stack declares.
   * @default - refer to the local replica of the existing global table
   */
  readonly replicaRegion?: string;
  /**
   * Witness region for multi-region strong consistency.
   * @default - eventual consistency, no witness
   */
  readonly witnessRegion?: string;
  /**
   * Provisioned capacity in each replica region.
   * @default - on demand
   */
  readonly capacity?: TableCapacity;
}

/**
 * The heartbeat volume: a DynamoDB global table replicated between the two site regions,
 * the remote mirror that carries the storage path. Each site writes its own beat into
 * its local replica (PVOL); replication carries it to the peer's replica (SVOL).
 */
export class HeartbeatVolume extends Construct {
  /** This region's replica. */
  readonly table: dynamodb.ITableV2;
  /** Set only in the stack that declares the global table. */
  readonly globalTable?: dynamodb.TableV2;

  constructor(scope: Construct, id: string, props: HeartbeatVolumeProps) {
    super(scope, id);
    if (props.replicaRegion === undefined) {
      this.table = dynamodb.TableV2.fromTableName(this, 'Replica', props.tableName);
      return;
    }
    if (props.replicaRegion === Stack.of(this).region) {
      throw new Error(
        `HeartbeatVolume: replicaRegion ${props.replicaRegion} is this stack's own region; name the peer site's region`,
      );
    }
    const strong = props.witnessRegion !== undefined;
    this.globalTable = new dynamodb.TableV2(this, 'GlobalTable', {
      tableName: props.tableName,
      ...TABLE_DEFAULTS,
      billing: billing(props.capacity),
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
      replicas: [{ region: props.replicaRegion }],
      ...(strong
        ? { multiRegionConsistency: dynamodb.MultiRegionConsistency.STRONG, witnessRegion: props.witnessRegion }
        : {}),
    });
    this.table = this.globalTable;
  }

  /** Gives a handler the table's name and access to this region's replica. */
  bind(fn: MirrorbeatFunction, access: TableAccess): void {
    fn.addEnvironment(Env.heartbeatVolume, this.table.tableName);
    grant(this.table, fn, access);
  }
}

export interface ObservationsTableProps {
  readonly tableName: string;
  /**
   * Provisioned capacity.
   * @default - on demand
   */
  readonly capacity?: TableCapacity;
}

/**
 * The site-local observations table: what this site's receiver saw on the network path,
 * its own serial counter and invalid-beat counts. Never replicated, so a network-path
 * observation can never travel over the storage path.
 */
export class ObservationsTable extends Construct {
  readonly table: dynamodb.TableV2;

  constructor(scope: Construct, id: string, props: ObservationsTableProps) {
    super(scope, id);
    this.table = new dynamodb.TableV2(this, 'Table', {
      tableName: props.tableName,
      ...TABLE_DEFAULTS,
      billing: billing(props.capacity),
      timeToLiveAttribute: TTL_ATTRIBUTE,
      // Observations are rebuilt within one interval after loss; nothing here needs keeping.
      removalPolicy: RemovalPolicy.DESTROY,
    });
  }

  bind(fn: MirrorbeatFunction, access: TableAccess): void {
    fn.addEnvironment(Env.observations, this.table.tableName);
    grant(this.table, fn, access);
  }
}
