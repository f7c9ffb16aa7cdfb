import { ConfigError } from '@presence-sync/domain';
import { z } from 'zod';

/**
 * The validated Amazon Connect connector settings. There are no secrets here: AWS credentials come from the
 * standard AWS credential chain (environment, shared config/SSO, container or instance role), never from our
 * settings, so this object may be logged as is.
 */
export interface AmazonConnectSettings {
  /** The Connect instance id (the UUID; an instance ARN is reduced to it). */
  instanceId: string;
  /** The AWS region of the instance and of the stream, e.g. `eu-central-1`. */
  region: string;
  /** The instance's agent event stream (Kinesis): its name or ARN. */
  agentEventStream: string;
  /** Overrides the Connect API endpoint (tests, VPC endpoints). No trailing slash. */
  connectEndpoint?: string;
  /** Overrides the Kinesis endpoint (tests, VPC endpoints). No trailing slash. */
  kinesisEndpoint?: string;
  /** Connect API requests per second the daemon allows itself, all replicas together (token bucket refill). */
  requestsPerSecond: number;
  /** Token bucket size: requests that may go out back to back after a quiet period. */
  burst: number;
  /** Time between two reads of an idle shard, ms (Kinesis allows 5 GetRecords per second per shard). */
  pollIntervalMs: number;
  /** A shard checkpoint older than this is past the stream's retention: read from the trim horizon and repair drift, ms. */
  checkpointMaxAgeMs: number;
}

const httpUrl = z.string().trim().regex(/^https?:\/\/[^\s/@]+(\/[^\s]*)?$/i, 'must be an http(s) URL without credentials').transform((u) => u.replace(/\/+$/, ''));
const INSTANCE_ARN = /^arn:aws[\w-]*:connect:[\w-]+:\d{12}:instance\/([0-9a-f-]{36})$/i;

const schema = z.object({
  AMAZON_CONNECT_INSTANCE_ID: z.string().trim().refine((v) => /^[0-9a-f-]{36}$/i.test(v) || INSTANCE_ARN.test(v), 'must be the instance id (a UUID) or the instance ARN')
    .transform((v) => INSTANCE_ARN.exec(v)?.[1] ?? v),
  AMAZON_CONNECT_REGION: z.string().trim().regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, 'must be an AWS region such as eu-central-1'),
  AMAZON_CONNECT_AGENT_EVENT_STREAM: z.string().trim().regex(/^([A-Za-z0-9_.-]{1,128}|arn:aws[\w-]*:kinesis:[\w-]+:\d{12}:stream\/[A-Za-z0-9_.-]{1,128})$/, 'must be the Kinesis stream name or ARN'),
  AMAZON_CONNECT_ENDPOINT: httpUrl.optional(),
  AMAZON_CONNECT_KINESIS_ENDPOINT: httpUrl.optional(),
  // The account default is 2 requests/s with a burst of 5 per API; staying under it leaves room for the console.
  AMAZON_CONNECT_REQUESTS_PER_SECOND: z.coerce.number().positive('must be positive').max(100, 'must be at most 100').default(1.5),
  AMAZON_CONNECT_BURST: z.coerce.number().int().min(1, 'must be at least 1').max(100, 'must be at most 100').default(4),
  AMAZON_CONNECT_POLL_INTERVAL_MS: z.coerce.number().int().min(200, 'must be at least 200 (5 reads/s per shard)').max(10_000, 'must be at most 10000').default(500),
  AMAZON_CONNECT_CHECKPOINT_MAX_AGE_MS: z.coerce.number().int().min(60_000, 'must be at least 60000').max(31_536_000_000, 'must be at most 365 days').default(86_400_000),
});

type Key = keyof z.infer<typeof schema> & string;

/** The names of the Amazon Connect settings, for docs and `--help`. */
export const AMAZON_CONNECT_SETTING_NAMES = Object.keys(schema.shape) as Key[];

/**
 * Reads and validates the Amazon Connect settings (only when ACD_CONNECTOR=amazon-connect). Throws `ConfigError`
 * with one readable line naming the setting.
 */
export function loadAmazonConnectSettings(env: Record<string, string | undefined> = process.env): AmazonConnectSettings {
  const input: Record<string, string> = {};
  for (const key of AMAZON_CONNECT_SETTING_NAMES) {
    const raw = env[key];
    if (raw !== undefined && raw !== '') input[key] = raw;
  }
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = String(issue.path[0] ?? 'AMAZON_CONNECT settings');
    const given = input[key];
    if (given === undefined) throw new ConfigError(`invalid setting ${key}: required with ACD_CONNECTOR=amazon-connect; it is not set`);
    throw new ConfigError(`invalid setting ${key}: ${issue.message}; got "${given}"`);
  }
  const s = parsed.data;
  return {
    instanceId: s.AMAZON_CONNECT_INSTANCE_ID, region: s.AMAZON_CONNECT_REGION, agentEventStream: s.AMAZON_CONNECT_AGENT_EVENT_STREAM,
    connectEndpoint: s.AMAZON_CONNECT_ENDPOINT, kinesisEndpoint: s.AMAZON_CONNECT_KINESIS_ENDPOINT,
    requestsPerSecond: s.AMAZON_CONNECT_REQUESTS_PER_SECOND, burst: s.AMAZON_CONNECT_BURST,
    pollIntervalMs: s.AMAZON_CONNECT_POLL_INTERVAL_MS, checkpointMaxAgeMs: s.AMAZON_CONNECT_CHECKPOINT_MAX_AGE_MS,
  };
}
