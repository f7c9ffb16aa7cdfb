import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { freePort, hasRedisServerBinary, launchRedisProcess, REDIS_INSTALL_HINT, startRedisServer, type RedisServerHandle } from './redis-server';

/** One Redis address, as the daemon's REDIS_CLUSTER_NODES and REDIS_SENTINELS settings list them. */
export interface RedisAddress { host: string; port: number }

const HOST = '127.0.0.1';
const CLUSTER_SLOTS = 16_384;
const listed = (addresses: RedisAddress[]) => addresses.map((a) => `${a.host}:${a.port}`).join(',');

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen(port, HOST, () => srv.close(() => resolve(true)));
  });
}

/**
 * A port whose cluster-bus port (port + 10000, Redis's fixed offset) is free as well. Taken below Linux's
 * ephemeral range so outgoing connections do not land on it between the check and the server's start.
 */
async function freeClusterPort(taken: Set<number>): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = 12_000 + Math.floor(Math.random() * 20_000);
    if (taken.has(port) || taken.has(port + 10_000)) continue;
    if ((await canListen(port)) && (await canListen(port + 10_000))) return port;
  }
  throw new Error('no free port pair (port and port + 10000) was found for a Redis Cluster node');
}

async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A throw-away Redis Cluster of masters only, on loopback. */
export interface RedisClusterHandle {
  /** Every master's address. */
  nodes: RedisAddress[];
  /** The same as `host:port,host:port,…`: the value for REDIS_CLUSTER_NODES. */
  nodesSetting: string;
  /** The node processes, in the order of `nodes` (stop one to see the cluster lose its slots). */
  servers: RedisServerHandle[];
  /** Stops every node and removes their directories; safe to call twice. */
  stop(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
}

export interface RedisClusterOptions {
  /** Masters (default 3); the 16384 slots are split evenly between them. */
  masters?: number;
  /** `requirepass` (and `masterauth`) on every node. */
  password?: string;
  /** More `redis-server` arguments for every node. */
  args?: string[];
  /** For each node to answer, and then for the cluster to agree it is whole (ms, default 20000). */
  timeoutMs?: number;
}

/**
 * Starts a local Redis Cluster from the `redis-server` binary: `masters` nodes on free loopback ports (each with
 * its bus port free too), each in a temporary directory, no persistence, `noeviction`. The slots are assigned
 * with CLUSTER ADDSLOTS and the nodes introduced with CLUSTER MEET (no redis-cli needed); it returns once every
 * node reports `cluster_state:ok` with all slots and all nodes known.
 */
export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<RedisClusterHandle> {
  if (!hasRedisServerBinary()) throw new Error(REDIS_INSTALL_HINT);
  const masters = options.masters ?? 3;
  if (!Number.isInteger(masters) || masters < 1 || masters > 16) throw new Error(`startRedisCluster: masters must be 1 to 16; got ${masters}`);
  const timeoutMs = options.timeoutMs ?? 20_000;
  const auth = options.password === undefined ? [] : ['--requirepass', options.password, '--masterauth', options.password];
  const servers: RedisServerHandle[] = [];
  const nodes: RedisAddress[] = [];
  const taken = new Set<number>();
  const stop = async (signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM') => { await Promise.all(servers.map((s) => s.stop(signal))); };
  const admins: Redis[] = [];
  try {
    for (let i = 0; i < masters; i++) {
      const port = await freeClusterPort(taken);
      taken.add(port).add(port + 10_000);
      servers.push(await startRedisServer({
        port, timeoutMs,
        args: ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '5000', ...auth, ...(options.args ?? [])],
      }));
      nodes.push({ host: HOST, port });
    }
    for (const node of nodes) admins.push(new Redis({ ...node, password: options.password, lazyConnect: true, maxRetriesPerRequest: 1 }));
    for (let i = 0; i < masters; i++) {
      const from = Math.floor((i * CLUSTER_SLOTS) / masters);
      const to = Math.floor(((i + 1) * CLUSTER_SLOTS) / masters);
      await admins[i].call('CLUSTER', 'ADDSLOTS', ...Array.from({ length: to - from }, (_, k) => String(from + k)));
    }
    for (const node of nodes.slice(1)) await admins[0].call('CLUSTER', 'MEET', node.host, String(node.port));
    await waitUntil('the Redis Cluster agrees it is whole', async () => {
      for (const admin of admins) {
        const info = String(await admin.call('CLUSTER', 'INFO'));
        if (!info.includes('cluster_state:ok') || !info.includes(`cluster_slots_ok:${CLUSTER_SLOTS}`) || !info.includes(`cluster_known_nodes:${masters}\r`)) return false;
      }
      return true;
    }, timeoutMs);
  } catch (e) {
    await stop('SIGKILL');
    throw e;
  } finally {
    for (const admin of admins) admin.disconnect();
  }
  return { nodes, nodesSetting: listed(nodes), servers, stop };
}

/** A throw-away Redis watched by Sentinel, on loopback. */
export interface RedisSentinelHandle {
  /** The name the sentinels know the master by: the value for REDIS_SENTINEL_MASTER. */
  masterName: string;
  /** The first master (after a failover one of `replicas` is master instead). */
  master: RedisServerHandle;
  replicas: RedisServerHandle[];
  sentinels: RedisAddress[];
  /** `host:port,host:port,…`: the value for REDIS_SENTINELS. */
  sentinelsSetting: string;
  /** The sentinel processes, in the order of `sentinels`. */
  sentinelServers: RedisServerHandle[];
  /** Stops the sentinels, then the data nodes; safe to call twice. */
  stop(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
}

export interface RedisSentinelOptions {
  /** Default `presence`. */
  masterName?: string;
  /** Sentinel processes (default 1; the quorum is a majority of them). */
  sentinels?: number;
  /** Replicas of the master (default 0; one lets a test force a failover with SENTINEL FAILOVER). */
  replicas?: number;
  /** `requirepass` on the master and replicas (the sentinels are told it with `sentinel auth-pass`). */
  password?: string;
  /** `requirepass` on the sentinels themselves (REDIS_SENTINEL_PASSWORD). */
  sentinelPassword?: string;
  /** How long a master may be silent before the sentinels call it down (ms, default 2000). */
  downAfterMs?: number;
  timeoutMs?: number;
}

/**
 * Starts a master (plus `replicas`) and `sentinels` Sentinel processes (`redis-server <conf> --sentinel`) that
 * monitor it, each on a free loopback port in a temporary directory; returns once every sentinel names the master
 * and, with replicas, once every replica is in sync and known to the sentinels.
 */
export async function startRedisSentinel(options: RedisSentinelOptions = {}): Promise<RedisSentinelHandle> {
  if (!hasRedisServerBinary()) throw new Error(REDIS_INSTALL_HINT);
  const masterName = options.masterName ?? 'presence';
  const count = options.sentinels ?? 1;
  const replicaCount = options.replicas ?? 0;
  const timeoutMs = options.timeoutMs ?? 20_000;
  const auth = options.password === undefined ? [] : ['--requirepass', options.password, '--masterauth', options.password];
  const started: RedisServerHandle[] = [];
  const sentinelServers: RedisServerHandle[] = [];
  const replicas: RedisServerHandle[] = [];
  const sentinels: RedisAddress[] = [];
  const stop = async (signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM') => {
    await Promise.all(sentinelServers.map((s) => s.stop(signal)));
    await Promise.all(started.map((s) => s.stop(signal)));
  };
  const clients: Redis[] = [];
  let master: RedisServerHandle;
  try {
    master = await startRedisServer({ timeoutMs, args: auth });
    started.push(master);
    for (let i = 0; i < replicaCount; i++) {
      const replica = await startRedisServer({ timeoutMs, args: [...auth, '--replicaof', HOST, String(master.port)] });
      started.push(replica);
      replicas.push(replica);
    }
    for (let i = 0; i < count; i++) {
      const port = await freePort();
      const dir = mkdtempSync(join(tmpdir(), 'presence-sync-sentinel-'));
      const conf = join(dir, 'sentinel.conf');
      // Sentinel rewrites its configuration file as it learns the topology: it must be a file of its own.
      writeFileSync(conf, [
        `port ${port}`, `bind ${HOST}`, `dir ${dir}`,
        `sentinel monitor ${masterName} ${HOST} ${master.port} ${Math.floor(count / 2) + 1}`,
        `sentinel down-after-milliseconds ${masterName} ${options.downAfterMs ?? 2000}`,
        `sentinel failover-timeout ${masterName} 10000`,
        ...(options.password === undefined ? [] : [`sentinel auth-pass ${masterName} ${options.password}`]),
        ...(options.sentinelPassword === undefined ? [] : [`requirepass ${options.sentinelPassword}`, `sentinel sentinel-pass ${options.sentinelPassword}`]),
        '',
      ].join('\n'));
      try {
        sentinelServers.push(await launchRedisProcess([conf, '--sentinel', '--loglevel', 'warning'], { port, dir, ownDir: true, timeoutMs }));
      } catch (e) {
        rmSync(dir, { recursive: true, force: true });
        throw e;
      }
      sentinels.push({ host: HOST, port });
    }
    for (const s of sentinels) clients.push(new Redis({ ...s, password: options.sentinelPassword, lazyConnect: true, maxRetriesPerRequest: 1 }));
    await waitUntil('every sentinel names the master and knows its replicas and peers', async () => {
      for (const client of clients) {
        const addr = (await client.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', masterName)) as string[] | null;
        if (!addr || Number(addr[1]) !== master.port) return false;
        const known = (await client.call('SENTINEL', 'REPLICAS', masterName)) as string[][];
        const inSync = known.filter((fields) => {
          const f = new Map<string, string>();
          for (let k = 0; k + 1 < fields.length; k += 2) f.set(fields[k], fields[k + 1]);
          return f.get('flags') === 'slave' && f.get('master-link-status') === 'ok';
        });
        if (inSync.length < replicaCount) return false;
        if (((await client.call('SENTINEL', 'SENTINELS', masterName)) as unknown[]).length < count - 1) return false;
      }
      return true;
    }, timeoutMs);
  } catch (e) {
    await stop('SIGKILL');
    throw e;
  } finally {
    for (const client of clients) client.disconnect();
  }
  return { masterName, master, replicas, sentinels, sentinelsSetting: listed(sentinels), sentinelServers, stop };
}
