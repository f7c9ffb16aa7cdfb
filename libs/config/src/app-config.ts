import { CONNECTOR_NAMES, ConfigError, type ConnectorName } from '@presence-sync/domain';
import { z } from 'zod';
import { loadSalesforceSettings, redactSalesforceSettings, SALESFORCE_SECRET_SETTINGS, SALESFORCE_SETTING_NAMES, type SalesforceSettings } from './salesforce-settings';
import { revealSetting, SECRETS_KEY_SETTING } from './secrets';
import { loadWebexSettings, redactWebexSettings, WEBEX_SECRET_SETTINGS, WEBEX_SETTING_NAMES, type WebexSettings } from './webex-settings';
import { loadAmazonConnectSettings, type AmazonConnectSettings } from './amazon-connect-settings';
import { GENESYS_SECRET_SETTINGS, GENESYS_SETTING_NAMES, loadGenesysSettings, redactGenesysSettings, type GenesysSettings } from './genesys-settings';
import { CXONE_SECRET_SETTINGS, CXONE_SETTING_NAMES, loadCxoneSettings, redactCxoneSettings, type CxoneSettings } from './cxone-settings';
import { loadRedisSettings, redactRedisSettings, REDIS_SECRET_SETTINGS, REDIS_SETTING_NAMES, type RedisSettings } from './redis-settings';

/** SYNC_PARTITIONS when not set: enough to spread a 3-node Redis Cluster and a few replicas. */
export const DEFAULT_SYNC_PARTITIONS = 8;

const bool = z.union([z.boolean(), z.enum(['true', 'false', '1', '0', 'yes', 'no'])]).transform((v) => v === true || v === 'true' || v === '1' || v === 'yes');
const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max);
const optionalText = z.string().trim().min(1).optional();

/**
 * Every setting, with its environment variable, default and meaning. The README's configuration reference is
 * this table. Secrets are marked so they can be redacted wherever the config is shown.
 */
