import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { BodyTooLargeError, readBoundedBody } from '../http-body';
import { SALESFORCE_OFFLINE } from '@presence-sync/domain';
import { SANDBOX_STATUSES } from '../sandbox-statuses';
import { AgentConsole, emptyConsoleStats } from './agent-console.client';
import { BayeuxClientEngine } from './bayeux-client.engine';
import { EmulatorOAuth } from './emulator-oauth.service';
import { EmulatorOrg, type RecordChange } from './emulator-org.store';
import { faye } from './faye.loader';
import type { FayeNodeAdapter } from './faye.types';
import { topicNotification, type TopicNotification } from './push-topic.matcher';
import { SalesforceBayeuxExtension } from './salesforce-bayeux.extension';
import { SANDBOX_SERVICE_CHANNELS } from './salesforce-emulator.seed';
import { sameId } from './salesforce-id.util';
import { SalesforceRestRouter, type PushRequestEvent, type PushResult, type RestAnswer } from './salesforce-rest.router';
import { describeObject, type SObjectDescribe, type SObjectRecord } from './sobject.schema';
import { StreamingEventLog, type LoggedEvent, type ReplayStart } from './streaming-event.log';
import type {
  AgentWorkRow, CommandDropReason, ConsoleStats, InjectedRestFault, PushRecord, SalesforceEmulatorCredentials, SalesforceEmulatorEvents,
  SalesforceEmulatorOptions, SalesforceEmulatorPermissions, SalesforceEmulatorProfileSeed, StreamEvent, StreamingClientInfo, UspRow,
} from './salesforce-emulator.types';
import { listenLocal } from '../listen.util';

const DAY_MS = 24 * 60 * 60 * 1000;
const MAX_BODY_BYTES = 1024 * 1024;
/** The oldest API version whose CometD endpoint Salesforce still serves. */
const MIN_COMETD_VERSION = 37;
/** How long `stop()` lets responses in flight finish before cutting connections, ms. */
const STOP_GRACE_MS = 1_000;

interface Fault extends InjectedRestFault {
  remaining: number;
}

/**
 * Streaming event deliveries in the last 24 h, per kind: the allocations count each notification delivered
 * to each CometD client, not each event published. Kept per minute so an org busy for a day stays small.
 */
class StreamingUsage {
  private readonly minutes: Record<'pushTopic' | 'generic', Map<number, number>> = { pushTopic: new Map(), generic: new Map() };

  constructor(private readonly now: () => number) {}

  count(kind: 'pushTopic' | 'generic', n: number): void {
    if (n <= 0) return;
    const minute = Math.floor(this.now() / 60_000);
    const buckets = this.minutes[kind];
    buckets.set(minute, (buckets.get(minute) ?? 0) + n);
  }

  inLastDay(kind: 'pushTopic' | 'generic'): number {
    const oldest = Math.floor((this.now() - DAY_MS) / 60_000);
    let total = 0;
    for (const [minute, n] of this.minutes[kind]) {
      if (minute <= oldest) this.minutes[kind].delete(minute);
      else total += n;
    }
    return total;
  }
}

const readBody = (req: IncomingMessage): Promise<string> => readBoundedBody(req, MAX_BODY_BYTES);

function defaultFaultBody(status: number): unknown {
  const code = status === 401 ? 'INVALID_SESSION_ID' : status === 403 ? 'REQUEST_LIMIT_EXCEEDED' : status === 404 ? 'NOT_FOUND'
    : status === 503 ? 'SERVER_UNAVAILABLE' : status >= 500 ? 'UNKNOWN_EXCEPTION' : 'INVALID_FIELD';
  return [{ message: `injected failure (HTTP ${status})`, errorCode: code }];
}

/**
 * A Salesforce org on 127.0.0.1 that unmodified jsforce and faye clients talk to (shared spec "salesforce.md",
 * "The emulator"): OAuth 2.0 token and revoke endpoints, the REST API a presence integration uses (query,
 * sObject create/update/delete with Salesforce error arrays, StreamingChannel push), and a CometD endpoint at
 * `/cometd/<version>` (faye's `NodeAdapter` with a Salesforce extension: long-polling only, durable replay,
 * Salesforce's authentication and unknown-client errors). Omni-Channel presence follows Salesforce's
 * UserServicePresence lifecycle, and PushTopics report it exactly as their query and NotifyFor* fields say.
 *
 * Agents are simulated through `agentSetStatus` (the agent clicks in the Omni widget) and emulated consoles
 * (`openConsole`): real CometD clients on the agent's session that apply the daemon's commands as the relay
 * in `apps/omni-relay` does. Behaviour comes from Salesforce's documentation, not from what our adapter sends.
 */
export class SalesforceEmulator extends EventEmitter<SalesforceEmulatorEvents> {
  /** Every push event received on `StreamingChannel/{id}/push`, in order. */
  readonly pushes: PushRecord[] = [];

