import { randomUUID } from 'node:crypto';
import { QUEUES } from '@presence-sync/redis';
import { DaemonHarness, waitFor } from '../../support/daemon-harness';

describe('engine under vendor faults and conflicts', () => {
  let h: DaemonHarness;
  beforeAll(async () => { h = await DaemonHarness.start({ env: { ACD_TIMEOUT_MS: '1500' } }); });
  afterAll(async () => { await h.stop(); });

  it('429 with Retry-After pauses the queue, then the write succeeds', async () => {
    h.cc.failNext(1, 429, { retryAfterSec: 1 });
    h.sf.agentSetStatus(h.userOf('a-1014'), 'Lunch');
    await waitFor(() => h.hasAudit('a-1014', 'applied'), 'applied after the pause');
    const writes = h.writesFor('a-1014');
    expect(writes.map((w) => w.status)).toEqual([429, 200]);
    expect(writes[1].at - writes[0].at).toBeGreaterThanOrEqual(900);
    expect(await h.hasAudit('a-1014', 'rate-limited')).toBe(true);
    expect(h.acdState('a-1014')).toEqual({ state: 'Unavailable', code: 'Lunch' });
  });

  it('422 is not retried, stays in the failed set and is audited', async () => {
    const failedBefore = await h.failedCount(QUEUES.syncAcd);
    h.cc.failNext(1, 422);
    h.sf.agentSetStatus(h.userOf('a-1015'), 'Break');
    await waitFor(() => h.hasAudit('a-1015', 'failed'), 'audited failed');
    await waitFor(() => h.idle(), 'idle');
    expect(h.writesFor('a-1015').map((w) => w.status)).toEqual([422]);
    expect(await h.failedCount(QUEUES.syncAcd)).toBe(failedBefore + 1);
    const failed = (await h.audit('a-1015')).find((r) => r.outcome === 'failed');
    expect(failed?.detail).toMatch(/refused \(unknown-code\)/);
  });

  it('counts each failure class in /metrics', async () => {
    const text = await (await fetch(`${h.url}/metrics`)).text();
    expect(text).toMatch(/presence_sync_write_failures_total\{side="acd",class="rate-limited"\} [1-9]/);
    expect(text).toMatch(/presence_sync_write_failures_total\{side="acd",class="permanent"\} [1-9]/);
    expect(text).toMatch(/presence_sync_events_in_total\{side="salesforce"\} [1-9]/);
  });

  it('5xx is retried with backoff until it succeeds', async () => {
    h.cc.failNext(2, 503);
    h.sf.agentSetStatus(h.userOf('a-1009'), 'Lunch');
    await waitFor(() => h.hasAudit('a-1009', 'applied'), 'applied');
    expect(h.writesFor('a-1009').map((w) => w.status)).toEqual([503, 503, 200]);
    expect((await h.audit('a-1009')).filter((r) => r.outcome === 'retrying')).toHaveLength(2);
  });

  it('conflictPolicy latest: the newer ACD change wins over our pending write toward the ACD', async () => {
    h.cc.failNext(1, 'hang');
    h.sf.agentSetStatus(h.userOf('a-1016'), 'Lunch');
    await waitFor(() => h.writesFor('a-1016').length === 1, 'the write toward the ACD is in flight');
    h.cc.agentSetState('a-1016', { state: 'Unavailable', code: 'Break' });
    await waitFor(() => h.hasAudit('a-1016', 'superseded'), 'the pending write is superseded');
    await waitFor(() => h.sf.statusOf(h.userOf('a-1016')) === 'Break', 'Salesforce follows the ACD');
    await waitFor(() => h.idle(), 'idle');
    expect(h.acdState('a-1016')).toEqual({ state: 'Unavailable', code: 'Break' });
  });

  it('conflictPolicy salesforce: the pending write toward the ACD wins; the ACD change is not synced', async () => {
    const user = h.userOf('a-1003');
    h.cc.failNext(1, 'hang');
    h.sf.agentSetStatus(user, 'Lunch');
    await waitFor(() => h.writesFor('a-1003').length === 1, 'the write toward the ACD is in flight');
    h.cc.agentSetState('a-1003', { state: 'Unavailable', code: 'Break' });
    await waitFor(() => h.hasAudit('a-1003', 'conflict'), 'audited conflict');
    await waitFor(() => h.hasAudit('a-1003', 'applied', (r) => r.rule === 'salesforce-wins'), 'the pending write lands');
    await waitFor(() => h.idle(), 'idle');
    expect(h.acdState('a-1003')).toEqual({ state: 'Unavailable', code: 'Lunch' });
    expect(h.sf.statusOf(user)).toBe('Lunch');
    expect(h.commandsFor('a-1003')).toHaveLength(0);
  });

  it('conflictPolicy latest: our losing write that lands late is not synced onward, and the winner is restored', async () => {
    const user = h.userOf('a-1011');
    h.sf.holdCommands(user); // a slow console: our command arrives after the agent's own click
    h.cc.agentSetState('a-1011', { state: 'Unavailable', code: 'Lunch' });
    await waitFor(() => h.commandsFor('a-1011').length === 1, 'the command toward Salesforce is in flight');
    h.sf.agentSetStatus(user, 'Break'); // the agent's newer change in Salesforce wins
    await waitFor(() => h.acdState('a-1011')?.code === 'Break', 'the ACD follows the winner');
    h.sf.releaseCommands(user); // our dropped Lunch command lands late
    await waitFor(() => h.hasAudit('a-1011', 'superseded', (r) => /landed after/.test(r.detail ?? '')), 'the late landing is recognised');
    await waitFor(() => h.sf.statusOf(user) === 'Break', 'Salesforce is put back to the winner');
    await waitFor(() => h.idle(), 'idle');
    expect(h.acdState('a-1011')).toEqual({ state: 'Unavailable', code: 'Break' });
    expect(h.sf.statusOf(user)).toBe('Break');
  });

  it('conflictPolicy acd: the ACD change wins even when it is older', async () => {
    const user = h.userOf('a-1002');
    h.cc.failNext(1, 'hang');
    const sfAt = Date.now();
    h.sf.agentSetStatus(user, 'Lunch');
    await waitFor(() => h.writesFor('a-1002').length === 1, 'the write toward the ACD is in flight');
    const r = await h.postEvents({ eventId: randomUUID(), occurredAt: new Date(sfAt - 500).toISOString(), agentId: 'a-1002', state: { state: 'Unavailable', code: 'Break' } });
    expect(r.status).toBe(202);
    await waitFor(() => h.hasAudit('a-1002', 'superseded'), 'our pending write is dropped');
    await waitFor(() => h.sf.statusOf(user) === 'Break', 'Salesforce follows the ACD');
    await waitFor(() => h.idle(), 'idle');
    expect(h.writesFor('a-1002').filter((w) => w.status === 200)).toHaveLength(0);
  });
});

