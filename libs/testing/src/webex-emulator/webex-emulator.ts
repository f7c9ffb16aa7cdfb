import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type {
  WebexChannelState, WebexDeliveryStats, WebexEmulatorAgent, WebexEmulatorAuxCode, WebexEmulatorOptions, WebexEmulatorProfile, WebexEmulatorSubscription,
  WebexEmulatorTeam,
} from './webex-emulator.types';
import { listenLocal } from '../listen.util';

/** Event types the emulator publishes (agent events, Cisco's event reference). */
const EVENT_TYPES = ['agent:login', 'agent:logout', 'agent:state_change'] as const;
type EventType = (typeof EVENT_TYPES)[number];

interface Fault {
  status: number;
  retryAfterSec?: number;
  target: 'api' | 'token' | 'any';
}

interface Delivery {
  subscriptionId: string;
  body: string;
  attempts: number;
}

interface Json {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** Webex's error envelope (`ErrorResult` / `ApiErrorResponse`). */
function errorBody(status: number, description: string): unknown {
  return { trackingId: `emulator_${randomUUID()}`, error: { key: String(status), message: [{ description }] } };
}

/**
 * A Webex Contact Center org over HTTP, for the conformance suite, the sandbox and manual tries:
 *
 * - OAuth: `POST /v1/access_token` (refresh-token grant; access tokens expire; `revokeAccessTokens()`).
 * - Configuration: `GET /organization/{orgid}/v2/{user,team,agent-profile,auxiliary-code}` with Webex's paging
 *   (`page` from 0, `pageSize` cut to the maximum, `meta.totalPages`).
 * - Subscriptions: `/v1/subscriptions` create / list / get / patch / delete; deliveries are CloudEvents-style
 *   envelopes signed with `X-WebexCC-Signature` (hex HMAC-SHA256 of the raw body), best effort: retried a few
 *   times, then dropped; `dropNext`, `duplicateNext`, `reorderNext` on request.
 * - Agents: `PUT /v1/agents/session/state` and `PUT /v1/agents/logout` answer 202 and apply just after, reporting
 *   the outcome as an event; an agent on a contact is refused with a 400 (Webex documents no next state here).
 * - Search: `POST /search` with a GraphQL `agentSession` query: the active sessions with each channel's state.
 * - Faults: `failNext` (429 with Retry-After, 5xx), a per-minute request limit.
 */
export class WebexEmulator extends EventEmitter {
  readonly orgId: string;
  readonly credentials = {
    clientId: `C${randomBytes(16).toString('hex')}`,
    clientSecret: randomBytes(24).toString('hex'),
    refreshToken: `emu-refresh-${randomBytes(24).toString('base64url')}`,
  };
  readonly deliveries: WebexDeliveryStats = { pending: 0, delivered: 0, failedAttempts: 0, dropped: 0 };
  /** Every API request (not the token endpoint), for counting calls. */
  apiRequests = 0;
  tokenRequests = 0;
  private readonly codes = new Map<string, WebexEmulatorAuxCode>();
  private readonly teams = new Map<string, WebexEmulatorTeam>();
  private readonly profiles = new Map<string, WebexEmulatorProfile>();
  private readonly agents = new Map<string, WebexEmulatorAgent>();
  private readonly subscriptions = new Map<string, WebexEmulatorSubscription>();
  private readonly accessTokens = new Map<string, number>();
  private readonly refreshTokens = new Set<string>();
  private readonly faults: Fault[] = [];
  private readonly routes = new Map<string, string>();
  private readonly queue: Delivery[] = [];
  private held?: Delivery[];
  private duplicate = 0;
  private drop = 0;
  private reorder = false;
  private pumping = false;
  private retryTimer?: NodeJS.Timeout;
  private readonly waiters: Array<() => void> = [];
  private readonly window: number[] = [];
  private lastTime = 0;
  private server?: Server;
  private baseUrl = '';
  private readonly now: () => number;

