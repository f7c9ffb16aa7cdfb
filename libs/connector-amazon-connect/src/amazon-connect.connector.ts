import {
  ConnectClient,
  DescribeAgentStatusCommand,
  DescribeUserCommand,
  GetCurrentUserDataCommand,
  ListAgentStatusesCommand,
  ListRoutingProfilesCommand,
  ListUsersCommand,
  PutUserStatusCommand,
  type UserData,
} from '@aws-sdk/client-connect';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import {
  ConfigError,
  ContactCenterPort,
  ContactCenterReadError,
  PermanentWriteError,
  RateLimitedError,
  RetryableWriteError,
  SILENT_CONNECTOR_LOGGER,
  type AcdAgent,
  type AcdState,
  type AcdTeam,
  type AcdWriteRequest,
  type AcdWriteResult,
  type CheckpointStore,
  type ConnectorCapabilities,
  type ConnectorHealth,
  type ConnectorLogger,
} from '@presence-sync/domain';
import { AgentEventStreamReader } from './agent-event-stream.reader';
import { statusIdOfArn, toAcdChange, toAcdState, type AgentEventStatus, type ConnectStatusType } from './amazon-connect-agent-event.mapping';
import { LocalTokenBucket, type ConnectRateLimiter } from './amazon-connect-rate-limiter';

/** Static AWS credentials (tests and the sandbox only; the daemon uses the standard AWS credential chain). */
export interface StaticAwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  /** When temporary credentials expire: the SDK asks the provider again shortly before. */
  expiration?: Date;
}

/** A source of (temporary) credentials the SDK calls again before they expire, like the default chain does. */
export type AwsCredentialProvider = () => Promise<StaticAwsCredentials>;

/** Options of {@link AmazonConnectConnector}; the daemon builds them from the AMAZON_CONNECT_* settings. */
export interface AmazonConnectConnectorOptions {
  instanceId: string;
  region: string;
  /** The agent event stream's name or ARN. */
  agentEventStream: string;
  connectEndpoint?: string;
  kinesisEndpoint?: string;
  /** Omitted in production: the SDK's default credential chain. */
  credentials?: StaticAwsCredentials | AwsCredentialProvider;
  /** Shared by the replicas in the daemon (Redis); default: a bucket in this process of `requestsPerSecond` / `burst`. */
  limiter?: ConnectRateLimiter;
  /** Default 1.5. */
  requestsPerSecond?: number;
  /** Default 4. */
  burst?: number;
  /** Default 500. */
  pollIntervalMs?: number;
  /** Default 24 h (the stream's default retention). */
  checkpointMaxAgeMs?: number;
  /** Where shard checkpoints are kept (Redis in the daemon). Default: in memory, so every start is a gap. */
  checkpoints?: CheckpointStore;
  /** How long the status and routing-profile catalogs are reused, ms. Default 60000. */
  catalogTtlMs?: number;
  now?: () => number;
  logger?: ConnectorLogger;
}

/** One agent status with what the connector needs of it. */
export interface ConnectStatus {
  id: string;
  arn?: string;
  name: string;
  type: ConnectStatusType;
  enabled: boolean;
}

/** Used when a throttled answer carries no usable `Retry-After`. */
const DEFAULT_RETRY_AFTER_MS = 1_000;
const MAX_RETRY_AFTER_MS = 10 * 60_000;
/** Reads wait out a throttle themselves only when the pause is short. */
const MAX_READ_RATE_LIMIT_WAIT_MS = 5_000;
const READ_ATTEMPTS = 3;
const READ_RETRY_DELAY_MS = 250;
/** GetCurrentUserData takes at most 100 agents per filter and returns at most 100 per page. */
const USER_DATA_CHUNK = 100;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

class MemoryCheckpoints implements CheckpointStore {
  private readonly values = new Map<string, string>();
  async get(key: string): Promise<string | undefined> {
    return this.values.get(key);
  }
  async set(key: string, value: string): Promise<void> {
    this.values.set(key, value);
  }
}

