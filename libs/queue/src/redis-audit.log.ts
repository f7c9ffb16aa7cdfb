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
    await this.redis.multi().lpush(key, JSON.stringify(record)).ltrim(key, 0, this.maxPerAgent - 1).exec();
  }

  async list(agentId: string, limit = this.maxPerAgent): Promise<AuditRecord[]> {
    const rows = await this.redis.lrange(this.keys.audit(agentId), 0, Math.max(0, limit - 1));
    return rows.map((r) => JSON.parse(r) as AuditRecord);
  }
}
