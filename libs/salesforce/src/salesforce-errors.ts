import type { SalesforceAuthMode } from '@presence-sync/config';
import { ConfigError, PermanentWriteError, RateLimitedError, RetryableWriteError } from '@presence-sync/domain';

/**
 * Salesforce refused the configured credentials (an OAuth error such as `invalid_grant` or
 * `invalid_client_id`). A boot error: one line naming the mode and Salesforce's error code, never a secret.
 */
export class SalesforceAuthError extends ConfigError {
  constructor(readonly mode: SalesforceAuthMode, readonly code: string, description: string) {
    super(`Salesforce login failed (SALESFORCE_AUTH=${mode}): ${code}${description ? `: ${description}` : ''}`);
  }
}

/** Node / fetch error codes that mean the request may not have reached Salesforce or its answer was lost. */
const NETWORK_CODES = new Set([
  'ECONNRESET', 'ECONNREFUSED', 'ENOTFOUND', 'ENETDOWN', 'ENETUNREACH', 'EHOSTDOWN', 'EHOSTUNREACH', 'ETIMEDOUT',
  'EPIPE', 'EAI_AGAIN', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'ERR_STREAM_PREMATURE_CLOSE',
]);

/** Salesforce REST error codes that describe a passing server condition (Salesforce's "REST API status codes" page). */
const RETRYABLE_CODES = new Set([
  'UNKNOWN_EXCEPTION', 'SERVER_UNAVAILABLE', 'UNABLE_TO_LOCK_ROW', 'QUERY_TIMEOUT', 'REQUEST_RUNNING_TOO_LONG',
  'ERROR_HTTP_408', 'ERROR_HTTP_420', 'ERROR_HTTP_500', 'ERROR_HTTP_502', 'ERROR_HTTP_503', 'ERROR_HTTP_504',
]);

const RATE_LIMIT_CODES = new Set(['REQUEST_LIMIT_EXCEEDED', 'ERROR_HTTP_429']);

/** Codes of an expired or revoked session: re-authenticate once, then retry the call. */
const SESSION_CODES = new Set(['INVALID_SESSION_ID', 'ERROR_HTTP_401']);

interface ErrorLike {
  name?: unknown;
  message?: unknown;
  errorCode?: unknown;
  code?: unknown;
}

const asErrorLike = (e: unknown): ErrorLike => (typeof e === 'object' && e !== null ? (e as ErrorLike) : {});

/**
 * The code Salesforce or the network gave: jsforce's `HttpApiError.errorCode` (e.g. `INVALID_FIELD`, or
 * `ERROR_HTTP_503` when the body had none), an OAuth error's name (`invalid_grant`), or a socket error code.
 */
export function salesforceErrorCode(e: unknown): string | undefined {
  const err = asErrorLike(e);
  if (typeof err.errorCode === 'string' && err.errorCode) return err.errorCode;
  if (typeof err.code === 'string' && err.code) return err.code;
  // OAuth errors carry the code as the name (`invalid_grant`); JS error class names (`TypeError`) are not codes.
  if (typeof err.name === 'string' && /^([a-z][a-z_]*|[A-Z][A-Z0-9_]*)$/.test(err.name)) return err.name;
  return undefined;
}

/** The message, shortened to one line; HTML error pages (a proxy, a maintenance page) are not echoed. */
export function salesforceErrorMessage(e: unknown): string {
  const raw = typeof asErrorLike(e).message === 'string' ? (asErrorLike(e).message as string) : String(e);
  const line = raw.includes('<html') || raw.includes('<!DOCTYPE') ? 'an HTML page instead of an API answer' : raw.split('\n')[0];
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}

export function isNetworkError(e: unknown): boolean {
  const err = asErrorLike(e);
  if (err.name === 'FetchError' || err.name === 'AbortError') return true;
  return typeof err.code === 'string' && NETWORK_CODES.has(err.code);
}

/** A 401 / `INVALID_SESSION_ID`: the token expired or was revoked. */
export function isSessionExpired(e: unknown): boolean {
  const code = salesforceErrorCode(e);
  return code !== undefined && SESSION_CODES.has(code);
}