/** What an AWS SDK error tells about the failure. */
interface AwsFailure {
  name: string;
  status?: number;
  retryAfterMs?: number;
  message: string;
}

function awsFailure(error: unknown): AwsFailure {
  const e = error as { name?: string; message?: string; $metadata?: { httpStatusCode?: number }; $response?: { headers?: Record<string, string> } };
  const header = e?.$response?.headers?.['retry-after'];
  let retryAfterMs: number | undefined;
  if (header && /^\d+(\.\d+)?$/.test(header.trim())) retryAfterMs = Math.min(Math.ceil(Number(header) * 1000), MAX_RETRY_AFTER_MS);
  return { name: e?.name ?? 'Error', status: e?.$metadata?.httpStatusCode, retryAfterMs, message: (e?.message ?? String(error)).slice(0, 200) };
}

const THROTTLED = new Set(['ThrottlingException', 'TooManyRequestsException', 'LimitExceededException']);
const isThrottled = (f: AwsFailure) => f.status === 429 || THROTTLED.has(f.name);
const isServer = (f: AwsFailure) => (f.status !== undefined && f.status >= 500) || f.name === 'InternalServiceException';
const isUnauthorized = (f: AwsFailure) => f.status === 401 || f.status === 403 || f.name === 'AccessDeniedException' || f.name === 'UnrecognizedClientException';

/**
 * The Amazon Connect connector (docs/connectors/amazon-connect.md). AWS SDK v3 with the standard credential chain.
 *
 * - Changes: `source` reads the instance's agent event stream on Kinesis (LOGIN, LOGOUT, STATE_CHANGE; HEART_BEAT
 *   ignored). Reading the stream costs no Connect API calls.
 * - Teams are routing profiles (every agent has exactly one; GetCurrentUserData can filter by it). Agent statuses
 *   are instance-wide, so every team lists the same enabled CUSTOM statuses as its Unavailable codes.
 * - Writes: `GetCurrentUserData` for the agent (is a contact in progress?), then `PutUserStatus`. On a contact,
 *   Connect keeps the status as the agent's *next* status: the write answers `deferred`.
 * - Every Connect call first takes a token from the limiter shared by the replicas, so the daemon stays under the
 *   account's default 2 requests/s (burst 5).
 */
export class AmazonConnectConnector extends ContactCenterPort {
  override readonly name = 'amazon-connect';
  /** Fixed for the class: `rules validate` reads it from the connector's name alone (no settings, no network). */
  static readonly capabilities: ConnectorCapabilities = {
    settable: ['Available', 'Unavailable', 'Offline'], onContact: 'deferred', echoesRequestId: false, afterWorkCodes: false,
    // Connect has no Unavailable without a CUSTOM status: rows wanting plain Unavailable are refused by validation.
    unavailableNeedsCode: true,
  };
  override readonly capabilities = AmazonConnectConnector.capabilities;
  readonly connect: ConnectClient;
  readonly kinesis: KinesisClient;
  private readonly reader: AgentEventStreamReader;
  private readonly limiter: ConnectRateLimiter;
  private readonly now: () => number;
  private readonly catalogTtlMs: number;
  private readonly logger: ConnectorLogger;
  private statuses?: { at: number; list: ConnectStatus[] };
  private readonly statusDetails = new Map<string, { modified?: number; status: ConnectStatus }>();
  private profiles?: { at: number; list: AcdTeam[] };
  private readonly users = new Map<string, { modified?: number; email?: string; teamId?: string }>();
  /** Connect API calls made, by kind (the cost figures in the docs come from these). */
  readonly calls = { reads: 0, writes: 0 };

