import { createHmac, generateKeyPairSync } from 'node:crypto';
import { request } from 'node:http';
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

/**
 * POSTs a form to the emulator's token endpoint with another `Host` header: how a test reaches the emulator
 * "as" login.salesforce.com while it listens on 127.0.0.1.
 */
function tokenRequestAs(loginUrl: string, host: string, form: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }> {
  const body = new URLSearchParams(form).toString();
  return new Promise((resolve, reject) => {
    const req = request(`${loginUrl}/services/oauth2/token`, {
      method: 'POST', headers: { host, 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown> }));
    });
    req.on('error', reject);
    req.end(body);
  });
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

    it.each(['login.salesforce.com', 'test.salesforce.com', 'TEST.salesforce.com:443'])('refuses the grant addressed to %s, as Salesforce does off My Domain', async (host) => {
      const answer = await tokenRequestAs(loginUrl, host, { grant_type: 'client_credentials', client_id: SANDBOX_SALESFORCE.clientId, client_secret: SANDBOX_SALESFORCE.clientSecret });
      expect(answer).toEqual({ status: 400, body: { error: 'invalid_grant', error_description: 'request not supported on this domain' } });
    });

    it('treats the configured login hosts as Salesforce\'s generic ones, and every other host as My Domain', async () => {
      const custom = newEmulator({ loginHosts: ['localhost'] });
      const { loginUrl: url } = await custom.start();
      try {
        const form = { grant_type: 'client_credentials', client_id: SANDBOX_SALESFORCE.clientId, client_secret: SANDBOX_SALESFORCE.clientSecret };
        expect((await tokenRequestAs(url, 'localhost', form)).body).toEqual({ error: 'invalid_grant', error_description: 'request not supported on this domain' });
        expect((await tokenRequestAs(url, 'acme.my.salesforce.com', form)).status).toBe(200);
      } finally {
        await custom.stop();
      }
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

    it('exchanges an RS256 assertion for a token through jsforce (audience: the production login host, request: My Domain)', async () => {
      const conn = connection(loginUrl, false);
      const info = await conn.authorize({ grant_type: JWT_BEARER, assertion: jwtAssertion(claims('https://login.salesforce.com')) });
      expect(info.id).toBe(emulator.userId(SANDBOX_SALESFORCE.username));
      expect((await conn.query('SELECT Id FROM ServicePresenceStatus')).totalSize).toBe(8);
    });

    it.each([
      ['a foreign signature', {}, generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey, 'invalid_grant', 'invalid assertion'],
      ['another issuer', { iss: 'someone-else' }, undefined, 'invalid_client_id', 'client identifier invalid'],
      ['another audience', { aud: 'https://example.com' }, undefined, 'invalid_grant', 'audience is invalid'],
      ['the sandbox audience in a production org', { aud: 'https://test.salesforce.com' }, undefined, 'invalid_grant', 'audience is invalid'],
      ['a My Domain audience', { aud: 'https://acme.my.salesforce.com' }, undefined, 'invalid_grant', 'audience is invalid'],
      ['an expired assertion', { exp: Math.floor(Date.parse('2025-03-01T08:00:00Z') / 1000) }, undefined, 'invalid_grant', 'expired authorization code'],
      ['an unknown subject', { sub: 'nobody@example.com' }, undefined, 'invalid_grant', "user hasn't approved this consumer"],
    ])('refuses %s', async (_what, over, key, error, description) => {
      const production = 'https://login.salesforce.com';
      const assertion = key ? jwtAssertion(claims(production, over), key) : jwtAssertion(claims(production, over));
      const { status, body } = await tokenRequest(loginUrl, { grant_type: JWT_BEARER, assertion });
      expect(status).toBe(400);
      expect(body).toEqual({ error, error_description: description });
    });

    it('refuses its own My Domain URL (where the request goes) as the audience', async () => {
      for (const aud of [loginUrl, `${loginUrl}/`]) {
        const { status, body } = await tokenRequest(loginUrl, { grant_type: JWT_BEARER, assertion: jwtAssertion(claims(aud)) });
        expect({ status, body }).toEqual({ status: 400, body: { error: 'invalid_grant', error_description: 'audience is invalid' } });
      }
    });

    it('accepts the sandbox audience in a sandbox, and an Experience Cloud site URL it is told about', async () => {
      const sandbox = newEmulator({ now: () => clock, sandbox: true, experienceSiteUrls: ['https://acme.my.site.com/partners'] });
      const { loginUrl: url } = await sandbox.start();
      try {
        const answer = async (aud: string) => (await tokenRequest(url, { grant_type: JWT_BEARER, assertion: jwtAssertion(claims(aud)) })).body;
        expect(await answer('https://test.salesforce.com')).toHaveProperty('access_token');
        expect(await answer('https://acme.my.site.com/partners')).toHaveProperty('access_token');
        expect(await answer('https://login.salesforce.com')).toEqual({ error: 'invalid_grant', error_description: 'audience is invalid' });
      } finally {
        await sandbox.stop();
      }
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

    it('answers without a new refresh token while rotation is off', async () => {
      const refreshToken = emulator.issueRefreshToken(SANDBOX_SALESFORCE.username);
      const form = { grant_type: 'refresh_token', client_id: SANDBOX_SALESFORCE.clientId, refresh_token: refreshToken };
      expect((await tokenRequest(loginUrl, form)).body).not.toHaveProperty('refresh_token');
      expect((await tokenRequest(loginUrl, form)).status).toBe(200);
    });

    describe('with refresh token rotation on', () => {
      let rotating: SalesforceEmulator;
      let url: string;
      beforeEach(async () => {
        rotating = newEmulator({ now: () => clock, refreshTokenRotation: true });
        ({ loginUrl: url } = await rotating.start());
      });
      afterEach(() => rotating.stop());

      const refresh = (token: string) => tokenRequest(url, { grant_type: 'refresh_token', client_id: SANDBOX_SALESFORCE.clientId, refresh_token: token });
      const query = async (accessToken: unknown) =>
        (await fetch(`${url}/services/data/v${API_VERSION}/query?q=${encodeURIComponent('SELECT Id FROM User')}`, { headers: { Authorization: `Bearer ${String(accessToken)}` } })).status;

      it('issues a new refresh token with each access token and invalidates the one used', async () => {
        const first = rotating.issueRefreshToken(SANDBOX_SALESFORCE.username);
        const a = await refresh(first);
        expect(a.status).toBe(200);
        expect(a.body.refresh_token).toEqual(expect.any(String));
        expect(a.body.refresh_token).not.toBe(first);
        const b = await refresh(String(a.body.refresh_token));
        expect(b.status).toBe(200);
        expect(b.body.refresh_token).not.toBe(a.body.refresh_token);
        // Access tokens issued along the chain stay valid while nothing is reused.
        expect(await query(a.body.access_token)).toBe(200);
        expect(await query(b.body.access_token)).toBe(200);
      });

      it('revokes the current refresh token and every access token of the chain when an old one is reused', async () => {
        const first = rotating.issueRefreshToken(SANDBOX_SALESFORCE.username);
        const a = await refresh(first);
        const b = await refresh(String(a.body.refresh_token));
        const reused = await refresh(first);
        expect(reused).toEqual({ status: 400, body: { error: 'invalid_grant', error_description: 'expired access/refresh token' } });
        expect(await query(a.body.access_token)).toBe(401);
        expect(await query(b.body.access_token)).toBe(401);
        expect((await refresh(String(b.body.refresh_token))).body).toEqual({ error: 'invalid_grant', error_description: 'expired access/refresh token' });
      });

      it('leaves other chains alone', async () => {
        const mine = rotating.issueRefreshToken(SANDBOX_SALESFORCE.username);
        const other = await refresh(rotating.issueRefreshToken(SANDBOX_SALESFORCE.username));
        await refresh(mine);
        await refresh(mine);
        expect(await query(other.body.access_token)).toBe(200);
        expect((await refresh(String(other.body.refresh_token))).status).toBe(200);
      });
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
