import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttp2Server, type Http2Server, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import type { AcdState } from '@presence-sync/domain';
import { listenLocal } from '../listen.util';

type AnyRequest = IncomingMessage | Http2ServerRequest;
type AnyResponse = ServerResponse | Http2ServerResponse;

/** A status of the emulated instance. */
export interface EmulatedStatus {
  id: string;
  name: string;
  type: 'ROUTABLE' | 'CUSTOM' | 'OFFLINE';
  state?: 'ENABLED' | 'DISABLED';
}

export interface EmulatedUser {
  id: string;
  username: string;
  email?: string;
  firstName?: string;
  lastName?: string;
  routingProfileId: string;
  /** Logged in with this status (default: logged in, the ROUTABLE status). */
  loggedIn?: boolean;
  statusId?: string;
}

export interface AmazonConnectEmulatorOptions {
  instanceId?: string;
  region?: string;
  streamName?: string;
  statuses: EmulatedStatus[];
  routingProfiles: Array<{ id: string; name: string }>;
  users: EmulatedUser[];
  /** Open shards at the start. Default 1. */
  shards?: number;
  /** Records per ListUsers / ListAgentStatuses page at most (paging is exercised). Default 1000. */
  pageSize?: number;
  /** Ports on 127.0.0.1 of the Connect API and of the Kinesis endpoint. Default 0 (a free one each). */
  port?: number;
  kinesisPort?: number;
}

interface UserState extends Required<Pick<EmulatedUser, 'id' | 'username' | 'routingProfileId'>> {
  email?: string;
  firstName?: string;
  lastName?: string;
  loggedIn: boolean;
  statusId: string;
  statusStart: number;
  nextStatusId?: string;
  contacts: Array<{ id: string; state: 'CONNECTED' | 'ENDED'; since: number }>;
  modified: number;
}

interface StreamRecord {
  seq: string;
  partitionKey: string;
  data: Buffer;
  arrivedAt: number;
}

interface EmulatedShard {
  id: string;
  parent?: string;
  adjacentParent?: string;
  start: bigint;
  end: bigint;
  firstSeq: string;
  endSeq?: string;
  records: StreamRecord[];
}

/** A request the emulator answered (tests count API calls with it). */
export interface EmulatorRequest {
  api: 'connect' | 'kinesis';
  operation: string;
  status: number;
  /** The user a Connect call names in its path (DescribeUser, PutUserStatus). */
  userId?: string;
}

/** One user as the instance holds them, for pages and tests. */
export interface EmulatedUserView {
  id: string;
  username: string;
  email?: string;
  routingProfileId: string;
  routingProfileName: string;
  /** The user's state as rules.md names it (see {@link AmazonConnectEmulator.acdStateOf}). */
  state: AcdState;
  /** Epoch ms since when `state` holds. */
  since: number;
  /** The status Connect sets when the agent's contacts end (a PutUserStatus during a contact), as a state. */
  next?: AcdState;
}

type Fault = { status: number; retryAfterSec?: number };

const ACCOUNT = '123456789012';

/** Static AWS credentials for the emulator: any will do (SigV4 must be present, it is not verified). */
export const AMAZON_CONNECT_EMULATOR_CREDENTIALS = { accessKeyId: 'AKIDEMULATOR', secretAccessKey: 'emulator-secret-key' } as const;
const MAX_HASH = (1n << 128n) - 1n;

/**
 * An in-process Amazon Connect + Kinesis endpoint for tests and the sandbox: the real AWS SDK v3 clients talk to it
 * with an endpoint override and any static credentials (SigV4 is required to be present, not verified).
 *
 * - Connect (REST JSON, the paths the SDK sends): ListUsers, DescribeUser, ListAgentStatuses, DescribeAgentStatus,
 *   ListRoutingProfiles, GetCurrentUserData, PutUserStatus. Errors as Connect sends them (`x-amzn-errortype`).
 * - Kinesis (JSON 1.1, `x-amz-target: Kinesis_20131202.*`): ListShards, GetShardIterator, GetRecords, with shards,
 *   sequence numbers, closed shards with ChildShards, and a split on request.
 * - The agent event stream: every agent action writes one record (LOGIN, LOGOUT, STATE_CHANGE, HEART_BEAT) with the
 *   current and previous snapshots, partitioned by agent ARN (MD5 of the key into the shards' hash ranges, as
 *   Kinesis does), so one agent's events stay in one shard and in order.
 * - Faults: the next Connect calls answer 429 / 5xx; the stream's reads fail while interrupted; the next record is
 *   written twice, or held back and written after the following one.
 */
