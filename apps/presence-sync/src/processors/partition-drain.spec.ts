import type { RedisClient, RedisPartitionWork } from '@presence-sync/redis';
import type { RedisErrorLog } from '../logging/redis-error.log';
import type { InboxApplier } from './inbox-applier';
import { PartitionDrain } from './partition-drain';
import type { SyncRunner } from './sync-runner';

/** A ready set per partition, read the way BZPOPMIN reads it: a read waits until an inbox is there or the connection closes. */
class FakeReadySets {
  private readonly sets = new Map<number, string[]>();
  private readonly waiters = new Map<number, ((inbox: string) => void)[]>();

  add(n: number, inbox: string): void {
    const waiter = this.waiters.get(n)?.shift();
    if (waiter) waiter(inbox);
    else this.sets.set(n, [...(this.sets.get(n) ?? []), inbox]);
  }

  next(n: number, connection: { closed: Promise<void> }): Promise<string | undefined> {
    const queued = this.sets.get(n)?.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      this.waiters.set(n, [...(this.waiters.get(n) ?? []), resolve]);
      void connection.closed.then(() => reject(new Error('Connection is closed.')));
    });
  }
}

function drainWith(concurrency: number, wait: () => Promise<void> = async () => undefined) {
  const ready = new FakeReadySets();
  const applied: string[] = [];
  const redis = {
    duplicate: () => {
      let close!: () => void;
      const closed = new Promise<void>((resolve) => { close = resolve; });
      return { closed, disconnect: () => close() };
    },
  };
  const work = {
    nextReady: (connection: { closed: Promise<void> }, n: number) => ready.next(n, connection),
    claimDue: async () => [],
    ready: async () => undefined,
    remove: async () => undefined,
  };
  const applier = { apply: async (inbox: string) => { applied.push(inbox); await wait(); return '1 applied'; } };
  const syncs = { hold: () => undefined, idle: async () => undefined, start: () => undefined };
  const drain = new PartitionDrain(
    redis as unknown as RedisClient, work as unknown as RedisPartitionWork, applier as unknown as InboxApplier, syncs as unknown as SyncRunner,
    { watch: () => undefined } as unknown as RedisErrorLog, { concurrency, duePollMs: 60_000, guardMs: 5_000 },
  );
  return { drain, ready, applied };
}

const until = async (what: () => boolean): Promise<void> => {
  for (let i = 0; i < 200 && !what(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  expect(what()).toBe(true);
};

describe('PartitionDrain', () => {
  it('a partition waiting on an empty ready set holds no slot: with one slot, another partition\'s inbox is applied at once', async () => {
    const { drain, ready, applied } = drainWith(1);
    drain.take(0);
    drain.take(1);
    ready.add(1, 'agent/a-2');
    await until(() => applied.length === 1);
    ready.add(0, 'agent/a-1');
    await until(() => applied.length === 2);
    expect(applied).toEqual(['agent/a-2', 'agent/a-1']);
    await Promise.all([drain.give(0), drain.give(1)]);
  });

  it('giving a partition up ends its blocking read; its inboxes are no longer taken', async () => {
    const { drain, ready, applied } = drainWith(4);
    drain.take(0);
    await drain.give(0);
    ready.add(0, 'agent/a-1');
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(applied).toEqual([]);
  });

  it('takes an inbox handed over by intake here only for a partition it works, and applies it', async () => {
    const { drain, applied } = drainWith(4);
    drain.take(0);
    expect(drain.handOver(1, 'agent/a-9')).toBe(false);
    expect(drain.handOver(0, 'agent/a-1')).toBe(true);
    await until(() => applied.length === 1);
    expect(applied).toEqual(['agent/a-1']);
    await drain.give(0);
    expect(drain.handOver(0, 'agent/a-1')).toBe(false);
  });

  it('takes no hand-over past its slots (the backlog stays in the ready set), except for an inbox it applies now', async () => {
    let release!: () => void;
    const blocked = new Promise<void>((resolve) => { release = resolve; });
    const { drain, applied } = drainWith(1, () => blocked);
    drain.take(0);
    expect(drain.handOver(0, 'agent/a-1')).toBe(true);
    await until(() => applied.length === 1);
    expect(drain.handOver(0, 'agent/a-2')).toBe(false);
    expect(drain.handOver(0, 'agent/a-1')).toBe(true); // applied once more after the current run
    release();
    await until(() => applied.length === 2);
    expect(applied).toEqual(['agent/a-1', 'agent/a-1']);
    expect(drain.handOver(0, 'agent/a-2')).toBe(true);
    await until(() => applied.length === 3);
    await drain.give(0);
  });
});
