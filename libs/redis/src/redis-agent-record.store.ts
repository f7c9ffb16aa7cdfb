import type Redis from 'ioredis';
import {
  AgentRecordStore, emptyAgentRecord, type AgentRecord, type CommitExtras, type CommitResult, type DueChanges, type InboundChange, type InboxEntry,
} from '@presence-sync/domain';
import type { InboxAppends } from './inbox-appends';
import { RedisKeys } from './redis-keys';

/*
 * The agent's record is one JSON document in the hash `{prefix}:{pN}:agent:{agentId}` (fields `rev` and `doc`,
 * and `an` / `ab`: the count and bytes of its audit list). The scripts decide nothing: they store a record computed
 * by the engine if the stored revision is still the one it was computed from, and in the same step append its
 * audit records and pop the inbox entries it consumed.
 */

/** How many audit records an agent keeps, and how many bytes of them (0: no byte bound). */
export interface AuditBounds {
  maxRecords: number;
  maxBytes: number;
}

export const auditBoundsOf = (bounds: number | AuditBounds): AuditBounds => (typeof bounds === 'number' ? { maxRecords: bounds, maxBytes: 0 } : bounds);

/**
 * Lua: pushes ARGV[first..last] (audit records, oldest first) on the audit list KEYS[auditKey], newest first, then
 * drops the oldest while the list holds more than maxN records or more than maxBytes bytes (the newest record is
 * always kept). The count and bytes live in the record hash (`an`, `ab`), so no record is read to know them; a
 * list without them (written before they existed) is counted once and its bytes are taken as unknown (0).
 * Returns the new count and bytes, for the caller's HSET.
 */
export const AUDIT_PUSH_LUA = `
local function auditPush(list, n, bytes, first, last, maxN, maxBytes)
  if n == nil then n = redis.call('LLEN', list); bytes = 0 end
  if last < first then return n, bytes end
  redis.call('LPUSH', list, unpack(ARGV, first, last))
  for j = first, last do bytes = bytes + #ARGV[j] end
  n = n + (last - first + 1)
  if maxBytes == 0 then
    -- Count only: one trim, and the bytes are not kept.
    if n > maxN then
      redis.call('LTRIM', list, 0, maxN - 1)
      n = maxN
    end
    return n, 0
  end
  while n > 1 and (n > maxN or bytes > maxBytes) do
    local old = redis.call('RPOP', list)
    if not old then break end
    n = n - 1
    bytes = bytes - #old
  end
  if bytes < 0 then bytes = 0 end
  return n, bytes
end
`;

/**
 * Lua: applies due set changes to KEYS[dueKey] from ARGV[at]: n removed, members…, n settled, (time, member)…, n
 * added, (time, member)…. A settled member is removed only while it is still at that time; an added member keeps
 * the earlier of its times (ZADD LT) unless it was just removed. Returns the index after them.
 */
export const DUE_CHANGES_LUA = `
local function dueChanges(dueKey, at)
  local nRemove = tonumber(ARGV[at])
  if nRemove > 0 then redis.call('ZREM', dueKey, unpack(ARGV, at + 1, at + nRemove)) end
  at = at + nRemove + 1
  local nSettle = tonumber(ARGV[at])
  for j = 0, nSettle - 1 do
    local member = ARGV[at + 2 + 2 * j]
    if tonumber(redis.call('ZSCORE', dueKey, member)) == tonumber(ARGV[at + 1 + 2 * j]) then redis.call('ZREM', dueKey, member) end
  end
  at = at + 1 + 2 * nSettle
  local nAdd = tonumber(ARGV[at])
  for j = 0, nAdd - 1 do
    redis.call('ZADD', dueKey, 'LT', ARGV[at + 1 + 2 * j], ARGV[at + 2 + 2 * j])
  end
  return at + 1 + 2 * nAdd
end
`;

