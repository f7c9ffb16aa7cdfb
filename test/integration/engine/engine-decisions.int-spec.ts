import { randomUUID } from 'node:crypto';
import { QUEUES, RedisPartitionWork } from '@presence-sync/redis';
import { PartitionDrain } from '../../../apps/presence-sync/src/processors/partition-drain';
import { PartitionWorkers } from '../../../apps/presence-sync/src/processors/partition-workers';
import { SyncRunner } from '../../../apps/presence-sync/src/processors/sync-runner';
import { DaemonHarness, waitFor } from '../../support/daemon-harness';

const at = (ms: number) => new Date(ms).toISOString();

describe('engine decisions: previous, skip-validation, unmapped, echoes, staleness, bursts', () => {
  let h: DaemonHarness;
  beforeAll(async () => { h = await DaemonHarness.start(); });
  afterAll(async () => { await h.stop(); });

  it('`previous` restores the ACD state from before our last write, also after a daemon restart', async () => {
    const user = h.userOf('a-1005');
    h.sf.agentSetStatus(user, 'Available_Chat');
    await waitFor(() => h.hasAudit('a-1005', 'applied'), 'the ACD is set Available');
    h.cc.agentSetState('a-1005', { state: 'Unavailable', code: 'Lunch' });
    await waitFor(() => h.sf.statusOf(user) === 'Lunch', 'Salesforce follows to Lunch');
    await waitFor(() => h.idle(), 'idle');
    // The agent takes a chat: Busy → Unavailable:System, remembering Unavailable:Lunch as the previous state.
    h.sf.agentSetStatus(user, 'Busy');
    await waitFor(() => h.acdState('a-1005')?.code === 'System', 'ACD shows Unavailable:System');
    await waitFor(() => h.idle(), 'idle');

    await h.restart();

    h.sf.agentSetStatus(user, 'Chat_Done');
    await waitFor(() => h.hasAudit('a-1005', 'applied', (r) => r.row === 'subscriber[5]'), 'the previous state is written');
    expect(h.acdState('a-1005')).toEqual({ state: 'Unavailable', code: 'Lunch' });
    const restored = (await h.audit('a-1005')).find((r) => r.outcome === 'applied' && r.row === 'subscriber[5]');
    expect(restored).toMatchObject({ wanted: { state: 'Unavailable', code: 'Lunch' } });
  });

  it('`previous` with no known previous state changes nothing and says why', async () => {
    const user = h.userOf('a-1006');
    const before = h.writesFor('a-1006').length;
    h.sf.agentSetStatus(user, 'Chat_Done');
    await waitFor(() => h.hasAudit('a-1006', 'no-previous'), 'audited no-previous');
    await waitFor(() => h.idle(), 'idle');
    expect(h.writesFor('a-1006')).toHaveLength(before);
  });

  it('skipUnavailableCodeValidation: a status with no usable row sets the default Unavailable', async () => {
    const user = h.userOf('a-1018');
    h.sf.agentSetStatus(user, 'Training'); // row exists, but Training is not enabled for Back Office
    await waitFor(() => h.acdState('a-1018')?.code === 'System', 'ACD shows the default Unavailable:System');
    await waitFor(() => h.idle(), 'idle');
    h.sf.agentSetStatus(user, 'Available_Chat');
    await waitFor(() => h.acdState('a-1018')?.state === 'Available', 'ACD Available');
    h.sf.agentSetStatus(user, 'Lunch'); // no row at all
    const appliedDefaults = async () => (await h.audit('a-1018'))
      .filter((r) => r.outcome === 'applied' && r.rule === 'back-office' && (r.wanted as { code?: string }).code === 'System');
    await waitFor(async () => (await appliedDefaults()).length === 2, 'two default writes audited');
    expect((await appliedDefaults()).map((r) => r.row)).toEqual(['default-unavailable', 'subscriber[1]']);
    expect(h.acdState('a-1018')).toEqual({ state: 'Unavailable', code: 'System' });
  });

  it('an unmapped status with skipUnavailableCodeValidation false changes nothing', async () => {
    const user = h.userOf('a-1007');
    h.sf.agentSetStatus(user, 'Training');
    await waitFor(() => h.hasAudit('a-1007', 'unmapped'), 'audited unmapped');
    await waitFor(() => h.idle(), 'idle');
    expect(h.writesFor('a-1007')).toHaveLength(0);
    expect(h.acdState('a-1007')).toEqual({ state: 'Available' });
  });

  it('our own write reported back once, twice and late is never synced back', async () => {
    const user = h.userOf('a-1010');
    h.sf.agentSetStatus(user, 'Lunch');
    await waitFor(() => h.acdState('a-1010')?.code === 'Lunch', 'ACD Lunch');
    await waitFor(() => h.hasAudit('a-1010', 'echo'), 'first echo');
    await waitFor(() => h.idle(), 'idle');
    const echoedAt = h.cc.getAgent('a-1010')!.since;
    // The contact center reports the same change again (new event id), and once more late.
    for (const occurredAt of [echoedAt + 5, echoedAt + 50]) {
      const r = await h.postEvents({ eventId: randomUUID(), occurredAt: at(occurredAt), agentId: 'a-1010', state: { state: 'Unavailable', code: 'Lunch' } });
      expect(r.status).toBe(202);
    }
    // Each matched our write at most once: the repeats are the same state again, recorded as nothing new.
    await waitFor(() => h.idle(), 'idle');
    expect(h.commandsFor('a-1010')).toHaveLength(0);
    expect((await h.audit('a-1010')).filter((r) => r.outcome === 'echo')).toHaveLength(1);
    expect((await h.audit('a-1010')).filter((r) => r.outcome === 'queued' && r.direction === 'acd->salesforce')).toHaveLength(0);
    // Same on the Salesforce side: our command's status reported twice.
    h.cc.agentSetState('a-1011', { state: 'Unavailable', code: 'Break' });
    const user11 = h.userOf('a-1011');
    await waitFor(() => h.sf.statusOf(user11) === 'Break', 'Salesforce Break');
    await waitFor(() => h.idle(), 'idle');
    await h.sink.accept([{ side: 'salesforce', eventId: randomUUID(), userId: user11, occurredAt: Date.now(), status: 'Break', receivedAt: Date.now() }]);
    await waitFor(() => h.idle(), 'idle');
    expect(h.writesFor('a-1011')).toHaveLength(0);
    expect((await h.audit('a-1011')).filter((r) => r.outcome === 'queued' && r.direction === 'salesforce->acd')).toHaveLength(0);
  });

  it('a real change to a state we wrote minutes ago is synced, not taken for an old echo', async () => {
    const user = h.userOf('a-1014');
    h.sf.agentSetStatus(user, 'Lunch');
    await waitFor(() => h.hasAudit('a-1014', 'echo'), 'our Lunch write reported back');
    h.sf.agentSetStatus(user, 'Available_Chat');
    await waitFor(async () => (await h.audit('a-1014')).filter((r) => r.outcome === 'echo').length >= 2, 'our Available write reported back');
    h.cc.agentSetState('a-1014', { state: 'Unavailable', code: 'Lunch' });
    await waitFor(() => h.sf.statusOf(user) === 'Lunch', 'Salesforce follows the agent to Lunch');
  });

  it('drops a stale event', async () => {
    h.cc.agentSetState('a-1012', { state: 'Unavailable', code: 'Break' });
    const user = h.userOf('a-1012');
    await waitFor(() => h.sf.statusOf(user) === 'Break', 'Salesforce Break');
    await waitFor(() => h.idle(), 'idle');
    const commands = h.commandsFor('a-1012').length;
    const r = await h.postEvents({ eventId: randomUUID(), occurredAt: at(Date.now() - 60_000), agentId: 'a-1012', state: { state: 'Unavailable', code: 'Lunch' } });
    expect(r).toEqual({ status: 202, body: { accepted: 1, duplicates: 0 } });
    await waitFor(() => h.hasAudit('a-1012', 'stale'), 'audited stale');
    await waitFor(() => h.idle(), 'idle');
    expect(h.commandsFor('a-1012')).toHaveLength(commands);
    expect(h.sf.statusOf(user)).toBe('Break');
  });

  const burstOf = (user: string, t0: number) => {
    const statuses = ['Lunch', 'Break', 'Available_Chat', 'Busy'];
    const burst = Array.from({ length: 100 }, (_, i) => ({
      side: 'salesforce' as const, eventId: randomUUID(), userId: user, occurredAt: t0 + i, status: statuses[i % 4], receivedAt: t0 + i,
    }));
    burst[99].status = 'Lunch';
    return burst;
  };

  it('100 changes of one agent queued while its sync waits end in one write of the latest state', async () => {
    const user = h.userOf('a-1013');
    const before = h.writesFor('a-1013').length;
    // The sync queue is held until the whole burst is taken in: the runs in process see the pause and hand every
    // change on to the one waiting sync job.
    const syncAcd = h.queue(QUEUES.syncAcd, 'a-1013');
    await syncAcd.pause();
    await h.app.get(PartitionWorkers).refreshPaused();
    try {
      await h.sink.accept(burstOf(user, Date.now()));
      await waitFor(async () => h.app.get(PartitionDrain).applying === 0 && h.app.get(SyncRunner).running === 0 && (await h.app.get(RedisPartitionWork).depths()).ready === 0, 'the burst taken in', 15_000);
      expect(await syncAcd.count()).toBe(1);
    } finally {
      await syncAcd.resume();
    }
    await waitFor(() => h.acdState('a-1013')?.code === 'Lunch', 'ACD Lunch');
    await waitFor(() => h.idle(), 'idle');
    expect(h.writesFor('a-1013').length - before).toBe(1);
  });

  it('100 changes of one agent racing its sync worker end in the latest state, echoes never synced back', async () => {
    const user = h.userOf('a-1015');
    h.sf.agentSetStatus(user, 'Available_Chat');
    await waitFor(() => h.idle(), 'idle');
    const commands = h.commandsFor('a-1015').length;
    await h.sink.accept(burstOf(user, Date.now()));
    await waitFor(() => h.idle(), 'idle', 15_000);
    // However the writes interleave with their (lagging) echoes, the last one wins and none goes back to Salesforce.
    expect(h.acdState('a-1015')).toEqual({ state: 'Unavailable', code: 'Lunch' });
    expect(h.commandsFor('a-1015')).toHaveLength(commands);
  });
});
