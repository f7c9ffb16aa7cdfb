import { Cluster } from 'ioredis';
import { describeRedis, type RedisSettings } from '@presence-sync/config';
import { connectRedis, GRANT_ACL_RULES, type RedisClient } from './redis-connection';

/**
 * The oldest Redis the daemon runs on. BullMQ's deduplication (used for every sync trigger) needs `SET … KEEPTTL`
 * (6.0); BullMQ itself needs 5.0 but prints an unstructured warning below 6.2, and its newer scripts need 6.2.
 */
export const REDIS_MIN_VERSION = '6.2.0';

/** The one eviction policy BullMQ tolerates: any other lets Redis delete jobs, leases and agent records. */
export const REDIS_EVICTION_POLICY = 'noeviction';

/**
 * One command the daemon sends (in ACL spelling: `client|setname` is CLIENT SETNAME), with the harmless form the
 * boot check queues in a MULTI it then discards. `K` and `K2` stand for two probe keys under the prefix; a
 * command without `probe` cannot be queued harmlessly (it is granted but not checked).
 */
interface NeededCommand { acl: string; probe?: string[] }

const c = (acl: string, ...probe: string[]): NeededCommand => ({ acl, probe: [...acl.split('|'), ...probe] });

/**
 * Every Redis command the daemon sends, directly or from a Lua script (the project's and BullMQ's: Redis checks the
 * ACL of each command a script calls). Derived from the code: `redis.call` / `rcall` in the scripts, the
 * ioredis calls of the stores and BullMQ's classes, and ioredis's own connection handshake; a spec keeps the
 * list in step with the scripts (redis-requirements.spec.ts) and an integration test runs the daemon as a user
 * granted exactly these (test/integration/redis).
 */
export const REDIS_COMMANDS: readonly NeededCommand[] = [
  // Connection: ioredis's handshake and health checks; INFO is BullMQ's version check (it refuses to start without it).
  c('ping'), { acl: 'select' }, c('client|setname', 'presence-sync-boot-check'), c('info', 'server'),
  // Scripts (ioredis sends EVALSHA, and EVAL once per connection and script), transactions, the workers' wait.
  c('eval', 'return 1', '1', 'K'), c('evalsha', '0'.repeat(40), '1', 'K'), c('multi'), c('exec'), c('discard'), c('bzpopmin', 'K', '0.01'),
  // Keys.
  c('del', 'K'), c('exists', 'K'), c('unlink', 'K'), c('rename', 'K', 'K2'), c('type', 'K'), c('pttl', 'K'), c('persist', 'K'),
  c('pexpire', 'K', '1000'), c('pexpireat', 'K', '1'), c('scan', '0', 'MATCH', 'K', 'COUNT', '1'), c('time'),
  // Strings, hashes, lists, sets, sorted sets, streams.
  c('get', 'K'), c('set', 'K', 'v'), c('incr', 'K'),
  c('hdel', 'K', 'f'), c('hexists', 'K', 'f'), c('hget', 'K', 'f'), c('hgetall', 'K'), c('hincrby', 'K', 'f', '1'), c('hlen', 'K'),
  c('hmget', 'K', 'f'), c('hmset', 'K', 'f', 'v'), c('hscan', 'K', '0'), c('hset', 'K', 'f', 'v'),
  c('lindex', 'K', '0'), c('llen', 'K'), c('lpop', 'K'), c('lpos', 'K', 'x'), c('lpush', 'K', 'x'), c('lrange', 'K', '0', '0'), c('lrem', 'K', '0', 'x'),
  c('lset', 'K', '0', 'x'), c('ltrim', 'K', '0', '0'), c('rpop', 'K'), c('rpoplpush', 'K', 'K2'), c('rpush', 'K', 'x'),
  c('sadd', 'K', 'm'), c('scard', 'K'), c('sismember', 'K', 'm'), c('smembers', 'K'), c('srem', 'K', 'm'), c('sscan', 'K', '0'),
  c('zadd', 'K', '1', 'm'), c('zcard', 'K'), c('zcount', 'K', '0', '1'), c('zpopmin', 'K'), c('zrange', 'K', '0', '0'), c('zrangebylex', 'K', '-', '+'),
  c('zrangebyscore', 'K', '0', '1'), c('zrem', 'K', 'm'), c('zremrangebyrank', 'K', '0', '0'), c('zremrangebyscore', 'K', '0', '1'),
  c('zrevrange', 'K', '0', '0'), c('zrevrangebyscore', 'K', '1', '0'), c('zscore', 'K', 'm'),
  c('xadd', 'K', '*', 'f', 'v'), c('xtrim', 'K', 'MAXLEN', '0'),
];

