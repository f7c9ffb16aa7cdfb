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
import { CxoneApiClient, CxoneAuthError, NoAnswer, parseJson, type CxoneAnswer } from './cxone-api.client';
import { parseCxoneDate, toAcdState, type CxoneAgentStateRecord } from './cxone-agent-state.mapping';
import { CxoneStatePoller, type CxoneStatePage } from './cxone-state.poller';

/** Options of {@link CxoneConnector}; the daemon builds them from the CXONE_* settings. */
export interface CxoneConnectorOptions {
  /** CXone issuer host (setting CXONE_AUTH_URL), e.g. `https://cxone.niceincontact.com`. */
  authUrl: string;
  clientId: string;
  clientSecret: string;
  accessKeyId: string;
  accessKeySecret: string;
  /** Default: the `tenantId` claim of the access token. */
  tenantId?: string;
  /** Skips the API base discovery, e.g. `https://api-na1.niceincontact.com`. */
  apiBaseUrl?: string;
  /** Default `v34.0`. */
  apiVersion?: string;
  /** Per HTTP request, ms. Default 5000. */
  timeoutMs?: number;
  /** Time between agent-state polls, ms. Default {@link DEFAULT_CXONE_POLL_INTERVAL_MS}. */
  pollIntervalMs?: number;
  /** A poll watermark older than this is not resumed from (full read + gap), ms. Default 3600000. */
  resumeMaxAgeMs?: number;
  /** Where the poll watermark is kept (Redis in the daemon). Default: in memory, so every start is a gap. */
  checkpoints?: CheckpointStore;
  /** How long a team's unavailable codes are reused for resolving a code name to its id, ms. Default 300000. */
  codesTtlMs?: number;
  /** Records per page asked for on listings (`top`). Default 1000. */
  pageSize?: number;
  now?: () => number;
  logger?: ConnectorLogger;
}

/**
 * Default poll interval. A change waits for the next poll (up to one interval, half on average), then the poll's
 * round trip, the daemon (tens of ms, docs/performance.md) and the Salesforce write: 1 s keeps the worst case
 * within the 2 s end-to-end goal with about half a second to spare for CXone's and Salesforce's latency.
 */
export const DEFAULT_CXONE_POLL_INTERVAL_MS = 1000;
export const DEFAULT_CXONE_API_VERSION = 'v34.0';
export const DEFAULT_CXONE_RESUME_MAX_AGE_MS = 3_600_000;
/** `PermanentWriteError.reason` of a write refused because the agent is on a contact (the engine holds it). */
export const CXONE_ON_CONTACT_REASON = 'on-contact';

/** Used when a 429 carries no usable `Retry-After`. */
const DEFAULT_RETRY_AFTER_MS = 1_000;
/** A longer `Retry-After` is capped: the queue re-checks rather than sleeping for hours. */
const MAX_RETRY_AFTER_MS = 10 * 60_000;
/** Reads wait out a 429 themselves only when the pause is short. */
const MAX_READ_RATE_LIMIT_WAIT_MS = 5_000;
const READ_RETRIES = 2;
/** How long a successful team listing is reused (the readiness probe lists teams every few seconds), ms. */
export const TEAMS_TTL_MS = 30_000;
const READ_RETRY_DELAY_MS = 250;

