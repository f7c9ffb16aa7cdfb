import type Redis from 'ioredis';
import { InboundSink, type InboundChange, type IntakeResult } from '@presence-sync/domain';
import { DISCARD_SCRIPT } from './redis-agent-record.store';
import type { DrainHandoff } from './drain-handoff';
import type { InboxAppends } from './inbox-appends';
import { agentInbox, type RedisKeys } from './redis-keys';
import { scanKeys } from './redis-scan';

/**
 * KEYS: seen marker, inbox, the partition's ready set, the partition's owner lease. ARGV: marker TTL s, entry,
 * inbox id, now (ms), this replica's lease token ('' if none). Queues the change unless its event id was seen, and
 * marks the inbox ready (a duplicate marks it too: its first copy may have been queued by a replica that died
 * before the inbox was taken up) unless the partition's lease is ours: then the caller hands the inbox to its own
 * drain (DrainHandoff). Answers 1 if queued, 0 if a duplicate, plus 2 if left to the caller's drain.
 */
const INTAKE = `
local added = 0
if redis.call('SET', KEYS[1], '1', 'EX', ARGV[1], 'NX') then
  redis.call('RPUSH', KEYS[2], ARGV[2])
  added = 1
end
if ARGV[5] ~= '' and redis.call('GET', KEYS[4]) == ARGV[5] then return added + 2 end
redis.call('ZADD', KEYS[3], 'NX', ARGV[4], ARGV[3])
return added
`;

interface ScriptedRedis extends Redis {
  psIntake(seen: string, inbox: string, ready: string, owner: string, ttl: number, entry: string, id: string, now: number, token: string): Promise<number>;
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
 * Durable intake. Each change goes into its agent's inbox (an atomic "not seen before → append") in the order it
 * arrived, and in the same script the inbox is marked ready in its partition's ready set (once: an inbox waiting
 * there is not added again), where the partition's owner takes it up; when that owner is this replica, the inbox
 * goes to its drain directly instead (`DrainHandoff`). `accept` resolves only once that is in
 * Redis, so the caller may then acknowledge its source. An owner that dies after taking an inbox up but before
 * applying it leaves its entries in the inbox: the next owner marks every inbox that holds anything ready when
 * it takes the partition (`recoverPartition`).
 */
export class RedisInboundSink extends InboundSink {
  private readonly redis: ScriptedRedis;

  /**
   * @param inboxOf the inbox a change belongs to (its agent's, resolved through the directory)
   * @param appends told of each change queued, in the order Redis appended them (the record store's guess of an
   *   inbox's head)
   * @param handoff this replica's drain, handed an inbox of a partition this replica works (no ready mark needed)
   */
  constructor(
    redis: Redis,
    private readonly keys: RedisKeys,
    private readonly dedupTtlSec: number,
    private readonly inboxOf: (change: InboundChange) => string,
    private readonly appends?: InboxAppends,
    private readonly handoff?: DrainHandoff,
  ) {
    super();
    this.redis = redis as ScriptedRedis;
    if (!('psIntake' in redis)) redis.defineCommand('psIntake', { numberOfKeys: 4, lua: INTAKE });
    if (!('psDiscard' in redis)) redis.defineCommand('psDiscard', { numberOfKeys: 1, lua: DISCARD_SCRIPT });
  }

  async accept(changes: InboundChange[]): Promise<IntakeResult> {
    const { keys } = this;
    const now = Date.now();
    const added = await Promise.all(changes.map(async (c) => {
      const inbox = this.inboxOf(c);
      const n = keys.partitionOfInbox(inbox);
      const raw = JSON.stringify(c);
      const token = this.handoff?.tokenFor(n, inbox) ?? '';
      const reply = this.redis.psIntake(keys.seen(inbox, c.side, c.eventId), keys.inbox(inbox), keys.ready(n), keys.owner(n), this.dedupTtlSec, raw, inbox, now, token);
      const added = reply.then((r) => r & 1);
      const appended = await (this.appends ? this.appends.sending(inbox, { raw, change: c }, added) : added);
      // The lease was ours when the script ran; if the drain here has let the partition go or filled up since, mark it ready.
      if ((await reply) >= 2 && !this.handoff?.handOver(n, inbox)) await this.redis.zadd(keys.ready(n), 'NX', now, inbox);
      return appended;
    }));
    const accepted = added.reduce((n, a) => n + a, 0);
    return { accepted, duplicates: changes.length - accepted };
  }

  /** Marks every inbox that holds changes ready, in every partition. */
  override async recover(): Promise<number> {
    let woken = 0;
    for (let n = 0; n < this.keys.partitions; n++) woken += await this.recoverPartition(n);
    return woken;
  }

  /** Marks every inbox of partition `n` that holds changes ready (its new owner takes them up). */
  async recoverPartition(n: number): Promise<number> {
    const ids = new Set<string>();
    for (const pattern of this.keys.inboxPatterns(n)) {
      for (const key of await scanKeys(this.redis, pattern)) {
        const id = this.keys.inboxIdOf(key);
        if (id) ids.add(id);
      }
    }
    await this.markReady([...ids]);
    return ids.size;
  }

  /**
   * Moves the changes of a Salesforce user's inbox (the user was not known at intake) to their agent's inbox, in
   * order, and marks that inbox ready. The two inboxes may be in different partitions (slots), so this is an
   * append followed by a pop, not one script: a crash between them leaves the entries in both, and the agent's
   * inbox applies the copy as a duplicate (same event id).
   * @param agentOf the agent of a change now, per the directory
   * @param discardUnknown drop a change whose agent is still unknown (else stop and report it)
   */
  async forward(inbox: string, agentOf: (change: InboundChange) => string | undefined, discardUnknown = false): Promise<ForwardResult> {
    const { keys } = this;
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
      await this.markReady([agentInbox(agentId)]);
      if ((await this.redis.psDiscard(keys.inbox(inbox), ...run)) === 'ok') forwarded += n;
    }
  }

  /** Marks inboxes ready in their partitions (an inbox already waiting keeps its place). */
  async markReady(inboxes: string[]): Promise<void> {
    const now = Date.now();
    await Promise.all(inboxes.map((inbox) => this.redis.zadd(this.keys.ready(this.keys.partitionOfInbox(inbox)), 'NX', now, inbox)));
  }
}
