import type { SalesforceSettings } from '@presence-sync/config';
import {
  RetryableWriteError, SALESFORCE_OFFLINE, SalesforcePort,
  type ChangeSource, type CheckpointStore, type InboundSink, type PresenceCommand, type PresenceSnapshot, type PresenceWriteResult,
  type RefreshTokenStore, type SalesforceStatusDefinition, type SalesforceUser,
} from '@presence-sync/domain';
import { AgentWorkReader, type OpenWorkIndex } from './agent-work.reader';
import { encodeConsoleCommand, toConsoleCommand } from './console-command.codec';
import { classifySalesforceError, salesforceErrorCode, salesforceErrorMessage, type ClassifyOptions } from './salesforce-errors';
import { SILENT_SALESFORCE_LOGGER, type SalesforceLogger } from './salesforce-logger';
import { SalesforcePresenceStream, type PresenceStreamOptions } from './salesforce-presence.stream';
import { SalesforceSession, type SalesforceIdentity } from './salesforce-session';
import { CURRENT_PRESENCE_SOQL, queryAll, SERVICE_CHANNELS_SOQL, soqlString, STATUS_CATALOG_SOQL, USERS_SOQL, usersChangedSinceSoql } from './soql';
import { StatusCatalog } from './status-catalog';

interface StatusRow { Id: string; DeveloperName: string; MasterLabel: string }
interface UserRow {
  Id: string; Username: string; Email?: string | null; FederationIdentifier?: string | null; IsActive: boolean;
  UserType?: string | null; SystemModstamp?: string | null;
}
interface PresenceRow { Id: string; UserId: string; ServicePresenceStatusId: string; StatusStartDate?: string | null; ConfiguredCapacity?: number | null }

/** A user row as the directory sees it. */
function toSalesforceUser(u: UserRow): SalesforceUser {
  return { userId: u.Id, username: u.Username, email: u.Email ?? undefined, federationId: u.FederationIdentifier ?? undefined, active: u.IsActive === true };
}

/**
 * Every user that can be an agent (`USERS_SOQL`), read in full: what the daemon's first directory refresh reads,
 * for commands that need the same users without the adapter (`salesforce check`).
 */
export async function readAgentUsers(session: SalesforceSession, timeoutMs: number): Promise<SalesforceUser[]> {
  return (await queryAll<UserRow>(session, USERS_SOQL, timeoutMs)).filter((u) => u.IsActive === true && u.UserType === 'Standard').map(toSalesforceUser);
}

/** One result of a StreamingChannel push (Salesforce "Streaming Channel Push REST API"). */
export interface PushResult {
  fanoutCount: number;
  userOnlineStatus?: Record<string, boolean>;
}

/** The answer of `GET …/StreamingChannel/{id}/push`: the users with a client subscribed to the channel now. */
export interface ChannelSubscribers {
  OnlineUserIds?: string[];
  ChannelName?: string;
}

/** Told that a user's console subscribed to the command channel again (see `onConsoleOnline`). */
export type ConsoleOnlineListener = (userId: string) => void;

/** How far back a changed-users query reaches before the newest change seen: a change committed late still shows. */
const USER_CHANGE_OVERLAP_MS = 60_000;
/** A full user query at least this often, whatever the changed-users queries said (a safety net, once a day). */
const USER_FULL_REFRESH_MS = 24 * 60 * 60 * 1000;
/** Console state older than this many poll intervals (polls failing) is not trusted: writes push again. */
const CONSOLE_STATE_STALE_POLLS = 3;

const id15 = (id: string): string => id.slice(0, 15);

/** Error codes meaning the cached StreamingChannel id no longer names a channel (it was deleted and re-created). */
const STALE_CHANNEL_CODES = new Set(['NOT_FOUND', 'ENTITY_IS_DELETED', 'INVALID_ID_FIELD', 'INVALID_CROSS_REFERENCE_KEY', 'MALFORMED_ID']);

export interface JsforceSalesforceOptions {
  settings: SalesforceSettings;
  /** Where the stream keeps its replay id (Redis in the daemon). */
  checkpoints: CheckpointStore;
  logger?: SalesforceLogger;
  /** A session to share (e.g. with the CLI); default: a new one from `settings`. */
  session?: SalesforceSession;
  /** Refresh-token mode: the store of the current refresh token shared by replicas (Redis in the daemon). Ignored with `session`. */
  refreshTokens?: RefreshTokenStore;
  /** Overrides of the stream's timings (tests). */
  stream?: Partial<Omit<PresenceStreamOptions, 'pushTopic' | 'offlineHoldMs'>> & { offlineHoldMs?: number };
}

