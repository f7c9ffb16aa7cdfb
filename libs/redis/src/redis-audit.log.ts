import type Redis from 'ioredis';
import { AuditLog, type AuditRecord } from '@presence-sync/domain';
import { RedisKeys } from './redis-keys';

/** The audit trail on Redis: one list per agent, newest first, trimmed to `maxPerAgent`. */
export class RedisAuditLog extends AuditLog {
  constructor(private readonly redis: Redis, private readonly keys: RedisKeys, private readonly maxPerAgent: number) {
    super();
  }

  async append(record: AuditRecord): Promise<void> {
    const key = this.keys.audit(record.agentId);
    // Two plain commands rather than MULTI: auto-pipelining sends them in one write with whatever else is
    // pending, and a crash between them leaves at most one record over the bound until the next append.
    await Promise.all([this.redis.lpush(key, JSON.stringify(record)), this.redis.ltrim(key, 0, this.maxPerAgent - 1)]);
  }

  async list(agentId: string, limit = this.maxPerAgent): Promise<AuditRecord[]> {
    const rows = await this.redis.lrange(this.keys.audit(agentId), 0, Math.max(0, limit - 1));
    return rows.map((r) => JSON.parse(r) as AuditRecord);
  }
}
