import { createHmac, createPublicKey, randomBytes, verify, type KeyObject } from 'node:crypto';
import type { EmulatorOrg } from './emulator-org.store';
import type { SObjectRecord } from './sobject.schema';
import type { SalesforceEmulatorJwtOptions } from './salesforce-emulator.types';

export const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

/** An issued access token (or an emulated console's session). */
export interface EmulatorSession {
  token: string;
  userId: string;
  kind: 'access' | 'console';
  issuedAt: number;
  /**
   * The refresh-token chain it was obtained from, if any: the first refresh token of the grant and every one
   * rotation put in its place. Revoking the chain (or reusing a rotated-out token) revokes this session.
   */
  chain?: string;
  revoked: boolean;
}

export interface OAuthAnswer {
  status: number;
  body: Record<string, unknown> | null;
}

export type SessionCheck = { ok: true; session: EmulatorSession } | { ok: false; reason: 'missing' | 'invalid' };

export interface EmulatorOAuthOptions {
  org: EmulatorOrg;
  clientId: string;
  clientSecret: string;
  jwt?: SalesforceEmulatorJwtOptions;
  refreshTokens: Record<string, string>;
  clientCredentialsUser?: string;
  /** Production orgs accept `https://login.salesforce.com` as JWT audience, sandboxes `https://test.salesforce.com`. */
  sandbox: boolean;
  /** Experience Cloud site URLs, also accepted as JWT audience. */
  experienceSiteUrls: string[];
  /** Host names playing login.salesforce.com / test.salesforce.com (see `SalesforceEmulatorOptions.loginHosts`). */
  loginHosts: string[];
  refreshTokenRotation: boolean;
  sessionTtlMs?: number;
  now: () => number;
  /** The emulator's base URL (instance URL and login URL at once). */
  baseUrl: () => string;
}

/** The token endpoint's error body: `{ error, error_description }` with HTTP 400 (RFC 6749 §5.2, as Salesforce answers). */
function oauthError(error: string, description: string, status = 400): OAuthAnswer {
  return { status, body: { error, error_description: description } };
}

