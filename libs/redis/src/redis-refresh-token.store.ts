import { createHmac } from 'node:crypto';
import type Redis from 'ioredis';
import { decryptSecret, encryptSecret, parseSecretsKey, SecretError } from '@presence-sync/config';
import { RefreshTokenStore, RetryableWriteError, type StoredRefreshToken } from '@presence-sync/domain';
import type { RedisKeys } from './redis-keys';
import { RedisLease } from './redis-lease';

/**
 * Writes the sealed token only while the stored tag is still the expected one ('' = nothing stored). The tag
 * is an HMAC of the token, so the compare needs neither the token nor the key inside Redis.
 */
const COMPARE_AND_SET = `
local current = redis.call('HGET', KEYS[1], 'tag')
if (current == false and ARGV[1] == '') or current == ARGV[1] then
  redis.call('HSET', KEYS[1], 'tag', ARGV[2], 'sealed', ARGV[3])
  return 1
end
return 0`;

export interface RedisRefreshTokenStoreOptions {
  /** TTL of the refresh lock (ms; renewed while held). A holder that dies frees it within this. Default 30 s. */
  lockTtlMs?: number;
  /** How long `withLock` waits for another holder before giving up with `RetryableWriteError` (ms). Default 60 s. */
  lockWaitMs?: number;
  /**
   * Whose token this is, as errors name it ("the Webex refresh token stored in Redis"). Default Salesforce. The
   * keys do not depend on it (a connector's store gets its own prefix), so stored tokens survive an upgrade.
   */
  vendor?: string;
  /** How often a waiter tries the lock (ms). Default 50. */
  pollMs?: number;
}

/**
 * The current refresh token in one Redis hash, `{prefix}:salesforce:refresh-token` (Salesforce's; a connector's store
 * gets its own prefix, so Webex's is `{prefix}:webex:salesforce:refresh-token`, a name kept for stored tokens): `sealed` is the
 * token (and the fingerprint of the configured token it descends from) encrypted with `SECRETS_KEY` (AES-256-GCM,
 * `enc:v1:`), `tag` an HMAC of the token for compare-and-set. The refresh lock is a `RedisLease` on
 * `{prefix}:salesforce:refresh-lock`, so every replica sharing the prefix refreshes one at a time.
 */
export class RedisRefreshTokenStore extends RefreshTokenStore {
  private readonly key: string;
  private readonly lease: RedisLease;
  private readonly sealKey: Buffer;
  private readonly tagKey: Buffer;
  private readonly lockWaitMs: number;
  private readonly pollMs: number;
  private readonly vendor: string;
  /** Holders in this process queue here first: the lease's token is per store and re-entrant by design. */
  private local: Promise<unknown> = Promise.resolve();

  constructor(private readonly redis: Redis, keys: RedisKeys, secretsKey: string, options: RedisRefreshTokenStoreOptions = {}) {
    super();
    this.key = keys.refreshToken;
    this.lease = new RedisLease(redis, keys.refreshLock, options.lockTtlMs ?? 30_000);
    this.sealKey = parseSecretsKey(secretsKey);
    // A separate key for the tag, derived from SECRETS_KEY, so the cipher key is used for one purpose only.
    this.tagKey = createHmac('sha256', this.sealKey).update('presence-sync:salesforce-refresh-token-tag').digest();
    this.lockWaitMs = options.lockWaitMs ?? 60_000;
    this.pollMs = options.pollMs ?? 50;
    this.vendor = options.vendor ?? 'Salesforce';
  }

  async get(): Promise<StoredRefreshToken | undefined> {
    const sealed = await this.redis.hget(this.key, 'sealed');
    if (!sealed) return undefined;
    // A SecretError (another SECRETS_KEY, an altered value) names the key setting and never the token.
    const plain = decryptSecret(sealed, this.sealKey, `the ${this.vendor} refresh token stored in Redis`);
    const value: unknown = JSON.parse(plain);
    if (!isStored(value)) throw new SecretError(`the ${this.vendor} refresh token stored in Redis is not in the expected form`);
    return value;
  }

  async compareAndSet(expected: string | undefined, next: StoredRefreshToken): Promise<boolean> {
    const sealed = encryptSecret(JSON.stringify({ token: next.token, origin: next.origin }), this.sealKey);
    const done = await this.redis.eval(COMPARE_AND_SET, 1, this.key, expected === undefined ? '' : this.tag(expected), this.tag(next.token), sealed);
    return done === 1;
  }

  withLock<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.local.then(() => this.holding(fn));
    this.local = run.catch(() => undefined);
    return run;
  }

  private async holding<T>(fn: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.lockWaitMs;
    while (!(await this.lease.acquire())) {
      if (Date.now() >= deadline) {
        throw new RetryableWriteError('refresh-lock', `another replica has held the ${this.vendor} refresh lock for over ${this.lockWaitMs} ms`);
      }
      await new Promise((resolve) => setTimeout(resolve, this.pollMs));
    }
    // A slow token request must not let the lease lapse: renew at a third of the TTL while fn runs.
    const renewal = setInterval(() => void this.lease.renew().catch(() => false), Math.max(1, Math.floor(this.lease.ttlMs / 3)));
    try {
      return await fn();
    } finally {
      clearInterval(renewal);
      await this.lease.release().catch(() => false);
    }
  }

  private tag(token: string): string {
    return createHmac('sha256', this.tagKey).update(token).digest('base64url');
  }
}

function isStored(value: unknown): value is StoredRefreshToken {
  const v = value as Partial<StoredRefreshToken> | null;
  return typeof v === 'object' && v !== null && typeof v.token === 'string' && v.token !== '' && typeof v.origin === 'string';
}