  private readonly apiVersion: string;
  private readonly now: () => number;
  private readonly apiLimit: number;
  private readonly consoleChannel: string;
  private readonly org: EmulatorOrg;
  private readonly oauth: EmulatorOAuth;
  private readonly events: StreamingEventLog;
  private readonly engine: BayeuxClientEngine;
  private readonly bayeux: FayeNodeAdapter;
  private readonly rest: SalesforceRestRouter;
  private readonly consoles = new Map<string, AgentConsole>();
  private readonly consoleCounters = new Map<string, ConsoleStats>();
  private readonly faults: Fault[] = [];
  private readonly usage: StreamingUsage;
  private limitExceeded = false;
  private calls = 0;
  private refused = 0;
  private url?: string;
  private server?: Server;
  private starting?: Promise<{ baseUrl: string; loginUrl: string; cometdUrl: string }>;
  private stopping?: Promise<void>;

  constructor(private readonly options: SalesforceEmulatorOptions) {
    super();
    if (!options.clientId || !options.clientSecret) throw new Error('SalesforceEmulator: clientId and clientSecret must not be empty');
    this.apiVersion = options.apiVersion ?? '62.0';
    if (!/^\d+\.\d$/.test(this.apiVersion)) throw new Error(`SalesforceEmulator: apiVersion must look like 62.0, got ${this.apiVersion}`);
    this.now = options.now ?? Date.now;
    this.apiLimit = options.apiLimit ?? 100_000;
    this.consoleChannel = options.consoleChannel ?? '/u/PresenceSyncCommand';
    this.org = new EmulatorOrg({
      users: options.users,
      integrationUser: options.integrationUser,
      statuses: options.statuses ?? SANDBOX_STATUSES.map((s) => ({ id: s.id, developerName: s.developerName, label: s.label, isAway: !s.developerName.startsWith('Available') })),
      profiles: options.profiles,
      permissionSets: options.permissionSets,
      serviceChannels: options.serviceChannels ?? SANDBOX_SERVICE_CHANNELS.map((c) => ({ ...c })),
      now: this.now,
      statusChangeOrder: options.statusChangeOrder ?? 'close-first',
      onChange: (change) => this.onRecordChange(change),
    });
    this.oauth = new EmulatorOAuth({
      org: this.org,
      clientId: options.clientId,
      clientSecret: options.clientSecret,
      jwt: options.jwt,
      refreshTokens: options.refreshTokens ?? {},
      clientCredentialsUser: options.clientCredentialsUser ?? options.integrationUser?.username,
      sandbox: options.sandbox ?? false,
      experienceSiteUrls: options.experienceSiteUrls ?? [],
      loginHosts: options.loginHosts ?? ['login.salesforce.com', 'test.salesforce.com'],
      refreshTokenRotation: options.refreshTokenRotation ?? false,
      sessionTtlMs: options.sessionTtlMs,
      now: this.now,
      baseUrl: () => this.baseUrl,
    });
    this.events = new StreamingEventLog(options.replayRetentionMs ?? DAY_MS, this.now);
    this.usage = new StreamingUsage(this.now);
    const cometdTimeoutMs = options.cometdTimeoutMs ?? 110_000;
    this.engine = new BayeuxClientEngine(cometdTimeoutMs + (options.cometdReconnectGraceMs ?? 40_000));
    this.engine.onSubscribe = (client, channel) =>
      this.emit('subscribe', { clientId: client.id, userId: client.userId ?? '', channels: [...client.channels] }, channel);
    this.bayeux = new faye.NodeAdapter({ mount: '/cometd', timeout: cometdTimeoutMs / 1000, engine: { type: this.engine.factory() } });
    this.bayeux.addExtension(new SalesforceBayeuxExtension({
      engine: this.engine,
      check: (authorization) => this.oauth.check(authorization),
      channelExists: (channel) => this.channelExists(channel),
      replay: (channel, from, clientId) => this.replayFor(channel, from, clientId),
      deliverReplay: (clientId, channel, events) => {
        for (const event of events) this.engine.deliver(clientId, { channel, data: event.data });
      },
    }));
    this.rest = new SalesforceRestRouter({
      org: this.org,
      push: (channel, events) => this.pushGeneric(channel, events),
      onlineUsers: (name) => this.onlineUsers(name),
      apiLimit: this.apiLimit,
      apiCalls: () => this.calls,
      streaming: () => ({
        allocations: {
          dailyPushTopicEvents: options.streamingAllocations?.dailyPushTopicEvents ?? 200_000,
          dailyGenericEvents: options.streamingAllocations?.dailyGenericEvents ?? 200_000,
          concurrentClients: options.streamingAllocations?.concurrentClients ?? 1_000,
        },
        pushTopicEvents: this.usage.inLastDay('pushTopic'),
        genericEvents: this.usage.inLastDay('generic'),
        clients: this.engine.all().filter((c) => c.userId !== undefined).length,
      }),
      canRead: (userId, objectName, ownerId) => this.org.canRead(userId, objectName, ownerId),
      canAccessObject: (userId, objectName) => this.org.canAccessObject(userId, objectName),
      batchSize: options.queryBatchSize ?? 2000,
    });
    this.provision();
  }

