import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import Redis from 'ioredis';
import type { AuditRecord, ConnectorName } from '@presence-sync/domain';
import type { AmazonConnectSandboxAcd } from '@presence-sync/testing';
import { Sandbox, type SandboxAgentRow } from '../../../apps/sandbox/src/sandbox';

/** Waits for a condition on the page's rows (polling the page's API), never for a fixed time. */
async function waitForRow(page: string, agentId: string, ok: (row: SandboxAgentRow) => boolean, what: string, timeoutMs = 20_000): Promise<SandboxAgentRow> {
  const until = Date.now() + timeoutMs;
  let last: SandboxAgentRow | undefined;
  while (Date.now() < until) {
    const { agents } = (await (await fetch(`${page}/api/agents`)).json()) as { agents: SandboxAgentRow[] };
    last = agents.find((a) => a.agentId === agentId);
    if (last && ok(last)) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what}: not within ${timeoutMs} ms; last row ${JSON.stringify(last)}`);
}

const LUNCH = { state: 'Unavailable', code: 'Lunch' };
const sameState = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/** Waits until the agent's audit (oldest first) holds what `ok` looks for. */
async function waitForAudit(daemon: string, agentId: string, ok: (records: AuditRecord[]) => boolean, what: string, timeoutMs = 20_000): Promise<AuditRecord[]> {
  const until = Date.now() + timeoutMs;
  let records: AuditRecord[] = [];
  while (Date.now() < until) {
    records = ((await (await fetch(`${daemon}/v1/agents/${encodeURIComponent(agentId)}/audit?limit=100`)).json()) as { records: AuditRecord[] }).records.reverse();
    if (ok(records)) return records;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what}: not within ${timeoutMs} ms; audit ${JSON.stringify(records.map((r) => [r.direction, r.outcome, r.detail]))}`);
}

