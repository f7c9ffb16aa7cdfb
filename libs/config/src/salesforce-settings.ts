import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigError } from '@presence-sync/domain';
import { z } from 'zod';
import { decryptSecret, ENCRYPTED_PREFIX, isEncrypted, parseSecretsKey, SecretError, SECRETS_KEY_SETTING } from './secrets';

/**
 * How the daemon logs in to Salesforce. `jwt` (JWT bearer, a certificate on the connected app) and
 * `client-credentials` are the recommended server-to-server modes; `password` (OAuth username-password,
 * discouraged by Salesforce) is kept for existing contact-center setups; `refresh-token` reuses a token
 * obtained once interactively.
 */
export const SALESFORCE_AUTH_MODES = ['jwt', 'client-credentials', 'password', 'refresh-token'] as const;
export type SalesforceAuthMode = (typeof SALESFORCE_AUTH_MODES)[number];

/**
 * The JWT audiences Salesforce accepts besides an Experience Cloud site URL: the generic login hosts, never a My
 * Domain URL (`invalid_grant: audience is invalid`), even though the token request itself goes to My Domain.
 */
export const JWT_AUDIENCES = { production: 'https://login.salesforce.com', sandbox: 'https://test.salesforce.com' } as const;

/** Salesforce's generic login hosts: the client credentials flow is refused there (it needs the org's My Domain). */
export const GENERIC_LOGIN_HOSTS: readonly string[] = ['login.salesforce.com', 'test.salesforce.com'];

export type SalesforceAuthSettings =
  | {
    mode: 'jwt'; clientId: string; username: string; /** PEM, RSA. */ privateKey: string;
    /** JWT `aud`; default: `JWT_AUDIENCES.sandbox` for a sandbox login URL, else `JWT_AUDIENCES.production`. */ audience: string;
  }
  | { mode: 'client-credentials'; clientId: string; clientSecret: string }
  | { mode: 'password'; clientId: string; clientSecret: string; username: string; password: string; securityToken?: string }
  | {
    mode: 'refresh-token'; clientId: string; clientSecret?: string;
    /** The configured token: the first of the chain; with rotation on, later ones live in the token store. */
    refreshToken: string; instanceUrl?: string;
    /** `SECRETS_KEY`: seals the current refresh token in the token store (Redis). */
    storeKey: string;
  };

/** The validated Salesforce settings (secrets in plain text: never log this object, use `redactSalesforceSettings`). */
export interface SalesforceSettings {
  /** Token endpoint host: production, sandbox (test.salesforce.com) or a My Domain URL. No trailing slash. */
  loginUrl: string;
  /** `NN.N`; used for REST, `/cometd/<version>` and the PushTopic's ApiVersion. */
  apiVersion: string;
  auth: SalesforceAuthSettings;
  /** HTTP(S) proxy for REST and streaming. */
  proxyUrl?: string;
  /** PushTopic name (≤ 25 characters); the stream subscribes to `/topic/<pushTopic>`. */
  pushTopic: string;
  /** StreamingChannel name of the console command channel, `/u/…`. */
  commandChannel: string;
  /** How long a closed `UserServicePresence` row waits for a newer row of the same user before it counts as Offline (ms). */
  offlineHoldMs: number;
  /** How long the sync queue pauses after a short-lived limit: the concurrent-request limit, HTTP 429 (ms). */
  rateLimitPauseMs: number;
  /**
   * How long the sync queue pauses when the org's daily API allocation is spent (`REQUEST_LIMIT_EXCEEDED:
   * TotalRequests Limit exceeded`, ms): usage only falls as requests leave the rolling 24-hour window.
   */
  dailyLimitPauseMs: number;
  /** How often the adapter reads which users have a console listening on the command channel (ms; 0 = never, every write pushes). */
  consolePollMs: number;
  /** Timeout of one REST request (ms); jsforce's own default is 30 minutes. */
  requestTimeoutMs: number;
}

/** Settings whose values are secrets: never logged, never echoed in errors; each may be `enc:v1:…`. */
export const SALESFORCE_SECRET_SETTINGS = [
  'SALESFORCE_CLIENT_SECRET', 'SALESFORCE_PASSWORD', 'SALESFORCE_SECURITY_TOKEN', 'SALESFORCE_PRIVATE_KEY', 'SALESFORCE_REFRESH_TOKEN',
] as const;