  private provision(): void {
    const adminRef = this.options.integrationUser?.username;
    const admin = (adminRef !== undefined ? this.org.resolveUser(adminRef)?.Id : this.org.records('User')[0]?.Id) as string;
    const describe = (name: string): SObjectDescribe => describeObject(name) as SObjectDescribe;
    for (const name of this.options.provision?.streamingChannels ?? []) {
      const created = this.org.insert(describe('StreamingChannel'), { Name: name }, admin);
      if (!created.ok) throw new Error(`SalesforceEmulator: cannot provision StreamingChannel ${name}: ${created.errors[0]?.message}`);
    }
    for (const topic of this.options.provision?.pushTopics ?? []) {
      const created = this.org.insert(describe('PushTopic'), {
        Name: topic.name,
        Query: topic.query,
        ApiVersion: topic.apiVersion ?? Number(this.apiVersion),
        NotifyForFields: topic.notifyForFields ?? 'Referenced',
        NotifyForOperationCreate: topic.notifyForOperationCreate ?? true,
        NotifyForOperationUpdate: topic.notifyForOperationUpdate ?? true,
        NotifyForOperationDelete: topic.notifyForOperationDelete ?? true,
      }, admin);
      if (!created.ok) throw new Error(`SalesforceEmulator: cannot provision PushTopic ${topic.name}: ${created.errors[0]?.message}`);
    }
  }

  // ---- lifecycle -----------------------------------------------------------------------------------------

  /** Listens on 127.0.0.1 (the given port or a free one). Calling it again returns the same addresses. */
  start(): Promise<{ baseUrl: string; loginUrl: string; cometdUrl: string }> {
    if (this.stopping) return Promise.reject(new Error('SalesforceEmulator: stopped; create a new one'));
    this.starting ??= this.listen();
    return this.starting;
  }

  private async listen(): Promise<{ baseUrl: string; loginUrl: string; cometdUrl: string }> {
    const server = createServer((req, res) => void this.handle(req, res));
    this.server = server;
    this.url = await listenLocal(server, this.options.port);
    return { baseUrl: this.url, loginUrl: this.url, cometdUrl: this.cometdUrl };
  }

  /** Closes the consoles, every CometD client and socket, and the server. Safe to call twice. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await this.starting?.catch(() => undefined);
      await Promise.all([...this.consoles.values()].map((c) => c.close()));
      this.consoles.clear();
      // Answers every held /meta/connect and forgets all clients (and their timers).
      this.bayeux.close();
      const server = this.server;
      if (!server) return;
      // Replies already on their way (a flushed /meta/connect, a /meta/disconnect answer) are let through: a
      // faye client that loses a reply in flight retries it forever against the closed port.
      await new Promise<void>((resolve) => {
        const drain = setInterval(() => server.closeIdleConnections(), 20);
        const force = setTimeout(() => server.closeAllConnections(), STOP_GRACE_MS);
        server.close(() => {
          clearInterval(drain);
          clearTimeout(force);
          resolve();
        });
      });
    })();
    return this.stopping;
  }

  /** `http://127.0.0.1:<port>`: login URL and instance URL at once. */
  get baseUrl(): string {
    if (!this.url) throw new Error('SalesforceEmulator: not started');
    return this.url;
  }

  get cometdUrl(): string {
    return `${this.baseUrl}/cometd/${this.apiVersion}`;
  }

  /** How to log in as the integration user with the username-password flow. */
  get credentials(): SalesforceEmulatorCredentials {
    const user = this.options.integrationUser;
    return {
      loginUrl: this.baseUrl,
      apiVersion: this.apiVersion,
      clientId: this.options.clientId,
      clientSecret: this.options.clientSecret,
      ...(user ? { username: user.username, password: user.password, securityToken: user.securityToken } : {}),
    };
  }

  /** REST API requests answered 401 INVALID_SESSION_ID (no, expired or revoked token); not counted in `apiCalls`. */
  get refusedApiCalls(): number {
    return this.refused;
  }

  /** REST API requests so far (the figure of `Sforce-Limit-Info: api-usage=N/limit`). */
  get apiCalls(): number {
    return this.calls;
  }

  // ---- users and presence ----------------------------------------------------------------------------------

  private user(ref: string): SObjectRecord {
    const user = this.org.resolveUser(ref);
    if (!user) throw new Error(`SalesforceEmulator: no user ${ref}`);
    return user;
  }

  /** The 18-character id of a user given by id, username or e-mail. */
  userId(ref: string): string {
    return this.user(ref).Id as string;
  }

  users(): { id: string; username: string; email: string; isActive: boolean }[] {
    return this.org.records('User').map((u) => ({ id: u.Id as string, username: u.Username as string, email: u.Email as string, isActive: u.IsActive === true }));
  }

