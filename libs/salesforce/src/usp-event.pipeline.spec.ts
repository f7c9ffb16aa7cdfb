import { CheckpointStore, InboundSink, type InboundChange, type IntakeResult } from '@presence-sync/domain';
import { indexOpenWork, WorkloadUnavailableError, type AgentWorkRecord, type OpenWorkIndex } from './agent-work.reader';
import { UspEventPipeline, type StatusNames, type UspPipelineOptions, type WorkloadSource } from './usp-event.pipeline';
import type { UspStreamMessage } from './usp-lifecycle.translator';

const KEY = 'salesforce:replay:/topic/PresenceSyncUSP';
const A = '005000000000001AAA';
const B = '005000000000002AAA';
const C = '005000000000003AAA';
const CHAT = '0N5000000000001AAA';
const LUNCH = '0N5000000000005AAA';

class Sink extends InboundSink {
  readonly got: InboundChange[] = [];
  /** Sizes of the accepted calls. */
  readonly calls: number[] = [];
  failures = 0;
  gate?: Promise<void>;
  async accept(changes: InboundChange[]): Promise<IntakeResult> {
    if (this.gate) await this.gate;
    if (this.failures > 0) {
      this.failures -= 1;
      throw new Error('redis down');
    }
    this.got.push(...changes);
    this.calls.push(changes.length);
    return { accepted: changes.length, duplicates: 0 };
  }
  statuses(): string[] {
    return this.got.map((c) => (c.side === 'salesforce' ? `${c.userId.slice(-4, -3)}:${c.status}` : '?'));
  }
}

class Checkpoints extends CheckpointStore {
  value?: string;
  writes: string[] = [];
  async get(): Promise<string | undefined> {
    return this.value;
  }
  async set(_key: string, value: string): Promise<void> {
    this.value = value;
    this.writes.push(value);
  }
}

class Names implements StatusNames {
  known: Record<string, string> = { [CHAT]: 'Available_Chat', [LUNCH]: 'Lunch' };
  lookups = 0;
  cachedNameOf(id: string): string | undefined {
    return this.known[id];
  }
  async nameOf(id: string): Promise<string | undefined> {
    this.lookups += 1;
    return this.known[id];
  }
}

const created = (replayId: number, user: string, row: string, statusId = CHAT): UspStreamMessage => ({
  event: { type: 'created', replayId, createdDate: '2026-03-02T10:00:00.000Z' },
  sobject: { Id: row, UserId: user, ServicePresenceStatusId: statusId, IsCurrentState: true, StatusStartDate: '2026-03-02T10:00:00.000Z' },
});
const closed = (replayId: number, user: string, row: string): UspStreamMessage => ({
  event: { type: 'updated', replayId, createdDate: '2026-03-02T10:00:01.000Z' },
  sobject: { Id: row, UserId: user, ServicePresenceStatusId: CHAT, IsCurrentState: false, StatusEndDate: '2026-03-02T10:00:01.000Z' },
});

/** A capacity-only update of the current row (the PushTopic names the capacity fields). */
const loadChanged = (replayId: number, user: string, row: string, statusId = CHAT): UspStreamMessage => ({
  event: { type: 'updated', replayId, createdDate: '2026-03-02T10:00:02.000Z' },
  sobject: { Id: row, UserId: user, ServicePresenceStatusId: statusId, IsCurrentState: true, ConfiguredCapacity: 3, AverageCapacity: 1, AtCapacityDuration: 0, IdleDuration: 4 },
});

/** Open work as a fake org holds it; records the user lists asked for, and can fail. */
class Work implements WorkloadSource {
  records: AgentWorkRecord[] = [];
  readonly asked: string[][] = [];
  failure?: Error;
  async openWork(userIds: readonly string[]): Promise<OpenWorkIndex> {
    this.asked.push([...userIds]);
    if (this.failure) throw this.failure;
    return indexOpenWork(this.records.filter((r) => userIds.includes(r.UserId)));
  }
}

function setup(holdMs = 2000, startFrom?: number, extra: Partial<UspPipelineOptions> = {}) {
  const sink = new Sink();
  const checkpoints = new Checkpoints();
  const names = new Names();
  const pipeline = new UspEventPipeline(sink, checkpoints, names, { checkpointKey: KEY, offlineHoldMs: holdMs, startFrom, retryMinMs: 100, retryMaxMs: 400, ...extra });
  return { sink, checkpoints, names, pipeline };
}

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