export class AmazonConnectEmulator {
  readonly instanceId: string;
  readonly region: string;
  readonly streamName: string;
  readonly requests: EmulatorRequest[] = [];
  private readonly statuses: EmulatedStatus[];
  private readonly profiles: Array<{ id: string; name: string }>;
  private readonly users = new Map<string, UserState>();
  private readonly shards: EmulatedShard[] = [];
  private readonly pageSize: number;
  private readonly ports: { connect: number; kinesis: number };
  private server?: Server;
  private kinesisServer?: Http2Server;
  private faults: Fault[] = [];
  private streamDown = false;
  private readonly keysSeen = new Set<string>();
  private readonly keysExpired = new Set<string>();
  private duplicate = false;
  private hold = false;
  private held?: { key: string; data: Buffer };
  private seqCounter = 0n;
  private shardCounter = 0;
  private lastEventAt = 0;
  private readonly listeners: Array<(userId: string) => void> = [];

  constructor(options: AmazonConnectEmulatorOptions) {
    this.instanceId = options.instanceId ?? '0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0';
    this.region = options.region ?? 'eu-central-1';
    this.streamName = options.streamName ?? 'connect-agent-events';
    this.statuses = options.statuses.map((s) => ({ state: 'ENABLED', ...s }));
    this.profiles = options.routingProfiles;
    this.pageSize = options.pageSize ?? 1000;
    this.ports = { connect: options.port ?? 0, kinesis: options.kinesisPort ?? 0 };
    const routable = this.statuses.find((s) => s.type === 'ROUTABLE');
    const offline = this.statuses.find((s) => s.type === 'OFFLINE');
    if (!routable || !offline) throw new Error('AmazonConnectEmulator: a ROUTABLE and an OFFLINE status are required');
    const now = Date.now();
    for (const u of options.users) {
      const loggedIn = u.loggedIn ?? true;
      this.users.set(u.id, {
        id: u.id, username: u.username, email: u.email, firstName: u.firstName, lastName: u.lastName, routingProfileId: u.routingProfileId,
        loggedIn, statusId: u.statusId ?? (loggedIn ? routable.id : offline.id), statusStart: now, contacts: [], modified: Math.floor(now / 1000),
      });
    }
    const count = BigInt(options.shards ?? 1);
    for (let i = 0n; i < count; i++) {
      const start = (MAX_HASH + 1n) * i / count;
      const end = (MAX_HASH + 1n) * (i + 1n) / count - 1n;
      this.addShard(start, end);
    }
  }

  get instanceArn(): string {
    return `arn:aws:connect:${this.region}:${ACCOUNT}:instance/${this.instanceId}`;
  }

  get streamArn(): string {
    return `arn:aws:kinesis:${this.region}:${ACCOUNT}:stream/${this.streamName}`;
  }

  agentArn(userId: string): string {
    return `${this.instanceArn}/agent/${userId}`;
  }

  statusArn(statusId: string): string {
    return `${this.instanceArn}/agent-state/${statusId}`;
  }

  /**
   * Starts both endpoints: Connect over HTTP/1.1 and Kinesis over cleartext HTTP/2 (the SDK's Kinesis client only
   * speaks HTTP/2).
   */
  async start(): Promise<{ endpoint: string; kinesisEndpoint: string }> {
    const server = createServer((req, res) => void this.handle(req, res));
    this.server = server;
    const endpoint = await listenLocal(server, this.ports.connect);
    const kinesis = createHttp2Server((req, res) => void this.handle(req, res));
    this.kinesisServer = kinesis;
    kinesis.on('session', (session) => this.sessions.add(session.once('close', () => this.sessions.delete(session))));
    return { endpoint, kinesisEndpoint: await listenLocal(kinesis, this.ports.kinesis) };
  }

