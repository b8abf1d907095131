import { ReplicatedWriteConflictException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { clusterKey } from '../lambdas/core/volume';
import type { SiteId } from '../lambdas/core/wire';

/** The three regions of quorum mode: the two sites and the witness. */
export type RegionId = SiteId | 'witness';
export const REGION_IDS: readonly RegionId[] = ['production', 'standby', 'witness'];

/**
 * Which regions can talk to which, for the majority rule. A site's region (its replica of the
 * heartbeat volume) stays up when the site's processes crash; the witness region is down when
 * it crashes, is paused or is isolated.
 */
export interface Reachability {
  /** The production–standby leg: what a storage-path partition or an isolated site cuts. */
  sitesLinked(): boolean;
  /** One site's leg to the witness. */
  witnessLinked(site: SiteId): boolean;
  /** The virtual clock, for which writes are concurrent. */
  nowMs(): number;
}

/**
 * Two writes of the cluster record from two regions this close together (virtual ms) are concurrent: an MRSC write
 * commits through a majority in tens of milliseconds, and one that meets another region's write to the same item
 * still in flight is refused with ReplicatedWriteConflictException ("one or more items in the request are being
 * modified by a request in another Region"). The exception carries the SDK's retryable trait, so a client that tries
 * more than once retries it, and the retry, a backoff later, finds the other write committed. The emulator applies
 * the calling client's own maxAttempts as that retry would, without the backoff's real wait.
 */
export const WRITE_CONFLICT_MS = 100;

/**
 * The client command names a document client's requests carry in the middleware context, and the document command to
 * resend each as.
 */
const COMMANDS = {
  GetItemCommand: GetCommand,
  PutItemCommand: PutCommand,
  UpdateItemCommand: UpdateCommand,
  DeleteItemCommand: DeleteCommand,
} as const;
type Redirected = keyof typeof COMMANDS;

/** Requests that write an item: on an MRSC table each commits through a majority of the three regions. */
const WRITES = new Set([
  'PutItemCommand',
  'UpdateItemCommand',
  'DeleteItemCommand',
  'BatchWriteItemCommand',
  'TransactWriteItemsCommand',
]);
/**
 * Requests that read: strongly consistent ones (ConsistentRead) go through a majority too; eventually consistent ones
 * answer locally.
 */
const READS = new Set([
  'GetItemCommand',
  'QueryCommand',
  'ScanCommand',
  'BatchGetItemCommand',
  'TransactGetItemsCommand',
]);

/**
 * Whether a request needs a majority of the three regions on an MRSC table: every write, and every strongly consistent
 * read.
 */
export function needsMajority(commandName: string, input: Record<string, unknown>): boolean {
  if (WRITES.has(commandName)) return true;
  // A transaction's reads are serializable, so strong.
  return READS.has(commandName) && (commandName === 'TransactGetItemsCommand' || input.ConsistentRead === true);
}

/**
 * The error a region cut off from the other two gets for such a request. DynamoDB documents no error code of its own
 * for it: the request does not complete, and the SDK's call ends when the handler's deadline aborts it. So the
 * emulator raises at once what that abort raises (the handlers' deadlines never fire in the virtual world), and the
 * code must take it as an outcome it does not know, as on AWS.
 */
export function noMajorityError(site: SiteId): Error {
  return Object.assign(
    new Error(
      `dynamodb request to the heartbeat volume timed out: the ${site} region reaches no majority of production, standby and witness`,
    ),
    { name: 'TimeoutError' },
  );
}

interface Stack {
  middlewareStack: {
    add(
      middleware: (
        next: (args: unknown) => Promise<unknown>,
        context: { commandName?: string },
      ) => (args: { input: Record<string, unknown> }) => Promise<unknown>,
      options: { step: 'initialize'; name: string; priority: 'high' },
    ): void;
  };
}

const CLUSTER = clusterKey();

/** Whether a document-client request reads or writes the cluster record. */
function touchesCluster(input: Record<string, unknown>): boolean {
  const key = (input.Key ?? input.Item) as Record<string, unknown> | undefined;
  return key?.pk === CLUSTER.pk && key?.sk === CLUSTER.sk;
}

/**
 * Multi-region strong consistency of the heartbeat volume. Every write to it and every strongly
 * consistent read of it, from a region, succeeds only while that region reaches a majority of
 * production, standby and witness; otherwise the request fails as a cut-off region's does
 * (noMajorityError). The cluster record (epoch, primary, lease), the one item the role protocol's
 * safety depends on, lives in one table behind that rule, so it is linearizable. Every other item
 * is written to the site's replica and replicates over the emulated link, with its lag and
 * partitions (a strong read of an MRSC table would see it at once: the emulator is slower than
 * AWS there, never faster). An eventually consistent read answers from the region's own copy
 * without the rule. docs/ARCHITECTURE.md, "The local runtime".
 */
export class QuorumVolume {
  /** Requests refused for want of a majority, per region. */
  readonly refused: Record<SiteId, number> = { production: 0, standby: 0 };
  /** Writes of the cluster record first refused as concurrent with the other region's, per region. */
  readonly conflicts: Record<SiteId, number> = { production: 0, standby: 0 };
  private lastWrite: { readonly site: SiteId; readonly atMs: number } | undefined;

  constructor(
    private readonly table: { readonly db: DynamoDBDocumentClient; readonly name: string },
    private readonly reach: Reachability,
    /** The heartbeat volume's table name in each site's region. */
    private readonly volume: string,
  ) {}

  /** Whether `site`'s region reaches a majority of the three now. */
  hasMajority(site: SiteId): boolean {
    return this.reach.sitesLinked() || this.reach.witnessLinked(site);
  }

  /**
   * Routes `site`'s requests to the heartbeat volume through the majority rule; the handlers use their client
   * unchanged.
   * `observer`: the runtime's own reads after a run (what `mirrorbeat status` would say), which see the cluster record
   * where it lives but are no caller in a region, so the rule does not apply to them.
   */
  bind(db: DynamoDBDocumentClient, site: SiteId, observer = false): void {
    (db as unknown as Stack).middlewareStack.add(
      (next, context) => async (args) => {
        const name = context.commandName ?? '';
        // Here, ahead of the document client's marshalling, the input is still plain JavaScript.
        if (args.input.TableName !== this.volume) return next(args);
        // Ahead of the SDK's retry loop too: a region that reaches no majority gets no answer, and the caller's
        // deadline ends the whole call (a retry inside it would not come back either).
        if (!observer && needsMajority(name, args.input) && !this.hasMajority(site)) {
          this.refused[site] += 1;
          throw noMajorityError(site);
        }
        if (!(name in COMMANDS) || !touchesCluster(args.input)) return next(args);
        if (WRITES.has(name) && this.concurrent(site)) {
          // The exception carries the retryable trait: a client that tries more than once retries it, a backoff later,
          // when the other write has committed; one that tries once gets it.
          this.conflicts[site] += 1;
          if ((await db.config.maxAttempts()) < 2)
            throw new ReplicatedWriteConflictException({
              message: 'one or more items in the request are being modified by a request in another Region',
              $metadata: {},
            });
        }
        const Command = COMMANDS[name as Redirected] as new (
          input: never,
        ) => Parameters<DynamoDBDocumentClient['send']>[0];
        const output = await this.table.db.send(new Command({ ...args.input, TableName: this.table.name } as never));
        return { output, response: {} };
      },
      { step: 'initialize', name: 'mirrorbeatQuorumVolume', priority: 'high' },
    );
  }

  /** Whether a write of the cluster record now meets the other region's still in flight (WRITE_CONFLICT_MS). */
  private concurrent(site: SiteId): boolean {
    const now = this.reach.nowMs();
    const other = this.lastWrite;
    this.lastWrite = { site, atMs: now };
    return other !== undefined && other.site !== site && now - other.atMs < WRITE_CONFLICT_MS;
  }
}
