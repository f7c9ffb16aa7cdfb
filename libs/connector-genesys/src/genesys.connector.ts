import {
  ConfigError,
  ContactCenterPort,
  ContactCenterReadError,
  PermanentWriteError,
  RateLimitedError,
  RetryableWriteError,
  SILENT_CONNECTOR_LOGGER,
  type AcdAgent,
  type AcdTeam,
  type AcdWriteRequest,
  type AcdWriteResult,
  type ConnectorCapabilities,
  type ConnectorHealth,
  type ConnectorLogger,
} from '@presence-sync/domain';
import { GenesysApiClient, GenesysAuthError, GenesysNoAnswer, type GenesysAnswer } from './genesys-api.client';
import { GenesysNotificationSource, type GenesysSourceOptions } from './genesys-notification.source';
import { parseGenesysDate, sinceOf, toAcdState, type GenesysPresenceDefinition, type GenesysUserView } from './genesys-state.mapping';


/** Options of {@link GenesysConnector}; the daemon builds them from the GENESYS_* settings. */
export interface GenesysConnectorOptions {
  /** The org's region host, e.g. `mypurecloud.com`, `mypurecloud.ie` (GENESYS_REGION). Default `mypurecloud.com`. */
  region?: string;
  /** An http(s) base serving `/oauth/token` and `/api/v2/*` instead of the region's hosts (a gateway, the emulator). */
  apiBaseUrl?: string;
  clientId: string;
  clientSecret: string;
  /** Per HTTP request, ms. Default 5000. */
  timeoutMs?: number;
  /** Users per page on listings. Default 500 (the API's largest page). */
  pageSize?: number;
  /** How long presence definitions are reused, ms. Default 300000. */
  definitionsTtlMs?: number;
  /** The change source's tuning (heartbeat watchdog, reconnect pace). */
  source?: Partial<GenesysSourceOptions>;
  now?: () => number;
  logger?: ConnectorLogger;
}

