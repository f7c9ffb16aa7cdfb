import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { SystemClock, type InboundChange, type SyncTrigger } from '@presence-sync/domain';
import { agentInbox, InboxAppends, RedisAgentRecordStore, RedisInboundSink, RedisKeys } from '@presence-sync/redis';
import { AgentDirectory, IngestChange, SilentAuditFeed, TransitionRunner, type EngineSettings } from '@presence-sync/sync';
import { dropPrefix } from '../../support/daemon-harness';

/*
 * The record store answers an inbox's head from what intake in this process queued (InboxAppends), without reading
 * it. A guess is checked by the pop that applies it, so changes another replica queued are never skipped or
 * reordered, and the pop says whether anything is queued behind.
 */
const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const keys = new RedisKeys(`t${randomUUID().slice(0, 8)}`);
const inboxOf = (c: InboundChange) => agentInbox(c.side === 'acd' ? c.agentId : c.userId);

afterAll(async () => {
  await dropPrefix(redis, keys.prefix);
  redis.disconnect();
});

let agentSeq = 0;
function setup() {
  const agentId = `a-${++agentSeq}-${randomUUID().slice(0, 6)}`;
  const appends = new InboxAppends();
  const here = new RedisInboundSink(redis, keys, 3600, inboxOf, appends);
  // Another replica's intake: the same Redis, its own process memory.
  const there = new RedisInboundSink(redis, keys, 3600, inboxOf);
  const store = new RedisAgentRecordStore(redis, keys, 100, 10, appends);
  const reads = jest.spyOn(redis, 'lrange');
  reads.mockClear();
  let t = 1_000;
  const change = (code: string): InboundChange => {
    t += 1000;
    return { side: 'acd', eventId: randomUUID(), agentId, occurredAt: t, receivedAt: t, state: { state: 'Unavailable', code } };
  };
  const directory = new AgentDirectory({ agents: [{ agentId, email: `${agentId}@example.com` }], teams: [], users: [] });
  const noTrigger = { runsHere: () => false, committed: () => undefined, trigger: async () => undefined } as unknown as SyncTrigger;
  const ingest = new IngestChange(
    store, new TransitionRunner(store, noTrigger, new SilentAuditFeed()), { current: () => undefined }, { current: () => directory },
    { echoWindowMs: 30_000, deferredWindowMs: 60_000, burstWindowMs: 0, syncAttempts: 3, confirmTimeoutMs: 5000, confirmAttempts: 3, commandTtlMs: 30_000, consoleRecheckMs: 60_000 } as EngineSettings,
    new SystemClock(),
  );
  const observed = async () => (await store.load(agentId, true)).acd.obs?.value;
  return { agentId, inbox: agentInbox(agentId), appends, here, there, store, reads, change, ingest, observed };
}

describe('an inbox applied from what this process queued', () => {
  afterEach(() => jest.restoreAllMocks());

  it('is applied without reading the inbox when this process queued all of it', async () => {
    const s = setup();
    await s.here.accept([s.change('Lunch'), s.change('Break')]);
    const result = await s.ingest.drain(s.inbox);
    expect(result.outcomes).toHaveLength(2);
    expect(s.reads).not.toHaveBeenCalled();
    expect(await s.observed()).toEqual({ state: 'Unavailable', code: 'Break' });
    expect(await redis.llen(keys.inbox(s.inbox))).toBe(0);
    expect(s.appends.size).toBe(0);
  });

  it.each([
    ['queued first is applied first: the guess is refused and the inbox read', 'there', 'here', true],
    ['queued behind ours is not left behind: the pop says more is queued', 'here', 'there', false],
  ] as const)('a change another replica %s', async (_name, first, second, read) => {
    const s = setup();
    await s[first].accept([s.change('Lunch')]);
    await s[second].accept([s.change('Break')]);
    const result = await s.ingest.drain(s.inbox);
    expect(result.outcomes).toHaveLength(2);
    if (read) expect(s.reads).toHaveBeenCalled();
    // In queue order: Break, queued last, is what the agent shows.
    expect(await s.observed()).toEqual({ state: 'Unavailable', code: 'Break' });
    expect(await redis.llen(keys.inbox(s.inbox))).toBe(0);
  });

  it('a guess of entries already applied (their reply came in after the inbox was read) is forgotten by the pop', async () => {
    const s = setup();
    const late = s.change('Lunch');
    await s.there.accept([late]);
    const [entry] = await s.store.peek(s.inbox, 10);
    // Intake's reply was handled only now: the guess names an entry the owner already holds.
    await s.appends.sending(s.inbox, entry, Promise.resolve(1));
    await s.ingest.drain(s.inbox);
    expect(s.appends.size).toBe(0);
    expect(await s.observed()).toEqual({ state: 'Unavailable', code: 'Lunch' });
  });

  it('keeps at most its bounds of inboxes and entries', async () => {
    const { INBOX_APPENDS_MAX_ENTRIES, INBOX_APPENDS_MAX_INBOXES } = await import('@presence-sync/redis');
    const appends = new InboxAppends();
    const appended = (inbox: string, raw: string) => appends.sending(inbox, { raw, change: {} as InboundChange }, Promise.resolve(1));
    for (let i = 0; i <= INBOX_APPENDS_MAX_INBOXES; i++) await appended(agentInbox(`b-${i}`), `r${i}`);
    expect(appends.size).toBe(INBOX_APPENDS_MAX_INBOXES);
    expect(appends.take(agentInbox('b-0'), 10)).toBeUndefined();
    for (let i = 0; i < 2 * INBOX_APPENDS_MAX_ENTRIES; i++) await appended(agentInbox('c'), `c${i}`);
    expect(appends.take(agentInbox('c'), 1000)).toHaveLength(INBOX_APPENDS_MAX_ENTRIES);
    // A Salesforce user's inbox is forwarded, never applied: nothing is kept for it.
    await appended('user/005x', 'u');
    expect(appends.take('user/005x', 10)).toBeUndefined();
  });
});