export interface ClassifyOptions {
  /** What was being done, for the message, e.g. `push to /u/PresenceSyncCommand`. */
  what: string;
  /** How long the queue should pause on a short-lived limit: the concurrent-request limit, HTTP 429 (ms). */
  rateLimitPauseMs: number;
  /** How long the queue should pause when the daily API allocation is spent (ms). Default: `rateLimitPauseMs`. */
  dailyLimitPauseMs?: number;
  /** The last `Sforce-Limit-Info` usage, to tell the two limits apart when Salesforce's message does not. */
  apiUsage?: { used: number; limit: number };
}

/**
 * Which limit a `REQUEST_LIMIT_EXCEEDED` (or 429) is. Salesforce uses the one code for both: the rolling
 * 24-hour allocation ("TotalRequests Limit exceeded.") and the cap on concurrent requests running 20 s or
 * longer ("ConcurrentRequests (Concurrent API Requests) Limit exceeded."). The first clears only as old
 * requests leave the 24-hour window; the second as soon as a long request finishes.
 */
function requestLimitKind(e: unknown, code: string, options: ClassifyOptions): 'daily' | 'concurrent' {
  if (code === 'ERROR_HTTP_429') return 'concurrent';
  const message = salesforceErrorMessage(e);
  if (/concurrent/i.test(message)) return 'concurrent';
  if (/TotalRequests/i.test(message)) return 'daily';
  const usage = options.apiUsage;
  return usage && usage.limit > 0 && usage.used >= usage.limit ? 'daily' : 'concurrent';
}

/**
 * Turns any error of a Salesforce call into the domain's classes, which decide what the queue does:
 * rate-limited (`REQUEST_LIMIT_EXCEEDED`, 429) → `RateLimitedError` (the queue pauses: long for the spent daily
 * allocation, short for the concurrent-request limit); passing (5xx, network,
 * row lock, a session that could not be renewed, a login that could not be made) → `RetryableWriteError`;
 * any other Salesforce error (4xx: bad field, no access, not found…) → `PermanentWriteError` with the
 * Salesforce error code as the reason. Domain errors pass through unchanged.
 */
export function classifySalesforceError(e: unknown, options: ClassifyOptions): PermanentWriteError | RetryableWriteError | RateLimitedError {
  if (e instanceof PermanentWriteError || e instanceof RetryableWriteError || e instanceof RateLimitedError) return e;
  const code = salesforceErrorCode(e);
  const text = `Salesforce ${options.what} failed: ${code ? `${code}: ` : ''}${salesforceErrorMessage(e)}`;
  if (e instanceof SalesforceAuthError) return new RetryableWriteError('auth-failed', e.message);
  if (isNetworkError(e)) return new RetryableWriteError('network', text);
  if (code && RATE_LIMIT_CODES.has(code)) {
    if (requestLimitKind(e, code, options) === 'daily') {
      const pause = options.dailyLimitPauseMs ?? options.rateLimitPauseMs;
      return new RateLimitedError(pause, `${text} (the org's daily API request allocation is spent; pausing ${Math.round(pause / 60_000)} min while usage falls)`);
    }
    return new RateLimitedError(options.rateLimitPauseMs, `${text} (pausing ${Math.round(options.rateLimitPauseMs / 1000)} s)`);
  }
  if (code && SESSION_CODES.has(code)) return new RetryableWriteError('session-expired', text, 401);
  if (code && RETRYABLE_CODES.has(code)) return new RetryableWriteError('server-error', text, httpStatusOf(code));
  if (code && /^ERROR_HTTP_5\d\d$/.test(code)) return new RetryableWriteError('server-error', text, httpStatusOf(code));
  if (!code || e instanceof ConfigError) return new RetryableWriteError('unexpected', text);
  return new PermanentWriteError(code, text, httpStatusOf(code));
}

/** The HTTP status Salesforce answers each of these codes with (jsforce keeps the code, not the status). */
const CODE_STATUS: Record<string, number> = {
  INVALID_SESSION_ID: 401, REQUEST_LIMIT_EXCEEDED: 403, NOT_FOUND: 404, UNKNOWN_EXCEPTION: 500, SERVER_UNAVAILABLE: 503,
};

function httpStatusOf(code: string): number | undefined {
  const m = /^ERROR_HTTP_(\d{3})$/.exec(code);
  return m ? Number(m[1]) : CODE_STATUS[code];
}
