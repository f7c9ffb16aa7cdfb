import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { acdStateKey, type AcdState } from '@presence-sync/domain';
import { RedisAgentStateStore, RedisKeys } from '@presence-sync/redis';

const lunch: AcdState = { state: 'Unavailable', code: 'Lunch' };
const available: AcdState = { state: 'Available' };

describe(RedisAgentStateStore.name, () => {
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  const prefix = `t${randomUUID().slice(0, 8)}`;
  const store = new RedisAgentStateStore(redis, new RedisKeys(prefix));
  const now = Date.now();
  const obs = (value: AcdState, at: number, eventId = randomUUID()) => ({ value, key: acdStateKey(value), at, eventId });

  afterAll(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });

  it('an echo processed again (job re-run) is still an echo, not a change to decide', async () => {
    await store.beginWrite('a1', 'acd', 'w1', 'Unavailable:Lunch', now + 60_000);
    const e = obs(lunch, now + 1);
    expect((await store.observe('a1', 'acd', e, now)).outcome).toBe('echo');
    expect(await store.observe('a1', 'acd', e, now)).toMatchObject({ outcome: 'echo', echoWriteId: 'w1' });
  });

  it('a later real change to a state we wrote earlier is not taken for an echo', async () => {
    await store.beginWrite('a2', 'acd', 'w1', 'Unavailable:Lunch', now + 60_000);
    expect((await store.observe('a2', 'acd', obs(lunch, now + 1), now)).outcome).toBe('echo');
    await store.beginWrite('a2', 'acd', 'w2', 'Available', now + 60_000);
    expect((await store.observe('a2', 'acd', obs(available, now + 2), now)).outcome).toBe('echo');
    // The agent goes to lunch by themselves: w1's marker is over.
    expect((await store.observe('a2', 'acd', obs(lunch, now + 3), now)).outcome).toBe('recorded');
  });

  it('a late echo of an older write does not replace the value a newer write set', async () => {
    await store.beginWrite('a5', 'acd', 'w1', 'Unavailable:Lunch', now + 60_000);
    await store.recordWritten('a5', 'acd', lunch, 'Unavailable:Lunch', 'w1');
    await store.beginWrite('a5', 'acd', 'w2', 'Available', now + 60_000);
    await store.recordWritten('a5', 'acd', available, 'Available', 'w2');
    // The contact center's webhook for w1 arrives only now.
    expect(await store.observe('a5', 'acd', obs(lunch, now + 1), now)).toMatchObject({ outcome: 'echo', echoWriteId: 'w1' });
    expect((await store.get('a5')).obs.acd?.key).toBe('Available');
    // w2's own echo still counts as one.
    expect((await store.observe('a5', 'acd', obs(available, now + 2), now)).outcome).toBe('echo');
  });

  it('the late echo of an earlier write leaves a later unanswered write in flight', async () => {
    await store.beginWrite('a6', 'acd', 'w1', 'Unavailable:Lunch', now + 60_000);
    await store.recordWritten('a6', 'acd', lunch, 'Unavailable:Lunch', 'w1');
    await store.beginWrite('a6', 'acd', 'w2', 'Available', now + 60_000); // its answer is lost for now
    expect((await store.observe('a6', 'acd', obs(lunch, now + 1), now)).outcome).toBe('echo');
    expect((await store.get('a6')).inFlight).toEqual({ acd: 'w2' });
    await store.recordWritten('a6', 'acd', available, 'Available', 'w2');
    expect((await store.get('a6')).obs.acd?.key).toBe('Available');
  });

  it('a write answer that arrives after a newer vendor report does not overwrite it', async () => {
    await store.beginWrite('a3', 'acd', 'w1', 'Unavailable:Lunch', now + 60_000);
    expect((await store.observe('a3', 'acd', obs(available, now + 5), now)).outcome).toBe('recorded');
    await store.recordWritten('a3', 'acd', lunch, 'Unavailable:Lunch', 'w1');
    expect((await store.get('a3')).obs.acd?.key).toBe('Available');
  });

  it('echoes lagging many writes behind (a burst) are all recognised, in write order, and never taken for changes', async () => {
    const cycle: AcdState[] = [lunch, { state: 'Unavailable', code: 'Break' }, available, { state: 'Unavailable', code: 'System' }];
    const writes = Array.from({ length: 40 }, (_, i) => ({ id: `w${i + 1}`, value: cycle[i % 4] }));
    // The worker writes 40 times before the contact center's first webhook is processed.
    for (const w of writes) {
      await store.beginWrite('a7', 'acd', w.id, acdStateKey(w.value), now + 60_000);
      await store.recordWritten('a7', 'acd', w.value, acdStateKey(w.value), w.id);
    }
    const last = writes[writes.length - 1];
    for (const [i, w] of writes.entries()) {
      const r = await store.observe('a7', 'acd', { ...obs(w.value, now + i + 1), seq: i + 1 }, now);
      expect({ i, outcome: r.outcome, echoOf: r.echoWriteId }).toEqual({ i, outcome: 'echo', echoOf: w.id });
      // The value stays the one the newest write set until that write's own echo.
      expect((await store.get('a7')).obs.acd?.key).toBe(acdStateKey(last.value));
    }
    // After the last echo, a real change to a state we wrote before is a change again.
    expect((await store.observe('a7', 'acd', { ...obs(lunch, now + 100), seq: 100 }, now)).outcome).toBe('recorded');
  });

  it('refuses a want decided from a change its side has since moved past (two workers on one agent)', async () => {
    const want = (sourceAt: number, sourceSide: 'salesforce' | 'reconcile', eventId: string) => ({
      value: lunch, key: 'Unavailable:Lunch', writeId: randomUUID(), sourceSide, sourceEventId: eventId, sourceAt,
      receivedAt: now, rule: 'r', row: 'subscriber[0]', reason: 'sync' as const,
    });
    // The newer Salesforce change is recorded before the older one's decision is stored.
    await store.observe('a8', 'salesforce', { value: 'Lunch', key: 'Lunch', at: now + 10, eventId: 'e1' }, now);
    await store.observe('a8', 'salesforce', { value: 'Available_Chat', key: 'Available_Chat', at: now + 20, eventId: 'e2' }, now);
    expect(await store.setWant('a8', 'acd', want(now + 10, 'salesforce', 'e1'))).toBeUndefined();
    expect((await store.get('a8')).want.acd).toBeUndefined();
    // The newest change's own decision, and drift repair (its source is a snapshot, not a side), are stored.
    expect(await store.setWant('a8', 'acd', want(now + 20, 'salesforce', 'e2'))).toMatchObject({ created: true });
    expect(await store.setWant('a8', 'acd', want(now + 30, 'reconcile', 'r1'))).toMatchObject({ created: true });
  });

  it('a write still in flight is reported, and its answer clears it', async () => {
    await store.beginWrite('a4', 'acd', 'w1', 'Unavailable:Lunch', now + 60_000);
    expect((await store.get('a4')).inFlight).toEqual({ acd: 'w1' });
    await store.recordWritten('a4', 'acd', lunch, 'Unavailable:Lunch', 'w1');
    const record = await store.get('a4');
    expect(record.inFlight).toEqual({});
    expect(record.obs.acd?.key).toBe('Unavailable:Lunch');
  });
});
