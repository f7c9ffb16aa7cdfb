import type { AppConfig } from './app-config';

/** Shorter values would mask ordinary words in log lines; such secrets rely on being kept out of fields. */
const MIN_MASKED_LENGTH = 6;

function userInfoOf(url: string | undefined): string[] {
  if (!url) return [];
  try {
    const u = new URL(url);
    return [u.password, decodeURIComponent(u.password), u.username && u.password ? url : ''];
  } catch {
    return [];
  }
}

/**
 * Every secret value the config holds (tokens, passwords, keys, the Redis URL's password and the URL itself when
 * it carries one), for a last line of defence that masks them in whatever is written out. Longest first, so a
 * secret that contains another is masked whole.
 */
export function secretValuesOf(config: AppConfig): string[] {
  const auth = config.salesforce.settings?.auth as Record<string, unknown> | undefined;
  const candidates = [
    config.acd.generic?.token, config.acd.generic?.webhookSecret, config.acd.cxone?.clientSecret, config.acd.cxone?.accessKeySecret,
    config.acd.webex?.clientSecret, config.acd.webex?.refreshToken, config.acd.webex?.webhookSecret, config.acd.genesys?.clientSecret, config.admin.password,
    ...userInfoOf(config.redis.url), config.redis.password, config.redis.sentinel?.password, ...userInfoOf(config.salesforce.settings?.proxyUrl),
    ...['clientSecret', 'password', 'securityToken', 'privateKey', 'refreshToken'].map((field) => auth?.[field]),
  ];
  const values = new Set<string>();
  for (const value of candidates) if (typeof value === 'string' && value.length >= MIN_MASKED_LENGTH) values.add(value);
  return [...values].sort((a, b) => b.length - a.length);
}
