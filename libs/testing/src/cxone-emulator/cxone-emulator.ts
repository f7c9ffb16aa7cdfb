import { randomBytes, randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { BodyTooLargeError, readBoundedBody } from '../http-body';
import {
  CXONE_EMULATOR_CREDENTIALS,
  CXONE_STATE_IDS,
  type CxoneContactState,
  type CxoneEmulatorAgent,
  type CxoneEmulatorCode,
  type CxoneEmulatorOptions,
  type CxoneEmulatorRequest,
  type CxoneEmulatorTeam,
  type CxoneFaultTarget,
  type CxoneNextState,
  type CxoneStateName,
} from './cxone-emulator.types';
import { listenLocal } from '../listen.util';

interface Answer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

interface Fault {
  remaining: number;
  status: number | 'reset';
  retryAfterSec?: number;
  target: CxoneFaultTarget;
}

interface IssuedToken {
  expiresAt: number;
  revoked: boolean;
}

interface EmulatorEvents {
  state: [agentId: number];
  request: [request: CxoneEmulatorRequest];
}

const MAX_BODY_BYTES = 64 * 1024;
const MAX_TOP = 10_000;
/** A held poll answer is served anyway after this many polls brought nothing newer. */
const HOLD_POLLS = 3;
const SERVICES = /^\/incontactapi\/services\/v(\d+)\.0(\/.*)$/i;
/** API versions the emulator serves; CXone keeps old versions live, the newest published is 34.0. */
const MIN_VERSION = 2;
const MAX_VERSION = 34;
const CONTACT_STATES = new Set<CxoneStateName>(['InboundContact', 'OutboundContact', 'InboundConsult', 'OutboundConsult', 'Dialer']);

function problem(status: number, error: string, description: string): Answer {
  return { status, body: { error, error_description: description } };
}

const iso = (ms: number) => new Date(ms).toISOString();
const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/**
 * A NiCE CXone tenant over real HTTP on 127.0.0.1, for tests, the conformance suite and the sandbox. It serves
 * what the connector uses, in CXone's shapes (docs/connectors/cxone.md lists the sources and what is not
 * documented):
 *
 * - OpenID discovery (`/.well-known/openid-configuration`), the tenant's configuration
 *   (`/.well-known/cxone-configuration?tenantId=`) and the token endpoint (`POST /auth/token`, password grant with
 *   an access key, client authenticated by HTTP Basic or in the form; JWT access tokens carrying `tenantId`, which
 *   expire and can be revoked).
 * - Under `/inContactAPI/services/vNN.0`: `GET /agents`, `GET /teams`, `GET /teams/{id}/unavailable-codes`,
 *   `GET /unavailable-codes`, the real-time `GET /agents/states?updatedSince=` (only agents changed since then,
 *   inclusive; 304 when none; `lastPollTime` for the next call) and `GET /agents/{id}/states`, the admin
 *   `POST /agents/{id}/state` (`{ state, outStateId }` as JSON or query) and `POST /agents/{id}/logout` (202).
 * - Agent actions (log in and out, pick a state, contacts with after-contact work and a queued next state).
 * - Faults: the next calls fail with a status (429 with Retry-After, 5xx) or a reset; tokens revoked; the poll
 *   endpoint down (delivery interrupted); the next poll answer repeated or held back; an optional rate limit.
 */
export class CxoneEmulator extends EventEmitter<EmulatorEvents> {
  /** Every call, in order. */
  readonly requests: CxoneEmulatorRequest[] = [];
  readonly tenantId: string;
  readonly credentials: { clientId: string; clientSecret: string; accessKeyId: string; accessKeySecret: string };

  private readonly now: () => number;
  private readonly businessUnitId: number;
  private readonly pageSize: number;
  private readonly codes = new Map<number, Required<CxoneEmulatorCode>>();
  private readonly teams = new Map<number, CxoneEmulatorTeam & { isActive: boolean; uuid: string }>();
  private readonly agents = new Map<number, CxoneEmulatorAgent & { userId: string }>();
  private readonly tokens = new Map<string, IssuedToken>();
  private readonly faults: Fault[] = [];
  private readonly window: number[] = [];
  private server?: Server;
  private starting?: Promise<{ baseUrl: string }>;
  private stopping?: Promise<void>;
  private baseUrl = '';
  private contactSeq = 5_000_000_000;
  private pollsDown = false;
  private repeatPoll: 'armed' | undefined;
  private replay?: Answer;
  private holdPoll: 'armed' | 'holding' | undefined;
  private held: unknown[] = [];
  private heldFor = 0;

  constructor(private readonly options: CxoneEmulatorOptions) {
    super();
    this.now = options.now ?? Date.now;
    this.tenantId = options.tenantId ?? '11111111-2222-4333-8444-555555555555';
    this.businessUnitId = options.businessUnitId ?? 4_600_000;
    this.pageSize = options.pageSize ?? 100;
    this.credentials = {
      clientId: options.clientId ?? CXONE_EMULATOR_CREDENTIALS.clientId,
      clientSecret: options.clientSecret ?? CXONE_EMULATOR_CREDENTIALS.clientSecret,
      accessKeyId: options.accessKeyId ?? CXONE_EMULATOR_CREDENTIALS.accessKeyId,
      accessKeySecret: options.accessKeySecret ?? CXONE_EMULATOR_CREDENTIALS.accessKeySecret,
    };
    for (const code of options.codes) {
      if (this.codes.has(code.id)) throw new Error(`CxoneEmulator: code ${code.id} listed twice`);
      this.codes.set(code.id, { id: code.id, name: code.name, isAcw: code.isAcw ?? false, isActive: code.isActive ?? true, agentTimeoutMins: code.agentTimeoutMins ?? 0 });
    }
    for (const team of options.teams) {
      if (this.teams.has(team.teamId)) throw new Error(`CxoneEmulator: team ${team.teamId} listed twice`);
      for (const id of team.codeIds) if (!this.codes.has(id)) throw new Error(`CxoneEmulator: team ${team.teamId} has unknown code ${id}`);
      if (team.acwCodeId !== undefined && !(team.codeIds.includes(team.acwCodeId) && this.codes.get(team.acwCodeId)?.isAcw)) {
        throw new Error(`CxoneEmulator: team ${team.teamId}'s acwCodeId must be one of its codes with isAcw`);
      }
      this.teams.set(team.teamId, { ...team, codeIds: [...team.codeIds], isActive: team.isActive ?? true, uuid: randomUUID() });
    }
    const at = this.now();
    for (const seed of options.agents) {
      if (this.agents.has(seed.agentId)) throw new Error(`CxoneEmulator: agent ${seed.agentId} listed twice`);
      if (!this.teams.has(seed.teamId)) throw new Error(`CxoneEmulator: agent ${seed.agentId} has unknown team ${seed.teamId}`);
      const state = seed.state ?? 'LoggedOut';
      if (state === 'Unavailable' && seed.outStateId !== undefined) this.checkCode(seed.teamId, seed.outStateId);
      this.agents.set(seed.agentId, {
        agentId: seed.agentId, firstName: seed.firstName, lastName: seed.lastName, userName: seed.userName ?? seed.emailAddress,
        emailAddress: seed.emailAddress, teamId: seed.teamId, isActive: seed.isActive ?? true, userId: randomUUID(),
        state, outStateId: state === 'Unavailable' ? seed.outStateId : undefined, isAcw: false, startDate: at, lastUpdateTime: at,
      });
    }
  }

  /** Listens on 127.0.0.1. Calling it again returns the same address. */
  start(): Promise<{ baseUrl: string }> {
    if (this.stopping) return Promise.reject(new Error('CxoneEmulator: stopped; create a new one'));
    this.starting ??= this.listen();
    return this.starting;
  }

  private async listen(): Promise<{ baseUrl: string }> {
    const server = createServer((req, res) => void this.handle(req, res));
    this.server = server;
    this.baseUrl = await listenLocal(server, this.options.port);
    return { baseUrl: this.baseUrl };
  }

  /** Closes the server and every socket. Safe to call twice. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await this.starting?.catch(() => undefined);
      const server = this.server;
      if (!server) return;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    })();
    return this.stopping;
  }

  // ----------------------------------------------------------------------------------------------------------
  // What tests and the sandbox read and do.
  // ----------------------------------------------------------------------------------------------------------

  getAgent(agentId: number): CxoneEmulatorAgent | undefined {
    const agent = this.agents.get(agentId);
    if (!agent) return undefined;
    const { userId: _userId, ...copy } = agent;
    return { ...copy, next: agent.next && { ...agent.next } };
  }

  /** Every agent, in seed order. */
  snapshot(): CxoneEmulatorAgent[] {
    return [...this.agents.keys()].map((id) => this.getAgent(id) as CxoneEmulatorAgent);
  }

  team(teamId: number): CxoneEmulatorTeam | undefined {
    const team = this.teams.get(teamId);
    return team && { teamId: team.teamId, teamName: team.teamName, codeIds: [...team.codeIds], acwCodeId: team.acwCodeId, isActive: team.isActive };
  }

  code(id: number): CxoneEmulatorCode | undefined {
    const code = this.codes.get(id);
    return code && { ...code };
  }

  /** The id of the team's code with this name (unavailable codes and ACW states). */
  codeIdOf(teamId: number, name: string): number | undefined {
    return this.teams.get(teamId)?.codeIds.find((id) => this.codes.get(id)?.name === name);
  }

  /** API calls answered so far (not auth or discovery), optionally only those whose route matches. */
  apiCalls(route?: RegExp): number {
    return this.requests.filter((r) => !r.route.startsWith('/.well-known') && r.route !== '/auth/token' && (!route || route.test(r.route))).length;
  }

  /** The agent logs in at their desktop (with a station): Unavailable without a code, as CXone starts a session. */
  agentLogin(agentId: number): void {
    const agent = this.mustGet(agentId);
    if (agent.state !== 'LoggedOut') throw new Error(`agentLogin: agent ${agentId} is logged in already`);
    this.change(agent, { state: 'Unavailable', outStateId: undefined, isAcw: false, contactId: undefined });
  }

  /** The agent ends their session. */
  agentLogout(agentId: number): void {
    const agent = this.mustGet(agentId);
    if (agent.state === 'LoggedOut') return;
    agent.next = undefined;
    this.change(agent, { state: 'LoggedOut', outStateId: undefined, isAcw: false, contactId: undefined });
  }

  /**
   * The agent picks a state at their desktop (logging in first when logged out). On a contact or in ACW it becomes
   * the agent's next state, applied when the contact ends, as CXone's agent application does.
   */
  agentSetState(agentId: number, state: CxoneNextState): void {
    const agent = this.mustGet(agentId);
    if (state.state === 'Unavailable' && state.outStateId !== undefined) this.checkCode(agent.teamId, state.outStateId, true);
    if (agent.state === 'LoggedOut') this.agentLogin(agentId);
    if (this.onContact(agent)) {
      agent.next = { ...state };
      agent.lastUpdateTime = this.now();
      this.emit('state', agent.agentId);
      return;
    }
    this.apply(agent, state);
  }

  /** A contact is routed to the agent and connected. */
  startContact(agentId: number, kind: CxoneContactState = 'InboundContact'): number {
    const agent = this.mustGet(agentId);
    if (agent.state === 'LoggedOut') throw new Error(`startContact: agent ${agentId} is logged out`);
    if (this.onContact(agent)) throw new Error(`startContact: agent ${agentId} is on a contact already`);
    const contactId = ++this.contactSeq;
    this.change(agent, { state: kind, outStateId: undefined, isAcw: false, contactId });
    return contactId;
  }

  /**
   * The contact ends. With `acw` (default: when the team has an ACW state) the agent enters after-contact work
   * (Unavailable with the ACW out-state, `isACW`); else the queued next state, or Available.
   */
  endContact(agentId: number, options: { acw?: boolean; acwCodeId?: number } = {}): void {
    const agent = this.mustGet(agentId);
    if (!CONTACT_STATES.has(agent.state)) throw new Error(`endContact: agent ${agentId} is ${agent.state}, not on a contact`);
    const team = this.teams.get(agent.teamId);
    const acwCodeId = options.acwCodeId ?? team?.acwCodeId;
    if (options.acw ?? acwCodeId !== undefined) {
      if (acwCodeId === undefined) throw new Error(`endContact: team ${agent.teamId} has no ACW state`);
      this.change(agent, { state: 'Unavailable', outStateId: acwCodeId, isAcw: true, contactId: agent.contactId });
    } else this.leaveContact(agent);
  }

  /** After-contact work ends: the queued next state, or Available. */
  endAcw(agentId: number): void {
    const agent = this.mustGet(agentId);
    if (!agent.isAcw) throw new Error(`endAcw: agent ${agentId} is not in after-contact work`);
    this.leaveContact(agent);
  }

  /** A poll answer is held back or due to be served again: the next polls will still deliver something already read. */
  get pendingDelivery(): boolean {
    return this.replay !== undefined || this.holdPoll === 'holding';
  }

  /** Access tokens issued and still valid (tests check none of them leaks into a message). */
  liveTokens(): string[] {
    const now = this.now();
    return [...this.tokens.entries()].filter(([, t]) => !t.revoked && t.expiresAt > now).map(([token]) => token);
  }

  /** Revokes every access token issued so far (the API user's key was rotated, a session was killed). */
  revokeTokens(): void {
    for (const token of this.tokens.values()) token.revoked = true;
  }

  /** The next `count` calls matching `target` fail with `status` (and `Retry-After` when given), or a dropped connection. */
  failNext(count: number, status: number | 'reset', options: { retryAfterSec?: number; target?: CxoneFaultTarget } = {}): void {
    if (count > 0) this.faults.push({ remaining: count, status, retryAfterSec: options.retryAfterSec, target: options.target ?? 'api' });
  }

  /** `GET /agents/states` answers 503 until `resumePolls` (the real-time service is down: nothing is delivered). */
  interruptPolls(): void {
    this.pollsDown = true;
  }

  resumePolls(): void {
    this.pollsDown = false;
  }

  /** The next poll answer that carries states is served once more on the poll after it (a replayed answer). */
  repeatNextPoll(): void {
    this.repeatPoll = 'armed';
  }

  /** The next poll answer that carries states is held back and served after the states of the answer following it. */
  holdNextPoll(): void {
    this.holdPoll = 'armed';
  }

  /**
   * Resolves when `predicate` holds; re-checked on every state change and call, and every 10 ms.
   */
  waitFor(predicate: () => boolean, timeoutMs = 5_000, what = 'condition'): Promise<void> {
    if (predicate()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        let held: boolean;
        try {
          held = predicate();
        } catch (error) {
          cleanup();
          reject(error);
          return;
        }
        if (held) {
          cleanup();
          resolve();
        }
      };
      const poll = setInterval(check, 10);
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`CxoneEmulator.waitFor: ${what} not met within ${timeoutMs} ms`));
      }, timeoutMs);
      const cleanup = () => {
        clearInterval(poll);
        clearTimeout(timer);
        this.off('state', check);
        this.off('request', check);
      };
      this.on('state', check);
      this.on('request', check);
    });
  }

  // ----------------------------------------------------------------------------------------------------------
  // The model.
  // ----------------------------------------------------------------------------------------------------------

  private mustGet(agentId: number): CxoneEmulatorAgent & { userId: string } {
    const agent = this.agents.get(agentId);
    if (!agent) throw new Error(`CxoneEmulator: unknown agent ${agentId}`);
    return agent;
  }

  private onContact(agent: CxoneEmulatorAgent): boolean {
    return CONTACT_STATES.has(agent.state) || agent.isAcw;
  }

  /** A code the team may use; `settable` also refuses ACW states and inactive codes. Throws for the in-process actions. */
  private checkCode(teamId: number, codeId: number, settable = false): void {
    const problemText = this.codeProblem(teamId, codeId, settable);
    if (problemText) throw new Error(problemText);
  }

  private codeProblem(teamId: number, codeId: number, settable: boolean): string | undefined {
    const team = this.teams.get(teamId);
    const code = this.codes.get(codeId);
    if (!team || !code || !team.codeIds.includes(codeId)) return `outStateId ${codeId} is not an unavailable code of team ${teamId}`;
    if (settable && (code.isAcw || !code.isActive)) return `outStateId ${codeId} (${code.name}) is ${code.isAcw ? 'an ACW state' : 'inactive'} and cannot be set`;
    return undefined;
  }

  private apply(agent: CxoneEmulatorAgent, state: CxoneNextState): void {
    this.change(agent, { state: state.state, outStateId: state.state === 'Unavailable' ? state.outStateId : undefined, isAcw: false, contactId: undefined });
  }

  private leaveContact(agent: CxoneEmulatorAgent): void {
    const next = agent.next;
    agent.next = undefined;
    this.apply(agent, next ?? { state: 'Available' });
  }

  private change(agent: CxoneEmulatorAgent, to: Pick<CxoneEmulatorAgent, 'state' | 'outStateId' | 'isAcw' | 'contactId'>): void {
    if (agent.state === to.state && agent.outStateId === to.outStateId && agent.isAcw === to.isAcw && agent.contactId === to.contactId) return;
    const at = this.now();
    agent.state = to.state;
    agent.outStateId = to.outStateId;
    agent.isAcw = to.isAcw;
    agent.contactId = to.contactId;
    agent.startDate = at;
    agent.lastUpdateTime = at;
    this.emit('state', agent.agentId);
  }

  // ----------------------------------------------------------------------------------------------------------
  // HTTP.
  // ----------------------------------------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://emulator');
    const method = req.method ?? 'GET';
    let route = url.pathname;
    let injected = false;
    let answer: Answer;
    try {
      const raw = await readBoundedBody(req, MAX_BODY_BYTES);
      const services = SERVICES.exec(url.pathname);
      if (url.pathname === '/.well-known/openid-configuration' && method === 'GET') answer = this.openIdConfiguration();
      else if (url.pathname === '/.well-known/cxone-configuration' && method === 'GET') answer = this.tenantConfiguration(url);
      else if (url.pathname === '/auth/token') {
        const fault = this.takeFault('token');
        if (fault) {
          injected = true;
          answer = this.faultAnswer(fault, res);
        } else answer = method === 'POST' ? this.issueToken(req, raw) : problem(405, 'method_not_allowed', 'use POST');
      } else if (services) {
        route = services[2];
        const version = Number(services[1]);
        if (version < MIN_VERSION || version > MAX_VERSION) answer = problem(404, 'NotFound', `API version v${version}.0 does not exist`);
        else if (!this.authorized(req)) {
          answer = problem(401, 'invalid_token', 'The access token is missing, expired or revoked');
          answer.headers = { 'WWW-Authenticate': 'Bearer error="invalid_token"' };
        } else {
          const isPoll = method === 'GET' && /^\/agents\/states\/?$/i.test(route);
          const isWrite = method === 'POST';
          const fault = this.takeFault(isPoll ? 'poll' : isWrite ? 'write' : 'read');
          const limited = this.rateLimited();
          if (fault) {
            injected = true;
            answer = this.faultAnswer(fault, res);
          } else if (limited) {
            injected = true;
            answer = { status: 429, body: { error: 'TooManyRequests', error_description: 'Rate limit exceeded' }, headers: { 'Retry-After': String(limited) } };
          } else if (isPoll && this.pollsDown) {
            injected = true;
            answer = problem(503, 'ServiceUnavailable', 'Real-time data is unavailable');
          } else answer = this.api(method, route, url.searchParams, raw);
        }
      } else answer = problem(404, 'NotFound', `no route ${url.pathname}`);
    } catch (error) {
      if (error instanceof BodyTooLargeError) answer = problem(413, 'PayloadTooLarge', `body over ${MAX_BODY_BYTES} bytes`);
      else answer = problem(500, 'InternalServerError', error instanceof Error ? error.message : String(error));
    }
    const entry: CxoneEmulatorRequest = { method, route, status: answer.status, injected, at: this.now() };
    this.requests.push(entry);
    this.send(res, answer);
    this.emit('request', entry);
  }

  private openIdConfiguration(): Answer {
    return {
      status: 200,
      body: {
        issuer: this.baseUrl,
        authorization_endpoint: `${this.baseUrl}/auth/authorize`,
        token_endpoint: `${this.baseUrl}/auth/token`,
        jwks_uri: `${this.baseUrl}/auth/jwks`,
        response_types_supported: ['code', 'id_token', 'token id_token'],
        grant_types_supported: ['authorization_code', 'password', 'refresh_token', 'client_credentials'],
        token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
        scopes_supported: ['openid'],
      },
    };
  }

  private tenantConfiguration(url: URL): Answer {
    const tenantId = url.searchParams.get('tenantId');
    if (!tenantId) return problem(400, 'invalid_request', 'tenantId is required');
    if (tenantId !== this.tenantId) return problem(404, 'NotFound', 'unknown tenant');
    const area = this.options.area ?? 'na1';
    return {
      status: 200,
      body: {
        private: false, area, cluster: 'C32', domain: 'niceincontact.com', acdDomain: 'nice-incontact.com', uhDomain: 'nice-incontact.com',
        ui_endpoint: `${this.baseUrl}/ui`, auth_endpoint: this.baseUrl, api_endpoint: this.baseUrl, tenantId,
      },
    };
  }

  private issueToken(req: IncomingMessage, raw: string): Answer {
    const type = String(req.headers['content-type'] ?? '');
    if (!type.toLowerCase().startsWith('application/x-www-form-urlencoded')) {
      return { status: 400, body: { error: 'invalid_request', error_description: 'the body must be application/x-www-form-urlencoded' } };
    }
    const form = new URLSearchParams(raw);
    let clientId = form.get('client_id') ?? undefined;
    let clientSecret = form.get('client_secret') ?? undefined;
    const basic = /^Basic\s+(.+)$/i.exec(String(req.headers.authorization ?? ''));
    if (basic) {
      const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
      const i = decoded.indexOf(':');
      clientId = decodeURIComponent(decoded.slice(0, i));
      clientSecret = decodeURIComponent(decoded.slice(i + 1));
    }
    if (clientId !== this.credentials.clientId || clientSecret !== this.credentials.clientSecret) {
      return { status: 401, body: { error: 'invalid_client', error_description: 'Client authentication failed' }, headers: { 'WWW-Authenticate': 'Basic' } };
    }
    if (form.get('grant_type') !== 'password') {
      return { status: 400, body: { error: 'unsupported_grant_type', error_description: 'this emulator issues password grants only' } };
    }
    if (form.get('username') !== this.credentials.accessKeyId || form.get('password') !== this.credentials.accessKeySecret) {
      return { status: 400, body: { error: 'invalid_grant', error_description: 'Invalid access key' } };
    }
    const lifetime = this.options.tokenLifetimeSec ?? 3600;
    const iat = Math.floor(this.now() / 1000);
    const claims = { iss: this.baseUrl, sub: `user:${randomUUID()}`, tenantId: this.tenantId, area: this.options.area ?? 'na1', icClusterId: 'C32', icBUId: this.businessUnitId, iat, exp: iat + lifetime };
    const token = `${b64url({ alg: 'RS256', typ: 'JWT' })}.${b64url(claims)}.${randomBytes(32).toString('base64url')}`;
    this.tokens.set(token, { expiresAt: this.now() + lifetime * 1000, revoked: false });
    return {
      status: 200,
      body: { access_token: token, token_type: 'Bearer', expires_in: lifetime, refresh_token: randomBytes(24).toString('base64url'), id_token: token, issued_token_type: 'urn:ietf:params:oauth:token-type:access_token' },
      headers: { 'Cache-Control': 'no-store' },
    };
  }

  private authorized(req: IncomingMessage): boolean {
    const match = /^Bearer\s+(\S+)$/i.exec(String(req.headers.authorization ?? ''));
    const token = match ? this.tokens.get(match[1]) : undefined;
    return token !== undefined && !token.revoked && token.expiresAt > this.now();
  }

  private takeFault(kind: 'token' | 'poll' | 'write' | 'read'): Fault | undefined {
    const hits = (target: CxoneFaultTarget): boolean => {
      switch (target) {
        case 'any': return true;
        case 'api': return kind !== 'token';
        case 'not-poll': return kind === 'read' || kind === 'write';
        default: return target === kind;
      }
    };
    const fault = this.faults.find((f) => hits(f.target));
    if (!fault) return undefined;
    if (--fault.remaining <= 0) this.faults.splice(this.faults.indexOf(fault), 1);
    return fault;
  }

  private faultAnswer(fault: Fault, res: ServerResponse): Answer {
    if (fault.status === 'reset') {
      res.socket?.destroy();
      return { status: 0 };
    }
    const answer = problem(fault.status, fault.status === 429 ? 'TooManyRequests' : 'ServiceError', `injected failure ${fault.status}`);
    if (fault.retryAfterSec !== undefined) answer.headers = { 'Retry-After': String(fault.retryAfterSec) };
    return answer;
  }

  /** Seconds to wait when over `requestsPerMinute`, else undefined (and the call is counted). */
  private rateLimited(): number | undefined {
    const limit = this.options.requestsPerMinute;
    if (!limit) return undefined;
    const now = this.now();
    while (this.window.length && this.window[0] <= now - 60_000) this.window.shift();
    if (this.window.length >= limit) return Math.max(1, Math.ceil((this.window[0] + 60_000 - now) / 1000));
    this.window.push(now);
    return undefined;
  }

  private api(method: string, route: string, query: URLSearchParams, raw: string): Answer {
    const path = route.replace(/\/+$/, '').toLowerCase();
    let m: RegExpExecArray | null;
    if (method === 'GET' && path === '/agents') return this.listAgents(query);
    if (method === 'GET' && path === '/agents/states') return this.pollStates(query);
    if (method === 'GET' && path === '/teams') return this.listTeams(query);
    if (method === 'GET' && path === '/unavailable-codes') return this.listCodes(query);
    if (method === 'GET' && (m = /^\/agents\/([^/]+)\/states$/.exec(path))) return this.agentStates(m[1]);
    if (method === 'GET' && (m = /^\/teams\/([^/]+)\/unavailable-codes$/.exec(path))) return this.teamCodes(m[1], query);
    if (method === 'POST' && (m = /^\/agents\/([^/]+)\/state$/.exec(path))) return this.setState(m[1], query, raw);
    if (method === 'POST' && (m = /^\/agents\/([^/]+)\/logout$/.exec(path))) return this.logout(m[1]);
    return problem(404, 'NotFound', `no route ${method} ${route}`);
  }

  /** `top` and `skip` applied, with `_links` as CXone gives them. */
  private page<T>(items: T[], query: URLSearchParams, route: string): { page: T[]; links: Record<string, string | null> } | Answer {
    const top = query.has('top') ? Number(query.get('top')) : this.pageSize;
    const skip = query.has('skip') ? Number(query.get('skip')) : 0;
    if (!Number.isInteger(top) || top < 1 || top > MAX_TOP) return problem(400, 'InvalidParameter', `top must be 1–${MAX_TOP}`);
    if (!Number.isInteger(skip) || skip < 0) return problem(400, 'InvalidParameter', 'skip must be a non-negative integer');
    const link = (s: number) => {
      const q = new URLSearchParams(query);
      q.set('top', String(top));
      q.set('skip', String(s));
      return `${this.baseUrl}/inContactAPI/services/v34.0${route}?${q.toString()}`;
    };
    return {
      page: items.slice(skip, skip + top),
      links: { self: link(skip), next: skip + top < items.length ? link(skip + top) : null, previous: skip > 0 ? link(Math.max(0, skip - top)) : null },
    };
  }

  private listAgents(query: URLSearchParams): Answer {
    const active = query.get('isActive');
    const search = query.get('searchString')?.toLowerCase();
    const agents = [...this.agents.values()].filter((a) => (active === null || String(a.isActive) === active.toLowerCase())
      && (!search || `${a.firstName} ${a.lastName} ${a.userName} ${a.emailAddress}`.toLowerCase().includes(search)));
    const paged = this.page(agents, query, '/agents');
    if ('status' in paged) return paged;
    return {
      status: 200,
      body: {
        businessUnitId: this.businessUnitId, lastPollTime: iso(this.now()), totalRecords: agents.length, hiddenAgents: 0, _links: paged.links,
        agents: paged.page.map((a) => ({
          agentId: a.agentId, userName: a.userName, firstName: a.firstName, lastName: a.lastName, userID: a.userId, emailAddress: a.emailAddress,
          isActive: a.isActive, teamId: a.teamId, teamName: this.teams.get(a.teamId)?.teamName ?? '', isSupervisor: false, locked: false,
          timeZone: 'UTC', ACWEnabled: this.teams.get(a.teamId)?.acwCodeId !== undefined,
        })),
      },
    };
  }

  private listTeams(query: URLSearchParams): Answer {
    const active = query.get('isActive');
    const teams = [...this.teams.values()].filter((t) => active === null || String(t.isActive) === active.toLowerCase());
    const paged = this.page(teams, query, '/teams');
    if ('status' in paged) return paged;
    return {
      status: 200,
      body: {
        businessUnitId: this.businessUnitId, lastPollTime: iso(this.now()), totalRecords: teams.length, _links: paged.links,
        teams: paged.page.map((t) => ({
          teamId: t.teamId, teamName: t.teamName, teamUuid: t.uuid, isActive: t.isActive,
          agentCount: [...this.agents.values()].filter((a) => a.teamId === t.teamId).length,
        })),
      },
    };
  }

  private teamCodes(rawId: string, query: URLSearchParams): Answer {
    const team = /^\d+$/.test(rawId) ? this.teams.get(Number(rawId)) : undefined;
    if (!team) return problem(404, 'NotFound', `team ${rawId} not found`);
    const activeOnly = query.get('activeOnly')?.toLowerCase() === 'true';
    const codes = team.codeIds.map((id) => this.codes.get(id) as Required<CxoneEmulatorCode>).filter((c) => !activeOnly || c.isActive);
    return {
      status: 200,
      body: {
        teamId: team.teamId, teamName: team.teamName, teamUuid: team.uuid, divisionNo: 0,
        unavailableCodes: codes.map((c) => ({ outstateId: c.id, outstateName: c.name, isActive: c.isActive, isAcw: c.isAcw, agentTimeoutMins: c.agentTimeoutMins })),
      },
    };
  }

  private listCodes(query: URLSearchParams): Answer {
    const active = query.get('isActive');
    const codes = [...this.codes.values()].filter((c) => active === null || String(c.isActive) === active.toLowerCase());
    const paged = this.page(codes, query, '/unavailable-codes');
    if ('status' in paged) return paged;
    return {
      status: 200,
      body: { totalRecords: codes.length, _links: paged.links, unavailableCodes: paged.page.map((c) => ({ id: c.id, name: c.name, isActive: c.isActive, isACW: c.isAcw, agentTimeout: c.agentTimeoutMins })) },
    };
  }

  private stateRecord(agent: CxoneEmulatorAgent): Record<string, unknown> {
    const team = this.teams.get(agent.teamId);
    const code = agent.outStateId !== undefined ? this.codes.get(agent.outStateId) : undefined;
    const contact = CONTACT_STATES.has(agent.state) || (agent.isAcw && agent.contactId !== undefined);
    return {
      agentId: agent.agentId, agentStateId: CXONE_STATE_IDS[agent.state], agentStateName: agent.state, businessUnitId: this.businessUnitId,
      contactId: contact ? agent.contactId ?? null : null, firstName: agent.firstName, lastName: agent.lastName, userName: agent.userName,
      isActive: agent.isActive, isACW: agent.isAcw, isOutbound: agent.state === 'OutboundContact' || agent.state === 'Dialer',
      fromAddress: null, toAddress: null, mediaTypeId: CONTACT_STATES.has(agent.state) ? 4 : null, mediaTypeName: CONTACT_STATES.has(agent.state) ? 'Call' : null,
      openContacts: CONTACT_STATES.has(agent.state) ? 1 : 0,
      outStateId: code?.id ?? null, outStateDescription: code?.name ?? null,
      skillId: null, skillName: null, startDate: iso(agent.startDate), lastUpdateTime: iso(agent.lastUpdateTime),
      sessionStartTime: null, stationId: null, stationPhoneNumber: null, teamId: agent.teamId, teamName: team?.teamName ?? '',
    };
  }

  /** The real-time delta read: agents whose state changed at or after `updatedSince` (every agent without it). */
  private pollStates(query: URLSearchParams): Answer {
    const replay = this.replay;
    if (replay) {
      this.replay = undefined;
      return replay;
    }
    const since = query.get('updatedSince');
    let sinceMs: number | undefined;
    if (since) {
      sinceMs = Date.parse(since);
      if (Number.isNaN(sinceMs)) return problem(400, 'InvalidParameter', 'updatedSince must be an ISO 8601 date');
    }
    const now = this.now();
    const changed = [...this.agents.values()].filter((a) => sinceMs === undefined || a.lastUpdateTime >= sinceMs);
    let records: unknown[] = changed.map((a) => this.stateRecord(a));
    if (records.length > 0 && this.holdPoll === 'armed') {
      this.held = records;
      this.holdPoll = 'holding';
      this.heldFor = 0;
      records = [];
    } else if (records.length === 0 && this.holdPoll === 'holding' && ++this.heldFor >= HOLD_POLLS) {
      // Nothing followed: the held answer is delivered late rather than never.
      records = this.held;
      this.held = [];
      this.holdPoll = undefined;
    } else if (records.length > 0 && this.holdPoll === 'holding') {
      // The held answer comes after the one that followed it, the later states first.
      records = [...records, ...this.held];
      this.held = [];
      this.holdPoll = undefined;
    }
    if (records.length === 0 && sinceMs !== undefined) return { status: 304, headers: { 'X-Last-Poll-Time': iso(now) } };
    const paged = this.page(records, query, '/agents/states');
    if ('status' in paged) return paged;
    const answer: Answer = {
      status: 200,
      body: { businessUnitId: this.businessUnitId, lastPollTime: iso(now), totalRecords: records.length, _links: paged.links, agentStates: paged.page },
    };
    if (this.repeatPoll === 'armed' && records.length > 0) {
      this.repeatPoll = undefined;
      this.replay = answer;
    }
    return answer;
  }

  private agentStates(rawId: string): Answer {
    const agent = /^\d+$/.test(rawId) ? this.agents.get(Number(rawId)) : undefined;
    if (!agent) return problem(404, 'NotFound', `agent ${rawId} not found`);
    return { status: 200, body: { agentStates: [{ ...this.stateRecord(agent), lastPollTime: iso(this.now()) }] } };
  }

  private setState(rawId: string, query: URLSearchParams, raw: string): Answer {
    if (!/^\d+$/.test(rawId)) return problem(400, 'InvalidParameter', 'agentId must be an integer');
    const agent = this.agents.get(Number(rawId));
    if (!agent) return problem(404, 'NotFound', `agent ${rawId} not found`);
    let body: Record<string, unknown> = {};
    if (raw.trim()) {
      try {
        const parsed: unknown = JSON.parse(raw);
        if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) body = parsed as Record<string, unknown>;
        else return problem(400, 'InvalidRequest', 'the body must be a JSON object');
      } catch {
        return problem(400, 'InvalidRequest', 'the body is not JSON');
      }
    }
    const state = body.state ?? query.get('state');
    const rawOut = body.outStateId ?? query.get('outStateId');
    if (state !== 'Available' && state !== 'Unavailable') return problem(400, 'InvalidParameter', 'state must be Available or Unavailable');
    let outStateId: number | undefined;
    if (rawOut !== undefined && rawOut !== null && rawOut !== '') {
      outStateId = Number(rawOut);
      if (!Number.isInteger(outStateId)) return problem(400, 'InvalidParameter', 'outStateId must be an integer');
      if (state !== 'Unavailable') return problem(400, 'InvalidParameter', 'outStateId is only allowed with Unavailable');
      const refused = this.codeProblem(agent.teamId, outStateId, true);
      if (refused) return problem(400, 'InvalidOutState', refused);
    }
    if (agent.state === 'LoggedOut') return problem(409, 'AgentNotLoggedIn', `agent ${rawId} is not logged in`);
    const wanted: CxoneNextState = outStateId === undefined ? { state } : { state, outStateId };
    if (this.onContact(agent)) {
      if ((this.options.onContactWrite ?? 'next-state') === 'conflict') return problem(409, 'AgentOnContact', `agent ${rawId} is handling a contact`);
      agent.next = wanted;
      agent.lastUpdateTime = this.now();
      this.emit('state', agent.agentId);
      return { status: 202 };
    }
    this.apply(agent, wanted);
    return { status: 200 };
  }

  private logout(rawId: string): Answer {
    if (!/^\d+$/.test(rawId)) return problem(400, 'InvalidParameter', 'agentId must be an integer');
    const agent = this.agents.get(Number(rawId));
    if (!agent) return problem(404, 'NotFound', `agent ${rawId} not found`);
    if (agent.state === 'LoggedOut') return problem(409, 'AgentNotLoggedIn', `agent ${rawId} is not logged in`);
    if (this.onContact(agent)) return problem(409, 'AgentOnContact', `agent ${rawId} is handling a contact`);
    this.agentLogout(agent.agentId);
    return { status: 202 };
  }

  private send(res: ServerResponse, answer: Answer): void {
    if (answer.status === 0 || res.headersSent || res.destroyed) return;
    if (answer.body === undefined) {
      res.writeHead(answer.status, { ...answer.headers, 'Content-Length': 0 });
      res.end();
      return;
    }
    const body = JSON.stringify(answer.body);
    res.writeHead(answer.status, { ...answer.headers, 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  }
}
