import { createHash } from 'node:crypto';
import { JWT_AUDIENCES, redactSalesforceSettings, type SalesforceAuthSettings, type SalesforceSettings } from '@presence-sync/config';
import { ConfigError, RetryableWriteError, type RefreshTokenStore } from '@presence-sync/domain';
import { Connection, OAuth2, type TokenResponse } from 'jsforce';
import { buildJwtBearerAssertion, JWT_BEARER_GRANT } from './jwt-bearer';
import {
  isNetworkError, isSessionExpired, SalesforceAuthError, salesforceErrorCode, salesforceErrorMessage,
} from './salesforce-errors';
import { SILENT_SALESFORCE_LOGGER, type SalesforceLogger } from './salesforce-logger';

/** Who the daemon is logged in as, from the token response's identity URL (`…/id/<orgId>/<userId>`). */
export interface SalesforceIdentity {
  userId: string;
  organizationId: string;
  instanceUrl: string;
  identityUrl: string;
}

/** `api-usage=N/M` of the latest `Sforce-Limit-Info` response header: API requests used / allowed (rolling 24 h). */
export interface ApiUsage {
  used: number;
  limit: number;
}

/** Told about every new access token: a streaming client keeps the token it was built with, so it is rebuilt. */
export type TokenListener = (event: { accessToken: string; reason: string }) => void;

export interface SalesforceSessionOptions {
  /**
   * Where the current refresh token lives (`SALESFORCE_AUTH=refresh-token`), shared by every replica and
   * surviving restarts; refreshes run under its lock. Without one the rotated token is kept in this process's
   * memory, which is only safe for a single short-lived process (tests, the emulator's demo).
   */
  refreshTokens?: RefreshTokenStore;
}

type JwtAuth = Extract<SalesforceAuthSettings, { mode: 'jwt' }>;
type RefreshAuth = Extract<SalesforceAuthSettings, { mode: 'refresh-token' }>;

/**
 * One logged-in jsforce `Connection`, shared by REST calls and the streaming client.
 *
 * Logs in per `SALESFORCE_AUTH` through the OAuth token endpoint and keeps the session. `call()` runs a request
 * and, on a 401 / `INVALID_SESSION_ID`, re-authenticates once and runs it once more; concurrent failures share
 * one login. jsforce's own session refresh is deliberately not used: `conn.login()` installs a refresh
 * delegate that re-logs-in and re-sends on every 401 without a bound, and silently falls back to the SOAP
 * login Salesforce is retiring when no client secret is set. The username-password mode therefore calls the
 * same OAuth endpoint `conn.login()` would (`OAuth2.authenticate`), with the security token appended.
 */
export class SalesforceSession {
  readonly connection: Connection;
  private readonly oauth2: OAuth2;
  private readonly listeners = new Set<TokenListener>();
  private login?: Promise<void>;
  private current?: SalesforceIdentity;
  private usage?: ApiUsage;
  /** Without a token store: a rotated refresh token, when Salesforce returns one (kept in memory only). */
  private refreshToken?: string;
  /** The JWT audience Salesforce accepted after refusing the configured one; used for every later login. */
  private jwtAudience?: string;

  constructor(
    readonly settings: SalesforceSettings,
    private readonly logger: SalesforceLogger = SILENT_SALESFORCE_LOGGER,
    private readonly options: SalesforceSessionOptions = {},
  ) {
    // No clientId here on purpose: with one, jsforce installs its own refresh delegate (see the class doc).
    this.connection = new Connection({ loginUrl: settings.loginUrl, version: settings.apiVersion, httpProxy: settings.proxyUrl });
    const auth = settings.auth;
    this.oauth2 = new OAuth2({
      loginUrl: settings.loginUrl,
      httpProxy: settings.proxyUrl,
      // The JWT flow authenticates with the signed assertion alone.
      clientId: auth.mode === 'jwt' ? undefined : auth.clientId,
      clientSecret: auth.mode === 'jwt' ? undefined : auth.clientSecret,
    });
  }

  get mode(): SalesforceSettings['auth']['mode'] {
    return this.settings.auth.mode;
  }

  /** The identity of the current session, once logged in. */
  get identity(): SalesforceIdentity | undefined {
    return this.current;
  }

  get accessToken(): string | undefined {
    return this.connection.accessToken ?? undefined;
  }

  /** The last API usage Salesforce reported (`Sforce-Limit-Info`), if any request answered yet. */
  get apiUsage(): ApiUsage | undefined {
    return this.connection.limitInfo.apiUsage ?? this.usage;
  }

