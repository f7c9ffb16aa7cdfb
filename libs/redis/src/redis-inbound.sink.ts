import type Redis from 'ioredis';
import { InboundSink, type InboundChange, type IntakeResult } from '@presence-sync/domain';
import type { PartitionQueues } from './partition-queues';
import { INBOUND_JOB_OPTIONS, JOBS, QUEUES, type IngestJobData } from './queue-definitions';
import { DISCARD_SCRIPT } from './redis-agent-record.store';
import { agentInbox } from './redis-keys';
import { scanKeys } from './redis-scan';

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
  psDiscard(inbox: string, ...entries: string[]): Promise<string>;
}

/** Entries a forward moves at once. */
const FORWARD_BATCH = 32;

/** What forwarding a user inbox did. */
export interface ForwardResult {
  forwarded: number;
  /** The change at the head whose agent the directory does not know (left in place unless discarded). */
  unknown?: InboundChange;
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
    private readonly queues: PartitionQueues,
    private readonly dedupTtlSec: number,
    private readonly inboxOf: (change: InboundChange) => string,
  ) {
    super();
    this.redis = redis as ScriptedRedis;
    if (!('psIntake' in redis)) redis.defineCommand('psIntake', { numberOfKeys: 2, lua: INTAKE });
    if (!('psDiscard' in redis)) redis.defineCommand('psDiscard', { numberOfKeys: 1, lua: DISCARD_SCRIPT });
  }

  async accept(changes: InboundChange[]): Promise<IntakeResult> {
    const inboxes = changes.map((c) => this.inboxOf(c));
    const keys = this.queues.keys;
    const added = await Promise.all(changes.map((c, i) => this.redis.psIntake(keys.seen(inboxes[i], c.side, c.eventId), keys.inbox(inboxes[i]), this.dedupTtlSec, JSON.stringify(c))));
    await this.triggerAll([...new Set(inboxes)]);
    const accepted = added.reduce((n, a) => n + a, 0);
    return { accepted, duplicates: changes.length - accepted };
  }

  /** Queues an ingest job for every inbox that holds changes (boot: a trigger lost in a crash), in every partition. */
  override async recover(): Promise<number> {
    let woken = 0;
    for (let n = 0; n < this.queues.keys.partitions; n++) woken += await this.recoverPartition(n);
    return woken;
  }

  /** Queues an ingest job for every inbox of partition `n` that holds changes (its new owner takes it up). */
  async recoverPartition(n: number): Promise<number> {
    const ids = new Set<string>();
    for (const pattern of this.queues.keys.inboxPatterns(n)) {
      for (const key of await scanKeys(this.redis, pattern)) {
        const id = this.queues.keys.inboxIdOf(key);
        if (id) ids.add(id);
      }
    }
    await this.triggerAll([...ids]);
    return ids.size;
  }

  /**
   * Moves the changes of a Salesforce user's inbox (the user was not known at intake) to their agent's inbox, in
   * order, and queues that inbox's ingest. The two inboxes may be in different partitions (slots), so this is an
   * append followed by a pop, not one script: a crash between them leaves the entries in both, and the agent's
   * inbox applies the copy as a duplicate (same event id).
   * @param agentOf the agent of a change now, per the directory
   * @param discardUnknown drop a change whose agent is still unknown (else stop and report it)
   */
  async forward(inbox: string, agentOf: (change: InboundChange) => string | undefined, discardUnknown = false): Promise<ForwardResult> {
    const keys = this.queues.keys;
    let forwarded = 0;
    for (;;) {
      const raws = await this.redis.lrange(keys.inbox(inbox), 0, FORWARD_BATCH - 1);
      if (raws.length === 0) return { forwarded };
      const changes = raws.map((raw) => JSON.parse(raw) as InboundChange);
      const agentId = agentOf(changes[0]);
      if (agentId === undefined) {
        if (!discardUnknown) return { forwarded, unknown: changes[0] };
        await this.redis.psDiscard(keys.inbox(inbox), raws[0]);
        continue;
      }
      let n = 1;
      while (n < raws.length && agentOf(changes[n]) === agentId) n++;
      const run = raws.slice(0, n);
      await this.redis.rpush(keys.inbox(agentInbox(agentId)), ...run);
      await this.triggerAll([agentInbox(agentId)]);
      if ((await this.redis.psDiscard(keys.inbox(inbox), ...run)) === 'ok') forwarded += n;
    }
  }

  private async triggerAll(inboxes: string[]): Promise<void> {
    if (inboxes.length === 0) return;
    const byPartition = new Map<number, string[]>();
    for (const inbox of inboxes) {
      const n = this.queues.keys.partitionOfInbox(inbox);
      const ids = byPartition.get(n);
      if (ids) ids.push(inbox);
      else byPartition.set(n, [inbox]);
    }
    await Promise.all([...byPartition].map(([n, ids]) => this.queues.queue(QUEUES.inbound, n).addBulk(ids.map((inbox) => {
      const data: IngestJobData = { inbox };
      return { name: JOBS.ingest, data, opts: { ...INBOUND_JOB_OPTIONS, deduplication: { id: inbox, keepLastIfActive: true } } };
    }))));
  }
}
