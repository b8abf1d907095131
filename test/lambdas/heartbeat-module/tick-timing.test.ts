import { TickTimings } from '../../../lambdas/heartbeat-module/tick-timing';

describe("an invocation's tick timings", () => {
  it('summarizes wall times against the path timeout, and counts the beats that did not go out', () => {
    const timings = new TickTimings(800);
    for (let i = 1; i <= 100; i += 1)
      timings.record(i * 10, { network: 'sent', storage: i === 100 ? 'failed' : 'sent' });
    expect(timings.summary()).toEqual({
      ticks: 100,
      tickMsP50: 500,
      tickMsP99: 990,
      tickMsMax: 1000,
      ticksOverPathTimeout: 20,
      failedSends: 1,
      pathTimeoutMs: 800,
    });
  });

  it('says so plainly when nothing ticked', () => {
    expect(new TickTimings(800).summary()).toMatchObject({ ticks: 0, tickMsP99: 0, tickMsMax: 0, failedSends: 0 });
  });
});
