import { SiteClock } from '../../local/clock';

/** A site's own clocks in the local runtime: the `skew` and `drift` faults of the scenario format. */
describe('a site clock', () => {
  const T0 = 1_765_000_000_000;

  it('runs with the virtual clock until a fault moves it', () => {
    const c = new SiteClock();
    expect([c.mono(T0), c.wall(T0), c.realFor(2_000)]).toEqual([T0, T0, 2_000]);
  });

  it('runs fast or slow from a drift on, keeping what it gained before a change of rate', () => {
    const c = new SiteClock();
    c.drift(T0, 50_000);
    expect(c.mono(T0)).toBe(T0);
    expect(c.mono(T0 + 10_000)).toBe(T0 + 10_500);
    expect(c.realFor(2_100)).toBe(2_000);
    c.drift(T0 + 10_000, -50_000);
    expect(c.mono(T0 + 20_000)).toBe(T0 + 20_000);
    expect(c.realFor(1_900)).toBe(2_000);
  });

  it('steps the wall clock alone on a skew; the monotonic clock is untouched', () => {
    const c = new SiteClock();
    c.drift(T0, 100_000);
    c.skewMs = -45_000;
    expect(c.mono(T0 + 1_000)).toBe(T0 + 1_100);
    expect(c.wall(T0 + 1_000)).toBe(T0 + 1_100 - 45_000);
  });
});