describe('a newer want while the sync waits in retry backoff', () => {
  let h: DaemonHarness;
  beforeAll(async () => { h = await DaemonHarness.start({ env: { SYNC_BACKOFF_MS: '2000', SYNC_ATTEMPTS: '2' } }); });
  afterAll(async () => { await h.stop(); });

  it('is written with its own attempts, not what is left of the old want\'s', async () => {
    h.cc.failNext(2, 503);
    const user = h.userOf('a-1009');
    h.sf.agentSetStatus(user, 'Lunch');
    await waitFor(() => h.writesFor('a-1009').length === 1, 'the first write failed and waits in backoff');
    h.sf.agentSetStatus(user, 'Break');
    await waitFor(() => h.acdState('a-1009')?.code === 'Break', 'the newer want is written', 15_000);
    expect(await h.hasAudit('a-1009', 'failed')).toBe(false);
    expect(h.writesFor('a-1009').map((w) => w.status)).toEqual([503, 503, 200]);
  });
});

describe('drift repair', () => {
  let h: DaemonHarness;
  beforeAll(async () => { h = await DaemonHarness.start(); });
  afterAll(async () => { await h.stop(); });

  it('a Salesforce user with no presence row does not undo a later contact-center change', async () => {
    const user = h.userOf('a-1011');
    h.sf.agentSetStatus(user, 'Offline'); // logged out of Omni-Channel: no current presence row
    await waitFor(() => h.acdState('a-1011')?.state === 'Offline', 'the ACD follows to Offline');
    await waitFor(() => h.idle(), 'idle');
    // The console is closed, so the agent's later login in the contact center cannot reach Salesforce.
    h.sf.setConsoleOpen(user, false);
    h.cc.agentSetState('a-1011', { state: 'Available' });
    await waitFor(() => h.hasAudit('a-1011', 'failed'), 'the write to the closed console gives up', 20_000);
    await waitFor(() => h.idle(), 'idle');
    await h.lifecycle.runReconcile('now');
    await waitFor(() => h.idle(), 'idle');
    // The contact center changed last: drift repair wants Salesforce to follow it, and leaves the ACD alone.
    expect(h.acdState('a-1011')).toEqual({ state: 'Available' });
    const repair = (await h.audit('a-1011')).find((r) => r.direction === 'reconcile' && r.outcome === 'queued');
    expect(repair).toMatchObject({ wanted: 'Available_Chat' });
    expect(repair?.detail).toMatch(/the acd side changed last/);
    h.sf.setConsoleOpen(user, true);
  });

  it('repairs a change the daemon never heard of, audited as reconcile', async () => {
    h.cc.setWebhook(undefined);
    h.cc.agentSetState('a-1017', { state: 'Unavailable', code: 'Lunch' });
    await h.lifecycle.runReconcile('now');
    const user = h.userOf('a-1017');
    await waitFor(() => h.sf.statusOf(user) === 'Lunch', 'Salesforce repaired to Lunch');
    const records = await h.audit('a-1017');
    expect(records.some((r) => r.direction === 'reconcile' && r.outcome === 'queued' && r.wanted === 'Lunch')).toBe(true);
  });

  it('repairs a Salesforce logout the stream never delivered', async () => {
    const user = h.userOf('a-1013');
    // The first drift repair already brought Salesforce to Available_Chat for this Available agent.
    await waitFor(() => h.hasAudit('a-1013', 'confirmed'), 'Salesforce shows Available_Chat, as the engine knows');
    await h.sf.stop(); // the stream is down: the logout below is never delivered
    h.sf.agentSetStatus(user, 'Offline');
    await h.lifecycle.runReconcile('now');
    await waitFor(() => h.acdState('a-1013')?.state === 'Offline', 'the ACD is logged out too');
  });
});