  /** Listens for new access tokens; returns the function that stops listening. */
  onToken(listener: TokenListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Logs in unless a session exists. Bad credentials throw `SalesforceAuthError` (a `ConfigError`: one line,
   * the mode and Salesforce's error code); an unreachable login server throws `RetryableWriteError`.
   */
  async connect(): Promise<SalesforceIdentity> {
    if (this.login) await this.login;
    else if (!this.connection.accessToken || !this.current) await this.startLogin('login');
    return this.current as SalesforceIdentity;
  }

  /**
   * Logs in again (the session expired or was revoked). Concurrent callers share one login; a caller whose
   * `staleToken` was already replaced by someone else's login returns at once.
   */
  async reauthenticate(reason: string, staleToken?: string): Promise<void> {
    if (this.login) return this.login;
    const token = this.connection.accessToken;
    if (staleToken !== undefined && token && token !== staleToken) return;
    return this.startLogin(reason);
  }

  /**
   * Runs one Salesforce call with the session; on an expired session it re-authenticates once and runs the
   * call once more (a 401 means Salesforce did not process the request, so this is safe for a POST too).
   * No other retry happens here: the queue owns retries of writes.
   */
  async call<T>(fn: (conn: Connection) => PromiseLike<T>): Promise<T> {
    await this.connect();
    const token = this.connection.accessToken ?? undefined;
    try {
      return await this.tracked(fn);
    } catch (e) {
      if (!isSessionExpired(e)) throw e;
      this.logger.info('Salesforce session expired or revoked: logging in again', { mode: this.mode });
      await this.reauthenticate('session expired', token);
      return this.tracked(fn);
    }
  }

  private async tracked<T>(fn: (conn: Connection) => PromiseLike<T>): Promise<T> {
    try {
      return await fn(this.connection);
    } finally {
      // A new login resets jsforce's limitInfo: keep the last reading for `salesforce check` and metrics.
      if (this.connection.limitInfo.apiUsage) this.usage = { ...this.connection.limitInfo.apiUsage };
    }
  }

  private startLogin(reason: string): Promise<void> {
    const login = (async () => {
      const res = await this.requestToken();
      const identityUrl = typeof res.id === 'string' ? res.id : '';
      const [organizationId = '', userId = ''] = identityUrl.split('/').slice(-2);
      const instanceUrl = (res.instance_url || (this.settings.auth.mode === 'refresh-token' ? this.settings.auth.instanceUrl : undefined) || this.settings.loginUrl)
        .replace(/\/+$/, '');
      this.connection._establish({ accessToken: res.access_token, instanceUrl, userInfo: { id: userId, organizationId, url: identityUrl } });
      this.current = { userId, organizationId, instanceUrl, identityUrl };
      this.logger.info('logged in to Salesforce', { mode: this.mode, reason, instanceUrl, userId, organizationId });
      for (const listener of this.listeners) {
        try {
          listener({ accessToken: res.access_token, reason });
        } catch (e) {
          this.logger.warn('a token listener failed', { error: salesforceErrorMessage(e) });
        }
      }
    })();
    this.login = login.finally(() => {
      this.login = undefined;
    });
    return this.login;
  }

  /** One token request of the configured flow; errors become `SalesforceAuthError` / `RetryableWriteError`. */
  private async requestToken(): Promise<TokenResponse> {
    const auth = this.settings.auth;
    try {
      switch (auth.mode) {
        case 'password':
          // Salesforce wants the security token appended to the password (untrusted IP ranges).
          return await this.oauth2.authenticate(auth.username, auth.password + (auth.securityToken ?? ''));
        case 'client-credentials':
          return await this.oauth2.requestToken({ grant_type: 'client_credentials' });
        case 'jwt':
          return await this.jwtGrant(auth);
        case 'refresh-token':
          return await this.refreshGrant(auth);
      }
    } catch (e) {
      throw this.loginError(e);
    }
  }

  /**
   * The JWT bearer grant. Salesforce accepts only its generic login host as the audience (or an Experience
   * Cloud site), the sandbox one for sandboxes, and answers `invalid_grant: audience is invalid` otherwise.
   * The settings guess the org's kind from the login URL; a legacy sandbox domain can fool that guess, so a
   * refused generic audience is swapped for the other one, once, and the one that worked is kept.
   */
  private async jwtGrant(auth: JwtAuth): Promise<TokenResponse> {
    const audience = this.jwtAudience ?? auth.audience;
    try {
      return await this.jwtRequest(auth, audience);
    } catch (e) {
      const other = otherGenericAudience(audience);
      if (!other || !isAudienceRefused(e)) throw e;
      const res = await this.jwtRequest(auth, other);
      this.jwtAudience = other;
      this.logger.warn(`Salesforce refused the JWT audience ${audience} and accepted ${other}: set SALESFORCE_JWT_AUDIENCE=${other} to skip the refused attempt`, { mode: this.mode });
      return res;
    }
  }

  private jwtRequest(auth: JwtAuth, audience: string): Promise<TokenResponse> {
    return this.oauth2.requestToken({
      grant_type: JWT_BEARER_GRANT,
      assertion: buildJwtBearerAssertion({ clientId: auth.clientId, username: auth.username, audience, privateKey: auth.privateKey }),
    });
  }

  /**
   * The refresh-token grant. With rotation on, Salesforce answers a new refresh token each time and spends the
   * one used; presenting a spent one again revokes the whole chain. So, with a store, the exchange reads the
   * current token, uses it and stores its successor while holding the lock every replica shares; a token
   * configured after the stored chain began (a new authorization) supersedes the chain.
   */
  private async refreshGrant(auth: RefreshAuth): Promise<TokenResponse> {
    const store = this.options.refreshTokens;
    if (!store) {
      const res = await this.oauth2.refreshToken(this.refreshToken ?? auth.refreshToken);
      if (res.refresh_token) this.refreshToken = res.refresh_token;
      return res;
    }
    const origin = fingerprint(auth.refreshToken);
    return store.withLock(async () => {
      const stored = await store.get();
      const current = stored && stored.origin === origin ? stored.token : auth.refreshToken;
      const res = await this.oauth2.refreshToken(current);
      const next = res.refresh_token || current;
      if (stored?.token !== next && !(await store.compareAndSet(stored?.token, { token: next, origin }))) {
        // Only possible if the lock was lost (a pause longer than its TTL): another holder refreshed meanwhile.
        throw new RetryableWriteError('refresh-token-race', 'the stored Salesforce refresh token changed during a refresh (refresh lock lost); log in again');
      }
      return res;
    });
  }

  private loginError(e: unknown): Error {
    // Already classified (token store: lock wait, race, a token sealed with another SECRETS_KEY).
    if (e instanceof RetryableWriteError || e instanceof ConfigError) return e;
    const code = salesforceErrorCode(e) ?? 'unknown_error';
    const text = this.scrub(salesforceErrorMessage(e));
    if (isNetworkError(e)) {
      // With a proxy, the socket error is usually the proxy's: name it (its credentials redacted).
      const proxy = this.settings.proxyUrl ? ` through the proxy ${redactSalesforceSettings(this.settings).proxyUrl}` : '';
      return new RetryableWriteError('network', `Salesforce login (SALESFORCE_AUTH=${this.mode}) could not reach ${this.settings.loginUrl}${proxy}: ${code}`);
    }
    if (/^ERROR_HTTP_5\d\d$/.test(code)) {
      return new RetryableWriteError('server-error', `Salesforce login (SALESFORCE_AUTH=${this.mode}) failed: ${code}`);
    }
    return new SalesforceAuthError(this.mode, code, code.startsWith('ERROR_HTTP_') ? '' : text);
  }

  /** Salesforce's error descriptions do not echo secrets, but a proxy or a future message might: never pass one on. */
  private scrub(text: string): string {
    const auth = this.settings.auth as Record<string, unknown>;
    let out = text;
    for (const field of ['clientSecret', 'password', 'securityToken', 'refreshToken']) {
      const secret = auth[field];
      if (typeof secret === 'string' && secret.length >= 4) out = out.split(secret).join('***');
    }
    return out;
  }
}

/** The other generic login host audience (production ↔ sandbox); undefined for anything else (a site URL). */
function otherGenericAudience(audience: string): string | undefined {
  const normalized = audience.replace(/\/+$/, '').toLowerCase();
  if (normalized === JWT_AUDIENCES.production) return JWT_AUDIENCES.sandbox;
  if (normalized === JWT_AUDIENCES.sandbox) return JWT_AUDIENCES.production;
  return undefined;
}

function isAudienceRefused(e: unknown): boolean {
  return salesforceErrorCode(e) === 'invalid_grant' && /audience is invalid/i.test(salesforceErrorMessage(e));
}

/** Names the configured refresh token without revealing it (stored next to the sealed current token). */
function fingerprint(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}
