import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { benchTunings, detectionFigures, upperBound95 } from '../../bench/detection';
import { configAtInterval } from '../../bench/intervals';
import { decide, DETECTOR_IDS } from '../../bench/detectors';
import { phiAccrualDecision, route53Decision } from '../../bench/peers';
import { compared, runBench, writeResults } from '../../bench/run';
import { corpus, FAILURE_CLASSES, generateTrace, NON_FAILURE_CLASSES } from '../../bench/traces';
import { config } from '../helpers';
import { dynamoEndpoint } from '../local-sites';
import { dynamoTraffic } from '../../bench/traffic';
import { provisionedDynamoCost } from '../../bench/cost';
import type { SdkCall } from '../../local/calls';

describe('the benchmark corpus', () => {
  it('holds every class, each trace as its class says', () => {
    const traces = corpus(3, 5);
    for (const cls of [...FAILURE_CLASSES, ...NON_FAILURE_CLASSES])
      expect(traces.filter((t) => t.class === cls)).toHaveLength(3);
    for (const t of traces) {
      if ((FAILURE_CLASSES as readonly string[]).includes(t.class)) expect(t.failureAtMs).toEqual(expect.any(Number));
      else expect(t.failureAtMs).toBeUndefined();
    }
  });

  it('stops every beat after a crash, only network beats in a network partition, and renewals only where a majority is', () => {
    const crash = generateTrace('site-crash', 0, 9);
    const after = (crash.failureAtMs as number) + 25_000;
    expect(crash.beats.filter((b) => b.networkAtMs > after && Number.isFinite(b.networkAtMs))).toEqual([]);
    expect(crash.beats.filter((b) => b.sentAtMs >= (crash.failureAtMs as number))).toEqual([]);
    expect(crash.renewals.quorum.filter((t) => t > after)).toEqual([]);
    const partition = generateTrace('network-partition-long', 0, 9);
    const during = partition.beats.filter((b) => b.sentAtMs > 200_000 && b.sentAtMs < 210_000);
    expect(partition.beats.some((b) => !Number.isFinite(b.networkAtMs))).toBe(true);
    expect(during.every((b) => Number.isFinite(b.storageAtMs))).toBe(true);
    // Production still reaches the witness: its lease goes on being renewed.
    const isolated = generateTrace('site-isolated', 0, 9);
    expect(isolated.renewals.quorum.filter((t) => t > (isolated.failureAtMs as number) + 1_000)).toEqual([]);
    expect(partition.renewals.quorum.length).toBeGreaterThan(100);
  });

  it("runs each site's module as the handler does: one ticker at a time, the next taking over before it stops", () => {
    let handoffs = 0;
    for (let i = 0; i < 40; i += 1) {
      const trace = generateTrace('scheduler-late', i, 2);
      const ticks = trace.checker.flatMap((inv) => inv.ticks).sort((a, b) => a - b);
      // No gap: Scheduler's lateness falls inside the handoff.
      for (let k = 1; k < ticks.length; k += 1)
        expect((ticks[k] as number) - (ticks[k - 1] as number)).toBeLessThanOrEqual(trace.intervalMs + 1e-6);
      trace.checker.slice(1).forEach((inv, k) => {
        handoffs += 1;
        const older = trace.checker[k]?.ticks ?? [];
        // The newer one runs in a fresh container; the older stops at its first tick after the newer's first.
        expect(inv.cold).toBe(true);
        expect(older.filter((t) => t > (inv.ticks[0] as number))).toHaveLength(1);
      });
    }
    expect(handoffs).toBeGreaterThan(10);
  });

  it('gives the same trace for the same seed', () => {
    expect(generateTrace('replication-lag-spike', 2, 4)).toEqual(generateTrace('replication-lag-spike', 2, 4));
  });
});

describe('the detectors, each over traces that tell them apart', () => {
  const tunings = benchTunings(config());
  const crash = generateTrace('site-crash', 1, 11);
  const partition = generateTrace('network-partition-long', 1, 11);

  it("mirrorbeat's own core decides after a crash, once the lease ran out, and never on a partition of one path", () => {
    const decision = decide('mirrorbeat', crash, tunings, 1) as number;
    const lastRenewal = crash.renewals.quorum.filter((t) => t < decision).at(-1) as number;
    expect(decision).toBeGreaterThan(crash.failureAtMs as number);
    // The gate: a lease and the drift margin (quorum mode's 7 s + 1 s at interval 2) with no renewal seen.
    expect(tunings.quorum.leaseSeconds).toBe(7);
    expect(decision - lastRenewal).toBeGreaterThanOrEqual(8_000);
    expect(decide('mirrorbeat', partition, tunings, 1)).toBeUndefined();
    expect(decide('mirrorbeat', generateTrace('storage-partition', 1, 11), tunings, 1)).toBeUndefined();
  });

  it("Route 53's checkers do not see a partition between our regions; threshold 1 decides before threshold 3", () => {
    expect(route53Decision(partition, 3, 5)).toBeUndefined();
    const slow = route53Decision(crash, 3, 5) as number;
    const fast = route53Decision(crash, 1, 5) as number;
    expect(fast).toBeLessThan(slow);
    expect(fast - (crash.failureAtMs as number)).toBeLessThanOrEqual(12_000);
    expect(slow - (crash.failureAtMs as number)).toBeGreaterThanOrEqual(20_000);
  });

  it('phi accrual on one path takes a partition of that path for a failure', () => {
    const decision = phiAccrualDecision(partition) as number;
    expect(decision).toBeGreaterThan(0);
  });

  it('bounds the false-failover rate from above at 95 % (Clopper–Pearson, one-sided)', () => {
    expect(upperBound95(0, 1000)).toBeCloseTo(1 - 0.05 ** (1 / 1000), 6);
    expect(upperBound95(5, 100)).toBeCloseTo(0.1023, 3);
    expect(upperBound95(10, 10)).toBe(1);
  });
});

