import type Redis from 'ioredis';
import {
  AgentRecordStore, emptyAgentRecord, type AgentRecord, type CommitExtras, type CommitResult, type InboundChange, type InboxEntry,
} from '@presence-sync/domain';
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
 * KEYS: record hash, audit list, inbox list.
 * ARGV: expected rev, doc, audit max records, audit max bytes, n audit, audit records…, n pop, popped entries (exactly as read)…
 */
const COMMIT = `${AUDIT_PUSH_LUA}
local state = redis.call('HMGET', KEYS[1], 'rev', 'an', 'ab')
local rev = tonumber(state[1] or '0')
if rev ~= tonumber(ARGV[1]) then return 'conflict' end
local nAudit = tonumber(ARGV[5])
local nPop = tonumber(ARGV[6 + nAudit])
if nPop > 0 then
  local head = redis.call('LRANGE', KEYS[3], 0, nPop - 1)
  for j = 1, nPop do
    if head[j] ~= ARGV[6 + nAudit + j] then return 'moved' end
  end
  redis.call('LTRIM', KEYS[3], nPop, -1)
end
if nAudit > 0 then
  local n, bytes = auditPush(KEYS[2], tonumber(state[2]), tonumber(state[3] or '0'), 6, 5 + nAudit, tonumber(ARGV[3]), tonumber(ARGV[4]))
  redis.call('HSET', KEYS[1], 'rev', rev + 1, 'doc', ARGV[2], 'an', n, 'ab', bytes)
else
  redis.call('HSET', KEYS[1], 'rev', rev + 1, 'doc', ARGV[2])
end
return 'ok'
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

interface ScriptedRedis extends Redis {
  psCommit(k1: string, k2: string, k3: string, ...args: (string | number)[]): Promise<CommitResult>;
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

/** `AgentRecordStore` on Redis: one hash per agent, one script per transition. */
export class RedisAgentRecordStore extends AgentRecordStore {
  private readonly redis: ScriptedRedis;

  private readonly audit: AuditBounds;

  constructor(redis: Redis, private readonly keys: RedisKeys, audit: number | AuditBounds) {
    super();
    this.audit = auditBoundsOf(audit);
    this.redis = redis as ScriptedRedis;
    if (!('psCommit' in redis)) redis.defineCommand('psCommit', { numberOfKeys: 3, lua: COMMIT });
    if (!('psDiscard' in redis)) redis.defineCommand('psDiscard', { numberOfKeys: 1, lua: DISCARD_SCRIPT });
  }

  async load(agentId: string): Promise<AgentRecord> {
    const [rev, doc] = await this.redis.hmget(this.keys.agent(agentId), 'rev', 'doc');
    return parseAgentRecord(rev, doc);
  }

  async commit(agentId: string, expectedRev: number, next: AgentRecord, extras: CommitExtras = {}): Promise<CommitResult> {
    const audit = (extras.audit ?? []).map((r) => JSON.stringify(r));
    const pop = extras.pop?.entries ?? [];
    const inboxKey = extras.pop ? this.keys.inbox(extras.pop.inbox) : this.keys.agent(agentId);
    return this.redis.psCommit(
      this.keys.agent(agentId), this.keys.audit(agentId), inboxKey,
      expectedRev, serializeAgentRecord(next), this.audit.maxRecords, this.audit.maxBytes, audit.length, ...audit, pop.length, ...pop,
    );
  }

  async peek(inbox: string, limit: number): Promise<InboxEntry[]> {
    const raws = await this.redis.lrange(this.keys.inbox(inbox), 0, limit - 1);
    return raws.map((raw) => ({ raw, change: JSON.parse(raw) as InboundChange }));
  }

  async discard(inbox: string, entries: string[]): Promise<CommitResult> {
    if (entries.length === 0) return 'ok';
    return this.redis.psDiscard(this.keys.inbox(inbox), ...entries);
  }
}
