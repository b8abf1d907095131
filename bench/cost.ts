import type { MirrorbeatConfig } from '../lib/config';
import { reclaimAfterMs } from '../lambdas/heartbeat-module/ticker';
import type { DynamoTraffic, TableUnits, TrafficTable } from './traffic';

/**
 * Unit prices (USD, us-east-1, on-demand, Linux/arm64), as published on the AWS pricing
 * pages. Read on 2026-11-25 from the pages as last seen by this project; no free tier is
 * subtracted. Change them here, in one place.
 */
export const PRICES_READ_ON = '2026-11-25';
export const PRICES = {
  lambdaArmGbSecond: 0.0000133334,
  lambdaRequest: 0.2 / 1e6,
  dynamoWriteRequestUnit: 0.625 / 1e6,
  dynamoReplicatedWriteRequestUnit: 0.625 / 1e6,
  dynamoReadRequestUnit: 0.125 / 1e6,
  dynamoStorageGbMonth: 0.25,
  /** Provisioned capacity, per unit-hour; a replicated WCU costs what a WCU does since the November 2024 price cut. */
  dynamoWcuHour: 0.00065,
  dynamoReplicatedWcuHour: 0.00065,
  dynamoRcuHour: 0.00013,
  eventBridgeCustomEvent: 1.0 / 1e6,
  schedulerInvocation: 1.0 / 1e6,
  stepFunctionsTransition: 25 / 1e6,
  cloudWatchMetricMonth: 0.3,
  cloudWatchAlarmMonth: 0.1,
  cloudWatchDashboardMonth: 3.0,
  cloudWatchLogsIngestGb: 0.5,
  secretMonth: 0.4,
  secretsApiCall: 0.05 / 1e4,
  kmsKeyMonth: 1.0,
  snsPublish: 0.5 / 1e6,
  route53ArcClusterHour: 2.5,
  route53HealthCheckMonth: 0.75,
  route53HealthCheckFastIntervalMonth: 1.0,
  xrayTraceRecorded: 5.0 / 1e6,
} as const;

/** Lambda's platform log lines (start, report) per invocation, in the JSON log format: about this many bytes. */
const PLATFORM_LOG_BYTES = 400;

/** What one site pair is made of, as deployed: read from the synthesized templates and the module's output. */
export interface DeploymentProfile {
  readonly heartbeatModuleMemoryMb: number;
  readonly receiverMemoryMb: number;
  /** Alarms and dashboards per site; an alarm on metric math is billed per metric it reads. */
  readonly alarmsPerSite: number;
  readonly alarmMetricsPerSite?: number;
  readonly dashboardsPerSite: number;
  /** Distinct custom metric series one site publishes in steady state. */
  readonly metricSeriesPerSite: number;
  /** Bytes of log (EMF lines and log records) per tick and per received beat. */
  readonly logBytesPerTick: number;
  readonly logBytesPerReceipt: number;
  /** The steady DynamoDB traffic, measured in the local runtime (bench/traffic.ts). */
  readonly dynamo: DynamoTraffic;
}

const MONTH_S = 30 * 24 * 3600;
/** A few kilobytes in each of the two regions: the heartbeat volume's replicas and the observations tables. */
const DYNAMO_STORAGE_USD = 2 * 0.001 * PRICES.dynamoStorageGbMonth;
const round = (usd: number) => Math.round(usd * 100) / 100;

/**
 * Monthly cost of one site pair at the configured interval, itemized by service. DynamoDB is
 * billed from the requests the deployed module and receiver made in the local runtime's
 * steady state (bench/traffic.ts): every tick's reads and writes, the standby's extra read
 * half an interval after each tick, the per-minute invocations' ticker claims, the notice
 * flushes and maintenance reads, the primary's renewals. Writes to the heartbeat volume are
 * billed again in the other replica; the witness region holds no billed replica. Notices
 * themselves (a journal write, a fold-window update, an SNS publish) and the workflows' steps
 * are rare and not counted.
 */
