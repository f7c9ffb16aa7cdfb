import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type Redis from 'ioredis';

/** Extends the lease only while the key still holds our token (one key: cluster-safe). */
const RENEW_IF_OURS = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0`;

/** Deletes the key only while it still holds our token, so a late release never frees another holder's lease. */
const RELEASE_IF_OURS = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`;

/**
 * A time-bounded exclusive right held in one Redis key (the single-instance pattern of the Redis docs,
 * "Distributed locks"): the value is the holder's token, the key expires after `ttlMs` unless the holder
 * renews it. A holder that dies simply stops renewing, so the right passes on within `ttlMs`.
 *
 * Not a fencing mechanism: a holder paused for longer than `ttlMs` (GC, a frozen VM) may act for a moment
 * after another took over, so what the holder does must tolerate a brief overlap (presence-sync's intake
 * de-duplicates on event id).
 */
export class RedisLease {
  /** This holder's identity, stored as the key's value: host, pid and a random part (unique per instance). */
  readonly token: string;

  constructor(
    private readonly redis: Redis,
    readonly key: string,
    readonly ttlMs: number,
    token = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`,
  ) {
    if (!Number.isInteger(ttlMs) || ttlMs < 1) throw new Error(`RedisLease: ttlMs must be a positive integer, got ${ttlMs}`);
    this.token = token;
  }

  /**
   * Takes the lease if nobody holds it (`SET key token NX PX ttl`). If we hold it already (e.g. a renewal's
   * answer was lost), it is extended instead, so a holder never locks itself out until the key expires.
   */
  async acquire(): Promise<boolean> {
    const set = await this.redis.set(this.key, this.token, 'PX', this.ttlMs, 'NX');
    if (set === 'OK') return true;
    return this.renew();
  }

  /** Extends the lease to `ttlMs` from now; false if it is not ours any more (expired, or taken by another). */
  async renew(): Promise<boolean> {
    return (await this.redis.eval(RENEW_IF_OURS, 1, this.key, this.token, String(this.ttlMs))) === 1;
  }

  /** Gives the lease up so another can take it at once; false (and nothing deleted) if it was not ours. */
  async release(): Promise<boolean> {
    return (await this.redis.eval(RELEASE_IF_OURS, 1, this.key, this.token)) === 1;
  }

  /** The token of the current holder, if any (for status pages). */
  async holder(): Promise<string | undefined> {
    return (await this.redis.get(this.key)) ?? undefined;
  }
}
