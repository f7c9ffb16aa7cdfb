import { createHash } from 'node:crypto';
import { PresenceSyncError, RetryableWriteError, type RefreshTokenStore } from '@presence-sync/domain';

/** Options of {@link WebexTokenSource}. */
export interface WebexTokenSourceOptions {
  /** Webex's OAuth token endpoint, e.g. `https://webexapis.com/v1/access_token`. */
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  /** The refresh token the admin configured (WEBEX_REFRESH_TOKEN): the start of the chain. */
  refreshToken: string;
  /**
   * Where the current refresh token is kept for every replica and across restarts (Redis in the daemon). Without
   * one (the CLI), the configured token is used and any successor lives in this process only.
   */
  store?: RefreshTokenStore;
  /** Per token request, ms. */
  timeoutMs: number;
  /** An access token is renewed this long before Webex says it expires, ms. Default 5 minutes. */
  renewBeforeMs?: number;
  now?: () => number;
}

/** The token endpoint refused us: `permanent` when only a new authorization (or setting) can help. */
export class WebexAuthError extends PresenceSyncError {
  constructor(readonly permanent: boolean, message: string, readonly httpStatus?: number) {
    super(message);
  }
}

interface TokenAnswer {
  access_token?: unknown;
  expires_in?: unknown;
  refresh_token?: unknown;
}

/** A short, stable fingerprint of a configured refresh token: tells a newly configured token from the stored chain. */
export function refreshTokenOrigin(token: string): string {
  return createHash('sha256').update(`presence-sync:webex-refresh-token:${token}`).digest('base64url').slice(0, 22);
}

/**
 * Access tokens for the Webex APIs, from the OAuth refresh-token grant of the admin's integration. One refresh at a
 * time per process (single flight) and, with a store, per deployment (the store's lock): Webex documents no
 * refresh-token rotation, but it answers each refresh with a refresh token and says nothing of the old one, so the
 * answer is always kept and the next refresh, in any replica, starts from it.
 */
export class WebexTokenSource {
  private access?: { token: string; expiresAt: number };
  /** Without a store: the latest refresh token of this process. */
  private chain?: string;
  private inFlight?: Promise<string>;
  private readonly now: () => number;
  private readonly renewBeforeMs: number;
  private readonly origin: string;

  constructor(private readonly options: WebexTokenSourceOptions) {
    this.now = options.now ?? Date.now;
    this.renewBeforeMs = options.renewBeforeMs ?? 5 * 60_000;
    this.origin = refreshTokenOrigin(options.refreshToken);
  }

  /** A valid access token, refreshing when there is none or it is about to expire. */
  async token(): Promise<string> {
    if (this.access && this.access.expiresAt - this.renewBeforeMs > this.now()) return this.access.token;
    return this.refresh();
  }

  /** Webex refused `token` (401): forget it, so the next `token()` refreshes. */
  invalidate(token: string): void {
    if (this.access?.token === token) this.access = undefined;
  }

  /** The secrets this source holds, for redaction. */
  secrets(): string[] {
    return [this.options.clientSecret, this.options.refreshToken, this.chain, this.access?.token].filter((s): s is string => !!s);
  }

  private refresh(): Promise<string> {
    this.inFlight ??= this.exchange().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async exchange(): Promise<string> {
    const store = this.options.store;
    if (!store) {
      const answer = await this.grant(this.chain ?? this.options.refreshToken);
      if (answer.refreshToken) this.chain = answer.refreshToken;
      return this.keep(answer);
    }
    return store.withLock(async () => {
      const stored = await store.get();
      const current = stored && stored.origin === this.origin ? stored.token : this.options.refreshToken;
      const answer = await this.grant(current);
      const next = answer.refreshToken ?? current;
      if (stored?.token !== next && !(await store.compareAndSet(stored?.token, { token: next, origin: this.origin }))) {
        throw new RetryableWriteError('refresh-token-race', 'the stored Webex refresh token changed during a refresh (refresh lock lost); trying again');
      }
      return this.keep(answer);
    });
  }

  private keep(answer: { accessToken: string; expiresInSec: number }): string {
    this.access = { token: answer.accessToken, expiresAt: this.now() + answer.expiresInSec * 1000 };
    return answer.accessToken;
  }

  private async grant(current: string): Promise<{ accessToken: string; expiresInSec: number; refreshToken?: string }> {
    const form = new URLSearchParams({
      grant_type: 'refresh_token', client_id: this.options.clientId, client_secret: this.options.clientSecret, refresh_token: current,
    });
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.options.timeoutMs);
    let status: number;
    let text: string;
    try {
      const res = await fetch(this.options.tokenUrl, {
        method: 'POST', body: form.toString(), redirect: 'manual', signal: controller.signal,
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json', 'User-Agent': 'presence-sync' },
      });
      status = res.status;
      text = await res.text();
    } catch {
      const what = controller.signal.aborted ? `no answer within ${this.options.timeoutMs} ms` : 'could not connect';
      throw new WebexAuthError(false, `Webex token endpoint ${new URL(this.options.tokenUrl).host}: ${what}`);
    } finally {
      clearTimeout(timer);
    }
    if (status >= 500 || status === 429 || status === 408) throw new WebexAuthError(false, `Webex token endpoint answered HTTP ${status}`, status);
    let body: TokenAnswer | undefined;
    try {
      body = JSON.parse(text) as TokenAnswer;
    } catch {
      body = undefined;
    }
    if (status !== 200 || !body || typeof body.access_token !== 'string' || body.access_token === '') {
      // Webex's OAuth errors name the grant problem (invalid_grant, invalid_client); they never echo our secrets, but only the error code is kept.
      const code = body && typeof (body as Record<string, unknown>).error === 'string' ? `: ${String((body as Record<string, unknown>).error).slice(0, 60)}` : '';
      throw new WebexAuthError(
        true,
        `Webex refused the refresh token (HTTP ${status}${code}); check WEBEX_CLIENT_ID / WEBEX_CLIENT_SECRET, or authorize the integration again and set WEBEX_REFRESH_TOKEN`,
        status,
      );
    }
    const expiresIn = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : 3600;
    const refreshToken = typeof body.refresh_token === 'string' && body.refresh_token !== '' ? body.refresh_token : undefined;
    return { accessToken: body.access_token, expiresInSec: expiresIn, refreshToken };
  }
}
