import type { ConnectionOptions as TlsOptions } from 'node:tls';
import type { ConnectionOptions } from 'bullmq';
import Redis, { Cluster, type ClusterOptions, type RedisOptions } from 'ioredis';
import { describeRedis, listRedisAddresses, shownRedisUrl, type RedisSettings } from '@presence-sync/config';

export { shownRedisUrl };

/** A connection to one server (single, or the master Sentinel names) or to a Redis Cluster. */
export type RedisClient = Redis | Cluster;

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

/** The settings as a single server's URL, for code that only knows URLs (tests, the bench). */
const settingsOf = (target: RedisSettings | string): RedisSettings =>
  typeof target === 'string' ? { url: target, prefix: '', topology: 'single', nodes: [] } : target;

/** TLS with the configured CA (else the system's); the certificate is always verified. */
function tlsOf(settings: RedisSettings): TlsOptions | undefined {
  return settings.tls ? (settings.tls.ca ? { ca: settings.tls.ca } : {}) : undefined;
}

/**
 * ioredis options for the data connections of a single server or a Sentinel-managed master (a cluster's nodes
 * take the same, as `redisOptions`). Credentials and TLS come from the URL or from REDIS_USERNAME,
 * REDIS_PASSWORD, REDIS_TLS and REDIS_TLS_CA_FILE.
 */
export function redisNodeOptions(target: RedisSettings | string): RedisOptions {
  const settings = settingsOf(target);
  const tls = tlsOf(settings);
  const credentials = { ...(settings.username === undefined ? {} : { username: settings.username }), ...(settings.password === undefined ? {} : { password: settings.password }) };
  switch (settings.topology) {
    case 'single':
      return { ...redisOptionsFromUrl(settings.url), ...credentials, tls };
    case 'cluster':
      return { ...credentials, tls, maxRetriesPerRequest: null };
    case 'sentinel': {
      const sentinel = settings.sentinel;
      if (!sentinel) throw new Error('Sentinel settings without a master name');
      return {
        ...credentials, tls, maxRetriesPerRequest: null,
        sentinels: settings.nodes, name: sentinel.masterName, role: 'master',
        sentinelUsername: sentinel.username, sentinelPassword: sentinel.password,
        // One TLS setting for both: deployments that encrypt their data nodes encrypt their sentinels too.
        enableTLSForSentinelMode: tls !== undefined, sentinelTLS: tls,
        // Reconnect as soon as the sentinels announce a new master (+switch-master). Without it a client stayed on
        // a healthy demoted master until Sentinel reconfigured it, about 10 s, and every write of that time was lost.
        failoverDetector: true,
      };
    }
  }
}

/** Options for ioredis's Cluster from the settings, with `extra` for every node connection. */
function clusterOptions(settings: RedisSettings, extra: RedisOptions): ClusterOptions {
  const { enableAutoPipelining, lazyConnect, retryStrategy, ...perNode } = extra;
  return {
    redisOptions: { ...redisNodeOptions(settings), ...perNode },
    enableAutoPipelining, lazyConnect,
    clusterRetryStrategy: typeof retryStrategy === 'function' ? (times) => retryStrategy(times) : undefined,
    // TLS is verified against the node names as configured (managed services' certificates name hosts, and a
    // resolved IP address would not match them).
    dnsLookup: settings.tls ? (address, callback) => callback(null, address) : undefined,
  };
}

/** A client for the settings' topology (not connected yet with `lazyConnect`). */
export function createRedisClient(target: RedisSettings | string, extra: RedisOptions = {}): RedisClient {
  const settings = settingsOf(target);
  return settings.topology === 'cluster' ? new Cluster(settings.nodes, clusterOptions(settings, extra)) : new Redis({ ...redisNodeOptions(settings), ...extra });
}

/**
 * BullMQ's connection for the settings. A single server or Sentinel: options, from which BullMQ makes its own
 * clients (and closes them). A cluster: one ioredis Cluster that the queues share and each worker duplicates for
 * its blocking reads; BullMQ does not close a connection it was handed, so `close` does, after the queues.
 * On a cluster every queue prefix must carry a hash tag (`{…}`), so each queue's keys share one slot.
 */
export interface BullConnection {
  connection: ConnectionOptions;
  close(): Promise<void>;
}

