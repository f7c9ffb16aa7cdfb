import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { RedisAgentRecordStore, RedisAuditLog, RedisKeys } from '@presence-sync/redis';
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
}));

// The in-memory store the engine's fast tests use must behave the same.
agentRecordStoreContract(InMemoryAgentRecordStore.name, () => {
  const store = new InMemoryAgentRecordStore();
  return { store, push: async (inbox, change) => store.push(inbox, change), audit: async (agentId) => [...(store.audit.get(agentId) ?? [])] };
});
