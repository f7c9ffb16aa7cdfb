import { startRedisServer } from '../../libs/testing/src/redis-server';

/** Uses REDIS_URL when set; otherwise starts a throw-away redis-server shared by every test file. */
export default async function globalSetup(): Promise<void> {
  const g = globalThis as { __psRedis?: { stop(): Promise<void> } };
  if (process.env.REDIS_URL || g.__psRedis) return;
  const redis = await startRedisServer();
  g.__psRedis = redis;
  process.env.REDIS_URL = redis.url;
  process.env.PS_TEST_OWN_REDIS = '1';
}
