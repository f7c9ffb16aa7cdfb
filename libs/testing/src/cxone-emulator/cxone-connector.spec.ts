import { ConfigError, ContactCenterReadError, PermanentWriteError, RateLimitedError, RetryableWriteError } from '@presence-sync/domain';
import { CxoneConnector, parseRetryAfter, type CxoneConnectorOptions } from '@presence-sync/connector-cxone';
import { makeCxoneHarness, type CxoneHarness } from '../conformance/cxone.harness';
import { CxoneEmulator } from './cxone-emulator';

// The CXone connector's auth, directory and error taxonomy over real HTTP against the emulator. It lives here, not
// beside the connector, because a connector lib may not import libs/testing (import boundaries).

const TEAM = 1_300_001;
const OTHER = 1_300_002;
const ADA = '30130001';
const BEN = '30130002';

/** A connector without a running source (the harness's connector polls; these tests check calls one by one). */
async function quiet(h: CxoneHarness, extra: Partial<CxoneConnectorOptions> = {}): Promise<CxoneConnector> {
  await h.connector.source.stop();
  const c = h.emulator.credentials;
  const connector = new CxoneConnector({
    authUrl: (await h.emulator.start()).baseUrl, clientId: c.clientId, clientSecret: c.clientSecret, accessKeyId: c.accessKeyId, accessKeySecret: c.accessKeySecret,
    pageSize: 2, ...extra,
  });
  await connector.start();
  return connector;
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

describe(CxoneConnector.name, () => {
  let h: CxoneHarness;
  let cx: CxoneConnector;

  beforeEach(async () => {
    h = await makeCxoneHarness();
    cx = await quiet(h);
  });
  afterEach(async () => {
    await cx.stop();
    await h.stop();
  });

  describe('auth', () => {
    it('discovers the token endpoint and the API base, and reuses one token', async () => {
      await cx.listTeams();
      await cx.listAgents();
      expect(cx.api.tokenRequests).toBe(1);
      const routes = h.emulator.requests.map((r) => r.route);
      expect(routes).toContain('/.well-known/openid-configuration');
      expect(routes).toContain('/.well-known/cxone-configuration');
    });

    it('gets a new token once when CXone revokes the current one', async () => {
      await cx.listAgents();
      h.emulator.revokeTokens();
      await expect(cx.listAgents()).resolves.toHaveLength(3);
      expect(cx.api.tokenRequests).toBe(2);
      expect(h.emulator.requests.filter((r) => r.status === 401)).toHaveLength(1);
    });

    it('renews the token before it expires', async () => {
      let now = Date.now();
      const clock = () => now;
      const pinned = new CxoneEmulator({ codes: [], teams: [{ teamId: 1, teamName: 'T', codeIds: [] }], agents: [], now: clock });
      const { baseUrl } = await pinned.start();
      const c = pinned.credentials;
      const connector = new CxoneConnector({ authUrl: baseUrl, clientId: c.clientId, clientSecret: c.clientSecret, accessKeyId: c.accessKeyId, accessKeySecret: c.accessKeySecret, now: clock });
      try {
        await connector.listTeams();
        now += 54 * 60_000; // 6 min left: still good
        await connector.listTeams();
        expect(connector.api.tokenRequests).toBe(1);
        now += 2 * 60_000; // 4 min left: renewed before CXone would refuse it
        await connector.listTeams();
        expect(connector.api.tokenRequests).toBe(2);
        expect(pinned.requests.filter((r) => r.status === 401)).toHaveLength(0);
      } finally {
        await pinned.stop();
      }
    });

    it('stops the boot with a ConfigError naming the settings, never the secret', async () => {
      const c = h.emulator.credentials;
      const bad = new CxoneConnector({ authUrl: (await h.emulator.start()).baseUrl, clientId: c.clientId, clientSecret: c.clientSecret, accessKeyId: c.accessKeyId, accessKeySecret: 'wrong-secret-value-123' });
      const error = await rejection(bad.start());
      expect(error).toBeInstanceOf(ConfigError);
      expect(error.message).toContain('CXONE_ACCESS_KEY_ID');
      expect(error.message).not.toContain('wrong-secret-value-123');
      const badClient = new CxoneConnector({ authUrl: (await h.emulator.start()).baseUrl, clientId: c.clientId, clientSecret: 'nope-nope-nope', accessKeyId: c.accessKeyId, accessKeySecret: c.accessKeySecret });
      const clientError = await rejection(badClient.start());
      expect(clientError.message).toContain('CXONE_CLIENT_SECRET');
      expect(clientError.message).not.toContain('nope-nope-nope');
    });

    it('uses CXONE_API_BASE_URL instead of discovering it', async () => {
      const before = h.emulator.requests.filter((r) => r.route === '/.well-known/cxone-configuration').length;
      const connector = await quiet(h, { apiBaseUrl: (await h.emulator.start()).baseUrl });
      await connector.listTeams();
      expect(h.emulator.requests.filter((r) => r.route === '/.well-known/cxone-configuration')).toHaveLength(before);
    });
  });

  describe('directory', () => {
    it('lists every active agent with e-mail, team and state, across pages', async () => {
      h.emulator.agentSetState(Number(BEN), { state: 'Unavailable', outStateId: h.emulator.codeIdOf(TEAM, 'Lunch') });
      const agents = await cx.listAgents();
      expect(agents.map((a) => a.agentId).sort()).toEqual([ADA, BEN, '30130003']);
      const ben = agents.find((a) => a.agentId === BEN);
      expect(ben).toMatchObject({ email: 'ben.becker@example.com', teamId: String(TEAM), state: { state: 'Unavailable', code: 'Lunch' } });
      expect(typeof ben?.since).toBe('number');
    });

    it('lists teams with their active unavailable codes, ACW states apart', async () => {
      expect(await cx.listTeams()).toEqual([
        { teamId: String(TEAM), name: 'Conformance', unavailableCodes: ['Lunch', 'Break'] },
        { teamId: String(OTHER), name: 'Other', unavailableCodes: ['Lunch', 'Training'] },
      ]);
      expect((await cx.listTeamCodes())[0].acwCodes).toEqual(['Wrap-up']);
    });

    it('reuses a team listing for 30 s, so readiness probes cost no calls', async () => {
      await cx.listTeams();
      const calls = h.emulator.apiCalls(/^\/teams/);
      await cx.listTeams();
      expect(h.emulator.apiCalls(/^\/teams/)).toBe(calls);
    });

    it('reports a 5xx that persists as a retryable read error', async () => {
      h.emulator.failNext(3, 503, { target: 'read' });
      const error = await rejection(cx.listTeams());
      expect(error).toBeInstanceOf(ContactCenterReadError);
      expect((error as ContactCenterReadError).retryable).toBe(true);
    });
  });

  describe('setState', () => {
    const write = (agentId: string, state: { state: 'Available' | 'Unavailable' | 'Offline'; code?: string }) => cx.setState({ agentId, state, requestId: 'r-1' });

    it('sets Available and Unavailable with the code id of the agent\'s team', async () => {
      await expect(write(ADA, { state: 'Unavailable', code: 'Break' })).resolves.toEqual({ kind: 'applied', state: { state: 'Unavailable', code: 'Break' } });
      expect(h.emulator.getAgent(Number(ADA))).toMatchObject({ state: 'Unavailable', outStateId: h.emulator.codeIdOf(TEAM, 'Break') });
      await expect(write(ADA, { state: 'Available' })).resolves.toEqual({ kind: 'applied', state: { state: 'Available' } });
      expect(h.emulator.getAgent(Number(ADA))?.state).toBe('Available');
    });

    it('logs an agent out for Offline (accepted: the next poll shows it)', async () => {
      await expect(write(ADA, { state: 'Offline' })).resolves.toEqual({ kind: 'accepted' });
      expect(h.emulator.getAgent(Number(ADA))?.state).toBe('LoggedOut');
      await expect(write(ADA, { state: 'Offline' })).resolves.toEqual({ kind: 'applied', state: { state: 'Offline' } });
    });

    it('refuses codes the team does not have, and ACW states', async () => {
      for (const code of ['Training', 'Wrap-up', 'Nope']) {
        const error = await rejection(write(ADA, { state: 'Unavailable', code }));
        expect(error).toBeInstanceOf(PermanentWriteError);
        expect((error as PermanentWriteError).reason).toBe('unknown-code');
      }
      expect(h.emulator.requests.filter((r) => r.method === 'POST' && r.route !== '/auth/token')).toHaveLength(0);
    });

    it('refuses an unknown agent permanently', async () => {
      const error = await rejection(write('39999999', { state: 'Available' }));
      expect(error).toMatchObject({ reason: 'unknown-agent', httpStatus: 404 });
      await expect(write('not-a-number', { state: 'Available' })).rejects.toMatchObject({ reason: 'unknown-agent' });
    });

    it('refuses a write during a contact or its ACW with reason on-contact, without writing', async () => {
      h.emulator.startContact(Number(ADA));
      await expect(write(ADA, { state: 'Unavailable', code: 'Lunch' })).rejects.toMatchObject({ reason: 'on-contact' });
      h.emulator.endContact(Number(ADA), { acw: true });
      await expect(write(ADA, { state: 'Offline' })).rejects.toMatchObject({ reason: 'on-contact' });
      expect(h.emulator.requests.filter((r) => r.method === 'POST' && r.route !== '/auth/token')).toHaveLength(0);
    });

    it('refuses to bring a logged-out agent back (only the agent can log in)', async () => {
      h.emulator.agentLogout(Number(ADA));
      await expect(write(ADA, { state: 'Available' })).rejects.toMatchObject({ reason: 'agent-logged-out' });
    });

    it('maps 429 to RateLimitedError with Retry-After, 5xx and resets to retryable', async () => {
      h.emulator.failNext(1, 429, { target: 'write', retryAfterSec: 7 });
      const limited = await rejection(write(ADA, { state: 'Unavailable' }));
      expect(limited).toBeInstanceOf(RateLimitedError);
      expect((limited as RateLimitedError).retryAfterMs).toBe(7000);
      h.emulator.failNext(1, 502, { target: 'write' });
      await expect(write(ADA, { state: 'Unavailable' })).rejects.toMatchObject({ reason: 'server-error', httpStatus: 502 });
      h.emulator.failNext(1, 'reset', { target: 'write' });
      const reset = await rejection(write(ADA, { state: 'Unavailable' }));
      expect(reset).toBeInstanceOf(RetryableWriteError);
      expect((reset as RetryableWriteError).reason).toBe('network');
      await expect(write(ADA, { state: 'Unavailable' })).resolves.toMatchObject({ kind: 'applied' });
    });

    it('turns a 409 into on-contact when CXone refuses a write during a contact it started meanwhile', async () => {
      const strict = await makeCxoneHarness({ onContactWrite: 'conflict' });
      const connector = await quiet(strict);
      try {
        // The contact starts between the connector's read and its write.
        strict.emulator.once('request', (r) => {
          if (r.route.endsWith('/states') && r.method === 'GET') strict.emulator.startContact(Number(ADA));
        });
        await expect(connector.setState({ agentId: ADA, state: { state: 'Available' }, requestId: 'r' })).rejects.toMatchObject({ reason: 'on-contact', httpStatus: 409 });
      } finally {
        await strict.stop();
      }
    });

    it('answers deferred when CXone queues the write as the next state (202)', async () => {
      h.emulator.once('request', (r) => {
        if (r.route.endsWith('/states') && r.method === 'GET') h.emulator.startContact(Number(ADA));
      });
      await expect(write(ADA, { state: 'Unavailable', code: 'Lunch' })).resolves.toEqual({ kind: 'deferred' });
      expect(h.emulator.getAgent(Number(ADA))?.next).toEqual({ state: 'Unavailable', outStateId: h.emulator.codeIdOf(TEAM, 'Lunch') });
    });

    it('never puts a secret or a token into an error', async () => {
      h.emulator.failNext(1, 500, { target: 'write' });
      const error = await rejection(write(ADA, { state: 'Available' }));
      for (const secret of h.secrets ?? []) expect(error.message).not.toContain(secret);
    });
  });

  it('reads Retry-After as seconds or an HTTP date, capped', () => {
    expect(parseRetryAfter('3', 0)).toBe(3000);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 0)).toBe(10_000);
    expect(parseRetryAfter('junk', 0)).toBe(1000);
    expect(parseRetryAfter('99999', 0)).toBe(600_000);
  });
});
