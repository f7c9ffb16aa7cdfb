import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import Redis from 'ioredis';
import type { ConnectorName } from '@presence-sync/domain';
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

describe.each<ConnectorName>(['webex', 'cxone', 'genesys'])('the sandbox with SANDBOX_ACD=%s', (vendor) => {
  const prefix = `sbx${vendor}${randomUUID().slice(0, 6)}`;
  let sandbox: Sandbox;
  let page: string;
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
    expect((await post(`/api/agents/${id}/call`, { action: 'end' })).status).toBe(200);
    await waitForRow(page, agent.agentId, (r) => r.acd.state === 'AfterWork', `${agent.agentId} in wrap-up`);
    expect((await post(`/api/agents/${id}/call`, { action: 'wrapup-end' })).status).toBe(200);
    const row = await waitForRow(page, agent.agentId, (r) => r.acd.state === 'Unavailable' && r.acd.code === 'Lunch', `${agent.agentId} at Lunch after the call`);
    expect(row.salesforce.status).toBe('Lunch');
  });
});