describe('drift repair with several replicas', () => {
  let h: DaemonHarness;
  // A real interval (its timer does not fire during the test): the scheduled repair is once per interval.
  beforeAll(async () => { h = await DaemonHarness.start({ env: { RECONCILE_INTERVAL_MS: '3600000' } }); });
  afterAll(async () => { await h.stop(); });

  it('runs the scheduled repair once per interval across replicas; a repair asked for now still runs', async () => {
    // As if another replica's timer had fired first (it also brings Salesforce in line with the ACD).
    await h.lifecycle.runReconcile('now');
    expect(await h.redis.exists(`${h.prefix}:lock:reconcile:recent`)).toBe(1);
    await waitFor(() => h.idle(), 'the first repair is done');
    h.cc.setWebhook(undefined);
    h.cc.agentSetState('a-1017', { state: 'Unavailable', code: 'Lunch' });
    const repairs = async () => (await h.audit('a-1017')).filter((r) => r.direction === 'reconcile' && r.outcome === 'queued' && r.wanted === 'Lunch').length;
    // This replica's timer: the interval's repair already ran, so it does not read both sides again.
    await h.lifecycle.runReconcile();
    expect(await repairs()).toBe(0);
    // The stream reported a gap (or an operator asks): it runs.
    await h.lifecycle.runReconcile('now');
    expect(await repairs()).toBe(1);
    await waitFor(() => h.sf.statusOf(h.userOf('a-1017')) === 'Lunch', 'Salesforce repaired to Lunch');
  });
});
