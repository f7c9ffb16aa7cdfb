import type Redis from 'ioredis';
import {
  AgentRecordStore, emptyAgentRecord, type AgentRecord, type CommitExtras, type CommitResult, type InboundChange, type InboxEntry,
} from '@presence-sync/domain';
import { RedisKeys } from './redis-keys';

/*
 * The agent's record is one JSON document in the hash `{prefix}:agent:{agentId}` (fields `rev` and `doc`). The
 * scripts decide nothing: they store a record computed by the engine if the stored revision is still the one it
 * was computed from, and in the same step append its audit records and pop the inbox entries it consumed.
 */

/**
 * KEYS: record hash, audit list, inbox list.
 * ARGV: expected rev, doc, audit max, n audit, audit records…, n pop, popped entries (exactly as read)…
 */
const COMMIT = `
local rev = tonumber(redis.call('HGET', KEYS[1], 'rev') or '0')
if rev ~= tonumber(ARGV[1]) then return 'conflict' end
local nAudit = tonumber(ARGV[4])
local nPop = tonumber(ARGV[5 + nAudit])
if nPop > 0 then
  local head = redis.call('LRANGE', KEYS[3], 0, nPop - 1)
  for j = 1, nPop do
    if head[j] ~= ARGV[5 + nAudit + j] then return 'moved' end
  end
  redis.call('LTRIM', KEYS[3], nPop, -1)
end
redis.call('HSET', KEYS[1], 'rev', rev + 1, 'doc', ARGV[2])
if nAudit > 0 then
  for j = 1, nAudit do redis.call('LPUSH', KEYS[2], ARGV[4 + j]) end
  redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[3]) - 1)
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

  constructor(redis: Redis, private readonly keys: RedisKeys, private readonly auditMax: number) {
    super();
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
      expectedRev, serializeAgentRecord(next), this.auditMax, audit.length, ...audit, pop.length, ...pop,
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