/**
 * Salesforce through jsforce: the status catalog, users and the presence snapshot by SOQL, console commands
 * by a targeted StreamingChannel push, and (as `ChangeSource`) the presence stream. One logged-in session
 * serves all of it; an expired session is renewed once per failing call.
 */
export class JsforceSalesforceAdapter extends SalesforcePort implements ChangeSource {
  readonly session: SalesforceSession;
  readonly catalog: StatusCatalog;
  readonly stream: SalesforcePresenceStream;
  /** Users' open Omni-Channel work: on load changes (through the stream) and in the snapshot. */
  readonly work: AgentWorkReader;
  private readonly settings: SalesforceSettings;
  private readonly logger: SalesforceLogger;
  private channelId?: string;
  /** Active standard users by id, kept between refreshes so later ones read only changed users. */
  private readonly users = new Map<string, UserRow>();
  private usersChangedUpTo?: number;
  private usersFullAt = 0;
  /** Users (15-character id → id as written) whose console is known closed, waiting for it to come back. */
  private readonly closedConsoles = new Map<string, string>();
  private readonly consoleListeners = new Set<ConsoleOnlineListener>();
  private consoleTimer?: ReturnType<typeof setInterval>;
  /** When the console state was last learnt (a push answer or a poll answer). */
  private consoleFactAt = 0;
  private consolePoll?: Promise<void>;

  constructor(options: JsforceSalesforceOptions) {
    super();
    this.settings = options.settings;
    this.logger = options.logger ?? SILENT_SALESFORCE_LOGGER;
    this.session = options.session ?? new SalesforceSession(options.settings, this.logger, { refreshTokens: options.refreshTokens });
    this.catalog = new StatusCatalog(() => this.queryStatuses());
    this.work = new AgentWorkReader(this.session, options.settings.requestTimeoutMs, this.logger);
    this.stream = new SalesforcePresenceStream(this.session, this.catalog, options.checkpoints, {
      pushTopic: options.settings.pushTopic,
      offlineHoldMs: options.settings.offlineHoldMs,
      proxyUrl: options.settings.proxyUrl,
      workloads: this.work,
      ...options.stream,
    }, this.logger);
  }

  /** Logs in now (boot): bad credentials throw `SalesforceAuthError`, a one-line `ConfigError`. */
  connect(): Promise<SalesforceIdentity> {
    return this.session.connect();
  }

  /** The catalog, queried now (the directory refresh); the cache used to decode events is refreshed with it. */
  async listStatuses(): Promise<SalesforceStatusDefinition[]> {
    return this.read('status catalog query', () => this.catalog.refresh());
  }

  /** The service channels' DeveloperNames (the directory refresh), so workload rows are checked against them. */
  override async listServiceChannels(): Promise<string[]> {
    return this.read('service channel query', async () => {
      const rows = await queryAll<{ DeveloperName: string }>(this.session, SERVICE_CHANNELS_SOQL, this.settings.requestTimeoutMs);
      return rows.map((r) => r.DeveloperName);
    });
  }

  /**
   * Active standard users (see `USERS_SOQL`). The first call reads them all; later calls read only users
   * changed since (by `SystemModstamp`) and merge them, so the periodic directory refresh costs a page of
   * changes instead of every user. A full read runs again once a day.
   */
  async listUsers(): Promise<SalesforceUser[]> {
    await this.read('user query', async () => {
      const full = this.usersChangedUpTo === undefined || Date.now() - this.usersFullAt >= USER_FULL_REFRESH_MS;
      const soql = full ? USERS_SOQL : usersChangedSinceSoql((this.usersChangedUpTo as number) - USER_CHANGE_OVERLAP_MS);
      const rows = await queryAll<UserRow>(this.session, soql, this.settings.requestTimeoutMs);
      if (full) {
        this.users.clear();
        this.usersFullAt = Date.now();
      }
      for (const row of rows) {
        if (row.IsActive === true && row.UserType === 'Standard') this.users.set(row.Id, row);
        else this.users.delete(row.Id);
        // The server's clock, not ours: the next query asks for changes after what this answer already held.
        const modstamp = row.SystemModstamp ? Date.parse(row.SystemModstamp) : Number.NaN;
        if (Number.isFinite(modstamp)) this.usersChangedUpTo = Math.max(this.usersChangedUpTo ?? modstamp, modstamp);
      }
    });
    return [...this.users.values()].map(toSalesforceUser);
  }

