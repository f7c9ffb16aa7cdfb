import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { RedisKeys, RedisRefreshTokenStore } from '@presence-sync/redis';

/** The shared refresh token store names whose token it holds in its errors (a Webex token is not Salesforce's). */
let redis: Redis;
beforeAll(() => {
  redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
});
afterAll(async () => {
  await redis.quit();
});

const KEY_A = 'a1'.repeat(32);
const KEY_B = 'b2'.repeat(32);

describe(RedisRefreshTokenStore.name, () => {
  it.each([
    ['Salesforce', undefined],
    ['Webex', 'Webex'],
  ])('a token sealed with another SECRETS_KEY is refused naming the %s token and the setting, never the token', async (named, vendor) => {
    const keys = new RedisKeys(`rt-${randomUUID()}`);
    const token = `tok-${randomUUID()}`;
    const writer = new RedisRefreshTokenStore(redis, keys, KEY_A, vendor ? { vendor } : {});
    expect(await writer.compareAndSet(undefined, { token, origin: 'fp-1' })).toBe(true);
    const reader = new RedisRefreshTokenStore(redis, keys, KEY_B, vendor ? { vendor } : {});
    const e = await reader.get().then(() => undefined, (err: unknown) => err as Error);
    expect(e?.message).toContain(`the ${named} refresh token stored in Redis`);
    expect(e?.message).toMatch(/SECRETS_KEY/);
    expect(e?.message).not.toContain(token);
    expect((await writer.get())?.token).toBe(token);
  });
});
