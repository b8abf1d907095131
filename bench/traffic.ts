import type { SdkCall } from '../local/calls';

/**
 * The DynamoDB traffic of one site pair in steady state, as measured: every request the
 * deployed heartbeat module and network receiver made in the local runtime over a window,
 * counted in request units and scaled to one second. This, not a count by hand, is what the
 * cost model bills (bench/cost.ts).
 */
export interface DynamoTraffic {
  /**
   * Read request units a second, both sites: a strongly consistent read of up to 4 KB is 1, an eventually consistent
   * one 0.5.
   */
  readonly readUnitsPerSecond: number;
  /** Write request units a second in the region written, both sites: up to 1 KB an item is 1. */
  readonly writeUnitsPerSecond: number;
  /** Writes to the heartbeat volume replayed in the other replica (a global table bills them there too). */
  readonly replicatedWriteUnitsPerSecond: number;
  /**
   * Per region and table, units a second (replicated writes land in the replica's region):
   * what provisioned capacity would have to sustain there.
   */
  readonly byTable: Readonly<Record<TrafficTable, Readonly<Record<string, TableUnits>>>>;
  /** Requests a second per site and command, for the report: where the units go. */
  readonly requestsPerSecond: Readonly<Record<string, number>>;
}

/** The two tables, named as the `tableCapacity` key names them. */
export type TrafficTable = 'heartbeatVolume' | 'observations';
export interface TableUnits {
  readonly read: number;
  readonly write: number;
}

const READS = new Set(['GetItemCommand', 'QueryCommand']);
const WRITES = new Set(['PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand']);
/** The steady loop: the module and the receiver. The workflows' steps run on failovers and operators' commands only. */
const STEADY_HANDLERS = new Set(['heartbeat-module', 'network-receiver']);

/** An item's size as DynamoDB counts it, near enough: its attribute names and values as JSON. */
const itemBytes = (input: Readonly<Record<string, unknown>>): number =>
  Buffer.byteLength(JSON.stringify(input.Item ?? input.Key ?? {}));

/**
 * Counts the calls sent in [fromMs, toMs) (the runtime's clock) by the steady handlers.
 * `isVolume` tells the heartbeat volume (global) from the observations tables (one per region).
 */
export function dynamoTraffic(
  calls: readonly SdkCall[],
  fromMs: number,
  toMs: number,
  isVolume: (table: string) => boolean,
): DynamoTraffic {
  let reads = 0;
  let writes = 0;
  let replicated = 0;
  const requests: Record<string, number> = {};
  const byTable: Record<TrafficTable, Record<string, { read: number; write: number }>> = {
    heartbeatVolume: {},
    observations: {},
  };
  const regions = [...new Set(calls.map((c) => c.region))];
  const add = (region: string, table: TrafficTable, what: 'read' | 'write', units: number) => {
    const entry = (byTable[table][region] ??= { read: 0, write: 0 });
    entry[what] += units;
  };
  for (const call of calls) {
    if (call.client !== 'DynamoDBClient' || call.atMs === undefined || call.atMs < fromMs || call.atMs >= toMs)
      continue;
    if (!STEADY_HANDLERS.has(call.handler)) continue;
    const table = String(call.input.TableName);
    const kind: TrafficTable = isVolume(table) ? 'heartbeatVolume' : 'observations';
    const key = `${call.handler} ${call.command.replace(/Command$/, '')} ${kind === 'heartbeatVolume' ? 'volume' : kind}`;
    requests[key] = (requests[key] ?? 0) + 1;
    if (READS.has(call.command)) {
      const units = call.input.ConsistentRead === true ? 1 : 0.5;
      reads += units;
      add(call.region, kind, 'read', units);
    } else if (WRITES.has(call.command)) {
      const units = Math.max(1, Math.ceil(itemBytes(call.input) / 1024));
      writes += units;
      add(call.region, kind, 'write', units);
      if (kind === 'heartbeatVolume') {
        replicated += units;
        for (const other of regions) if (other !== call.region) add(other, kind, 'write', units);
      }
    }
  }
  const seconds = (toMs - fromMs) / 1000;
  const perSecond = (n: number) => Math.round((n / seconds) * 1000) / 1000;
  const unitsPerSecond = (byRegion: Record<string, { read: number; write: number }>) =>
    Object.fromEntries(
      Object.keys(byRegion)
        .sort()
        .map((region) => {
          const { read, write } = byRegion[region] as { read: number; write: number };
          return [region, { read: perSecond(read), write: perSecond(write) }];
        }),
    );
  // Per site: the pair's requests are two sites' worth.
  const requestsPerSecond = Object.fromEntries(
    Object.entries(requests)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, n]) => [k, perSecond(n / 2)]),
  );
  return {
    readUnitsPerSecond: perSecond(reads),
    writeUnitsPerSecond: perSecond(writes),
    replicatedWriteUnitsPerSecond: perSecond(replicated),
    byTable: {
      heartbeatVolume: unitsPerSecond(byTable.heartbeatVolume),
      observations: unitsPerSecond(byTable.observations),
    },
    requestsPerSecond,
  };
}