  private readonly sessions = new Set<import('node:http2').ServerHttp2Session>();

  async stop(): Promise<void> {
    const server = this.server;
    const kinesis = this.kinesisServer;
    this.server = undefined;
    this.kinesisServer = undefined;
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    if (kinesis) {
      for (const session of this.sessions) session.destroy();
      await new Promise<void>((resolve) => kinesis.close(() => resolve()));
    }
  }

  // ---- the agent's side -------------------------------------------------------------------------------------

  user(id: string): UserState {
    const u = this.users.get(id);
    if (!u) throw new Error(`AmazonConnectEmulator: unknown user ${id}`);
    return u;
  }

  status(id: string): EmulatedStatus {
    const s = this.statuses.find((x) => x.id === id);
    if (!s) throw new Error(`AmazonConnectEmulator: unknown status ${id}`);
    return s;
  }

  statusByName(name: string): EmulatedStatus | undefined {
    return this.statuses.find((s) => s.name === name);
  }

  /** The agent picks a status in the CCP (logging in first when logged out). */
  agentSetStatus(userId: string, statusId: string): void {
    const u = this.user(userId);
    const type = this.status(statusId).type;
    if (type === 'OFFLINE') return this.agentLogout(userId);
    this.change(u, u.loggedIn ? 'STATE_CHANGE' : 'LOGIN', () => {
      u.loggedIn = true;
      u.statusId = statusId;
      u.statusStart = Date.now();
    });
  }

  agentLogout(userId: string): void {
    const u = this.user(userId);
    const offline = this.statuses.find((s) => s.type === 'OFFLINE') as EmulatedStatus;
    this.change(u, 'LOGOUT', () => {
      u.loggedIn = false;
      u.statusId = offline.id;
      u.statusStart = Date.now();
      u.contacts = [];
      u.nextStatusId = undefined;
    });
  }

  /**
   * A status chosen while the agent is on a contact or in after-contact work (picked in the CCP, or set with
   * PutUserStatus): Connect keeps it as the agent's next status and applies it when the contacts end.
   */
  setNextStatus(userId: string, statusId: string): void {
    const u = this.user(userId);
    this.status(statusId);
    if (u.contacts.length === 0) throw new Error(`AmazonConnectEmulator: user ${userId} is not on a contact`);
    this.change(u, 'STATE_CHANGE', () => (u.nextStatusId = statusId));
  }

  startContact(userId: string): void {
    const u = this.user(userId);
    this.change(u, 'STATE_CHANGE', () => u.contacts.push({ id: randomUUID(), state: 'CONNECTED', since: Date.now() }));
  }

  /** The contact ends: into after-contact work (the contact in state ENDED), or straight to the next status. */
  endContact(userId: string, options: { acw?: boolean } = {}): void {
    const u = this.user(userId);
    this.change(u, 'STATE_CHANGE', () => {
      if (options.acw) for (const c of u.contacts) Object.assign(c, { state: 'ENDED', since: Date.now() });
      else this.clearContacts(u);
    });
  }

  endAcw(userId: string): void {
    const u = this.user(userId);
    this.change(u, 'STATE_CHANGE', () => this.clearContacts(u));
  }

  heartbeat(userId: string): void {
    const u = this.user(userId);
    this.emit(u, 'HEART_BEAT', this.agentSnapshot(u), this.agentSnapshot(u));
  }

  /** Called with a user id whenever that user's status, login or contacts change, whoever changed them. */
  onStateChange(listener: (userId: string) => void): void {
    this.listeners.push(listener);
  }

  /**
   * What the instance holds for the user, as the states of rules.md: logged out → Offline; a contact being handled
   * → Busy; a contact in ENDED (after-contact work) → AfterWork; else the status: ROUTABLE → Available, OFFLINE →
   * Offline, CUSTOM → Unavailable with the status name as the code.
   */
  acdStateOf(userId: string): AcdState {
    const u = this.user(userId);
    if (!u.loggedIn) return { state: 'Offline' };
    if (u.contacts.some((c) => c.state === 'CONNECTED')) return { state: 'Busy' };
    if (u.contacts.length > 0) return { state: 'AfterWork' };
    return this.statusState(u.statusId);
  }

