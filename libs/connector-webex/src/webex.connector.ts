import { createHash } from 'node:crypto';
import {
  ConfigError,
  ContactCenterPort,
  ContactCenterReadError,
  ON_CONTACT_REASON,
  PermanentWriteError,
  RateLimitedError,
  RetryableWriteError,
  type AcdAgent,
  type AcdTeam,
  type AcdWriteRequest,
  type AcdWriteResult,
  type ConnectorCapabilities,
  type ConnectorHealth,
  type RefreshTokenStore,
} from '@presence-sync/domain';
import { NoAnswer, parseJson, parseRetryAfter, vendorText, WebexApiClient, type WebexAnswer } from './webex-api.client';
import { rollUpChannels } from './webex-state.mapping';
import { WebexAuthError, WebexTokenSource } from './webex-token.source';
import { WEBEX_AGENT_EVENT_TYPES, WebexWebhookIntake } from './webex-webhook.intake';

/** Options of {@link WebexConnector}; the daemon builds them from the WEBEX_* settings. */
export interface WebexConnectorOptions {
  /** The org's Contact Center API root, e.g. `https://api.wxcc-us1.cisco.com` (from WEBEX_REGION or WEBEX_API_BASE_URL). */
  apiBaseUrl: string;
  /** Default `https://webexapis.com/v1/access_token`. */
  tokenUrl?: string;
  clientId: string;
  clientSecret: string;
  refreshToken: string;
  /** The Contact Center org id (the `{orgid}` of the configuration APIs). */
  orgId: string;
  /** Keeps the current refresh token for every replica (Redis in the daemon). */
  refreshTokens?: RefreshTokenStore;
  /** The daemon's public webhook URL; with `webhookSecret`, `start()` creates or updates the subscription. */
  webhookUrl?: string;
  /** The subscription secret; Webex signs every delivery with it. Without it the connector serves no webhook (the CLI). */
  webhookSecret?: string;
  /** The subscription's name, how the daemon finds its own among the org's. Default `presence-sync`. */
  subscriptionName?: string;
  /** The auxiliary code id sent with `Available`. Default `0`, the id Cisco's desktop uses. */
  availableAuxCodeId?: string;
  /** Sent with a logout. Default `presence-sync`. */
  logoutReason?: string;
  /** Per HTTP request, ms. Default 5000. */
  timeoutMs?: number;
  /** Page size asked of the configuration APIs (Webex caps it at its maximum). Default 100. */
  pageSize?: number;
  /** Extra attempts of a read after a 5xx or network failure. Default 2. */
  readRetries?: number;
  /** First pause between read attempts, ms (doubled each time). Default 250. */
  readRetryDelayMs?: number;
  /** How far back the search for active agent sessions looks, ms. Default 30 days. */
  sessionLookbackMs?: number;
  /** After a write names an agent or code the cached catalog lacks, the catalog is re-read at most this often, ms. Default 30000. */
  catalogMissReloadMs?: number;
  now?: () => number;
}

export const DEFAULT_WEBEX_TOKEN_URL = 'https://webexapis.com/v1/access_token';
export const DEFAULT_WEBEX_SUBSCRIPTION_NAME = 'presence-sync';
/** Reads wait out a 429 themselves only when the pause is short; a longer one goes to the caller. */
const MAX_READ_RATE_LIMIT_WAIT_MS = 5_000;
const MAX_PAGES = 10_000;
const CATALOG_REUSE_MS = 10_000;

interface AuxCode { id: string; name: string; workTypeCode?: string; active?: boolean; defaultCode?: boolean }
interface WebexUser { id: string; email?: string; teamIds?: string[]; agentProfileId?: string; active?: boolean; contactCenterEnabled?: boolean }
interface WebexTeam { id: string; name: string; teamType?: string; active?: boolean }
interface AgentProfile { id: string; accessIdleCode?: string; idleCodes?: string[] }
interface Catalog {
  codes: Map<string, AuxCode>;
  users: Map<string, WebexUser>;
  profiles: Map<string, AgentProfile>;
  teams: WebexTeam[];
  loadedAt: number;
}
interface Subscription { id: string; name: string; description?: string; eventTypes?: string[]; destinationUrl?: string; status?: string; createdTime?: number }
interface SessionChannel { currentState?: string | null; idleCodeName?: string | null; lastActivityTime?: number | null }
interface AgentSession { agentId?: string; teamId?: string | null; startTime?: number; channelInfo?: SessionChannel[] }