const schema = z.object({
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must start with redis:// or rediss://').default('redis://127.0.0.1:6379'),
  REDIS_PREFIX: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'may use letters, digits, _ . - only').default('ps'),
  HTTP_HOST: z.string().default('0.0.0.0'),
  HTTP_PORT: int(0, 65535).default(3000),
  RULES_DIR: z.string().min(1).default('rules'),
  RULES_WATCH: bool.default(true),
  // Bounds on one rule file, so a hostile or broken file is an error instead of a crash (docs/rules.md, Limits).
  RULES_MAX_FILE_BYTES: int(1024, 64 * 1024 * 1024).default(1_048_576),
  RULES_MAX_DEPTH: int(4, 256).default(32),
  RULES_MAX_ERRORS_SHOWN: int(1, 10_000).default(50),
  DEFAULT_UNAVAILABLE_CODE: optionalText,
  ACD_CONNECTOR: z.enum(CONNECTOR_NAMES, { message: `must be one of ${CONNECTOR_NAMES.join(', ')}` }).default('generic'),
  // The generic connector's settings (contract v1); required only with ACD_CONNECTOR=generic (see genericSettings).
  ACD_BASE_URL: z.url({ message: 'must be an http(s) URL' }).refine((u) => /^https?:/.test(u), 'must be an http(s) URL').optional(),
  ACD_TOKEN: z.string().min(1, 'must not be empty').optional(),
  ACD_WEBHOOK_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
  ACD_WEBHOOK_TOLERANCE_SEC: int(1, 3600).default(300),
  // Memory for webhook bodies being received at once, before any signature could be checked (docs/operations.md).
  ACD_WEBHOOK_INFLIGHT_MAX_MB: int(1, 4096).default(32),
  ACD_TIMEOUT_MS: int(100, 120_000).default(5000),
  // No default: a deployment that forgets it must not boot against some other org (see salesforceModeProblem).
  SALESFORCE_MODE: z.enum(['memory', 'live'], { message: 'must be live or memory' }).optional(),
  AGENT_MAP_FILE: optionalText,
  DIRECTORY_REFRESH_INTERVAL_MS: int(0).default(300_000),
  RECONCILE_INTERVAL_MS: int(0).default(600_000),
  SYNC_ATTEMPTS: int(1, 100).default(8),
  SYNC_BACKOFF_MS: int(10, 600_000).default(500),
  INBOUND_CONCURRENCY: int(1, 1000).default(16),
  SYNC_CONCURRENCY: int(1, 1000).default(16),
  ECHO_WINDOW_MS: int(1000).default(600_000),
  SYNC_BURST_WINDOW_MS: int(0, 60_000).default(300),
  SYNC_PARTITIONS: int(1, 1024).default(DEFAULT_SYNC_PARTITIONS),
  PARTITION_HEARTBEAT_MS: int(100, 60_000).default(1_000),
  PARTITION_TTL_MS: int(500, 300_000).default(3_000),
  ACD_DEFERRED_WINDOW_MS: int(60_000).default(28_800_000),
  SF_CONFIRM_TIMEOUT_MS: int(100).default(15_000),
  SF_CONFIRM_ATTEMPTS: int(1, 20).default(3),
  SF_COMMAND_TTL_MS: int(1000).default(30_000),
  SF_CONSOLE_RECHECK_MS: int(1000).default(300_000),
  AUDIT_MAX_PER_AGENT: int(1, 100_000).default(200),
  AUDIT_MAX_BYTES_PER_AGENT: int(0, 16 * 1024 * 1024).refine((n) => n === 0 || n >= 1024, 'must be 0 (no byte bound) or at least 1024').default(32 * 1024),
  INTAKE_DEDUP_TTL_SEC: int(60).default(86_400),
  SHUTDOWN_TIMEOUT_MS: int(100).default(15_000),
  // On SIGTERM: not ready but still taking requests for this long, before the stop (a load balancer's lag).
  SHUTDOWN_DRAIN_MS: int(0, 600_000).default(0),
  WORKER_LOCK_DURATION_MS: int(1000).default(5_000),
  WORKER_STALLED_INTERVAL_MS: int(500).default(1_000),
  STREAM_LEASE_TTL_MS: int(1000, 600_000).default(3_000),
  // The stream's holder hands the lease on after its stream has been down this long (0: never).
  STREAM_LEASE_GIVE_UP_MS: int(0, 3_600_000).refine((ms) => ms === 0 || ms >= 1000, 'must be 0 (never) or at least 1000').default(60_000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  ADMIN_DASHBOARD: z.enum(['on', 'off']).default('on'),
  ADMIN_USER: optionalText,
  ADMIN_PASSWORD: optionalText,
  ADMIN_DASHBOARD_READ_ONLY: bool.default(true),
  OPS_HOST: optionalText,
  OPS_PORT: int(0, 65535).optional(),
});

export type RawSettings = z.infer<typeof schema>;

/** Settings whose values are secrets: never logged, never in job payloads, never in error messages. */
export const SECRET_SETTINGS: readonly string[] = ['REDIS_URL', 'ACD_TOKEN', 'ACD_WEBHOOK_SECRET', 'ADMIN_PASSWORD', SECRETS_KEY_SETTING, ...REDIS_SECRET_SETTINGS, ...SALESFORCE_SECRET_SETTINGS, ...CXONE_SECRET_SETTINGS, ...WEBEX_SECRET_SETTINGS, ...GENESYS_SECRET_SETTINGS];

/** The generic connector's settings (contract v1, docs/architecture.md). */
export interface GenericConnectorSettings {
  baseUrl: string;
  token: string;
  webhookSecret: string;
}

/** The generic connector's three settings are required once it is the chosen connector. */
function genericSettings(s: RawSettings): GenericConnectorSettings {
  for (const key of ['ACD_BASE_URL', 'ACD_TOKEN', 'ACD_WEBHOOK_SECRET'] as const) {
    if (s[key] === undefined) throw new ConfigError(`invalid setting ${key}: required with ACD_CONNECTOR=generic; it is not set`);
  }
  return { baseUrl: (s.ACD_BASE_URL as string).replace(/\/+$/, ''), token: s.ACD_TOKEN as string, webhookSecret: s.ACD_WEBHOOK_SECRET as string };
}