/** `Retry-After` as ms: delta-seconds or an HTTP-date; missing or unreadable → 1 s; capped at 10 min. */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number {
  const text = value?.trim();
  if (!text) return DEFAULT_RETRY_AFTER_MS;
  let ms: number;
  if (/^\d+(\.\d+)?$/.test(text)) ms = Math.ceil(Number(text) * 1000);
  else {
    const at = /[a-z]/i.test(text) ? Date.parse(text) : Number.NaN;
    if (Number.isNaN(at)) return DEFAULT_RETRY_AFTER_MS;
    ms = at - nowMs;
  }
  return Math.min(Math.max(ms, 0), MAX_RETRY_AFTER_MS);
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** One unavailable code of a team as CXone lists it (casing differs between versions). */
interface TeamCode {
  id: number;
  name: string;
  active: boolean;
  acw: boolean;
}

/** A team with its codes, as the connector caches it. */
export interface CxoneTeamCodes {
  teamId: string;
  name: string;
  /** Active unavailable codes an agent (or we) may pick. */
  unavailableCodes: string[];
  /** Active after-contact-work states (out-states with `isAcw`): seen as `AfterWork` codes, never set. */
  acwCodes: string[];
}

class MemoryCheckpoints implements CheckpointStore {
  private readonly values = new Map<string, string>();
  async get(key: string): Promise<string | undefined> {
    return this.values.get(key);
  }
  async set(key: string, value: string): Promise<void> {
    this.values.set(key, value);
  }
}

function record(value: unknown): Record<string, unknown> | undefined {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/** A field by name, ignoring case (CXone spells `outstateId` and `outStateId`, `isAcw` and `isACW`). */
function field(obj: Record<string, unknown>, name: string): unknown {
  if (name in obj) return obj[name];
  const lower = name.toLowerCase();
  const key = Object.keys(obj).find((k) => k.toLowerCase() === lower);
  return key === undefined ? undefined : obj[key];
}

function list(body: unknown, name: string, what: string): Record<string, unknown>[] {
  const obj = record(body);
  const items = obj ? field(obj, name) : undefined;
  if (!Array.isArray(items)) throw new ContactCenterReadError('bad-response', `${what}: the answer has no ${name} list`);
  return items.map((item) => record(item) ?? {});
}

function idText(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'string' && value.trim()) return value.trim();
  return undefined;
}

/**
 * The NiCE CXone connector (docs/connectors/cxone.md). Server-to-server: an API user's access key, the
 * real-time data API polled for every agent's state, the admin API to set another agent's state.
 *
 * - Changes: `source` polls `GET /agents/states?updatedSince=` (one call per interval for all agents).
 * - Writes: the agent's current state and team are read first (`GET /agents/{id}/states`), then
 *   `POST /agents/{id}/state` (Available, Unavailable with the code's id for the agent's team) or
 *   `POST /agents/{id}/logout` (Offline). An agent on a contact or in after-contact work is refused with reason
 *   `on-contact`: CXone's documentation does not say the admin call queues a next state, so the engine holds the
 *   write until the contact ends. A logged-out agent cannot be set Available or Unavailable: only the agent can
 *   log in (a station is needed).
 */
export class CxoneConnector extends ContactCenterPort {
  override readonly name = 'cxone';
  /** Fixed for the class: `rules validate` reads it from the connector's name alone (no settings, no network). */
  static readonly capabilities: ConnectorCapabilities = {
    settable: ['Available', 'Unavailable', 'Offline'], onContact: 'refused', echoesRequestId: false, afterWorkCodes: true, unavailableNeedsCode: false,
  };
  override readonly capabilities = CxoneConnector.capabilities;
  /** The HTTP transport (tests read its token count). */
  readonly api: CxoneApiClient;
  private readonly poller: CxoneStatePoller;
  private readonly now: () => number;
  private readonly codesTtlMs: number;
  private readonly pageSize: number;
  private readonly logger: ConnectorLogger;
  private readonly codes = new Map<string, { at: number; codes: TeamCode[] }>();
  private teamList?: { at: number; teams: Record<string, unknown>[] };
  /** API calls made, by kind (the cost figures in the docs come from these). */
  readonly calls = { reads: 0, writes: 0 };

  constructor(options: CxoneConnectorOptions) {
    super();
    for (const [name, value] of Object.entries({
      clientId: options.clientId, clientSecret: options.clientSecret, accessKeyId: options.accessKeyId, accessKeySecret: options.accessKeySecret,
    })) {
      if (!value) throw new ConfigError(`CXone ${name} must not be empty`);
    }
    const positive = (name: string, value: number | undefined) => {
      if (value !== undefined && !(Number.isInteger(value) && value > 0)) throw new ConfigError(`CXone ${name} must be a positive integer, got ${value}`);
    };
    positive('timeoutMs', options.timeoutMs);
    positive('pollIntervalMs', options.pollIntervalMs);
    positive('resumeMaxAgeMs', options.resumeMaxAgeMs);
    positive('codesTtlMs', options.codesTtlMs);
    positive('pageSize', options.pageSize);
    this.now = options.now ?? Date.now;
    this.logger = options.logger ?? SILENT_CONNECTOR_LOGGER;
    this.codesTtlMs = options.codesTtlMs ?? 300_000;
    this.pageSize = options.pageSize ?? 1000;
    this.api = new CxoneApiClient({
      authUrl: options.authUrl, clientId: options.clientId, clientSecret: options.clientSecret,
      accessKeyId: options.accessKeyId, accessKeySecret: options.accessKeySecret, tenantId: options.tenantId,
      apiBaseUrl: options.apiBaseUrl, apiVersion: options.apiVersion ?? DEFAULT_CXONE_API_VERSION,
      timeoutMs: options.timeoutMs ?? 5000, now: this.now,
    });
    this.poller = new CxoneStatePoller((since) => this.readStates(since), options.checkpoints ?? new MemoryCheckpoints(), {
      intervalMs: options.pollIntervalMs ?? DEFAULT_CXONE_POLL_INTERVAL_MS,
      resumeMaxAgeMs: options.resumeMaxAgeMs ?? DEFAULT_CXONE_RESUME_MAX_AGE_MS,
      now: this.now,
      logger: this.logger,
      pauseOf: (error) => (error instanceof RateLimitedError ? { retryAfterMs: error.retryAfterMs } : undefined),
      isFatal: (error) => error instanceof ConfigError || (error instanceof ContactCenterReadError && error.reason === 'unauthorized'),
    });
  }

  /** The agent-state poller (run by the daemon on one replica under a lease). */
  override get source(): CxoneStatePoller {
    return this.poller;
  }

  /** Authenticates and discovers the API base, so bad credentials or a wrong tenant stop the boot with one line. */
  override async start(): Promise<void> {
    try {
      await this.api.connect();
    } catch (error) {
      if (error instanceof CxoneAuthError && error.credentials) throw new ConfigError(`invalid CXone settings: ${error.message}`);
      throw error;
    }
  }

  override async stop(): Promise<void> {
    await this.poller.stop();
    this.api.close();
  }

  override async health(): Promise<ConnectorHealth> {
    try {
      await this.readJson('/teams?top=1', 'GET /teams');
      const source = this.poller.isRunning ? '; agent-state polling on this replica' : '';
      return { up: true, detail: `CXone answers${source}` };
    } catch (e) {
      return { up: false, detail: e instanceof Error ? e.message : String(e) };
    }
  }

  /** Every active agent with e-mail, team and current state (`GET /agents`, then `GET /agents/states`). */
  override async listAgents(): Promise<AcdAgent[]> {
    const agents = new Map<string, AcdAgent>();
    for (const raw of await this.readAll('/agents?isActive=true', 'agents', 'GET /agents')) {
      const agentId = idText(field(raw, 'agentId'));
      if (!agentId) continue;
      const agent: AcdAgent = { agentId };
      const email = field(raw, 'emailAddress');
      if (typeof email === 'string' && email.includes('@')) agent.email = email.trim();
      const teamId = idText(field(raw, 'teamId'));
      if (teamId) agent.teamId = teamId;
      agents.set(agentId, agent);
    }
    const states = await this.readStates(undefined);
    if (states.kind === 'changes') {
      for (const state of states.records) {
        const agent = agents.get(String(state.agentId));
        if (!agent) continue;
        agent.state = toAcdState(state);
        const since = parseCxoneDate(state.startDate);
        if (since !== undefined) agent.since = since;
      }
    }
    return [...agents.values()];
  }

  /** Every active team with its active unavailable codes (`GET /teams`, then one `GET /teams/{id}/unavailable-codes` per team). */
  override async listTeams(): Promise<AcdTeam[]> {
    return (await this.listTeamCodes()).map(({ teamId, name, unavailableCodes }) => ({ teamId, name, unavailableCodes }));
  }

  /**
   * Teams with their unavailable codes and their after-contact-work states. The team list is reused for
   * {@link TEAMS_TTL_MS} and each team's codes for `codesTtlMs`: the daemon's readiness probe lists teams every few
   * seconds, which would otherwise cost 1 + (number of teams) calls each time.
   */
  async listTeamCodes(): Promise<CxoneTeamCodes[]> {
    const cached = this.teamList;
    const fresh = cached && this.now() - cached.at <= TEAMS_TTL_MS;
    const teams = fresh ? cached.teams : await this.readAll('/teams?isActive=true', 'teams', 'GET /teams');
    if (!fresh) this.teamList = { at: this.now(), teams };
    const out: CxoneTeamCodes[] = [];
    for (const raw of teams) {
      const teamId = idText(field(raw, 'teamId'));
      if (!teamId) continue;
      const name = String(field(raw, 'teamName') ?? teamId);
      const known = this.codes.get(teamId);
      const codes = known && this.now() - known.at <= this.codesTtlMs ? known.codes : await this.fetchTeamCodes(teamId);
      const active = codes.filter((c) => c.active);
      out.push({ teamId, name, unavailableCodes: active.filter((c) => !c.acw).map((c) => c.name), acwCodes: active.filter((c) => c.acw).map((c) => c.name) });
    }
    return out;
  }

  /**
   * Sets another agent's state through the admin API. Each write reads the agent's state first (1 call) and then
   * writes (1 call); the team's codes are read when not cached.
   *
   * @returns `applied` for Available / Unavailable (CXone answers 200 and the state holds at once), `accepted` for
   *   Offline (the logout answers 202 and the next poll shows it), `deferred` when the state call answers 202 (a
   *   contact began between the read and the write and CXone queued the state as the agent's next one)
   * @throws PermanentWriteError reasons `unknown-agent` (404), `unknown-code` (no such active code for the
   *   agent's team), `on-contact` (agent handling a contact or in after-contact work), `agent-logged-out`
   *   (only the agent can log in), `rejected` (400 and other 4xx), `unauthorized`
   * @throws RateLimitedError on 429, with CXone's `Retry-After`
   * @throws RetryableWriteError reasons `server-error` (5xx, 408), `network`, `timeout`
   */
  override async setState(request: AcdWriteRequest): Promise<AcdWriteResult> {
    const { agentId } = request;
    const wanted = request.state;
    if (!(this.capabilities.settable as readonly string[]).includes(wanted.state)) {
      throw new PermanentWriteError('not-settable', `CXone sets ${wanted.state} itself; it cannot be written`);
    }
    if (!/^\d+$/.test(agentId)) throw new PermanentWriteError('unknown-agent', `CXone agent ids are numbers; ${JSON.stringify(agentId)} is not one`);
    const current = await this.currentState(agentId);
    const state = toAcdState(current);
    if (state.state === 'Busy' || state.state === 'AfterWork') {
      throw new PermanentWriteError(CXONE_ON_CONTACT_REASON, `agent ${agentId} is ${describe(state)} in CXone; ${describe(wanted)} is sent when the contact ends`);
    }
    if (state.state === 'Offline') {
      if (wanted.state === 'Offline') return { kind: 'applied', state: { state: 'Offline' } };
      throw new PermanentWriteError('agent-logged-out', `agent ${agentId} is logged out of CXone; only the agent can log in (CXone's API cannot start another agent's session without a station)`);
    }
    if (wanted.state === 'Offline') {
      await this.write(`/agents/${agentId}/logout`, undefined, agentId);
      return { kind: 'accepted' };
    }
    let body: { state: 'Available' | 'Unavailable'; outStateId?: number };
    if (wanted.state === 'Available') body = { state: 'Available' };
    else if (wanted.code) {
      const teamId = idText(current.teamId);
      if (!teamId) throw new PermanentWriteError('unknown-code', `agent ${agentId} has no team in CXone, so code ${JSON.stringify(wanted.code)} cannot be resolved`);
      body = { state: 'Unavailable', outStateId: await this.codeId(teamId, wanted.code, agentId) };
    } else body = { state: 'Unavailable' };
    // 202: CXone took the state as the agent's next one (a contact began between our read and the write).
    if ((await this.write(`/agents/${agentId}/state`, body, agentId)) === 202) return { kind: 'deferred' };
    const applied: AcdState = wanted.state === 'Unavailable' && wanted.code ? { state: 'Unavailable', code: wanted.code } : { state: wanted.state };
    return { kind: 'applied', state: applied };
  }

  /** The agent's state record (`GET /agents/{id}/states`), with write errors. */
  private async currentState(agentId: string): Promise<CxoneAgentStateRecord> {
    const what = `GET /agents/${agentId}/states`;
    let answer: CxoneAnswer;
    try {
      answer = await this.callForWrite('GET', `/agents/${agentId}/states`);
    } catch (error) {
      throw this.writeFailure(what, error);
    }
    if (answer.status === 404) throw new PermanentWriteError('unknown-agent', `${what}: HTTP 404 unknown agent${this.tail(answer)}`, 404);
    if (answer.status !== 200) throw this.statusFailure(what, answer);
    const states = record(parseJson(answer.text));
    const items = states ? field(states, 'agentStates') : undefined;
    const first = Array.isArray(items) ? record(items[0]) : undefined;
    if (!first || typeof field(first, 'agentStateName') !== 'string') {
      throw new RetryableWriteError('bad-response', `${what}: HTTP 200 without an agent state`);
    }
    return normaliseState(first);
  }

  /** The id of an active, non-ACW code of the team, by name; the team's codes are re-read once when not found in the cache. */
  private async codeId(teamId: string, name: string, agentId: string): Promise<number> {
    const find = (codes: TeamCode[]) => codes.find((c) => c.name === name && c.active && !c.acw);
    const cached = this.codes.get(teamId);
    let hit = cached && this.now() - cached.at <= this.codesTtlMs ? find(cached.codes) : undefined;
    if (!hit) {
      try {
        hit = find(await this.fetchTeamCodes(teamId));
      } catch (error) {
        if (error instanceof RateLimitedError) throw error;
        if (error instanceof ContactCenterReadError) {
          if (error.retryable) throw new RetryableWriteError(error.reason, error.message, error.httpStatus);
          throw new PermanentWriteError(error.reason === 'unauthorized' ? 'unauthorized' : 'rejected', error.message, error.httpStatus);
        }
        throw error;
      }
    }
    if (!hit) throw new PermanentWriteError('unknown-code', `code ${JSON.stringify(name)} is not an active unavailable code of agent ${agentId}'s CXone team ${teamId}`);
    return hit.id;
  }

  private async fetchTeamCodes(teamId: string): Promise<TeamCode[]> {
    const what = `GET /teams/${teamId}/unavailable-codes`;
    const body = await this.readJson(`/teams/${encodeURIComponent(teamId)}/unavailable-codes?activeOnly=false`, what);
    const codes: TeamCode[] = [];
    for (const raw of list(body, 'unavailableCodes', what)) {
      const id = Number(field(raw, 'outStateId') ?? field(raw, 'id'));
      const name = field(raw, 'outStateName') ?? field(raw, 'name');
      if (!Number.isInteger(id) || typeof name !== 'string') continue;
      codes.push({ id, name, active: field(raw, 'isActive') !== false, acw: field(raw, 'isAcw') === true });
    }
    this.codes.set(teamId, { at: this.now(), codes });
    return codes;
  }

  /** A state write; resolves with the 2xx status. */
  private async write(path: string, body: unknown, agentId: string): Promise<number> {
    const what = `POST ${path}`;
    let answer: CxoneAnswer;
    try {
      answer = await this.callForWrite('POST', path, body ?? {});
    } catch (error) {
      throw this.writeFailure(what, error);
    }
    if (answer.status >= 200 && answer.status < 300) return answer.status;
    if (answer.status === 404) throw new PermanentWriteError('unknown-agent', `${what}: HTTP 404 unknown agent${this.tail(answer)}`, 404);
    if (answer.status === 409) {
      // CXone documents no meaning for a 409 here: the agent's state says whether a contact or a logout was in the way.
      let reason = 'conflict';
      try {
        const now = toAcdState(await this.currentState(agentId));
        if (now.state === 'Busy' || now.state === 'AfterWork') reason = CXONE_ON_CONTACT_REASON;
        else if (now.state === 'Offline') reason = 'agent-logged-out';
      } catch {
        // the 409 stands on its own
      }
      throw new PermanentWriteError(reason, `${what}: HTTP 409 ${reason}${this.tail(answer)}`, 409);
    }
    throw this.statusFailure(what, answer);
  }

  private async callForWrite(method: 'GET' | 'POST', path: string, body?: unknown): Promise<CxoneAnswer> {
    this.calls.writes++;
    return this.api.call(method, path, body);
  }

  private writeFailure(what: string, error: unknown): Error {
    if (error instanceof NoAnswer) return new RetryableWriteError(error.kind, `${what}: ${error.detail}`);
    if (error instanceof CxoneAuthError) {
      if (error.credentials) return new PermanentWriteError('unauthorized', `${what}: ${error.message}`, error.httpStatus);
      if (error.httpStatus === 429) return new RateLimitedError(DEFAULT_RETRY_AFTER_MS, `${what}: ${error.message}`);
      return new RetryableWriteError(error.kind ?? 'server-error', `${what}: ${error.message}`, error.httpStatus);
    }
    return error instanceof Error ? error : new Error(String(error));
  }

  private statusFailure(what: string, answer: CxoneAnswer): Error {
    const { status } = answer;
    const tail = this.tail(answer);
    if (status === 429) {
      const waitMs = parseRetryAfter(answer.header('retry-after'), this.now());
      return new RateLimitedError(waitMs, `${what}: HTTP 429 rate limited, retry after ${waitMs} ms${tail}`);
    }
    if (status >= 500 || status === 408) return new RetryableWriteError('server-error', `${what}: HTTP ${status}${tail}`, status);
    if (status === 401 || status === 403) {
      return new PermanentWriteError('unauthorized', `${what}: HTTP ${status}; the API user's security profile must allow agent state changes${tail}`, status);
    }
    if (status === 400) return new PermanentWriteError('rejected', `${what}: HTTP 400 rejected${tail}`, status);
    return new PermanentWriteError('rejected', `${what}: HTTP ${status}${tail}`, status);
  }

  private tail(answer: CxoneAnswer): string {
    const vendor = this.api.snippet(answer.text);
    return vendor ? `: ${vendor}` : '';
  }

  /** The agent states changed since `updatedSince` (all when undefined), every page; 304 is "nothing new". */
  private async readStates(updatedSince: string | undefined): Promise<CxoneStatePage> {
    const query = updatedSince ? `?updatedSince=${encodeURIComponent(updatedSince)}` : '';
    const what = 'GET /agents/states';
    const records: CxoneAgentStateRecord[] = [];
    let lastPollTime: string | undefined;
    let skip = 0;
    for (let page = 0; ; page++) {
      const sep = query ? '&' : '?';
      const paged = `/agents/states${query}${sep}top=${this.pageSize}${skip ? `&skip=${skip}` : ''}`;
      const body = await this.readJson(paged, what, page === 0);
      if (body === NOT_MODIFIED) return { kind: 'not-modified' };
      const items = list(body, 'agentStates', what);
      if (page === 0) {
        const stamp = field(record(body) ?? {}, 'lastPollTime');
        if (typeof stamp === 'string' && stamp) lastPollTime = stamp;
      }
      for (const item of items) {
        if (field(item, 'agentId') === undefined || typeof field(item, 'agentStateName') !== 'string') continue;
        records.push(normaliseState(item));
      }
      const total = Number(field(record(body) ?? {}, 'totalRecords'));
      skip += items.length;
      if (items.length === 0 || items.length < this.pageSize || !(Number.isFinite(total) && skip < total)) break;
    }
    return { kind: 'changes', records, lastPollTime };
  }

  /** Every record of a paged listing (`top`/`skip`, until `totalRecords` or a short page). */
  private async readAll(path: string, name: string, what: string): Promise<Record<string, unknown>[]> {
    const out: Record<string, unknown>[] = [];
    let skip = 0;
    for (;;) {
      const sep = path.includes('?') ? '&' : '?';
      const body = await this.readJson(`${path}${sep}top=${this.pageSize}${skip ? `&skip=${skip}` : ''}`, what);
      const items = list(body, name, what);
      out.push(...items);
      skip += items.length;
      const total = Number(field(record(body) ?? {}, 'totalRecords'));
      if (items.length === 0 || items.length < this.pageSize || !(Number.isFinite(total) && skip < total)) return out;
    }
  }

  /** One GET whose 200 body is JSON (or 304 where allowed); retries 5xx and network failures, waits out short 429s. */
  private async readJson(path: string, what: string, allowNotModified = false): Promise<unknown> {
    for (let attempt = 0; ; attempt++) {
      const canRetry = attempt < READ_RETRIES;
      const pause = READ_RETRY_DELAY_MS * 2 ** attempt;
      let answer: CxoneAnswer;
      try {
        this.calls.reads++;
        answer = await this.api.call('GET', path);
      } catch (error) {
        if (error instanceof NoAnswer) {
          if (canRetry) {
            await delay(pause);
            continue;
          }
          throw new ContactCenterReadError(error.kind, `${what}: ${error.detail}`);
        }
        if (error instanceof CxoneAuthError) {
          if (error.credentials) throw new ContactCenterReadError('unauthorized', `${what}: ${error.message}`, error.httpStatus);
          if (error.httpStatus === 429) throw new RateLimitedError(DEFAULT_RETRY_AFTER_MS, `${what}: ${error.message}`);
          throw new ContactCenterReadError(error.kind ?? 'server-error', `${what}: ${error.message}`, error.httpStatus);
        }
        throw error;
      }
      const { status } = answer;
      if (status === 304 && allowNotModified) return NOT_MODIFIED;
      if (status === 204) return {};
      if (status === 200) {
        const body = parseJson(answer.text);
        if (body === undefined) throw new ContactCenterReadError('bad-response', `${what}: HTTP 200 body is not JSON`, status);
        return body;
      }
      const tail = this.tail(answer);
      if (status === 429) {
        const waitMs = parseRetryAfter(answer.header('retry-after'), this.now());
        if (canRetry && waitMs <= MAX_READ_RATE_LIMIT_WAIT_MS && !allowNotModified) {
          await delay(waitMs);
          continue;
        }
        throw new RateLimitedError(waitMs, `${what}: HTTP 429 rate limited, retry after ${waitMs} ms${tail}`);
      }
      if (status >= 500 || status === 408) {
        // The poller has its own pace: a failed poll is simply the next tick's business.
        if (canRetry && !allowNotModified) {
          await delay(pause);
          continue;
        }
        throw new ContactCenterReadError('server-error', `${what}: HTTP ${status}${tail}`, status);
      }
      if (status === 401 || status === 403) {
        throw new ContactCenterReadError('unauthorized', `${what}: HTTP ${status}; the API user's security profile must allow reading agents, teams and real-time data${tail}`, status);
      }
      throw new ContactCenterReadError('http-error', `${what}: HTTP ${status}${tail}`, status);
    }
  }
}

const NOT_MODIFIED = Symbol('not-modified');

function describe(state: AcdState): string {
  return state.code ? `${state.state} (${state.code})` : state.state;
}

/** A state record as the mapping reads it, whatever the field casing. */
function normaliseState(raw: Record<string, unknown>): CxoneAgentStateRecord {
  const pick = (name: string) => field(raw, name) as never;
  return {
    agentId: pick('agentId'), agentStateName: pick('agentStateName'), agentStateId: pick('agentStateId'),
    outStateId: pick('outStateId'), outStateDescription: pick('outStateDescription'),
    isACW: field(raw, 'isACW') === true, contactId: pick('contactId'), openContacts: pick('openContacts'),
    startDate: pick('startDate'), lastUpdateTime: pick('lastUpdateTime'), teamId: pick('teamId'), teamName: pick('teamName'),
  };
}

