import { ConfigError } from '@presence-sync/domain';
import { HttpExchange, HttpNoAnswer, type HttpAnswer } from '@presence-sync/http-client';

/** Options of {@link CxoneApiClient}. */
export interface CxoneApiClientOptions {
  /** The CXone issuer host, e.g. `https://cxone.niceincontact.com`: token endpoint and API base are discovered from it. */
  authUrl: string;
  clientId: string;
  clientSecret: string;
  accessKeyId: string;
  accessKeySecret: string;
  /** The tenant whose API base is discovered; default: the `tenantId` claim of the access token. */
  tenantId?: string;
  /** Skips discovery of the API base, e.g. `https://api-na1.niceincontact.com`. */
  apiBaseUrl?: string;
  /** The ACD API version in paths, `v34.0`. */
  apiVersion: string;
  /** Limit per HTTP request (connect, headers and body), ms. */
  timeoutMs: number;
  /** A token is renewed this long before it expires, ms. Default 300000 (5 min). */
  renewBeforeMs?: number;
  now?: () => number;
}

/** A request that got no complete HTTP answer. */
export class NoAnswer extends Error {
  constructor(readonly kind: 'network' | 'timeout', readonly detail: string) {
    super(detail);
  }
}

/**
 * The token endpoint or discovery refused us or failed. `credentials`: CXone refused the client or the access key
 * (retrying cannot help); otherwise the failure is passing (5xx, 429, network).
 */
export class CxoneAuthError extends Error {
  constructor(message: string, readonly credentials: boolean, readonly httpStatus?: number, readonly kind?: 'network' | 'timeout') {
    super(message);
    this.name = 'CxoneAuthError';
  }
}

/** An HTTP answer of CXone: status, a header by name, the body as text. */
export type CxoneAnswer = HttpAnswer;

interface Token {
  value: string;
  expiresAt: number;
}

export const DEFAULT_RENEW_BEFORE_MS = 5 * 60_000;
const SNIPPET_LENGTH = 200;

/** The `tenantId` claim of a JWT access token; only read for routing (discovery), never trusted for anything else. */
export function tenantIdOfToken(token: string): string | undefined {
  const payload = token.split('.')[1];
  if (!payload) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
    const tenant = claims.tenantId ?? claims.tenant_id;
    return typeof tenant === 'string' && tenant.trim() ? tenant.trim() : undefined;
  } catch {
    return undefined;
  }
}

/**
 * CXone's HTTP transport for the connector: OAuth 2.0 password grant with the API user's access key (client
 * authenticated with HTTP Basic), the token cached and renewed before it expires, the token endpoint from the
 * issuer's OpenID discovery document and the tenant's API base from `/.well-known/cxone-configuration`.
 *
 * No refresh token is kept: a new password grant is as cheap as a refresh and needs nothing shared between
 * restarts or replicas. Secrets go out in the token request's header and form only; no error message holds
 * them or a token (vendor text in errors is cut and scrubbed).
 */
export class CxoneApiClient {
  private readonly authUrl: string;
  private readonly renewBeforeMs: number;
  private readonly now: () => number;
  private token?: Token;
  private tokenRequest?: Promise<Token>;
  private tokenEndpoint?: string;
  private apiRoot?: string;
  private discovering?: Promise<string>;
  /** Kept-alive connections per origin (the issuer, the tenant's API base). */
  private readonly pools = new Map<string, HttpExchange>();
  /** Token requests made (tests and the cost figures read it). */
  tokenRequests = 0;

  constructor(private readonly options: CxoneApiClientOptions) {
    this.authUrl = options.authUrl.replace(/\/+$/, '');
    this.renewBeforeMs = options.renewBeforeMs ?? DEFAULT_RENEW_BEFORE_MS;
    this.now = options.now ?? Date.now;
    for (const [name, value] of [['authUrl', options.authUrl], ['apiBaseUrl', options.apiBaseUrl]] as const) {
      if (value === undefined) continue;
      let url: URL;
      try {
        url = new URL(value);
      } catch {
        throw new ConfigError(`CXone ${name} is not a valid URL: ${JSON.stringify(value)}`);
      }
      if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new ConfigError(`CXone ${name} must be https://, got ${url.protocol}`);
      if (url.username || url.password) throw new ConfigError(`CXone ${name} must not hold credentials`);
    }
    if (!/^v\d+\.\d+$/.test(options.apiVersion)) throw new ConfigError(`CXone apiVersion must look like v34.0, got ${JSON.stringify(options.apiVersion)}`);
  }