export interface AppConfig {
  /** Single server, Cluster or Sentinel (`RedisSettings`, libs/config/src/redis-settings.ts). */
  redis: RedisSettings;
  http: { host: string; port: number };
  /** `limits`: see `RuleLimits` in libs/rules (bytes, levels, issues kept per severity). */
  rules: { dir: string; watch: boolean; defaultUnavailableCode?: string; limits: { maxFileBytes: number; maxDepth: number; maxIssues: number } };
  /** `webhookInflightMaxBytes`: webhook bodies being received at once, all requests together (bytes). */
  /**
   * The contact-center side. Settings every connector shares sit at the top; each connector's own settings are
   * loaded only when it is the one chosen (ACD_CONNECTOR), so the others' need not be set.
   */
  acd: {
    connector: ConnectorName;
    webhookToleranceSec: number;
    webhookInflightMaxBytes: number;
    timeoutMs: number;
    generic?: GenericConnectorSettings;
    /** The NiCE CXone connector's settings (CXONE_*), loaded only with ACD_CONNECTOR=cxone. */
    cxone?: CxoneSettings;
    /** The Webex Contact Center connector's settings (WEBEX_*), loaded only with ACD_CONNECTOR=webex. */
    webex?: WebexSettings;
    /** The Amazon Connect connector's settings (AMAZON_CONNECT_*), loaded only with ACD_CONNECTOR=amazon-connect. */
    amazonConnect?: AmazonConnectSettings;
    /** The Genesys Cloud CX connector's settings (GENESYS_*), loaded only with ACD_CONNECTOR=genesys. */
    genesys?: GenesysSettings;
  };
  /**
   * `mode` is required to boot (`salesforceModeProblem`). `settings` is set in `live` mode (the jsforce adapter);
   * `memory` means a test embedding the daemon hands it an in-memory org of its own.
   * `streamLeaseTtlMs`: one replica at a time consumes the presence stream, holding a Redis lease of this TTL;
   * a standby takes over within about TTL + TTL/3 after the active replica died. `streamGiveUpMs`: the holder
   * releases the lease once its stream has been down (not subscribed) this long, so another replica tries (0: never).
   */
  salesforce: { mode?: 'memory' | 'live'; confirmTimeoutMs: number; confirmAttempts: number; commandTtlMs: number; consoleRecheckMs: number; streamLeaseTtlMs: number; streamGiveUpMs: number; settings?: SalesforceSettings };
  directory: { refreshIntervalMs: number; agentMapFile?: string };
  reconcile: { intervalMs: number };
  sync: { attempts: number; backoffMs: number; inboundConcurrency: number; syncConcurrency: number; echoWindowMs: number; burstWindowMs: number; deferredWindowMs: number; lockDurationMs: number; stalledIntervalMs: number;
    /** Agents are spread over this many partitions (SYNC_PARTITIONS); fixed for a deployment's Redis. */
    partitions: number;
    /** Partition ownership: heartbeat period and how long a silent replica keeps its partitions (ms). */
    partitionHeartbeatMs: number; partitionTtlMs: number };
  /** Audit records kept per agent: at most this many, and at most this many bytes of them (0: no byte bound). */
  audit: { maxPerAgent: number; maxBytesPerAgent: number };
  intake: { dedupTtlSec: number };
  shutdownTimeoutMs: number;
  /** On SIGTERM, how long the daemon stays up not ready but taking requests before it stops (ms; 0: stop at once). */
  shutdownDrainMs: number;
  logLevel: RawSettings['LOG_LEVEL'];
  /**
   * The queue dashboard at /admin/queues, behind HTTP basic auth with these credentials. `readOnly`: it shows
   * queues and jobs but refuses every change (retry, remove, pause, add).
   */
  admin: { dashboard: boolean; readOnly: boolean; user?: string; password?: string };
  /**
   * A separate listener for the operator's endpoints (dashboard, metrics, status, audit), so the HTTP port can
   * face the contact center with the webhook and health checks only. Unset: everything on the HTTP port.
   */
  ops?: { host: string; port: number };
}

/**
 * One line per problem, `invalid setting KEY: what is expected; what was given` (a secret's value is never
 * shown), so a start with several bad settings names every one of them.
 */
function settingProblems(issues: readonly z.core.$ZodIssue[], input: Readonly<Record<string, string>>): string {
  const lines = issues.map((issue) => {
    const key = String(issue.path[0] ?? 'settings');
    const given = input[key];
    const shown = given === undefined ? 'it is not set' : SECRET_SETTINGS.includes(key) ? 'the value given is not valid' : `got "${given}"`;
    return `invalid setting ${key}: ${given === undefined ? 'required' : issue.message}; ${shown}`;
  });
  return [...new Set(lines)].join('\n');
}

