import { CxoneEmulator } from './cxone-emulator';
import { CxoneSandboxAcd } from './cxone-sandbox.acd';
import { ContactCenterEmulator } from '../contact-center-emulator';

const T0 = Date.parse('2026-11-21T10:00:00.000Z');

describe(CxoneEmulator.name, () => {
  let now: number;
  let cx: CxoneEmulator;
  let base: string;
  let api: string;

  const token = async (form: Record<string, string> = {}, basic = true): Promise<Response> => {
    const c = cx.credentials;
    const body = new URLSearchParams({ grant_type: 'password', username: c.accessKeyId, password: c.accessKeySecret, ...form });
    const headers: Record<string, string> = { 'Content-Type': 'application/x-www-form-urlencoded' };
    if (basic) headers.Authorization = `Basic ${Buffer.from(`${c.clientId}:${c.clientSecret}`).toString('base64')}`;
    else {
      body.set('client_id', c.clientId);
      body.set('client_secret', c.clientSecret);
    }
    return fetch(`${base}/auth/token`, { method: 'POST', headers, body: body.toString() });
  };
  const bearer = async () => ((await (await token()).json()) as { access_token: string }).access_token;
  const get = async (path: string, t?: string) => fetch(`${api}${path}`, { headers: { Authorization: `Bearer ${t ?? (await bearer())}` } });
  const post = async (path: string, body?: unknown, t?: string) => fetch(`${api}${path}`, {
    method: 'POST', headers: { Authorization: `Bearer ${t ?? (await bearer())}`, 'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body),
  });

  beforeEach(async () => {
    now = T0;
    cx = new CxoneEmulator({
      now: () => now,
      pageSize: 2,
      codes: [{ id: 1, name: 'Lunch' }, { id: 2, name: 'Break' }, { id: 3, name: 'Old', isActive: false }, { id: 9, name: 'Wrap-up', isAcw: true }],
      teams: [{ teamId: 10, teamName: 'Tier 1', codeIds: [1, 2, 3, 9], acwCodeId: 9 }, { teamId: 11, teamName: 'Tier 2', codeIds: [2] }],
      agents: [
        { agentId: 100, firstName: 'Ada', lastName: 'Adams', emailAddress: 'ada@example.com', teamId: 10, state: 'Available' },
        { agentId: 101, firstName: 'Ben', lastName: 'Becker', emailAddress: 'ben@example.com', teamId: 10 },
        { agentId: 102, firstName: 'Cid', lastName: 'Chen', emailAddress: 'cid@example.com', teamId: 11, state: 'Unavailable', outStateId: 2 },
      ],
    });
    base = (await cx.start()).baseUrl;
    api = `${base}/inContactAPI/services/v34.0`;
  });
  afterEach(async () => {
    await cx.stop();
  });

  it('serves discovery documents that lead to the token endpoint and the API', async () => {
    const oidc = (await (await fetch(`${base}/.well-known/openid-configuration`)).json()) as { token_endpoint: string };
    expect(oidc.token_endpoint).toBe(`${base}/auth/token`);
    const tenant = await fetch(`${base}/.well-known/cxone-configuration?tenantId=${cx.tenantId}`);
    expect(await tenant.json()).toMatchObject({ api_endpoint: base, area: 'na1' });
    expect((await fetch(`${base}/.well-known/cxone-configuration?tenantId=other`)).status).toBe(404);
  });

  it('issues JWT tokens with the tenant for the access key (client by Basic or form), and refuses wrong credentials', async () => {
    const ok = (await (await token()).json()) as { access_token: string; expires_in: number; token_type: string };
    expect(ok).toMatchObject({ token_type: 'Bearer', expires_in: 3600 });
    expect(JSON.parse(Buffer.from(ok.access_token.split('.')[1], 'base64url').toString())).toMatchObject({ tenantId: cx.tenantId });
    expect((await token({}, false)).status).toBe(200);
    expect(await (await token({ password: 'wrong' })).json()).toMatchObject({ error: 'invalid_grant' });
    expect((await token({ grant_type: 'client_credentials' })).status).toBe(400);
  });

  it('answers 401 for a missing, expired or revoked token', async () => {
    expect((await fetch(`${api}/teams`)).status).toBe(401);
    const t = await bearer();
    expect((await get('/teams', t)).status).toBe(200);
    now += 3600_000;
    expect((await get('/teams', t)).status).toBe(401);
    const fresh = await bearer();
    cx.revokeTokens();
    expect((await get('/teams', fresh)).status).toBe(401);
  });

  it('pages agents with top/skip, totalRecords and _links', async () => {
    const first = (await (await get('/agents?isActive=true')).json()) as { totalRecords: number; agents: Array<{ agentId: number; emailAddress: string }>; _links: { next: string | null } };
    expect(first.totalRecords).toBe(3);
    expect(first.agents.map((a) => a.agentId)).toEqual([100, 101]);
    expect(first._links.next).toContain('skip=2');
    const second = (await (await get('/agents?isActive=true&skip=2')).json()) as { agents: unknown[]; _links: { next: string | null } };
    expect(second.agents).toHaveLength(1);
    expect(second._links.next).toBeNull();
  });

  it('lists a team\'s codes with ACW and inactive flags', async () => {
    const body = (await (await get('/teams/10/unavailable-codes')).json()) as { unavailableCodes: Array<{ outstateName: string; isAcw: boolean; isActive: boolean }> };
    expect(body.unavailableCodes.map((c) => [c.outstateName, c.isAcw, c.isActive])).toEqual([['Lunch', false, true], ['Break', false, true], ['Old', false, false], ['Wrap-up', true, true]]);
    expect((await get('/teams/99/unavailable-codes')).status).toBe(404);
  });

  it('reports states changed since updatedSince (inclusive), 304 when none, with lastPollTime for the next poll', async () => {
    const t = await bearer();
    now += 500;
    const all = (await (await get('/agents/states?top=10', t)).json()) as { lastPollTime: string; agentStates: Array<{ agentId: number; agentStateName: string }> };
    expect(all.agentStates.map((s) => [s.agentId, s.agentStateName])).toEqual([[100, 'Available'], [101, 'LoggedOut'], [102, 'Unavailable']]);
    now += 1000;
    expect((await get(`/agents/states?updatedSince=${encodeURIComponent(all.lastPollTime)}`, t)).status).toBe(304);
    cx.startContact(100);
    const delta = (await (await get(`/agents/states?updatedSince=${encodeURIComponent(new Date(now).toISOString())}`, t)).json()) as { agentStates: Array<Record<string, unknown>> };
    expect(delta.agentStates).toHaveLength(1);
    expect(delta.agentStates[0]).toMatchObject({ agentId: 100, agentStateName: 'InboundContact', agentStateId: 3, startDate: new Date(now).toISOString() });
    now += 1000;
    cx.endContact(100);
    const acw = (await (await get('/agents/100/states', t)).json()) as { agentStates: Array<Record<string, unknown>> };
    expect(acw.agentStates[0]).toMatchObject({ agentStateName: 'Unavailable', isACW: true, outStateId: 9, outStateDescription: 'Wrap-up' });
  });

  it('sets another agent\'s state, checks the code against the team, and queues it during a contact (202)', async () => {
    const t = await bearer();
    expect((await post('/agents/100/state', { state: 'Unavailable', outStateId: 1 }, t)).status).toBe(200);
    expect(cx.getAgent(100)).toMatchObject({ state: 'Unavailable', outStateId: 1 });
    expect((await fetch(`${api}/agents/100/state?state=Available`, { method: 'POST', headers: { Authorization: `Bearer ${t}` } })).status).toBe(200);
    for (const [body, status] of [[{ state: 'Unavailable', outStateId: 3 }, 400], [{ state: 'Unavailable', outStateId: 9 }, 400], [{ state: 'Unavailable', outStateId: 2 }, 200], [{ state: 'Busy' }, 400]] as const) {
      expect((await post('/agents/100/state', body, t)).status).toBe(status);
    }
    expect((await post('/agents/999/state', { state: 'Available' }, t)).status).toBe(404);
    expect((await post('/agents/101/state', { state: 'Available' }, t)).status).toBe(409);
    cx.startContact(100);
    expect((await post('/agents/100/state', { state: 'Unavailable', outStateId: 1 }, t)).status).toBe(202);
    cx.endContact(100);
    cx.endAcw(100);
    expect(cx.getAgent(100)).toMatchObject({ state: 'Unavailable', outStateId: 1, isAcw: false });
  });

  it('logs an agent out (202), refuses a logged-out one (409)', async () => {
    const t = await bearer();
    expect((await post('/agents/100/logout', undefined, t)).status).toBe(202);
    expect(cx.getAgent(100)?.state).toBe('LoggedOut');
    expect((await post('/agents/100/logout', undefined, t)).status).toBe(409);
  });

  it('injects faults, interrupts polls, repeats and holds poll answers, and rate-limits when asked', async () => {
    const t = await bearer();
    cx.failNext(1, 429, { retryAfterSec: 3, target: 'write' });
    const limited = await post('/agents/100/state', { state: 'Available' }, t);
    expect([limited.status, limited.headers.get('retry-after')]).toEqual([429, '3']);
    cx.interruptPolls();
    expect((await get('/agents/states', t)).status).toBe(503);
    expect((await get('/teams', t)).status).toBe(200);
    cx.resumePolls();
    cx.repeatNextPoll();
    const since = encodeURIComponent(new Date(now).toISOString());
    cx.agentSetState(100, { state: 'Unavailable', outStateId: 1 });
    const once = await (await get(`/agents/states?updatedSince=${since}`, t)).text();
    expect(cx.pendingDelivery).toBe(true);
    expect(await (await get(`/agents/states?updatedSince=${since}`, t)).text()).toBe(once);
    cx.holdNextPoll();
    now += 10;
    const later = encodeURIComponent(new Date(now).toISOString());
    cx.agentSetState(100, { state: 'Available' });
    expect((await get(`/agents/states?updatedSince=${later}`, t)).status).toBe(304);
    now += 10;
    cx.agentSetState(102, { state: 'Available' });
    const both = (await (await get(`/agents/states?updatedSince=${encodeURIComponent(new Date(now).toISOString())}`, t)).json()) as { agentStates: Array<{ agentId: number }> };
    expect(both.agentStates.map((s) => s.agentId)).toEqual([102, 100]);

    const limitedCx = new CxoneEmulator({ codes: [], teams: [{ teamId: 1, teamName: 'T', codeIds: [] }], agents: [], requestsPerMinute: 2 });
    try {
      const lb = (await limitedCx.start()).baseUrl;
      const c = limitedCx.credentials;
      const tok = (await (await fetch(`${lb}/auth/token`, {
        method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: `Basic ${Buffer.from(`${c.clientId}:${c.clientSecret}`).toString('base64')}` },
        body: new URLSearchParams({ grant_type: 'password', username: c.accessKeyId, password: c.accessKeySecret }).toString(),
      })).json()) as { access_token: string };
      const call = () => fetch(`${lb}/inContactAPI/services/v34.0/teams`, { headers: { Authorization: `Bearer ${tok.access_token}` } });
      expect([(await call()).status, (await call()).status, (await call()).status]).toEqual([200, 200, 429]);
    } finally {
      await limitedCx.stop();
    }
  });
});