export function bullConnection(target: RedisSettings | string): BullConnection {
  const settings = settingsOf(target);
  // BullMQ declares ioredis's options in a looser copy of its own; the values are ioredis's.
  if (settings.topology !== 'cluster') return { connection: redisNodeOptions(settings) as ConnectionOptions, close: async () => undefined };
  const cluster = new Cluster(settings.nodes, { ...clusterOptions(settings, {}), lazyConnect: true });
  return {
    connection: cluster,
    async close() {
      if (cluster.status === 'end') return;
      await cluster.quit().catch(() => cluster.disconnect());
    },
  };
}

/** What a refusal of the daemon's Redis user asks the operator to do. */
export const GRANT_ACL_RULES = 'grant its user the ACL rules in docs/operations.md (Redis: single, Sentinel, Cluster, managed)';

export interface ConnectRedisOptions {
  /** How long the first connection may take (ms, default 5000). */
  timeoutMs?: number;
  /**
   * Every connection error of the client's life (each failed reconnect too). Without a listener ioredis prints
   * each one to stderr with the failed command's arguments, which for AUTH are the password.
   */
  onError?: (error: Error) => void;
  /** ioredis's ready check (an INFO at connect). Off for a client that reads INFO itself (`checkRedis`). */
  readyCheck?: boolean;
}

/** What a failed first connection means, in the settings' words (ioredis's own message is kept when it says more). */
function connectProblem(settings: RedisSettings, reason: string): string {
  if (settings.topology === 'cluster' && /cluster support disabled/i.test(reason)) {
    return `REDIS_CLUSTER_NODES names a server that is not a Redis Cluster node (cluster support disabled); for one server set REDIS_URL=redis://${listRedisAddresses(settings.nodes.slice(0, 1))} instead`;
  }
  if (settings.topology === 'sentinel' && /no such master|sentinels are unreachable|none of sentinels/i.test(reason)) {
    return `${reason}; is REDIS_SENTINEL_MASTER the name in the sentinels' \`sentinel monitor\` line, and do REDIS_SENTINELS list sentinels (port 26379 by default)?`;
  }
  return reason;
}

/**
 * Connects and waits for the first PONG, from one server, the Sentinel-named master or the whole cluster; fails
 * with one readable line (no password) when Redis is away, refuses the credentials or is not what the settings
 * say. `target`: the settings, or a single server's URL.
 */
export async function connectRedis(target: RedisSettings | string, options: ConnectRedisOptions = {}): Promise<Redis> {
  const settings = settingsOf(target);
  const timeoutMs = options.timeoutMs ?? 5000;
  const redis = createRedisClient(settings, {
    lazyConnect: true, connectTimeout: timeoutMs, retryStrategy: (n) => Math.min(n * 200, 2000),
    enableReadyCheck: options.readyCheck ?? true,
    // No auto-pipelining: it batched the commands of concurrent jobs into one write when a change cost ~200
    // commands, but at ~38 per change few leave in the same tick, and deferring each one to the next turn of the
    // event loop cost more than it saved (docs/performance.md: 10 % more CPU per change at 100 and 400
    // changes/s, the same throughput at saturation).
    enableAutoPipelining: false,
  });
  // The cause of a failed first connection (a refused AUTH, a refused socket) arrives as an error event (on a
  // cluster, as a node error); the connect promise itself only says the connection closed.
  let lastError: Error | undefined;
  let lastNodeError: Error | undefined;
  const onError = (e: Error) => {
    lastError = e;
    options.onError?.(e);
  };
  redis.on('error', onError);
  // A cluster's own error only says its slot map could not be read; why is in the node's.
  if (redis instanceof Cluster) redis.on('node error', (e: Error) => { lastNodeError = e; });
  let connected = false;
  try {
    await Promise.race([
      redis.connect().then(() => { connected = true; return redis.ping(); }),
      new Promise((_, reject) => setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs).unref()),
    ]);
  } catch (e) {
    redis.disconnect();
    const own = e instanceof Error ? e.message : String(e);
    if (connected && /^NOPERM/.test(own)) throw new Error(`Redis at ${describeRedis(settings)} refuses PING to this user (${own.split('\n')[0]}): ${GRANT_ACL_RULES}`);
    const reason = [lastError?.message ?? own, lastNodeError?.message].filter(Boolean).join(': ').split('\n')[0];
    throw new Error(`cannot reach Redis at ${describeRedis(settings)}: ${connectProblem(settings, reason)}`);
  }
  // ioredis's Cluster has the same commands, scripts (defineCommand), events, quit and disconnect as one
  // server's client, which is all the daemon's stores use; they are typed on `Redis`. A SCAN on it reaches one
  // node only.
  return redis as Redis;
}