  /** The agent's current status DeveloperName, or `Offline` (no current presence row). */
  statusOf(userRef: string): string {
    const row = this.org.currentRow(this.userId(userRef));
    return row ? (this.org.statusById(row.ServicePresenceStatusId as string)?.DeveloperName as string) : SALESFORCE_OFFLINE;
  }

  /** Presence rows, oldest first (of one user, or all). */
  uspRows(userRef?: string): UspRow[] {
    const userId = userRef === undefined ? undefined : this.userId(userRef);
    return this.org.records('UserServicePresence')
      .filter((r) => userId === undefined || sameId(r.UserId as string, userId))
      .map((r) => this.org.toUspRow(r));
  }

  /**
   * The agent picks a status in the Omni-Channel widget (`Offline` logs out). Returns whether anything was
   * written (picking the current status writes nothing). The widget offers only the statuses the agent has
   * access to: picking another is an error of the test.
   */
  agentSetStatus(userRef: string, developerNameOrOffline: string): 'changed' | 'unchanged' {
    const userId = this.userId(userRef);
    if (developerNameOrOffline === SALESFORCE_OFFLINE) return this.org.logout(userId, 'agent');
    const status = this.org.statusByDeveloperName(developerNameOrOffline);
    if (!status) throw new Error(`SalesforceEmulator: no presence status ${developerNameOrOffline}`);
    if (!this.org.hasStatusAccess(userId, status.Id as string)) {
      throw new Error(`SalesforceEmulator: ${userRef} has no access to presence status ${developerNameOrOffline}: the Omni-Channel widget does not offer it`);
    }
    return this.org.setStatus(userId, status.Id as string, 'agent');
  }

  // ---- presence status access (Service Presence Status Access of profiles and permission sets) --------------

  /** Whether the user may use the status (DeveloperName): its profile or one of its permission sets grants it. */
  hasStatusAccess(userRef: string, developerName: string): boolean {
    const status = this.org.statusByDeveloperName(developerName);
    return status !== undefined && this.org.hasStatusAccess(this.userId(userRef), status.Id as string);
  }

  /** An admin sets a profile's Service Presence Status Access to exactly these statuses; every user of the profile is affected. */
  setProfileStatuses(profile: string, developerNames: readonly string[]): void {
    this.org.setProfileStatuses(profile, developerNames);
  }

  /** An admin creates a profile (by default with access to every status), or redefines one. */
  addProfile(profile: SalesforceEmulatorProfileSeed): void {
    this.org.addProfile(profile);
  }

  /** An admin moves a user to another profile. */
  setUserProfile(userRef: string, profile: string): void {
    this.org.setUserProfile(this.userId(userRef), profile);
  }

  /** An admin sets the statuses a permission set grants (creating the permission set if needed). */
  setPermissionSetStatuses(name: string, developerNames: readonly string[], label?: string): void {
    this.org.setPermissionSetStatuses(name, developerNames, label);
  }

  /** An admin assigns a permission set to a user (`assigned` false removes the assignment). */
  assignPermissionSet(userRef: string, name: string, assigned = true): void {
    this.org.assignPermissionSet(this.userId(userRef), name, assigned);
  }

  /**
   * An admin changes what a user may read: View All Data (on the user's profile, so for all of its users) and
   * View All on UserServicePresence or AgentWork (permission sets). Takes effect for the next query and the
   * next PushTopic event.
   */
  setPermissions(userRef: string, permissions: SalesforceEmulatorPermissions): void {
    this.org.setPermissions(this.userId(userRef), permissions);
  }

  /** An admin edits a user (deactivates it, changes its licence or federation id); its SystemModstamp moves. */
  updateUser(userRef: string, changes: { isActive?: boolean; userType?: string; federationIdentifier?: string | null }): void {
    this.org.updateUser(this.userId(userRef), {
      ...(changes.isActive !== undefined ? { IsActive: changes.isActive } : {}),
      ...(changes.userType !== undefined ? { UserType: changes.userType } : {}),
      ...(changes.federationIdentifier !== undefined ? { FederationIdentifier: changes.federationIdentifier } : {}),
    });
  }

  /** Omni-Channel updates the capacity figures of the agent's current row (an update that changes no status). */
  touchCapacity(userRef: string): boolean {
    return this.org.touchCapacity(this.userId(userRef));
  }

  // ---- Omni-Channel work ----------------------------------------------------------------------------------------

  /**
   * Omni-Channel routes a work item of the service channel (DeveloperName) to the agent: an AgentWork in status
   * Assigned, which counts against capacity at once, and an update of the agent's current presence row
   * (AverageCapacity, AtCapacityDuration, IdleDuration) with the status unchanged — what a PushTopic on
   * UserServicePresence reports. The weight defaults to the channel's; `percentage` makes it percentage-based.
   * The agent must be online in Omni-Channel. Returns the AgentWork id.
   */
  assignWork(userRef: string, channel: string, capacity: { weight?: number; percentage?: number } = {}): string {
    return this.org.assignWork(this.userId(userRef), channel, capacity);
  }

  /** The agent accepts the work item (Assigned → Opened); capacity and presence do not change. */
  acceptWork(workId: string): void {
    this.org.acceptWork(workId);
  }