  /** Every user with their routing profile, state and next status. */
  snapshot(): EmulatedUserView[] {
    return [...this.users.values()].map((u) => {
      const view: EmulatedUserView = {
        id: u.id, username: u.username, email: u.email, routingProfileId: u.routingProfileId,
        routingProfileName: this.profiles.find((p) => p.id === u.routingProfileId)?.name ?? u.routingProfileId,
        state: this.acdStateOf(u.id), since: u.contacts.length > 0 ? Math.max(...u.contacts.map((c) => c.since)) : u.statusStart,
      };
      if (u.nextStatusId) view.next = this.statusState(u.nextStatusId);
      return view;
    });
  }

  private statusState(statusId: string): AcdState {
    const s = this.status(statusId);
    if (s.type === 'ROUTABLE') return { state: 'Available' };
    if (s.type === 'OFFLINE') return { state: 'Offline' };
    return { state: 'Unavailable', code: s.name };
  }

  private clearContacts(u: UserState): void {
    u.contacts = [];
    if (u.nextStatusId) {
      u.statusId = u.nextStatusId;
      u.statusStart = Date.now();
      u.nextStatusId = undefined;
    }
  }

  // ---- faults -----------------------------------------------------------------------------------------------

  /**
   * Temporary credentials expire: every access key that signed a request so far is refused from now on
   * (`ExpiredTokenException`), as AWS refuses a session token past its expiration.
   */
  expireAccessKeys(): void {
    for (const key of this.keysSeen) this.keysExpired.add(key);
  }

  /** The access key ids that signed requests, in first-use order. */
  get accessKeysSeen(): string[] {
    return [...this.keysSeen];
  }

  private keyIsCurrent(req: AnyRequest): boolean {
    const key = /Credential=([^/,\s]+)\//.exec(String(req.headers.authorization ?? ''))?.[1] ?? '';
    if (this.keysExpired.has(key)) return false;
    this.keysSeen.add(key);
    return true;
  }

  /** The next `count` Connect API calls answer with this status (429 as ThrottlingException). */
  failNext(count: number, status: number, retryAfterSec?: number): void {
    for (let i = 0; i < count; i++) this.faults.push({ status, retryAfterSec });
  }

  interruptStream(): void {
    this.streamDown = true;
  }

  resumeStream(): void {
    this.streamDown = false;
  }

  duplicateNext(): void {
    this.duplicate = true;
  }

  holdNext(): void {
    this.hold = true;
  }

  get holding(): boolean {
    return this.held !== undefined;
  }

  /** Splits an open shard in two at the middle of its hash range (Kinesis SplitShard): it closes, its children open. */
  splitShard(shardId?: string): [string, string] {
    const parent = shardId ? this.shards.find((s) => s.id === shardId) : this.shards.find((s) => s.endSeq === undefined);
    if (!parent || parent.endSeq !== undefined) throw new Error(`AmazonConnectEmulator: no open shard ${shardId ?? ''}`);
    parent.endSeq = this.nextSeq();
    const mid = (parent.start + parent.end) / 2n;
    const a = this.addShard(parent.start, mid, parent.id);
    const b = this.addShard(mid + 1n, parent.end, parent.id);
    return [a.id, b.id];
  }

  /** The open shards' ids. */
  openShards(): string[] {
    return this.shards.filter((s) => s.endSeq === undefined).map((s) => s.id);
  }

  /** The shard an agent's events go to now. */
  shardOf(userId: string): string {
    return this.shardFor(this.agentArn(userId)).id;
  }

  /** Drops every record of the stream written before now (retention passed). */
  trimAll(): void {
    for (const s of this.shards) {
      s.records = [];
      this.trimmed.add(s.id);
    }
  }

  // ---- the stream -------------------------------------------------------------------------------------------

  private addShard(start: bigint, end: bigint, parent?: string): EmulatedShard {
    const shard: EmulatedShard = { id: `shardId-${String(this.shardCounter++).padStart(12, '0')}`, parent, start, end, firstSeq: this.nextSeq(), records: [] };
    this.shards.push(shard);
    return shard;
  }