/** Not secrets by themselves, but may carry credentials (a proxy URL with a password): also decryptable, never echoed. */
const SENSITIVE = new Set<string>([...SALESFORCE_SECRET_SETTINGS, 'SALESFORCE_PROXY_URL']);

const text = z.string().trim().min(1);
const httpUrl = (what: string) =>
  z.string().trim().regex(/^https?:\/\/[^\s/]+(\/[^\s]*)?$/i, `must be an http(s) URL (${what})`).transform((u) => u.replace(/\/+$/, ''));
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const schema = z.object({
  SALESFORCE_LOGIN_URL: httpUrl('production, sandbox or My Domain login URL').default('https://login.salesforce.com'),
  SALESFORCE_API_VERSION: z.string().trim()
    .regex(/^\d{2}\.\d$/, 'must look like 62.0 (NN.N)')
    .refine((v) => Number(v) >= 37, 'must be 37.0 or later (the Streaming API and replay need it)')
    .default('62.0'),
  SALESFORCE_AUTH: z.enum(SALESFORCE_AUTH_MODES, { message: `must be one of ${SALESFORCE_AUTH_MODES.join(', ')}` }),
  SALESFORCE_CLIENT_ID: text.optional(),
  SALESFORCE_CLIENT_SECRET: text.optional(),
  SALESFORCE_USERNAME: text.optional(),
  SALESFORCE_PASSWORD: z.string().min(1).optional(),
  SALESFORCE_SECURITY_TOKEN: text.optional(),
  SALESFORCE_PRIVATE_KEY_FILE: text.optional(),
  SALESFORCE_PRIVATE_KEY: text.optional(),
  SALESFORCE_REFRESH_TOKEN: text.optional(),
  SALESFORCE_JWT_AUDIENCE: httpUrl('the JWT audience, e.g. https://login.salesforce.com')
    // Salesforce refuses a My Domain audience; the old docs suggested one, so say why instead of failing at login.
    .refine((u) => !/^https?:\/\/[^/]+\.my\.salesforce\.com(\/|$)/i.test(u),
      `must be ${JWT_AUDIENCES.production}, ${JWT_AUDIENCES.sandbox} or an Experience Cloud site URL (Salesforce refuses a My Domain audience: audience is invalid)`)
    .optional(),
  SALESFORCE_INSTANCE_URL: httpUrl('the org\'s instance URL').optional(),
  SALESFORCE_PROXY_URL: httpUrl('the proxy').optional(),
  SALESFORCE_PUSH_TOPIC: z.string().trim()
    .regex(/^[A-Za-z][A-Za-z0-9_]*$/, 'must start with a letter and use letters, digits and _ only')
    .max(25, 'must be at most 25 characters (Salesforce\'s PushTopic name limit)')
    .default('PresenceSyncUSP'),
  SALESFORCE_COMMAND_CHANNEL: z.string().trim()
    .regex(/^\/u\/[A-Za-z0-9_/]+$/, 'must be a generic streaming channel name such as /u/PresenceSyncCommand')
    .default('/u/PresenceSyncCommand'),
  SALESFORCE_OFFLINE_HOLD_MS: int(0, 60_000).default(2000),
  SALESFORCE_RATE_LIMIT_PAUSE_MS: int(1000, 3_600_000).default(60_000),
  SALESFORCE_DAILY_LIMIT_PAUSE_MS: int(60_000, 86_400_000).default(900_000),
  SALESFORCE_CONSOLE_POLL_MS: z.coerce.number().int().refine((v) => v === 0 || (v >= 5_000 && v <= 600_000), 'must be 0 (off) or 5000–600000').default(30_000),
  SALESFORCE_REQUEST_TIMEOUT_MS: int(1000, 600_000).default(30_000),
});

type Raw = z.infer<typeof schema>;
type Key = keyof Raw & string;

/** The names of the Salesforce settings, for docs and `--help`. */
export const SALESFORCE_SETTING_NAMES = Object.keys(schema.shape) as Key[];

/** Which settings each mode needs, in the order they are reported when missing. */
const REQUIRED: Record<SalesforceAuthMode, Key[]> = {
  jwt: ['SALESFORCE_CLIENT_ID', 'SALESFORCE_USERNAME'],
  'client-credentials': ['SALESFORCE_CLIENT_ID', 'SALESFORCE_CLIENT_SECRET'],
  password: ['SALESFORCE_CLIENT_ID', 'SALESFORCE_CLIENT_SECRET', 'SALESFORCE_USERNAME', 'SALESFORCE_PASSWORD'],
  'refresh-token': ['SALESFORCE_CLIENT_ID', 'SALESFORCE_REFRESH_TOKEN'],
};

