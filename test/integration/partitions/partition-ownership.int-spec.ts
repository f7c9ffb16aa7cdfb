import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { RedisKeys, redisOptionsFromUrl } from '@presence-sync/redis';
import { PartitionOwnership, type PartitionHolder } from '../../../apps/presence-sync/src/services/partition-ownership';
import { waitFor } from '../../support/daemon-harness';

/** Records what it was asked to work, like PartitionWorkers does with workers. */
class RecordingHolder implements PartitionHolder {
  readonly working = new Set<number>();
  readonly log: string[] = [];
  constructor(private readonly giveMs = 0) {}
  async take(n: number): Promise<void> {
    this.working.add(n);
    this.log.push(`take ${n}`);
  }
  async give(n: number): Promise<void> {
    if (this.giveMs > 0) await new Promise((r) => setTimeout(r, this.giveMs));
    this.working.delete(n);
    this.log.push(`give ${n}`);
  }
}

describe('partition ownership across replicas (real Redis)', () => {
  const PARTITIONS = 8;
  const options = { heartbeatMs: 100, ttlMs: 600 };
  let redis: Redis;
  let keys: RedisKeys;
  const running: PartitionOwnership[] = [];

  const replica = async (holder = new RecordingHolder(), opts = options) => {
    const ownership = new PartitionOwnership(redis, keys, holder, opts);
    running.push(ownership);
    await ownership.start();
    return { ownership, holder };
  };
  /** Every partition is worked by exactly one of the holders. */
  const exactlyOnce = (holders: RecordingHolder[]) => {
    const all = holders.flatMap((h) => [...h.working]);
    return all.length === PARTITIONS && new Set(all).size === PARTITIONS;
  };

  beforeEach(() => {
    redis = new Redis(redisOptionsFromUrl(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'));
    keys = new RedisKeys(`po${randomUUID().slice(0, 8)}`, PARTITIONS);
  });
  afterEach(async () => {
    for (const o of running.splice(0)) await o.stop();
    redis.disconnect();
  });

  it('one replica works every partition, under a lease per partition', async () => {
    const { ownership, holder } = await replica();
    expect(ownership.partitions).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect([...holder.working].sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    for (let n = 0; n < PARTITIONS; n++) expect(await redis.get(keys.owner(n))).toBe(ownership.replicaId);
  });

  it('a second and third replica joining get their share, and no partition is ever worked twice', async () => {
    const a = await replica();
    const b = await replica();
    await waitFor(() => b.ownership.partitions.length === 4 && exactlyOnce([a.holder, b.holder]), 'two replicas share 4 + 4', 5_000);
    const c = await replica();
    await waitFor(() => c.ownership.partitions.length >= 2 && exactlyOnce([a.holder, b.holder, c.holder]), 'three replicas share 8', 5_000);
    for (const r of [a, b, c]) expect(r.ownership.partitions.length).toBeLessThanOrEqual(3);
    // A partition is taken only after its previous owner gave it up: never two workers at once.
    const events: { who: string; what: string; n: number }[] = [];
    for (const [who, r] of [['a', a], ['b', b], ['c', c]] as const) for (const line of r.holder.log) events.push({ who, what: line.split(' ')[0], n: Number(line.split(' ')[1]) });
    for (let n = 0; n < PARTITIONS; n++) {
      const takes = events.filter((e) => e.n === n && e.what === 'take').length;
      const gives = events.filter((e) => e.n === n && e.what === 'give').length;
      expect(takes - gives).toBe(1);
    }
  });

  it('a replica stopping hands its partitions over at once, not after its leases expire', async () => {
    // Leases of 10 s: a handover in well under that is the stopping replica giving its partitions up.
    const long = { heartbeatMs: 100, ttlMs: 10_000 };
    const a = await replica(new RecordingHolder(), long);
    const b = await replica(new RecordingHolder(50), long);
    await waitFor(() => exactlyOnce([a.holder, b.holder]) && b.ownership.partitions.length === 4, 'shared', 5_000);
    const stoppedAt = Date.now();
    await b.ownership.stop();
    running.splice(running.indexOf(b.ownership), 1);
    await waitFor(() => a.ownership.partitions.length === PARTITIONS, 'the survivor works every partition', 5_000);
    // The freed leases were released, not left to expire: the survivor holds them with a full TTL ahead.
    for (let n = 0; n < PARTITIONS; n++) expect(await redis.get(keys.owner(n))).toBe(a.ownership.replicaId);
    // Its next heartbeats see the smaller member list and take the freed leases at once, inside the 3 s the issue
    // allows and far from the 10 s the leases would take to expire.
    expect(Date.now() - stoppedAt).toBeLessThan(3_000);
  });

  it('a replica cut off from Redis stops working its partitions, and the others take them once its leases expire', async () => {
    const a = await replica();
    const lonely = new Redis(redisOptionsFromUrl(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'));
    const bHolder = new RecordingHolder();
    const b = new PartitionOwnership(lonely, keys, bHolder, options);
    await b.start();
    await waitFor(() => b.partitions.length === 4 && a.ownership.partitions.length === 4, 'shared', 5_000);
    // A network partition: its heartbeats and renewals fail from now on; it says goodbye to nobody.
    const cutAt = Date.now();
    lonely.disconnect();
    await waitFor(() => a.ownership.partitions.length === PARTITIONS, 'the survivor takes over', 5_000);
    expect(Date.now() - cutAt).toBeGreaterThanOrEqual(options.ttlMs - 2 * options.heartbeatMs);
    // And the cut-off replica no longer works them (its leases may be somebody else's).
    await waitFor(() => bHolder.working.size === 0, 'the cut-off replica gave its partitions up', 5_000);
    await b.stop();
  });
});
