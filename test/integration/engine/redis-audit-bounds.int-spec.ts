import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { emptyAgentRecord, type AuditRecord } from '@presence-sync/domain';
import { RedisAgentRecordStore, RedisAuditLog, RedisKeys, redisOptionsFromUrl } from '@presence-sync/redis';

/** Issue 13.6: the audit trail is bounded by bytes as well as by count, in Redis itself. */
describe('audit trail bounds (real Redis)', () => {
  let redis: Redis;
  let keys: RedisKeys;
  beforeEach(() => {
    redis = new Redis(redisOptionsFromUrl(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'));
    keys = new RedisKeys(`ab${randomUUID().slice(0, 8)}`, 4);
  });
  afterEach(() => redis.disconnect());

  const record = (agentId: string, i: number, detailBytes = 200): AuditRecord => ({
    agentId, at: 1_700_000_000_000 + i, direction: 'acd->salesforce', outcome: 'applied', wanted: `s${i}`, detail: 'x'.repeat(detailBytes),
  } as unknown as AuditRecord);
  const listBytes = async (agentId: string) => (await redis.lrange(keys.audit(agentId), 0, -1)).reduce((n, r) => n + Buffer.byteLength(r), 0);

  it('keeps the newest records within the byte bound, oldest dropped first', async () => {
    const log = new RedisAuditLog(redis, keys, { maxRecords: 200, maxBytes: 4096 });
    for (let i = 0; i < 100; i++) await log.append(record('a-1', i));
    const kept = await log.list('a-1');
    expect(await listBytes('a-1')).toBeLessThanOrEqual(4096);
    expect(kept.length).toBeGreaterThan(5);
    expect(kept[0].wanted).toBe('s99');
    expect(kept.map((r) => r.wanted)).toEqual(Array.from({ length: kept.length }, (_, k) => `s${99 - k}`));
    // The count and bytes the script keeps beside the record match the list.
    const [n, bytes] = await redis.hmget(keys.agent('a-1'), 'an', 'ab');
    expect(Number(n)).toBe(kept.length);
    expect(Number(bytes)).toBe(await listBytes('a-1'));
  });

  it('bounds by count when the bytes allow more, and by count alone with a byte bound of 0', async () => {
    const counted = new RedisAuditLog(redis, keys, { maxRecords: 10, maxBytes: 1_000_000 });
    for (let i = 0; i < 30; i++) await counted.append(record('a-2', i));
    expect((await counted.list('a-2')).map((r) => r.wanted)).toEqual(Array.from({ length: 10 }, (_, k) => `s${29 - k}`));
    const countOnly = new RedisAuditLog(redis, keys, 7);
    for (let i = 0; i < 20; i++) await countOnly.append(record('a-3', i, 5000));
    expect(await redis.llen(keys.audit('a-3'))).toBe(7);
  });

  it('always keeps the newest record, even one larger than the bound', async () => {
    const log = new RedisAuditLog(redis, keys, { maxRecords: 50, maxBytes: 1024 });
    await log.append(record('a-4', 1));
    await log.append(record('a-4', 2, 3000));
    expect((await log.list('a-4')).map((r) => r.wanted)).toEqual(['s2']);
  });

  it('the engine\'s transition script applies the same bounds as it stores the record', async () => {
    const store = new RedisAgentRecordStore(redis, keys, { maxRecords: 200, maxBytes: 2048 });
    let rev = 0;
    for (let i = 0; i < 40; i++) {
      const next = { ...emptyAgentRecord(), rev };
      expect(await store.commit('a-5', rev, next, { audit: [record('a-5', i), record('a-5', 1000 + i)] })).toBe('ok');
      rev++;
    }
    expect(await listBytes('a-5')).toBeLessThanOrEqual(2048);
    const kept = await new RedisAuditLog(redis, keys, 200).list('a-5');
    expect(kept[0].wanted).toBe('s1039');
    expect(kept[1].wanted).toBe('s39');
    expect((await store.load('a-5')).rev).toBe(40);
  });
});