describe(UspEventPipeline.name, () => {
  it('hands changes on in order and stores the replay id only after accept resolved', async () => {
    const { sink, checkpoints, pipeline } = setup();
    let open!: () => void;
    sink.gate = new Promise<void>((r) => {
      open = r;
    });
    pipeline.push(created(3, A, '0Bz1'));
    pipeline.push(created(5, B, '0Bz2', LUNCH));
    await jest.advanceTimersByTimeAsync(0);
    expect(checkpoints.writes).toEqual([]);
    open();
    await pipeline.drained();
    expect(sink.statuses()).toEqual(['1:Available_Chat', '2:Lunch']);
    // Both arrived before the first step ran: one intake call, one checkpoint.
    expect(sink.calls).toEqual([2]);
    expect(checkpoints.writes).toEqual(['5']);
  });

  it('batches what arrives while the sink is busy into the next call, checkpointing after each', async () => {
    const { sink, checkpoints, pipeline } = setup();
    let open!: () => void;
    sink.gate = new Promise<void>((r) => {
      open = r;
    });
    pipeline.push(created(1, A, '0Bz1'));
    await jest.advanceTimersByTimeAsync(0);
    pipeline.push(created(2, B, '0Bz2'));
    pipeline.push(created(3, C, '0Bz3', LUNCH));
    expect(checkpoints.writes).toEqual([]);
    open();
    await pipeline.drained();
    expect(sink.calls).toEqual([1, 2]);
    expect(sink.statuses()).toEqual(['1:Available_Chat', '2:Available_Chat', '3:Lunch']);
    expect(checkpoints.writes).toEqual(['1', '3']);
  });

  it('with checkpointEveryMs, stores the replay id at most once per interval, the latest when it passes, and the last at close', async () => {
    const { checkpoints, pipeline } = setup(2000, undefined, { checkpointEveryMs: 1000 });
    pipeline.push(created(1, A, '0Bz1'));
    await pipeline.drained();
    expect(checkpoints.writes).toEqual(['1']);
    pipeline.push(created(2, B, '0Bz2'));
    await pipeline.drained();
    pipeline.push(created(3, C, '0Bz3', LUNCH));
    await pipeline.drained();
    expect(checkpoints.writes).toEqual(['1']);
    await jest.advanceTimersByTimeAsync(1000);
    await pipeline.drained();
    expect(checkpoints.writes).toEqual(['1', '3']);
    pipeline.push(created(4, A, '0Bz4', LUNCH));
    await pipeline.drained();
    expect(checkpoints.writes).toEqual(['1', '3']);
    await pipeline.close();
    expect(checkpoints.writes).toEqual(['1', '3', '4']);
  });

  it('with checkpointEveryMs, never stores a replay id past an Offline still held, not even at close', async () => {
    const { checkpoints, pipeline } = setup(2000, undefined, { checkpointEveryMs: 1000 });
    pipeline.push(created(1, A, '0Bz1'));
    await pipeline.drained();
    pipeline.push(created(2, B, '0Bz2'));
    pipeline.push(closed(3, A, '0Bz1'));
    pipeline.push(created(4, C, '0Bz3'));
    await pipeline.drained();
    await pipeline.close();
    // A's Offline (3) was held when the pipeline closed: a restart must deliver it again.
    expect(checkpoints.writes).toEqual(['1', '2']);
  });

  it('drops a closed row that a new row of the same user follows within the hold (close first)', async () => {
    const { sink, checkpoints, pipeline } = setup();
    pipeline.push(created(1, A, '0Bz1'));
    pipeline.push(closed(2, A, '0Bz1'));
    pipeline.push(created(3, A, '0Bz2', LUNCH));
    await pipeline.drained();
    await jest.advanceTimersByTimeAsync(5000);
    await pipeline.drained();
    expect(sink.statuses()).toEqual(['1:Available_Chat', '1:Lunch']);
    expect(checkpoints.value).toBe('3');
  });

  it('reports Offline once the hold passes, keeping the stored id before it meanwhile', async () => {
    const { sink, checkpoints, pipeline } = setup();
    pipeline.push(created(1, A, '0Bz1'));
    pipeline.push(closed(2, A, '0Bz1'));
    pipeline.push(created(3, B, '0Bz2', LUNCH));
    await pipeline.drained();
    expect(sink.statuses()).toEqual(['1:Available_Chat', '2:Lunch']);
    expect(pipeline.heldUsers).toEqual([A]);
    // B's change is accepted, but a crash now must re-deliver A's logout: the stored id stays at 1.
    expect(checkpoints.value).toBe('1');
    await jest.advanceTimersByTimeAsync(1999);
    expect(sink.statuses()).toHaveLength(2);
    await jest.advanceTimersByTimeAsync(1);
    await pipeline.drained();
    expect(sink.statuses()).toEqual(['1:Available_Chat', '2:Lunch', '1:Offline']);
    expect(sink.got[2]).toMatchObject({ eventId: 'usp:0Bz1:closed', occurredAt: Date.parse('2026-03-02T10:00:01.000Z') });
    expect(checkpoints.value).toBe('3');
  });

  it('reports Offline at once with no hold', async () => {
    const { sink, checkpoints, pipeline } = setup(0);
    pipeline.push(created(1, A, '0Bz1'));
    pipeline.push(closed(2, A, '0Bz1'));
    await pipeline.drained();
    expect(sink.statuses()).toEqual(['1:Available_Chat', '1:Offline']);
    expect(checkpoints.value).toBe('2');
  });

  it('stores nothing while the first event since start is held and no resume point is known', async () => {
    const { checkpoints, pipeline } = setup();
    pipeline.push(closed(7, A, '0Bz9'));
    pipeline.push(created(8, B, '0Bz2'));
    await pipeline.drained();
    expect(checkpoints.writes).toEqual([]);
  });

  it('resumes from the stored id it started with while the first event is held', async () => {
    const { checkpoints, pipeline } = setup(2000, 6);
    pipeline.push(closed(7, A, '0Bz9'));
    pipeline.push(created(8, B, '0Bz2'));
    await pipeline.drained();
    // The stored 6 is already the safe point: nothing to write.
    expect(checkpoints.writes).toEqual([]);
    await jest.advanceTimersByTimeAsync(2000);
    await pipeline.drained();
    expect(checkpoints.writes).toEqual(['8']);
  });

  it('drops events at or below the highest replay id taken in (re-delivery after a reconnect)', async () => {
    const { sink, pipeline } = setup();
    pipeline.push(created(1, A, '0Bz1'));
    pipeline.push(created(3, B, '0Bz2'));
    pipeline.push(created(1, A, '0Bz1'));
    pipeline.push(created(3, B, '0Bz2'));
    await pipeline.drained();
    expect(sink.got).toHaveLength(2);
    pipeline.resetSeen();
    pipeline.push(created(1, A, '0Bz5', LUNCH));
    await pipeline.drained();
    expect(sink.got).toHaveLength(3);
  });

  it('retries a failing sink with backoff and never skips the event', async () => {
    const { sink, checkpoints, pipeline } = setup();
    sink.failures = 3;
    pipeline.push(created(1, A, '0Bz1'));
    pipeline.push(created(2, B, '0Bz2'));
    await jest.advanceTimersByTimeAsync(100 + 200 + 400);
    await pipeline.drained();
    expect(sink.statuses()).toEqual(['1:Available_Chat', '2:Available_Chat']);
    expect(checkpoints.writes).toEqual(['2']);
  });

  it('looks an unknown status up (refreshing the catalog) and ignores it when still unknown, moving on', async () => {
    const { sink, names, checkpoints, pipeline } = setup();
    pipeline.push(created(1, A, '0Bz1', '0N5999999999999AAA'));
    await pipeline.drained();
    expect(names.lookups).toBe(1);
    expect(sink.got).toEqual([]);
    expect(checkpoints.value).toBe('1');
    names.known['0N5888888888888AAA'] = 'Training';
    pipeline.push(created(2, A, '0Bz2', '0N5888888888888AAA'));
    await pipeline.drained();
    expect(sink.statuses()).toEqual(['1:Training']);
  });

  it('closes: drops holds (not stored), ends a waiting retry, takes nothing more', async () => {
    const { sink, checkpoints, pipeline } = setup();
    pipeline.push(created(1, A, '0Bz1'));
    pipeline.push(closed(2, A, '0Bz1'));
    await pipeline.drained();
    sink.failures = 100;
    pipeline.push(created(3, B, '0Bz2'));
    await jest.advanceTimersByTimeAsync(0);
    await pipeline.close();
    await pipeline.close();
    pipeline.push(created(4, B, '0Bz3'));
    await jest.advanceTimersByTimeAsync(10_000);
    await pipeline.drained();
    expect(sink.statuses()).toEqual(['1:Available_Chat']);
    expect(checkpoints.writes).toEqual(['1']);
  });
});

