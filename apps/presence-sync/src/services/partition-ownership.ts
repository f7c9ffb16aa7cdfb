import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { Logger } from '@nestjs/common';
import type Redis from 'ioredis';
import { RedisLease, type RedisKeys } from '@presence-sync/redis';
import { assignPartitions, partitionsOf } from '@presence-sync/sync';
import { withDeadline } from '../deadline';

/** What the owner of a partition does when it takes or gives up a partition (PartitionWorkers). */
export interface PartitionHolder {
  /** Start working partition n (its workers, and the inboxes it holds). */
  take(n: number): Promise<void>;
  /** Stop working partition n: its running jobs finish (within the holder's own deadline), then it is free. */
  give(n: number): Promise<void>;
}

export interface PartitionOwnershipOptions {
  /** How often members heartbeat and recompute the assignment, ms. */
  heartbeatMs: number;
  /** A member missing heartbeats this long is taken as gone; also the partition leases' TTL, ms. */
  ttlMs: number;
}

/** A replica's identity in the member list and its partition leases' token: host, pid and a random part. */
export function newReplicaId(): string {
  return `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
}

/**
 * Which partitions this replica works. Every replica heartbeats into a member list (a sorted set scored by expiry)
 * and computes the same balanced assignment from it (`assignPartitions`). A partition is worked under a lease
 * (`{prefix}:{pn}:owner`), so a replica starts on a partition only once the previous owner gave it up (it saw
 * the same new assignment) or its lease expired (it died). Stopping (SIGTERM) leaves the list and gives every
 * partition up, so the others take them at their next heartbeat.
 *
 * Ownership spreads the work and keeps one worker per agent at a time; it is not what keeps changes in order or
 * applied once (the inbox and the record's compare-and-set do that), so a brief overlap after a pause is harmless.
 */
export class PartitionOwnership {
  private readonly logger = new Logger(PartitionOwnership.name);
  private readonly leases = new Map<number, RedisLease>();
  private readonly held = new Set<number>();
  private timer?: NodeJS.Timeout;
  private ticking?: Promise<void>;
  private stopped = false;
  /** When the held leases were last renewed; past the TTL they may be another replica's. */
  private renewedAt = 0;
  private members: string[] = [];
  private assignment?: { key: string; mine: number[] };

  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly holder: PartitionHolder,
    private readonly options: PartitionOwnershipOptions,
    readonly replicaId = newReplicaId(),
  ) {}

  /** The partitions this replica works now. */
  get partitions(): number[] {
    return [...this.held].sort((a, b) => a - b);
  }

  /** How many partitions the deployment has. */
  get partitionCount(): number {
    return this.keys.partitions;
  }

  /** The live replicas as last read. */
  get liveMembers(): string[] {
    return [...this.members];
  }

  /** Joins the member list and takes this replica's share (the first round is awaited). */
  async start(): Promise<void> {
    this.stopped = false;
    await this.tick();
    this.timer = setInterval(() => void this.tick(), this.options.heartbeatMs);
    this.timer.unref();
  }

  /** Leaves the member list and gives every partition up (their running jobs finish first). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.ticking?.catch(() => undefined);
    await this.redis.zrem(this.keys.members, this.replicaId).catch(() => 0);
    await Promise.all(this.partitions.map((n) => this.give(n)));
  }

  /** One round: heartbeat, read the members, give up what is not ours any more, take what is. */
  tick(): Promise<void> {
    if (this.ticking) return this.ticking;
    // Commands wait for Redis instead of failing while it is away: a round that hangs counts as failed.
    this.ticking = withDeadline(this.round(), this.options.ttlMs, `no answer from Redis within ${this.options.ttlMs} ms`).catch((e: unknown) => {
      this.logger.warn({ msg: 'partition ownership round failed; retrying', error: e instanceof Error ? e.message : String(e) });
      // Leases not renewed for a TTL may be another replica's by now: stop working them.
      if (Date.now() - this.renewedAt > this.options.ttlMs) return Promise.all(this.partitions.map((n) => this.give(n, false))).then(() => undefined);
      return undefined;
    }).finally(() => {
      this.ticking = undefined;
    });
    return this.ticking;
  }

  private async round(): Promise<void> {
    if (this.stopped) return;
    const now = Date.now();
    const [, , members] = await Promise.all([
      this.redis.zadd(this.keys.members, now + this.options.ttlMs, this.replicaId),
      this.redis.zremrangebyscore(this.keys.members, '-inf', now),
      this.redis.zrange(this.keys.members, 0, -1),
    ]);
    if (this.stopped) return;
    this.members = members.includes(this.replicaId) ? members : [...members, this.replicaId];
    const mine = new Set(this.assigned());
    await Promise.all(this.partitions.filter((n) => !mine.has(n)).map((n) => this.give(n)));
    const renewStarted = Date.now();
    // Only a failed round (Redis away) leaves renewedAt behind; a partition still held by its previous owner
    // (handing over) is simply not acquired yet.
    await Promise.all([...mine].map(async (n) => {
      const lease = this.lease(n);
      const ok = this.held.has(n) ? await lease.renew() : await lease.acquire();
      if (ok && !this.held.has(n) && !this.stopped) {
        this.held.add(n);
        try {
          await this.holder.take(n);
        } catch (e) {
          this.held.delete(n);
          await lease.release().catch(() => false);
          throw e;
        }
      } else if (!ok && this.held.has(n)) {
        // Lost it (expired while Redis was away, say): stop working it; it is somebody else's now.
        await this.give(n, false);
      }
    }));
    this.renewedAt = renewStarted;
  }

  /** This replica's share under the current member list; computed again only when the list changed. */
  private assigned(): number[] {
    const key = [...this.members].sort().join('\n');
    if (this.assignment?.key !== key) this.assignment = { key, mine: partitionsOf(this.replicaId, assignPartitions(this.keys.partitions, this.members)) };
    return this.assignment.mine;
  }

  private lease(n: number): RedisLease {
    let lease = this.leases.get(n);
    if (!lease) {
      lease = new RedisLease(this.redis, this.keys.owner(n), this.options.ttlMs, this.replicaId);
      this.leases.set(n, lease);
    }
    return lease;
  }

  private async give(n: number, release = true): Promise<void> {
    if (!this.held.delete(n)) return;
    try {
      await this.holder.give(n);
    } finally {
      if (release) await this.lease(n).release().catch(() => false);
    }
  }
}
