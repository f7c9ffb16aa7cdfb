import { rmSync } from 'node:fs';
import { join } from 'node:path';
import Redis from 'ioredis';
import { redisAclRules } from '@presence-sync/redis';
import {
  makeTestCertificates, SANDBOX_SALESFORCE, startRedisCluster, startRedisSentinel, startRedisServer,
  type RedisClusterHandle, type RedisSentinelHandle, type RedisServerHandle, type TestCertificates,
} from '@presence-sync/testing';
import { ENGINE_RULES, SECRET, TOKEN } from '../../support/daemon-harness';
import { runProcess } from '../../support/run-process';

/*
 * Issue 13, point 1: every Redis the daemon cannot use stops `presence-sync start` (the product's entry, from
 * the TypeScript sources) with exactly one line on stderr and exit code 1, before anything else connects. Today's
 * crash is the first case: a REDIS_URL naming several hosts passed validation and then failed with a stack.
 */

const PREFIX = 'refusals';
const PASSWORDS = ['pw-multi-host-1', 'pw-user-noinfo-2', 'pw-user-noscripts-3', 'pw-sentinel-4'];

/** Settings that would boot against a working Redis (Salesforce and the contact center are never reached). */
const settings = (redis: Record<string, string>): Record<string, string> => ({
  PATH: process.env.PATH ?? '', REDIS_PREFIX: PREFIX, ACD_BASE_URL: 'http://127.0.0.1:9', ACD_TOKEN: TOKEN, ACD_WEBHOOK_SECRET: SECRET,
  HTTP_HOST: '127.0.0.1', HTTP_PORT: '0', RULES_DIR: ENGINE_RULES, RULES_WATCH: 'false', ADMIN_DASHBOARD: 'off', LOG_LEVEL: 'info',
  DIRECTORY_REFRESH_INTERVAL_MS: '0', RECONCILE_INTERVAL_MS: '0', DEFAULT_UNAVAILABLE_CODE: 'System',
  SALESFORCE_MODE: 'live', SALESFORCE_LOGIN_URL: 'http://127.0.0.1:9', SALESFORCE_AUTH: 'password',
  SALESFORCE_CLIENT_ID: SANDBOX_SALESFORCE.clientId, SALESFORCE_CLIENT_SECRET: SANDBOX_SALESFORCE.clientSecret,
  SALESFORCE_USERNAME: SANDBOX_SALESFORCE.username, SALESFORCE_PASSWORD: SANDBOX_SALESFORCE.password, SALESFORCE_SECURITY_TOKEN: SANDBOX_SALESFORCE.securityToken,
  ...redis,
});

/**
 * Runs `presence-sync start` once per case, all in one process (the sources are transpiled once): before each
 * case the environment is replaced and a marker line goes to stdout and stderr, so each case's output is its own.
 */
const runner = `
const { main } = require('./apps/presence-sync/src/cli.ts');
(async () => {
  for (const [i, env] of JSON.parse(process.env.BOOT_CASES).entries()) {
    process.env = env;
    process.stdout.write('@@case ' + i + '\\n');
    process.stderr.write('@@case ' + i + '\\n');
    const code = await main(['node', 'presence-sync', 'start']);
    process.stdout.write('@@exit ' + i + ' ' + code + '\\n');
  }
  process.exit(0);
})();`;

interface Started { code: number | undefined; stdout: string; stderr: string; stderrLines: string[] }

/** `presence-sync start` with each of these Redis settings, to its exit. */
async function startEach(redis: Array<Record<string, string>>): Promise<Started[]> {
  const r = await runProcess(process.execPath, ['-r', './test/support/ts-register.js', '-e', runner], { PATH: process.env.PATH ?? '', BOOT_CASES: JSON.stringify(redis.map(settings)) }, 120_000);
  const split = (text: string) => text.split(/^@@case \d+\n/m).slice(1);
  const outs = split(r.stdout);
  const errs = split(r.stderr);
  expect({ cases: outs.length, code: r.code, before: r.stderr.split(/^@@case/m)[0] }).toEqual({ cases: redis.length, code: 0, before: '' });
  return redis.map((_, i) => {
    const code = /^@@exit \d+ (\d+)$/m.exec(outs[i])?.[1];
    return { code: code === undefined ? undefined : Number(code), stdout: outs[i], stderr: errs[i], stderrLines: errs[i].split('\n').filter((l) => l.length > 0) };
  });
}