  /** `{api base}/inContactAPI/services/{version}`, discovering the API base on first use. */
  async servicesRoot(): Promise<string> {
    return `${await this.apiBase()}/inContactAPI/services/${this.options.apiVersion}`;
  }

  /** Gets a token and the API base now, so bad credentials or a wrong tenant stop the boot. */
  async connect(): Promise<void> {
    await this.accessToken();
    await this.apiBase();
  }

  /** Forgets the cached token: the next call gets a new one. */
  dropToken(): void {
    this.token = undefined;
  }

  /**
   * One call to the ACD API: `path` below the services root (`/agents/states?…`). A 401 gets a new token and is
   * sent once more. Throws `NoAnswer` (network, timeout) or `CxoneAuthError` (the token could not be had).
   */
  async call(method: 'GET' | 'POST', path: string, body?: unknown): Promise<CxoneAnswer> {
    const root = await this.servicesRoot();
    let token = await this.accessToken();
    let answer = await this.send(method, `${root}${path}`, token.value, body);
    if (answer.status === 401) {
      if (this.token === token) this.token = undefined;
      token = await this.accessToken();
      answer = await this.send(method, `${root}${path}`, token.value, body);
    }
    return answer;
  }

  /** A short, single-line excerpt of a vendor body for an error message, with anything token-like removed. */
  snippet(text: string): string {
    const flat = text.replace(/\s+/g, ' ').trim();
    const scrubbed = this.scrub(flat);
    return scrubbed.length > SNIPPET_LENGTH ? `${scrubbed.slice(0, SNIPPET_LENGTH)}…` : scrubbed;
  }

  private scrub(text: string): string {
    let out = text.replace(/eyJ[\w-]+\.[\w-]+\.[\w-]*/g, '***');
    for (const secret of [this.options.clientSecret, this.options.accessKeySecret, this.token?.value]) {
      if (secret && secret.length >= 4) out = out.split(secret).join('***');
    }
    return out;
  }

