import { ConfigError } from '@presence-sync/domain';
import {
  DEFAULT_RETRY_AFTER_MS,
  GenericContactCenterClient,
  MAX_RETRY_AFTER_MS,
  parseRetryAfter,
  type GenericContactCenterClientOptions,
} from './generic-contact-center.client';

// HTTP behaviour is covered against the contact-center emulator in test/integration/contact-center.
describe(GenericContactCenterClient.name, () => {
  const valid: GenericContactCenterClientOptions = { baseUrl: 'https://cc.example.com/presence/v1/', token: 'tok-123' };

  it('accepts a base URL with a path and a trailing slash', () => {
    expect(() => new GenericContactCenterClient(valid)).not.toThrow();
  });

  it.each<[string, Partial<GenericContactCenterClientOptions>, RegExp]>([
    ['a relative URL', { baseUrl: '/agents' }, /not a valid URL/],
    ['another scheme', { baseUrl: 'ftp://cc.example.com' }, /must be http:\/\/ or https:\/\//],
    ['credentials in the URL', { baseUrl: 'https://user:pw@cc.example.com' }, /must not hold credentials/],
    ['a query in the URL', { baseUrl: 'https://cc.example.com/?x=1' }, /query or a fragment/],
    ['an empty token', { token: '' }, /ACD_TOKEN/],
    ['a token with a line break', { token: 'abc\r\nX-Evil: 1' }, /without spaces/],
    ['a zero timeout', { timeoutMs: 0 }, /timeoutMs must be a positive integer/],
    ['a fractional page size', { pageSize: 2.5 }, /pageSize must be a positive integer/],
    ['negative read retries', { readRetries: -1 }, /readRetries must be a non-negative integer/],
  ])('refuses %s with a ConfigError', (_label, change, message) => {
    const create = () => new GenericContactCenterClient({ ...valid, ...change });
    expect(create).toThrow(ConfigError);
    expect(create).toThrow(message);
  });

  it('never puts the token into a configuration error', () => {
    const token = 'secret token with spaces';
    expect(() => new GenericContactCenterClient({ ...valid, token })).toThrow(expect.objectContaining({ message: expect.not.stringContaining(token) }));
  });
});

describe(parseRetryAfter.name, () => {
  const NOW = Date.UTC(2026, 10, 21, 10, 0, 0);

  it.each<[string | null | undefined, number]>([
    ['3', 3_000],
    ['0', 0],
    ['1.5', 1_500],
    [' 12 ', 12_000],
    ['Sat, 21 Nov 2026 10:00:07 GMT', 7_000],
    ['Sat, 21 Nov 2026 09:59:00 GMT', 0],
    ['86400', MAX_RETRY_AFTER_MS],
    [null, DEFAULT_RETRY_AFTER_MS],
    [undefined, DEFAULT_RETRY_AFTER_MS],
    ['', DEFAULT_RETRY_AFTER_MS],
    ['soon', DEFAULT_RETRY_AFTER_MS],
    ['-5', DEFAULT_RETRY_AFTER_MS],
  ])('reads %j as %d ms', (header, ms) => {
    expect(parseRetryAfter(header, NOW)).toBe(ms);
  });
});