/** A read of one API resource failed; turned into the domain's error by the caller (read or write). */
class ReadFailure extends Error {
  constructor(readonly error: ContactCenterReadError | RateLimitedError) {
    super(error.message);
  }
}

/**
 * The Cisco Webex Contact Center connector (docs/connectors/webex.md).
 *
 * - Changes come as webhooks of a subscription the connector creates or updates at `start()` (found by name,
 *   never duplicated), verified with Webex's `X-WebexCC-Signature`. Delivery is best effort: the daemon's
 *   reconcile (`listAgents`, which reads every active agent session) repairs what was lost.
 * - Writes: `PUT /v1/agents/session/state` (Available, Idle with an idle code) and `PUT /v1/agents/logout`
 *   (Offline), both answered 202; the outcome arrives as an event (`accepted`). Webex does not carry our request id.
 * - Directory: users, teams, desktop profiles (which idle codes an agent may use) and auxiliary codes from the
 *   configuration APIs, cached for resolving code names in writes and code ids in events.
 */
export class WebexConnector extends ContactCenterPort {
  override readonly name = 'webex';
  /** Fixed for the class: `rules validate` reads it from the connector's name alone (no settings, no network). */
  static readonly capabilities: ConnectorCapabilities = {
    settable: ['Available', 'Unavailable', 'Offline'],
    // Webex documents no next state for the REST state change; the engine holds the write until the contact ends.
    onContact: 'refused',
    echoesRequestId: false,
    // The wrap-up code is chosen when wrap-up ends, so AfterWork is reported without one.
    afterWorkCodes: false,
    unavailableNeedsCode: false,
  };
  override readonly capabilities = WebexConnector.capabilities;
  private readonly tokens: WebexTokenSource;
  private readonly api: WebexApiClient;
  private readonly intake?: WebexWebhookIntake;
  private readonly now: () => number;
  private readonly pageSize: number;
  private readonly readRetries: number;
  private readonly readRetryDelayMs: number;
  private readonly orgPath: string;
  private catalog?: Catalog;
  private catalogLoad?: Promise<Catalog>;
  private lastMissReload = 0;
  private subscriptionId?: string;

  constructor(private readonly options: WebexConnectorOptions) {
    super();
    for (const [name, value] of [['apiBaseUrl', options.apiBaseUrl], ['tokenUrl', options.tokenUrl ?? DEFAULT_WEBEX_TOKEN_URL]] as const) {
      let url: URL;
      try {
        url = new URL(value);
      } catch {
        throw new ConfigError(`Webex ${name} is not a valid URL: ${JSON.stringify(value)}`);
      }
      if (!/^https?:$/.test(url.protocol) || url.username || url.password || url.search || url.hash) {
        throw new ConfigError(`Webex ${name} must be an http(s) URL without credentials, query or fragment`);
      }
    }
    if (!options.orgId) throw new ConfigError('Webex orgId is required');
    this.now = options.now ?? Date.now;
    const timeoutMs = options.timeoutMs ?? 5_000;
    this.tokens = new WebexTokenSource({
      tokenUrl: options.tokenUrl ?? DEFAULT_WEBEX_TOKEN_URL, clientId: options.clientId, clientSecret: options.clientSecret,
      refreshToken: options.refreshToken, store: options.refreshTokens, timeoutMs, now: this.now,
    });
    this.api = new WebexApiClient({ baseUrl: options.apiBaseUrl.replace(/\/+$/, ''), tokens: this.tokens, timeoutMs });
    if (options.webhookSecret) this.intake = new WebexWebhookIntake(options.webhookSecret, (id) => this.catalog?.codes.get(id)?.name);
    this.pageSize = options.pageSize ?? 100;
    this.readRetries = options.readRetries ?? 2;
    this.readRetryDelayMs = options.readRetryDelayMs ?? 250;
    this.orgPath = `/organization/${encodeURIComponent(options.orgId)}`;
  }

  override get webhook(): WebexWebhookIntake | undefined {
    return this.intake;
  }

  /** Loads the catalog (codes for writes and events), then creates or updates the daemon's subscription. */
  override async start(): Promise<void> {
    try {
      await this.loadCatalog();
      if (this.options.webhookUrl && this.options.webhookSecret) await this.ensureSubscription(this.options.webhookUrl, this.options.webhookSecret);
    } catch (e) {
      throw this.startError(e);
    }
  }