  constructor(private readonly options: AmazonConnectConnectorOptions) {
    super();
    if (!options.instanceId) throw new ConfigError('Amazon Connect instanceId must not be empty');
    this.now = options.now ?? Date.now;
    this.logger = options.logger ?? SILENT_CONNECTOR_LOGGER;
    this.catalogTtlMs = options.catalogTtlMs ?? 60_000;
    const credentials = options.credentials;
    // maxAttempts 1: writes must not retry inside (the queue retries with the same request); reads retry below,
    // each attempt through the limiter.
    this.connect = new ConnectClient({ region: options.region, maxAttempts: 1, ...(options.connectEndpoint ? { endpoint: options.connectEndpoint } : {}), ...(credentials ? { credentials } : {}) });
    this.kinesis = new KinesisClient({ region: options.region, maxAttempts: 1, ...(options.kinesisEndpoint ? { endpoint: options.kinesisEndpoint } : {}), ...(credentials ? { credentials } : {}) });
    this.limiter = options.limiter ?? new LocalTokenBucket(options.requestsPerSecond ?? 1.5, options.burst ?? 4, this.now);
    this.reader = new AgentEventStreamReader(this.kinesis, options.checkpoints ?? new MemoryCheckpoints(), {
      stream: options.agentEventStream,
      pollIntervalMs: options.pollIntervalMs ?? 500,
      checkpointMaxAgeMs: options.checkpointMaxAgeMs ?? 86_400_000,
      now: this.now,
      logger: this.logger,
      toChange: (event, receivedAt) => toAcdChange(event, receivedAt, (status) => this.typeOf(status)),
    });
  }

  /** The agent event stream reader (run by the daemon on one replica under a lease). */
  override get source(): AgentEventStreamReader {
    return this.reader;
  }

  /** Lists the agent statuses once, so wrong credentials, region or instance stop the boot with one line. */
  override async start(): Promise<void> {
    try {
      await this.statusCatalog(true);
    } catch (error) {
      if (error instanceof ContactCenterReadError && (error.reason === 'unauthorized' || error.httpStatus === 404)) {
        throw new ConfigError(`invalid Amazon Connect settings: ${error.message}; check AMAZON_CONNECT_INSTANCE_ID, AMAZON_CONNECT_REGION and the AWS credentials' IAM permissions`);
      }
      throw error;
    }
  }

  override async stop(): Promise<void> {
    await this.reader.stop();
    this.connect.destroy();
    this.kinesis.destroy();
  }

  override async health(): Promise<ConnectorHealth> {
    try {
      await this.read('ListAgentStatuses', () => this.connect.send(new ListAgentStatusesCommand({ InstanceId: this.options.instanceId, MaxResults: 1 })));
      const source = this.reader.isRunning ? '; agent event stream read on this replica' : '';
      return { up: true, detail: `Amazon Connect answers${source}` };
    } catch (e) {
      return { up: false, detail: e instanceof Error ? e.message : String(e) };
    }
  }

  /** Every user with e-mail, routing profile and current state (ListUsers, DescribeUser for new or changed users, GetCurrentUserData). */
  override async listAgents(): Promise<AcdAgent[]> {
    const instance = this.options.instanceId;
    const summaries: Array<{ id: string; modified?: number }> = [];
    let token: string | undefined;
    do {
      const page = await this.read('ListUsers', () => this.connect.send(new ListUsersCommand({ InstanceId: instance, MaxResults: 1000, NextToken: token })));
      for (const u of page.UserSummaryList ?? []) if (u.Id) summaries.push({ id: u.Id, modified: u.LastModifiedTime?.getTime() });
      token = page.NextToken;
    } while (token);
    const agents: AcdAgent[] = [];
    for (const { id, modified } of summaries) {
      let known = this.users.get(id);
      // E-mail and routing profile only come with DescribeUser: described again only when the user changed.
      if (!known || modified === undefined || known.modified !== modified) {
        const described = await this.read('DescribeUser', () => this.connect.send(new DescribeUserCommand({ InstanceId: instance, UserId: id })));
        known = { modified, email: described.User?.IdentityInfo?.Email?.trim() || undefined, teamId: described.User?.RoutingProfileId };
        this.users.set(id, known);
      }
      const agent: AcdAgent = { agentId: id, state: { state: 'Offline' } };
      if (known.email) agent.email = known.email;
      if (known.teamId) agent.teamId = known.teamId;
      agents.push(agent);
    }
    const byId = new Map(agents.map((a) => [a.agentId, a]));
    for (let i = 0; i < agents.length; i += USER_DATA_CHUNK) {
      const chunk = agents.slice(i, i + USER_DATA_CHUNK).map((a) => a.agentId);
      for (const data of await this.userData(chunk)) {
        const agent = data.User?.Id ? byId.get(data.User.Id) : undefined;
        if (!agent) continue;
        agent.state = await this.stateOfUserData(data);
        const since = data.Status?.StatusStartTimestamp?.getTime();
        if (since !== undefined) agent.since = since;
      }
    }
    return agents;
  }