  /** The work item is closed: capacity is freed and the current presence row's capacity figures are updated. */
  closeWork(workId: string): void {
    this.org.closeWork(workId);
  }

  /** The agent's work that holds capacity (Assigned or Opened), oldest first; of every agent without `userRef`. */
  openWork(userRef?: string): AgentWorkRow[] {
    const userId = userRef === undefined ? undefined : this.userId(userRef);
    return this.org.records('AgentWork')
      .filter((w) => (w.Status === 'Assigned' || w.Status === 'Opened') && (userId === undefined || sameId(w.UserId as string, userId)))
      .map((w) => this.org.toWorkRow(w));
  }

  /** Records of an object (for assertions), e.g. `records('PushTopic')`. */
  records(objectName: 'User' | 'ServicePresenceStatus' | 'UserServicePresence' | 'PushTopic' | 'StreamingChannel' | 'ServiceChannel' | 'AgentWork'
    | 'Profile' | 'PermissionSet' | 'PermissionSetAssignment' | 'SetupEntityAccess'): SObjectRecord[] {
    return this.org.records(objectName);
  }

  // ---- consoles -----------------------------------------------------------------------------------------------

  /**
   * Opens the agent's console with the relay: a CometD client on the agent's own session, subscribed to the
   * command channel with replay -1. Resolves once subscribed. The StreamingChannel must exist.
   */
  async openConsole(userRef: string): Promise<void> {
    const userId = this.userId(userRef);
    if (this.consoles.has(userId)) return;
    if (!this.channelExists(this.consoleChannel)) {
      throw new Error(`SalesforceEmulator: the StreamingChannel ${this.consoleChannel} does not exist yet (create it, or provision it in the options)`);
    }
    let stats = this.consoleCounters.get(userId);
    if (!stats) {
      stats = emptyConsoleStats();
      this.consoleCounters.set(userId, stats);
    }
    const agentConsole = new AgentConsole({
      userId,
      endpoint: this.cometdUrl,
      token: this.oauth.issueConsoleSession(userId),
      channel: this.consoleChannel,
      now: this.now,
      stats,
      toolkit: {
        currentStatusId: (id) => this.org.currentRow(id)?.ServicePresenceStatusId as string | undefined,
        statusExists: (statusId) => this.org.statusById(statusId) !== undefined,
        hasStatusAccess: (id, statusId) => this.org.hasStatusAccess(id, statusId),
        setServicePresenceStatus: (id, statusId) => this.org.setStatus(id, statusId, 'command'),
        logout: (id) => this.org.logout(id, 'command'),
      },
      onApplied: (command, outcome) => this.emit('command-applied', userId, command, outcome),
      onDropped: (reason: CommandDropReason, payload) => this.emit('command-dropped', userId, reason, payload),
      onFailed: (command, message) => this.emit('command-failed', userId, command, message),
    });
    this.consoles.set(userId, agentConsole);
    try {
      await agentConsole.open();
    } catch (error) {
      this.consoles.delete(userId);
      throw error;
    }
  }

  /** Closes the agent's console: its client disconnects, so pushes report `userOnlineStatus: false`. */
  async closeConsole(userRef: string): Promise<void> {
    const userId = this.userId(userRef);
    const agentConsole = this.consoles.get(userId);
    this.consoles.delete(userId);
    await agentConsole?.close();
  }

  isConsoleOpen(userRef: string): boolean {
    return this.consoles.has(this.userId(userRef));
  }

  /** Console counters of one user (across reopenings), or summed over all users. */
  consoleStats(userRef?: string): ConsoleStats {
    if (userRef !== undefined) return structuredClone(this.consoleCounters.get(this.userId(userRef)) ?? emptyConsoleStats());
    const total = emptyConsoleStats();
    for (const s of this.consoleCounters.values()) {
      total.received += s.received;
      total.applied += s.applied;
      total.unchanged += s.unchanged;
      total.failed += s.failed;
      for (const reason of Object.keys(total.dropped) as CommandDropReason[]) total.dropped[reason] += s.dropped[reason];
    }
    return total;
  }

  // ---- streaming ------------------------------------------------------------------------------------------------

  private channelExists(channel: string): boolean {
    const topic = /^\/topic\/(.+)$/.exec(channel);
    if (topic) return this.org.records('PushTopic').some((t) => t.Name === topic[1]);
    if (channel.startsWith('/u/')) return this.org.records('StreamingChannel').some((c) => c.Name === channel);
    return false;
  }

  private replayFor(channel: string, from: number, clientId: string): ReplayStart {
    const start = this.events.replay(channel, from);
    if (!start.ok) return start;
    const userId = this.engine.get(clientId)?.userId;
    const events = channel.startsWith('/u/')
      ? start.events.filter((e) => this.reaches(e.userIds, userId))
      : start.events.filter((e) => this.visible(e, userId));
    this.usage.count(channel.startsWith('/u/') ? 'generic' : 'pushTopic', events.length);
    return { ok: true, events };
  }

