import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { RedisSettings } from '@presence-sync/config';
import { infoProblem, parseInfo, REDIS_CLUSTER_COMMANDS, REDIS_COMMANDS, REDIS_MIN_VERSION, REDIS_WORKERS_VIEW_COMMANDS, redisAclRules, SENTINEL_ACL_RULES, versionAtLeast } from './redis-requirements';

const ROOT = join(__dirname, '..', '..', '..');
const granted = new Set([...REDIS_COMMANDS, ...REDIS_CLUSTER_COMMANDS].map((c) => c.acl));

function filesUnder(dir: string, ext: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith(ext))
    .map((e) => join(e.parentPath, e.name));
}

/** The project's production sources (not the test kit, not specs). */
const projectSources = () => [
  ...readdirSync(join(ROOT, 'libs')).filter((lib) => lib !== 'testing').flatMap((lib) => filesUnder(join(ROOT, 'libs', lib, 'src'), '.ts')),
  ...filesUnder(join(ROOT, 'apps', 'presence-sync', 'src'), '.ts'),
].filter((f) => !f.endsWith('.spec.ts'));

describe('the Redis commands the daemon needs (REDIS_COMMANDS)', () => {
  it('holds every command a Lua script of the project calls', () => {
    const called = new Set<string>();
    for (const file of projectSources()) {
      for (const m of readFileSync(file, 'utf8').matchAll(/redis\.p?call\(\s*['"]([A-Za-z]+)['"]/g)) called.add(m[1].toLowerCase());
      // A command named by a variable cannot be checked here: none may be.
      expect([file, /redis\.p?call\(\s*[A-Za-z_]/.test(readFileSync(file, 'utf8'))]).toEqual([file, false]);
    }
    expect(called.size).toBeGreaterThan(5);
    expect([...called].filter((c) => !granted.has(c))).toEqual([]);
  });

  it('holds every command the ioredis clients of the project send (redis.<command>(…))', () => {
    const notCommands = new Set(['on', 'once', 'off', 'connect', 'disconnect', 'quit', 'duplicate', 'pipeline', 'call', 'nodes', 'status']);
    const sent = new Set<string>();
    for (const file of projectSources()) {
      for (const m of readFileSync(file, 'utf8').matchAll(/\bredis\.([a-z]+)\(/g)) if (!notCommands.has(m[1])) sent.add(m[1]);
    }
    expect(sent.size).toBeGreaterThan(5);
    expect([...sent].filter((c) => !granted.has(c))).toEqual([]);
  });

  it("holds every command BullMQ's Lua scripts call (its relay scripts aside: the daemon uses no relay)", () => {
    const commands = join(dirname(require.resolve('bullmq')), 'commands');
    const scripts = filesUnder(commands, '.lua').filter((f) => !/\/relay[A-Z]/.test(f));
    expect(scripts.length).toBeGreaterThan(40);
    const called = new Set<string>();
    const dynamic: string[] = [];
    for (const file of scripts) {
      const lua = readFileSync(file, 'utf8');
      for (const m of lua.matchAll(/rcall\(\s*["']([A-Za-z]+)["']/g)) called.add(m[1].toLowerCase());
      for (const m of lua.matchAll(/rcall\(\s*([A-Za-z_]+)\s*,/g)) dynamic.push(m[1]);
    }
    // The three calls with a command in a variable, and what the variable holds (read from the scripts).
    expect([...new Set(dynamic)].sort()).toEqual(['command', 'countCommand', 'pushCmd']);
    for (const c of ['sscan', 'hscan', 'scard', 'hlen', 'lpush', 'rpush']) called.add(c);
    expect([...called].filter((c) => !granted.has(c))).toEqual([]);
  });

  it('the rule line grants the prefix only, no channels, and nothing but the list', () => {
    const rules = redisAclRules('ps', 'single');
    expect(rules).toMatch(/^resetkeys ~ps:\* resetchannels -@all \+ping \+select \+client\|setname \+info \+eval /);
    expect(rules).not.toContain('client|list');
    expect(rules).not.toContain('cluster|');
    expect(redisAclRules('ps', 'sentinel')).toBe(rules);
    expect(redisAclRules('ps', 'cluster')).toBe(`${rules} +cluster|slots +cluster|info +asking`);
    expect(rules.split(' ').filter((r) => r.startsWith('+'))).toHaveLength(REDIS_COMMANDS.length);
  });

  it('docs/operations.md shows the rule lines the code checks', () => {
    const doc = readFileSync(join(ROOT, 'docs', 'operations.md'), 'utf8');
    expect(doc).toContain(`ACL SETUSER presence-sync on >PASSWORD ${redisAclRules('ps', 'single')}\n`);
    expect(doc).toContain(`+${REDIS_CLUSTER_COMMANDS.map((c) => c.acl).join(' +')}`);
    expect(doc).toContain(`+${REDIS_WORKERS_VIEW_COMMANDS.join(' +')}`);
    expect(doc.replace(/\s+/g, ' ')).toContain(SENTINEL_ACL_RULES);
    expect(doc).toContain(REDIS_MIN_VERSION);
  });
});

describe(infoProblem.name, () => {
  const single: RedisSettings = { url: 'redis://:pw@10.0.0.7:6379', prefix: 'ps', topology: 'single', nodes: [] };
  const cluster: RedisSettings = { url: 'redis-cluster://10.0.0.7:6379', prefix: 'ps', topology: 'cluster', nodes: [{ host: '10.0.0.7', port: 6379 }] };
  const info = (fields: Record<string, string>) => parseInfo(`# Server\r\n${Object.entries({ redis_version: '7.2.4', redis_mode: 'standalone', role: 'master', maxmemory_policy: 'noeviction', cluster_enabled: '0', ...fields }).map(([k, v]) => `${k}:${v}`).join('\r\n')}\r\n`);

  it.each([
    [single, {}, undefined],
    [single, { redis_version: '6.2.0' }, undefined],
    [single, { redis_version: '6.0.16' }, /^here runs Redis 6\.0\.16; presence-sync needs 6\.2\.0 or later/],
    [single, { maxmemory_policy: 'allkeys-lru' }, /^here has maxmemory-policy allkeys-lru; presence-sync needs noeviction \(an evicting Redis silently deletes/],
    [single, { maxmemory_policy: 'volatile-lru' }, /maxmemory-policy volatile-lru/],
    [single, { cluster_enabled: '1' }, /^here is a Redis Cluster node: .*MOVED.*; set REDIS_CLUSTER_NODES=10\.0\.0\.7:6379 \(any node finds the rest\) and unset REDIS_URL$/],
    [cluster, { cluster_enabled: '1' }, undefined],
    [single, { redis_mode: 'sentinel' }, /^here is a Sentinel, not a Redis server: set REDIS_SENTINELS/],
    [single, { role: 'slave' }, /^here is a read-only replica; point REDIS_URL at the primary/],
    [single, { valkey_version: '8.0.1', redis_version: '7.2.4' }, undefined],
  ])('%#', (settings, fields, expected) => {
    const problem = infoProblem(info(fields), settings, 'here');
    if (expected === undefined) expect(problem).toBeUndefined();
    else {
      expect(problem).toMatch(expected);
      expect(problem).not.toContain('pw');
    }
  });

  it(`${versionAtLeast.name} compares numerically`, () => {
    expect(versionAtLeast('10.0.0', '6.2.0')).toBe(true);
    expect(versionAtLeast('6.2', '6.2.0')).toBe(true);
    expect(versionAtLeast('6.1.99', '6.2.0')).toBe(false);
  });
});