describe(`${UspEventPipeline.name} load changes`, () => {
  const chat = (user: string, weight = 1): AgentWorkRecord => ({ UserId: user, ServiceChannelId: '0N9000000000001AAA', ServiceChannel: { DeveloperName: 'sfdc_liveagent' }, CapacityWeight: weight });
  const kase = (user: string): AgentWorkRecord => ({ UserId: user, ServiceChannelId: '0N9000000000002AAA', ServiceChannel: { DeveloperName: 'sfdc_case' }, CapacityWeight: 2 });

  it('hands on a load change with the same status and the workload read for it', async () => {
    const work = new Work();
    work.records = [chat(A), kase(A), chat(B)];
    const { sink, checkpoints, pipeline } = setup(0, undefined, { workloads: work });
    pipeline.push(created(1, A, '0Bz1', LUNCH));
    await pipeline.drained();
    pipeline.push(loadChanged(2, A, '0Bz1', LUNCH));
    await pipeline.drained();
    expect(sink.got[1]).toMatchObject({
      side: 'salesforce', userId: A, status: 'Lunch', occurredAt: Date.parse('2026-03-02T10:00:02.000Z'),
      workload: { channels: { sfdc_liveagent: 1, sfdc_case: 1 }, load: 3, capacity: 3 },
    });
    expect(sink.got[1].eventId).not.toBe(sink.got[0].eventId);
    expect(work.asked).toEqual([[A]]);
    expect(checkpoints.value).toBe('2');
  });

  it('reads once for every user whose load changed in a batch, keeping the latest change per user in place', async () => {
    const work = new Work();
    work.records = [chat(A), chat(B, 1), chat(B, 1)];
    const { sink, pipeline } = setup(0, undefined, { workloads: work });
    pipeline.push(loadChanged(1, A, '0Bz1'));
    pipeline.push(created(2, C, '0Bz3', LUNCH));
    pipeline.push(loadChanged(3, B, '0Bz2'));
    pipeline.push(loadChanged(4, A, '0Bz1'));
    await pipeline.drained();
    expect(work.asked).toEqual([[A, B]]);
    expect(sink.calls).toEqual([3]);
    expect(sink.got.map((c) => (c.side === 'salesforce' ? [c.userId, c.workload?.load] : []))).toEqual([[C, undefined], [B, 2], [A, 1]]);
    // A user with no open work gets an empty workload, not none.
    expect(sink.got[0]).not.toHaveProperty('workload');
  });

  it('drops load changes whose read failed, asks for a repair, and still hands on the presence changes', async () => {
    const work = new Work();
    work.failure = new Error('socket hang up');
    const failed: unknown[] = [];
    const { sink, checkpoints, pipeline } = setup(0, undefined, { workloads: work, onWorkloadReadFailed: (e) => failed.push(e) });
    pipeline.push(created(1, B, '0Bz2'));
    pipeline.push(loadChanged(2, A, '0Bz1'));
    await pipeline.drained();
    expect(sink.statuses()).toEqual(['2:Available_Chat']);
    expect(failed).toEqual([work.failure]);
    expect(checkpoints.value).toBe('2');
  });

  it('drops load changes quietly when AgentWork cannot be read, or no reader is given', async () => {
    const work = new Work();
    work.failure = new WorkloadUnavailableError('INVALID_TYPE: sObject type AgentWork is not supported');
    const failed: unknown[] = [];
    const one = setup(0, undefined, { workloads: work, onWorkloadReadFailed: (e) => failed.push(e) });
    one.pipeline.push(loadChanged(1, A, '0Bz1'));
    await one.pipeline.drained();
    expect(one.sink.got).toEqual([]);
    expect(failed).toEqual([]);

    const none = setup(0);
    none.pipeline.push(loadChanged(1, A, '0Bz1'));
    await none.pipeline.drained();
    expect(none.sink.got).toEqual([]);
    expect(none.checkpoints.value).toBe('1');
  });

  it('gives a logout an empty workload', async () => {
    const { sink, pipeline } = setup(0);
    pipeline.push(created(1, A, '0Bz1'));
    pipeline.push(closed(2, A, '0Bz1'));
    await pipeline.drained();
    expect(sink.got[1]).toMatchObject({ status: 'Offline', workload: { channels: {}, load: 0, capacity: 0 } });
  });
});