  /** A PushTopic event reaches a subscriber only if the subscriber may read the record (PushTopic events honour record access). */
  private visible(event: LoggedEvent, userId: string | undefined): boolean {
    return !event.record || this.org.canRead(userId, event.record.object, event.record.ownerId);
  }

  /** Whether a generic event targeted at `userIds` (empty: everyone) reaches a client of `userId`. */
  private reaches(userIds: string[] | undefined, userId: string | undefined): boolean {
    return !userIds || userIds.length === 0 || (userId !== undefined && userIds.some((u) => sameId(u, userId)));
  }

  private onlineUsers(channel: string): string[] {
    const ids = new Set<string>();
    for (const client of this.engine.subscribers(channel)) if (client.userId) ids.add(client.userId);
    return [...ids];
  }

  private record(channel: string, event: LoggedEvent): StreamEvent {
    const published: StreamEvent = { channel, replayId: event.replayId, createdAt: event.createdAt, data: event.data, ...(event.userIds ? { userIds: event.userIds } : {}) };
    this.emit('stream-event', published);
    return published;
  }

  private onRecordChange(change: RecordChange): void {
    for (const topic of this.org.records('PushTopic')) {
      const notification = topicNotification(topic, change);
      const ownerId = typeof change.record.OwnerId === 'string' ? change.record.OwnerId : undefined;
      if (notification) this.publishTopic(topic.Name as string, notification, { object: change.object.name, ownerId });
    }
    if (change.object.name === 'UserServicePresence') {
      this.emit('usp', { type: change.type, row: this.org.toUspRow(change.record), changedFields: [...change.changedFields], cause: change.cause });
    }
  }

  private publishTopic(name: string, notification: TopicNotification, record: { object: string; ownerId?: string }): void {
    const channel = `/topic/${name}`;
    const event = this.events.append(channel, (replayId, createdAt) => ({
      event: { createdDate: new Date(createdAt).toISOString(), replayId, type: notification.type },
      sobject: notification.sobject,
    }), undefined, record);
    for (const client of this.engine.subscribers(channel)) {
      if (!this.visible(event, client.userId)) continue;
      this.engine.deliver(client.id, { channel, data: event.data });
      this.usage.count('pushTopic', 1);
    }
    this.record(channel, event);
  }

  private pushGeneric(channelRecord: SObjectRecord, pushEvents: PushRequestEvent[]): PushResult[] {
    const channel = channelRecord.Name as string;
    return pushEvents.map(({ payload, userIds }) => {
      const subscribers = this.engine.subscribers(channel);
      const online = new Set(subscribers.map((c) => c.userId).filter((u): u is string => u !== undefined));
      const userOnlineStatus: Record<string, boolean> = {};
      if (userIds.length === 0) for (const id of online) userOnlineStatus[id] = true;
      for (const id of userIds) userOnlineStatus[id] = [...online].some((u) => sameId(u, id));
      // Per the push resource: -1 when broadcast to all subscribers, 0 without active subscribers, else the
      // number of targeted users that are subscribed.
      const fanoutCount = subscribers.length === 0 ? 0 : userIds.length === 0 ? -1 : Object.values(userOnlineStatus).filter(Boolean).length;
      const event = this.events.append(channel, (replayId, createdAt) => ({
        event: { createdDate: new Date(createdAt).toISOString(), replayId },
        payload,
      }), [...userIds]);
      for (const client of subscribers) {
        if (!this.reaches(userIds, client.userId)) continue;
        this.engine.deliver(client.id, { channel, data: event.data });
        this.usage.count('generic', 1);
      }
      this.record(channel, event);
      const push: PushRecord = {
        channelId: channelRecord.Id as string, channelName: channel, payload, userIds: [...userIds], fanoutCount,
        userOnlineStatus: { ...userOnlineStatus }, replayId: event.replayId, at: event.createdAt,
      };
      this.pushes.push(push);
      this.emit('push', push);
      return { fanoutCount, userOnlineStatus };
    });
  }

  /** Events a channel still retains (for assertions). */
  streamEvents(channel: string): StreamEvent[] {
    return this.events.retained(channel).map((e) => ({ channel, replayId: e.replayId, createdAt: e.createdAt, data: e.data, ...(e.userIds ? { userIds: e.userIds } : {}) }));
  }

  /** CometD clients the server knows (of one user, or all). */
  streamingClients(userRef?: string): StreamingClientInfo[] {
    const userId = userRef === undefined ? undefined : this.userId(userRef);
    return this.engine.all()
      .filter((c) => c.userId !== undefined && (userId === undefined || c.userId === userId))
      .map((c) => ({ clientId: c.id, userId: c.userId as string, channels: [...c.channels] }));
  }