  /** Routing profiles, each with the instance's enabled CUSTOM statuses as its Unavailable codes. */
  override async listTeams(): Promise<AcdTeam[]> {
    const codes = (await this.statusCatalog()).filter((s) => s.type === 'CUSTOM' && s.enabled).map((s) => s.name);
    const cached = this.profiles;
    if (cached && this.now() - cached.at <= this.catalogTtlMs) return cached.list.map((t) => ({ ...t, unavailableCodes: codes }));
    const list: AcdTeam[] = [];
    let token: string | undefined;
    do {
      const page = await this.read('ListRoutingProfiles', () => this.connect.send(new ListRoutingProfilesCommand({ InstanceId: this.options.instanceId, MaxResults: 1000, NextToken: token })));
      for (const p of page.RoutingProfileSummaryList ?? []) if (p.Id) list.push({ teamId: p.Id, name: p.Name ?? p.Id, unavailableCodes: [] });
      token = page.NextToken;
    } while (token);
    this.profiles = { at: this.now(), list };
    return list.map((t) => ({ ...t, unavailableCodes: codes }));
  }

  /**
   * Sets the agent's status: GetCurrentUserData (1 call) then PutUserStatus (1 call); the status catalog is read
   * when older than `catalogTtlMs` or when a code is not in it.
   *
   * @returns `deferred` when the agent is on a contact or in after-contact work (Connect applies the status when
   *   it ends), else `applied`
   * @throws PermanentWriteError `not-settable`, `code-required` (Connect has no Unavailable without a status),
   *   `unknown-code` (no enabled CUSTOM status of that name), `unknown-agent` (ResourceNotFoundException),
   *   `unauthorized`, `rejected` (other 4xx)
   * @throws RateLimitedError on ThrottlingException / 429
   * @throws RetryableWriteError `server-error` (5xx), `network`
   */
  override async setState(request: AcdWriteRequest): Promise<AcdWriteResult> {
    const { agentId } = request;
    const wanted = request.state;
    if (!(this.capabilities.settable as readonly string[]).includes(wanted.state)) {
      throw new PermanentWriteError('not-settable', `Amazon Connect sets ${wanted.state} itself; it cannot be written`);
    }
    if (wanted.state === 'Unavailable' && !wanted.code) {
      throw new PermanentWriteError('code-required', 'Amazon Connect has no Unavailable without a status: the rule must name a CUSTOM agent status');
    }
    const status = await this.writeStep(() => this.statusFor(wanted));
    if (!status) {
      throw new PermanentWriteError('unknown-code', `Amazon Connect has no enabled ${wanted.state === 'Unavailable' ? `CUSTOM agent status ${JSON.stringify(wanted.code)}` : `${wanted.state === 'Available' ? 'ROUTABLE' : 'OFFLINE'} agent status`}`);
    }
    const data = await this.writeStep(() => this.userData([agentId], 'write'));
    const onContact = (data[0]?.Contacts ?? []).length > 0;
    try {
      await this.limiter.take();
      this.calls.writes++;
      await this.connect.send(new PutUserStatusCommand({ InstanceId: this.options.instanceId, UserId: agentId, AgentStatusId: status.id }));
    } catch (error) {
      throw this.writeFailure('PutUserStatus', error);
    }
    if (onContact) return { kind: 'deferred' };
    const applied: AcdState = wanted.state === 'Unavailable' ? { state: 'Unavailable', code: status.name } : { state: wanted.state };
    return { kind: 'applied', state: applied };
  }

