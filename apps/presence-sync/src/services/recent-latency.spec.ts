import { percentile, RecentLatency } from './recent-latency';

describe(RecentLatency.name, () => {
  it('gives p50, p95 and max per direction over the window', () => {
    const recent = new RecentLatency({ windowMs: 60_000 });
    const t0 = 1_000_000;
    // 1..100 ms toward Salesforce, one slow write the other way.
    for (let ms = 1; ms <= 100; ms++) recent.record('acd->salesforce', ms, t0 + ms);
    recent.record('salesforce->acd', 2_500, t0 + 200);
    expect(recent.summary(t0 + 1_000)).toEqual({
      'acd->salesforce': { count: 100, p50Ms: 50, p95Ms: 95, maxMs: 100 },
      'salesforce->acd': { count: 1, p50Ms: 2_500, p95Ms: 2_500, maxMs: 2_500 },
    });
  });

  it('forgets writes older than the window, and leaves out a direction with none left', () => {
    const recent = new RecentLatency({ windowMs: 60_000 });
    recent.record('acd->salesforce', 900, 10_000);
    recent.record('salesforce->acd', 40, 65_000);
    recent.record('salesforce->acd', 60, 69_000);
    expect(recent.summary(70_001)).toEqual({ 'salesforce->acd': { count: 2, p50Ms: 40, p95Ms: 60, maxMs: 60 } });
    expect(recent.summary(200_000)).toEqual({});
  });

  it('keeps at most maxSamples for the percentiles but counts every write', () => {
    const recent = new RecentLatency({ windowMs: 60_000, maxSamples: 10 });
    // 20 writes: the first ten slow, the newest ten fast; only the newest ten are kept.
    for (let i = 0; i < 20; i++) recent.record('acd->salesforce', i < 10 ? 1_000 : 10, 5_000 + i);
    expect(recent.summary(6_000)['acd->salesforce']).toEqual({ count: 20, p50Ms: 10, p95Ms: 10, maxMs: 10 });
  });

  it('ignores a negative or non-finite latency', () => {
    const recent = new RecentLatency();
    recent.record('acd->salesforce', -5, 1_000);
    recent.record('acd->salesforce', Number.NaN, 1_000);
    expect(recent.summary(1_000)).toEqual({});
  });
});

describe('percentile', () => {
  it.each([
    [[], 0.5, 0],
    [[7], 0.95, 7],
    [[1, 2, 3, 4], 0.5, 2],
    [[1, 2, 3, 4], 0.95, 4],
    [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9, 9],
  ])('of %j at %d is %d (nearest rank)', (sorted, p, expected) => {
    expect(percentile(sorted, p)).toBe(expected);
  });
});