  constructor(private readonly options: WebexEmulatorOptions) {
    super();
    this.orgId = options.orgId ?? randomUUID();
    this.now = options.now ?? Date.now;
    this.refreshTokens.add(this.credentials.refreshToken);
    for (const c of options.codes) this.codes.set(c.id, { active: true, ...c });
    for (const t of options.teams) this.teams.set(t.id, t);
    for (const p of options.profiles) this.profiles.set(p.id, p);
    const at = this.now();
    for (const seed of options.agents) {
      const loggedIn = seed.state !== 'LoggedOut';
      this.agents.set(seed.id, {
        ...seed, loggedIn, channelState: seed.state === 'Available' ? 'available' : 'idle', since: at,
        ...(loggedIn ? { sessionId: randomUUID(), sessionStart: at } : {}),
      });
    }
  }

  async start(): Promise<{ baseUrl: string }> {
    const server = createServer((req, res) => void this.handle(req, res));
    this.server = server;
    this.baseUrl = await listenLocal(server, this.options.port);
    return { baseUrl: this.baseUrl };
  }

  get url(): string {
    return this.baseUrl;
  }

  get tokenUrl(): string {
    return `${this.baseUrl}/v1/access_token`;
  }

  async stop(): Promise<void> {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.queue.length = 0;
    this.held = undefined;
    this.deliveries.pending = 0;
    for (const done of this.waiters.splice(0)) done();
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  // ---- inspection ---------------------------------------------------------------------------------------------

  getAgent(id: string): WebexEmulatorAgent | undefined {
    const a = this.agents.get(id);
    return a && { ...a };
  }

  snapshot(): WebexEmulatorAgent[] {
    return [...this.agents.values()].map((a) => ({ ...a }));
  }

  code(id: string): WebexEmulatorAuxCode | undefined {
    return this.codes.get(id);
  }

  team(id: string): WebexEmulatorTeam | undefined {
    return this.teams.get(id);
  }

  /** The id of the idle (or wrap-up) code with this name. */
  codeIdOf(name: string, workTypeCode: WebexEmulatorAuxCode['workTypeCode'] = 'IDLE_CODE'): string | undefined {
    return [...this.codes.values()].find((c) => c.name === name && c.workTypeCode === workTypeCode)?.id;
  }

  listSubscriptions(): WebexEmulatorSubscription[] {
    return [...this.subscriptions.values()].map((s) => ({ ...s }));
  }

  // ---- faults and delivery knobs ------------------------------------------------------------------------------

  /** The next `count` requests (API by default) are answered `status` (429 with `Retry-After`). */
  failNext(count: number, status: number, options: { retryAfterSec?: number; target?: Fault['target'] } = {}): void {
    for (let i = 0; i < count; i++) this.faults.push({ status, retryAfterSec: options.retryAfterSec, target: options.target ?? 'api' });
  }

  /** Every access token issued so far stops working (401); refresh tokens stay valid. */
  revokeAccessTokens(): void {
    this.accessTokens.clear();
  }

  /** The refresh tokens stop working too: only a new authorization helps. */
  revokeRefreshTokens(): void {
    this.refreshTokens.clear();
    this.accessTokens.clear();
  }

  /** Deliveries to `origin` (e.g. `https://sync.example.com`) go to `target` instead, like a DNS or proxy entry. */
  routeHost(origin: string, target: string): void {
    this.routes.set(new URL(origin).origin, target.replace(/\/+$/, ''));
    this.pump();
  }

  /** The system sets a subscription inactive (Webex does this "in error scenarios"). */
  deactivateSubscription(id: string): void {
    const s = this.subscriptions.get(id);
    if (s) s.status = 'inactive';
  }

  dropNext(count = 1): void {
    this.drop += count;
  }

  duplicateNext(count = 1): void {
    this.duplicate += count;
  }

  /** The next delivery is held back and sent after the one following it. */
  reorderNext(): void {
    this.reorder = true;
  }

  /** Resolves once nothing is queued or being delivered (or after `timeoutMs`, failing). */
  flushDeliveries(timeoutMs = 15_000): Promise<void> {
    if (this.idle()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`webex emulator: deliveries still pending after ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  // ---- agent actions (the desktop, the routing engine) -----------------------------------------------------------

  agentLogin(agentId: string): void {
    const a = this.agent(agentId);
    if (a.loggedIn) return;
    const code = [...this.codes.values()].find((c) => c.workTypeCode === 'IDLE_CODE' && c.defaultCode) ?? [...this.codes.values()].find((c) => c.workTypeCode === 'IDLE_CODE');
    Object.assign(a, { loggedIn: true, channelState: 'idle', idleCodeId: code?.id, sessionId: randomUUID(), sessionStart: this.now(), pendingIdleCodeId: undefined });
    this.changed(a, 'agent:login');
  }

  agentLogout(agentId: string): void {
    const a = this.agent(agentId);
    if (!a.loggedIn) return;
    Object.assign(a, { loggedIn: false, sessionId: undefined, sessionStart: undefined, pendingIdleCodeId: undefined, channelState: 'idle' });
    this.changed(a, 'agent:logout');
  }

  /** The agent picks Available or an idle code at the desktop (logging in first when logged out). */
  agentSetState(agentId: string, state: { state: 'Available' } | { state: 'Idle'; idleCodeId: string }): void {
    const a = this.agent(agentId);
    if (state.state === 'Idle' && !this.codeAllowed(a, state.idleCodeId)) throw new Error(`idle code ${state.idleCodeId} is not enabled for agent ${agentId}`);
    if (!a.loggedIn) this.agentLogin(agentId);
    if (this.onContact(a)) {
      // The desktop keeps an Idle chosen during a contact as pending; Available is what follows a contact anyway.
      a.pendingIdleCodeId = state.state === 'Idle' ? state.idleCodeId : undefined;
      this.emit('state', agentId);
      return;
    }
    this.apply(a, state.state === 'Available' ? { channelState: 'available' } : { channelState: 'idle', idleCodeId: state.idleCodeId });
  }

  startContact(agentId: string): void {
    const a = this.agent(agentId);
    if (!a.loggedIn) throw new Error(`agent ${agentId} is logged out`);
    this.apply(a, { channelState: 'connected' });
  }

  /** The contact ends: into wrap-up, or straight to the pending idle code or Available. */
  endContact(agentId: string, options: { wrapUp?: boolean } = {}): void {
    const a = this.agent(agentId);
    if (a.channelState !== 'connected') return;
    if (options.wrapUp) this.apply(a, { channelState: 'wrapup' });
    else this.leaveContact(a);
  }

  /** Wrap-up ends with a wrap-up code (`POST /v1/tasks/{id}/wrapup` at the desktop). */
  endWrapUp(agentId: string, wrapUpCodeId?: string): void {
    const a = this.agent(agentId);
    if (a.channelState !== 'wrapup') return;
    a.wrapUpCodeId = wrapUpCodeId ?? [...this.codes.values()].find((c) => c.workTypeCode === 'WRAP_UP_CODE')?.id;
    this.leaveContact(a);
  }

  // ---- internals: state --------------------------------------------------------------------------------------

  private agent(id: string): WebexEmulatorAgent {
    const a = this.agents.get(id);
    if (!a) throw new Error(`webex emulator: unknown agent ${id}`);
    return a;
  }

  private onContact(a: WebexEmulatorAgent): boolean {
    return a.loggedIn && (a.channelState === 'connected' || a.channelState === 'wrapup');
  }

  private leaveContact(a: WebexEmulatorAgent): void {
    const pending = a.pendingIdleCodeId;
    a.pendingIdleCodeId = undefined;
    this.apply(a, pending ? { channelState: 'idle', idleCodeId: pending } : { channelState: 'available' });
  }

  private codeAllowed(a: WebexEmulatorAgent, codeId: string): boolean {
    const code = this.codes.get(codeId);
    if (!code || code.workTypeCode !== 'IDLE_CODE' || code.active === false) return false;
    const profile = this.profiles.get(a.agentProfileId);
    if (!profile || profile.accessIdleCode === 'ALL') return true;
    return profile.accessIdleCode === 'SPECIFIC' && profile.idleCodes.includes(codeId);
  }

  private apply(a: WebexEmulatorAgent, change: { channelState: WebexChannelState; idleCodeId?: string }): void {
    a.channelState = change.channelState;
    if (change.channelState === 'idle') a.idleCodeId = change.idleCodeId;
    this.changed(a, 'agent:state_change');
  }

  /** A strictly increasing clock, so two changes in one millisecond still have an order. */
  private tick(): number {
    this.lastTime = Math.max(this.now(), this.lastTime + 1);
    return this.lastTime;
  }

  private changed(a: WebexEmulatorAgent, type: EventType): void {
    const createdTime = this.tick();
    a.since = createdTime;
    const data: Record<string, unknown> = { agentId: a.id, agentSessionId: a.sessionId ?? null, teamId: a.teamId, channelType: 'telephony', createdTime };
    if (type !== 'agent:logout') {
      data.currentState = a.channelState;
      if (a.channelState === 'idle' && a.idleCodeId) {
        data.idleCodeId = a.idleCodeId;
        data.idleCodeName = this.codes.get(a.idleCodeId)?.name ?? null;
      }
      if (type === 'agent:login') data.destination = `+1408555${String(1000 + (this.agents.size % 9000))}`;
    }
    for (const sub of this.subscriptions.values()) {
      if (sub.status !== 'active' || !sub.eventTypes.includes(type)) continue;
      const envelope = {
        id: randomUUID(), specversion: '1.0', type, source: `/com/cisco/wxcc/${sub.id}`, comciscoorgid: this.orgId,
        datacontenttype: 'application/json', data,
      };
      this.enqueue({ subscriptionId: sub.id, body: JSON.stringify(envelope), attempts: 0 });
    }
    this.emit('state', a.id);
  }

  // ---- internals: deliveries -----------------------------------------------------------------------------------

  private enqueue(delivery: Delivery): void {
    if (this.drop > 0) {
      this.drop--;
      this.deliveries.dropped++;
      return;
    }
    const copies = [delivery];
    if (this.duplicate > 0) {
      this.duplicate--;
      copies.push({ ...delivery });
    }
    if (this.reorder) {
      this.reorder = false;
      this.held = copies;
      this.deliveries.pending += copies.length;
      return;
    }
    this.deliveries.pending += copies.length;
    this.queue.push(...copies);
    if (this.held) {
      this.queue.push(...this.held);
      this.held = undefined;
    }
    this.pump();
  }

  private idle(): boolean {
    return this.queue.length === 0 && !this.held && !this.pumping && !this.retryTimer;
  }

  private settled(): void {
    if (this.idle()) for (const done of this.waiters.splice(0)) done();
  }

  private pump(): void {
    if (this.pumping || this.retryTimer || !this.server) return;
    const next = this.queue[0];
    if (!next) return this.settled();
    this.pumping = true;
    void this.deliver(next).then((ok) => {
      this.pumping = false;
      if (!this.server) return;
      if (ok || next.attempts >= (this.options.deliveryAttempts ?? 6)) {
        this.queue.shift();
        this.deliveries.pending--;
        if (ok) this.deliveries.delivered++;
        else this.deliveries.dropped++;
        this.pump();
        return;
      }
      // Best effort: the same delivery again after a pause (Webex does not publish its retry policy).
      const pause = (this.options.deliveryRetryMs ?? 200) * 2 ** (next.attempts - 1);
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        this.pump();
      }, Math.min(pause, 5_000));
    });
  }

  private async deliver(delivery: Delivery): Promise<boolean> {
    delivery.attempts++;
    const sub = this.subscriptions.get(delivery.subscriptionId);
    if (!sub) return true; // deleted meanwhile: nothing to deliver to
    const destination = new URL(sub.destinationUrl);
    const routed = this.routes.get(destination.origin);
    const url = routed ? `${routed}${destination.pathname}${destination.search}` : sub.destinationUrl;
    const headers: Record<string, string> = { 'Content-Type': 'application/json', 'User-Agent': 'webex-cc-emulator' };
    if (sub.secret) headers['X-WebexCC-Signature'] = createHmac('sha256', sub.secret).update(delivery.body).digest('hex');
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), 5_000);
    try {
      const res = await fetch(url, { method: 'POST', body: delivery.body, headers, redirect: 'manual', signal: controller.signal });
      await res.arrayBuffer();
      if (res.status >= 200 && res.status < 300) return true;
    } catch {
      // unreachable, reset or slower than 5 s: a failed attempt
    } finally {
      clearTimeout(timer);
    }
    this.deliveries.failedAttempts++;
    return false;
  }

  // ---- internals: HTTP -------------------------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let answer: Json;
    try {
      const raw = await readBody(req);
      answer = this.route(req, raw);
    } catch (e) {
      answer = { status: 500, body: errorBody(500, e instanceof Error ? e.message : String(e)) };
    }
    const text = answer.body === undefined ? '' : JSON.stringify(answer.body);
    res.writeHead(answer.status, { ...(text ? { 'Content-Type': 'application/json' } : {}), 'Content-Length': Buffer.byteLength(text), ...answer.headers });
    res.end(text);
  }

  private fault(target: 'api' | 'token'): Json | undefined {
    const i = this.faults.findIndex((f) => f.target === target || f.target === 'any');
    if (i < 0) return undefined;
    const [f] = this.faults.splice(i, 1);
    return {
      status: f.status, body: errorBody(f.status, f.status === 429 ? 'Too many requests' : 'Service unavailable'),
      headers: f.status === 429 ? { 'Retry-After': String(f.retryAfterSec ?? 1) } : undefined,
    };
  }

  private route(req: IncomingMessage, raw: string): Json {
    const url = new URL(req.url ?? '/', 'http://emulator');
    const method = req.method ?? 'GET';
    if (url.pathname === '/v1/access_token' && method === 'POST') {
      this.tokenRequests++;
      return this.fault('token') ?? this.token(raw);
    }
    this.apiRequests++;
    const fault = this.fault('api');
    if (fault) return fault;
    const limited = this.rateLimited();
    if (limited) return limited;
    const auth = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const expiry = auth ? this.accessTokens.get(auth) : undefined;
    if (!auth || expiry === undefined || expiry <= this.now()) return { status: 401, body: errorBody(401, 'Unauthorized, Token is Invalid') };
    const body = raw ? safeJson(raw) : undefined;
    if (raw && body === undefined) return { status: 400, body: errorBody(400, 'Malformed JSON body') };

    const org = /^\/organization\/([^/]+)\/v2\/(user|team|agent-profile|auxiliary-code)$/.exec(url.pathname);
    if (org && method === 'GET') {
      if (org[1] !== this.orgId) return { status: 403, body: errorBody(403, 'Operation is forbidden') };
      return this.list(org[2], url);
    }
    if (url.pathname === '/v1/subscriptions') {
      if (method === 'GET') return { status: 200, body: { meta: { orgId: this.orgId, subscriptionCount: this.subscriptions.size }, data: this.listSubscriptions().map(publicSub) } };
      if (method === 'POST') return this.createSubscription(body);
    }
    const sub = /^\/v1\/subscriptions\/([^/]+)$/.exec(url.pathname);
    if (sub) {
      const found = this.subscriptions.get(decodeURIComponent(sub[1]));
      if (!found) return { status: 404, body: errorBody(404, 'Subscription not found') };
      if (method === 'GET') return { status: 200, body: { meta: { orgId: this.orgId }, data: publicSub(found) } };
      if (method === 'DELETE') {
        this.subscriptions.delete(found.id);
        return { status: 204 };
      }
      if (method === 'PATCH') return this.patchSubscription(found, body);
    }
    if (url.pathname === '/v1/agents/session/state' && method === 'PUT') return this.stateChange(body);
    if (url.pathname === '/v1/agents/logout' && method === 'PUT') return this.logout(body);
    if (url.pathname === '/search' && method === 'POST') return this.search(body);
    return { status: 404, body: errorBody(404, `No route for ${method} ${url.pathname}`) };
  }

  private rateLimited(): Json | undefined {
    const limit = this.options.requestsPerMinute;
    if (!limit) return undefined;
    const now = this.now();
    while (this.window.length > 0 && this.window[0] <= now - 60_000) this.window.shift();
    if (this.window.length >= limit) {
      const retryAfter = Math.max(1, Math.ceil((this.window[0] + 60_000 - now) / 1000));
      return { status: 429, body: errorBody(429, 'Too many requests'), headers: { 'Retry-After': String(retryAfter) } };
    }
    this.window.push(now);
    return undefined;
  }

  private token(raw: string): Json {
    const form = new URLSearchParams(raw);
    const oauthError = (status: number, error: string, description: string): Json => ({ status, body: { error, error_description: description } });
    if (form.get('client_id') !== this.credentials.clientId || form.get('client_secret') !== this.credentials.clientSecret) {
      return oauthError(401, 'invalid_client', 'Client authentication failed');
    }
    if (form.get('grant_type') !== 'refresh_token') return oauthError(400, 'unsupported_grant_type', 'Only refresh_token is emulated');
    const presented = form.get('refresh_token') ?? '';
    if (!this.refreshTokens.has(presented)) return oauthError(400, 'invalid_grant', 'The refresh token is invalid or expired');
    let refreshToken = presented;
    if (this.options.rotateRefreshTokens) {
      refreshToken = `emu-refresh-${randomBytes(24).toString('base64url')}`;
      this.refreshTokens.add(refreshToken);
    }
    const lifetime = this.options.accessTokenLifetimeSec ?? 43_199;
    const accessToken = `emu-access-${randomBytes(24).toString('base64url')}`;
    this.accessTokens.set(accessToken, this.now() + lifetime * 1000);
    return {
      status: 200,
      body: { access_token: accessToken, expires_in: lifetime, refresh_token: refreshToken, refresh_token_expires_in: 5_183_999, token_type: 'Bearer' },
    };
  }

  private list(resource: string, url: URL): Json {
    const max = this.options.maxPageSize ?? 100;
    const page = Math.max(0, Number(url.searchParams.get('page') ?? 0) || 0);
    const pageSize = Math.min(max, Math.max(1, Number(url.searchParams.get('pageSize') ?? 100) || 100));
    let rows: unknown[];
    switch (resource) {
      case 'user':
        rows = [...this.agents.values()].map((a) => ({
          id: a.id, ciUserId: a.id, email: a.email, firstName: a.firstName, lastName: a.lastName, teamIds: [a.teamId], agentProfileId: a.agentProfileId,
          contactCenterEnabled: true, active: true,
        }));
        break;
      case 'team':
        rows = [...this.teams.values()].map((t) => ({
          id: t.id, name: t.name, teamType: 'AGENT', teamStatus: 'IN_SERVICE', active: true,
          userIds: [...this.agents.values()].filter((a) => a.teamId === t.id).map((a) => a.id),
        }));
        break;
      case 'agent-profile':
        rows = [...this.profiles.values()].map((p) => ({ id: p.id, name: p.name, accessIdleCode: p.accessIdleCode, idleCodes: p.idleCodes, accessWrapUpCode: 'ALL', wrapUpCodes: [], active: true }));
        break;
      default:
        rows = [...this.codes.values()].map((c) => ({ id: c.id, name: c.name, workTypeCode: c.workTypeCode, active: c.active !== false, defaultCode: c.defaultCode ?? false, isSystemCode: false }));
    }
    const totalPages = Math.max(1, Math.ceil(rows.length / pageSize));
    const path = `/organization/${this.orgId}/v2/${resource}`;
    return {
      status: 200,
      body: {
        meta: {
          orgid: this.orgId, page, pageSize, totalPages, totalRecords: rows.length,
          links: { self: `${path}?page=${page}&pageSize=${pageSize}`, ...(page + 1 < totalPages ? { next: `${path}?page=${page + 1}&pageSize=${pageSize}` } : {}) },
        },
        data: rows.slice(page * pageSize, (page + 1) * pageSize),
      },
    };
  }

  private validSubscriptionFields(b: Record<string, unknown>, creating: boolean): string | undefined {
    if (creating && (typeof b.name !== 'string' || b.name === '')) return 'name is required';
    if ((creating || b.eventTypes !== undefined) && (!Array.isArray(b.eventTypes) || b.eventTypes.length === 0 || !b.eventTypes.every((t) => (EVENT_TYPES as readonly string[]).includes(t as string)))) {
      return `eventTypes must be a non-empty list of ${EVENT_TYPES.join(', ')}`;
    }
    if (creating || b.destinationUrl !== undefined) {
      if (typeof b.destinationUrl !== 'string') return 'destinationUrl is required';
      let u: URL;
      try {
        u = new URL(b.destinationUrl);
      } catch {
        return 'destinationUrl is not a URL';
      }
      // Webex wants HTTPS without userinfo, query or fragment; plain HTTP is accepted for loopback so tests can receive.
      const loopback = u.hostname === '127.0.0.1' || u.hostname === 'localhost';
      if ((u.protocol !== 'https:' && !(loopback && u.protocol === 'http:')) || u.username || u.password || u.search || u.hash) {
        return 'destinationUrl must be HTTPS with a path, and no query, credentials or fragment';
      }
    }
    if (b.secret !== undefined && typeof b.secret !== 'string') return 'secret must be a string';
    if (b.status !== undefined && b.status !== 'active' && b.status !== 'inactive') return 'status must be active or inactive';
    return undefined;
  }

  private createSubscription(body: unknown): Json {
    const b = (body ?? {}) as Record<string, unknown>;
    const problem = this.validSubscriptionFields(b, true);
    if (problem) return { status: 400, body: errorBody(400, problem) };
    if (this.subscriptions.size >= (this.options.subscriptionLimit ?? 20)) return { status: 400, body: errorBody(400, 'The subscription limit of the org is reached') };
    const at = this.now();
    const sub: WebexEmulatorSubscription = {
      id: randomUUID(), name: b.name as string, description: typeof b.description === 'string' ? b.description : undefined, eventTypes: [...(b.eventTypes as string[])],
      destinationUrl: b.destinationUrl as string, secret: typeof b.secret === 'string' ? b.secret : undefined, status: 'active', createdTime: at, lastUpdatedTime: at,
      createdBy: 'supervisor@emulator.example', lastUpdatedBy: 'supervisor@emulator.example',
    };
    this.subscriptions.set(sub.id, sub);
    return { status: 201, body: { meta: { orgId: this.orgId }, data: publicSub(sub) } };
  }

  private patchSubscription(sub: WebexEmulatorSubscription, body: unknown): Json {
    const b = (body ?? {}) as Record<string, unknown>;
    const problem = this.validSubscriptionFields(b, false);
    if (problem) return { status: 400, body: errorBody(400, problem) };
    if (typeof b.description === 'string') sub.description = b.description;
    if (Array.isArray(b.eventTypes)) sub.eventTypes = [...(b.eventTypes as string[])];
    if (typeof b.destinationUrl === 'string') sub.destinationUrl = b.destinationUrl;
    if (typeof b.secret === 'string') sub.secret = b.secret;
    if (b.status === 'active' || b.status === 'inactive') sub.status = b.status;
    sub.lastUpdatedTime = this.now();
    return { status: 200, body: { meta: { orgId: this.orgId }, data: publicSub(sub) } };
  }

  private targetAgent(b: Record<string, unknown>): WebexEmulatorAgent | Json {
    if (typeof b.agentId !== 'string' || b.agentId.length > 36) return { status: 400, body: errorBody(400, 'agentId must be a string of at most 36 characters') };
    const a = this.agents.get(b.agentId);
    if (!a) return { status: 400, body: errorBody(400, `Agent ${b.agentId} not found`) };
    if (!a.loggedIn) return { status: 400, body: errorBody(400, 'Agent has no active session') };
    if (this.onContact(a)) return { status: 400, body: errorBody(400, 'Agent is engaged in a task; state change not allowed') };
    return a;
  }

  private stateChange(body: unknown): Json {
    const b = (body ?? {}) as Record<string, unknown>;
    if (b.state !== 'Available' && b.state !== 'Idle') return { status: 400, body: errorBody(400, 'state must be Available or Idle') };
    if (typeof b.auxCodeId !== 'string' || b.auxCodeId === '' || b.auxCodeId.length > 36) return { status: 400, body: errorBody(400, 'auxCodeId is required (at most 36 characters)') };
    const a = this.targetAgent(b);
    if ('status' in a) return a;
    if (b.state === 'Idle' && !this.codeAllowed(a, b.auxCodeId)) return { status: 400, body: errorBody(400, `Idle code ${b.auxCodeId} is not valid for the agent`) };
    const change = b.state === 'Available' ? { channelState: 'available' as const } : { channelState: 'idle' as const, idleCodeId: b.auxCodeId };
    // 202 now; the change happens just after and is reported as an event, as on Webex.
    setImmediate(() => {
      if (this.server && a.loggedIn && !this.onContact(a)) this.apply(a, change);
    });
    return { status: 202 };
  }

  private logout(body: unknown): Json {
    const b = (body ?? {}) as Record<string, unknown>;
    if (typeof b.logoutReason !== 'string' || b.logoutReason === '' || b.logoutReason.length > 128) return { status: 400, body: errorBody(400, 'logoutReason is required (at most 128 characters)') };
    const a = this.targetAgent(b);
    if ('status' in a) return a;
    setImmediate(() => {
      if (this.server) this.agentLogout(a.id);
    });
    return { status: 202 };
  }

  /** The GraphQL `agentSession` query, as far as the connector uses it: active sessions, cursor paging. */
  private search(body: unknown): Json {
    const query = (body as { query?: unknown } | undefined)?.query;
    if (typeof query !== 'string' || !/agentSession\s*\(/.test(query)) return { status: 400, body: errorBody(400, 'Validation Error: only agentSession queries are emulated') };
    const from = Number(/from\s*:\s*(\d+)/.exec(query)?.[1]);
    const to = Number(/to\s*:\s*(\d+)/.exec(query)?.[1]);
    if (!Number.isFinite(from) || !Number.isFinite(to)) return { status: 400, body: errorBody(400, 'Validation Error: from and to are mandatory') };
    if (to - from > 365 * 86_400_000) return { status: 400, body: errorBody(400, 'Validation Error: the range may be at most 365 days') };
    const cursor = /cursor\s*:\s*"([^"]*)"/.exec(query)?.[1] ?? 'NA';
    const offset = cursor === 'NA' ? 0 : Number(cursor);
    const size = this.options.searchPageSize ?? 100;
    const active = [...this.agents.values()].filter((a) => a.loggedIn && (a.sessionStart ?? 0) >= from);
    const page = active.slice(offset, offset + size).map((a) => ({
      agentId: a.id, agentSessionId: a.sessionId, teamId: a.teamId, teamName: this.teams.get(a.teamId)?.name ?? null, isActive: true, startTime: a.sessionStart, endTime: null,
      channelInfo: [{
        channelId: `${a.sessionId}-telephony`, channelType: 'telephony', currentState: a.channelState,
        idleCodeName: a.channelState === 'idle' && a.idleCodeId ? this.codes.get(a.idleCodeId)?.name ?? null : null, lastActivityTime: a.since,
      }],
    }));
    const hasNextPage = offset + size < active.length;
    return { status: 200, body: { data: { agentSession: { agentSessions: page, pageInfo: { hasNextPage, endCursor: hasNextPage ? String(offset + size) : null } } } } };
  }
}

function publicSub(s: WebexEmulatorSubscription): Record<string, unknown> {
  // The secret is never echoed.
  const { secret: _secret, ...rest } = s;
  return rest;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