  /**
   * Users with a current USP row; a row whose status is unknown even after a catalog refresh is left out (logged).
   * Each snapshot carries the user's workload, from one query of all open AgentWork; when that query fails the
   * snapshots have none (the engine keeps what it knew) and the failure is logged.
   */
  async currentPresence(): Promise<PresenceSnapshot[]> {
    return this.read('presence snapshot query', async () => {
      const rows = await queryAll<PresenceRow>(this.session, CURRENT_PRESENCE_SOQL, this.settings.requestTimeoutMs);
      const work = await this.allOpenWork();
      const out: PresenceSnapshot[] = [];
      for (const row of rows) {
        const status = await this.catalog.nameOf(row.ServicePresenceStatusId);
        if (!status) {
          this.logger.warn('current presence row with an unknown status: left out', { userId: row.UserId, statusId: row.ServicePresenceStatusId });
          continue;
        }
        const since = row.StatusStartDate ? Date.parse(row.StatusStartDate) : Number.NaN;
        out.push({
          userId: row.UserId, status, since: Number.isFinite(since) ? since : Date.now(),
          ...(work ? { workload: work.workload(row.UserId, row.ConfiguredCapacity) } : {}),
        });
      }
      return out;
    });
  }

  /** Every user's open work in one query; undefined (logged) when it cannot be read. */
  private async allOpenWork(): Promise<OpenWorkIndex | undefined> {
    try {
      return await this.work.openWork();
    } catch (e) {
      this.logger.warn('snapshot without workloads: Omni-Channel work could not be read', { error: salesforceErrorMessage(e) });
      return undefined;
    }
  }

  /**
   * Pushes the command to the consoles of that one user. No console subscribed (`userOnlineStatus` false or
   * no fan-out) → `RetryableWriteError('console-closed')`; an unknown status → `PermanentWriteError('unknown-status')`.
   * Delivered → `confirm-pending`: the write counts once the presence stream shows the new status. Never
   * retried here (jsforce does not retry a POST either): the queue owns retries.
   *
   * Once a push found the user's console closed, further writes to that user throw `console-closed` at once,
   * without a push, until the console poll (`consolePollMs`) sees the console subscribed again and tells the
   * `onConsoleOnline` listeners; with the poll off, or its answers older than three intervals, every write pushes.
   */
  async sendStatus(command: PresenceCommand): Promise<PresenceWriteResult> {
    const channel = this.settings.commandChannel;
    if (this.consoleKnownClosed(command.userId)) {
      throw new RetryableWriteError('console-closed', `the console of user ${command.userId} is still closed (${channel} has no subscriber of that user at the last poll): not pushed`);
    }
    try {
      const statusId = command.status === SALESFORCE_OFFLINE ? undefined : await this.catalog.idOf(command.status);
      const payload = encodeConsoleCommand(toConsoleCommand(command, statusId));
      const channelId = await this.commandChannelId();
      const answer = await this.session.call((conn) => conn.request<PushResult[] | PushResult>({
        method: 'POST',
        url: `/sobjects/StreamingChannel/${channelId}/push`,
        body: JSON.stringify({ pushEvents: [{ payload, userIds: [command.userId] }] }),
        headers: { 'content-type': 'application/json' },
      }, { timeout: this.settings.requestTimeoutMs }));
      const result = Array.isArray(answer) ? answer[0] : answer;
      if (consoleClosed(result, command.userId)) {
        this.markConsoleClosed(command.userId);
        throw new RetryableWriteError('console-closed', `no console of user ${command.userId} is listening on ${channel} (Omni-Channel console not open)`);
      }
      this.closedConsoles.delete(id15(command.userId));
      this.logger.debug('console command pushed', { userId: command.userId, commandId: command.commandId, status: command.status });
      return { kind: 'confirm-pending' };
    } catch (e) {
      const code = salesforceErrorCode(e);
      if (code && STALE_CHANNEL_CODES.has(code)) this.channelId = undefined;
      throw classifySalesforceError(e, { what: `push to ${channel}`, ...this.limitPauses() });
    }
  }

  /**
   * Hears that a user's console, found closed by an earlier write, subscribed to the command channel again:
   * the moment to resume that user's held writes. Called at most once per closed spell, from the console poll
   * (`consolePollMs`; never while it is 0), with the user id as the write named it. Returns the unsubscribe.
   * A listener that throws is logged and does not stop the others.
   */
  override get watchesConsoles(): boolean {
    return this.settings.consolePollMs > 0;
  }

  override onConsoleOnline(listener: ConsoleOnlineListener): () => void {
    this.consoleListeners.add(listener);
    return () => {
      this.consoleListeners.delete(listener);
    };
  }

  /** Users whose console is known closed (the console poll runs while there is any). */
  get closedConsoleUsers(): string[] {
    return [...this.closedConsoles.values()];
  }

  /** Stops the console poll (shutdown). Safe twice; a later closed console starts it again. */
  stopConsoleWatch(): void {
    if (this.consoleTimer) clearInterval(this.consoleTimer);
    this.consoleTimer = undefined;
  }