/**
 * KEYS: record hash, audit list, inbox list, due set.
 * ARGV: expected rev, doc, audit max records, audit max bytes, n audit, audit records…, n pop, popped entries (exactly
 * as read)…, then the due set changes (DUE_CHANGES_LUA). Returns `more` instead of `ok` when the inbox holds entries
 * behind the popped ones (read with them: one element more).
 */
const COMMIT = `${AUDIT_PUSH_LUA}${DUE_CHANGES_LUA}
local state = redis.call('HMGET', KEYS[1], 'rev', 'an', 'ab')
local rev = tonumber(state[1] or '0')
if rev ~= tonumber(ARGV[1]) then return 'conflict' end
local nAudit = tonumber(ARGV[5])
local nPop = tonumber(ARGV[6 + nAudit])
local result = 'ok'
if nPop > 0 then
  local head = redis.call('LRANGE', KEYS[3], 0, nPop)
  for j = 1, nPop do
    if head[j] ~= ARGV[6 + nAudit + j] then return 'moved' end
  end
  redis.call('LTRIM', KEYS[3], nPop, -1)
  if #head > nPop then result = 'more' end
end
dueChanges(KEYS[4], 7 + nAudit + nPop)
if nAudit > 0 then
  local n, bytes = auditPush(KEYS[2], tonumber(state[2]), tonumber(state[3] or '0'), 6, 5 + nAudit, tonumber(ARGV[3]), tonumber(ARGV[4]))
  redis.call('HSET', KEYS[1], 'rev', rev + 1, 'doc', ARGV[2], 'an', n, 'ab', bytes)
else
  redis.call('HSET', KEYS[1], 'rev', rev + 1, 'doc', ARGV[2])
end
return result
`;

/** KEYS: inbox. ARGV: entries exactly as read. Pops them if they still are the head. */
export const DISCARD_SCRIPT = `
local head = redis.call('LRANGE', KEYS[1], 0, #ARGV - 1)
for j = 1, #ARGV do
  if head[j] ~= ARGV[j] then return 'moved' end
end
redis.call('LTRIM', KEYS[1], #ARGV, -1)
return 'ok'
`;

/** KEYS: due set. ARGV: its changes (DUE_CHANGES_LUA). */
const SCHEDULE = `${DUE_CHANGES_LUA}
dueChanges(KEYS[1], 1)
return 'ok'
`;

/** The due changes as script arguments (DUE_CHANGES_LUA). */
export function dueArgs(due: DueChanges | undefined): (string | number)[] {
  if (!due) return [0, 0, 0];
  const settle = due.settle ?? [];
  return [due.remove.length, ...due.remove, settle.length, ...settle.flatMap(([member, at]) => [at, member]), due.add.length, ...due.add.flatMap(([member, at]) => [at, member])];
}

interface ScriptedRedis extends Redis {
  psCommit(k1: string, k2: string, k3: string, k4: string, ...args: (string | number)[]): Promise<CommitResult>;
  psSchedule(k1: string, ...args: (string | number)[]): Promise<string>;
  psDiscard(k1: string, ...args: string[]): Promise<CommitResult>;
}

/** Stored form of a record: everything but `rev`, which lives beside it. */
export function serializeAgentRecord(record: AgentRecord): string {
  const { rev: _rev, ...doc } = record;
  return JSON.stringify(doc);
}

export function parseAgentRecord(rev: string | null, doc: string | null): AgentRecord {
  if (!doc) return { ...emptyAgentRecord(), rev: Number(rev ?? 0) };
  return { ...(JSON.parse(doc) as Omit<AgentRecord, 'rev'>), rev: Number(rev ?? 0) };
}

/**
 * `AgentRecordStore` on Redis: one hash per agent, one script per transition. It remembers the records it stored
 * last (a bounded cache, most recent first): the next transition of an agent that just changed (a sync after its
 * ingest, the echo after the write) is computed without a read; the compare-and-set catches a record another
 * replica changed meanwhile, and the runner reads the stored record before it concludes that nothing changes.
 * Given the changes this process queued (`InboxAppends`), it answers an inbox's head from them when it can, and the
 * commit's pop checks them against the stored head.
 */
