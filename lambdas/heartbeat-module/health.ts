import { deadlineSignal } from '../shared/deadlines';
import { DescribeAlarmsCommand, type CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { Health } from '../core/message';
import type { HealthSources } from '../core/wire';

export interface HealthReading {
  readonly health: Health;
  /** Why, in words a person reads in a notice: which alarm, which status code. Empty when ok. */
  readonly evidence: readonly string[];
}

const rank: Record<Health, number> = { ok: 0, degraded: 1, failed: 2 };
const worst = (a: Health, b: Health): Health => (rank[a] >= rank[b] ? a : b);

/**
 * Reads the health of the protected workload from its configured sources, each under the
 * configured timeout. An alarm in ALARM or a failing health URL is `failed`; an alarm without
 * data, or alarms that could not be read, is `degraded`: mirrorbeat does not know, and says so
 * rather than reporting a failure it did not see.
 */
export class HealthProbe {
  constructor(
    private readonly sources: HealthSources,
    private readonly cloudwatch: CloudWatchClient | undefined,
    private readonly fetchFn: typeof fetch = fetch,
  ) {}

  async read(): Promise<HealthReading> {
    const readings = await Promise.all([this.alarms(), this.url()]);
    return {
      health: readings.reduce<Health>((h, r) => worst(h, r.health), 'ok'),
      evidence: readings.flatMap((r) => r.evidence),
    };
  }

  private async alarms(): Promise<HealthReading> {
    const names = this.sources.alarmNames;
    if (names.length === 0 || this.cloudwatch === undefined) return { health: 'ok', evidence: [] };
    try {
      const out = await this.cloudwatch.send(
        new DescribeAlarmsCommand({ AlarmNames: [...names], AlarmTypes: ['MetricAlarm', 'CompositeAlarm'] }),
        { abortSignal: deadlineSignal(this.sources.timeoutMs) },
      );
      const found = [...(out.MetricAlarms ?? []), ...(out.CompositeAlarms ?? [])];
      const evidence: string[] = [];
      let health: Health = 'ok';
      for (const alarm of found) {
        if (alarm.StateValue === 'ALARM') {
          health = 'failed';
          evidence.push(`alarm ${alarm.AlarmName} is ALARM: ${alarm.StateReason ?? ''}`.trim());
        } else if (alarm.StateValue === 'INSUFFICIENT_DATA') {
          health = worst(health, 'degraded');
          evidence.push(`alarm ${alarm.AlarmName} has insufficient data`);
        }
      }
      const missing = names.filter((n) => !found.some((a) => a.AlarmName === n));
      if (missing.length > 0) {
        health = worst(health, 'degraded');
        evidence.push(`alarm not found: ${missing.join(', ')}`);
      }
      return { health, evidence };
    } catch (error) {
      return { health: 'degraded', evidence: [`alarms unreadable: ${String(error)}`] };
    }
  }

  private async url(): Promise<HealthReading> {
    const url = this.sources.url;
    if (url === undefined) return { health: 'ok', evidence: [] };
    try {
      const response = await this.fetchFn(url, {
        method: 'GET',
        redirect: 'manual',
        signal: deadlineSignal(this.sources.timeoutMs),
      });
      await response.body?.cancel();
      return response.ok
        ? { health: 'ok', evidence: [] }
        : { health: 'failed', evidence: [`${url} answered ${response.status}`] };
    } catch (error) {
      return {
        health: 'failed',
        evidence: [`${url} did not answer within ${this.sources.timeoutMs} ms: ${String(error)}`],
      };
    }
  }
}

/** The workload's health for this tick's beat: `ok` without sources; a probe that throws is `degraded`, never a failed tick. */
export async function readHealth(probe: Pick<HealthProbe, 'read'> | undefined): Promise<HealthReading> {
  if (probe === undefined) return { health: 'ok', evidence: [] };
  try {
    return await probe.read();
  } catch (error) {
    return { health: 'degraded', evidence: [`health unreadable: ${String(error)}`] };
  }
}
