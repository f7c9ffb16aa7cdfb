import type Redis from 'ioredis';
import type { Queue } from 'bullmq';
import { InboundSink, type InboundChange, type IntakeResult } from '@presence-sync/domain';
import { INBOUND_JOB_OPTIONS, JOBS, type IngestJobData } from './queue-definitions';
import { RedisKeys } from './redis-keys';

/** KEYS: seen marker, inbox. ARGV: marker TTL s, entry. Queues the change unless its event id was seen. */
const INTAKE = `
if redis.call('SET', KEYS[1], '1', 'EX', ARGV[1], 'NX') then
  redis.call('RPUSH', KEYS[2], ARGV[2])
  return 1
end
return 0
`;

interface ScriptedRedis extends Redis {
  psIntake(seen: string, inbox: string, ttl: number, entry: string): Promise<number>;
}

/**
 * Durable intake. Each change goes into its agent's inbox (an atomic "not seen before → append") in the order
 * it arrived; then one `ingest` job per touched inbox is queued (de-duplicated: at most one waits per inbox,
 * next to one running). `accept` resolves only once both are in Redis, so the caller may then acknowledge its
 * source. A crash between the two leaves changes in an inbox with no job: the source re-sends (it was not
 * acknowledged), the re-send is a duplicate whose inbox is triggered all the same, and `recover()` at boot
 * triggers every inbox that holds anything.
 */
export class RedisInboundSink extends InboundSink {
  private readonly redis: ScriptedRedis;

  /** @param inboxOf the inbox a change belongs to (its agent's, resolved through the directory) */
  constructor(
    redis: Redis,
    private readonly queue: Queue,
    private readonly keys: RedisKeys,
    private readonly dedupTtlSec: number,
    private readonly inboxOf: (change: InboundChange) => string,
  ) {
    super();
    this.redis = redis as ScriptedRedis;
    if (!('psIntake' in redis)) redis.defineCommand('psIntake', { numberOfKeys: 2, lua: INTAKE });
  }

  async accept(changes: InboundChange[]): Promise<IntakeResult> {
    const inboxes = changes.map((c) => this.inboxOf(c));
    const added = await Promise.all(changes.map((c, i) => this.redis.psIntake(this.keys.seen(c.side, c.eventId), this.keys.inbox(inboxes[i]), this.dedupTtlSec, JSON.stringify(c))));
    await this.triggerAll([...new Set(inboxes)]);
    const accepted = added.reduce((n, a) => n + a, 0);
    return { accepted, duplicates: changes.length - accepted };
  }

  /** Queues an ingest job for every inbox that holds changes (boot: a trigger lost in a crash). */
  override async recover(): Promise<number> {
    const ids = new Set<string>();
    for (const pattern of this.keys.inboxPatterns) {
      let cursor = '0';
      do {
        const [next, keys] = await this.redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
        cursor = next;
        for (const key of keys) {
          const id = this.keys.inboxIdOf(key);
          if (id) ids.add(id);
        }
      } while (cursor !== '0');
    }
    await this.triggerAll([...ids]);
    return ids.size;
  }

  private async triggerAll(inboxes: string[]): Promise<void> {
    if (inboxes.length === 0) return;
    await this.queue.addBulk(inboxes.map((inbox) => {
      const data: IngestJobData = { inbox };
      return { name: JOBS.ingest, data, opts: { ...INBOUND_JOB_OPTIONS, deduplication: { id: inbox, keepLastIfActive: true } } };
    }));
  }
}
