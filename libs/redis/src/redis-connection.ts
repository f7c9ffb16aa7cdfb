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

/** The URL as it may be shown: without user and password. */
export function shownRedisUrl(url: string): string {
  return url.replace(/\/\/([^@/]*)@/, '//***@');
}

export interface ConnectRedisOptions {
  /** How long the first connection may take (ms, default 5000). */
  timeoutMs?: number;
  /**
   * Every connection error of the client's life (each failed reconnect too). Without a listener ioredis prints
   * each one to stderr with the failed command's arguments, which for AUTH are the password.
   */
  onError?: (error: Error) => void;
}

/** Connects and waits for the first PONG; fails with a readable message (no password) when Redis is away. */
export async function connectRedis(url: string, options: ConnectRedisOptions = {}): Promise<Redis> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const redis = new Redis({
    ...redisOptionsFromUrl(url), lazyConnect: true, connectTimeout: timeoutMs, retryStrategy: (n) => Math.min(n * 200, 2000),
    // Commands issued in the same tick by concurrent jobs leave in one write: under load most of the daemon's
    // CPU went into one socket write per command (see docs/performance.md). This connection issues no
    // blocking commands, which auto-pipelining would hold up.
    enableAutoPipelining: true,
  });
  // The cause of a failed first connection (a refused AUTH, a refused socket) arrives as an error event; the
  // connect promise itself only says the connection closed.
  let lastError: Error | undefined;
  redis.on('error', (e: Error) => {
    lastError = e;
    options.onError?.(e);
  });
  try {
    await Promise.race([
      redis.connect().then(() => redis.ping()),
      new Promise((_, reject) => setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs).unref()),
    ]);
  } catch (e) {
    redis.disconnect();
    const reason = lastError?.message ?? (e instanceof Error ? e.message : String(e));
    throw new Error(`cannot reach Redis at ${shownRedisUrl(url)}: ${reason.split('\n')[0]}`);
  }
  return redis;
}