  private async send(method: 'GET' | 'POST', url: string, bearer: string, body?: unknown): Promise<CxoneAnswer> {
    const headers: Record<string, string> = { Accept: 'application/json', Authorization: `Bearer ${bearer}`, 'User-Agent': 'presence-sync' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    return this.fetchText(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  }

  /** Closes the pooled connections (at stop). */
  close(): void {
    for (const pool of this.pools.values()) pool.close();
    this.pools.clear();
  }

  /**
   * One exchange over the kept-alive pool of the URL's origin (about a quarter of the CPU of the global `fetch`
   * per call). Redirects are not followed: a redirected call could carry the bearer token to another host.
   */
  private async fetchText(url: string, init: { method: string; headers: Record<string, string>; body?: string }): Promise<CxoneAnswer> {
    const target = new URL(url);
    let pool = this.pools.get(target.origin);
    if (!pool) {
      pool = new HttpExchange(new URL(target.origin), { timeoutMs: this.options.timeoutMs });
      this.pools.set(target.origin, pool);
    }
    try {
      return await pool.send(init.method, `${target.pathname}${target.search}`, init.headers, init.body);
    } catch (error) {
      if (!(error instanceof HttpNoAnswer)) throw error;
      throw new NoAnswer(error.kind === 'timeout' ? 'timeout' : 'network', this.scrub(error.detail));
    }
  }

  private async accessToken(): Promise<Token> {
    const cached = this.token;
    if (cached && cached.expiresAt - this.renewBeforeMs > this.now()) return cached;
    // One token request at a time: concurrent callers share it.
    this.tokenRequest ??= this.requestToken().finally(() => {
      this.tokenRequest = undefined;
    });
    const token = await this.tokenRequest;
    this.token = token;
    return token;
  }

  private async requestToken(): Promise<Token> {
    const endpoint = await this.discoverTokenEndpoint();
    const form = new URLSearchParams({ grant_type: 'password', username: this.options.accessKeyId, password: this.options.accessKeySecret });
    const basic = Buffer.from(`${this.options.clientId}:${this.options.clientSecret}`).toString('base64');
    this.tokenRequests++;
    let answer: CxoneAnswer;
    try {
      answer = await this.fetchText(endpoint, {
        method: 'POST',
        headers: { Accept: 'application/json', 'Content-Type': 'application/x-www-form-urlencoded', Authorization: `Basic ${basic}`, 'User-Agent': 'presence-sync' },
        body: form.toString(),
      });
    } catch (error) {
      if (error instanceof NoAnswer) throw new CxoneAuthError(`CXone token request: ${error.detail}`, false, undefined, error.kind);
      throw error;
    }
    const body = parseJson(answer.text) as Record<string, unknown> | undefined;
    if (answer.status === 200 && body && typeof body.access_token === 'string' && body.access_token) {
      const expiresIn = Number(body.expires_in);
      // CXone's tokens last an hour; a missing lifetime is taken as that.
      const lifetimeMs = (Number.isFinite(expiresIn) && expiresIn > 0 ? expiresIn : 3600) * 1000;
      return { value: body.access_token, expiresAt: this.now() + lifetimeMs };
    }
    const oauthError = body && typeof body.error === 'string' ? body.error : undefined;
    const credentials = answer.status === 400 || answer.status === 401 || answer.status === 403;
    const hint = oauthError === 'invalid_client' || answer.status === 401
      ? 'check CXONE_CLIENT_ID and CXONE_CLIENT_SECRET'
      : 'check CXONE_ACCESS_KEY_ID and CXONE_ACCESS_KEY_SECRET (and that the API user is active)';
    const vendor = this.snippet(answer.text);
    throw new CxoneAuthError(
      `CXone token request: HTTP ${answer.status}${oauthError ? ` ${oauthError}` : ''}${credentials ? `; ${hint}` : ''}${vendor ? `: ${vendor}` : ''}`,
      credentials, answer.status,
    );
  }

  private async discoverTokenEndpoint(): Promise<string> {
    if (this.tokenEndpoint) return this.tokenEndpoint;
    const doc = await this.discoveryDocument(`${this.authUrl}/.well-known/openid-configuration`, 'CXONE_AUTH_URL');
    const endpoint = doc.token_endpoint;
    if (typeof endpoint !== 'string' || !/^https?:\/\//.test(endpoint)) {
      throw new CxoneAuthError('CXone discovery: the OpenID configuration names no token_endpoint; check CXONE_AUTH_URL', true);
    }
    this.tokenEndpoint = endpoint;
    return endpoint;
  }

  private async apiBase(): Promise<string> {
    if (this.apiRoot) return this.apiRoot;
    if (this.options.apiBaseUrl) {
      this.apiRoot = this.options.apiBaseUrl.replace(/\/+$/, '');
      return this.apiRoot;
    }
    this.discovering ??= this.discoverApiBase().finally(() => {
      this.discovering = undefined;
    });
    this.apiRoot = await this.discovering;
    return this.apiRoot;
  }

  private async discoverApiBase(): Promise<string> {
    let tenantId = this.options.tenantId;
    if (!tenantId) {
      tenantId = tenantIdOfToken((await this.accessToken()).value);
      if (!tenantId) throw new CxoneAuthError('CXone discovery: the access token carries no tenantId; set CXONE_TENANT_ID or CXONE_API_BASE_URL', true);
    }
    const doc = await this.discoveryDocument(
      `${this.authUrl}/.well-known/cxone-configuration?tenantId=${encodeURIComponent(tenantId)}`, 'CXONE_TENANT_ID',
    );
    let base = typeof doc.api_endpoint === 'string' ? doc.api_endpoint : undefined;
    // Older discovery documents give the area and domain only; the API host is then api-{area}.{domain}.
    if (!base && typeof doc.area === 'string' && typeof doc.domain === 'string') base = `https://api-${doc.area}.${doc.domain}`;
    if (!base || !/^https?:\/\//.test(base)) {
      throw new CxoneAuthError('CXone discovery: the tenant configuration names no api_endpoint; set CXONE_API_BASE_URL', true);
    }
    return base.replace(/\/+$/, '');
  }

  private async discoveryDocument(url: string, setting: string): Promise<Record<string, unknown>> {
    let answer: CxoneAnswer;
    try {
      answer = await this.fetchText(url, { method: 'GET', headers: { Accept: 'application/json', 'User-Agent': 'presence-sync' } });
    } catch (error) {
      if (error instanceof NoAnswer) throw new CxoneAuthError(`CXone discovery ${new URL(url).pathname}: ${error.detail}`, false, undefined, error.kind);
      throw error;
    }
    const body = parseJson(answer.text);
    if (answer.status === 200 && body && typeof body === 'object' && !Array.isArray(body)) return body as Record<string, unknown>;
    const permanent = answer.status >= 400 && answer.status < 500 && answer.status !== 429;
    throw new CxoneAuthError(`CXone discovery ${new URL(url).pathname}: HTTP ${answer.status}${permanent ? `; check ${setting}` : ''}`, permanent, answer.status);
  }
}

export function parseJson(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
