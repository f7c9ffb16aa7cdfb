import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import type { InboundChange } from '@presence-sync/domain';
import { agentInbox, DrainHandoff, RedisInboundSink, RedisKeys } from '@presence-sync/redis';
import { dropPrefix } from '../../support/daemon-harness';

/*
 * Intake hands an inbox straight to the drain of its own process when this replica holds the partition's lease
 * (DrainHandoff): the ready set is left alone. Whenever that is not so (another replica's lease, no lease, a drain
 * that no longer works the partition) the inbox is marked ready, so its owner's blocking read takes it up.
 */
const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const keys = new RedisKeys(`t${randomUUID().slice(0, 8)}`);
const inboxOf = (c: InboundChange) => agentInbox(c.side === 'acd' ? c.agentId : c.userId);

afterAll(async () => {
  await dropPrefix(redis, keys.prefix);
  redis.disconnect();
});

/** @param wouldTake what the drain says before intake's script runs; @param takes whether it takes the inbox after */
function setup(wouldTake: boolean, takes = wouldTake) {
  const agentId = `a-${randomUUID().slice(0, 8)}`;
  const inbox = agentInbox(agentId);
  const partition = keys.partitionOfInbox(inbox);
  const handoff = new DrainHandoff(`replica-${randomUUID().slice(0, 8)}`);
  const handed: [number, string][] = [];
  handoff.attach({
    wouldTake: () => wouldTake,
    handOver: (n, id) => {
      if (takes) handed.push([n, id]);
      return takes;
    },
  });
  const sink = new RedisInboundSink(redis, keys, 3600, inboxOf, undefined, handoff);
  const change = (eventId = randomUUID()): InboundChange => ({ side: 'acd', eventId, agentId, occurredAt: 1, receivedAt: 1, state: { state: 'Available' } });
  const ready = () => redis.zscore(keys.ready(partition), inbox);
  return { inbox, partition, handoff, handed, sink, change, ready };
}

describe('intake hands an inbox to the drain of the replica that works its partition', () => {
  it('leaves the ready set alone when the lease is this replica\'s and its drain takes the inbox', async () => {
    const s = setup(true);
    await redis.set(keys.owner(s.partition), s.handoff.owner);
    const dup = s.change();
    expect(await s.sink.accept([dup])).toEqual({ accepted: 1, duplicates: 0 });
    expect(await s.sink.accept([dup])).toEqual({ accepted: 0, duplicates: 1 });
    expect(s.handed).toEqual([[s.partition, s.inbox], [s.partition, s.inbox]]);
    expect(await s.ready()).toBeNull();
    expect(await redis.llen(keys.inbox(s.inbox))).toBe(1);
  });

  it.each([
    ['another replica holds the lease', 'replica-elsewhere', true, true],
    ['nobody holds the lease', undefined, true, true],
    ['the lease is ours but the drain here does not work the partition or has no free slot', 'ours', false, false],
    ['the lease is ours but the drain here let the partition go or filled up while the script ran', 'ours', true, false],
  ])('marks the inbox ready when %s', async (_case, holder, wouldTake, takes) => {
    const s = setup(wouldTake, takes);
    if (holder) await redis.set(keys.owner(s.partition), holder === 'ours' ? s.handoff.owner : holder);
    expect(await s.sink.accept([s.change()])).toEqual({ accepted: 1, duplicates: 0 });
    expect(s.handed).toEqual([]);
    expect(await s.ready()).not.toBeNull();
    expect(await redis.llen(keys.inbox(s.inbox))).toBe(1);
  });

  it('an empty token never matches a lease, even one holding the empty string', async () => {
    const agentId = `a-${randomUUID().slice(0, 8)}`;
    const inbox = agentInbox(agentId);
    const partition = keys.partitionOfInbox(inbox);
    const tokenless = new DrainHandoff('');
    const handed: string[] = [];
    tokenless.attach({ wouldTake: () => true, handOver: (_n, id) => { handed.push(id); return true; } });
    await redis.set(keys.owner(partition), '');
    const sink = new RedisInboundSink(redis, keys, 3600, inboxOf, undefined, tokenless);
    await sink.accept([{ side: 'acd', eventId: randomUUID(), agentId, occurredAt: 1, receivedAt: 1, state: { state: 'Available' } }]);
    expect(handed).toEqual([]);
    expect(await redis.zscore(keys.ready(partition), inbox)).not.toBeNull();
  });
});
