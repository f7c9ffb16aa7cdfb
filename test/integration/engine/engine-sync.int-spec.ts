import { DaemonHarness, waitFor } from '../../support/daemon-harness';

describe('engine: both ways through the real daemon', () => {
  let h: DaemonHarness;
  beforeAll(async () => { h = await DaemonHarness.start(); });
  afterAll(async () => { await h.stop(); });

  it('maps an ACD change to the Salesforce status and never syncs the confirmation back', async () => {
    const user = h.userOf('a-1001');
    h.cc.agentSetState('a-1001', { state: 'Unavailable', code: 'Lunch' });
    await waitFor(() => h.sf.statusOf(user) === 'Lunch', 'Salesforce shows Lunch');
    await waitFor(() => h.hasAudit('a-1001', 'confirmed'), 'the write is confirmed by the presence stream');
    await waitFor(() => h.hasAudit('a-1001', 'echo'), 'the reported status is recognised as our echo');
    await waitFor(() => h.idle(), 'queues drained');
    expect(h.writesFor('a-1001')).toHaveLength(0);
    const queued = (await h.audit('a-1001')).find((r) => r.outcome === 'queued');
    expect(queued).toMatchObject({ direction: 'acd->salesforce', rule: 'tiers', row: 'publisher[1]', wanted: 'Lunch' });
  });

  it('maps a Salesforce change to the ACD state and never syncs the echo back', async () => {
    const user = h.userOf('a-1009');
    h.sf.agentSetStatus(user, 'Break');
    await waitFor(() => h.acdState('a-1009')?.code === 'Break', 'the ACD shows Unavailable:Break');
    await waitFor(() => h.hasAudit('a-1009', 'echo'), 'the webhook of our own write is recognised as an echo');
    await waitFor(() => h.idle(), 'queues drained');
    expect(h.acdState('a-1009')).toEqual({ state: 'Unavailable', code: 'Break' });
    expect(h.writesFor('a-1009').map((w) => w.status)).toEqual([200]);
    expect(h.commandsFor('a-1009')).toHaveLength(0);
    const applied = (await h.audit('a-1009')).find((r) => r.outcome === 'applied');
    expect(applied).toMatchObject({ direction: 'salesforce->acd', rule: 'tiers', row: 'subscriber[3]', wanted: { state: 'Unavailable', code: 'Break' } });
    expect(applied?.latencyMs).toBeGreaterThanOrEqual(0);
  });
});