/** The given (non-empty) values of the settings a schema names. */
function givenSettings(keys: readonly string[], env: Record<string, string | undefined>): Record<string, string> {
  const input: Record<string, string> = {};
  for (const key of keys) if (env[key] !== undefined && env[key] !== '') input[key] = env[key] as string;
  return input;
}

function ruleLimitsOf(s: Pick<RawSettings, 'RULES_MAX_FILE_BYTES' | 'RULES_MAX_DEPTH' | 'RULES_MAX_ERRORS_SHOWN'>): AppConfig['rules']['limits'] {
  return { maxFileBytes: s.RULES_MAX_FILE_BYTES, maxDepth: s.RULES_MAX_DEPTH, maxIssues: s.RULES_MAX_ERRORS_SHOWN };
}

const ruleCheckSchema = schema.pick({
  RULES_DIR: true, RULES_MAX_FILE_BYTES: true, RULES_MAX_DEPTH: true, RULES_MAX_ERRORS_SHOWN: true, DEFAULT_UNAVAILABLE_CODE: true,
  ACD_CONNECTOR: true, SALESFORCE_MODE: true,
});

/** The settings rule validation depends on besides the catalogs: what `rules validate` needs even offline. */
export interface RuleCheckSettings {
  dir: string;
  defaultUnavailableCode?: string;
  limits: AppConfig['rules']['limits'];
  /** The connector the daemon would use (its capabilities bound what rules may set). */
  connector: ConnectorName;
  /** Whether the settings name a contact center to read: ACD_CONNECTOR, or one of the generic connector's settings. */
  contactCenterConfigured: boolean;
  /** Whether Salesforce's catalogs can be read with the SALESFORCE_* settings (SALESFORCE_MODE=live). */
  salesforceConfigured: boolean;
}

/**
 * The rule-check settings alone, without the daemon's others (credentials, Redis): the `rules` commands read
 * these first, so they check the same limits, default code and connector as the daemon even with no catalog.
 * A bad value is a `ConfigError` naming it, like `loadConfig`.
 */
export function loadRuleCheckSettings(env: Record<string, string | undefined> = process.env): RuleCheckSettings {
  const input = givenSettings(Object.keys(ruleCheckSchema.shape), env);
  const parsed = ruleCheckSchema.safeParse(input);
  if (!parsed.success) throw new ConfigError(settingProblems(parsed.error.issues, input));
  const s = parsed.data;
  const genericGiven = Object.keys(givenSettings(['ACD_BASE_URL', 'ACD_TOKEN', 'ACD_WEBHOOK_SECRET'], env)).length > 0;
  return {
    dir: s.RULES_DIR, defaultUnavailableCode: s.DEFAULT_UNAVAILABLE_CODE, limits: ruleLimitsOf(s), connector: s.ACD_CONNECTOR,
    contactCenterConfigured: input.ACD_CONNECTOR !== undefined || genericGiven,
    salesforceConfigured: s.SALESFORCE_MODE === 'live',
  };
}

