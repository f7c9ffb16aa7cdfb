import type { CheckpointStore, InboundChange, InboundSink, IntakeResult } from '@presence-sync/domain';
import type { CxoneAgentStateRecord } from './cxone-agent-state.mapping';
import { CxoneStatePoller, DEFAULT_CHECKPOINT_KEY, type CxoneStatePage } from './cxone-state.poller';

class Store implements CheckpointStore {
  readonly values = new Map<string, string>();
  async get(key: string) {
    return this.values.get(key);
  }
  async set(key: string, value: string) {
    this.values.set(key, value);
  }
}

/** A sink whose `accept` resolves only when the test says so. */
class GatedSink implements InboundSink {
  readonly batches: InboundChange[][] = [];
  private gates: Array<{ resolve: (r: IntakeResult) => void; reject: (e: Error) => void }> = [];
  gated = false;
  accept(changes: InboundChange[]): Promise<IntakeResult> {
    this.batches.push(changes);
    if (!this.gated) return Promise.resolve({ accepted: changes.length, duplicates: 0 });
    return new Promise((resolve, reject) => this.gates.push({ resolve, reject }));
  }
  async waitForBatch(n: number): Promise<void> {
    while (this.batches.length < n) await new Promise((r) => setImmediate(r));
  }
  open(): void {
    for (const g of this.gates.splice(0)) g.resolve({ accepted: 1, duplicates: 0 });
  }
  fail(): void {
    for (const g of this.gates.splice(0)) g.reject(new Error('redis down'));
  }
  async recover(): Promise<number> {
    return 0;
  }
}

const record = (agentId: number, name: string, startDate: string): CxoneAgentStateRecord => ({ agentId, agentStateName: name, startDate });
const watermarkOf = (store: Store) => (JSON.parse(store.values.get(DEFAULT_CHECKPOINT_KEY) ?? '{}') as { updatedSince?: string }).updatedSince;