export function monthlyCost(
  config: MirrorbeatConfig,
  p: DeploymentProfile,
): { total: number; items: Record<string, number> } {
  const sites = 2;
  const ticksPerMonth = MONTH_S / config.intervalSeconds;
  const invocations = MONTH_S / 60;
  // One invocation ticks all the time (up to 10 minutes each, sleeping between ticks: billed for all of it); the other
  // per-minute invocations find the ticker held, look once more after three intervals (a ticker that died just now
  // is replaced then: lambdas/heartbeat-module/ticker.ts) and return, about 0.2 s of work besides the wait.
  // That second look is the backstop for a ticker killed without warning, and it is priced apart (lambda-backstop): it
  // waits three intervals, so it costs more the longer the interval; without it such a site stays silent until the
  // next minute's invocation.
  const refusedS = 0.2;
  const backstopS = reclaimAfterMs(config.intervalSeconds) / 1000;
  const moduleGbS = (MONTH_S + invocations * refusedS) * (p.heartbeatModuleMemoryMb / 1024);
  const receiverGbS = ticksPerMonth * 0.03 * (p.receiverMemoryMb / 1024);
  const lambda =
    sites *
    ((moduleGbS + receiverGbS) * PRICES.lambdaArmGbSecond + (invocations + ticksPerMonth) * PRICES.lambdaRequest);
  const backstop = sites * invocations * backstopS * (p.heartbeatModuleMemoryMb / 1024) * PRICES.lambdaArmGbSecond;
  const dynamo =
    MONTH_S *
      (p.dynamo.readUnitsPerSecond * PRICES.dynamoReadRequestUnit +
        p.dynamo.writeUnitsPerSecond * PRICES.dynamoWriteRequestUnit +
        p.dynamo.replicatedWriteUnitsPerSecond * PRICES.dynamoReplicatedWriteRequestUnit) +
    DYNAMO_STORAGE_USD;
  const eventBridge = sites * ticksPerMonth * PRICES.eventBridgeCustomEvent;
  const scheduler = sites * invocations * PRICES.schedulerInvocation;
  // Failovers are rare: budget one drill a month of about 12 transitions per workflow.
  const stepFunctions = sites * 2 * 12 * PRICES.stepFunctionsTransition;
  const metrics = sites * p.metricSeriesPerSite * PRICES.cloudWatchMetricMonth;
  const alarms = sites * (p.alarmMetricsPerSite ?? p.alarmsPerSite) * PRICES.cloudWatchAlarmMonth;
  const dashboards = sites * p.dashboardsPerSite * PRICES.cloudWatchDashboardMonth;
  const logs =
    (sites *
      (ticksPerMonth * (p.logBytesPerTick + p.logBytesPerReceipt + PLATFORM_LOG_BYTES) +
        invocations * PLATFORM_LOG_BYTES) *
      PRICES.cloudWatchLogsIngestGb) /
    1024 ** 3;
  // X-Ray's default sampling (1 request a second, then 5 %) traces nearly every invocation at these rates.
  const tracedPerMonth =
    config.tracing === 'all'
      ? Math.min(ticksPerMonth, MONTH_S) + 0.05 * Math.max(0, ticksPerMonth - MONTH_S) + invocations
      : 0;
  const xray = sites * tracedPerMonth * PRICES.xrayTraceRecorded;
  // One secret plus its replica; each module and receiver container re-reads both versions every 5 minutes.
  const secrets = 2 * PRICES.secretMonth + sites * 2 * (MONTH_S / 300) * 2 * PRICES.secretsApiCall;
  const kms = sites * PRICES.kmsKeyMonth;
  const sns = 100 * PRICES.snsPublish;
  const items = {
    lambda: round(lambda),
    'lambda-backstop': round(backstop),
    dynamodb: round(dynamo),
    eventbridge: round(eventBridge),
    scheduler: round(scheduler),
    stepfunctions: round(stepFunctions),
    'cloudwatch-metrics': round(metrics),
    'cloudwatch-alarms': round(alarms),
    'cloudwatch-dashboards': round(dashboards),
    'cloudwatch-logs': round(logs),
    xray: round(xray),
    secretsmanager: round(secrets),
    kms: round(kms),
    sns: round(sns),
  };
  return { total: round(Object.values(items).reduce((a, b) => a + b, 0)), items };
}

/** Hours in the month the cost model bills. */
const MONTH_H = MONTH_S / 3600;

/**
 * Provisioned capacity a table must have to sustain `unitsPerSecond` with this much headroom (burst capacity covers a
 * tick's spike).
 */
export const PROVISIONED_HEADROOM = 2;

/**
 * DynamoDB with provisioned capacity (the `tableCapacity` key) instead of on demand, for the same
 * measured traffic: each table provisioned at twice its busier region's mean rate, in whole
 * units (at least 1). Twice, because a throttled beat is a missed beat: DynamoDB keeps up to
 * five minutes of unused capacity for bursts, but auto scaling reacts in minutes, so the mean
 * alone is not enough. Quorum mode keeps the heartbeat volume on demand (lib/config.ts).
 */
export function provisionedDynamoCost(
  traffic: DynamoTraffic,
  consistency: MirrorbeatConfig['consistency'],
): { total: number; tableCapacity: Partial<Record<TrafficTable, TableUnits>> } {
  const units = (rate: number) => Math.max(1, Math.ceil(rate * PROVISIONED_HEADROOM));
  const tableCapacity: Partial<Record<TrafficTable, TableUnits>> = {};
  let usd = DYNAMO_STORAGE_USD;
  for (const [table, byRegion] of Object.entries(traffic.byTable) as [TrafficTable, Record<string, TableUnits>][]) {
    const rates = Object.values(byRegion);
    if (table === 'heartbeatVolume' && consistency === 'strong') {
      for (const rate of rates)
        usd += MONTH_S * (rate.read * PRICES.dynamoReadRequestUnit + rate.write * PRICES.dynamoWriteRequestUnit);
      continue;
    }
    // One setting for the table, as the key takes it: the busier region's rate.
    const capacity = {
      read: units(Math.max(0, ...rates.map((r) => r.read))),
      write: units(Math.max(0, ...rates.map((r) => r.write))),
    };
    tableCapacity[table] = capacity;
    const wcuHour = table === 'heartbeatVolume' ? PRICES.dynamoReplicatedWcuHour : PRICES.dynamoWcuHour;
    usd += rates.length * MONTH_H * (capacity.read * PRICES.dynamoRcuHour + capacity.write * wcuHour);
  }
  return { total: round(usd), tableCapacity };
}

/** What users pay today for the alternatives, per month. */
export function alternativesCost(): Record<string, number> {
  return {
    'route53-arc-cluster': round(PRICES.route53ArcClusterHour * 24 * 30),
    // Two endpoints (one per region), fast (10 s) interval.
    'route53-health-checks': round(2 * (PRICES.route53HealthCheckMonth + PRICES.route53HealthCheckFastIntervalMonth)),
  };
}
