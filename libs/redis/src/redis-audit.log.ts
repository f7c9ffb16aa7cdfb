import type Redis from 'ioredis';
import { AuditLog, type AuditRecord } from '@presence-sync/domain';
import { AUDIT_PUSH_LUA, auditBoundsOf, type AuditBounds } from './redis-agent-record.store';
import { RedisKeys } from './redis-keys';

/** KEYS: record hash, audit list. ARGV: max records, max bytes, the record. Appends within the bounds. */
const APPEND = `${AUDIT_PUSH_LUA}
local state = redis.call('HMGET', KEYS[1], 'an', 'ab')
local n, bytes = auditPush(KEYS[2], tonumber(state[1]), tonumber(state[2] or '0'), 3, 3, tonumber(ARGV[1]), tonumber(ARGV[2]))
redis.call('HSET', KEYS[1], 'an', n, 'ab', bytes)
return n
`;

interface ScriptedRedis extends Redis {
  psAuditAppend(record: string, audit: string, maxRecords: number, maxBytes: number, entry: string): Promise<number>;
}

/**
 * The audit trail on Redis: one list per agent, newest first, bounded by count (AUDIT_MAX_PER_AGENT) and by bytes
 * (AUDIT_MAX_BYTES_PER_AGENT); the engine's transitions append to it in their own script (RedisAgentRecordStore).
 */
export class RedisAuditLog extends AuditLog {
  private readonly redis: ScriptedRedis;
  private readonly bounds: AuditBounds;

  constructor(redis: Redis, private readonly keys: RedisKeys, bounds: number | AuditBounds) {
    super();
    this.redis = redis as ScriptedRedis;
    this.bounds = auditBoundsOf(bounds);
    if (!('psAuditAppend' in redis)) redis.defineCommand('psAuditAppend', { numberOfKeys: 2, lua: APPEND });
  }

  async append(record: AuditRecord): Promise<void> {
    await this.redis.psAuditAppend(this.keys.agent(record.agentId), this.keys.audit(record.agentId), this.bounds.maxRecords, this.bounds.maxBytes, JSON.stringify(record));
  }

  async list(agentId: string, limit = this.bounds.maxRecords): Promise<AuditRecord[]> {
    const rows = await this.redis.lrange(this.keys.audit(agentId), 0, Math.max(0, limit - 1));
    return rows.map((r) => JSON.parse(r) as AuditRecord);
  }
}