function base64UrlJson(part: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The org's OAuth 2.0 authorization server: `POST /services/oauth2/token` with the username-password,
 * refresh-token, client-credentials and JWT bearer grants, `POST /services/oauth2/revoke`, and the
 * sessions behind every access token (checked by REST and CometD).
 */
export class EmulatorOAuth {
  private readonly sessions = new Map<string, EmulatorSession>();
  /** Valid refresh tokens → their user and chain; revoked and rotated-out ones are removed. */
  private readonly refreshTokens = new Map<string, { userId: string; chain: string }>();
  /** Refresh tokens rotation replaced → their chain: presenting one again is a reuse, which revokes the chain. */
  private readonly rotatedOut = new Map<string, string>();
  private readonly jwtKey?: KeyObject;

  constructor(private readonly options: EmulatorOAuthOptions) {
    for (const [token, ref] of Object.entries(options.refreshTokens)) {
      const user = options.org.resolveUser(ref);
      if (!user) throw new Error(`SalesforceEmulator: refresh token for unknown user ${ref}`);
      this.refreshTokens.set(token, { userId: user.Id as string, chain: token });
    }
    if (options.jwt) this.jwtKey = createPublicKey(options.jwt.publicKeyPem);
  }

  private newToken(): string {
    // Salesforce access tokens are `<org id>!<opaque>`; clients must treat them as opaque.
    return `${this.options.org.orgId.slice(0, 15)}!${randomBytes(36).toString('base64url')}`;
  }

  private issue(user: SObjectRecord, kind: EmulatorSession['kind'], chain?: string): EmulatorSession {
    const session: EmulatorSession = {
      token: this.newToken(), userId: user.Id as string, kind, issuedAt: this.options.now(), revoked: false,
      ...(chain !== undefined ? { chain } : {}),
    };
    this.sessions.set(session.token, session);
    return session;
  }

  private success(user: SObjectRecord, extra: Record<string, string> = {}, chain?: string): OAuthAnswer {
    const session = this.issue(user, 'access', chain);
    const baseUrl = this.options.baseUrl();
    const id = `${baseUrl}/id/${this.options.org.orgId}/${String(user.Id)}`;
    const issuedAt = String(session.issuedAt);
    // Salesforce signs `id + issued_at` with the consumer secret (HMAC-SHA256, base64) so clients can check the id URL.
    const signature = createHmac('sha256', this.options.clientSecret).update(id + issuedAt).digest('base64');
    return {
      status: 200,
      body: { access_token: session.token, signature, scope: 'api', instance_url: baseUrl, id, token_type: 'Bearer', issued_at: issuedAt, ...extra },
    };
  }

  private activeUser(user: SObjectRecord | undefined): user is SObjectRecord {
    return user !== undefined && user.IsActive === true;
  }

  /** Client authentication: `client_id` (+ `client_secret`) in the form, or HTTP Basic. */
  private client(form: URLSearchParams, authorization: string | undefined, secretRequired: boolean): OAuthAnswer | undefined {
    let clientId = form.get('client_id');
    let clientSecret = form.get('client_secret');
    const basic = /^Basic\s+(.+)$/i.exec(authorization ?? '');
    if (basic) {
      const [id, ...secret] = Buffer.from(basic[1], 'base64').toString('utf8').split(':');
      clientId = decodeURIComponent(id);
      clientSecret = decodeURIComponent(secret.join(':'));
    }
    if (clientId !== this.options.clientId) return oauthError('invalid_client_id', 'client identifier invalid');
    if (clientSecret === null ? secretRequired : clientSecret !== this.options.clientSecret) {
      return oauthError('invalid_client', 'invalid client credentials');
    }
    return undefined;
  }

  /**
   * `POST /services/oauth2/token` (form-encoded). `host` is the request's `Host`: one of `loginHosts` plays
   * login.salesforce.com / test.salesforce.com, anything else the org's My Domain.
   */
  token(form: URLSearchParams, authorization: string | undefined, host?: string): OAuthAnswer {
    switch (form.get('grant_type')) {
      case 'password':
        return this.passwordGrant(form, authorization);
      case 'refresh_token':
        return this.refreshGrant(form, authorization);
      case 'client_credentials':
        // Salesforce serves this flow on the org's My Domain only; the generic login hosts refuse it outright.
        if (this.isLoginHost(host)) return oauthError('invalid_grant', 'request not supported on this domain');
        return this.clientCredentialsGrant(form, authorization);
      case JWT_BEARER_GRANT:
        return this.jwtGrant(form);
      default:
        return oauthError('unsupported_grant_type', 'grant type not supported');
    }
  }

  private passwordGrant(form: URLSearchParams, authorization: string | undefined): OAuthAnswer {
    const denied = this.client(form, authorization, true);
    if (denied) return denied;
    const user = this.options.org.resolveUser(form.get('username') ?? '');
    const secrets = user && this.options.org.secretsOf(user.Id as string);
    // From an untrusted network Salesforce wants the security token appended to the password.
    const expected = secrets?.password !== undefined ? secrets.password + (secrets.securityToken ?? '') : undefined;
    if (!this.activeUser(user) || expected === undefined || form.get('password') !== expected || String(user.Username).toLowerCase() !== (form.get('username') ?? '').toLowerCase()) {
      return oauthError('invalid_grant', 'authentication failure');
    }
    return this.success(user);
  }

  private refreshGrant(form: URLSearchParams, authorization: string | undefined): OAuthAnswer {
    // The secret is optional for this grant unless the connected app requires it; a wrong one still fails.
    const denied = this.client(form, authorization, false);
    if (denied) return denied;
    const refreshToken = form.get('refresh_token') ?? '';
    const reusedChain = this.rotatedOut.get(refreshToken);
    if (reusedChain !== undefined) {
      // Salesforce treats the reuse of a rotated-out token as theft: the current token of the chain and every
      // access token issued along it are revoked, and the client must go through a new authorization.
      this.revokeChain(reusedChain);
      return oauthError('invalid_grant', 'expired access/refresh token');
    }
    const grant = this.refreshTokens.get(refreshToken);
    const user = grant !== undefined ? this.options.org.userById(grant.userId) : undefined;
    if (!grant || !this.activeUser(user)) return oauthError('invalid_grant', 'expired access/refresh token');
    if (!this.options.refreshTokenRotation) return this.success(user, {}, grant.chain);
    // Rotation: the answer carries the next refresh token and the one just used becomes single-use spent.
    const next = this.newRefreshToken();
    this.refreshTokens.delete(refreshToken);
    this.rotatedOut.set(refreshToken, grant.chain);
    this.refreshTokens.set(next, grant);
    return this.success(user, { refresh_token: next }, grant.chain);
  }

  private isLoginHost(host: string | undefined): boolean {
    const name = (host ?? '').replace(/:\d+$/, '').toLowerCase();
    return this.options.loginHosts.some((h) => h.toLowerCase() === name);
  }

  /** Revokes the valid refresh token of a chain and every session issued from it (rotated-out ones stay spent). */
  private revokeChain(chain: string): void {
    for (const [token, grant] of this.refreshTokens) if (grant.chain === chain) this.refreshTokens.delete(token);
    for (const s of this.sessions.values()) if (s.chain === chain) s.revoked = true;
  }

  private newRefreshToken(): string {
    return `5Aep${randomBytes(40).toString('base64url')}`;
  }

  private clientCredentialsGrant(form: URLSearchParams, authorization: string | undefined): OAuthAnswer {
    const denied = this.client(form, authorization, true);
    if (denied) return denied;
    const ref = this.options.clientCredentialsUser;
    const user = ref !== undefined ? this.options.org.resolveUser(ref) : undefined;
    if (!this.activeUser(user)) return oauthError('invalid_grant', 'no client credentials user enabled');
    return this.success(user);
  }

  private jwtGrant(form: URLSearchParams): OAuthAnswer {
    if (!this.options.jwt || !this.jwtKey) return oauthError('invalid_client_id', 'client identifier invalid');
    const parts = (form.get('assertion') ?? '').split('.');
    const header = parts.length === 3 ? base64UrlJson(parts[0]) : undefined;
    const claims = parts.length === 3 ? base64UrlJson(parts[1]) : undefined;
    if (!header || !claims || header.alg !== 'RS256') return oauthError('invalid_grant', 'invalid assertion');
    const signed = verify('RSA-SHA256', Buffer.from(`${parts[0]}.${parts[1]}`), this.jwtKey, Buffer.from(parts[2], 'base64url'));
    if (!signed) return oauthError('invalid_grant', 'invalid assertion');
    if (claims.iss !== this.options.jwt.consumerKey) return oauthError('invalid_client_id', 'client identifier invalid');
    // Salesforce accepts the generic login host of the org's kind or an Experience Cloud site as the audience,
    // never the My Domain URL the assertion is posted to (the emulator's own base URL plays that My Domain).
    const audiences = [this.options.sandbox ? 'https://test.salesforce.com' : 'https://login.salesforce.com', ...this.options.experienceSiteUrls]
      .map((a) => a.replace(/\/+$/, ''));
    const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (!aud.some((a) => typeof a === 'string' && audiences.includes(a.replace(/\/+$/, '')))) return oauthError('invalid_grant', 'audience is invalid');
    if (typeof claims.exp !== 'number' || claims.exp * 1000 <= this.options.now()) return oauthError('invalid_grant', 'expired authorization code');
    const user = typeof claims.sub === 'string' ? this.options.org.resolveUser(claims.sub) : undefined;
    const approved = user ? this.options.org.secretsOf(user.Id as string)?.approved === true : false;
    if (!this.activeUser(user) || !approved || String(user.Username).toLowerCase() !== String(claims.sub).toLowerCase()) {
      return oauthError('invalid_grant', "user hasn't approved this consumer");
    }
    return this.success(user);
  }

  /** `POST /services/oauth2/revoke`: an access token, or a refresh token and every access token issued from it. */
  revoke(token: string): OAuthAnswer {
    const session = this.sessions.get(token);
    if (session && !session.revoked) {
      session.revoked = true;
      return { status: 200, body: null };
    }
    const grant = this.refreshTokens.get(token);
    if (grant) {
      this.revokeChain(grant.chain);
      return { status: 200, body: null };
    }
    return oauthError('invalid_token', 'Token was invalid');
  }

  /** Revokes every token of one user, or of everyone; returns the revoked access tokens. */
  revokeUser(userId: string | 'all'): string[] {
    const revoked: string[] = [];
    for (const s of this.sessions.values()) {
      if (s.revoked || (userId !== 'all' && s.userId !== userId)) continue;
      s.revoked = true;
      revoked.push(s.token);
    }
    for (const [token, grant] of this.refreshTokens) if (userId === 'all' || grant.userId === userId) this.refreshTokens.delete(token);
    return revoked;
  }

  /** Checks `Authorization: Bearer|OAuth <token>` (Salesforce accepts both schemes). */
  check(authorization: string | undefined): SessionCheck {
    const match = /^(?:Bearer|OAuth)\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (!match) return { ok: false, reason: 'missing' };
    const session = this.sessions.get(match[1]);
    if (!session || session.revoked) return { ok: false, reason: 'invalid' };
    const ttl = this.options.sessionTtlMs;
    if (ttl !== undefined && session.kind === 'access' && this.options.now() - session.issuedAt >= ttl) return { ok: false, reason: 'invalid' };
    const user = this.options.org.userById(session.userId);
    if (!user || user.IsActive !== true) return { ok: false, reason: 'invalid' };
    return { ok: true, session };
  }

  /** The session an emulated console runs on (the agent is logged in to Lightning). */
  issueConsoleSession(userId: string): string {
    const user = this.options.org.userById(userId);
    if (!user) throw new Error(`SalesforceEmulator: no user ${userId}`);
    return this.issue(user, 'console').token;
  }

  /** A refresh token for a user, as if the user had gone through the web-server flow. */
  issueRefreshToken(userId: string): string {
    const token = this.newRefreshToken();
    this.refreshTokens.set(token, { userId, chain: token });
    return token;
  }
}