describe(CxoneStatePoller.name, () => {
  let now = 1_800_000_000_000;
  const clock = () => now;
  let reads: Array<string | undefined>;
  let answers: CxoneStatePage[];
  const reader = async (since: string | undefined): Promise<CxoneStatePage> => {
    reads.push(since);
    const next = answers.shift();
    if (!next) return { kind: 'not-modified' };
    return next;
  };
  let poller: CxoneStatePoller | undefined;
  const make = (store: Store, extra: Partial<ConstructorParameters<typeof CxoneStatePoller>[2]> = {}) => {
    poller = new CxoneStatePoller(reader, store, { intervalMs: 5, resumeMaxAgeMs: 60_000, now: clock, ...extra });
    return poller;
  };

  beforeEach(() => {
    reads = [];
    answers = [];
  });
  afterEach(async () => {
    await poller?.stop();
  });

  it('without a watermark reads everyone, reports a gap after that read, and stores lastPollTime', async () => {
    const store = new Store();
    const gaps: string[] = [];
    const sink = new GatedSink();
    answers.push({ kind: 'changes', records: [record(2, 'Available', '2026-01-01T10:00:01Z'), record(1, 'LoggedOut', '2026-01-01T10:00:00Z')], lastPollTime: '2026-01-01T10:00:05.000Z' });
    await make(store).start(sink, (r) => gaps.push(r));
    expect(reads[0]).toBeUndefined();
    expect(gaps).toHaveLength(1);
    expect(sink.batches[0].map((c) => (c.side === 'acd' ? c.agentId : c.userId))).toEqual(['1', '2']);
    expect(watermarkOf(store)).toBe('2026-01-01T10:00:05.000Z');
    await poller?.afterNextPoll(true);
    expect(reads[1]).toBe('2026-01-01T10:00:05.000Z');
  });

  it('stores the watermark only after the sink accepted, and keeps the old one when it refused', async () => {
    const store = new Store();
    store.values.set(DEFAULT_CHECKPOINT_KEY, JSON.stringify({ updatedSince: 'W0', savedAt: now }));
    const sink = new GatedSink();
    await make(store).start(sink); // 304
    sink.gated = true;
    answers.push({ kind: 'changes', records: [record(1, 'Available', '2026-01-01T10:00:00Z')], lastPollTime: 'W1' });
    const polled = poller?.afterNextPoll(true);
    await sink.waitForBatch(1);
    expect(watermarkOf(store)).toBe('W0');
    sink.fail();
    await polled;
    expect(watermarkOf(store)).toBe('W0');
    answers.push({ kind: 'changes', records: [record(1, 'Available', '2026-01-01T10:00:00Z')], lastPollTime: 'W2' });
    const again = poller?.afterNextPoll(true);
    await sink.waitForBatch(2);
    expect(reads.at(-1)).toBe('W0');
    expect(watermarkOf(store)).toBe('W0');
    sink.open();
    await again;
    expect(watermarkOf(store)).toBe('W2');
    // The same state read twice carries the same event id: intake drops the second.
    expect(sink.batches[0][0].eventId).toBe(sink.batches[1][0].eventId);
  });

  it('resumes from a fresh watermark without a gap, and treats an old one as missing', async () => {
    const fresh = new Store();
    fresh.values.set(DEFAULT_CHECKPOINT_KEY, JSON.stringify({ updatedSince: 'W0', savedAt: now - 1000 }));
    const gaps: string[] = [];
    await make(fresh).start(new GatedSink(), (r) => gaps.push(r));
    expect(reads).toEqual(['W0']);
    expect(gaps).toEqual([]);
    await poller?.stop();

    const old = new Store();
    old.values.set(DEFAULT_CHECKPOINT_KEY, JSON.stringify({ updatedSince: 'W0', savedAt: now - 120_000 }));
    reads = [];
    answers.push({ kind: 'changes', records: [], lastPollTime: 'W9' });
    await make(old).start(new GatedSink(), (r) => gaps.push(r));
    expect(reads).toEqual([undefined]);
    expect(gaps).toHaveLength(1);
    expect(gaps[0]).toMatch(/old/);
  });

  it('keeps the watermark on 304 and on failures, and reads everyone after failing longer than resumeMaxAgeMs', async () => {
    const store = new Store();
    store.values.set(DEFAULT_CHECKPOINT_KEY, JSON.stringify({ updatedSince: 'W0', savedAt: now }));
    const gaps: string[] = [];
    let failing = false;
    poller = new CxoneStatePoller(async (since) => {
      reads.push(since);
      if (failing) throw new Error('HTTP 503');
      return answers.shift() ?? { kind: 'not-modified' };
    }, store, { intervalMs: 5, maxBackoffMs: 5, resumeMaxAgeMs: 60_000, now: clock });
    await poller.start(new GatedSink(), (r) => gaps.push(r));
    await poller.afterNextPoll(true);
    expect(reads).toEqual(['W0', 'W0']);
    failing = true;
    await poller.afterNextPoll(true);
    now += 61_000;
    await poller.afterNextPoll(true);
    failing = false;
    answers.push({ kind: 'changes', records: [], lastPollTime: 'W5' });
    await poller.afterNextPoll(true);
    expect(reads.at(-1)).toBeUndefined();
    expect(gaps).toHaveLength(1);
    expect(watermarkOf(store)).toBe('W5');
  });

  it('throws a fatal first failure from start, and can start again after stop', async () => {
    const store = new Store();
    const fatal = new CxoneStatePoller(async () => {
      throw new Error('unauthorized');
    }, store, { intervalMs: 5, resumeMaxAgeMs: 60_000, isFatal: () => true });
    await expect(fatal.start(new GatedSink())).rejects.toThrow('unauthorized');
    expect(fatal.isRunning).toBe(false);

    answers.push({ kind: 'changes', records: [], lastPollTime: 'W1' });
    const p = make(store);
    await p.start(new GatedSink());
    await p.stop();
    await p.stop();
    reads = [];
    await p.start(new GatedSink());
    expect(reads).toEqual(['W1']);
  });
});