  override async stop(): Promise<void> {
    // The API's kept-alive connections close; the subscription outlives the process by design.
    this.api.close();
  }

  override async listTeams(): Promise<AcdTeam[]> {
    const catalog = await this.readCatalog();
    return catalog.teams.map((team) => ({ teamId: team.id, name: team.name, unavailableCodes: this.teamCodes(catalog, team.id) }));
  }

  override async listAgents(): Promise<AcdAgent[]> {
    const catalog = await this.readCatalog();
    const sessions = await this.unwrap(this.activeSessions());
    return [...catalog.users.values()]
      .filter((u) => u.active !== false && u.contactCenterEnabled !== false)
      .map((user) => {
        const session = sessions.get(user.id);
        const agent: AcdAgent = { agentId: user.id };
        if (user.email) agent.email = user.email;
        const teamId = session?.teamId ?? user.teamIds?.[0];
        if (teamId) agent.teamId = teamId;
        const state = session ? rollUpChannels(session.channelInfo ?? []) : { state: 'Offline' as const };
        if (state) agent.state = state;
        const since = Math.max(0, ...(session?.channelInfo ?? []).map((c) => c.lastActivityTime ?? 0));
        if (since > 0) agent.since = since;
        return agent;
      });
  }

  /**
   * @throws PermanentWriteError `not-settable`, `code-required`, `unknown-agent`, `unknown-code`, `code-not-enabled`
   *   (all decided from the catalog, no write sent), `on-contact` (the agent handles a contact), `rejected` (400),
   *   `unauthorized` (401 after a fresh token), `forbidden` (403: the integration user is no supervisor with
   *   'Change Agent States' over the agent's team)
   * @throws RateLimitedError on 429 with Webex's `Retry-After`
   * @throws RetryableWriteError 5xx, network, timeout, the token endpoint failing
   */
  override async setState(request: AcdWriteRequest): Promise<AcdWriteResult> {
    const { agentId, state } = request;
    if (!(this.capabilities.settable as readonly string[]).includes(state.state)) {
      throw new PermanentWriteError('not-settable', `Webex: ${state.state} cannot be set (it comes from contacts); settable: ${this.capabilities.settable.join(', ')}`);
    }
    const catalog = await this.catalogFor((c) => c.users.has(agentId) && (state.state !== 'Unavailable' || !state.code || this.idleCodeByName(c, state.code) !== undefined));
    const user = catalog.users.get(agentId);
    if (!user) throw new PermanentWriteError('unknown-agent', `Webex: agent ${agentId} is not a Contact Center user of org ${this.options.orgId}`);

    let path: string;
    let body: Record<string, string>;
    if (state.state === 'Offline') {
      path = '/v1/agents/logout';
      body = { logoutReason: this.options.logoutReason ?? 'presence-sync', agentId };
    } else if (state.state === 'Available') {
      path = '/v1/agents/session/state';
      body = { state: 'Available', auxCodeId: this.options.availableAuxCodeId ?? '0', agentId };
    } else {
      const code = state.code ? this.idleCodeByName(catalog, state.code) : [...catalog.codes.values()].find((c) => isIdleCode(c) && c.defaultCode);
      if (!code) {
        throw state.code
          ? new PermanentWriteError('unknown-code', `Webex: no active idle code named ${JSON.stringify(state.code)}`)
          : new PermanentWriteError('code-required', 'Webex: Idle needs an idle code and the org has no default idle code; give the rule a code');
      }
      if (!this.profileAllows(catalog, user, code)) {
        throw new PermanentWriteError('code-not-enabled', `Webex: idle code ${JSON.stringify(code.name)} is not enabled in the desktop profile of agent ${agentId}`);
      }
      path = '/v1/agents/session/state';
      body = { state: 'Idle', auxCodeId: code.id, agentId };
    }

    const what = `PUT ${path}`;
    let answer: WebexAnswer;
    try {
      answer = await this.api.call('PUT', path, body);
    } catch (e) {
      if (e instanceof NoAnswer) throw new RetryableWriteError(e.kind, `Webex ${what}: ${e.detail}`);
      if (e instanceof WebexAuthError) throw e.permanent ? new PermanentWriteError('unauthorized', e.message, e.httpStatus) : new RetryableWriteError('token', e.message, e.httpStatus);
      throw e;
    }
    const { status } = answer;
    if (status >= 200 && status < 300) return { kind: 'accepted' };
    const said = vendorText(answer.text, this.tokens.secrets());
    const tail = said ? `: ${said}` : '';
    if (status === 429) {
      const waitMs = parseRetryAfter(answer.header('retry-after'), this.now());
      throw new RateLimitedError(waitMs, `Webex ${what}: HTTP 429, retry after ${waitMs} ms`);
    }
    if (status === 400 && /engaged|on a (task|contact|call)|wrap-?up|in a task|ongoing task/i.test(said)) {
      throw new PermanentWriteError(ON_CONTACT_REASON, `Webex ${what}: agent ${agentId} is on a contact${tail}`, status);
    }
    if (status === 401) throw new PermanentWriteError('unauthorized', `Webex ${what}: HTTP 401 with a fresh access token; authorize the integration again${tail}`, status);
    if (status === 403) {
      throw new PermanentWriteError('forbidden', `Webex ${what}: HTTP 403; the integration's user must be a supervisor whose user profile has 'Change Agent States' and the agent's team in scope, and the token needs the cjp:user scope${tail}`, status);
    }
    if (status === 404) throw new PermanentWriteError('unknown-agent', `Webex ${what}: HTTP 404, agent ${agentId} unknown or not logged in${tail}`, status);
    if (status >= 500 || status === 408) throw new RetryableWriteError('server-error', `Webex ${what}: HTTP ${status}${tail}`, status);
    throw new PermanentWriteError('rejected', `Webex ${what}: HTTP ${status}${tail}`, status);
  }