/**
 * Reads and validates the settings. Throws `ConfigError` naming each setting that is wrong, one line each, with
 * what was expected and (for non-secrets) what was given.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): AppConfig {
  const input: Record<string, string> = {};
  for (const key of Object.keys(schema.shape)) {
    const value = env[key];
    // Secrets may be stored encrypted (`enc:v1:…`, see `presence-sync secrets encrypt`); they are opened here.
    if (value !== undefined && value !== '') input[key] = SECRET_SETTINGS.includes(key) ? revealSetting(key, value, env) ?? value : value;
  }
  const parsed = schema.safeParse(input);
  if (!parsed.success) throw new ConfigError(settingProblems(parsed.error.issues, input));
  const s = parsed.data;
  // A signed request passes while its timestamp is within the tolerance of server time, and it may be stamped
  // up to the tolerance ahead: a replay can come 2 x tolerance after the event id was first seen.
  if (s.INTAKE_DEDUP_TTL_SEC < 2 * s.ACD_WEBHOOK_TOLERANCE_SEC) {
    throw new ConfigError(
      `invalid setting INTAKE_DEDUP_TTL_SEC: must be at least 2 × ACD_WEBHOOK_TOLERANCE_SEC (${2 * s.ACD_WEBHOOK_TOLERANCE_SEC} s), or a replayed webhook could outlive its de-duplication; ` +
      `got "${s.INTAKE_DEDUP_TTL_SEC}" with ACD_WEBHOOK_TOLERANCE_SEC=${s.ACD_WEBHOOK_TOLERANCE_SEC}`,
    );
  }
  if (s.OPS_PORT !== undefined && s.OPS_PORT !== 0 && s.OPS_PORT === s.HTTP_PORT) {
    throw new ConfigError(`invalid setting OPS_PORT: must differ from HTTP_PORT (${s.HTTP_PORT}), the webhook's port; got "${s.OPS_PORT}"`);
  }
  if (s.PARTITION_HEARTBEAT_MS * 2 > s.PARTITION_TTL_MS) {
    throw new ConfigError(`invalid setting PARTITION_TTL_MS: must be at least 2 × PARTITION_HEARTBEAT_MS (${2 * s.PARTITION_HEARTBEAT_MS} ms), or a live replica would lose its partitions between two heartbeats; got "${s.PARTITION_TTL_MS}"`);
  }
  if (s.OPS_HOST !== undefined && s.OPS_PORT === undefined) {
    throw new ConfigError('invalid setting OPS_PORT: required when OPS_HOST is set (the operator endpoints need their own port); it is not set');
  }
  return {
    redis: loadRedisSettings(env, s.REDIS_URL, s.REDIS_PREFIX, input.REDIS_URL !== undefined),
    http: { host: s.HTTP_HOST, port: s.HTTP_PORT },
    rules: {
      dir: s.RULES_DIR, watch: s.RULES_WATCH, defaultUnavailableCode: s.DEFAULT_UNAVAILABLE_CODE,
      limits: ruleLimitsOf(s),
    },
    acd: {
      connector: s.ACD_CONNECTOR, webhookToleranceSec: s.ACD_WEBHOOK_TOLERANCE_SEC,
      webhookInflightMaxBytes: s.ACD_WEBHOOK_INFLIGHT_MAX_MB * 1024 * 1024, timeoutMs: s.ACD_TIMEOUT_MS,
      generic: s.ACD_CONNECTOR === 'generic' ? genericSettings(s) : undefined,
      cxone: s.ACD_CONNECTOR === 'cxone' ? loadCxoneSettings(env) : undefined,
      webex: s.ACD_CONNECTOR === 'webex' ? loadWebexSettings(env) : undefined,
      amazonConnect: s.ACD_CONNECTOR === 'amazon-connect' ? loadAmazonConnectSettings(env) : undefined,
      genesys: s.ACD_CONNECTOR === 'genesys' ? loadGenesysSettings(env) : undefined,
    },
    salesforce: {
      mode: s.SALESFORCE_MODE, confirmTimeoutMs: s.SF_CONFIRM_TIMEOUT_MS, confirmAttempts: s.SF_CONFIRM_ATTEMPTS, commandTtlMs: s.SF_COMMAND_TTL_MS, consoleRecheckMs: s.SF_CONSOLE_RECHECK_MS,
      streamLeaseTtlMs: s.STREAM_LEASE_TTL_MS, streamGiveUpMs: s.STREAM_LEASE_GIVE_UP_MS,
      settings: s.SALESFORCE_MODE === 'live' ? loadSalesforceSettings(env) : undefined,
    },
    directory: { refreshIntervalMs: s.DIRECTORY_REFRESH_INTERVAL_MS, agentMapFile: s.AGENT_MAP_FILE },
    reconcile: { intervalMs: s.RECONCILE_INTERVAL_MS },
    sync: { attempts: s.SYNC_ATTEMPTS, backoffMs: s.SYNC_BACKOFF_MS, inboundConcurrency: s.INBOUND_CONCURRENCY, syncConcurrency: s.SYNC_CONCURRENCY, echoWindowMs: s.ECHO_WINDOW_MS, burstWindowMs: s.SYNC_BURST_WINDOW_MS, deferredWindowMs: s.ACD_DEFERRED_WINDOW_MS,
      lockDurationMs: s.WORKER_LOCK_DURATION_MS, stalledIntervalMs: s.WORKER_STALLED_INTERVAL_MS,
      partitions: s.SYNC_PARTITIONS, partitionHeartbeatMs: s.PARTITION_HEARTBEAT_MS, partitionTtlMs: s.PARTITION_TTL_MS },
    audit: { maxPerAgent: s.AUDIT_MAX_PER_AGENT, maxBytesPerAgent: s.AUDIT_MAX_BYTES_PER_AGENT },
    intake: { dedupTtlSec: s.INTAKE_DEDUP_TTL_SEC },
    shutdownTimeoutMs: s.SHUTDOWN_TIMEOUT_MS, shutdownDrainMs: s.SHUTDOWN_DRAIN_MS,
    logLevel: s.LOG_LEVEL,
    admin: { dashboard: s.ADMIN_DASHBOARD === 'on', readOnly: s.ADMIN_DASHBOARD_READ_ONLY, user: s.ADMIN_USER, password: s.ADMIN_PASSWORD },
    // Same interface as the webhook unless told otherwise: inside a container 127.0.0.1 would be unreachable.
    ops: s.OPS_PORT === undefined ? undefined : { host: s.OPS_HOST ?? s.HTTP_HOST, port: s.OPS_PORT },
  };
}

/**
 * The daemon refuses to serve the queue dashboard unprotected. Checked when the daemon boots (not in
 * `loadConfig`) because the CLI's other commands read the same settings and never serve the dashboard.
 * Returns the one readable line to stop the boot with, or undefined.
 */
