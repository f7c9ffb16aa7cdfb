import { ConfigError } from '@presence-sync/domain';
import { z } from 'zod';
import { ENCRYPTED_PREFIX, isEncrypted, revealSetting, SECRETS_KEY_SETTING } from './secrets';

/** The validated Genesys Cloud CX connector settings (the secret in plain text: never log this object, use `redactGenesysSettings`). */
export interface GenesysSettings {
  /** The org's region host, e.g. `mypurecloud.com`, `mypurecloud.ie`, `usw2.pure.cloud`; the SDK derives `api.` and `login.` from it. */
  region: string;
  /** An http(s) base serving `/oauth/token` and `/api/v2` instead of the region's hosts (a gateway or the emulator). No trailing slash. */
  apiBaseUrl?: string;
  /** The OAuth client (grant type: Client Credentials). */
  clientId: string;
  clientSecret: string;
  /**
   * Subscribe agents' conversations to report after-call work (GENESYS_AFTER_CALL_WORK, default true): two
   * notification topics per agent, so one OAuth client covers 10,000 agents; false: 20,000, wrap-up shows as Busy.
   */
  afterCallWork: boolean;
}

/** Settings whose values are secrets: never logged, never echoed in errors; each may be `enc:v1:…`. */
export const GENESYS_SECRET_SETTINGS = ['GENESYS_CLIENT_SECRET'] as const;

const text = z.string().trim().min(1);

const schema = z.object({
  GENESYS_REGION: z.string().trim().toLowerCase()
    .transform((v) => v.replace(/^https?:\/\//, '').replace(/^(api|login)\./, '').replace(/\/+$/, ''))
    .pipe(z.string().regex(/^[a-z0-9-]+(\.[a-z0-9-]+)+$/, 'must be a Genesys Cloud region host, e.g. mypurecloud.com or mypurecloud.de'))
    .default('mypurecloud.com'),
  GENESYS_API_BASE_URL: z.string().trim().regex(/^https?:\/\/[^\s/@]+(\/[^\s]*)?$/i, 'must be an http(s) URL without credentials').transform((u) => u.replace(/\/+$/, '')).optional(),
  GENESYS_CLIENT_ID: text,
  GENESYS_CLIENT_SECRET: text,
  GENESYS_AFTER_CALL_WORK: z.string().trim().toLowerCase()
    .pipe(z.enum(['true', 'false'], { message: 'must be true or false' }))
    .transform((v) => v === 'true')
    .default(true),
});

type Key = keyof z.infer<typeof schema> & string;

/** The names of the Genesys settings, for docs and `--help`. */
export const GENESYS_SETTING_NAMES = Object.keys(schema.shape) as Key[];

/**
 * Reads and validates the Genesys settings from `env` (only when ACD_CONNECTOR=genesys). An encrypted
 * GENESYS_CLIENT_SECRET (`enc:v1:…`) is opened with `SECRETS_KEY`. Throws `ConfigError` with one readable line
 * naming the setting — for the secret, never its value.
 */
export function loadGenesysSettings(env: Record<string, string | undefined> = process.env): GenesysSettings {
  const secret = new Set<string>(GENESYS_SECRET_SETTINGS);
  const input: Record<string, string> = {};
  for (const key of GENESYS_SETTING_NAMES) {
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
    const key = String(issue.path[0] ?? 'GENESYS settings');
    const given = input[key];
    if (given === undefined) throw new ConfigError(`invalid setting ${key}: required with ACD_CONNECTOR=genesys; it is not set`);
    const shown = secret.has(key) ? 'the value given is not valid' : `got "${given}"`;
    throw new ConfigError(`invalid setting ${key}: ${issue.message}; ${shown}`);
  }
  const s = parsed.data;
  return { region: s.GENESYS_REGION, apiBaseUrl: s.GENESYS_API_BASE_URL, clientId: s.GENESYS_CLIENT_ID, clientSecret: s.GENESYS_CLIENT_SECRET, afterCallWork: s.GENESYS_AFTER_CALL_WORK };
}

/** The settings with the secret replaced, for logs and the status endpoint. */
export function redactGenesysSettings(settings: GenesysSettings): GenesysSettings {
  return { ...settings, clientSecret: '***' };
}