  /** The status catalog, each CUSTOM status described once (again only when it changed) for its ENABLED state. */
  async statusCatalog(force = false): Promise<ConnectStatus[]> {
    const cached = this.statuses;
    if (!force && cached && this.now() - cached.at <= this.catalogTtlMs) return cached.list;
    const list: ConnectStatus[] = [];
    let token: string | undefined;
    do {
      const page = await this.read('ListAgentStatuses', () => this.connect.send(new ListAgentStatusesCommand({ InstanceId: this.options.instanceId, MaxResults: 100, NextToken: token })));
      for (const s of page.AgentStatusSummaryList ?? []) {
        if (!s.Id || !s.Name || !s.Type) continue;
        const modified = s.LastModifiedTime?.getTime();
        const known = this.statusDetails.get(s.Id);
        if (known && modified !== undefined && known.modified === modified) {
          list.push(known.status);
          continue;
        }
        const d = await this.read('DescribeAgentStatus', () => this.connect.send(new DescribeAgentStatusCommand({ InstanceId: this.options.instanceId, AgentStatusId: s.Id })));
        const status: ConnectStatus = { id: s.Id, arn: s.Arn, name: s.Name, type: s.Type as ConnectStatusType, enabled: d.AgentStatus?.State !== 'DISABLED' };
        this.statusDetails.set(s.Id, { modified, status });
        list.push(status);
      }
      token = page.NextToken;
    } while (token);
    this.statuses = { at: this.now(), list };
    return list;
  }

  /** The status type of an event's status, from the catalog (events of older streams carry no `Type`). */
  private typeOf(status: AgentEventStatus): string | undefined {
    const id = statusIdOfArn(status.ARN);
    const list = this.statuses?.list ?? [];
    return (list.find((s) => (id && s.id === id) || (status.ARN && s.arn === status.ARN)) ?? list.find((s) => s.name === status.Name))?.type;
  }

  private async stateOfUserData(data: UserData): Promise<AcdState> {
    const arn = data.Status?.StatusArn;
    let type = this.typeOf({ ARN: arn, Name: data.Status?.StatusName });
    if (!type) type = (await this.statusCatalog(true)).find((s) => s.arn === arn || s.id === statusIdOfArn(arn))?.type;
    return toAcdState({ name: data.Status?.StatusName, type }, (data.Contacts ?? []).map((c) => c.AgentContactState));
  }

  private async statusFor(wanted: { state: string; code?: string }): Promise<ConnectStatus | undefined> {
    const pick = (list: ConnectStatus[]) => list.find((s) => s.enabled && (
      wanted.state === 'Available' ? s.type === 'ROUTABLE' : wanted.state === 'Offline' ? s.type === 'OFFLINE' : s.type === 'CUSTOM' && s.name === wanted.code));
    return pick(await this.statusCatalog()) ?? pick(await this.statusCatalog(true));
  }

  /** The current data of these users (logged-in ones only; an agent not listed is offline). */
  private async userData(agentIds: string[], mode: 'read' | 'write' = 'read'): Promise<UserData[]> {
    const out: UserData[] = [];
    let token: string | undefined;
    do {
      const input = { InstanceId: this.options.instanceId, Filters: { Agents: agentIds }, MaxResults: USER_DATA_CHUNK, NextToken: token };
      const page = mode === 'read'
        ? await this.read('GetCurrentUserData', () => this.connect.send(new GetCurrentUserDataCommand(input)))
        : await this.once('GetCurrentUserData', () => this.connect.send(new GetCurrentUserDataCommand(input)));
      out.push(...(page.UserDataList ?? []));
      token = page.NextToken;
    } while (token);
    return out;
  }