/**
 * Not needed, and not checked: the queue dashboard's workers view lists client connections (BullMQ's getWorkers,
 * CLIENT LIST, which shows every client of the server). Without it the view is empty and the rest works.
 */
export const REDIS_WORKERS_VIEW_COMMANDS: readonly string[] = ['client|list'];

/** ioredis's Cluster client reads the slot map and the cluster's state, and follows ASK redirections while slots move. */
export const REDIS_CLUSTER_COMMANDS: readonly NeededCommand[] = [c('cluster|slots'), c('cluster|info'), { acl: 'asking' }];

/**
 * What ioredis asks a sentinel (REDIS_SENTINEL_USERNAME's permissions on the sentinels): the master's address, the
 * other sentinels, and the `+switch-master` announcements it reconnects on.
 */
export const SENTINEL_COMMANDS: readonly string[] = ['sentinel|get-master-addr-by-name', 'sentinel|sentinels', 'subscribe'];

type Topology = RedisSettings['topology'];

const commandsFor = (topology: Topology): NeededCommand[] => [...REDIS_COMMANDS, ...(topology === 'cluster' ? REDIS_CLUSTER_COMMANDS : [])];

/**
 * The ACL rules of the daemon's Redis user: its keys (everything under the prefix), no Pub/Sub channels, and
 * exactly the commands it sends. For `ACL SETUSER <user> on ><password> <rules>` or a managed service's
 * access string.
 */
export function redisAclRules(prefix: string, topology: Topology): string {
  return [`resetkeys ~${prefix}:*`, 'resetchannels', '-@all', ...commandsFor(topology).map((command) => `+${command.acl}`)].join(' ');
}

/** The sentinels' ACL rules for REDIS_SENTINEL_USERNAME. */
export const SENTINEL_ACL_RULES = ['resetchannels &+switch-master', '-@all', ...SENTINEL_COMMANDS.map((command) => `+${command}`)].join(' ');

/** `a.b.c` ≥ `min`, numerically. */
export function versionAtLeast(version: string, min: string): boolean {
  const a = version.split('.').map((n) => Number.parseInt(n, 10) || 0);
  const b = min.split('.').map((n) => Number.parseInt(n, 10) || 0);
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
  }
  return true;
}

/** The `field:value` lines of an INFO reply. */
export function parseInfo(info: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of info.split(/\r?\n/)) {
    const at = line.indexOf(':');
    if (at > 0 && !line.startsWith('#')) fields.set(line.slice(0, at), line.slice(at + 1).trim());
  }
  return fields;
}

/**
 * What one server's INFO says against what the daemon needs: its version, its eviction policy, and (for a
 * single-server setting) that it is a writable primary and neither a cluster node nor a sentinel. Returns the
 * one line that refuses it, or undefined.
 */
export function infoProblem(info: Map<string, string>, settings: RedisSettings, where: string): string | undefined {
  if (info.get('redis_mode') === 'sentinel') {
    return `${where} is a Sentinel, not a Redis server: set REDIS_SENTINELS to the sentinels (host:port list) and REDIS_SENTINEL_MASTER to the master's name, and unset REDIS_URL`;
  }
  if (settings.topology === 'single' && info.get('cluster_enabled') === '1') {
    return `${where} is a Redis Cluster node: one connection to it would be answered MOVED for the keys of other nodes; set REDIS_CLUSTER_NODES=${new URL(settings.url).host} (any node finds the rest) and unset REDIS_URL`;
  }
  if (settings.topology === 'single' && info.get('role') === 'slave') {
    return `${where} is a read-only replica; point REDIS_URL at the primary (or let Sentinel find it: REDIS_SENTINELS and REDIS_SENTINEL_MASTER)`;
  }
  const version = info.get('valkey_version') ?? info.get('redis_version');
  if (version !== undefined && !versionAtLeast(version, REDIS_MIN_VERSION)) {
    return `${where} runs Redis ${version}; presence-sync needs ${REDIS_MIN_VERSION} or later (BullMQ's job deduplication and scripts)`;
  }
  const policy = info.get('maxmemory_policy');
  if (policy !== undefined && policy !== REDIS_EVICTION_POLICY) {
    return `${where} has maxmemory-policy ${policy}; presence-sync needs ${REDIS_EVICTION_POLICY} (an evicting Redis silently deletes queued jobs, leases and agent records): set maxmemory-policy ${REDIS_EVICTION_POLICY} (a managed service: in its parameter group or configuration)`;
  }
  return undefined;
}