  /**
   * Forgets CometD clients (one by client id, or every client of a user), as Salesforce does after a network
   * loss or server-side timeout: the client's next message gets `403::Unknown client` with
   * `advice.reconnect = 'handshake'`. Returns how many clients were dropped.
   */
  dropClient(clientIdOrUser: string): number {
    if (this.engine.get(clientIdOrUser)) {
      this.engine.destroyClient(clientIdOrUser);
      return 1;
    }
    const userId = this.userId(clientIdOrUser);
    const clients = this.engine.all().filter((c) => c.userId === userId);
    for (const client of clients) this.engine.destroyClient(client.id);
    return clients.length;
  }

  // ---- authentication ----------------------------------------------------------------------------------------

  /**
   * Revokes the access and refresh tokens (and console sessions) of a user, or of everyone with `'all'`: REST
   * answers 401 INVALID_SESSION_ID, and CometD clients on those tokens are told `401::Authentication invalid`
   * (`advice.reconnect = 'none'`) on their next connect, which is prompted at once. Returns the number of
   * revoked access tokens.
   */
  revokeTokens(userOrAll: string): number {
    const revoked = this.oauth.revokeUser(userOrAll === 'all' ? 'all' : this.userId(userOrAll));
    const tokens = new Set(revoked);
    for (const client of this.engine.all()) if (client.token && tokens.has(client.token)) this.engine.wake(client.id);
    return revoked.length;
  }

  /** A refresh token for a user (as a web-server flow would have issued one). */
  issueRefreshToken(userRef: string): string {
    return this.oauth.issueRefreshToken(this.userId(userRef));
  }

  // ---- fault injection -------------------------------------------------------------------------------------------

  /** The next `count` matching REST requests (after authentication) are answered with `fault`. Adds to earlier faults. */
  failNext(count: number, fault: InjectedRestFault): void {
    if (!Number.isInteger(count) || count < 1) throw new Error('failNext: count must be a positive integer');
    this.faults.push({ ...fault, remaining: count });
  }

  /** While on, every REST request answers 403 REQUEST_LIMIT_EXCEEDED (as past the daily allocation). */
  setRequestLimitExceeded(on: boolean): void {
    this.limitExceeded = on;
  }

  // ---- waiting ------------------------------------------------------------------------------------------------------

