import { HttpExchange, HttpNoAnswer, type HttpAnswer } from '@presence-sync/http-client';
import { WebexAuthError, type WebexTokenSource } from './webex-token.source';

/** An HTTP answer of the Webex API: status, a header by name, the body as text. */
export type WebexAnswer = HttpAnswer;

/** A request that got no complete HTTP answer. */
export class NoAnswer extends Error {
  constructor(readonly kind: 'network' | 'timeout', readonly detail: string) {
    super(detail);
  }
}

export const DEFAULT_RETRY_AFTER_MS = 1_000;
export const MAX_RETRY_AFTER_MS = 10 * 60_000;

/** `Retry-After` (seconds, as Webex sends it, or an HTTP-date) as ms; default 1 s, at most 10 min. */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number {
  const text = value?.trim();
  if (!text) return DEFAULT_RETRY_AFTER_MS;
  let ms: number;
  if (/^\d+(\.\d+)?$/.test(text)) ms = Math.ceil(Number(text) * 1000);
  else {
    const at = /[a-z]/i.test(text) ? Date.parse(text) : Number.NaN;
    if (Number.isNaN(at)) return DEFAULT_RETRY_AFTER_MS;
    ms = at - nowMs;
  }
  return Math.min(Math.max(ms, 0), MAX_RETRY_AFTER_MS);
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * What Webex said in an error body, one line: the `ErrorResult` / `ApiErrorResponse` descriptions
 * (`error.message[].description`), else `error.reason` or a plain `message`; secrets cut out.
 */
export function vendorText(text: string, secrets: readonly string[]): string {
  const body = parseJson(text) as Record<string, unknown> | undefined;
  let piece = text;
  if (body && typeof body === 'object') {
    const error = body.error as Record<string, unknown> | undefined;
    const messages = Array.isArray(error?.message) ? (error.message as unknown[]) : [];
    const said = [
      ...messages.map((m) => (m && typeof m === 'object' ? (m as Record<string, unknown>).description : undefined)),
      error?.reason, body.message, typeof body.error === 'string' ? body.error : undefined,
    ].filter((v): v is string => typeof v === 'string' && v !== '');
    if (said.length > 0) piece = [...new Set(said)].join('; ');
  }
  for (const secret of secrets) if (secret.length >= 4) piece = piece.split(secret).join('[redacted]');
  piece = piece.replace(/\s+/g, ' ').trim();
  return piece.length > 200 ? `${piece.slice(0, 200)}…` : piece;
}

/** Options of {@link WebexApiClient}. */
export interface WebexApiClientOptions {
  /** The org's Contact Center API root, e.g. `https://api.wxcc-us1.cisco.com`. No trailing slash. */
  baseUrl: string;
  tokens: WebexTokenSource;
  /** Per request, ms. */
  timeoutMs: number;
}

/**
 * One HTTP call to the Contact Center API with the integration's bearer token. A 401 means the access token was
 * revoked or expired early: it is dropped, a new one is fetched, and the call is sent once more.
 * Redirects are not followed (a redirected call could carry the token elsewhere). Calls go over a pool of
 * kept-alive connections (`HttpExchange`: about a quarter of the CPU of the global `fetch` per call), closed by
 * `close()`.
 */
export class WebexApiClient {
  private readonly http: HttpExchange;

  constructor(private readonly options: WebexApiClientOptions) {
    this.http = new HttpExchange(new URL(options.baseUrl), { timeoutMs: options.timeoutMs });
  }

  get baseUrl(): string {
    return this.options.baseUrl;
  }

  /** @throws NoAnswer (network, timeout); WebexAuthError (the token endpoint refused or failed) */
  async call(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', pathAndQuery: string, body?: unknown): Promise<WebexAnswer> {
    let token = await this.options.tokens.token();
    let answer = await this.send(method, pathAndQuery, token, body);
    if (answer.status === 401) {
      this.options.tokens.invalidate(token);
      token = await this.options.tokens.token();
      answer = await this.send(method, pathAndQuery, token, body);
    }
    return answer;
  }

  /** Closes the pooled connections (at stop). */
  close(): void {
    this.http.close();
  }

  private async send(method: string, pathAndQuery: string, token: string, body: unknown): Promise<WebexAnswer> {
    const headers: Record<string, string> = { Accept: 'application/json', Authorization: `Bearer ${token}`, 'User-Agent': 'presence-sync' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    try {
      return await this.http.send(method, pathAndQuery, headers, body === undefined ? undefined : JSON.stringify(body));
    } catch (error) {
      if (!(error instanceof HttpNoAnswer)) throw error;
      if (error.kind === 'timeout') throw new NoAnswer('timeout', error.detail);
      throw new NoAnswer('network', error.kind === 'too-large' ? error.detail : `could not reach ${new URL(this.options.baseUrl).host}: ${error.detail}`);
    }
  }
}

export { WebexAuthError };