export class RedisAgentRecordStore extends AgentRecordStore {
  private readonly redis: ScriptedRedis;
  private readonly cache = new Map<string, AgentRecord>();
  private readonly served = new WeakSet<AgentRecord>();

  private readonly audit: AuditBounds;

  /**
   * @param cacheSize how many agents' last stored records are kept (0: none)
   * @param appends what intake in this process queued (the sink's), to answer `peek` without a read
   */
  constructor(redis: Redis, private readonly keys: RedisKeys, audit: number | AuditBounds, private readonly cacheSize = 0, private readonly appends?: InboxAppends) {
    super();
    this.audit = auditBoundsOf(audit);
    this.redis = redis as ScriptedRedis;
    if (!('psCommit' in redis)) redis.defineCommand('psCommit', { numberOfKeys: 4, lua: COMMIT });
    if (!('psSchedule' in redis)) redis.defineCommand('psSchedule', { numberOfKeys: 1, lua: SCHEDULE });
    if (!('psDiscard' in redis)) redis.defineCommand('psDiscard', { numberOfKeys: 1, lua: DISCARD_SCRIPT });
  }

  async load(agentId: string, fresh = false): Promise<AgentRecord> {
    const cached = fresh ? undefined : this.cache.get(agentId);
    if (cached) return cached;
    const [rev, doc] = await this.redis.hmget(this.keys.agent(agentId), 'rev', 'doc');
    return parseAgentRecord(rev, doc);
  }

  override fromCache(record: AgentRecord): boolean {
    return this.served.has(record);
  }

  private remember(agentId: string, record: AgentRecord | undefined): void {
    this.cache.delete(agentId);
    if (!record || this.cacheSize <= 0) return;
    this.served.add(record);
    this.cache.set(agentId, record);
    if (this.cache.size > this.cacheSize) this.cache.delete(this.cache.keys().next().value as string);
  }

  async commit(agentId: string, expectedRev: number, next: AgentRecord, extras: CommitExtras = {}): Promise<CommitResult> {
    const audit = (extras.audit ?? []).map((r) => JSON.stringify(r));
    const pop = extras.pop?.entries ?? [];
    const inboxKey = extras.pop ? this.keys.inbox(extras.pop.inbox) : this.keys.agent(agentId);
    const result = await this.redis.psCommit(
      this.keys.agent(agentId), this.keys.audit(agentId), inboxKey, this.keys.due(this.keys.partitionOfAgent(agentId)),
      expectedRev, serializeAgentRecord(next), this.audit.maxRecords, this.audit.maxBytes, audit.length, ...audit, pop.length, ...pop, ...dueArgs(extras.due),
    );
    const stored = result === 'ok' || result === 'more';
    this.remember(agentId, stored ? { ...next, rev: expectedRev + 1 } : undefined);
    if (stored && extras.pop) this.appends?.popped(extras.pop.inbox, pop);
    return result;
  }

  async schedule(agentId: string, due: DueChanges): Promise<void> {
    await this.redis.psSchedule(this.keys.due(this.keys.partitionOfAgent(agentId)), ...dueArgs(due));
  }

  async peek(inbox: string, limit: number): Promise<InboxEntry[]> {
    const replies = this.appends?.settled(inbox);
    if (replies) await replies;
    const expected = this.appends?.take(inbox, limit);
    if (expected) return expected;
    const raws = await this.redis.lrange(this.keys.inbox(inbox), 0, limit - 1);
    return raws.map((raw) => ({ raw, change: JSON.parse(raw) as InboundChange }));
  }

  async discard(inbox: string, entries: string[]): Promise<CommitResult> {
    if (entries.length === 0) return 'ok';
    const result = await this.redis.psDiscard(this.keys.inbox(inbox), ...entries);
    if (result === 'ok') this.appends?.popped(inbox, entries);
    return result;
  }
}
