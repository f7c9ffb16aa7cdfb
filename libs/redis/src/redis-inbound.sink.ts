import type Redis from 'ioredis';
import type { Queue } from 'bullmq';
import { InboundSink, type InboundChange, type IntakeResult } from '@presence-sync/domain';
import { INBOUND_JOB_OPTIONS, JOBS } from './queue-definitions';
import { jobIdOf, RedisKeys } from './redis-keys';

/**
 * Durable intake. Resolves only once every new change is in the `inbound` queue, so the caller may then
 * acknowledge its source. Order: read seen markers → add jobs (idempotent on a job id derived from
 * side + event id) → write seen markers. A crash between the last two steps makes the source re-send; the
 * job id absorbs the repeat while the job exists, and the engine's per-event idempotency after that.
 */
export class RedisInboundSink extends InboundSink {
  constructor(
    private readonly redis: Redis,
    private readonly queue: Queue,
    private readonly keys: RedisKeys,
    private readonly dedupTtlSec: number,
  ) {
    super();
  }

  async accept(changes: InboundChange[]): Promise<IntakeResult> {
    const unique = new Map<string, InboundChange>();
    for (const c of changes) if (!unique.has(`${c.side}\n${c.eventId}`)) unique.set(`${c.side}\n${c.eventId}`, c);
    const batch = [...unique.values()];
    if (batch.length === 0) return { accepted: 0, duplicates: changes.length };
    const seenKeys = batch.map((c) => this.keys.seen(c.side, c.eventId));
    const seen = await this.redis.mget(seenKeys);
    const fresh = batch.filter((_, i) => seen[i] === null);
    if (fresh.length > 0) {
      await this.queue.addBulk(fresh.map((c) => ({
        name: c.side === 'acd' ? JOBS.acdChange : JOBS.salesforceChange,
        data: c,
        opts: { ...INBOUND_JOB_OPTIONS, jobId: jobIdOf(`${c.side}\n${c.eventId}`) },
      })));
      const marks = this.redis.pipeline();
      for (const c of fresh) marks.set(this.keys.seen(c.side, c.eventId), '1', 'EX', this.dedupTtlSec);
      await marks.exec();
    }
    return { accepted: fresh.length, duplicates: changes.length - fresh.length };
  }
}