function fail(key: string, why: string, shown: string): never {
  throw new ConfigError(`invalid setting ${key}: ${why}; ${shown}`);
}

/**
 * Reads and validates the Salesforce settings from `env`. Encrypted values (`enc:v1:…`) are opened with
 * `SECRETS_KEY`. Throws `ConfigError` with one readable line naming the setting — for a secret, never its
 * value — e.g. `invalid setting SALESFORCE_USERNAME: required when SALESFORCE_AUTH=jwt; it is not set`.
 */
export function loadSalesforceSettings(env: Record<string, string | undefined> = process.env): SalesforceSettings {
  const input: Record<string, string> = {};
  for (const key of SALESFORCE_SETTING_NAMES) {
    const raw = env[key];
    if (raw === undefined || raw === '') continue;
    input[key] = SENSITIVE.has(key) ? reveal(key, raw, env) : raw;
  }

  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = String(issue.path[0] ?? 'SALESFORCE settings');
    const given = input[key];
    const shown = given === undefined ? 'it is not set' : SENSITIVE.has(key) ? 'the value given is not valid' : `got "${given}"`;
    fail(key, given === undefined ? 'required' : issue.message, shown);
  }
  const s = parsed.data;
  const mode = s.SALESFORCE_AUTH;
  for (const key of REQUIRED[mode]) {
    if (s[key] === undefined) fail(key, `required when SALESFORCE_AUTH=${mode}`, 'it is not set');
  }
  const need = (key: Key): string => s[key] as string;
  if (mode === 'client-credentials' && GENERIC_LOGIN_HOSTS.includes(hostOf(s.SALESFORCE_LOGIN_URL))) {
    const shown = input.SALESFORCE_LOGIN_URL === undefined ? `it is not set (the default is ${s.SALESFORCE_LOGIN_URL})` : `got "${s.SALESFORCE_LOGIN_URL}"`;
    fail('SALESFORCE_LOGIN_URL', `SALESFORCE_AUTH=${mode} needs the org's My Domain login URL (e.g. https://acme.my.salesforce.com); `
      + 'Salesforce refuses the client credentials flow on login.salesforce.com and test.salesforce.com', shown);
  }

  let auth: SalesforceAuthSettings;
  switch (mode) {
    case 'jwt':
      auth = {
        mode, clientId: need('SALESFORCE_CLIENT_ID'), username: need('SALESFORCE_USERNAME'), privateKey: privateKeyOf(s, env),
        audience: s.SALESFORCE_JWT_AUDIENCE ?? defaultJwtAudience(s.SALESFORCE_LOGIN_URL),
      };
      break;
    case 'client-credentials':
      auth = { mode, clientId: need('SALESFORCE_CLIENT_ID'), clientSecret: need('SALESFORCE_CLIENT_SECRET') };
      break;
    case 'password':
      auth = {
        mode, clientId: need('SALESFORCE_CLIENT_ID'), clientSecret: need('SALESFORCE_CLIENT_SECRET'),
        username: need('SALESFORCE_USERNAME'), password: need('SALESFORCE_PASSWORD'), securityToken: s.SALESFORCE_SECURITY_TOKEN,
      };
      break;
    case 'refresh-token':
      auth = {
        mode, clientId: need('SALESFORCE_CLIENT_ID'), clientSecret: s.SALESFORCE_CLIENT_SECRET,
        refreshToken: need('SALESFORCE_REFRESH_TOKEN'), instanceUrl: s.SALESFORCE_INSTANCE_URL, storeKey: storeKeyOf(env),
      };
      break;
  }
  return {
    loginUrl: s.SALESFORCE_LOGIN_URL,
    apiVersion: s.SALESFORCE_API_VERSION,
    auth,
    proxyUrl: s.SALESFORCE_PROXY_URL,
    pushTopic: s.SALESFORCE_PUSH_TOPIC,
    commandChannel: s.SALESFORCE_COMMAND_CHANNEL,
    offlineHoldMs: s.SALESFORCE_OFFLINE_HOLD_MS,
    rateLimitPauseMs: s.SALESFORCE_RATE_LIMIT_PAUSE_MS,
    dailyLimitPauseMs: s.SALESFORCE_DAILY_LIMIT_PAUSE_MS,
    consolePollMs: s.SALESFORCE_CONSOLE_POLL_MS,
    requestTimeoutMs: s.SALESFORCE_REQUEST_TIMEOUT_MS,
  };
}