  private nextSeq(): string {
    this.seqCounter += 1n;
    return (49_000_000_000_000_000_000_000_000_000_000_000_000_000_000n + this.seqCounter).toString();
  }

  private shardFor(partitionKey: string): EmulatedShard {
    const hash = BigInt(`0x${createHash('md5').update(partitionKey).digest('hex')}`);
    const shard = this.shards.find((s) => s.endSeq === undefined && hash >= s.start && hash <= s.end);
    if (!shard) throw new Error('AmazonConnectEmulator: no open shard for the key');
    return shard;
  }

  private put(key: string, data: Buffer): void {
    if (this.hold && !this.held) {
      this.hold = false;
      this.held = { key, data };
      return;
    }
    const copies = this.duplicate ? 2 : 1;
    this.duplicate = false;
    for (let i = 0; i < copies; i++) this.shardFor(key).records.push({ seq: this.nextSeq(), partitionKey: key, data, arrivedAt: Date.now() });
    if (this.held) {
      const held = this.held;
      this.held = undefined;
      this.shardFor(held.key).records.push({ seq: this.nextSeq(), partitionKey: held.key, data: held.data, arrivedAt: Date.now() });
    }
  }

  private change(u: UserState, type: string, apply: () => void): void {
    const previous = u.loggedIn ? this.agentSnapshot(u) : null;
    apply();
    this.emit(u, type, u.loggedIn ? this.agentSnapshot(u) : null, previous);
    for (const listener of this.listeners) listener(u.id);
  }

  private emit(u: UserState, type: string, current: unknown, previous: unknown): void {
    // Event times strictly increase, so two actions in the same millisecond still have an order.
    this.lastEventAt = Math.max(Date.now(), this.lastEventAt + 1);
    const event = {
      AWSAccountId: ACCOUNT, AgentARN: this.agentArn(u.id), EventId: randomUUID(), EventTimestamp: new Date(this.lastEventAt).toISOString(),
      EventType: type, InstanceARN: this.instanceArn, Version: '2019-05-25', CurrentAgentSnapshot: current, PreviousAgentSnapshot: previous,
    };
    this.put(event.AgentARN, Buffer.from(JSON.stringify(event)));
  }

  private agentSnapshot(u: UserState): unknown {
    const s = this.status(u.statusId);
    const next = u.nextStatusId ? this.status(u.nextStatusId) : undefined;
    const profile = this.profiles.find((p) => p.id === u.routingProfileId);
    return {
      AgentStatus: { ARN: this.statusArn(s.id), Name: s.name, StartTimestamp: new Date(u.statusStart).toISOString(), Type: s.type },
      NextAgentStatus: next ? { ARN: this.statusArn(next.id), Name: next.name, Type: next.type } : null,
      Configuration: {
        Username: u.username, FirstName: u.firstName, LastName: u.lastName, AgentHierarchyGroups: null,
        RoutingProfile: { ARN: `${this.instanceArn}/routing-profile/${u.routingProfileId}`, Name: profile?.name },
      },
      Contacts: u.contacts.map((c) => ({
        ContactId: c.id, Channel: 'VOICE', InitiationMethod: 'INBOUND', State: c.state, StateStartTimestamp: new Date(c.since).toISOString(),
      })),
    };
  }

  // ---- HTTP -------------------------------------------------------------------------------------------------

  private async handle(req: AnyRequest, res: AnyResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const target = req.headers['x-amz-target'];
    if (typeof target === 'string') return this.kinesisCall(target, raw, req, res);
    return this.connectCall(req, raw, res);
  }

  private send(res: AnyResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    (res as ServerResponse).writeHead(status, { 'content-type': 'application/json', ...headers });
    (res as ServerResponse).end(JSON.stringify(body ?? {}));
  }

  private connectError(res: AnyResponse, call: { operation: string; userId?: string }, status: number, type: string, message: string, headers: Record<string, string> = {}): void {
    this.requests.push({ api: 'connect', ...call, status });
    this.send(res, status, { message, Message: message }, { 'x-amzn-errortype': type, ...headers });
  }