  /** Up when a token can be had and the subscription reads back active (an inactive one is set active again). */
  override async health(): Promise<ConnectorHealth> {
    try {
      if (!this.subscriptionId) {
        await this.readJson('GET', `${this.orgPath}/v2/team?page=0&pageSize=1`, 'GET team');
        return { up: true, detail: 'teams listed' };
      }
      const path = `/v1/subscriptions/${encodeURIComponent(this.subscriptionId)}?orgId=${encodeURIComponent(this.options.orgId)}`;
      const sub = subscriptionOf(await this.readJson('GET', path, 'GET subscription'));
      if (sub?.status === 'inactive') {
        await this.readJson('PATCH', `/v1/subscriptions/${encodeURIComponent(this.subscriptionId)}`, 'PATCH subscription', { status: 'active', orgId: this.options.orgId });
        return { up: false, detail: `Webex had set subscription ${this.subscriptionId} inactive; it was set active again (events may have been lost until the next reconcile)` };
      }
      return { up: true, detail: `subscription ${this.subscriptionId} active` };
    } catch (e) {
      const error = e instanceof ReadFailure ? e.error : e;
      return { up: false, detail: error instanceof Error ? error.message : String(error) };
    }
  }

  // ---- subscription -------------------------------------------------------------------------------------------

  /**
   * Finds the subscription by name and brings it to what the settings say; creates it when there is none. Two
   * replicas starting together may both create one: each then lists again and deletes every copy but the oldest,
   * so they agree on the one left.
   */
  private async ensureSubscription(destinationUrl: string, secret: string): Promise<void> {
    const name = this.options.subscriptionName ?? DEFAULT_WEBEX_SUBSCRIPTION_NAME;
    const description = `Managed by presence-sync; secret ${secretFingerprint(secret)}`;
    const eventTypes = [...WEBEX_AGENT_EVENT_TYPES];
    let ours = await this.subscriptionsNamed(name);
    if (ours.length === 0) {
      await this.readJson('POST', '/v1/subscriptions', 'POST subscription', { name, description, eventTypes, destinationUrl, secret, orgId: this.options.orgId });
      ours = await this.subscriptionsNamed(name);
    }
    ours.sort((a, b) => (a.createdTime ?? 0) - (b.createdTime ?? 0) || a.id.localeCompare(b.id));
    const [kept, ...extra] = ours;
    if (!kept) throw new ContactCenterReadError('bad-response', `Webex: subscription ${name} was created but is not listed`);
    for (const copy of extra) {
      try {
        await this.readJson('DELETE', `/v1/subscriptions/${encodeURIComponent(copy.id)}?orgId=${encodeURIComponent(this.options.orgId)}`, 'DELETE subscription');
      } catch (e) {
        // Another replica deleted it first.
        if (!(e instanceof ReadFailure && e.error instanceof ContactCenterReadError && e.error.httpStatus === 404)) throw e;
      }
    }
    const same = kept.destinationUrl === destinationUrl && kept.status === 'active' && kept.description === description
      && sameSet(kept.eventTypes ?? [], eventTypes);
    if (!same) {
      await this.readJson('PATCH', `/v1/subscriptions/${encodeURIComponent(kept.id)}`, 'PATCH subscription', {
        description, eventTypes, destinationUrl, status: 'active', secret, orgId: this.options.orgId,
      });
    }
    this.subscriptionId = kept.id;
  }

