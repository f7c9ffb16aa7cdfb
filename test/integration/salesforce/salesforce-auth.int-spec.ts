import { ConfigError, RetryableWriteError } from '@presence-sync/domain';
import { JsforceSalesforceAdapter, SalesforceAuthError, SalesforceSession } from '@presence-sync/salesforce';
import {
  AGENTS, CLIENT_SECRET, INTEGRATION, JWT_PRIVATE_KEY, MemoryCheckpoints, memoryLogger, SalesforceEmulator, settingsFor, startEmulator,
} from './salesforce-test-kit';
import { generateKeyPairSync } from 'node:crypto';

let emulator: SalesforceEmulator;
beforeAll(async () => {
  emulator = await startEmulator();
});
afterAll(() => emulator.stop());

async function loginError(session: SalesforceSession): Promise<Error> {
  try {
    await session.connect();
  } catch (e) {
    if (e instanceof Error) return e;
  }
  throw new Error('expected the login to fail');
}

describe(SalesforceSession.name, () => {
  it.each(['password', 'client-credentials', 'jwt', 'refresh-token'] as const)('logs in with %s and queries as the integration user', async (mode) => {
    const settings = settingsFor(emulator, { mode });
    const session = new SalesforceSession(settings);
    const identity = await session.connect();
    expect(identity.userId).toBe(emulator.userId(INTEGRATION.username));
    expect(identity.instanceUrl).toBe(emulator.baseUrl);
    const adapter = new JsforceSalesforceAdapter({ settings, checkpoints: new MemoryCheckpoints(), session });
    const users = await adapter.listUsers();
    expect(users.map((u) => u.email)).toEqual(expect.arrayContaining(AGENTS));
    // jsforce's default would be 50.0: every request must use the configured version.
    expect(session.connection.version).toBe('62.0');
    expect(session.apiUsage?.used).toBeGreaterThan(0);
  });

  it.each([
    ['password', { password: 'wrong-password' }, 'invalid_grant'],
    ['password', { securityToken: undefined }, 'invalid_grant'],
    ['password', { clientSecret: 'wrong-secret-value' }, 'invalid_client'],
    ['client-credentials', { clientId: 'unknown-client' }, 'invalid_client_id'],
    ['jwt', { username: 'nobody@acme.example' }, 'invalid_grant'],
    ['jwt', { clientId: 'unknown-client' }, 'invalid_client_id'],
    ['jwt', { privateKey: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() }, 'invalid_grant'],
    ['refresh-token', { refreshToken: 'not-a-refresh-token' }, 'invalid_grant'],
  ] as const)('refuses bad %s credentials with one line naming the mode and code (%#)', async (mode, patch, code) => {
    const settings = settingsFor(emulator, { mode, ...patch });
    const e = await loginError(new SalesforceSession(settings));
    expect(e).toBeInstanceOf(SalesforceAuthError);
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.message).toMatch(new RegExp(`^Salesforce login failed \\(SALESFORCE_AUTH=${mode}\\): ${code}`));
    expect(e.message.split('\n')).toHaveLength(1);
    for (const secret of [INTEGRATION.password, INTEGRATION.securityToken, CLIENT_SECRET, 'wrong-password', 'wrong-secret-value', 'not-a-refresh-token']) {
      expect(e.message).not.toContain(secret);
    }
    expect(e.message).not.toContain(JWT_PRIVATE_KEY.slice(30, 60));
  });

  describe('the JWT audience', () => {
    it('retries the other generic audience once on "audience is invalid", then keeps using the one that worked', async () => {
      const sandbox = await startEmulator({ sandbox: true });
      try {
        const logger = memoryLogger();
        // A sandbox on a domain the settings could not tell apart from production: the default audience is wrong.
        const session = new SalesforceSession(settingsFor(sandbox, { mode: 'jwt', audience: 'https://login.salesforce.com' }), logger);
        const identity = await session.connect();
        expect(identity.userId).toBe(sandbox.userId(INTEGRATION.username));
        const hints = () => logger.lines.filter((l) => l.includes('SALESFORCE_JWT_AUDIENCE=https://test.salesforce.com'));
        expect(hints()).toHaveLength(1);
        await session.reauthenticate('test: log in again');
        expect(hints()).toHaveLength(1);
      } finally {
        await sandbox.stop();
      }
    });

    it('works the other way round (the sandbox audience against a production org)', async () => {
      const session = new SalesforceSession(settingsFor(emulator, { mode: 'jwt', audience: 'https://test.salesforce.com' }));
      await expect(session.connect()).resolves.toMatchObject({ userId: emulator.userId(INTEGRATION.username) });
    });

    it('does not guess past an audience the operator set to something else', async () => {
      const e = await loginError(new SalesforceSession(settingsFor(emulator, { mode: 'jwt', audience: 'https://acme.my.site.com/partners' })));
      expect(e).toBeInstanceOf(SalesforceAuthError);
      expect(e.message).toBe('Salesforce login failed (SALESFORCE_AUTH=jwt): invalid_grant: audience is invalid');
    });
  });

  it('reports an unreachable login server as retryable', async () => {
    const settings = { ...settingsFor(emulator), loginUrl: 'http://127.0.0.1:9' };
    const e = await loginError(new SalesforceSession(settings));
    expect(e).toBeInstanceOf(RetryableWriteError);
    expect(e.message).toMatch(/could not reach http:\/\/127\.0\.0\.1:9: ECONNREFUSED/);
  });

  it('re-authenticates once after the token is revoked, retries the call, and tells listeners', async () => {
    const session = new SalesforceSession(settingsFor(emulator, { mode: 'client-credentials' }));
    const adapter = new JsforceSalesforceAdapter({ settings: session.settings, checkpoints: new MemoryCheckpoints(), session });
    await session.connect();
    const first = session.accessToken;
    const tokens: string[] = [];
    session.onToken(({ accessToken }) => tokens.push(accessToken));
    emulator.revokeTokens(INTEGRATION.username);
    // Several calls fail at once: one login serves them all.
    const results = await Promise.all([adapter.listUsers(), adapter.listStatuses(), adapter.currentPresence()]);
    expect(results[0].length).toBeGreaterThan(0);
    expect(tokens).toHaveLength(1);
    expect(session.accessToken).not.toBe(first);
  });

  it('gives up after one re-login when the new session is refused too', async () => {
    const session = new SalesforceSession(settingsFor(emulator, { mode: 'client-credentials' }));
    const adapter = new JsforceSalesforceAdapter({ settings: session.settings, checkpoints: new MemoryCheckpoints(), session });
    await session.connect();
    let logins = 0;
    session.onToken(() => {
      logins += 1;
    });
    emulator.failNext(2, { status: 401, method: 'GET' });
    await expect(adapter.listUsers()).rejects.toMatchObject({ reason: 'session-expired' });
    expect(logins).toBe(1);
  });
});