describe('presence-sync start refuses a Redis it cannot use, in one line', () => {
  let server: RedisServerHandle;
  let evicting: RedisServerHandle;
  let cluster: RedisClusterHandle;
  let sentinel: RedisSentinelHandle;
  let certs: TestCertificates;

  beforeAll(async () => {
    [server, evicting, cluster, sentinel] = await Promise.all([
      startRedisServer(), startRedisServer({ args: ['--maxmemory-policy', 'allkeys-lru'] }), startRedisCluster(), startRedisSentinel(),
    ]);
    certs = makeTestCertificates();
    const admin = new Redis(server.url);
    const rules = redisAclRules(PREFIX, 'single');
    await admin.call('ACL', 'SETUSER', 'noinfo', 'on', `>${PASSWORDS[1]}`, ...`${rules} -info`.split(' '));
    await admin.call('ACL', 'SETUSER', 'noscripts', 'on', `>${PASSWORDS[2]}`, ...`${rules} -evalsha -bzpopmin`.split(' '));
    admin.disconnect();
  }, 90_000);

  afterAll(async () => {
    await Promise.all([server?.stop(), evicting?.stop(), cluster?.stop(), sentinel?.stop()]);
    if (certs) rmSync(certs.dir, { recursive: true, force: true });
  });

  const node = () => `${cluster.nodes[0].host}:${cluster.nodes[0].port}`;
  const cases: Array<[string, () => Record<string, string>, () => RegExp]> = [
    ['a REDIS_URL naming several hosts (it crashed with a stack)', () => ({ REDIS_URL: `redis://:${PASSWORDS[0]}@${cluster.nodesSetting}` }),
      () => new RegExp(`^presence-sync: invalid setting REDIS_URL: names several hosts \\(${cluster.nodesSetting.replace(/\./g, '\\.')}\\); a URL is one server\\. For a Redis Cluster set REDIS_CLUSTER_NODES=${cluster.nodesSetting.replace(/\./g, '\\.')} instead`)],
    ['REDIS_URL at a Redis Cluster node (it booted and processed nothing: MOVED)', () => ({ REDIS_URL: `redis://${node()}` }),
      () => new RegExp(`^presence-sync: cannot start: redis://${node().replace(/\./g, '\\.')} is a Redis Cluster node: .*MOVED.*; set REDIS_CLUSTER_NODES=${node().replace(/\./g, '\\.')} \\(any node finds the rest\\) and unset REDIS_URL$`)],
    ['REDIS_URL at a sentinel', () => ({ REDIS_URL: `redis://${sentinel.sentinelsSetting.split(',')[0]}` }),
      () => /^presence-sync: cannot start: redis:\/\/127\.0\.0\.1:\d+ is a Sentinel, not a Redis server: set REDIS_SENTINELS/],
    ['REDIS_CLUSTER_NODES at a server that is not a cluster node', () => ({ REDIS_CLUSTER_NODES: `127.0.0.1:${server.port}` }),
      () => new RegExp(`^presence-sync: cannot start: cannot reach Redis at the Redis Cluster at 127\\.0\\.0\\.1:${server.port}: REDIS_CLUSTER_NODES names a server that is not a Redis Cluster node`)],
    ['REDIS_SENTINEL_MASTER the sentinels do not know', () => ({ REDIS_SENTINELS: sentinel.sentinelsSetting, REDIS_SENTINEL_MASTER: 'not-monitored' }),
      () => /^presence-sync: cannot start: cannot reach Redis at the Sentinel master "not-monitored" .*REDIS_SENTINEL_MASTER/],
    ['a user refused INFO (BullMQ needs it)', () => ({ REDIS_URL: `redis://noinfo:${PASSWORDS[1]}@127.0.0.1:${server.port}` }),
      () => /^presence-sync: cannot start: Redis at redis:\/\/\*\*\*@127\.0\.0\.1:\d+ refuses INFO to this user \(BullMQ needs it\): grant its user the ACL rules in docs\/operations\.md/],
    ['a user refused commands the daemon sends', () => ({ REDIS_URL: `redis://noscripts:${PASSWORDS[2]}@127.0.0.1:${server.port}` }),
      () => /^presence-sync: cannot start: Redis at redis:\/\/\*\*\*@127\.0\.0\.1:\d+ refuses this user \+evalsha \+bzpopmin \(on keys refusals:\*\), which the daemon sends/],
    ['a REDIS_TLS_CA_FILE that cannot be read', () => ({ REDIS_URL: `rediss://127.0.0.1:${server.port}`, REDIS_TLS_CA_FILE: join(certs.dir, 'missing.pem') }),
      () => new RegExp(`^presence-sync: invalid setting REDIS_TLS_CA_FILE: cannot read ${join(certs.dir, 'missing.pem').replace(/\./g, '\\.')} \\(ENOENT\\)$`)],
    ['an evicting Redis (maxmemory-policy allkeys-lru)', () => ({ REDIS_URL: evicting.url }),
      () => /^presence-sync: cannot start: redis:\/\/127\.0\.0\.1:\d+ has maxmemory-policy allkeys-lru; presence-sync needs noeviction/],
    ['Sentinel settings with a cluster', () => ({ REDIS_CLUSTER_NODES: node(), REDIS_SENTINELS: sentinel.sentinelsSetting, REDIS_SENTINEL_MASTER: sentinel.masterName, REDIS_SENTINEL_PASSWORD: PASSWORDS[3] }),
      () => /^presence-sync: invalid setting REDIS_SENTINELS: cannot be combined with REDIS_CLUSTER_NODES/],
  ];

  it('each prints exactly one line on stderr, exits 1, shows no stack and no password', async () => {
    const results = await startEach(cases.map(([, env]) => env()));
    cases.forEach(([name, , line], i) => {
      const r = results[i];
      expect({ name, stderr: r.stderrLines }).toEqual({ name, stderr: [expect.stringMatching(line())] });
      expect({ name, code: r.code }).toEqual({ name, code: 1 });
      expect(r.stderr).not.toMatch(/^\s+at /m);
      for (const secret of PASSWORDS) expect(`${r.stdout}${r.stderr}`).not.toContain(secret);
    });
  }, 150_000);
});
