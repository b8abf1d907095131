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
}

/** The client command names a document client's requests carry in the middleware context, and the document command to resend each as. */
const COMMANDS = {
  GetItemCommand: GetCommand,
  PutItemCommand: PutCommand,
  UpdateItemCommand: UpdateCommand,
  DeleteItemCommand: DeleteCommand,
} as const;
type Redirected = keyof typeof COMMANDS;

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
 * Multi-region strong consistency of the heartbeat volume, emulated for the one item the role
 * protocol depends on, the cluster record (epoch, primary, lease). It lives in one table behind
 * the majority rule: a strong read or a write from a region succeeds only while that region
 * reaches a majority of production, standby and witness; otherwise the request times out,
 * as a region cut off from the others sees it. Every other item replicates over the emulated
 * link, with its lag and partitions, as before. An eventually consistent read answers from the one
 * copy without the rule (fresher than a cut-off region would see: a simplification on the safe
 * side for the receivers, which only compare epochs). docs/ARCHITECTURE.md, "The local runtime".
 */
export class QuorumVolume {
  /** Requests refused for want of a majority, per region. */
  readonly refused: Record<SiteId, number> = { production: 0, standby: 0 };

  constructor(
    private readonly table: { readonly db: DynamoDBDocumentClient; readonly name: string },
    private readonly reach: Reachability,
  ) {}

  /** Whether `site`'s region reaches a majority of the three now. */
  hasMajority(site: SiteId): boolean {
    return this.reach.sitesLinked() || this.reach.witnessLinked(site);
  }

  /** Routes `site`'s requests for the cluster record through the majority rule; the handlers use their client unchanged. */
  bind(db: DynamoDBDocumentClient, site: SiteId): void {
    (db as unknown as Stack).middlewareStack.add(
      (next, context) => async (args) => {
        const name = context.commandName as Redirected | undefined;
        // Here, ahead of the document client's marshalling, the input is still plain JavaScript.
        if (name === undefined || !(name in COMMANDS) || !touchesCluster(args.input)) return next(args);
        // An eventually consistent read answers from the region's own copy, majority or not.
        const strong = name !== 'GetItemCommand' || args.input.ConsistentRead === true;
        if (strong && !this.hasMajority(site)) {
          this.refused[site] += 1;
          throw Object.assign(
            new Error(
              `dynamodb request to the heartbeat volume timed out: the ${site} region reaches no majority of production, standby and witness`,
            ),
            { name: 'TimeoutError' },
          );
        }
        const Command = COMMANDS[name] as new (input: never) => Parameters<DynamoDBDocumentClient['send']>[0];
        const output = await this.table.db.send(new Command({ ...args.input, TableName: this.table.name } as never));
        return { output, response: {} };
      },
      { step: 'initialize', name: 'mirrorbeatQuorumVolume', priority: 'high' },
    );
  }
}
