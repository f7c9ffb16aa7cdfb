import type { SalesforceSettings } from '@presence-sync/config';
import {
  RetryableWriteError, SALESFORCE_OFFLINE, SalesforcePort,
  type ChangeSource, type CheckpointStore, type InboundSink, type PresenceCommand, type PresenceSnapshot, type PresenceWriteResult,
  type RefreshTokenStore, type SalesforceStatusDefinition, type SalesforceUser,
} from '@presence-sync/domain';
import { encodeConsoleCommand, toConsoleCommand } from './console-command.codec';
import { classifySalesforceError, salesforceErrorCode } from './salesforce-errors';
import { SILENT_SALESFORCE_LOGGER, type SalesforceLogger } from './salesforce-logger';
import { SalesforcePresenceStream, type PresenceStreamOptions } from './salesforce-presence.stream';
import { SalesforceSession, type SalesforceIdentity } from './salesforce-session';
import { CURRENT_PRESENCE_SOQL, queryAll, soqlString, STATUS_CATALOG_SOQL, USERS_SOQL } from './soql';
import { StatusCatalog } from './status-catalog';

interface StatusRow { Id: string; DeveloperName: string; MasterLabel: string }
interface UserRow { Id: string; Username: string; Email?: string | null; FederationIdentifier?: string | null; IsActive: boolean }
interface PresenceRow { Id: string; UserId: string; ServicePresenceStatusId: string; StatusStartDate?: string | null }

/** One result of a StreamingChannel push (Salesforce "Streaming Channel Push REST API"). */
export interface PushResult {
  fanoutCount: number;
  userOnlineStatus?: Record<string, boolean>;
}

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
  private readonly settings: SalesforceSettings;
  private readonly logger: SalesforceLogger;
  private channelId?: string;

  constructor(options: JsforceSalesforceOptions) {
    super();
    this.settings = options.settings;
    this.logger = options.logger ?? SILENT_SALESFORCE_LOGGER;
    this.session = options.session ?? new SalesforceSession(options.settings, this.logger, { refreshTokens: options.refreshTokens });
    this.catalog = new StatusCatalog(() => this.queryStatuses());
    this.stream = new SalesforcePresenceStream(this.session, this.catalog, options.checkpoints, {
      pushTopic: options.settings.pushTopic,
      offlineHoldMs: options.settings.offlineHoldMs,
      proxyUrl: options.settings.proxyUrl,
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

  async listUsers(): Promise<SalesforceUser[]> {
    const rows = await this.read('user query', () => queryAll<UserRow>(this.session, USERS_SOQL, this.settings.requestTimeoutMs));
    return rows.map((u) => ({
      userId: u.Id, username: u.Username, email: u.Email ?? undefined, federationId: u.FederationIdentifier ?? undefined, active: u.IsActive === true,
    }));
  }

  /** Users with a current USP row; a row whose status is unknown even after a catalog refresh is left out (logged). */
  async currentPresence(): Promise<PresenceSnapshot[]> {
    return this.read('presence snapshot query', async () => {
      const rows = await queryAll<PresenceRow>(this.session, CURRENT_PRESENCE_SOQL, this.settings.requestTimeoutMs);
      const out: PresenceSnapshot[] = [];
      for (const row of rows) {
        const status = await this.catalog.nameOf(row.ServicePresenceStatusId);
        if (!status) {
          this.logger.warn('current presence row with an unknown status: left out', { userId: row.UserId, statusId: row.ServicePresenceStatusId });
          continue;
        }
        const since = row.StatusStartDate ? Date.parse(row.StatusStartDate) : Number.NaN;
        out.push({ userId: row.UserId, status, since: Number.isFinite(since) ? since : Date.now() });
      }
      return out;
    });
  }

  /**
   * Pushes the command to the consoles of that one user. No console subscribed (`userOnlineStatus` false or
   * no fan-out) → `RetryableWriteError('console-closed')`; an unknown status → `PermanentWriteError('unknown-status')`.
   * Delivered → `confirm-pending`: the write counts once the presence stream shows the new status. Never
   * retried here (jsforce does not retry a POST either): the queue owns retries.
   */
  async sendStatus(command: PresenceCommand): Promise<PresenceWriteResult> {
    const channel = this.settings.commandChannel;
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
        throw new RetryableWriteError('console-closed', `no console of user ${command.userId} is listening on ${channel} (Omni-Channel console not open)`);
      }
      this.logger.debug('console command pushed', { userId: command.userId, commandId: command.commandId, status: command.status });
      return { kind: 'confirm-pending' };
    } catch (e) {
      const code = salesforceErrorCode(e);
      if (code && STALE_CHANNEL_CODES.has(code)) this.channelId = undefined;
      throw classifySalesforceError(e, { what: `push to ${channel}`, rateLimitPauseMs: this.settings.rateLimitPauseMs });
    }
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
      throw classifySalesforceError(e, { what, rateLimitPauseMs: this.settings.rateLimitPauseMs });
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