describe('the DynamoDB traffic the cost bills', () => {
  const call = (over: Partial<SdkCall>): SdkCall => ({
    handler: 'heartbeat-module',
    site: 'production',
    region: 'us-east-1',
    client: 'DynamoDBClient',
    command: 'GetItemCommand',
    input: { TableName: 'mirrorbeat-orders-heartbeat-volume', ConsistentRead: true },
    atMs: 1_000,
    ...over,
  });
  const isVolume = (t: string) => t.endsWith('-heartbeat-volume');

  it('counts units in the window, bills a write to the volume again in the other replica, and leaves the workflows out', () => {
    const calls = [
      call({}),
      call({ input: { TableName: 'mirrorbeat-orders-production-observations' } }),
      call({
        command: 'PutItemCommand',
        input: { TableName: 'mirrorbeat-orders-heartbeat-volume', Item: { pk: 'BEAT' } },
      }),
      call({ command: 'PutItemCommand', input: { TableName: 'x-observations', Item: { big: 'b'.repeat(1500) } } }),
      call({ region: 'us-west-2', site: 'standby', command: 'QueryCommand' }),
      call({ handler: 'failover-steps', command: 'UpdateItemCommand' }),
      call({ atMs: 5_000 }),
    ];
    const t = dynamoTraffic(calls, 0, 2_000, isVolume);
    // 1 + 0.5 (eventually consistent) + 1 reads, 1 + 2 (1.5 KB) writes, over two seconds.
    expect(t).toMatchObject({ readUnitsPerSecond: 1.25, writeUnitsPerSecond: 1.5, replicatedWriteUnitsPerSecond: 0.5 });
    expect(t.byTable).toEqual({
      heartbeatVolume: { 'us-east-1': { read: 0.5, write: 0.5 }, 'us-west-2': { read: 0.5, write: 0.5 } },
      observations: { 'us-east-1': { read: 0.25, write: 1 } },
    });
    // Provisioned at twice the busier region's rate, whole units; quorum mode keeps the volume on demand.
    expect(provisionedDynamoCost(t, 'eventual').tableCapacity).toEqual({
      heartbeatVolume: { read: 1, write: 1 },
      observations: { read: 1, write: 2 },
    });
    expect(provisionedDynamoCost(t, 'strong').tableCapacity).toEqual({ observations: { read: 1, write: 2 } });
  });
});

describe("the bench's sentences", () => {
  it('says slower when mirrorbeat is slower, never "0.43× faster"', () => {
    expect(compared(9_000, 30_000)).toBe('mirrorbeat 3.33× faster than route53-health-check (threshold 3)');
    expect(compared(69_000, 30_000)).toBe('mirrorbeat 2.30× slower than route53-health-check (threshold 3)');
  });
});

describe('mirrorbeat at a 1 s interval', () => {
  it('rides out senders paused up to 5 s (its default lease), and still detects a crash within 8 s', () => {
    // With a lease of 3.5 intervals (3.5 s), about half of these traces failed over by mistake.
    const f = detectionFigures(configAtInterval(config(), 1), 40, [11], ['mirrorbeat']).figures.mirrorbeat;
    expect(f.falseFailoversByClass).toEqual({});
    expect(f.falseFailovers).toBe(0);
    expect(f.maxMs).toBeLessThan(8_000);
  });
});