export function adminDashboardProblem(config: AppConfig): string | undefined {
  if (!config.admin.dashboard || (config.admin.user && config.admin.password)) return undefined;
  const missing = [config.admin.user ? undefined : 'ADMIN_USER', config.admin.password ? undefined : 'ADMIN_PASSWORD'].filter(Boolean).join(' and ');
  return `invalid setting ${missing}: required while ADMIN_DASHBOARD=on (the queue dashboard at /admin/queues is served only behind basic auth); set ${missing} or ADMIN_DASHBOARD=off`;
}

/**
 * The daemon needs `SALESFORCE_MODE` said out loud: `live` builds the jsforce adapter from the SALESFORCE_*
 * settings (the sandbox and the bench too, against the Salesforce emulator); `memory` is only for tests that embed
 * the daemon and hand it an in-memory org of their own. The daemon never makes up an org by itself: one that did
 * would report ready, audit every agent as unlinked and restart its event ids on every boot. Checked when the
 * daemon boots, like `adminDashboardProblem`, because the other CLI commands read the same settings without it.
 * `orgSupplied`: the caller hands the daemon an org (`createDaemon` overrides). Returns one readable line, or undefined.
 */
export function salesforceModeProblem(config: AppConfig, orgSupplied: boolean): string | undefined {
  const live = 'live (a real org through the SALESFORCE_* settings, see docs/salesforce-setup.md)';
  const memory = 'memory is only for tests that hand the daemon their own in-memory org';
  const demo = 'To try presence-sync without credentials: npm run demo (the sandbox)';
  switch (config.salesforce.mode) {
    case undefined:
      return `invalid setting SALESFORCE_MODE: required; it is not set. Use ${live}; ${memory}. ${demo}`;
    case 'memory':
      return orgSupplied ? undefined : `invalid setting SALESFORCE_MODE: ${memory}, never for presence-sync start; use ${live}. ${demo}`;
    case 'live':
      return orgSupplied ? 'invalid setting SALESFORCE_MODE: live builds its own Salesforce adapter, but an org was handed in; use memory with an org of your own' : undefined;
  }
}

/** The settings with secrets replaced, for logs and the status endpoint. */
export function redactConfig(config: AppConfig): AppConfig {
  return {
    ...config,
    redis: redactRedisSettings(config.redis),
    acd: { ...config.acd, generic: config.acd.generic && { ...config.acd.generic, token: '***', webhookSecret: '***' }, cxone: config.acd.cxone && redactCxoneSettings(config.acd.cxone), webex: config.acd.webex && redactWebexSettings(config.acd.webex), genesys: config.acd.genesys && redactGenesysSettings(config.acd.genesys) },
    admin: { ...config.admin, password: config.admin.password && '***' },
    salesforce: { ...config.salesforce, settings: config.salesforce.settings && redactSalesforceSettings(config.salesforce.settings) },
  };
}

/** The names of the settings, for docs and `--help`. */
export const SETTING_NAMES = [...Object.keys(schema.shape), ...REDIS_SETTING_NAMES, ...SALESFORCE_SETTING_NAMES, SECRETS_KEY_SETTING, ...CXONE_SETTING_NAMES, ...WEBEX_SETTING_NAMES, ...GENESYS_SETTING_NAMES];