  private async subscriptionsNamed(name: string): Promise<Subscription[]> {
    const body = await this.readJson('GET', `/v1/subscriptions?orgId=${encodeURIComponent(this.options.orgId)}`, 'GET subscriptions');
    const data = (body as { data?: unknown }).data;
    if (!Array.isArray(data)) throw new ContactCenterReadError('bad-response', 'Webex GET /v1/subscriptions: data is not a list');
    return data.map(subscriptionOf).filter((s): s is Subscription => s !== undefined && s.name === name);
  }

  // ---- catalog --------------------------------------------------------------------------------------------------

  /**
   * The catalog for a listing, turned into the caller's read error on failure. The daemon's directory refresh asks
   * for agents and teams back to back: a catalog read within the last 10 s serves both.
   */
  private async readCatalog(): Promise<Catalog> {
    const cached = this.catalog;
    if (cached && this.now() - cached.loadedAt < CATALOG_REUSE_MS) return cached;
    return this.unwrap(this.loadCatalog());
  }

  /** The cached catalog when it has what the write needs, else one re-read (at most every `catalogMissReloadMs`). */
  private async catalogFor(has: (c: Catalog) => boolean): Promise<Catalog> {
    const cached = this.catalog;
    const reloadAfter = this.options.catalogMissReloadMs ?? 30_000;
    if (cached && (has(cached) || this.now() - this.lastMissReload < reloadAfter)) return cached;
    if (cached) this.lastMissReload = this.now();
    try {
      return await this.loadCatalog();
    } catch (e) {
      const error = e instanceof ReadFailure ? e.error : e;
      if (error instanceof RateLimitedError) throw error;
      if (error instanceof ContactCenterReadError) {
        throw error.retryable || error.reason === 'bad-response'
          ? new RetryableWriteError(error.reason, `Webex: reading the catalog for a write failed: ${error.message}`, error.httpStatus)
          : new PermanentWriteError(error.reason, `Webex: reading the catalog for a write failed: ${error.message}`, error.httpStatus);
      }
      throw error;
    }
  }

  private loadCatalog(): Promise<Catalog> {
    this.catalogLoad ??= this.fetchCatalog()
      .then((catalog) => {
        this.catalog = catalog;
        return catalog;
      })
      .finally(() => {
        this.catalogLoad = undefined;
      });
    return this.catalogLoad;
  }

  private async fetchCatalog(): Promise<Catalog> {
    const [teams, users, profiles, codes] = await Promise.all([
      this.pages<WebexTeam>('team', 'attributes=id,name,teamType,active'),
      this.pages<WebexUser>('user', 'attributes=id,email,teamIds,agentProfileId,active,contactCenterEnabled'),
      this.pages<AgentProfile>('agent-profile', 'attributes=id,accessIdleCode,idleCodes'),
      this.pages<AuxCode>('auxiliary-code', 'attributes=id,name,workTypeCode,active,defaultCode'),
    ]);
    return {
      teams: teams.filter((t) => isText(t.id) && isText(t.name) && t.active !== false && t.teamType !== 'CAPACITY'),
      users: new Map(users.filter((u) => isText(u.id)).map((u) => [u.id, u])),
      profiles: new Map(profiles.filter((p) => isText(p.id)).map((p) => [p.id, p])),
      codes: new Map(codes.filter((c) => isText(c.id) && isText(c.name)).map((c) => [c.id, c])),
      loadedAt: this.now(),
    };
  }

