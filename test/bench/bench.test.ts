import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { DETECTOR_IDS } from '../../bench/detectors';
import { runBench, writeResults } from '../../bench/run';
import { corpus, FAILURE_CLASSES, generateTrace, NON_FAILURE_CLASSES } from '../../bench/traces';
import { config } from '../helpers';
import { dynamoEndpoint } from '../local-sites';

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

  it('stops every beat after a crash, and only network beats during a network partition', () => {
    const crash = generateTrace('site-crash', 0, 9);
    expect(
      [...crash.arrivals.network, ...crash.arrivals.storage].filter((t) => t > (crash.failureAtMs as number) + 25_000),
    ).toEqual([]);
    const partition = generateTrace('network-partition-long', 0, 9);
    const [from, to] = partition.networkDown[0] as readonly [number, number];
    expect(partition.arrivals.network.filter((t) => t > from + 1_000 && t < to)).toEqual([]);
    expect(partition.arrivals.storage.filter((t) => t > from + 1_000 && t < to).length).toBeGreaterThan(10);
  });

  it('gives the same trace for the same seed', () => {
    expect(generateTrace('replication-lag-spike', 2, 4)).toEqual(generateTrace('replication-lag-spike', 2, 4));
  });
});

describe('mirrorbeat bench, reduced', () => {
  it('reports the contract shape for every detector, and writes its results', async () => {
    const { report, latencies } = await runBench({
      config: config(),
      tracesPerClass: 2,
      seed: 3,
      dynamoEndpoint: dynamoEndpoint(),
      importRuns: 1,
    });
    expect(Object.keys(report.detection).sort()).toEqual([...DETECTOR_IDS].sort());
    for (const f of Object.values(report.detection)) {
      expect(f).toMatchObject({ traces: 24, failures: 6, falseFailovers: expect.any(Number) });
      expect(f.detected).toBeLessThanOrEqual(f.failures);
    }
    expect(report.config).toMatchObject({ intervalSeconds: 2 });
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
    expect(report.corpus.classes).toMatchObject({ 'site-crash': 2, 'forged-and-replayed': 2 });

    const dir = mkdtempSync(path.join(tmpdir(), 'mirrorbeat-bench-'));
    writeResults(dir, report, latencies);
    expect(JSON.parse(readFileSync(path.join(dir, 'bench.json'), 'utf8'))).toEqual(report);
    expect(readFileSync(path.join(dir, 'detection.svg'), 'utf8')).toMatch(
      /^<svg[^>]*>[\s\S]*mirrorbeat[\s\S]*<\/svg>\n$/,
    );
  });
});
