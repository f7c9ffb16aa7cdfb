import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@presence-sync/domain';
import { loadConfig, redactConfig, SETTING_NAMES } from './app-config';
import { describeRedis, loadRedisSettings, parseRedisAddresses } from './redis-settings';
import { secretValuesOf } from './secret-values';
import { encryptSecret, generateSecretsKey } from './secrets';

const base = { ACD_BASE_URL: 'http://cc.example:8080/v1/', ACD_TOKEN: 'tok-secret', ACD_WEBHOOK_SECRET: 'whsec-0123456789abcdef' };

/** The one line `loadConfig` refuses these settings with. */
function refusal(env: Record<string, string>): string {
  try {
    loadConfig({ ...base, ...env });
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    const message = (e as Error).message;
    expect(message.split('\n')).toHaveLength(1);
    return message;
  }
  throw new Error(`expected ${JSON.stringify(env)} to be refused`);
}

describe(loadRedisSettings.name, () => {
  let dir: string;
  beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'redis-settings-spec-')); });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a single server by default, from REDIS_URL', () => {
    const r = loadConfig(base).redis;
    expect(r).toEqual({ url: 'redis://127.0.0.1:6379', prefix: 'ps', topology: 'single', nodes: [], username: undefined, password: undefined, tls: undefined });
    expect(loadConfig({ ...base, REDIS_URL: 'rediss://redis.internal:6380/2' }).redis).toMatchObject({ topology: 'single', tls: {} });
    expect(loadConfig({ ...base, REDIS_URL: 'redis://redis.internal', REDIS_USERNAME: 'presence', REDIS_PASSWORD: 'pw-outside-url' }).redis)
      .toMatchObject({ url: 'redis://redis.internal', username: 'presence', password: 'pw-outside-url' });
  });

  it('a cluster from REDIS_CLUSTER_NODES, with credentials and TLS of their own', () => {
    const r = loadConfig({ ...base, REDIS_CLUSTER_NODES: 'r1.internal:7000, r2.internal:7001,[::1]:7002,r4.internal', REDIS_USERNAME: 'presence', REDIS_PASSWORD: 'pw-cluster', REDIS_TLS: 'true' }).redis;
    expect(r).toMatchObject({
      topology: 'cluster', username: 'presence', password: 'pw-cluster', tls: {},
      nodes: [{ host: 'r1.internal', port: 7000 }, { host: 'r2.internal', port: 7001 }, { host: '::1', port: 7002 }, { host: 'r4.internal', port: 6379 }],
    });
    expect(r.url).toBe('redis-cluster://r1.internal:7000,r2.internal:7001,[::1]:7002,r4.internal:6379');
    expect(describeRedis(r)).toBe('the Redis Cluster at r1.internal:7000,r2.internal:7001,[::1]:7002,r4.internal:6379');
  });

  it('a Sentinel-managed master from REDIS_SENTINELS and REDIS_SENTINEL_MASTER (sentinels default to port 26379)', () => {
    const r = loadConfig({ ...base, REDIS_SENTINELS: 's1:26380,s2', REDIS_SENTINEL_MASTER: 'presence', REDIS_SENTINEL_PASSWORD: 'pw-sentinel', REDIS_PASSWORD: 'pw-data' }).redis;
    expect(r).toMatchObject({
      topology: 'sentinel', nodes: [{ host: 's1', port: 26380 }, { host: 's2', port: 26379 }], password: 'pw-data',
      sentinel: { masterName: 'presence', password: 'pw-sentinel' },
    });
    expect(describeRedis(r)).toBe('the Sentinel master "presence" (sentinels s1:26380,s2:26379)');
  });

  it.each([
    // Today's crash: a multi-host URL. The line names the setting to use, with the hosts, and never the password.
    [{ REDIS_URL: 'redis://:pw-multi-123@r1:7000,r2:7001' }, /^invalid setting REDIS_URL: names several hosts \(r1:7000,r2:7001\); a URL is one server\. For a Redis Cluster set REDIS_CLUSTER_NODES=r1:7000,r2:7001 instead; for Sentinel set REDIS_SENTINELS=/],
    [{ REDIS_URL: 'redis://r1,r2' }, /REDIS_CLUSTER_NODES=r1:6379,r2:6379 instead/],
    [{ REDIS_URL: 'redis://:pw-multi-123@r1:port' }, /^invalid setting REDIS_URL: is not a valid URL: expected redis\[s\]:\/\/\[\[user\]:password@\]host\[:port\]\[\/db\]; the value given is not shown$/],
    [{ REDIS_URL: 'redis://r1:6379/cache' }, /^invalid setting REDIS_URL: the database must be a number \(redis:\/\/host:6379\/0\); got "\/cache"$/],
    [{ REDIS_URL: 'redis://r1:6379', REDIS_CLUSTER_NODES: 'r1:7000' }, /^invalid setting REDIS_CLUSTER_NODES: cannot be combined with REDIS_URL \(one server\); set REDIS_CLUSTER_NODES or REDIS_URL, not both/],
    [{ REDIS_URL: 'redis://r1:6379', REDIS_SENTINELS: 's1', REDIS_SENTINEL_MASTER: 'm' }, /^invalid setting REDIS_SENTINELS: cannot be combined with REDIS_URL/],
    [{ REDIS_CLUSTER_NODES: 'r1:7000', REDIS_SENTINELS: 's1', REDIS_SENTINEL_MASTER: 'm' }, /^invalid setting REDIS_SENTINELS: cannot be combined with REDIS_CLUSTER_NODES/],
    [{ REDIS_SENTINELS: 's1:26379' }, /^invalid setting REDIS_SENTINEL_MASTER: required with REDIS_SENTINELS .*; it is not set$/],
    [{ REDIS_SENTINEL_MASTER: 'presence' }, /^invalid setting REDIS_SENTINEL_MASTER: applies to Sentinel only, and REDIS_SENTINELS is not set/],
    [{ REDIS_SENTINEL_PASSWORD: 'pw-orphan-1' }, /^invalid setting REDIS_SENTINEL_PASSWORD: applies to Sentinel only/],
    [{ REDIS_CLUSTER_NODES: 'redis://:pw-node-1@r1:7000' }, /^invalid setting REDIS_CLUSTER_NODES: must list host:port pairs, not URLs .*got "redis:\/\/\*\*\*@r1:7000"$/],
    [{ REDIS_CLUSTER_NODES: 'r1:99999' }, /^invalid setting REDIS_CLUSTER_NODES: "r1:99999" is not a host:port pair/],
    [{ REDIS_CLUSTER_NODES: 'r1:7000,r1:7000' }, /^invalid setting REDIS_CLUSTER_NODES: lists r1:7000 twice$/],
    [{ REDIS_CLUSTER_NODES: ' , ' }, /^invalid setting REDIS_CLUSTER_NODES: must list host:port pairs separated by commas/],
    [{ REDIS_SENTINELS: 's1', REDIS_SENTINEL_MASTER: 'has space' }, /^invalid setting REDIS_SENTINEL_MASTER: must be the master name/],
    [{ REDIS_URL: 'redis://:pw-url-1@r1:6379', REDIS_PASSWORD: 'pw-second-1' }, /^invalid setting REDIS_PASSWORD: is set and REDIS_URL holds a password too; keep one of them$/],
    [{ REDIS_URL: 'redis://u1:pw-url-1@r1:6379', REDIS_USERNAME: 'u2' }, /^invalid setting REDIS_USERNAME: is set and REDIS_URL names a user too/],
    [{ REDIS_URL: 'redis://r1:6379', REDIS_TLS: 'true' }, /^invalid setting REDIS_TLS: says TLS but REDIS_URL starts with redis:\/\/; for one server the URL decides \(rediss:\/\/ is TLS\)/],
    [{ REDIS_CLUSTER_NODES: 'r1:7000', REDIS_TLS: 'yes please' }, /^invalid setting REDIS_TLS: must be true or false; got "yes please"$/],
    [{ REDIS_CLUSTER_NODES: 'r1:7000', REDIS_TLS_CA_FILE: '/etc/ca.pem' }, /^invalid setting REDIS_TLS_CA_FILE: needs REDIS_TLS=true/],
    [{ REDIS_URL: 'redis://r1:6379', REDIS_TLS_CA_FILE: '/etc/ca.pem' }, /^invalid setting REDIS_TLS_CA_FILE: needs TLS: use rediss:\/\/ in REDIS_URL/],
    [{ REDIS_URL: 'rediss://r1:6379', REDIS_TLS_CA_FILE: '/nonexistent/ca.pem' }, /^invalid setting REDIS_TLS_CA_FILE: cannot read \/nonexistent\/ca\.pem \(ENOENT\)$/],
  ])('refuses contradicting or unusable settings with one line (%#)', (env, message) => {
    const line = refusal(env);
    expect(line).toMatch(message);
    for (const secret of ['pw-multi-123', 'pw-node-1', 'pw-url-1', 'pw-second-1', 'pw-orphan-1']) expect(line).not.toContain(secret);
  });

  it('reads REDIS_TLS_CA_FILE at load: a file without a certificate, or with a broken one, is refused in one line', () => {
    const empty = join(dir, 'empty.pem');
    writeFileSync(empty, 'not a certificate\n');
    expect(refusal({ REDIS_URL: 'rediss://r1:6379', REDIS_TLS_CA_FILE: empty })).toBe(`invalid setting REDIS_TLS_CA_FILE: ${empty} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
    const broken = join(dir, 'broken.pem');
    writeFileSync(broken, '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
    expect(refusal({ REDIS_CLUSTER_NODES: 'r1:7000', REDIS_TLS: 'true', REDIS_TLS_CA_FILE: broken })).toMatch(new RegExp(`^invalid setting REDIS_TLS_CA_FILE: certificate 1 of 1 in ${broken} is not valid: `));
    expect(refusal({ REDIS_URL: 'rediss://r1:6379', REDIS_TLS_CA_FILE: dir })).toMatch(/^invalid setting REDIS_TLS_CA_FILE: cannot read .* \(EISDIR\)$/);
  });

  it('passwords may be stored encrypted, are masked in logs and never shown by redactConfig', () => {
    const key = generateSecretsKey();
    const c = loadConfig({ ...base, SECRETS_KEY: key, REDIS_SENTINELS: 's1', REDIS_SENTINEL_MASTER: 'm', REDIS_PASSWORD: encryptSecret('pw-data-sealed', key), REDIS_SENTINEL_PASSWORD: encryptSecret('pw-sentinel-sealed', key) });
    expect(c.redis.password).toBe('pw-data-sealed');
    expect(c.redis.sentinel?.password).toBe('pw-sentinel-sealed');
    expect(secretValuesOf(c)).toEqual(expect.arrayContaining(['pw-data-sealed', 'pw-sentinel-sealed']));
    const shown = JSON.stringify(redactConfig(c));
    expect(shown).not.toMatch(/pw-data-sealed|pw-sentinel-sealed/);
    expect(refusal({ REDIS_CLUSTER_NODES: 'r1', REDIS_PASSWORD: encryptSecret('pw-x-123456', key) })).toMatch(/^invalid setting REDIS_PASSWORD: the value is encrypted \(enc:v1:\) but SECRETS_KEY is not set/);
  });

  it('lists its settings with the others', () => {
    expect(SETTING_NAMES).toEqual(expect.arrayContaining(['REDIS_URL', 'REDIS_CLUSTER_NODES', 'REDIS_SENTINELS', 'REDIS_SENTINEL_MASTER', 'REDIS_SENTINEL_USERNAME', 'REDIS_SENTINEL_PASSWORD', 'REDIS_USERNAME', 'REDIS_PASSWORD', 'REDIS_TLS', 'REDIS_TLS_CA_FILE']));
  });

  it(`${parseRedisAddresses.name} bounds the list`, () => {
    const many = Array.from({ length: 65 }, (_, i) => `r${i}:7000`).join(',');
    expect(() => parseRedisAddresses('REDIS_CLUSTER_NODES', many, 6379)).toThrow(/^invalid setting REDIS_CLUSTER_NODES: lists 65 addresses; at most 64/);
  });
});
