import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import type { SalesforceSettings } from '@presence-sync/config';
import { RedisKeys, RedisRefreshTokenStore } from '@presence-sync/redis';
import { JsforceSalesforceAdapter } from '@presence-sync/salesforce';
import { runCliFromSource as cli } from '../../support/run-process';
import { CLIENT_ID, CLIENT_SECRET, MemoryCheckpoints, memoryLogger, SalesforceEmulator, settingsFor, startEmulator, STORE_KEY } from './salesforce-test-kit';

/**
 * `salesforce check` in refresh-token mode with rotation on: the configured refresh token is spent once the
 * daemon refreshed, and using it again would make Salesforce revoke the whole chain, the daemon's session
 * included. The command must use (and rotate) the token the daemon keeps in Redis, and leave the daemon working.
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

function daemonAdapter(settings: SalesforceSettings, prefix: string): JsforceSalesforceAdapter {
  if (settings.auth.mode !== 'refresh-token') throw new Error('refresh-token settings expected');
  const refreshTokens = new RedisRefreshTokenStore(redis, new RedisKeys(prefix), settings.auth.storeKey);
  return new JsforceSalesforceAdapter({ settings, checkpoints: new MemoryCheckpoints(), logger: memoryLogger(), refreshTokens });
}

/** Runs the CLI from source (as the replica tests do) and collects its output. */

function envFor(settings: SalesforceSettings, extra: Record<string, string>): Record<string, string> {
  if (settings.auth.mode !== 'refresh-token') throw new Error('refresh-token settings expected');
  return {
    PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_LEVEL: 'silent',
    SALESFORCE_MODE: 'live', SALESFORCE_LOGIN_URL: settings.loginUrl, SALESFORCE_AUTH: 'refresh-token',
    SALESFORCE_CLIENT_ID: CLIENT_ID, SALESFORCE_CLIENT_SECRET: CLIENT_SECRET, SALESFORCE_REFRESH_TOKEN: settings.auth.refreshToken, SECRETS_KEY: STORE_KEY,
    ...extra,
  };
}

describe('presence-sync salesforce check with SALESFORCE_AUTH=refresh-token (rotation on)', () => {
  it('uses the token the daemon keeps in Redis, so the daemon stays logged in after the check', async () => {
    const prefix = `clirt-${randomUUID().slice(0, 8)}`;
    const settings = settingsFor(emulator, { mode: 'refresh-token' });
    const daemon = daemonAdapter(settings, prefix);
    await daemon.connect();
    // The daemon refreshes once: the configured refresh token is spent from here on.
    emulator.failNext(1, { status: 401, method: 'GET' });
    expect((await daemon.listUsers()).length).toBeGreaterThan(0);
    const key = (await redis.keys(`${prefix}:*`)).sort();
    const sealedBefore = JSON.stringify(await Promise.all(key.map(async (k) => (await redis.type(k)) === 'hash' ? redis.hgetall(k) : redis.get(k))));

    const run = await cli(['salesforce', 'check'], envFor(settings, {
      REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', REDIS_PREFIX: prefix,
      ACD_BASE_URL: 'http://127.0.0.1:9/cc', ACD_TOKEN: 'unused-token', ACD_WEBHOOK_SECRET: 'unused-secret-0123456789',
    }));
    expect(run.stderr).not.toMatch(/revoked|invalid_grant|expired access\/refresh token/i);
    expect(run.stdout).toMatch(/^login: ok \(SALESFORCE_AUTH=refresh-token\)/m);
    expect(run.stdout).toMatch(/^identity: ok/m);
    // The check refreshed with the stored token and stored the rotated one: what Redis holds changed.
    const sealedAfter = JSON.stringify(await Promise.all(key.map(async (k) => (await redis.type(k)) === 'hash' ? redis.hgetall(k) : redis.get(k))));
    expect(sealedAfter).not.toBe(sealedBefore);
    // The daemon's chain was not revoked: its next refresh (after a 401) still succeeds.
    emulator.failNext(1, { status: 401, method: 'GET' });
    expect((await daemon.listUsers()).length).toBeGreaterThan(0);
  });

  it('without the daemon\'s Redis settings it refuses with one line instead of spending the configured token', async () => {
    const settings = settingsFor(emulator, { mode: 'refresh-token' });
    const run = await cli(['salesforce', 'check'], envFor(settings, {}));
    expect(run.code).toBe(1);
    expect(run.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^presence-sync: SALESFORCE_AUTH=refresh-token: this command needs the daemon's settings \(REDIS_URL, REDIS_PREFIX\)/)]);
    expect(run.stderr).not.toContain(settings.auth.mode === 'refresh-token' ? settings.auth.refreshToken : '???');
  });
});