describe.each<ConnectorName>(['webex', 'cxone', 'genesys', 'amazon-connect'])('the sandbox with SANDBOX_ACD=%s', (vendor) => {
  const prefix = `sbx${vendor}${randomUUID().slice(0, 6)}`;
  let sandbox: Sandbox;
  let page: string;
  let daemon: string;
  let agents: SandboxAgentRow[];
  const post = (path: string, body: unknown): Promise<Response> =>
    fetch(`${page}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  /** The n-th Tier 1 agent who is Available on the contact center. */
  const tier1 = (n: number): SandboxAgentRow => agents.filter((a) => a.team === 'Tier 1' && a.acd.state === 'Available')[n];

  beforeAll(async () => {
    sandbox = new Sandbox({
      acd: vendor, redisUrl: process.env.REDIS_URL, redisPrefix: prefix, rulesDir: join(__dirname, '..', '..', '..', 'rules'), rulesWatch: false, logLevel: 'silent',
      daemonEnv: { SYNC_BACKOFF_MS: '100', DIRECTORY_REFRESH_INTERVAL_MS: '0', RECONCILE_INTERVAL_MS: '0' },
    });
    const urls = await sandbox.start();
    expect(urls.acd).toBe(vendor);
    page = urls.page;
    daemon = urls.daemon;
    agents = ((await (await fetch(`${page}/api/agents`)).json()) as { agents: SandboxAgentRow[] }).agents;
  });

  afterAll(async () => {
    await sandbox?.stop();
    const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });

  it('shows the vendor\'s own agent ids, the sandbox teams and their codes', () => {
    expect(agents).toHaveLength(20);
    expect(agents[0].agentId).not.toBe('a-1001');
    expect(new Set(agents.map((a) => a.team))).toEqual(new Set(['Tier 1', 'Tier 2', 'Back Office']));
    expect(tier1(0).unavailableCodes).toEqual(expect.arrayContaining(['Lunch', 'Break', 'Chat']));
  });

  it('a Salesforce status reaches the contact center through the vendor\'s API', async () => {
    const agent = tier1(0);
    expect((await post(`/api/agents/${encodeURIComponent(agent.agentId)}/salesforce`, { status: 'Break' })).status).toBe(200);
    await waitForRow(page, agent.agentId, (r) => r.acd.state === 'Unavailable' && r.acd.code === 'Break', `${agent.agentId} following to Unavailable:Break`);
  });

  it('a contact-center state reaches Salesforce through the vendor\'s events', async () => {
    const agent = tier1(1);
    expect((await post(`/api/agents/${encodeURIComponent(agent.agentId)}/acd`, { state: 'Unavailable', code: 'Lunch' })).status).toBe(200);
    await waitForRow(page, agent.agentId, (r) => r.salesforce.status === 'Lunch', `${agent.agentId} following to Lunch in Salesforce`);
  });

  it('a status picked during a call is held and set when the call ends, and is never synced back', async () => {
    const agent = tier1(2);
    const id = encodeURIComponent(agent.agentId);
    expect((await post(`/api/agents/${id}/call`, { action: 'start' })).status).toBe(200);
    await waitForRow(page, agent.agentId, (r) => r.salesforce.status === 'Busy_On_Call', `${agent.agentId} on a call in Salesforce`);
    expect((await post(`/api/agents/${id}/salesforce`, { status: 'Lunch' })).status).toBe(200);
    // The call ends once the daemon has written Lunch to the contact center: were the call's end to reach the daemon
    // first, Lunch would no longer be a status picked during the call (and `latest` lets the later end win).
    await waitForAudit(daemon, agent.agentId, (a) => a.some((r) => r.direction === 'salesforce->acd' && r.outcome !== 'queued' && sameState(r.wanted, LUNCH)), `${agent.agentId}'s Lunch written during the call`);
    expect((await post(`/api/agents/${id}/call`, { action: 'end' })).status).toBe(200);
    await waitForRow(page, agent.agentId, (r) => r.acd.state === 'AfterWork', `${agent.agentId} in wrap-up`);
    expect((await post(`/api/agents/${id}/call`, { action: 'wrapup-end' })).status).toBe(200);
    const row = await waitForRow(page, agent.agentId, (r) => r.acd.state === 'Unavailable' && r.acd.code === 'Lunch', `${agent.agentId} at Lunch after the call`);
    expect(row.salesforce.status).toBe('Lunch');
  });

  // Amazon Connect's own terms, counted in the emulator's request log: what each direction costs in Connect API
  // calls, PutUserStatus during a contact becoming the agent's next status, and Connect's events of our writes.
  if (vendor === 'amazon-connect') {
    it('Amazon Connect: events cost no API call, a Salesforce change one PutUserStatus, deferred during a contact, and nothing comes back', async () => {
      const agent = tier1(3);
      const id = encodeURIComponent(agent.agentId);
      const emulator = (sandbox.contactCenter as AmazonConnectSandboxAcd).emulator;
      const calls = (operation?: string) => emulator.requests.filter((r) => r.userId === agent.agentId && (!operation || r.operation === operation)).length;
      const count = (records: AuditRecord[], direction: string, outcome: string) => records.filter((r) => r.direction === direction && r.outcome === outcome).length;
      const callsAtStart = calls();

      // Connect → Salesforce: read from the agent event stream, no Connect API call; Salesforce's echo is not sent back.
      emulator.agentSetStatus(agent.agentId, (emulator.statusByName('Break') as { id: string }).id);
      await waitForRow(page, agent.agentId, (r) => r.salesforce.status === 'Break', `${agent.agentId} following to Break in Salesforce`);
      let audit = await waitForAudit(daemon, agent.agentId, (a) => count(a, 'salesforce->acd', 'echo') === 1, 'the echo of the Salesforce write');
      expect(calls()).toBe(callsAtStart);
      expect(count(audit, 'salesforce->acd', 'queued')).toBe(0);

      // Salesforce → Connect: GetCurrentUserData + PutUserStatus; Connect's STATE_CHANGE of that write is an echo.
      expect((await post(`/api/agents/${id}/salesforce`, { status: 'Available_All' })).status).toBe(200);
      await waitForRow(page, agent.agentId, (r) => r.acd.state === 'Available', `${agent.agentId} Available in Connect`);
      audit = await waitForAudit(daemon, agent.agentId, (a) => count(a, 'acd->salesforce', 'echo') === 1, 'the echo of the Connect write');
      expect(calls('PutUserStatus')).toBe(1);
      expect(calls()).toBe(callsAtStart + 2);
      expect(count(audit, 'salesforce->acd', 'applied')).toBe(1);

      // On a call: PutUserStatus sets Connect's next status (deferred), applied when after-contact work ends.
      expect((await post(`/api/agents/${id}/call`, { action: 'start' })).status).toBe(200);
      await waitForRow(page, agent.agentId, (r) => r.salesforce.status === 'Busy_On_Call', `${agent.agentId} on a call in Salesforce`);
      expect((await post(`/api/agents/${id}/salesforce`, { status: 'Lunch' })).status).toBe(200);
      const onCall = await waitForRow(page, agent.agentId, (r) => r.acd.pendingAfterContact !== undefined, `${agent.agentId} with a next status in Connect`);
      expect(onCall.acd).toEqual({ state: 'Busy', pendingAfterContact: { state: 'Unavailable', code: 'Lunch' } });
      await waitForAudit(daemon, agent.agentId, (a) => count(a, 'salesforce->acd', 'deferred') === 1, 'the deferred write');
      expect(calls('PutUserStatus')).toBe(2);
      expect((await post(`/api/agents/${id}/call`, { action: 'end' })).status).toBe(200);
      await waitForAudit(daemon, agent.agentId, (a) => count(a, 'acd->salesforce', 'held') >= 1, 'after-contact work held while the next status waits');
      expect((await post(`/api/agents/${id}/call`, { action: 'wrapup-end' })).status).toBe(200);
      const after = await waitForRow(page, agent.agentId, (r) => r.acd.state === 'Unavailable', `${agent.agentId} at the next status after the call`);
      expect(after.acd).toEqual({ state: 'Unavailable', code: 'Lunch' });
      audit = await waitForAudit(daemon, agent.agentId, (a) => count(a, 'acd->salesforce', 'echo') === 2, 'the echo of the applied next status');
      expect(count(audit, 'salesforce->acd', 'confirmed')).toBe(1);
      // Nothing written again either way: no third PutUserStatus, no Salesforce write after the call's Busy_On_Call.
      expect(calls('PutUserStatus')).toBe(2);
      expect(count(audit, 'acd->salesforce', 'queued')).toBe(2);
      expect((await waitForRow(page, agent.agentId, () => true, 'the row')).salesforce.status).toBe('Lunch');
    });
  }
});