  private connectCall(req: AnyRequest, raw: string, res: AnyResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const method = req.method ?? 'GET';
    const route = routeOf(method, parts);
    if (!route) return this.connectError(res, { operation: `${method} ${url.pathname}` }, 404, 'UnknownOperationException', `no route ${method} ${url.pathname}`);
    const call: { operation: string; userId?: string } = { operation: route.op, ...(route.userAt !== undefined ? { userId: parts[route.userAt] } : {}) };
    if (!String(req.headers.authorization ?? '').startsWith('AWS4-HMAC-SHA256')) {
      return this.connectError(res, call, 403, 'UnrecognizedClientException', 'missing SigV4 signature');
    }
    if (!this.keyIsCurrent(req)) return this.connectError(res, call, 403, 'ExpiredTokenException', 'The security token included in the request is expired');
    const fault = this.faults.shift();
    if (fault) {
      if (fault.status === 429) {
        return this.connectError(res, call, 429, 'ThrottlingException', 'Rate exceeded', fault.retryAfterSec !== undefined ? { 'retry-after': String(fault.retryAfterSec) } : {});
      }
      return this.connectError(res, call, fault.status, fault.status >= 500 ? 'InternalServiceException' : 'InvalidRequestException', 'injected fault');
    }
    if (parts[route.instanceAt] !== this.instanceId) return this.connectError(res, call, 404, 'ResourceNotFoundException', `instance ${parts[1]} not found`);
    const body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
    const agents = (body.Filters as { Agents?: string[] } | undefined)?.Agents;
    // GetCurrentUserData names its users in the body: one user is a write's read step, worth counting per user.
    if (route.op === 'GetCurrentUserData' && agents?.length === 1) call.userId = agents[0];
    const ok = (value: unknown) => {
      this.requests.push({ api: 'connect', ...call, status: 200 });
      this.send(res, 200, value);
    };
    const page = <T>(items: T[]): { items: T[]; next?: string } => {
      const from = Number(url.searchParams.get('nextToken') ?? body.NextToken ?? 0);
      const max = Math.min(Number(url.searchParams.get('maxResults') ?? body.MaxResults ?? 1000), this.pageSize);
      const slice = items.slice(from, from + max);
      return { items: slice, next: from + max < items.length ? String(from + max) : undefined };
    };
    switch (route.op) {
      case 'ListUsers': {
        const p = page([...this.users.values()]);
        return ok({ UserSummaryList: p.items.map((u) => ({ Id: u.id, Arn: this.agentArn(u.id), Username: u.username, LastModifiedTime: u.modified })), NextToken: p.next });
      }
      case 'DescribeUser': {
        const u = this.users.get(parts[2]);
        if (!u) return this.connectError(res, call, 404, 'ResourceNotFoundException', 'user not found');
        return ok({ User: {
          Id: u.id, Arn: this.agentArn(u.id), Username: u.username, RoutingProfileId: u.routingProfileId, SecurityProfileIds: [], LastModifiedTime: u.modified,
          IdentityInfo: { FirstName: u.firstName, LastName: u.lastName, Email: u.email }, PhoneConfig: { PhoneType: 'SOFT_PHONE' },
        } });
      }
      case 'ListAgentStatuses': {
        const p = page(this.statuses);
        return ok({ AgentStatusSummaryList: p.items.map((s) => ({ Id: s.id, Arn: this.statusArn(s.id), Name: s.name, Type: s.type, LastModifiedTime: 1_700_000_000 })), NextToken: p.next });
      }
      case 'DescribeAgentStatus': {
        const s = this.statuses.find((x) => x.id === parts[2]);
        if (!s) return this.connectError(res, call, 404, 'ResourceNotFoundException', 'status not found');
        return ok({ AgentStatus: { AgentStatusId: s.id, AgentStatusARN: this.statusArn(s.id), Name: s.name, Type: s.type, State: s.state, LastModifiedTime: 1_700_000_000 } });
      }
      case 'ListRoutingProfiles': {
        const p = page(this.profiles);
        return ok({ RoutingProfileSummaryList: p.items.map((r) => ({ Id: r.id, Arn: `${this.instanceArn}/routing-profile/${r.id}`, Name: r.name })), NextToken: p.next });
      }
      case 'GetCurrentUserData': {
        if (!agents || agents.length === 0 || agents.length > 100) return this.connectError(res, call, 400, 'InvalidParameterException', 'Filters.Agents must hold 1 to 100 agents');
        const found = agents.map((id) => this.users.get(id)).filter((u): u is UserState => !!u && u.loggedIn);
        const p = page(found);
        return ok({ UserDataList: p.items.map((u) => {
          const s = this.status(u.statusId);
          return {
            User: { Id: u.id, Arn: this.agentArn(u.id) }, RoutingProfile: { Id: u.routingProfileId },
            Status: { StatusStartTimestamp: u.statusStart / 1000, StatusArn: this.statusArn(s.id), StatusName: s.name },
            NextStatus: u.nextStatusId ? this.status(u.nextStatusId).name : undefined,
            Contacts: u.contacts.map((c) => ({ ContactId: c.id, Channel: 'VOICE', InitiationMethod: 'INBOUND', AgentContactState: c.state, StateStartTimestamp: c.since / 1000 })),
          };
        }), NextToken: p.next, ApproximateTotalCount: found.length });
      }
      case 'PutUserStatus': {
        const u = this.users.get(parts[2]);
        if (!u) return this.connectError(res, call, 404, 'ResourceNotFoundException', 'user not found');
        const s = this.statuses.find((x) => x.id === body.AgentStatusId);
        if (!s || s.state === 'DISABLED') return this.connectError(res, call, 400, 'InvalidParameterException', 'AgentStatusId is not an enabled status');
        if (u.contacts.length > 0) this.setNextStatus(u.id, s.id);
        else if (s.type === 'OFFLINE') this.agentLogout(u.id);
        else if (u.statusId !== s.id || !u.loggedIn) this.agentSetStatus(u.id, s.id);
        return ok({});
      }
    }
  }