const DEFAULT_RETRY_AFTER_MS = 1_000;
const MAX_RETRY_AFTER_MS = 10 * 60_000;
const MAX_READ_RATE_LIMIT_WAIT_MS = 5_000;
const READ_RETRIES = 2;
const READ_RETRY_DELAY_MS = 250;

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * How long a 429 asks us to wait, ms: `Retry-After` (seconds), else `inin-ratelimit-reset` (seconds until the
 * token's window resets), else 1 s; capped at 10 min.
 */
export function genesysRetryAfterMs(headers: Record<string, string | undefined>): number {
  for (const name of ['retry-after', 'inin-ratelimit-reset']) {
    const text = headers[name]?.trim();
    if (text && /^\d+(\.\d+)?$/.test(text)) return Math.min(Math.max(Math.ceil(Number(text) * 1000), 0), MAX_RETRY_AFTER_MS);
  }
  return DEFAULT_RETRY_AFTER_MS;
}

function record(value: unknown): Record<string, unknown> | undefined {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/** The user's view from a `GET /api/v2/users?expand=presence,routingStatus` entity. */
export function viewOfUser(user: Record<string, unknown>): GenesysUserView {
  const view: GenesysUserView = {};
  const presence = record(user.presence);
  if (presence) {
    const def = record(presence.presenceDefinition);
    view.presence = {
      definitionId: typeof def?.id === 'string' ? def.id : undefined,
      systemPresence: typeof def?.systemPresence === 'string' ? def.systemPresence : undefined,
      modifiedAt: parseGenesysDate(presence.modifiedDate),
    };
  }
  const routing = record(user.routingStatus);
  if (routing) view.routing = { status: typeof routing.status === 'string' ? routing.status : undefined, startAt: parseGenesysDate(routing.startTime) };
  return view;
}

/**
 * The Genesys Cloud CX connector (docs/connectors/genesys.md). REST through the official SDK
 * (`purecloud-platform-client-v2`, client-credentials grant); changes from the Notifications API
 * (`v2.users.{id}.activity` and `v2.users.{id}.conversations` over WebSocket channels).
 *
 * - Agents are the org's active users; the "team" is the user's **division** (every user has exactly one, and
 *   presence definitions may be scoped to divisions; queues are many-to-many and work teams optional).
 * - Codes are presence definitions: AVAILABLE / ON_QUEUE → Available, OFFLINE → Offline, every other active
 *   definition → Unavailable with its label as the code.
 * - Writes: `PATCH /api/v2/users/{id}/presences/purecloud`. Available sets the On-Queue presence (routable).
 *   Genesys applies a presence at once even during an interaction, but routing stays INTERACTING until it ends:
 *   the agent is Busy to us until then, and the new presence is what they are in afterwards. So the write answers
 *   `accepted` and the change is reported by the stream (`onContact: 'deferred'`).
 */
export class GenesysConnector extends ContactCenterPort {
  override readonly name = 'genesys';
  /** Fixed for the class: `rules validate` reads it from the connector's name alone (no settings, no network). */
  static readonly capabilities: ConnectorCapabilities = {
    settable: ['Available', 'Unavailable', 'Offline'], onContact: 'deferred', echoesRequestId: false, afterWorkCodes: false, unavailableNeedsCode: false,
  };
  override readonly capabilities = GenesysConnector.capabilities;
  readonly api: GenesysApiClient;
  /** API calls made, by kind (the cost figures in the docs come from these). */
  readonly calls = { reads: 0, writes: 0 };
  private readonly now: () => number;
  private readonly pageSize: number;
  private readonly definitionsTtlMs: number;
  private readonly logger: ConnectorLogger;
  private readonly notificationSource: GenesysNotificationSource;
  private definitions?: { at: number; byId: Map<string, GenesysPresenceDefinition> };
  private definitionsRead?: Promise<Map<string, GenesysPresenceDefinition>>;

  constructor(options: GenesysConnectorOptions) {
    super();
    if (!options.clientId) throw new ConfigError('Genesys clientId must not be empty');
    if (!options.clientSecret) throw new ConfigError('Genesys clientSecret must not be empty');
    this.now = options.now ?? Date.now;
    this.pageSize = options.pageSize ?? 500;
    this.definitionsTtlMs = options.definitionsTtlMs ?? 300_000;
    this.logger = options.logger ?? SILENT_CONNECTOR_LOGGER;
    this.api = new GenesysApiClient({ region: options.region, apiBaseUrl: options.apiBaseUrl, clientId: options.clientId, clientSecret: options.clientSecret, timeoutMs: options.timeoutMs ?? 5000 });
    this.notificationSource = new GenesysNotificationSource(this, { ...options.source, now: this.now, logger: this.logger });
  }

  override get source(): GenesysNotificationSource {
    return this.notificationSource;
  }

  override async start(): Promise<void> {
    try {
      await this.api.connect();
    } catch (error) {
      if (error instanceof GenesysAuthError && error.credentials) throw new ConfigError(`invalid Genesys settings: ${error.message}`);
      throw error;
    }
  }

  override async stop(): Promise<void> {
    await this.notificationSource.stop();
  }

  override async health(): Promise<ConnectorHealth> {
    try {
      await this.presenceDefinitions(true);
      const streaming = this.notificationSource.isRunning ? `; ${this.notificationSource.openChannels} notification channel(s) on this replica` : '';
      return { up: true, detail: `Genesys Cloud answers${streaming}` };
    } catch (e) {
      return { up: false, detail: e instanceof Error ? e.message : String(e) };
    }
  }

  /** Every active user with e-mail, division and current state (`GET /api/v2/users?expand=presence,routingStatus`, paged). */
  override async listAgents(): Promise<AcdAgent[]> {
    const [users, definitions] = [await this.listUsers(), await this.presenceDefinitions()];
    return users.map(({ agentId, email, teamId, view }) => {
      const state = toAcdState(view, definitions);
      const agent: AcdAgent = { agentId, state };
      if (email) agent.email = email;
      if (teamId) agent.teamId = teamId;
      const since = sinceOf(view, state);
      if (since !== undefined) agent.since = since;
      return agent;
    });
  }

  /**
   * The divisions users are in, each with the active Unavailable presences it may use: those of every division
   * (no `divisionId`, or `*`) and those scoped to it.
   */
  override async listTeams(): Promise<AcdTeam[]> {
    const users = await this.listUsers();
    const definitions = await this.presenceDefinitions();
    const teams = new Map<string, string>();
    for (const u of users) if (u.teamId) teams.set(u.teamId, u.teamName ?? u.teamId);
    const codes = [...definitions.values()].filter((d) => !d.deactivated && !['AVAILABLE', 'ON_QUEUE', 'OFFLINE'].includes(d.systemPresence));
    const forDivision = (teamId: string) => codes.filter((d) => !d.divisionId || d.divisionId === '*' || d.divisionId === teamId).map((d) => d.label);
    return [...teams].map(([teamId, name]) => ({ teamId, name, unavailableCodes: [...new Set(forDivision(teamId))] }));
  }

  /** Users with their view; the source uses it for subscriptions and backfill. */
  async listUsers(): Promise<{ agentId: string; email?: string; teamId?: string; teamName?: string; view: GenesysUserView }[]> {
    const out: { agentId: string; email?: string; teamId?: string; teamName?: string; view: GenesysUserView }[] = [];
    for (let pageNumber = 1; ; pageNumber++) {
      const body = record(await this.read('GET /api/v2/users', () => this.api.users.getUsers({ pageSize: this.pageSize, pageNumber, state: 'active', expand: ['presence', 'routingStatus'] })));
      const entities = body?.entities;
      if (!Array.isArray(entities)) throw new ContactCenterReadError('bad-response', 'GET /api/v2/users: the answer has no entities list');
      for (const raw of entities) {
        const user = record(raw);
        if (!user || typeof user.id !== 'string') continue;
        const division = record(user.division);
        out.push({
          agentId: user.id, email: typeof user.email === 'string' ? user.email : undefined,
          teamId: typeof division?.id === 'string' ? division.id : undefined, teamName: typeof division?.name === 'string' ? division.name : undefined,
          view: viewOfUser(user),
        });
      }
      const pageCount = Number(body?.pageCount);
      if (entities.length < this.pageSize || !(Number.isFinite(pageCount) && pageNumber < pageCount)) return out;
    }
  }

  /** The org's presence definitions by id (`GET /api/v2/presence/definitions`), reused for `definitionsTtlMs`. */
  async presenceDefinitions(fresh = false): Promise<Map<string, GenesysPresenceDefinition>> {
    const cached = this.definitions;
    if (!fresh && cached && this.now() - cached.at <= this.definitionsTtlMs) return cached.byId;
    // Concurrent callers (a burst of events when the cache has just expired) share one read.
    this.definitionsRead ??= this.readDefinitions().finally(() => {
      this.definitionsRead = undefined;
    });
    return this.definitionsRead;
  }

  /**
   * The definitions for mapping streamed events: as {@link presenceDefinitions}, but when the read fails the last
   * ones known are used (a definition rarely changes; an event must not lose its code label for a failed read).
   */
  async definitionsForEvents(): Promise<Map<string, GenesysPresenceDefinition>> {
    try {
      return await this.presenceDefinitions();
    } catch (error) {
      this.logger.warn('Genesys presence definitions could not be read; using the last ones known', { error: error instanceof Error ? error.message : String(error) });
      return this.definitions?.byId ?? new Map();
    }
  }

  private async readDefinitions(): Promise<Map<string, GenesysPresenceDefinition>> {
    const body = record(await this.read('GET /api/v2/presence/definitions', () => this.api.presence.getPresenceDefinitions0({ deactivated: 'true' })));
    const entities = body?.entities;
    if (!Array.isArray(entities)) throw new ContactCenterReadError('bad-response', 'GET /api/v2/presence/definitions: the answer has no entities list');
    const byId = new Map<string, GenesysPresenceDefinition>();
    for (const raw of entities) {
      const def = record(raw);
      if (!def || typeof def.id !== 'string' || typeof def.systemPresence !== 'string') continue;
      const labels = record(def.languageLabels);
      const label = (typeof labels?.en_US === 'string' && labels.en_US) || (typeof def.name === 'string' && def.name) || def.systemPresence;
      byId.set(def.id, {
        id: def.id, systemPresence: def.systemPresence.toUpperCase(), label, deactivated: def.deactivated === true,
        divisionId: typeof def.divisionId === 'string' && def.divisionId ? def.divisionId : undefined,
      });
    }
    this.definitions = { at: this.now(), byId };
    return byId;
  }

  /**
   * Sets the user's Genesys presence (`PATCH /api/v2/users/{id}/presences/purecloud`): 1 call, plus the
   * presence definitions when not cached.
   *
   * @returns `accepted`: Genesys applies the presence at once, and the stream reports it (after the interaction
   *   when the agent is on one, as routing keeps them Busy until then)
   * @throws PermanentWriteError `not-settable`, `unknown-code`, `unknown-agent` (404), `rejected` (400, other 4xx), `unauthorized`
   * @throws RateLimitedError on 429 (`Retry-After` / `inin-ratelimit-reset`)
   * @throws RetryableWriteError `server-error` (5xx), `network`, `timeout`
   */
  override async setState(request: AcdWriteRequest): Promise<AcdWriteResult> {
    const { agentId, state } = request;
    if (!(this.capabilities.settable as readonly string[]).includes(state.state)) {
      throw new PermanentWriteError('not-settable', `Genesys sets ${state.state} itself; it cannot be written`);
    }
    let definitions: Map<string, GenesysPresenceDefinition>;
    try {
      definitions = await this.presenceDefinitions();
    } catch (error) {
      throw this.readToWrite(error);
    }
    let target = this.definitionFor(definitions, state.state, state.code);
    if (!target && state.code) {
      try {
        target = this.definitionFor(await this.presenceDefinitions(true), state.state, state.code);
      } catch (error) {
        throw this.readToWrite(error);
      }
    }
    if (!target) {
      throw new PermanentWriteError('unknown-code', `no active Genesys presence definition for ${state.state}${state.code ? ` with label ${JSON.stringify(state.code)}` : ''}`);
    }
    const what = `PATCH /api/v2/users/${agentId}/presences/purecloud`;
    let answer: GenesysAnswer;
    try {
      this.calls.writes++;
      answer = await this.api.call(() => this.api.presence.patchUserPresencesPurecloud(agentId, { presenceDefinition: { id: target.id } }));
    } catch (error) {
      if (error instanceof GenesysNoAnswer) throw new RetryableWriteError(error.kind, `${what}: ${error.detail}`);
      if (error instanceof GenesysAuthError) {
        if (error.credentials) throw new PermanentWriteError('unauthorized', `${what}: ${error.message}`, error.httpStatus);
        throw new RetryableWriteError('server-error', `${what}: ${error.message}`, error.httpStatus);
      }
      throw error;
    }
    const { status } = answer;
    if (status >= 200 && status < 300) return { kind: 'accepted' };
    const tail = snippet(answer.body);
    if (status === 429) {
      const waitMs = genesysRetryAfterMs(answer.headers);
      throw new RateLimitedError(waitMs, `${what}: HTTP 429 rate limited, retry after ${waitMs} ms${tail}`);
    }
    if (status >= 500 || status === 408) throw new RetryableWriteError('server-error', `${what}: HTTP ${status}${tail}`, status);
    if (status === 404) throw new PermanentWriteError('unknown-agent', `${what}: HTTP 404 unknown user${tail}`, 404);
    if (status === 401 || status === 403) {
      throw new PermanentWriteError('unauthorized', `${what}: HTTP ${status}; the OAuth client's role needs presence > userPresence > edit${tail}`, status);
    }
    throw new PermanentWriteError('rejected', `${what}: HTTP ${status}${tail}`, status);
  }

  /** Available → ON_QUEUE (routable); Offline → OFFLINE; Unavailable → the active definition labelled `code` (without a code: AWAY). */
  private definitionFor(definitions: Map<string, GenesysPresenceDefinition>, state: string, code?: string): GenesysPresenceDefinition | undefined {
    const active = [...definitions.values()].filter((d) => !d.deactivated);
    if (state === 'Available') return active.find((d) => d.systemPresence === 'ON_QUEUE');
    if (state === 'Offline') return active.find((d) => d.systemPresence === 'OFFLINE');
    const candidates = active.filter((d) => !['AVAILABLE', 'ON_QUEUE', 'OFFLINE'].includes(d.systemPresence));
    if (!code) return candidates.find((d) => d.systemPresence === 'AWAY');
    return candidates.find((d) => d.label === code) ?? candidates.find((d) => d.label.toLowerCase() === code.toLowerCase());
  }

  private readToWrite(error: unknown): Error {
    if (error instanceof RateLimitedError) return error;
    if (error instanceof ContactCenterReadError) {
      if (error.retryable) return new RetryableWriteError(error.reason, error.message, error.httpStatus);
      return new PermanentWriteError(error.reason === 'unauthorized' ? 'unauthorized' : 'rejected', error.message, error.httpStatus);
    }
    return error instanceof Error ? error : new Error(String(error));
  }

  /** One GET whose 200 body is JSON; retries 5xx and network failures, waits out short 429s. */
  async read(what: string, run: () => Promise<unknown>): Promise<unknown> {
    for (let attempt = 0; ; attempt++) {
      const canRetry = attempt < READ_RETRIES;
      const pause = READ_RETRY_DELAY_MS * 2 ** attempt;
      let answer: GenesysAnswer;
      try {
        this.calls.reads++;
        answer = await this.api.call(run);
      } catch (error) {
        if (error instanceof GenesysNoAnswer) {
          if (canRetry) {
            await delay(pause);
            continue;
          }
          throw new ContactCenterReadError(error.kind, `${what}: ${error.detail}`);
        }
        if (error instanceof GenesysAuthError) {
          throw new ContactCenterReadError(error.credentials ? 'unauthorized' : 'server-error', `${what}: ${error.message}`, error.httpStatus);
        }
        throw error;
      }
      const { status } = answer;
      if (status >= 200 && status < 300) return answer.body;
      const tail = snippet(answer.body);
      if (status === 429) {
        const waitMs = genesysRetryAfterMs(answer.headers);
        if (canRetry && waitMs <= MAX_READ_RATE_LIMIT_WAIT_MS) {
          this.logger.debug('Genesys read rate limited; waiting', { what, waitMs });
          await delay(waitMs);
          continue;
        }
        throw new RateLimitedError(waitMs, `${what}: HTTP 429 rate limited, retry after ${waitMs} ms${tail}`);
      }
      if (status >= 500 || status === 408) {
        if (canRetry) {
          await delay(pause);
          continue;
        }
        throw new ContactCenterReadError('server-error', `${what}: HTTP ${status}${tail}`, status);
      }
      if (status === 401 || status === 403) {
        throw new ContactCenterReadError('unauthorized', `${what}: HTTP ${status}; the OAuth client's role must allow reading users, presence and routing status${tail}`, status);
      }
      throw new ContactCenterReadError('http-error', `${what}: HTTP ${status}${tail}`, status);
    }
  }
}

/** A short piece of the vendor's error body (its `message`), never headers or tokens. */
function snippet(body: unknown): string {
  const message = record(body)?.message;
  return typeof message === 'string' && message ? `: ${message.slice(0, 200)}` : '';
}