  /** Every record of a paged configuration list (`page` from 0, `meta.totalPages`; a short page also ends it). */
  private async pages<T>(resource: string, query: string): Promise<T[]> {
    const out: T[] = [];
    for (let page = 0; page < MAX_PAGES; page++) {
      const what = `GET ${resource} (page ${page})`;
      const body = (await this.readJson('GET', `${this.orgPath}/v2/${resource}?${query}&page=${page}&pageSize=${this.pageSize}`, what)) as { data?: unknown; meta?: { totalPages?: unknown } };
      if (!Array.isArray(body.data)) throw new ReadFailure(new ContactCenterReadError('bad-response', `Webex ${what}: data is not a list`));
      out.push(...(body.data as T[]));
      const totalPages = typeof body.meta?.totalPages === 'number' ? body.meta.totalPages : undefined;
      if (body.data.length === 0 || (totalPages !== undefined ? page + 1 >= totalPages : body.data.length < this.pageSize)) return out;
    }
    throw new ReadFailure(new ContactCenterReadError('bad-response', `Webex GET ${resource}: more than ${MAX_PAGES} pages`));
  }

  private idleCodeByName(catalog: Catalog, name: string): AuxCode | undefined {
    return [...catalog.codes.values()].find((c) => isIdleCode(c) && c.name === name);
  }

  /** The idle codes an agent may use come from their desktop profile: all, the listed ones (by id or name), or none. */
  private profileAllows(catalog: Catalog, user: WebexUser, code: AuxCode): boolean {
    const profile = user.agentProfileId ? catalog.profiles.get(user.agentProfileId) : undefined;
    if (!profile) return true;
    switch (profile.accessIdleCode) {
      case 'SPECIFIC':
        return (profile.idleCodes ?? []).some((c) => c === code.id || c === code.name);
      case 'NONE':
        return false;
      default:
        return true;
    }
  }

  /** A team's codes: the idle codes the desktop profiles of its agents allow (all active idle codes for a team without agents). */
  private teamCodes(catalog: Catalog, teamId: string): string[] {
    const idle = [...catalog.codes.values()].filter(isIdleCode);
    const members = [...catalog.users.values()].filter((u) => u.teamIds?.includes(teamId));
    const allowed = members.length === 0 ? idle : idle.filter((code) => members.some((u) => this.profileAllows(catalog, u, code)));
    return [...new Set(allowed.map((c) => c.name))];
  }

  // ---- current state ------------------------------------------------------------------------------------------

  /** Every active agent session (search API, GraphQL `agentSession`), by agent id; cursor paging. */
  private async activeSessions(): Promise<Map<string, AgentSession>> {
    const sessions = new Map<string, AgentSession>();
    const to = this.now();
    const from = to - (this.options.sessionLookbackMs ?? 30 * 86_400_000);
    const cursors = new Set<string>();
    let cursor = 'NA';
    for (let page = 0; page < MAX_PAGES; page++) {
      const query = `{ agentSession(from: ${from}, to: ${to}, filter: { isActive: { equals: true } }, pagination: { cursor: ${JSON.stringify(cursor)} }) `
        + '{ agentSessions { agentId agentSessionId teamId isActive startTime channelInfo { channelType currentState idleCodeName lastActivityTime } } pageInfo { hasNextPage endCursor } } }';
      const what = `POST /search agentSession (page ${page})`;
      const body = (await this.readJson('POST', `/search?orgId=${encodeURIComponent(this.options.orgId)}`, what, { query })) as Record<string, unknown>;
      if (Array.isArray(body.errors) && body.errors.length > 0) {
        const first = body.errors[0] as { message?: unknown };
        throw new ReadFailure(new ContactCenterReadError('bad-response', `Webex ${what}: ${typeof first?.message === 'string' ? first.message.slice(0, 200) : 'GraphQL error'}`));
      }
      const result = (body.data as { agentSession?: { agentSessions?: unknown; pageInfo?: { hasNextPage?: unknown; endCursor?: unknown } } } | undefined)?.agentSession;
      if (!result || !Array.isArray(result.agentSessions)) throw new ReadFailure(new ContactCenterReadError('bad-response', `Webex ${what}: data.agentSession.agentSessions is not a list`));
      for (const raw of result.agentSessions as AgentSession[]) {
        if (!raw || !isText(raw.agentId)) continue;
        // An agent with two active sessions (a relogin in flight): the later one holds.
        const seen = sessions.get(raw.agentId);
        if (!seen || (raw.startTime ?? 0) >= (seen.startTime ?? 0)) sessions.set(raw.agentId, raw);
      }
      const next = result.pageInfo?.hasNextPage === true && typeof result.pageInfo.endCursor === 'string' ? result.pageInfo.endCursor : undefined;
      if (!next) return sessions;
      if (cursors.has(next)) throw new ReadFailure(new ContactCenterReadError('bad-response', `Webex ${what}: a cursor came back twice; stopping`));
      cursors.add(next);
      cursor = next;
    }
    throw new ReadFailure(new ContactCenterReadError('bad-response', `Webex /search: more than ${MAX_PAGES} pages`));
  }

