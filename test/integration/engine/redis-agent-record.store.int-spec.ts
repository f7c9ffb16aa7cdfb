import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { emptyAgentRecord, type SyncTrigger } from '@presence-sync/domain';
import { RedisAgentRecordStore, RedisAuditLog, RedisKeys } from '@presence-sync/redis';
import { SilentAuditFeed, TransitionRunner } from '@presence-sync/sync';
import { InMemoryAgentRecordStore } from '@presence-sync/testing';
import { agentRecordStoreContract } from '../../support/agent-record-store.contract';
import { dropPrefix } from '../../support/daemon-harness';

const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const keys = new RedisKeys(`t${randomUUID().slice(0, 8)}`);

afterAll(async () => {
  await dropPrefix(redis, keys.prefix);
  redis.disconnect();
});

agentRecordStoreContract(RedisAgentRecordStore.name, () => ({
  store: new RedisAgentRecordStore(redis, keys, 100),
  push: async (inbox, change) => { await redis.rpush(keys.inbox(inbox), JSON.stringify(change)); },
  audit: (agentId) => new RedisAuditLog(redis, keys, 100).list(agentId),
  dueAt: async (agentId, member) => {
    const at = await redis.zscore(keys.due(keys.partitionOfAgent(agentId)), member);
    return at === null ? undefined : Number(at);
  },
}));

// The in-memory store the engine's fast tests use must behave the same.
agentRecordStoreContract(InMemoryAgentRecordStore.name, () => {
  const store = new InMemoryAgentRecordStore();
  return { store, push: async (inbox, change) => store.push(inbox, change), audit: async (agentId) => [...(store.audit.get(agentId) ?? [])], dueAt: async (_agentId, member) => store.due.get(member) };
});

describe('RedisAgentRecordStore with its record cache', () => {
  const agent = () => `cache-${randomUUID().slice(0, 8)}`;
  const noTrigger = { runsHere: () => false, committed: () => undefined, trigger: async () => undefined };

  it('answers the record it stored last from its cache, and reads the stored one when asked for it fresh', async () => {
    const store = new RedisAgentRecordStore(redis, keys, 100, 10);
    const id = agent();
    expect(await store.commit(id, 0, { ...emptyAgentRecord(), ver: 7 })).toBe('ok');
    const cached = await store.load(id);
    expect({ rev: cached.rev, ver: cached.ver, fromCache: store.fromCache(cached) }).toEqual({ rev: 1, ver: 7, fromCache: true });
    const fresh = await store.load(id, true);
    expect({ rev: fresh.rev, ver: fresh.ver, fromCache: store.fromCache(fresh) }).toEqual({ rev: 1, ver: 7, fromCache: false });
  });

  it('a record another replica changed: the transition is computed again on the stored one, and a no-op is not taken from the cache', async () => {
    const mine = new RedisAgentRecordStore(redis, keys, 100, 10);
    const theirs = new RedisAgentRecordStore(redis, keys, 100, 0);
    const id = agent();
    expect(await mine.commit(id, 0, { ...emptyAgentRecord(), ver: 1 })).toBe('ok');
    expect(await theirs.commit(id, 1, { ...emptyAgentRecord(), ver: 2 })).toBe('ok');
    const runner = new TransitionRunner(mine, noTrigger as unknown as SyncTrigger, new SilentAuditFeed());
    // "Nothing to do while ver < 2": on the cached record (ver 1) that would be a no-op; the stored one says otherwise.
    const seen: number[] = [];
    const result = await runner.run(id, (record) => {
      seen.push(record.ver);
      return record.ver >= 2 ? { verdict: 'bumped', record: { ...record, ver: record.ver + 1 }, audit: [], effects: [] } : { verdict: 'nothing', record, audit: [], effects: [] };
    });
    expect({ result, seen }).toEqual({ result: { kind: 'stored', verdict: 'bumped', more: false }, seen: [1, 2] });
    expect(await theirs.load(id)).toMatchObject({ rev: 3, ver: 3 });
  });

  it('keeps at most its size, the most recently stored', async () => {
    const store = new RedisAgentRecordStore(redis, keys, 100, 2);
    const ids = [agent(), agent(), agent()];
    for (const id of ids) expect(await store.commit(id, 0, emptyAgentRecord())).toBe('ok');
    const fromCache = await Promise.all(ids.map(async (id) => store.fromCache(await store.load(id))));
    expect(fromCache).toEqual([false, true, true]);
  });
});
