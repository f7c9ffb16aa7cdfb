import { EVENT_LOOP_LAG_LIMIT_MS, EventLoopWatcher } from './event-loop.watcher';

describe(EventLoopWatcher.name, () => {
  const t0 = 1_000_000;

  it('reports no lag while its timer fires on time', () => {
    const watcher = new EventLoopWatcher();
    watcher.start(t0);
    watcher.tick(t0 + 500);
    watcher.tick(t0 + 1001);
    expect(watcher.lagMs(t0 + 1200)).toBe(1);
  });

  it('reports how late the last tick fired, until a tick is on time again', () => {
    const watcher = new EventLoopWatcher();
    watcher.start(t0);
    watcher.tick(t0 + 500 + 7_000);
    expect(watcher.lagMs(t0 + 7_600)).toBe(7_000);
    expect(watcher.lagMs(t0 + 7_600)).toBeGreaterThan(EVENT_LOOP_LAG_LIMIT_MS);
    watcher.tick(t0 + 8_000);
    expect(watcher.lagMs(t0 + 8_100)).toBe(0);
  });

  it('counts an overdue tick before it fires', () => {
    const watcher = new EventLoopWatcher();
    watcher.start(t0);
    expect(watcher.lagMs(t0 + 500 + 6_000)).toBe(6_000);
  });
});
