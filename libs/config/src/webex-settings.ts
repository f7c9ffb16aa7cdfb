import { ConfigError } from '@presence-sync/domain';
import { z } from 'zod';
import { ENCRYPTED_PREFIX, isEncrypted, revealSetting, SECRETS_KEY_SETTING } from './secrets';

/** Webex Contact Center API roots per region (the org's datacenter; docs/connectors/webex.md). */
export const WEBEX_REGIONS = {
  us1: 'https://api.wxcc-us1.cisco.com',
  eu1: 'https://api.wxcc-eu1.cisco.com',
  eu2: 'https://api.wxcc-eu2.cisco.com',
  anz1: 'https://api.wxcc-anz1.cisco.com',
  ca1: 'https://api.wxcc-ca1.cisco.com',
  jp1: 'https://api.wxcc-jp1.cisco.com',
} as const;

/** The validated Webex connector settings (secrets in plain text: never log this object, use `redactWebexSettings`). */
export interface WebexSettings {
  /** The Contact Center API root, from WEBEX_API_BASE_URL or WEBEX_REGION. No trailing slash. */
  apiBaseUrl: string;
  /** The OAuth token endpoint. */
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  /** The refresh token of the one-time authorization; the current one is kept in Redis. */
  refreshToken: string;
  orgId: string;
  /** The daemon's public webhook URL the subscription delivers to. */
  webhookUrl: string;
  webhookSecret: string;
  subscriptionName: string;
  availableAuxCodeId: string;
  /** `SECRETS_KEY`: seals the current refresh token in Redis. */
  storeKey: string;
}

/** Settings whose values are secrets: never logged, never echoed in errors; each may be `enc:v1:…`. */
export const WEBEX_SECRET_SETTINGS = ['WEBEX_CLIENT_SECRET', 'WEBEX_REFRESH_TOKEN', 'WEBEX_WEBHOOK_SECRET'] as const;

const text = z.string().trim().min(1);
const httpUrl = z.string().trim().regex(/^https?:\/\/[^\s/@?#]+(\/[^\s?#]*)?$/i, 'must be an http(s) URL without credentials, query or fragment').transform((u) => u.replace(/\/+$/, ''));
/** Webex only delivers to HTTPS; plain HTTP is let through for a daemon on this machine (emulator tests). */
const webhookUrl = z.string().trim()
  .regex(/^(https:\/\/[^\s/@?#]+|http:\/\/(127\.0\.0\.1|localhost)(:\d+)?)\/[^\s?#]*$/i, 'must be the daemon\'s public https:// URL with a path (e.g. https://sync.example.com/v1/acd/webex/events), no query or fragment');

const schema = z.object({
  WEBEX_REGION: z.enum(Object.keys(WEBEX_REGIONS) as [keyof typeof WEBEX_REGIONS], { message: `must be one of ${Object.keys(WEBEX_REGIONS).join(', ')}` }).default('us1'),
  WEBEX_API_BASE_URL: httpUrl.optional(),
  WEBEX_TOKEN_URL: httpUrl.default('https://webexapis.com/v1/access_token'),
  WEBEX_CLIENT_ID: text,
  WEBEX_CLIENT_SECRET: text,
  WEBEX_REFRESH_TOKEN: z.string().trim().regex(/^\S+$/, 'must be one token without spaces'),
  WEBEX_ORG_ID: z.string().trim().regex(/^[A-Za-z0-9-]{1,64}$/, 'must be the Contact Center org id (letters, digits and -)'),
  WEBEX_WEBHOOK_URL: webhookUrl,
  WEBEX_WEBHOOK_SECRET: z.string().min(32, 'must be at least 32 characters'),
  WEBEX_SUBSCRIPTION_NAME: z.string().trim().regex(/^[\w .:-]{1,64}$/, 'must be 1-64 letters, digits, spaces or _ . : -').default('presence-sync'),
  WEBEX_AVAILABLE_AUX_CODE_ID: z.string().trim().regex(/^[\w-]{1,36}$/, 'must be an auxiliary code id (at most 36 characters)').default('0'),
});

type Key = keyof z.infer<typeof schema> & string;

/** The names of the Webex settings, for docs and `--help`. */
export const WEBEX_SETTING_NAMES = Object.keys(schema.shape) as Key[];

/**
 * Reads and validates the Webex settings (only when ACD_CONNECTOR=webex). Encrypted secrets (`enc:v1:…`) are
 * opened with `SECRETS_KEY`, which is required anyway: the current refresh token is sealed with it in Redis.
 * Throws `ConfigError` with one readable line naming the setting, never a secret's value.
 */
export function loadWebexSettings(env: Record<string, string | undefined> = process.env): WebexSettings {
  const secret = new Set<string>(WEBEX_SECRET_SETTINGS);
  const storeKey = env[SECRETS_KEY_SETTING]?.trim();
  const input: Record<string, string> = {};
  for (const key of WEBEX_SETTING_NAMES) {
    const raw = env[key];
    if (raw === undefined || raw === '') continue;
    if (secret.has(key) && isEncrypted(raw)) {
      if (!storeKey) throw new ConfigError(`invalid setting ${key}: the value is encrypted (${ENCRYPTED_PREFIX}) but ${SECRETS_KEY_SETTING} is not set; set the key the value was encrypted with`);
      try {
        input[key] = revealSetting(key, raw, env) ?? raw;
      } catch (e) {
        throw new ConfigError(`invalid setting ${key}: ${e instanceof Error ? e.message : String(e)}; the value given is not shown`);
      }
    } else input[key] = raw;
  }
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = String(issue.path[0] ?? 'WEBEX settings');
    const given = input[key];
    if (given === undefined) throw new ConfigError(`invalid setting ${key}: required with ACD_CONNECTOR=webex; it is not set`);
    throw new ConfigError(`invalid setting ${key}: ${issue.message}; ${secret.has(key) ? 'the value given is not valid' : `got "${given}"`}`);
  }
  if (!storeKey) {
    throw new ConfigError(`invalid setting ${SECRETS_KEY_SETTING}: required with ACD_CONNECTOR=webex (the current Webex refresh token is kept encrypted in Redis with it); it is not set`);
  }
  const s = parsed.data;
  return {
    apiBaseUrl: s.WEBEX_API_BASE_URL ?? WEBEX_REGIONS[s.WEBEX_REGION], tokenUrl: s.WEBEX_TOKEN_URL, clientId: s.WEBEX_CLIENT_ID, clientSecret: s.WEBEX_CLIENT_SECRET,
    refreshToken: s.WEBEX_REFRESH_TOKEN, orgId: s.WEBEX_ORG_ID, webhookUrl: s.WEBEX_WEBHOOK_URL, webhookSecret: s.WEBEX_WEBHOOK_SECRET,
    subscriptionName: s.WEBEX_SUBSCRIPTION_NAME, availableAuxCodeId: s.WEBEX_AVAILABLE_AUX_CODE_ID, storeKey,
  };
}

/** The settings with the secrets replaced, for logs and the status endpoint. */
export function redactWebexSettings(settings: WebexSettings): WebexSettings {
  return { ...settings, clientSecret: '***', refreshToken: '***', webhookSecret: '***', storeKey: '***' };
}
