import { ConfigError } from '@presence-sync/domain';
import { z } from 'zod';
import { ENCRYPTED_PREFIX, isEncrypted, revealSetting, SECRETS_KEY_SETTING } from './secrets';

/** The validated NiCE CXone connector settings (secrets in plain text: never log this object, use `redactCxoneSettings`). */
export interface CxoneSettings {
  /** The CXone issuer host; the token endpoint and the tenant's API base are discovered from it. No trailing slash. */
  authUrl: string;
  /** The registered app's client id and secret (OAuth client of the password grant). */
  clientId: string;
  clientSecret: string;
  /** The API user's access key. */
  accessKeyId: string;
  accessKeySecret: string;
  /** The tenant whose API base is discovered; default: read from the access token. */
  tenantId?: string;
  /** The API base (e.g. `https://api-na1.niceincontact.com`), skipping discovery. No trailing slash. */
  apiBaseUrl?: string;
  /** `vNN.0` in the ACD API paths. */
  apiVersion: string;
  /** Time between two agent-state polls, ms. */
  pollIntervalMs: number;
  /** A stored poll watermark older than this is not resumed from (full read and drift repair), ms. */
  resumeMaxAgeMs: number;
}

/** Settings whose values are secrets: never logged, never echoed in errors; each may be `enc:v1:…`. */
export const CXONE_SECRET_SETTINGS = ['CXONE_CLIENT_SECRET', 'CXONE_ACCESS_KEY_SECRET'] as const;

const text = z.string().trim().min(1);
const httpUrl = (what: string) =>
  z.string().trim().regex(/^https?:\/\/[^\s/@]+(\/[^\s]*)?$/i, `must be an http(s) URL without credentials (${what})`).transform((u) => u.replace(/\/+$/, ''));

const schema = z.object({
  CXONE_AUTH_URL: httpUrl('the CXone issuer, e.g. https://cxone.niceincontact.com').default('https://cxone.niceincontact.com'),
  CXONE_CLIENT_ID: text,
  CXONE_CLIENT_SECRET: text,
  CXONE_ACCESS_KEY_ID: text,
  CXONE_ACCESS_KEY_SECRET: text,
  CXONE_TENANT_ID: z.string().trim().regex(/^[A-Za-z0-9-]{1,64}$/, 'must be the tenant id (letters, digits and -)').optional(),
  CXONE_API_BASE_URL: httpUrl('the API base, e.g. https://api-na1.niceincontact.com').optional(),
  CXONE_API_VERSION: z.string().trim().regex(/^v?\d{1,2}\.0$/, 'must look like v34.0').transform((v) => (v.startsWith('v') ? v : `v${v}`)).default('v34.0'),
  // 1 s keeps the end-to-end latency within 2 s (docs/connectors/cxone.md, "Latency and API calls").
  CXONE_POLL_INTERVAL_MS: z.coerce.number().int().min(250, 'must be at least 250').max(60_000, 'must be at most 60000').default(1000),
  CXONE_RESUME_MAX_AGE_MS: z.coerce.number().int().min(60_000, 'must be at least 60000').max(86_400_000, 'must be at most 86400000').default(3_600_000),
});

type Key = keyof z.infer<typeof schema> & string;

/** The names of the CXone settings, for docs and `--help`. */
export const CXONE_SETTING_NAMES = Object.keys(schema.shape) as Key[];

/**
 * Reads and validates the CXone settings from `env` (only when ACD_CONNECTOR=cxone). Encrypted values
 * (`enc:v1:…`) of the secrets are opened with `SECRETS_KEY`. Throws `ConfigError` with one readable line naming
 * the setting — for a secret, never its value — e.g. `invalid setting CXONE_ACCESS_KEY_ID: required with
 * ACD_CONNECTOR=cxone; it is not set`.
 */
export function loadCxoneSettings(env: Record<string, string | undefined> = process.env): CxoneSettings {
  const secret = new Set<string>(CXONE_SECRET_SETTINGS);
  const input: Record<string, string> = {};
  for (const key of CXONE_SETTING_NAMES) {
    const raw = env[key];
    if (raw === undefined || raw === '') continue;
    if (secret.has(key) && isEncrypted(raw)) {
      if (!env[SECRETS_KEY_SETTING]?.trim()) {
        throw new ConfigError(`invalid setting ${key}: the value is encrypted (${ENCRYPTED_PREFIX}) but ${SECRETS_KEY_SETTING} is not set; set the key the value was encrypted with`);
      }
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
    const key = String(issue.path[0] ?? 'CXONE settings');
    const given = input[key];
    if (given === undefined) throw new ConfigError(`invalid setting ${key}: required with ACD_CONNECTOR=cxone; it is not set`);
    const shown = secret.has(key) ? 'the value given is not valid' : `got "${given}"`;
    throw new ConfigError(`invalid setting ${key}: ${issue.message}; ${shown}`);
  }
  const s = parsed.data;
  return {
    authUrl: s.CXONE_AUTH_URL, clientId: s.CXONE_CLIENT_ID, clientSecret: s.CXONE_CLIENT_SECRET,
    accessKeyId: s.CXONE_ACCESS_KEY_ID, accessKeySecret: s.CXONE_ACCESS_KEY_SECRET, tenantId: s.CXONE_TENANT_ID,
    apiBaseUrl: s.CXONE_API_BASE_URL, apiVersion: s.CXONE_API_VERSION, pollIntervalMs: s.CXONE_POLL_INTERVAL_MS,
    resumeMaxAgeMs: s.CXONE_RESUME_MAX_AGE_MS,
  };
}

/** The settings with the secrets replaced, for logs and the status endpoint. */
export function redactCxoneSettings(settings: CxoneSettings): CxoneSettings {
  return { ...settings, clientSecret: '***', accessKeySecret: '***' };
}