  private kinesisCall(target: string, raw: string, req: AnyRequest, res: AnyResponse): void {
    const op = target.replace(/^Kinesis_20131202\./, '');
    const fail = (status: number, type: string, message: string) => {
      this.requests.push({ api: 'kinesis', operation: op, status });
      this.send(res, status, { __type: type, message });
    };
    if (!String(req.headers.authorization ?? '').startsWith('AWS4-HMAC-SHA256')) return fail(400, 'MissingAuthenticationTokenException', 'missing SigV4 signature');
    if (!this.keyIsCurrent(req)) return fail(400, 'ExpiredTokenException', 'The security token included in the request is expired');
    const body = (raw ? JSON.parse(raw) : {}) as Record<string, unknown>;
    const ok = (value: unknown) => {
      this.requests.push({ api: 'kinesis', operation: op, status: 200 });
      this.send(res, 200, value);
    };
    const streamOk = () => body.StreamName === this.streamName || body.StreamARN === this.streamArn || (body.StreamName === undefined && body.StreamARN === undefined);
    if (op === 'GetRecords' && this.streamDown) return fail(500, 'InternalFailure', 'stream interrupted');
    switch (op) {
      case 'ListShards': {
        if (!body.NextToken && !streamOk()) return fail(400, 'ResourceNotFoundException', `Stream ${String(body.StreamName ?? body.StreamARN)} not found`);
        return ok({ Shards: this.shards.map((s) => this.shardView(s)) });
      }
      case 'GetShardIterator': {
        if (!streamOk()) return fail(400, 'ResourceNotFoundException', 'stream not found');
        const shard = this.shards.find((s) => s.id === body.ShardId);
        if (!shard) return fail(400, 'ResourceNotFoundException', `shard ${String(body.ShardId)} not found`);
        let pos: number;
        switch (body.ShardIteratorType) {
          case 'TRIM_HORIZON': pos = 0; break;
          case 'LATEST': pos = shard.records.length; break;
          case 'AT_TIMESTAMP': {
            const ms = Number(body.Timestamp) * 1000;
            const at = shard.records.findIndex((r) => r.arrivedAt >= ms);
            pos = at < 0 ? shard.records.length : at;
            break;
          }
          case 'AFTER_SEQUENCE_NUMBER':
          case 'AT_SEQUENCE_NUMBER': {
            const seq = BigInt(String(body.StartingSequenceNumber));
            const first = shard.records[0];
            // A trimmed record: Kinesis refuses a sequence number older than what the shard still holds.
            if (this.trimmed.has(shard.id) && (!first || BigInt(first.seq) > seq)) {
              return fail(400, 'InvalidArgumentException', `StartingSequenceNumber ${seq} is past the retention of shard ${shard.id}`);
            }
            const at = shard.records.findIndex((r) => BigInt(r.seq) >= seq);
            if (at < 0) pos = shard.records.length;
            else pos = body.ShardIteratorType === 'AFTER_SEQUENCE_NUMBER' && shard.records[at].seq === String(seq) ? at + 1 : at;
            break;
          }
          default: return fail(400, 'InvalidArgumentException', 'bad ShardIteratorType');
        }
        return ok({ ShardIterator: Buffer.from(JSON.stringify({ shard: shard.id, pos })).toString('base64') });
      }
      case 'GetRecords': {
        let it: { shard: string; pos: number };
        try {
          it = JSON.parse(Buffer.from(String(body.ShardIterator), 'base64').toString('utf8')) as { shard: string; pos: number };
        } catch {
          return fail(400, 'InvalidArgumentException', 'bad iterator');
        }
        const shard = this.shards.find((s) => s.id === it.shard);
        if (!shard) return fail(400, 'ResourceNotFoundException', 'shard not found');
        const limit = Math.min(Number(body.Limit ?? 10_000), 10_000);
        const records = shard.records.slice(it.pos, it.pos + limit);
        const pos = it.pos + records.length;
        const atEnd = pos >= shard.records.length;
        const closed = shard.endSeq !== undefined && atEnd;
        const answer: Record<string, unknown> = {
          Records: records.map((r) => ({ SequenceNumber: r.seq, ApproximateArrivalTimestamp: r.arrivedAt / 1000, Data: r.data.toString('base64'), PartitionKey: r.partitionKey })),
          MillisBehindLatest: atEnd ? 0 : 1000,
        };
        if (closed) answer.ChildShards = this.shards.filter((s) => s.parent === shard.id).map((s) => ({ ShardId: s.id, ParentShards: [shard.id], HashKeyRange: this.shardView(s).HashKeyRange }));
        else answer.NextShardIterator = Buffer.from(JSON.stringify({ shard: shard.id, pos })).toString('base64');
        return ok(answer);
      }
      default:
        return fail(400, 'UnknownOperationException', `operation ${op} is not emulated`);
    }
  }

