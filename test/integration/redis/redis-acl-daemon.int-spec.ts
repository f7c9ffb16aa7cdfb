import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { redisAclRules } from '@presence-sync/redis';
import { startRedisServer, type RedisServerHandle } from '@presence-sync/testing';
import { DaemonHarness, waitFor } from '../../support/daemon-harness';

/*
 * Issue 13, point 1: the ACL rules in docs/operations.md are enough. The real daemon runs as a Redis user granted
 * exactly `redisAclRules` plus the dashboard workers view's +client|list, syncs both ways, serves the dashboard,
 * and Redis's ACL log shows nothing it refused.
 */

const ADMIN = { ADMIN_DASHBOARD: 'on', ADMIN_USER: 'ops', ADMIN_PASSWORD: 'correct-horse-battery' };
const basic = `Basic ${Buffer.from(`${ADMIN.ADMIN_USER}:${ADMIN.ADMIN_PASSWORD}`).toString('base64')}`;

describe('the daemon as a Redis user granted exactly the documented ACL rules', () => {
  let server: RedisServerHandle;
  let admin: Redis;
  let h: DaemonHarness;
  const prefix = `acl${randomUUID().slice(0, 6)}`;

  beforeAll(async () => {
    server = await startRedisServer();
    admin = new Redis(server.url);
    await admin.call('ACL', 'SETUSER', 'presence-sync', 'on', '>acl-user-pw-77', ...`${redisAclRules(prefix, 'single')} +client|list`.split(' '));
    await admin.call('ACL', 'LOG', 'RESET');
    h = await DaemonHarness.start({ env: { REDIS_URL: `redis://presence-sync:acl-user-pw-77@127.0.0.1:${server.port}`, REDIS_PREFIX: prefix, ...ADMIN } });
  }, 60_000);

  afterAll(async () => {
    // Not h.stop(): its clean-up lists keys with KEYS, which this user may not send (the server is thrown away).
    await h?.app.close();
    await h?.cc.stop();
    h?.redis.disconnect();
    admin?.disconnect();
    await server?.stop();
  });

  it('syncs both ways, serves the dashboard, and Redis refused it nothing', async () => {
    const user = h.userOf('a-1001');
    h.cc.agentSetState('a-1001', { state: 'Unavailable', code: 'Lunch' });
    await waitFor(() => h.sf.statusOf(user) === 'Lunch', 'Salesforce shows Lunch', 15_000);
    await waitFor(() => h.hasAudit('a-1001', 'confirmed'), 'the write is confirmed', 15_000);
    h.sf.agentSetStatus(h.userOf('a-1009'), 'Break');
    await waitFor(() => h.acdState('a-1009')?.code === 'Break', 'the ACD shows Unavailable:Break', 15_000);
    await waitFor(() => h.idle(), 'queues drained', 15_000);

    for (const path of ['/admin/queues/api/queues']) {
      const r = await fetch(`${h.url}${path}`, { headers: { authorization: basic } });
      expect([path, r.status]).toEqual([path, 200]);
    }
    const refused = (await admin.call('ACL', 'LOG')) as unknown[][];
    expect(refused.map((entry) => {
      const f = new Map<string, unknown>();
      for (let i = 0; i + 1 < entry.length; i += 2) f.set(String(entry[i]), entry[i + 1]);
      return `${String(f.get('reason'))} ${String(f.get('object'))} by ${String(f.get('username'))}`;
    })).toEqual([]);
  }, 60_000);
});
