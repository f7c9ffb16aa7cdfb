import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import type { SalesforceSettings } from '@presence-sync/config';
import { RedisKeys, RedisRefreshTokenStore } from '@presence-sync/redis';
import { JsforceSalesforceAdapter, SalesforceAuthError, SalesforceSession } from '@presence-sync/salesforce';
import { InMemoryRefreshTokenStore } from '@presence-sync/testing';
import { INTEGRATION, MemoryCheckpoints, memoryLogger, SalesforceEmulator, settingsFor, startEmulator } from './salesforce-test-kit';

/**
 * Refresh token rotation (Salesforce's recommended setting): every refresh answers a new refresh token and
 * spends the one used; reusing a spent one revokes the whole chain. Replicas and restarts therefore share the
 * current token through Redis, and refresh one at a time under a lock.
 */
let emulator: SalesforceEmulator;
let redis: Redis;
beforeAll(async () => {
  emulator = await startEmulator({ refreshTokenRotation: true });
  redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
});
afterAll(async () => {
  await emulator.stop();
  await redis.quit();
});

/** Emulated refresh tokens start with this; none may show up in logs or in Redis in clear. */
const REFRESH_TOKEN_SHAPE = /5Aep[\w-]{20,}/;

function replica(settings: SalesforceSettings, prefix: string, logger = memoryLogger()): JsforceSalesforceAdapter {
  const auth = settings.auth;
  if (auth.mode !== 'refresh-token') throw new Error('refresh-token settings expected');
  const refreshTokens = new RedisRefreshTokenStore(redis, new RedisKeys(prefix), auth.storeKey);
  return new JsforceSalesforceAdapter({ settings, checkpoints: new MemoryCheckpoints(), logger, refreshTokens });
}

/** The next REST call of any replica is answered 401: its session logs in again, i.e. refreshes. */
async function expireAndCall(adapter: JsforceSalesforceAdapter): Promise<void> {
  emulator.failNext(1, { status: 401, method: 'GET' });
  expect((await adapter.listUsers()).length).toBeGreaterThan(0);
}

describe(RedisRefreshTokenStore.name, () => {
  it('keeps two replicas logged in across refreshes and a restart, with the token sealed at rest', async () => {
    const prefix = `rt-${randomUUID()}`;
    const settings = settingsFor(emulator, { mode: 'refresh-token' });
    const logA = memoryLogger();
    const logB = memoryLogger();
    const a = replica(settings, prefix, logA);
    const b = replica(settings, prefix, logB);
    await Promise.all([a.connect(), b.connect()]);
    for (let round = 0; round < 3; round += 1) {
      await Promise.all([expireAndCall(a), expireAndCall(b)]);
    }
    // A restart (or a third replica): a new process with nothing in memory but the same Redis.
    const c = replica(settings, prefix);
    await c.connect();
    await expireAndCall(c);
    await Promise.all([expireAndCall(a), expireAndCall(b)]);

    const keys = await redis.keys(`${prefix}:*`);
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) {
      const dump = JSON.stringify(await (await redis.type(key) === 'hash' ? redis.hgetall(key) : redis.get(key)));
      expect(dump).not.toMatch(REFRESH_TOKEN_SHAPE);
      expect(dump).not.toContain(settings.auth.mode === 'refresh-token' ? settings.auth.refreshToken : '');
    }
    for (const line of [...logA.lines, ...logB.lines]) expect(line).not.toMatch(REFRESH_TOKEN_SHAPE);
  });

  it('lets a newly configured refresh token supersede the stored chain (recovery after a revocation)', async () => {
    const prefix = `rt-${randomUUID()}`;
    const first = settingsFor(emulator, { mode: 'refresh-token' });
    const a = replica(first, prefix);
    await a.connect();
    await expireAndCall(a);
    emulator.revokeTokens(INTEGRATION.username);
    const revoked = await (async () => {
      try {
        await replica(first, prefix).connect();
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(revoked).toBeInstanceOf(SalesforceAuthError);
    expect((revoked as Error).message).toMatch(/^Salesforce login failed \(SALESFORCE_AUTH=refresh-token\): invalid_grant/);
    expect((revoked as Error).message).not.toMatch(REFRESH_TOKEN_SHAPE);

    // The operator authorizes again and configures the new token: it wins over the stored (revoked) one.
    const second = settingsFor(emulator, { mode: 'refresh-token' });
    const restarted = replica(second, prefix);
    await restarted.connect();
    await expireAndCall(restarted);
  });

  it('refuses to open a token sealed with another SECRETS_KEY, naming the setting and not the token', async () => {
    const prefix = `rt-${randomUUID()}`;
    const settings = settingsFor(emulator, { mode: 'refresh-token' });
    await replica(settings, prefix).connect();
    const other = { ...settings, auth: { ...settings.auth, storeKey: '7f'.repeat(32) } } as SalesforceSettings;
    const e = await replica(other, prefix).connect().then(() => undefined, (err: unknown) => err as Error);
    expect(e?.message).toMatch(/SECRETS_KEY/);
    expect(e?.message).not.toMatch(REFRESH_TOKEN_SHAPE);
  });
});

describe(`${SalesforceSession.name} with refresh token rotation`, () => {
  it('without a shared store, a second process reuses the configured token and Salesforce revokes everything', async () => {
    const settings = settingsFor(emulator, { mode: 'refresh-token' });
    const a = new SalesforceSession(settings);
    await a.connect();
    const b = new SalesforceSession(settings);
    await expect(b.connect()).rejects.toBeInstanceOf(SalesforceAuthError);
    await expect(a.reauthenticate('refresh')).rejects.toBeInstanceOf(SalesforceAuthError);
  });

  it('two sessions sharing an in-memory store refresh one at a time, each with the latest token', async () => {
    const settings = settingsFor(emulator, { mode: 'refresh-token' });
    const store = new InMemoryRefreshTokenStore();
    const sessions = [new SalesforceSession(settings, undefined, { refreshTokens: store }), new SalesforceSession(settings, undefined, { refreshTokens: store })];
    for (let round = 0; round < 3; round += 1) {
      await Promise.all(sessions.map((s) => s.reauthenticate('refresh')));
    }
    const stored = await store.get();
    expect(stored?.token).toMatch(REFRESH_TOKEN_SHAPE);
    expect(stored?.token).not.toBe(settings.auth.mode === 'refresh-token' ? settings.auth.refreshToken : '');
  });
});