  // ---- HTTP ---------------------------------------------------------------------------------------------------

  /** One call whose 2xx body is JSON (or empty); retries 5xx and network failures, waits out a short 429. */
  private async readJson(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, what: string, body?: unknown): Promise<unknown> {
    const label = `Webex ${what}`;
    for (let attempt = 0; ; attempt++) {
      const canRetry = attempt < this.readRetries;
      const pause = this.readRetryDelayMs * 2 ** attempt;
      let answer: WebexAnswer;
      try {
        answer = await this.api.call(method, path, body);
      } catch (e) {
        if (e instanceof WebexAuthError) {
          if (!e.permanent && canRetry) {
            await delay(pause);
            continue;
          }
          throw new ReadFailure(new ContactCenterReadError(e.permanent ? 'unauthorized' : 'server-error', e.message, e.httpStatus));
        }
        if (!(e instanceof NoAnswer)) throw e;
        if (canRetry) {
          await delay(pause);
          continue;
        }
        throw new ReadFailure(new ContactCenterReadError(e.kind, `${label}: ${e.detail}`));
      }
      const { status } = answer;
      if (status >= 200 && status < 300) {
        if (answer.text.trim() === '') return {};
        const json = parseJson(answer.text);
        if (json === undefined || typeof json !== 'object' || json === null) {
          throw new ReadFailure(new ContactCenterReadError('bad-response', `${label}: HTTP ${status} body is not a JSON object`, status));
        }
        return json;
      }
      const said = vendorText(answer.text, this.tokens.secrets());
      const tail = said ? `: ${said}` : '';
      if (status === 429) {
        const waitMs = parseRetryAfter(answer.header('retry-after'), this.now());
        if (canRetry && waitMs <= MAX_READ_RATE_LIMIT_WAIT_MS) {
          await delay(waitMs);
          continue;
        }
        throw new ReadFailure(new RateLimitedError(waitMs, `${label}: HTTP 429, retry after ${waitMs} ms`));
      }
      if (status >= 500 || status === 408) {
        if (canRetry) {
          await delay(pause);
          continue;
        }
        throw new ReadFailure(new ContactCenterReadError('server-error', `${label}: HTTP ${status}${tail}`, status));
      }
      if (status === 401 || status === 403) {
        const hint = status === 403 ? '; check the integration scopes (cjp:config_read, cjp:config_write, cjp:user) and the user\'s Contact Center role' : '';
        throw new ReadFailure(new ContactCenterReadError('unauthorized', `${label}: HTTP ${status}${hint}${tail}`, status));
      }
      throw new ReadFailure(new ContactCenterReadError('http-error', `${label}: HTTP ${status}${tail}`, status));
    }
  }

  private async unwrap<T>(promise: Promise<T>): Promise<T> {
    try {
      return await promise;
    } catch (e) {
      throw e instanceof ReadFailure ? e.error : e;
    }
  }

  private startError(e: unknown): Error {
    const error = e instanceof ReadFailure ? e.error : e;
    if (error instanceof ContactCenterReadError && error.reason === 'unauthorized') {
      return new ConfigError(`Webex refused the daemon at start: ${error.message}`);
    }
    return error instanceof Error ? error : new Error(String(error));
  }
}

function isText(v: unknown): v is string {
  return typeof v === 'string' && v !== '';
}

function isIdleCode(code: AuxCode): boolean {
  return code.workTypeCode === 'IDLE_CODE' && code.active !== false;
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}

function subscriptionOf(raw: unknown): Subscription | undefined {
  const v = (raw && typeof raw === 'object' && 'data' in raw && !Array.isArray((raw as { data: unknown }).data) ? (raw as { data: unknown }).data : raw) as Record<string, unknown> | undefined;
  if (!v || typeof v !== 'object' || !isText(v.id) || !isText(v.name)) return undefined;
  return v as unknown as Subscription;
}

/** A fingerprint of the subscription secret kept in its description, so a changed secret is noticed (Webex never shows it). */
export function secretFingerprint(secret: string): string {
  return createHash('sha256').update(`presence-sync:webex-subscription-secret:${secret}`).digest('hex').slice(0, 12);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
