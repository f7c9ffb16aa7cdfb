import type Redis from 'ioredis';
import { CheckpointStore } from '@presence-sync/domain';
import { RedisKeys } from './redis-keys';

/** Checkpoints (stream replay ids) in Redis under `{prefix}:checkpoint:{key}`. */
export class RedisCheckpointStore extends CheckpointStore {
  constructor(private readonly redis: Redis, private readonly keys: RedisKeys) {
    super();
  }

  async get(key: string): Promise<string | undefined> {
    return (await this.redis.get(this.keys.checkpoint(key))) ?? undefined;
  }

  async set(key: string, value: string): Promise<void> {
    await this.redis.set(this.keys.checkpoint(key), value);
  }
}
