import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { HealthProbe } from '../../../lambdas/heartbeat-module/health';

const cloudwatch = mockClient(CloudWatchClient);
const client = new CloudWatchClient({ region: 'us-east-1' });
const sources = (over: Partial<{ alarmNames: string[]; url: string }> = {}) => ({
  alarmNames: [],
  timeoutMs: 200,
  ...over,
});
const answer = (status: number) => (async () => new Response('x', { status })) as unknown as typeof fetch;

beforeEach(() => cloudwatch.reset());

describe('the workload health probe', () => {
  it('is ok with no sources', async () => {
    expect(await new HealthProbe(sources(), undefined).read()).toEqual({ health: 'ok', evidence: [] });
  });

  it('is failed when a named alarm is in ALARM, and says which', async () => {
    cloudwatch.on(DescribeAlarmsCommand).resolves({
      MetricAlarms: [
        { AlarmName: 'orders-5xx', StateValue: 'ALARM', StateReason: 'Threshold crossed' },
        { AlarmName: 'orders-latency', StateValue: 'OK' },
      ],
    });
    const reading = await new HealthProbe(sources({ alarmNames: ['orders-5xx', 'orders-latency'] }), client).read();
    expect(reading).toEqual({ health: 'failed', evidence: ['alarm orders-5xx is ALARM: Threshold crossed'] });
  });

  it('is degraded, not failed, when alarms lack data, are missing or cannot be read', async () => {
    cloudwatch
      .on(DescribeAlarmsCommand)
      .resolves({ MetricAlarms: [{ AlarmName: 'a', StateValue: 'INSUFFICIENT_DATA' }] });
    expect((await new HealthProbe(sources({ alarmNames: ['a', 'b'] }), client).read()).health).toBe('degraded');
    cloudwatch.on(DescribeAlarmsCommand).rejects(new Error('Throttling'));
    expect(await new HealthProbe(sources({ alarmNames: ['a'] }), client).read()).toMatchObject({
      health: 'degraded',
      evidence: [expect.stringContaining('Throttling')],
    });
  });

  it('is failed when the health URL answers non-2xx or not at all', async () => {
    const url = 'https://orders.example.com/health';
    expect((await new HealthProbe(sources({ url }), undefined, answer(200)).read()).health).toBe('ok');
    expect(await new HealthProbe(sources({ url }), undefined, answer(503)).read()).toEqual({
      health: 'failed',
      evidence: [`${url} answered 503`],
    });
    const hangs = ((_u: unknown, init: { signal: AbortSignal }) =>
      new Promise((_, reject) =>
        init.signal.addEventListener('abort', () => reject(new Error('aborted'))),
      )) as unknown as typeof fetch;
    expect((await new HealthProbe(sources({ url }), undefined, hangs).read()).health).toBe('failed');
  });
});