  /** One call through the limiter, no retry (a write's read step: the queue retries the write). */
  private async once<T>(what: string, call: () => Promise<T>): Promise<T> {
    await this.limiter.take();
    this.calls.reads++;
    try {
      return await call();
    } catch (error) {
      throw this.readFailure(what, awsFailure(error));
    }
  }

  /** A read through the limiter, retried on 5xx and network failures and after a short throttle. */
  private async read<T>(what: string, call: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      await this.limiter.take();
      this.calls.reads++;
      try {
        return await call();
      } catch (error) {
        const f = awsFailure(error);
        const mapped = this.readFailure(what, f);
        if (attempt >= READ_ATTEMPTS) throw mapped;
        if (mapped instanceof RateLimitedError) {
          if (mapped.retryAfterMs > MAX_READ_RATE_LIMIT_WAIT_MS) throw mapped;
          await sleep(mapped.retryAfterMs);
        } else if (mapped.retryable) await sleep(READ_RETRY_DELAY_MS * attempt);
        else throw mapped;
      }
    }
  }

  private readFailure(what: string, f: AwsFailure): ContactCenterReadError | RateLimitedError {
    const text = `Amazon Connect ${what}: ${f.name}${f.status ? ` (HTTP ${f.status})` : ''}: ${f.message}`;
    if (isThrottled(f)) return new RateLimitedError(f.retryAfterMs ?? DEFAULT_RETRY_AFTER_MS, text);
    if (isUnauthorized(f)) return new ContactCenterReadError('unauthorized', text, f.status);
    if (isServer(f)) return new ContactCenterReadError('server-error', text, f.status);
    if (f.status === undefined) return new ContactCenterReadError('network', text);
    return new ContactCenterReadError('http-error', text, f.status);
  }

  /** Runs a read step of a write and turns its failure into the write's taxonomy. */
  private async writeStep<T>(step: () => Promise<T>): Promise<T> {
    try {
      return await step();
    } catch (error) {
      if (error instanceof RateLimitedError) throw error;
      if (error instanceof ContactCenterReadError) {
        if (error.retryable) throw new RetryableWriteError(error.reason, error.message, error.httpStatus);
        if (error.httpStatus === 404 || /ResourceNotFound/.test(error.message)) throw new PermanentWriteError('unknown-agent', error.message, error.httpStatus);
        if (error.httpStatus === 400 && /InvalidParameter|InvalidRequest/.test(error.message)) throw new PermanentWriteError('unknown-agent', error.message, error.httpStatus);
        throw new PermanentWriteError(error.reason === 'unauthorized' ? 'unauthorized' : 'rejected', error.message, error.httpStatus);
      }
      throw error;
    }
  }

  private writeFailure(what: string, error: unknown): Error {
    const f = awsFailure(error);
    const text = `Amazon Connect ${what}: ${f.name}${f.status ? ` (HTTP ${f.status})` : ''}: ${f.message}`;
    if (isThrottled(f)) return new RateLimitedError(f.retryAfterMs ?? DEFAULT_RETRY_AFTER_MS, text);
    if (f.name === 'ResourceNotFoundException' || f.status === 404) return new PermanentWriteError('unknown-agent', text, f.status);
    if (isUnauthorized(f)) return new PermanentWriteError('unauthorized', text, f.status);
    if (isServer(f)) return new RetryableWriteError('server-error', text, f.status);
    if (f.status === undefined) return new RetryableWriteError('network', text);
    return new PermanentWriteError('rejected', text, f.status);
  }
}