describe(CxoneSandboxAcd.name, () => {
  it('seeds the sandbox catalog with CXone ids and shows each agent in the rule model\'s terms', async () => {
    const acd = new CxoneSandboxAcd();
    await acd.start(ContactCenterEmulator.sandboxCatalog(8));
    try {
      const agents = acd.agents();
      expect(agents).toHaveLength(8);
      expect(agents[0]).toMatchObject({ agentId: '30120001', email: 'ada.adams@example.com', teamName: 'Tier 1', state: { state: 'Available' } });
      expect(agents[3].state).toEqual({ state: 'Offline' });
      const changed: string[] = [];
      acd.onStateChange((id) => changed.push(id));
      acd.agentSetState('30120001', { state: 'Unavailable', code: 'Lunch' });
      acd.startCall('30120002');
      acd.endCall('30120002', { wrapUp: true });
      expect(acd.agents().slice(0, 2).map((a) => a.state)).toEqual([{ state: 'Unavailable', code: 'Lunch' }, { state: 'AfterWork', code: 'Wrap-up' }]);
      expect(changed).toEqual(['30120001', '30120002', '30120002']);
      expect(acd.daemonEnv()).toMatchObject({ ACD_CONNECTOR: 'cxone', CXONE_AUTH_URL: acd.url });
    } finally {
      await acd.stop();
    }
  });
});