const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e)).split('\n')[0];

/**
 * Queues every needed command in a MULTI and discards it: Redis checks each command's ACL (and key patterns)
 * when it is queued, so a refused one answers NOPERM and nothing runs. EXEC is tried on an empty transaction.
 * Returns the commands refused, in ACL spelling.
 */
export async function refusedCommands(client: RedisClient, prefix: string, topology: Topology): Promise<string[]> {
  // One hash tag for both keys: on a cluster the whole MULTI goes to one node.
  const key = `${prefix}:{boot-check}`;
  const keys: Record<string, string> = { K: key, K2: `${key}:to` };
  const probes = commandsFor(topology).filter((command) => command.probe && command.acl !== 'multi' && command.acl !== 'discard' && command.acl !== 'exec');
  const pipeline = client.pipeline();
  pipeline.call('MULTI');
  for (const command of probes) {
    const [name, ...args] = command.probe as string[];
    pipeline.call(name, ...args.map((a) => keys[a] ?? a));
  }
  pipeline.call('DISCARD');
  // EXEC, in an empty transaction of its own (refused, it leaves the transaction open: the last DISCARD ends it).
  pipeline.call('MULTI');
  pipeline.call('EXEC');
  pipeline.call('DISCARD');
  const replies = (await pipeline.exec()) ?? [];
  // A refused EXEC answers EXECABORT … because of: NOPERM …
  const refused = (i: number) => /\bNOPERM\b/.test(errorText(replies[i]?.[0] ?? ''));
  const missing: string[] = [];
  if (refused(0)) missing.push('multi');
  probes.forEach((command, i) => { if (refused(i + 1)) missing.push(command.acl); });
  if (refused(probes.length + 1)) missing.push('discard');
  if (refused(probes.length + 3)) missing.push('exec');
  // Without MULTI the probes ran: they only touched the probe keys.
  if (missing.includes('multi')) await client.del(keys.K, keys.K2).catch(() => undefined);
  return missing;
}

/** The INFO of every server the daemon writes to: the one server, the master, or every cluster master. */
async function infos(client: RedisClient, settings: RedisSettings): Promise<Array<{ where: string; info: Map<string, string> }>> {
  if (client instanceof Cluster) {
    const masters = client.nodes('master');
    return Promise.all(masters.map(async (node) => ({ where: `cluster node ${node.options.host}:${node.options.port}`, info: parseInfo(await node.info()) })));
  }
  return [{ where: describeRedis(settings), info: parseInfo(await client.info()) }];
}

export class RedisRequirementError extends Error {
  override readonly name = 'RedisRequirementError';
}

/**
 * Connects with the settings and checks what the daemon needs before anything else connects: the server kinds
 * match the settings (a cluster node behind REDIS_URL is the MOVED trap), the Redis version, `noeviction`, and
 * that the user may send every command the daemon sends. Throws `RedisRequirementError` (or the connection's own
 * error) with one line; resolves with nothing to say. The rule to grant is in docs/operations.md.
 */
export async function checkRedis(settings: RedisSettings, timeoutMs = 5000): Promise<void> {
  // No ready check: it is an INFO, and ioredis prints a warning of its own when INFO is refused.
  const client: RedisClient = await connectRedis(settings, { timeoutMs, readyCheck: false, onError: () => undefined });
  try {
    let servers: Awaited<ReturnType<typeof infos>>;
    try {
      servers = await infos(client, settings);
    } catch (e) {
      const reason = errorText(e);
      if (!/NOPERM/.test(reason)) throw new RedisRequirementError(`Redis at ${describeRedis(settings)} did not answer INFO: ${reason}`);
      throw new RedisRequirementError(`Redis at ${describeRedis(settings)} refuses INFO to this user (BullMQ needs it): ${GRANT_ACL_RULES}`);
    }
    for (const { where, info } of servers) {
      const problem = infoProblem(info, settings, where);
      if (problem) throw new RedisRequirementError(problem);
    }
    const missing = await refusedCommands(client, settings.prefix, settings.topology);
    if (missing.length > 0) {
      throw new RedisRequirementError(
        `Redis at ${describeRedis(settings)} refuses this user ${missing.map((m) => `+${m}`).join(' ')} (on keys ${settings.prefix}:*), which the daemon sends: ${GRANT_ACL_RULES}`,
      );
    }
  } finally {
    client.disconnect();
  }
}

