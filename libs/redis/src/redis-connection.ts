import Redis, { type RedisOptions } from 'ioredis';

/** ioredis options from a `redis://` / `rediss://` URL (user, password, db, TLS). */
export function redisOptionsFromUrl(url: string): RedisOptions {
  const u = new URL(url);
  const db = u.pathname && u.pathname !== '/' ? Number(u.pathname.slice(1)) : undefined;
  return {
    host: u.hostname || '127.0.0.1',
    port: u.port ? Number(u.port) : 6379,
    username: u.username ? decodeURIComponent(u.username) : undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    db: Number.isFinite(db) ? db : undefined,
    tls: u.protocol === 'rediss:' ? {} : undefined,
    // BullMQ workers must wait for Redis rather than fail a command while it is away.
    maxRetriesPerRequest: null,
  };
}

/** Connects and waits for the first PONG; fails with a readable message (no password) when Redis is away. */
export async function connectRedis(url: string, timeoutMs = 5000): Promise<Redis> {
  const redis = new Redis({
    ...redisOptionsFromUrl(url), lazyConnect: true, connectTimeout: timeoutMs, retryStrategy: (n) => Math.min(n * 200, 2000),
    // Commands issued in the same tick by concurrent jobs leave in one write: under load most of the daemon's
    // CPU went into one socket write per command (see docs/performance.md). This connection issues no
    // blocking commands, which auto-pipelining would hold up.
    enableAutoPipelining: true,
  });
  const shown = url.replace(/\/\/([^@/]*)@/, '//***@');
  try {
    await Promise.race([
      redis.connect().then(() => redis.ping()),
      new Promise((_, reject) => setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs).unref()),
    ]);
  } catch (e) {
    redis.disconnect();
    throw new Error(`cannot reach Redis at ${shown}: ${e instanceof Error ? e.message : String(e)}`);
  }
  return redis;
}