  /** Resolves once `predicate` holds (checked now, on every emulator event, and every 10 ms); rejects after `timeoutMs`. */
  waitFor(predicate: () => boolean, timeoutMs = 5_000, what = 'condition'): Promise<void> {
    if (predicate()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const names = ['usp', 'push', 'stream-event', 'command-applied', 'command-dropped', 'command-failed'] as const;
      const check = (): void => {
        let ok = false;
        try {
          ok = predicate();
        } catch (error) {
          finish();
          reject(error instanceof Error ? error : new Error(String(error)));
          return;
        }
        if (ok) {
          finish();
          resolve();
        }
      };
      const poll = setInterval(check, 10);
      const deadline = setTimeout(() => {
        finish();
        reject(new Error(`SalesforceEmulator.waitFor: timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const finish = (): void => {
        clearInterval(poll);
        clearTimeout(deadline);
        for (const name of names) this.off(name, check);
      };
      for (const name of names) this.on(name, check);
    });
  }

  // ---- HTTP -----------------------------------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const path = url.pathname;
      if (path === '/cometd' || path.startsWith('/cometd/')) return this.cometd(req, res, path);
      if (path === '/services/oauth2/token') return await this.tokenEndpoint(req, res);
      if (path === '/services/oauth2/revoke') return await this.revokeEndpoint(req, res, url);
      const identity = /^\/id\/([^/]+)\/([^/]+)$/.exec(path);
      if (identity) return this.identity(req, res, identity[2]);
      if (path === '/services/data' || path.startsWith('/services/data/')) return await this.restEndpoint(req, res, url);
      this.send(res, { status: 404, body: [{ errorCode: 'NOT_FOUND', message: 'The requested resource does not exist' }] });
    } catch (error) {
      if (error instanceof BodyTooLargeError) return this.send(res, { status: 413, body: [{ errorCode: 'REQUEST_ENTITY_TOO_LARGE', message: 'request body too large' }] });
      const message = error instanceof Error ? error.message : String(error);
      this.send(res, { status: 500, body: [{ errorCode: 'UNKNOWN_EXCEPTION', message: `emulator error: ${message}` }] });
    }
  }

  private cometd(req: IncomingMessage, res: ServerResponse, path: string): void {
    const version = /^\/cometd\/(\d+\.\d)\/?$/.exec(path);
    const format = `URI format: '/cometd/${this.apiVersion}'`;
    if (!version) return this.sendText(res, 400, `400::API version in the URI is mandatory. ${format}`);
    if (Number(version[1]) < MIN_COMETD_VERSION) {
      return this.sendText(res, 400, `400::Unsupported API version. Only API versions '${MIN_COMETD_VERSION}.0' and later are supported. ${format}`);
    }
    this.bayeux.handle(req, res);
  }

  private async tokenEndpoint(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST') return this.send(res, { status: 405, body: { error: 'invalid_request', error_description: 'must use HTTP POST' }, headers: { Allow: 'POST' } });
    const form = new URLSearchParams(await readBody(req));
    const answer = this.oauth.token(form, req.headers.authorization, req.headers.host);
    this.send(res, { status: answer.status, body: answer.body, headers: { 'Cache-Control': 'no-store', Pragma: 'no-cache' } });
  }

  private async revokeEndpoint(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const form = req.method === 'POST' ? new URLSearchParams(await readBody(req)) : url.searchParams;
    if (req.method !== 'POST' && req.method !== 'GET') return this.send(res, { status: 405, body: { error: 'invalid_request', error_description: 'must use HTTP POST' } });
    const answer = this.oauth.revoke(form.get('token') ?? '');
    if (answer.body === null) {
      res.writeHead(200, { 'Content-Length': '0' }).end();
      return;
    }
    this.send(res, { status: answer.status, body: answer.body });
  }

  private identity(req: IncomingMessage, res: ServerResponse, userId: string): void {
    const auth = this.oauth.check(req.headers.authorization);
    if (!auth.ok) return this.sendText(res, 403, 'Bad_OAuth_Token');
    const user = this.org.userById(userId);
    if (!user) return this.sendText(res, 404, 'Bad_Id');
    const rest = `${this.baseUrl}/services/data/v{version}/`;
    this.send(res, {
      status: 200,
      body: {
        id: `${this.baseUrl}/id/${this.org.orgId}/${String(user.Id)}`, asserted_user: sameId(auth.session.userId, user.Id as string),
        user_id: user.Id, organization_id: this.org.orgId, username: user.Username, nick_name: String(user.Username).split('@')[0],
        display_name: user.Name, email: user.Email, email_verified: true, first_name: user.FirstName, last_name: user.LastName,
        active: user.IsActive, user_type: 'STANDARD', language: 'en_US', locale: 'en_US', utcOffset: 0,
        urls: { rest, sobjects: `${rest}sobjects/`, query: `${rest}query/`, limits: `${rest}limits/` },
      },
    });
  }

  private async restEndpoint(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const limitHeader = (): Record<string, string> => ({ 'Sforce-Limit-Info': `api-usage=${this.calls}/${this.apiLimit}` });
    const raw = await readBody(req);
    const auth = this.oauth.check(req.headers.authorization);
    if (!auth.ok) {
      this.refused++;
      return this.send(res, { status: 401, body: [{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }], headers: limitHeader() });
    }
    this.calls++;
    if (this.limitExceeded || this.calls > this.apiLimit) {
      return this.send(res, { status: 403, body: [{ message: 'TotalRequests Limit exceeded.', errorCode: 'REQUEST_LIMIT_EXCEEDED' }], headers: limitHeader() });
    }
    const method = req.method ?? 'GET';
    const match = /^\/services\/data\/v(\d+\.\d)(\/.*)?$/.exec(url.pathname);
    if (!match) {
      if (url.pathname.replace(/\/$/, '') === '/services/data' && method === 'GET') {
        return this.send(res, { status: 200, body: [{ label: `API ${this.apiVersion}`, url: `/services/data/v${this.apiVersion}`, version: this.apiVersion }], headers: limitHeader() });
      }
      return this.send(res, { status: 404, body: [{ errorCode: 'NOT_FOUND', message: 'The requested resource does not exist' }], headers: limitHeader() });
    }
    const path = (match[2] ?? '').replace(/\/+$/, '');
    const fault = this.faults.find((f) => (!f.method || f.method.toUpperCase() === method) && (!f.path || f.path.test(path)));
    if (fault) {
      if (--fault.remaining <= 0) this.faults.splice(this.faults.indexOf(fault), 1);
      return this.send(res, { status: fault.status, body: fault.body ?? defaultFaultBody(fault.status), headers: { ...limitHeader(), ...fault.headers } });
    }
    let body: unknown;
    let bodyInvalid = false;
    if (raw.trim() !== '') {
      try {
        body = JSON.parse(raw);
      } catch {
        bodyInvalid = true;
      }
    }
    const answer: RestAnswer = this.rest.handle({
      method, version: match[1], path, query: url.searchParams, headers: req.headers, body, bodyInvalid, userId: auth.session.userId,
    });
    this.send(res, { ...answer, headers: { ...limitHeader(), ...answer.headers } });
  }

  private send(res: ServerResponse, answer: { status: number; body: unknown; headers?: Record<string, string> }): void {
    if (res.headersSent || res.destroyed) return;
    if (answer.body === undefined) {
      res.writeHead(answer.status, { ...answer.headers }).end();
      return;
    }
    const body = JSON.stringify(answer.body);
    res.writeHead(answer.status, { 'Content-Type': 'application/json;charset=UTF-8', 'Content-Length': Buffer.byteLength(body), ...answer.headers });
    res.end(body);
  }

  private sendText(res: ServerResponse, status: number, text: string): void {
    res.writeHead(status, { 'Content-Type': 'text/plain;charset=UTF-8', 'Content-Length': Buffer.byteLength(text) }).end(text);
  }
}