/** The settings with every secret replaced, for logs, `salesforce check` and the status endpoint. */
export function redactSalesforceSettings(settings: SalesforceSettings): SalesforceSettings {
  const auth = { ...settings.auth } as Record<string, unknown>;
  for (const field of ['clientSecret', 'password', 'securityToken', 'privateKey', 'refreshToken', 'storeKey']) {
    if (auth[field] !== undefined) auth[field] = '***';
  }
  return {
    ...settings,
    auth: auth as SalesforceAuthSettings,
    proxyUrl: settings.proxyUrl?.replace(/\/\/([^@/]*)@/, '//***@'),
  };
}

/**
 * The audience Salesforce accepts for this login URL: the sandbox login host for `test.salesforce.com` and sandbox
 * My Domains (`*.sandbox.my.salesforce.com`), the production one otherwise. The session tries the other one once
 * if Salesforce answers `audience is invalid` (e.g. a sandbox on a legacy domain).
 */
export function defaultJwtAudience(loginUrl: string): string {
  const host = hostOf(loginUrl);
  return host === 'test.salesforce.com' || host.endsWith('.sandbox.my.salesforce.com') ? JWT_AUDIENCES.sandbox : JWT_AUDIENCES.production;
}

function hostOf(url: string): string {
  try {
    return new URL(url).hostname.toLowerCase();
  } catch {
    return '';
  }
}

/**
 * `SECRETS_KEY`, required in refresh-token mode: with rotation on, the current refresh token changes on every
 * refresh and is kept in Redis, sealed with this key (never in clear text at rest).
 */
function storeKeyOf(env: Record<string, string | undefined>): string {
  const key = env[SECRETS_KEY_SETTING]?.trim();
  if (!key) {
    fail(SECRETS_KEY_SETTING, 'required when SALESFORCE_AUTH=refresh-token (the current refresh token is kept encrypted in Redis with it)', 'it is not set');
  }
  try {
    parseSecretsKey(key);
  } catch (e) {
    if (e instanceof SecretError) fail(SECRETS_KEY_SETTING, e.message, 'the value given is not shown');
    throw e;
  }
  return key;
}

/** Opens an `enc:v1:` value with `SECRETS_KEY`; plain values pass through. */
function reveal(key: string, raw: string, env: Record<string, string | undefined>): string {
  if (!isEncrypted(raw)) return raw;
  const secretsKey = env[SECRETS_KEY_SETTING];
  if (!secretsKey?.trim()) fail(key, `the value is encrypted (${ENCRYPTED_PREFIX}) but ${SECRETS_KEY_SETTING} is not set`, 'set the key the value was encrypted with');
  try {
    return decryptSecret(raw, secretsKey);
  } catch (e) {
    if (e instanceof SecretError) fail(key, e.message, 'the value given is not shown');
    throw e;
  }
}

/** The PEM of the JWT signing key, from the file or the variable (a variable may carry `\n` escapes). */
function privateKeyOf(s: Raw, env: Record<string, string | undefined>): string {
  let pem: string;
  let source: Key;
  if (s.SALESFORCE_PRIVATE_KEY) {
    source = 'SALESFORCE_PRIVATE_KEY';
    pem = s.SALESFORCE_PRIVATE_KEY.replace(/\\n/g, '\n');
  } else if (s.SALESFORCE_PRIVATE_KEY_FILE) {
    source = 'SALESFORCE_PRIVATE_KEY_FILE';
    const file = s.SALESFORCE_PRIVATE_KEY_FILE;
    let content: string;
    try {
      content = readFileSync(file, 'utf8').trim();
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? 'read error';
      return fail(source, `cannot read the key file (${code})`, `got "${file}"`);
    }
    pem = isEncrypted(content) ? reveal(source, content, env) : content;
  } else {
    return fail('SALESFORCE_PRIVATE_KEY_FILE', 'required when SALESFORCE_AUTH=jwt (or set SALESFORCE_PRIVATE_KEY)', 'it is not set');
  }
  try {
    const key = createPrivateKey(pem);
    if (key.asymmetricKeyType !== 'rsa') fail(source, 'must be an RSA private key (Salesforce signs JWT bearer assertions with RS256)', 'the key given is not RSA');
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    fail(source, 'must be a PEM private key (-----BEGIN PRIVATE KEY----- or -----BEGIN RSA PRIVATE KEY-----)', 'the value given is not a readable key');
  }
  return pem;
}
