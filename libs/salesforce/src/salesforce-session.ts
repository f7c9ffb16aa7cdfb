import { redactSalesforceSettings, type SalesforceSettings } from '@presence-sync/config';
import { RetryableWriteError } from '@presence-sync/domain';
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
  /** A rotated refresh token, when Salesforce returns one (kept in memory only). */
  private refreshToken?: string;

  constructor(
    readonly settings: SalesforceSettings,
    private readonly logger: SalesforceLogger = SILENT_SALESFORCE_LOGGER,
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
      if (res.refresh_token) this.refreshToken = res.refresh_token;
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
          return await this.oauth2.requestToken({
            grant_type: JWT_BEARER_GRANT,
            assertion: buildJwtBearerAssertion({ clientId: auth.clientId, username: auth.username, audience: auth.audience, privateKey: auth.privateKey }),
          });
        case 'refresh-token':
          return await this.oauth2.refreshToken(this.refreshToken ?? auth.refreshToken);
      }
    } catch (e) {
      throw this.loginError(e);
    }
  }

  private loginError(e: unknown): Error {
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