  private readonly trimmed = new Set<string>();

  private shardView(s: EmulatedShard): Record<string, unknown> {
    return {
      ShardId: s.id, ParentShardId: s.parent, HashKeyRange: { StartingHashKey: s.start.toString(), EndingHashKey: s.end.toString() },
      SequenceNumberRange: { StartingSequenceNumber: s.firstSeq, ...(s.endSeq ? { EndingSequenceNumber: s.endSeq } : {}) },
    };
  }
}

function routeOf(method: string, p: string[]): { op: string; instanceAt: number; userAt?: number } | undefined {
  if (method === 'GET' && p[0] === 'users-summary' && p.length === 2) return { op: 'ListUsers', instanceAt: 1 };
  if (method === 'GET' && p[0] === 'users' && p.length === 3) return { op: 'DescribeUser', instanceAt: 1, userAt: 2 };
  if (method === 'PUT' && p[0] === 'users' && p.length === 4 && p[3] === 'status') return { op: 'PutUserStatus', instanceAt: 1, userAt: 2 };
  if (method === 'GET' && p[0] === 'agent-status' && p.length === 2) return { op: 'ListAgentStatuses', instanceAt: 1 };
  if (method === 'GET' && p[0] === 'agent-status' && p.length === 3) return { op: 'DescribeAgentStatus', instanceAt: 1 };
  if (method === 'GET' && p[0] === 'routing-profiles-summary' && p.length === 2) return { op: 'ListRoutingProfiles', instanceAt: 1 };
  if (method === 'POST' && p[0] === 'metrics' && p[1] === 'userdata' && p.length === 3) return { op: 'GetCurrentUserData', instanceAt: 2 };
  return undefined;
}