describe('mirrorbeat bench, reduced', () => {
  it('reports the contract shape for every detector, and writes its results', async () => {
    const run = await runBench({
      config: config(),
      tracesPerClass: 2,
      seeds: [3, 4],
      dynamoEndpoint: dynamoEndpoint(),
      importRuns: 1,
      // What a user waits for is three more CLI processes: `npm run bench` times it, CI need not.
      waits: false,
    });
    const { report } = run;
    expect(Object.keys(report.detection).sort()).toEqual([...DETECTOR_IDS].sort());
    for (const f of Object.values(report.detection)) {
      expect(f).toMatchObject({ traces: 60, failures: 16, nonFailureTraces: 44, falseFailovers: expect.any(Number) });
      // The rate's numerator and denominator are both non-failure traces; early decisions in failure traces are apart.
      for (const cls of Object.keys(f.falseFailoversByClass)) expect(NON_FAILURE_CLASSES).toContain(cls);
      expect(Object.values(f.falseFailoversByClass).reduce((a, b) => a + b, 0)).toBe(f.falseFailovers);
      expect(f.earlyDecisions).toBeLessThanOrEqual(f.failures - f.detected);
      expect(f.falseFailoverRateUpper95).toBeGreaterThan(0);
      expect(f.detected).toBeLessThanOrEqual(f.failures);
    }
    expect(report.config).toMatchObject({ intervalSeconds: 2 });
    // Every interval of the contract, each with its own default timing; the configuration's own row is its run.
    expect(Object.keys(report.intervals).sort()).toEqual(['1', '10', '2', '5']);
    for (const row of Object.values(report.intervals))
      expect(row).toMatchObject({
        p99Ms: expect.any(Number),
        falseFailovers: expect.any(Number),
        nonFailureTraces: 44,
        costPerMonthUsd: expect.any(Number),
      });
    expect(report.intervals['2']).toMatchObject({
      p99Ms: report.detection.mirrorbeat.p99Ms,
      costPerMonthUsd: report.costPerMonthUsd.total,
    });
    // A longer interval ticks less: it costs less and detects later.
    expect(report.intervals['10']?.costPerMonthUsd).toBeLessThan(report.intervals['1']?.costPerMonthUsd as number);
    expect(report.intervals['10']?.leaseSeconds).toBeGreaterThan(report.intervals['1']?.leaseSeconds as number);
    // The backstop waits three intervals: it is the one item that costs more the longer the interval.
    expect(report.intervals['10']?.backstopPerMonthUsd).toBeGreaterThan(
      4 * (report.intervals['2']?.backstopPerMonthUsd as number),
    );
    expect(report.costPerMonthUsd.total).toBeCloseTo(
      Object.values(report.costPerMonthUsd.items).reduce((a, b) => a + b, 0),
      1,
    );
    expect(Object.keys(report.bundleBytes).sort()).toEqual([
      'failover-steps',
      'heartbeat-module',
      'network-receiver',
      'path-control-steps',
    ]);
    expect(report.failover.decisionToPromotedMs).toEqual(expect.any(Number));
    expect(report.failover.stateTransitions).toBeGreaterThan(5);
    expect(report.corpus.classes).toMatchObject({ 'site-crash': 4, 'forged-and-replayed': 4 });
    // A tick's CPU, measured, and stretched to Lambda's CPU share: less memory, longer.
    expect(report.tick).toMatchObject({ memoryMb: config().heartbeatModuleMemoryMb, pathTimeoutMs: 800 });
    // DynamoDB as measured in the runtime's steady state: a tick's reads and writes at both sites, the volume's
    // replicated.
    expect(report.dynamo.readUnitsPerSecond).toBeGreaterThan(4);
    expect(report.dynamo.writeUnitsPerSecond).toBeGreaterThan(2);
    expect(report.dynamo.replicatedWriteUnitsPerSecond).toBeGreaterThan(0.5);
    expect(report.dynamo.requestsPerSecond['network-receiver PutItem observations']).toBeCloseTo(0.5, 1);
    expect(report.tick.steadyP50Ms).toBeGreaterThan(0);
    expect(report.tick.firstMaxMs).toBeGreaterThan(0);
    const at = report.tick.atMemoryMs;
    expect(at['128']?.steadyP99).toBeGreaterThan(at['256']?.steadyP99 as number);
    // Each 128 MB of the always-running module (and of the refused invocations' wait) is about $9.60 a month for the
    // pair.
    const lambda = report.tick.lambdaUsdAtMemory;
    expect((lambda['256'] as number) - (lambda['128'] as number)).toBeCloseTo(9.6, 0);
    const { items } = report.costPerMonthUsd;
    expect(lambda['256']).toBeCloseTo((items.lambda as number) + (items['lambda-backstop'] as number), 2);
    // The backstop (a refused invocation's second look, three intervals and 0.5 s later) is priced apart: at 2 s $1.87.
    expect(items['lambda-backstop']).toBeCloseTo(1.87, 1);
    expect(report.endToEnd.p99Ms['route53-health-check']).toBe(
      (report.detection['route53-health-check'].p99Ms as number) + 60_000,
    );

    const dir = mkdtempSync(path.join(tmpdir(), 'mirrorbeat-bench-'));
    writeResults(dir, run);
    expect(JSON.parse(readFileSync(path.join(dir, 'bench.json'), 'utf8'))).toEqual(report);
    expect(readFileSync(path.join(dir, 'detection.svg'), 'utf8')).toMatch(
      /^<svg[^>]*>[\s\S]*mirrorbeat[\s\S]*<\/svg>\n$/,
    );
    // One row per interval, labelled with its month's cost.
    expect(readFileSync(path.join(dir, 'intervals.svg'), 'utf8').match(/>\d+ s, \$\d+\/month</g)).toHaveLength(4);
  });
});
