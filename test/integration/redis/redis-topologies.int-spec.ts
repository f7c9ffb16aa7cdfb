import { rmSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { Queue, Worker } from 'bullmq';
import Redis, { Cluster } from 'ioredis';
import { loadConfig, type RedisSettings } from '@presence-sync/config';
import {
  bullConnection, checkRedis, connectRedis, REDIS_COMMANDS, redisAclRules, RedisRequirementError, SENTINEL_ACL_RULES, type RedisClient,
} from '@presence-sync/redis';
import {
  freePort, makeTestCertificates, startRedisCluster, startRedisSentinel, startRedisServer, type RedisClusterHandle, type RedisSentinelHandle, type TestCertificates,
} from '@presence-sync/testing';
import { waitFor } from '../../support/daemon-harness';

/*
 * Issue 13, point 1: the daemon's Redis connection on a local Redis Cluster (3 masters) and on a Sentinel-managed
 * master, over TLS with a CA file, and the boot check (checkRedis) that refuses what the daemon cannot use. The
 * daemon itself, run as `presence-sync start` against refused setups, is in redis-boot-refusals.int-spec.ts.
 */

const base = { ACD_BASE_URL: 'http://127.0.0.1:9', ACD_TOKEN: 't', ACD_WEBHOOK_SECRET: 'x'.repeat(16) };
const settingsFor = (env: Record<string, string>): RedisSettings => loadConfig({ ...base, ...env }).redis;

/** A BullMQ queue and worker on `prefix` through the daemon's connection: adds `count` jobs and waits for each. */
async function queueRoundTrip(settings: RedisSettings, prefix: string, count: number): Promise<number[]> {
  const bull = bullConnection(settings);
  const queue = new Queue('round-trip', { connection: bull.connection, prefix });
  const done: number[] = [];
  const worker = new Worker('round-trip', async (job) => { done.push(job.data.n as number); return job.data.n as number; }, { connection: bull.connection, prefix, concurrency: 4 });
  try {
    // The sync trigger's options (deduplication keeps its TTL with SET … KEEPTTL).
    await Promise.all(Array.from({ length: count }, (_, n) => queue.add('n', { n }, { deduplication: { id: `n-${n}` }, removeOnComplete: true })));
    await waitFor(() => done.length === count, `${count} jobs processed`, 20_000);
    return done.sort((a, b) => a - b);
  } finally {
    await worker.close();
    await queue.close();
    await bull.close();
  }
}

/** Runs a script the way the stores do (defineCommand: EVALSHA, then EVAL once). */
async function scriptRoundTrip(client: RedisClient, key: string): Promise<number> {
  if (!('psBump' in client)) client.defineCommand('psBump', { numberOfKeys: 1, lua: "redis.call('HSET', KEYS[1], 'v', ARGV[1]); return redis.call('HINCRBY', KEYS[1], 'n', 1)" });
  const bump = (client as unknown as { psBump(key: string, value: string): Promise<number> }).psBump.bind(client);
  await bump(key, 'a');
  return bump(key, 'b');
}

/** The port of the server a client is connected to (a Sentinel-managed client's options keep the defaults). */
async function serverPort(client: Redis): Promise<number> {
  return Number(/tcp_port:(\d+)/.exec(await client.info('server'))?.[1]);
}

async function expectRefused(settings: RedisSettings, message: RegExp): Promise<void> {
  const refused = await checkRedis(settings).then(() => undefined, (e: unknown) => e as Error);
  expect(refused).toBeInstanceOf(Error);
  expect(refused?.message).toMatch(message);
  expect(refused?.message.split('\n')).toHaveLength(1);
}

describe('Redis Cluster: the daemon connection on a local 3-master cluster', () => {
  let cluster: RedisClusterHandle;
  let settings: RedisSettings;
  beforeAll(async () => {
    cluster = await startRedisCluster();
    settings = settingsFor({ REDIS_CLUSTER_NODES: cluster.nodes[1] ? `${cluster.nodes[1].host}:${cluster.nodes[1].port}` : cluster.nodesSetting, REDIS_PREFIX: 'it-cluster' });
  }, 60_000);
  afterAll(async () => { await cluster?.stop(); });

  it('finds every master from one node; keys spread over them; a script runs on its slot', async () => {
    const client = await connectRedis(settings);
    try {
      expect(client).toBeInstanceOf(Cluster);
      expect((client as unknown as Cluster).nodes('master')).toHaveLength(3);
      const keys = Array.from({ length: 30 }, (_, i) => `it-cluster:k:{${i}}`);
      await Promise.all(keys.map((k, i) => client.set(k, String(i))));
      expect(await Promise.all(keys.map((k) => client.get(k)))).toEqual(keys.map((_, i) => String(i)));
      const perNode = await Promise.all((client as unknown as Cluster).nodes('master').map((node) => node.dbsize()));
      expect(perNode.every((n) => n > 0)).toBe(true);
      expect(await scriptRoundTrip(client, 'it-cluster:script:{agent-1}')).toBe(2);
    } finally {
      client.disconnect();
    }
  });

  it('BullMQ adds and processes jobs on a hash-tagged queue prefix through bullConnection', async () => {
    expect(await queueRoundTrip(settings, '{it-cluster}:q', 25)).toEqual(Array.from({ length: 25 }, (_, n) => n));
  }, 40_000);

  it('a queue prefix without a hash tag is what a cluster refuses (CROSSSLOT): why the prefixes carry one', async () => {
    const bull = bullConnection(settings);
    const queue = new Queue('untagged', { connection: bull.connection, prefix: 'it-cluster:untagged' });
    try {
      await expect(queue.add('n', { n: 1 })).rejects.toThrow(/CROSSSLOT/);
    } finally {
      await queue.close();
      await bull.close();
    }
  });

  it('the boot check passes; and as a user granted exactly the cluster rules, the check and BullMQ work', async () => {
    await expect(checkRedis(settings)).resolves.toBeUndefined();
    const rules = redisAclRules('it-cluster', 'cluster');
    // The rules grant keys under `it-cluster:`: this queue's prefix starts with it and carries its hash tag after.
    for (const node of cluster.nodes) {
      const admin = new Redis(node);
      await admin.call('ACL', 'SETUSER', 'presence', 'on', '>cluster-user-pw-1', ...rules.split(' '));
      admin.disconnect();
    }
    const restricted = settingsFor({ REDIS_CLUSTER_NODES: cluster.nodesSetting, REDIS_PREFIX: 'it-cluster', REDIS_USERNAME: 'presence', REDIS_PASSWORD: 'cluster-user-pw-1' });
    await expect(checkRedis(restricted)).resolves.toBeUndefined();
    expect(await queueRoundTrip(restricted, 'it-cluster:{q}', 10)).toHaveLength(10);
  }, 40_000);

  it('REDIS_URL at a cluster node is refused with the setting to use (the MOVED symptom)', async () => {
    const node = cluster.nodes[0];
    await expectRefused(settingsFor({ REDIS_URL: `redis://${node.host}:${node.port}` }), new RegExp(`is a Redis Cluster node: .*MOVED.*set REDIS_CLUSTER_NODES=${node.host}:${node.port} `));
  });
});

describe('Redis Sentinel: the master Sentinel names, before and after a failover', () => {
  let sentinel: RedisSentinelHandle;
  let settings: RedisSettings;
  beforeAll(async () => {
    sentinel = await startRedisSentinel({ replicas: 1, password: 'data-pw-123', sentinelPassword: 'sentinel-pw-456' });
    // The sentinels' own user, granted what ioredis asks them.
    for (const s of sentinel.sentinels) {
      const admin = new Redis({ ...s, password: 'sentinel-pw-456' });
      await admin.call('ACL', 'SETUSER', 'presence-sentinel', 'on', '>sentinel-user-pw-1', ...SENTINEL_ACL_RULES.split(' '));
      admin.disconnect();
    }
    settings = settingsFor({
      REDIS_SENTINELS: sentinel.sentinelsSetting, REDIS_SENTINEL_MASTER: sentinel.masterName, REDIS_PASSWORD: 'data-pw-123',
      REDIS_SENTINEL_USERNAME: 'presence-sentinel', REDIS_SENTINEL_PASSWORD: 'sentinel-user-pw-1', REDIS_PREFIX: 'it-sentinel',
    });
  }, 60_000);
  afterAll(async () => { await sentinel?.stop(); });

  it('connects to the master, passes the boot check, runs a script and a BullMQ queue', async () => {
    await expect(checkRedis(settings)).resolves.toBeUndefined();
    const client = await connectRedis(settings);
    try {
      expect(await serverPort(client)).toBe(sentinel.master.port);
      expect(await scriptRoundTrip(client, 'it-sentinel:script')).toBe(2);
    } finally {
      client.disconnect();
    }
    expect(await queueRoundTrip(settings, 'it-sentinel:q', 10)).toHaveLength(10);
  }, 40_000);

  it('after SENTINEL FAILOVER the same client writes to the promoted replica within seconds, not after the demotion', async () => {
    const client = await connectRedis(settings);
    try {
      await client.set('it-sentinel:before', '1');
      const admin = new Redis({ ...sentinel.sentinels[0], password: 'sentinel-pw-456' });
      const failedOverAt = Date.now();
      await admin.call('SENTINEL', 'FAILOVER', sentinel.masterName);
      const promoted = sentinel.replicas[0].port;
      await waitFor(async () => Number(((await admin.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', sentinel.masterName)) as string[])[1]) === promoted, 'the sentinel names the replica master', 20_000);
      admin.disconnect();
      // The healthy old master takes writes (later lost) until Sentinel demotes it, about 10 s on: the client must
      // follow the sentinels' +switch-master announcement instead (measured: about 1.1 s, against 11 s without).
      // Read back on the promoted server itself: asking the client which server it is on after the write races
      // the switch (the write may still have gone to the old master).
      const direct = new Redis({ port: promoted, password: 'data-pw-123' });
      try {
        await waitFor(async () => client.set('it-sentinel:after', '2').then(async () => (await direct.get('it-sentinel:after')) === '2', () => false), 'a write lands on the new master', 20_000);
        expect(Date.now() - failedOverAt).toBeLessThan(6000);
        expect(await serverPort(client)).toBe(promoted);
        expect(await direct.mget('it-sentinel:before', 'it-sentinel:after')).toEqual(['1', '2']);
      } finally {
        direct.disconnect();
      }
    } finally {
      client.disconnect();
    }
  }, 60_000);

  it('a master name the sentinels do not know is one line naming REDIS_SENTINEL_MASTER', async () => {
    const wrong = { ...settings, sentinel: { ...settings.sentinel!, masterName: 'nope' } };
    await expectRefused(wrong, /^cannot reach Redis at the Sentinel master "nope" \(sentinels .*\): .*REDIS_SENTINEL_MASTER/);
  }, 20_000);

  it('REDIS_URL at a sentinel is refused: it is not a Redis server', async () => {
    const s = sentinel.sentinels[0];
    await expectRefused(settingsFor({ REDIS_URL: `redis://:sentinel-pw-456@${s.host}:${s.port}` }), /is a Sentinel, not a Redis server: set REDIS_SENTINELS/);
  });
});

describe('TLS: rediss:// with REDIS_TLS_CA_FILE', () => {
  let certs: TestCertificates;
  let server: Awaited<ReturnType<typeof startRedisServer>>;
  let tlsPort: number;
  beforeAll(async () => {
    certs = makeTestCertificates();
    tlsPort = await freePort();
    server = await startRedisServer({ args: ['--tls-port', String(tlsPort), '--tls-cert-file', certs.certFile, '--tls-key-file', certs.keyFile, '--tls-ca-cert-file', certs.caFile, '--tls-auth-clients', 'no'] });
  });
  afterAll(async () => {
    await server?.stop();
    if (certs) rmSync(certs.dir, { recursive: true, force: true });
  });

  it('verifies the server against the CA file, and refuses a server the CA did not sign, in one line', async () => {
    const trusted = settingsFor({ REDIS_URL: `rediss://127.0.0.1:${tlsPort}`, REDIS_TLS_CA_FILE: certs.caFile });
    await expect(checkRedis(trusted)).resolves.toBeUndefined();
    const client = await connectRedis(trusted);
    expect(await client.ping()).toBe('PONG');
    client.disconnect();
    const untrusted = settingsFor({ REDIS_URL: `rediss://127.0.0.1:${tlsPort}`, REDIS_TLS_CA_FILE: certs.otherCaFile });
    await expectRefused(untrusted, new RegExp(`^cannot reach Redis at rediss://127\\.0\\.0\\.1:${tlsPort}: .*(self[- ]signed|unable to verify|certificate)`, 'i'));
  });
});

describe('checkRedis on one server: what the daemon cannot use is refused in one line', () => {
  let server: Awaited<ReturnType<typeof startRedisServer>>;
  let admin: Redis;
  const prefix = `it-acl-${randomUUID().slice(0, 6)}`;
  const url = (user: string) => `redis://${user}:pw-${user}-123@127.0.0.1:${server.port}`;
  const grant = (user: string, rules: string) => admin.call('ACL', 'SETUSER', user, 'reset', 'on', `>pw-${user}-123`, ...rules.split(' '));

  beforeAll(async () => {
    server = await startRedisServer();
    admin = new Redis(server.url);
  });
  afterAll(async () => {
    admin?.disconnect();
    await server?.stop();
  });

  it('a user granted exactly the documented rules passes; each missing command is named', async () => {
    const rules = redisAclRules(prefix, 'single');
    await grant('exact', rules);
    await expect(checkRedis(settingsFor({ REDIS_URL: url('exact'), REDIS_PREFIX: prefix }))).resolves.toBeUndefined();
    // Every probed command, one at a time: taking it away is noticed.
    for (const command of REDIS_COMMANDS.filter((c) => c.probe && c.acl !== 'info' && c.acl !== 'ping')) {
      await grant('less', `${rules} -${command.acl}`);
      await expectRefused(settingsFor({ REDIS_URL: url('less'), REDIS_PREFIX: prefix }), new RegExp(`refuses this user \\+${command.acl.replace('|', '\\|')} \\(on keys ${prefix}:\\*\\), which the daemon sends: grant its user the ACL rules in docs/operations\\.md`));
    }
    await grant('less', `${rules} -ping`);
    await expectRefused(settingsFor({ REDIS_URL: url('less'), REDIS_PREFIX: prefix }), /^Redis at redis:\/\/\*\*\*@127\.0\.0\.1:\d+ refuses PING to this user \(NOPERM .*\): grant its user the ACL rules/);
  }, 60_000);

  it('INFO refused, keys outside the prefix, a wrong password: one line each, no password', async () => {
    await grant('noinfo', `${redisAclRules(prefix, 'single')} -info`);
    await expectRefused(settingsFor({ REDIS_URL: url('noinfo'), REDIS_PREFIX: prefix }), /refuses INFO to this user \(BullMQ needs it\): grant its user the ACL rules/);
    await grant('otherkeys', redisAclRules('elsewhere', 'single'));
    await expectRefused(settingsFor({ REDIS_URL: url('otherkeys'), REDIS_PREFIX: prefix }), new RegExp(`refuses this user \\+eval \\+evalsha \\+bzpopmin \\+del .* \\(on keys ${prefix}:\\*\\)`));
    const wrong = await checkRedis(settingsFor({ REDIS_URL: `redis://exact:not-the-pw-999@127.0.0.1:${server.port}` })).catch((e: Error) => e);
    expect(String(wrong)).toMatch(/cannot reach Redis at redis:\/\/\*\*\*@127\.0\.0\.1:\d+: WRONGPASS/);
    expect(String(wrong)).not.toContain('not-the-pw-999');
  }, 30_000);

  it('an evicting Redis is refused (maxmemory-policy), a replica too', async () => {
    await admin.config('SET', 'maxmemory-policy', 'allkeys-lru');
    try {
      await expectRefused(settingsFor({ REDIS_URL: server.url }), /has maxmemory-policy allkeys-lru; presence-sync needs noeviction/);
    } finally {
      await admin.config('SET', 'maxmemory-policy', 'noeviction');
    }
    const replica = await startRedisServer({ args: ['--replicaof', '127.0.0.1', String(server.port)] });
    try {
      const refused = await checkRedis(settingsFor({ REDIS_URL: replica.url })).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(RedisRequirementError);
      expect((refused as Error).message).toMatch(/is a read-only replica; point REDIS_URL at the primary/);
    } finally {
      await replica.stop();
    }
  });

  it('REDIS_CLUSTER_NODES at a server that is not a cluster node: one line with the REDIS_URL to use', async () => {
    await expectRefused(settingsFor({ REDIS_CLUSTER_NODES: `127.0.0.1:${server.port}` }), new RegExp(`REDIS_CLUSTER_NODES names a server that is not a Redis Cluster node .*REDIS_URL=redis://127\\.0\\.0\\.1:${server.port} instead`));
  }, 20_000);
});
