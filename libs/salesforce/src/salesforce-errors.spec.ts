import { ConfigError, PermanentWriteError, RateLimitedError, RetryableWriteError } from '@presence-sync/domain';
import {
  classifySalesforceError, isNetworkError, isSessionExpired, SalesforceAuthError, salesforceErrorCode, salesforceErrorMessage,
} from './salesforce-errors';

/** An error shaped like jsforce's HttpApiError (name and errorCode are the Salesforce code). */
function apiError(errorCode: string, message = 'something happened'): Error {
  const e = new Error(message) as Error & { errorCode: string };
  e.name = errorCode;
  e.errorCode = errorCode;
  return e;
}
/** Like jsforce's OAuth2 error: the OAuth `error` is the name. */
function oauthError(code: string, description: string): Error {
  const e = new Error(description);
  e.name = code;
  return e;
}
function fetchError(code: string): Error {
  const e = new Error(`request to http://x failed, reason: connect ${code}`) as Error & { code: string };
  e.name = 'FetchError';
  e.code = code;
  return e;
}

const opts = { what: 'push', rateLimitPauseMs: 60_000, dailyLimitPauseMs: 900_000 };

describe(classifySalesforceError.name, () => {
  it.each<[string, unknown, new (...args: never[]) => Error, Record<string, unknown>]>([
    ['the daily allocation spent', apiError('REQUEST_LIMIT_EXCEEDED', 'TotalRequests Limit exceeded.'), RateLimitedError, { retryAfterMs: 900_000 }],
    ['the concurrent long-running requests limit', apiError('REQUEST_LIMIT_EXCEEDED', 'ConcurrentRequests (Concurrent API Requests) Limit exceeded.'), RateLimitedError, { retryAfterMs: 60_000 }],
    ['HTTP 429', apiError('ERROR_HTTP_429'), RateLimitedError, { retryAfterMs: 60_000 }],
    ['a 5xx without a body', apiError('ERROR_HTTP_502'), RetryableWriteError, { reason: 'server-error', httpStatus: 502 }],
    ['SERVER_UNAVAILABLE', apiError('SERVER_UNAVAILABLE'), RetryableWriteError, { reason: 'server-error', httpStatus: 503 }],
    ['UNKNOWN_EXCEPTION', apiError('UNKNOWN_EXCEPTION'), RetryableWriteError, { reason: 'server-error', httpStatus: 500 }],
    ['a row lock', apiError('UNABLE_TO_LOCK_ROW'), RetryableWriteError, { reason: 'server-error' }],
    ['a refused connection', fetchError('ECONNREFUSED'), RetryableWriteError, { reason: 'network' }],
    ['a reset connection', fetchError('ECONNRESET'), RetryableWriteError, { reason: 'network' }],
    ['a timeout (aborted fetch)', Object.assign(new Error('The user aborted a request.'), { name: 'AbortError' }), RetryableWriteError, { reason: 'network' }],
    ['a session still refused after the one re-login', apiError('INVALID_SESSION_ID'), RetryableWriteError, { reason: 'session-expired', httpStatus: 401 }],
    ['a failed re-login', new SalesforceAuthError('jwt', 'invalid_grant', 'expired'), RetryableWriteError, { reason: 'auth-failed' }],
    ['a bad field', apiError('INVALID_FIELD'), PermanentWriteError, { reason: 'INVALID_FIELD' }],
    ['no access', apiError('INSUFFICIENT_ACCESS_OR_READONLY'), PermanentWriteError, { reason: 'INSUFFICIENT_ACCESS_OR_READONLY' }],
    ['not found', apiError('NOT_FOUND'), PermanentWriteError, { reason: 'NOT_FOUND', httpStatus: 404 }],
    ['a 4xx without a body', apiError('ERROR_HTTP_400'), PermanentWriteError, { httpStatus: 400 }],
    ['a plain bug', new TypeError('x is undefined'), RetryableWriteError, { reason: 'unexpected' }],
  ])('%s', (_name, error, klass, fields) => {
    const c = classifySalesforceError(error, opts);
    expect(c).toBeInstanceOf(klass);
    expect(c).toMatchObject(fields);
    expect(c.message).toMatch(/^Salesforce (push failed|login failed)/);
  });

  it('tells the daily allocation from the concurrent limit by the usage Salesforce reported when the message does not say', () => {
    const bare = apiError('REQUEST_LIMIT_EXCEEDED', 'Limit exceeded');
    expect(classifySalesforceError(bare, { ...opts, apiUsage: { used: 100_000, limit: 100_000 } })).toMatchObject({ retryAfterMs: 900_000 });
    expect(classifySalesforceError(bare, { ...opts, apiUsage: { used: 12, limit: 100_000 } })).toMatchObject({ retryAfterMs: 60_000 });
    expect(classifySalesforceError(bare, opts)).toMatchObject({ retryAfterMs: 60_000 });
    expect(classifySalesforceError(apiError('REQUEST_LIMIT_EXCEEDED', 'TotalRequests Limit exceeded.'), opts).message).toMatch(/daily API request allocation/);
  });

  it('passes domain errors through unchanged', () => {
    const e = new RetryableWriteError('console-closed', 'closed');
    expect(classifySalesforceError(e, opts)).toBe(e);
  });
});

describe('error helpers', () => {
  it('reads the code from HttpApiError, OAuth errors and socket errors, not from JS class names', () => {
    expect(salesforceErrorCode(apiError('INVALID_FIELD'))).toBe('INVALID_FIELD');
    expect(salesforceErrorCode(oauthError('invalid_grant', 'authentication failure'))).toBe('invalid_grant');
    expect(salesforceErrorCode(fetchError('ENOTFOUND'))).toBe('ENOTFOUND');
    expect(salesforceErrorCode(new TypeError('x'))).toBeUndefined();
    expect(salesforceErrorCode('text')).toBeUndefined();
  });

  it('detects expired sessions and network failures', () => {
    expect(isSessionExpired(apiError('INVALID_SESSION_ID'))).toBe(true);
    expect(isSessionExpired(apiError('ERROR_HTTP_401'))).toBe(true);
    expect(isSessionExpired(apiError('INVALID_FIELD'))).toBe(false);
    expect(isNetworkError(fetchError('ETIMEDOUT'))).toBe(true);
    expect(isNetworkError(apiError('ERROR_HTTP_503'))).toBe(false);
  });

  it('keeps messages to one short line and hides HTML pages', () => {
    expect(salesforceErrorMessage(new Error('first\nsecond'))).toBe('first');
    expect(salesforceErrorMessage(new Error('<!DOCTYPE html><html>maintenance</html>'))).toBe('an HTML page instead of an API answer');
    expect(salesforceErrorMessage(new Error('x'.repeat(400)))).toHaveLength(301);
  });

  it('makes login failures one-line config errors naming mode and code', () => {
    const e = new SalesforceAuthError('client-credentials', 'invalid_client', 'invalid client credentials');
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.message).toBe('Salesforce login failed (SALESFORCE_AUTH=client-credentials): invalid_client: invalid client credentials');
  });
});
