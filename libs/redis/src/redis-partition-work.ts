import type Redis from 'ioredis';
import type { RedisClient } from './redis-connection';
import type { RedisKeys } from './redis-keys';

/**
 * KEYS: due set. ARGV: now, guard until, limit. Takes up to `limit` entries due by now and pushes each out to the
 * guard time (a claim, not a removal): the run that ends it removes it with its last transition, and if the
 * claiming replica dies first, the entry comes due again at the guard time for the next owner.
 */
const CLAIM_DUE = `
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
if #due > 0 then
  local args = {}
  for j = 1, #due do
    args[2 * j - 1] = ARGV[2]
    args[2 * j] = due[j]
  end
  redis.call('ZADD', KEYS[1], unpack(args))
end
return due
`;

/** KEYS: due set. ARGV: (time, member)…. Removes each member still at its time. */
const SETTLE_DUE = `
for j = 1, #ARGV, 2 do
  if tonumber(redis.call('ZSCORE', KEYS[1], ARGV[j + 1])) == tonumber(ARGV[j]) then redis.call('ZREM', KEYS[1], ARGV[j + 1]) end
end
return 'ok'
`;

interface ScriptedRedis extends Redis {
  psClaimDue(due: string, now: number, guardUntil: number, limit: number): Promise<string[]>;
  psSettleDue(due: string, ...args: (string | number)[]): Promise<string>;
}

/**
 * A partition's work lists in Redis, for its owner: the ready set (inboxes waiting to be applied, filled by intake)
 * and the due set (syncs and confirmation checks at a time, filled by transitions). No jobs, no locks: an entry
 * is taken up by the one replica working the partition, and everything it starts is safe to run again.
 */
export class RedisPartitionWork {
  private readonly redis: ScriptedRedis;

  constructor(redis: RedisClient, private readonly keys: RedisKeys) {
    this.redis = redis as ScriptedRedis;
    if (!('psClaimDue' in redis)) redis.defineCommand('psClaimDue', { numberOfKeys: 1, lua: CLAIM_DUE });
    if (!('psSettleDue' in redis)) redis.defineCommand('psSettleDue', { numberOfKeys: 1, lua: SETTLE_DUE });
  }

  /**
   * Waits up to `timeoutSec` for the next ready inbox of partition n and takes it out of the set. `blocking` is a
   * connection of its own: a blocking read holds it.
   */
  async nextReady(blocking: RedisClient, n: number, timeoutSec: number): Promise<string | undefined> {
    const popped = await blocking.bzpopmin(this.keys.ready(n), timeoutSec);
    return popped ? popped[1] : undefined;
  }

  /** Puts an inbox back in the ready set (applying it failed; it is taken up again). */
  async ready(n: number, inbox: string): Promise<void> {
    await this.redis.zadd(this.keys.ready(n), 'NX', Date.now(), inbox);
  }

  /** Claims the entries of partition n due by `now` (at most `limit`), guarding them until `guardUntil`. */
  claimDue(n: number, now: number, guardUntil: number, limit: number): Promise<string[]> {
    return this.redis.psClaimDue(this.keys.due(n), now, guardUntil, limit);
  }

  /** Removes entries of partition n's due set that are still at the given times (a run handed to the retry queue). */
  async settle(n: number, entries: [member: string, at: number][]): Promise<void> {
    if (entries.length > 0) await this.redis.psSettleDue(this.keys.due(n), ...entries.flatMap(([member, at]) => [at, member]));
  }

  /** Removes entries from partition n's due set (ones no task can be read from). */
  async remove(n: number, members: string[]): Promise<void> {
    if (members.length > 0) await this.redis.zrem(this.keys.due(n), ...members);
  }

  /** Inboxes waiting and entries scheduled, per partition. */
  depthsByPartition(): Promise<{ ready: number; due: number }[]> {
    return Promise.all(Array.from({ length: this.keys.partitions }, async (_, n) => {
      const [ready, due] = await Promise.all([this.redis.zcard(this.keys.ready(n)), this.redis.zcard(this.keys.due(n))]);
      return { ready, due };
    }));
  }

  /** Inboxes waiting and entries scheduled, summed over the partitions. */
  async depths(): Promise<{ ready: number; due: number }> {
    const all = await this.depthsByPartition();
    return { ready: all.reduce((a, d) => a + d.ready, 0), due: all.reduce((a, d) => a + d.due, 0) };
  }
}
