import type { AcdState } from '@presence-sync/domain';
import { DaemonHarness, waitFor } from '../../support/daemon-harness';

/*
 * Agents change their status during calls, and in bursts, through the real daemon between the contact-center
 * emulator (which defers a write made while the agent is on a contact, as contract v1 says) and an in-memory
 * Salesforce. Tier 1 agents use the "tiers" rule: Busy and AfterWork show Busy_On_Call, Lunch ⇄ Unavailable:Lunch,
 * Chat_Done restores the previous ACD state.
 */
const SETTABLE = ['Available', 'Unavailable', 'Offline'];

describe('engine: status changes during a contact and in bursts', () => {
  let h: DaemonHarness;
  beforeAll(async () => { h = await DaemonHarness.start({ agents: 40 }); });
  afterAll(async () => { await h.stop(); });

  /** Every PUT the contact center got for this agent set a settable state. */
  const onlySettableWrites = (agentId: string) => h.writesFor(agentId).every((w) => SETTABLE.includes((w.body as { state: string }).state));

  for (const wrapUp of [true, false]) {
    it(`Lunch picked in Salesforce during a call stays, and the contact center takes it when the call ends (${wrapUp ? 'with' : 'without'} wrap-up)`, async () => {
      const agentId = wrapUp ? 'a-1021' : 'a-1022';
      const user = h.userOf(agentId);
      h.cc.startCall(agentId);
      await waitFor(() => h.sf.statusOf(user) === 'Busy_On_Call', 'Salesforce shows the call');
      await waitFor(() => h.idle(), 'idle');

      h.sf.agentSetStatus(user, 'Lunch');
      await waitFor(() => h.hasAudit(agentId, 'deferred'), 'the contact center defers the write');
      if (wrapUp) {
        h.cc.endCall(agentId);
        await waitFor(() => h.hasAudit(agentId, 'held'), 'wrap-up is held: Salesforce keeps Lunch');
        await waitFor(() => h.idle(), 'idle');
        expect(h.sf.statusOf(user)).toBe('Lunch');
        h.cc.endWrapUp(agentId);
      } else {
        h.cc.endCall(agentId, { wrapUp: false });
      }
      await waitFor(() => h.hasAudit(agentId, 'confirmed', (r) => r.direction === 'salesforce->acd'), 'the deferred write is confirmed when it lands');
      await waitFor(() => h.idle(), 'idle');

      expect(h.acdState(agentId)).toEqual({ state: 'Unavailable', code: 'Lunch' });
      expect(h.sf.statusOf(user)).toBe('Lunch');
      expect(onlySettableWrites(agentId)).toBe(true);
      const audit = await h.audit(agentId);
      expect(audit.filter((r) => r.outcome === 'failed')).toEqual([]);
      // Only the call itself went to Salesforce; the landing of our own deferred write was not synced back.
      expect(h.commandsFor(agentId).map((c) => c.status)).toEqual(['Busy_On_Call']);
    });
  }

  it('`previous` after a write deferred during a call restores the state from before the call', async () => {
    const agentId = 'a-1023';
    const user = h.userOf(agentId);
    h.cc.startCall(agentId);
    await waitFor(() => h.sf.statusOf(user) === 'Busy_On_Call', 'Salesforce shows the call');
    h.sf.agentSetStatus(user, 'Busy'); // a chat arrives: the contact center is to show Unavailable:System
    await waitFor(() => h.hasAudit(agentId, 'deferred'), 'deferred while on the call');
    h.cc.endCall(agentId, { wrapUp: false });
    await waitFor(() => h.acdState(agentId)?.code === 'System', 'the contact center applies Unavailable:System');
    await waitFor(() => h.idle(), 'idle');
    h.sf.agentSetStatus(user, 'Chat_Done');
    await waitFor(() => h.hasAudit(agentId, 'applied', (r) => r.row === 'subscriber[5]'), 'the previous state is written');
    expect(h.acdState(agentId)).toEqual({ state: 'Available' });
    expect(onlySettableWrites(agentId)).toBe(true);
  });

  it('50 contact-center changes of one agent within half a second make at most 3 console commands, the last one the latest state', async () => {
    const agentId = 'a-1026';
    const user = h.userOf(agentId);
    const states: AcdState[] = [{ state: 'Unavailable', code: 'Lunch' }, { state: 'Unavailable', code: 'Break' }, { state: 'Available' }];
    const before = h.commandsFor(agentId).length;
    for (let i = 0; i < 50; i++) {
      h.cc.agentSetState(agentId, states[i % 3]);
      await new Promise((r) => setTimeout(r, 9)); // paces the burst over ~0.5 s; not a wait for a result
    }
    const last = states[49 % 3];
    await waitFor(() => h.sf.statusOf(user) === 'Break' && last.code === 'Break', 'Salesforce ends on the latest state', 15_000);
    await waitFor(() => h.idle(), 'idle', 15_000);
    expect(h.sf.statusOf(user)).toBe('Break');
    expect(h.commandsFor(agentId).length - before).toBeLessThanOrEqual(3);
  });

  it('an isolated change after a quiet spell is written at once, not held for the burst window', async () => {
    const agentId = 'a-1027';
    h.cc.agentSetState(agentId, { state: 'Unavailable', code: 'Lunch' });
    await waitFor(() => h.hasAudit(agentId, 'sent'), 'the command is sent');
    const queued = (await h.audit(agentId)).find((r) => r.outcome === 'queued');
    const sent = (await h.audit(agentId)).find((r) => r.outcome === 'sent');
    // Held back would mean at least the 300 ms window between the decision and the send.
    expect((sent?.timings?.sentAt ?? Infinity) - (queued?.at ?? 0)).toBeLessThan(300);
  });
});