  /** Reads the command channel's subscribers now; resolves when the poll is done (tests, and the poll timer). */
  pollConsoles(): Promise<void> {
    this.consolePoll ??= this.readConsoles().finally(() => {
      this.consolePoll = undefined;
    });
    return this.consolePoll;
  }

  private consoleKnownClosed(userId: string): boolean {
    const every = this.settings.consolePollMs;
    if (every <= 0 || !this.closedConsoles.has(id15(userId))) return false;
    return Date.now() - this.consoleFactAt <= CONSOLE_STATE_STALE_POLLS * every;
  }

  private markConsoleClosed(userId: string): void {
    if (this.settings.consolePollMs <= 0) return;
    this.closedConsoles.set(id15(userId), userId);
    this.consoleFactAt = Date.now();
    if (this.consoleTimer) return;
    // One GET per interval for all closed consoles together, and only while there is one: an org whose
    // consoles are open spends nothing on it.
    this.consoleTimer = setInterval(() => void this.pollConsoles(), this.settings.consolePollMs);
    this.consoleTimer.unref?.();
  }

  private async readConsoles(): Promise<void> {
    if (this.closedConsoles.size === 0) {
      this.stopConsoleWatch();
      return;
    }
    let online: string[];
    try {
      const channelId = await this.commandChannelId();
      const answer = await this.session.call((conn) => conn.request<ChannelSubscribers>(
        { method: 'GET', url: `/sobjects/StreamingChannel/${channelId}/push` }, { timeout: this.settings.requestTimeoutMs },
      ));
      online = answer.OnlineUserIds ?? [];
    } catch (e) {
      const code = salesforceErrorCode(e);
      if (code && STALE_CHANNEL_CODES.has(code)) this.channelId = undefined;
      // Kept as it was: once the answers are stale, writes push again and find out for themselves.
      this.logger.warn('could not read the command channel subscribers', { error: salesforceErrorMessage(e) });
      return;
    }
    this.consoleFactAt = Date.now();
    const back: string[] = [];
    for (const id of online) {
      const userId = this.closedConsoles.get(id15(id));
      if (userId === undefined) continue;
      this.closedConsoles.delete(id15(id));
      back.push(userId);
    }
    if (this.closedConsoles.size === 0) this.stopConsoleWatch();
    for (const userId of back) {
      this.logger.info('console open again', { userId });
      for (const listener of this.consoleListeners) {
        try {
          listener(userId);
        } catch (e) {
          this.logger.error('console-online listener failed', { userId, error: salesforceErrorMessage(e) });
        }
      }
    }
  }

  /** The two pauses of the error taxonomy and the usage that tells them apart. */
  private limitPauses(): Pick<ClassifyOptions, 'rateLimitPauseMs' | 'dailyLimitPauseMs' | 'apiUsage'> {
    return { rateLimitPauseMs: this.settings.rateLimitPauseMs, dailyLimitPauseMs: this.settings.dailyLimitPauseMs, apiUsage: this.session.apiUsage };
  }

  start(sink: InboundSink, onGap?: (reason: string) => void): Promise<void> {
    return this.stream.start(sink, onGap);
  }

  stop(): Promise<void> {
    return this.stream.stop();
  }

  /** The command channel's id, looked up by name once and cached (a failed lookup is not cached). */
  private async commandChannelId(): Promise<string> {
    if (this.channelId) return this.channelId;
    const name = this.settings.commandChannel;
    const rows = await queryAll<{ Id: string }>(this.session, `SELECT Id FROM StreamingChannel WHERE Name = ${soqlString(name)}`, this.settings.requestTimeoutMs);
    if (!rows[0]) {
      // A setup problem: every command would fail the same way until an admin runs the setup.
      throw new RetryableWriteError('no-command-channel', `the StreamingChannel ${name} does not exist: run \`presence-sync salesforce setup\``);
    }
    this.channelId = rows[0].Id;
    return this.channelId;
  }

  private async queryStatuses(): Promise<SalesforceStatusDefinition[]> {
    const rows = await queryAll<StatusRow>(this.session, STATUS_CATALOG_SOQL, this.settings.requestTimeoutMs);
    return rows.map((r) => ({ id: r.Id, developerName: r.DeveloperName, label: r.MasterLabel }));
  }

  private async read<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw classifySalesforceError(e, { what, ...this.limitPauses() });
    }
  }
}

/** `userOnlineStatus[userId] === false` (matched on the 15-character id too), or nothing fanned out. */
export function consoleClosed(result: PushResult | undefined, userId: string): boolean {
  if (!result) return true;
  const statuses = result.userOnlineStatus ?? {};
  const key = Object.keys(statuses).find((k) => k === userId || k.slice(0, 15) === userId.slice(0, 15));
  if (key !== undefined && statuses[key] === false) return true;
  return result.fanoutCount === 0;
}
