import { createHmac, generateKeyPairSync } from 'node:crypto';
import { SalesforceEmulator, SANDBOX_SALESFORCE } from '@presence-sync/testing';
import { API_VERSION, JWT_BEARER, connection, failure, integrationLogin, jwtAssertion, newEmulator } from './salesforce-emulator.fixture';

/** POSTs a form to the token endpoint the way jsforce's OAuth2 class does, returning status and JSON. */
async function tokenRequest(loginUrl: string, form: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${loginUrl}/services/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe(`${SalesforceEmulator.name} OAuth 2.0`, () => {
  let emulator: SalesforceEmulator;
  let loginUrl: string;
  let clock: number;

  beforeEach(async () => {
    clock = Date.parse('2025-03-01T09:00:00Z');
    emulator = newEmulator({ now: () => clock });
    ({ loginUrl } = await emulator.start());
  });

  afterEach(async () => {
    await emulator.stop();
  });

  describe('username-password grant', () => {
    it('logs in with jsforce (password + security token) and answers the documented success shape', async () => {
      const conn = await integrationLogin(loginUrl);
      expect(conn.instanceUrl).toBe(loginUrl);
      expect(conn.userInfo?.id).toBe(emulator.userId(SANDBOX_SALESFORCE.username));

      const { status, body } = await tokenRequest(loginUrl, {
        grant_type: 'password', client_id: SANDBOX_SALESFORCE.clientId, client_secret: SANDBOX_SALESFORCE.clientSecret,
        username: SANDBOX_SALESFORCE.username, password: SANDBOX_SALESFORCE.password + SANDBOX_SALESFORCE.securityToken,
      });
      expect(status).toBe(200);
      expect(body).toEqual({
        access_token: expect.stringMatching(/^00D\w{12}!\S+$/),
        instance_url: loginUrl,
        id: `${loginUrl}/id/${String(body.id).split('/')[4]}/${emulator.userId(SANDBOX_SALESFORCE.username)}`,
        token_type: 'Bearer',
        issued_at: String(clock),
        signature: createHmac('sha256', SANDBOX_SALESFORCE.clientSecret).update(`${String(body.id)}${clock}`).digest('base64'),
        scope: 'api',
      });
      expect(body).not.toHaveProperty('refresh_token');
    });

    it.each([
      ['a wrong password', { password: 'nope' }, 'invalid_grant', 'authentication failure'],
      ['the password without the security token', { password: SANDBOX_SALESFORCE.password }, 'invalid_grant', 'authentication failure'],
      ['an unknown user', { username: 'nobody@example.com' }, 'invalid_grant', 'authentication failure'],
      ['an unknown client id', { client_id: 'unknown' }, 'invalid_client_id', 'client identifier invalid'],
      ['a wrong client secret', { client_secret: 'wrong' }, 'invalid_client', 'invalid client credentials'],
    ])('refuses %s with HTTP 400 and Salesforce\'s error body', async (_what, override, error, description) => {
      const { status, body } = await tokenRequest(loginUrl, {
        grant_type: 'password', client_id: SANDBOX_SALESFORCE.clientId, client_secret: SANDBOX_SALESFORCE.clientSecret,
        username: SANDBOX_SALESFORCE.username, password: SANDBOX_SALESFORCE.password + SANDBOX_SALESFORCE.securityToken, ...override,
      });
      expect(status).toBe(400);
      expect(body).toEqual({ error, error_description: description });
    });

    it('surfaces as a jsforce error named after the OAuth error', async () => {
      const error = await failure(() => connection(loginUrl).login(SANDBOX_SALESFORCE.username, 'wrong'));
      expect(error.name).toBe('invalid_grant');
      expect(error.message).toBe('authentication failure');
    });

    it('answers an unknown grant type with unsupported_grant_type', async () => {
      const { status, body } = await tokenRequest(loginUrl, { grant_type: 'authorization_code_x', client_id: SANDBOX_SALESFORCE.clientId });
      expect(status).toBe(400);
      expect(body).toEqual({ error: 'unsupported_grant_type', error_description: 'grant type not supported' });
    });
  });

  describe('client-credentials grant', () => {
    it('issues a token for the run-as user through jsforce', async () => {
      const conn = connection(loginUrl);
      const info = await conn.authorize({ grant_type: 'client_credentials' });
      expect(info.id).toBe(emulator.userId(SANDBOX_SALESFORCE.username));
      const users = await conn.query<{ Id: string }>('SELECT Id FROM User');
      expect(users.totalSize).toBe(4);
    });

    it('refuses a wrong secret, and a connected app without a run-as user', async () => {
      const wrong = await tokenRequest(loginUrl, { grant_type: 'client_credentials', client_id: SANDBOX_SALESFORCE.clientId, client_secret: 'x' });
      expect(wrong).toEqual({ status: 400, body: { error: 'invalid_client', error_description: 'invalid client credentials' } });

      const bare = newEmulator({ clientCredentialsUser: undefined, integrationUser: undefined });
      const { loginUrl: bareUrl } = await bare.start();
      try {
        const none = await tokenRequest(bareUrl, { grant_type: 'client_credentials', client_id: SANDBOX_SALESFORCE.clientId, client_secret: SANDBOX_SALESFORCE.clientSecret });
        expect(none).toEqual({ status: 400, body: { error: 'invalid_grant', error_description: 'no client credentials user enabled' } });
      } finally {
        await bare.stop();
      }
    });
  });

  describe('JWT bearer grant', () => {
    const claims = (loginUrl: string, over: Record<string, unknown> = {}): Record<string, unknown> => ({
      iss: SANDBOX_SALESFORCE.clientId, sub: SANDBOX_SALESFORCE.username, aud: loginUrl, exp: Math.floor(clock / 1000) + 180, ...over,
    });

    it('exchanges an RS256 assertion for a token through jsforce', async () => {
      const conn = connection(loginUrl, false);
      const info = await conn.authorize({ grant_type: JWT_BEARER, assertion: jwtAssertion(claims(loginUrl)) });
      expect(info.id).toBe(emulator.userId(SANDBOX_SALESFORCE.username));
      expect((await conn.query('SELECT Id FROM ServicePresenceStatus')).totalSize).toBe(8);
    });

    it.each([
      ['a foreign signature', {}, generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey, 'invalid_grant', 'invalid assertion'],
      ['another issuer', { iss: 'someone-else' }, undefined, 'invalid_client_id', 'client identifier invalid'],
      ['another audience', { aud: 'https://example.com' }, undefined, 'invalid_grant', 'Audience validation failed'],
      ['an expired assertion', { exp: Math.floor(Date.parse('2025-03-01T08:00:00Z') / 1000) }, undefined, 'invalid_grant', 'expired authorization code'],
      ['an unknown subject', { sub: 'nobody@example.com' }, undefined, 'invalid_grant', "user hasn't approved this consumer"],
    ])('refuses %s', async (_what, over, key, error, description) => {
      const assertion = key ? jwtAssertion(claims(loginUrl, over), key) : jwtAssertion(claims(loginUrl, over));
      const { status, body } = await tokenRequest(loginUrl, { grant_type: JWT_BEARER, assertion });
      expect(status).toBe(400);
      expect(body).toEqual({ error, error_description: description });
    });
  });

  describe('refresh-token grant', () => {
    it('issues a new access token from a refresh token, through jsforce\'s session refresh', async () => {
      const refreshToken = emulator.issueRefreshToken(SANDBOX_SALESFORCE.username);
      const conn = connection(loginUrl, true, { accessToken: 'expired-token', refreshToken });
      const refreshed: string[] = [];
      conn.on('refresh', (token: string) => refreshed.push(token));
      // The made-up access token is answered 401 INVALID_SESSION_ID; jsforce refreshes and retries once.
      const result = await conn.query('SELECT Id FROM User WHERE IsActive = true');
      expect(result.totalSize).toBe(4);
      expect(refreshed).toHaveLength(1);
      expect(conn.accessToken).toBe(refreshed[0]);
    });

    it('refuses an unknown or revoked refresh token', async () => {
      const refreshToken = emulator.issueRefreshToken(SANDBOX_SALESFORCE.username);
      await connection(loginUrl).oauth2.revokeToken(refreshToken);
      const { status, body } = await tokenRequest(loginUrl, { grant_type: 'refresh_token', client_id: SANDBOX_SALESFORCE.clientId, refresh_token: refreshToken });
      expect(status).toBe(400);
      expect(body).toEqual({ error: 'invalid_grant', error_description: 'expired access/refresh token' });
    });
  });

  describe('revocation', () => {
    it('makes REST answer 401 INVALID_SESSION_ID for a revoked token (endpoint and revokeTokens)', async () => {
      const conn = await integrationLogin(loginUrl);
      const token = conn.accessToken as string;
      await connection(loginUrl).oauth2.revokeToken(token);
      const res = await fetch(`${loginUrl}/services/data/v${API_VERSION}/query?q=${encodeURIComponent('SELECT Id FROM User')}`, { headers: { Authorization: `Bearer ${token}` } });
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual([{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }]);

      const again = await integrationLogin(loginUrl);
      expect(emulator.revokeTokens(SANDBOX_SALESFORCE.username)).toBeGreaterThanOrEqual(1);
      const res2 = await fetch(`${loginUrl}/services/data/v${API_VERSION}/limits`, { headers: { Authorization: `OAuth ${again.accessToken as string}` } });
      expect(res2.status).toBe(401);
    });

    it('answers an unknown token on the revoke endpoint with 400 invalid_token', async () => {
      const res = await fetch(`${loginUrl}/services/oauth2/revoke`, {
        method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'token=unknown',
      });
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({ error: 'invalid_token', error_description: 'Token was invalid' });
    });

    it('expires access tokens after sessionTtlMs', async () => {
      const short = newEmulator({ now: () => clock, sessionTtlMs: 60_000 });
      const { loginUrl: url } = await short.start();
      try {
        const { body } = await tokenRequest(url, {
          grant_type: 'password', client_id: SANDBOX_SALESFORCE.clientId, client_secret: SANDBOX_SALESFORCE.clientSecret,
          username: SANDBOX_SALESFORCE.username, password: SANDBOX_SALESFORCE.password + SANDBOX_SALESFORCE.securityToken,
        });
        const conn = connection(url, false, { accessToken: String(body.access_token) });
        await conn.query('SELECT Id FROM User');
        clock += 60_000;
        const error = await failure(() => conn.query('SELECT Id FROM User'));
        expect(error.errorCode).toBe('INVALID_SESSION_ID');
      } finally {
        await short.stop();
      }
    });
  });
});
