import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { BodyTooLargeError, readBoundedBody } from './http-body';
import { SETTABLE_ACD_STATES, isAcdStateName, sameAcdState, type AcdState } from '@presence-sync/domain';
import {
  EmulatorWebhookSender,
  type EmulatorWebhookEvent,
  type EmulatorWebhookOptions,
  type WebhookAttempt,
  type WebhookDeliveryStats,
} from './contact-center-emulator.webhook-sender';
import { listenLocal } from './listen.util';

export type { EmulatorWebhookEvent, EmulatorWebhookOptions, WebhookAttempt, WebhookDeliveryStats };

export interface EmulatorTeam {
  teamId: string;
  name: string;
  /** Unavailable codes an agent of this team may be set to. */
  unavailableCodes: string[];
}

export interface EmulatorAgentSeed {
  agentId: string;
  email: string;
  teamId: string;
  state: AcdState;
  /** Epoch ms; default: the emulator's clock at construction. */
  since?: number;
}

/** A copy of one agent as the emulator holds it. */
export interface EmulatorAgent {
  agentId: string;
  email: string;
  teamId: string;
  state: AcdState;
  since: number;
  /** A state set through the API while the agent was on a contact, applied when the wrap-up ends. */
  next?: AcdState;
  /** Sequence of the last event emitted for this agent (0 before any). */
  sequence: number;
}

export interface ContactCenterEmulatorOptions {
  /** The bearer token every request must carry. */
  token: string;
  teams: EmulatorTeam[];
  agents: EmulatorAgentSeed[];
  /** Agents per `GET /agents` page. Default 100. */
  pageSize?: number;
  /** Port on 127.0.0.1; default a free one. */
  port?: number;
  /** Serve the API under a path, e.g. `/cc/v1`, so clients are tested with a base URL that has one. Default none. */
  basePath?: string;
  webhook?: EmulatorWebhookOptions;
  /** Clock for `since`, `occurredAt`, webhook timestamps and logs, epoch ms. Default `Date.now`. */
  now?: () => number;
}

/** Why a state changed: a PUT applied at once, a PUT applied after the contact, the agent's own action, or contact flow. */
export type StateChangeCause = 'api' | 'api-deferred' | 'agent' | 'contact';

/** One `PUT /agents/{id}/state` as received and answered. */
export interface EmulatorWrite {
  agentId: string;
  /** The parsed JSON body, or the raw text when it was not JSON. */
  body: unknown;
  idempotencyKey?: string;
  /** The status answered; 0 when an injected `hang` or `reset` sent none. */
  status: number;
  /** Answered from the idempotency store: not applied again. */
  replayed: boolean;
  /** Answered by `failNext` fault injection. */
  injected: boolean;
  at: number;
}

/** What `failNext` makes the next matching requests do. */
export type InjectedFault = number | 'hang' | 'reset';

export interface FailNextOptions {
  /** Adds `Retry-After: <seconds>` (meant for 429 and 503). */
  retryAfterSec?: number;
  /** Which requests the fault hits. Default `PUT` (state writes). */
  method?: 'PUT' | 'GET' | 'any';
}

interface EmulatorEvents {
  state: [agentId: string, state: AcdState, cause: StateChangeCause];
  write: [write: EmulatorWrite];
  webhook: [attempt: WebhookAttempt];
}

interface AgentRecord extends Omit<EmulatorAgent, 'next'> {
  next?: { state: AcdState; idempotencyKey: string };
}

interface Fault {
  remaining: number;
  fault: InjectedFault;
  retryAfterSec?: number;
  method: 'PUT' | 'GET' | 'any';
}

interface Answer {
  status: number;
  body: unknown;
}

const MAX_BODY_BYTES = 64 * 1024;
const STATE_PATH = /^\/agents\/([^/]+)\/state$/;

function copyState(state: AcdState): AcdState {
  return state.code ? { state: state.state, code: state.code } : { state: state.state };
}

/** For logs only: a path segment that is not valid percent-encoding is kept as sent. */
function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function problem(status: number, error: string, message: string): Answer {
  return { status, body: { error, message } };
}

const FIRST_NAMES = [
  'ada', 'ben', 'chloe', 'dev', 'elena', 'felix', 'grace', 'hugo', 'isla', 'jonas', 'kira', 'liam', 'maya', 'noah',
  'olivia', 'pavel', 'quinn', 'rosa', 'sam', 'tara', 'umar', 'vera', 'wes', 'xena', 'yusuf', 'zoe', 'amir', 'bea',
  'carlos', 'dina', 'emil', 'fatima',
];
const LAST_NAMES = [
  'adams', 'becker', 'chen', 'diaz', 'evans', 'fischer', 'garcia', 'hansen', 'ito', 'jensen', 'kim', 'lopez', 'meyer',
  'novak', 'okafor', 'patel', 'quist', 'rossi', 'silva', 'tanaka', 'usman', 'vogel', 'wong', 'xu', 'young', 'zimmer',
  'alvarez', 'brown', 'costa', 'dubois', 'eriksen', 'farah',
];

/**
 * A contact center speaking the generic connector contract v1 (shared spec "contact-center.md"), over real
 * HTTP on 127.0.0.1, for tests, the demo sandbox and the benchmark. It follows the contract text rather than
 * what our client sends: it insists on the bearer token, the `Idempotency-Key`, a `requestId` equal to it,
 * and settable states only; it ignores query parameters the contract does not define (such as `limit`).
 *
 * Every state change, whether from the API or from a simulated agent, is reported as a signed webhook, as
 * real vendors report changes made through their API too. A PUT of the state the agent already has answers
 * 200 and reports nothing, since nothing changed.
 */
export class ContactCenterEmulator extends EventEmitter<EmulatorEvents> {
  /** Every PUT received, in order. */
  readonly writes: EmulatorWrite[] = [];

  private readonly token: string;
  private readonly pageSize: number;
  private readonly basePath: string;
  private readonly now: () => number;
  private readonly teams = new Map<string, EmulatorTeam>();
  private readonly agents = new Map<string, AgentRecord>();
  /** Listing order, so cursors (offsets) stay valid while states change. */
  private readonly agentOrder: string[] = [];
  private readonly idempotency = new Map<string, Answer>();
  private readonly applied = new Map<string, number>();
  private readonly faults: Fault[] = [];
  private readonly hanging = new Set<ServerResponse>();
  private readonly stats: WebhookDeliveryStats = { pending: 0, delivered: 0, requestsOk: 0, failedAttempts: 0, dropped: 0 };
  private sender?: EmulatorWebhookSender;
  private server?: Server;
  private starting?: Promise<{ baseUrl: string }>;
  private stopping?: Promise<void>;
  private replays = 0;
  private duplicateArmed = false;
  private reorderArmed = false;
  /** The event `reorderNextWebhook` holds back until the next one is sent. */
  private held?: EmulatorWebhookEvent;

  constructor(private readonly options: ContactCenterEmulatorOptions) {
    super();
    if (!options.token) throw new Error('ContactCenterEmulator: token must not be empty');
    this.token = options.token;
    this.pageSize = options.pageSize ?? 100;
    if (!Number.isInteger(this.pageSize) || this.pageSize < 1) throw new Error('ContactCenterEmulator: pageSize must be a positive integer');
    this.basePath = (options.basePath ?? '').replace(/\/+$/, '');
    if (this.basePath && !this.basePath.startsWith('/')) throw new Error('ContactCenterEmulator: basePath must start with /');
    this.now = options.now ?? Date.now;
    for (const team of options.teams) {
      if (this.teams.has(team.teamId)) throw new Error(`ContactCenterEmulator: team ${team.teamId} listed twice`);
      this.teams.set(team.teamId, { ...team, unavailableCodes: [...team.unavailableCodes] });
    }
    const at = this.now();
    for (const seed of options.agents) {
      if (this.agents.has(seed.agentId)) throw new Error(`ContactCenterEmulator: agent ${seed.agentId} listed twice`);
      if (!this.teams.has(seed.teamId)) throw new Error(`ContactCenterEmulator: agent ${seed.agentId} has unknown team ${seed.teamId}`);
      if (!isAcdStateName(seed.state.state)) throw new Error(`ContactCenterEmulator: agent ${seed.agentId} has unknown state ${seed.state.state}`);
      this.agents.set(seed.agentId, {
        agentId: seed.agentId,
        email: seed.email,
        teamId: seed.teamId,
        state: copyState(seed.state),
        since: seed.since ?? at,
        sequence: 0,
      });
      this.agentOrder.push(seed.agentId);
    }
    if (options.webhook) this.setWebhook(options.webhook);
  }

  /**
   * A realistic, deterministic catalog for the sandbox and benchmarks: three teams, agents `a-1001`… with
   * e-mails like `ada.adams@example.com`, 60 % Tier 1, 25 % Tier 2, 15 % Back Office, a quarter Offline.
   */
  static sandboxCatalog(agentCount = 20): { teams: EmulatorTeam[]; agents: EmulatorAgentSeed[] } {
    const teams: EmulatorTeam[] = [
      { teamId: 't-tier1', name: 'Tier 1', unavailableCodes: ['Lunch', 'Break', 'Training', 'Meeting', 'Chat', 'System'] },
      { teamId: 't-tier2', name: 'Tier 2', unavailableCodes: ['Lunch', 'Break', 'Coaching', 'Chat', 'System'] },
      { teamId: 't-backoffice', name: 'Back Office', unavailableCodes: ['Lunch', 'Break', 'Admin', 'System'] },
    ];
    const first = FIRST_NAMES.length;
    const last = LAST_NAMES.length;
    const agents: EmulatorAgentSeed[] = [];
    for (let i = 0; i < agentCount; i++) {
      // Walks every (first, last) pair once per round, since gcd(first + 1, last) = 1; later rounds add a number.
      const round = Math.floor(i / (first * last));
      const name = `${FIRST_NAMES[i % first]}.${LAST_NAMES[(i % first + Math.floor(i / first) * (first + 1)) % last]}`;
      const slot = i % 20;
      agents.push({
        agentId: `a-${1001 + i}`,
        email: `${name}${round > 0 ? round + 1 : ''}@example.com`,
        teamId: slot < 12 ? 't-tier1' : slot < 17 ? 't-tier2' : 't-backoffice',
        state: { state: i % 4 === 3 ? 'Offline' : 'Available' },
      });
    }
    return { teams, agents };
  }

  /** Listens on 127.0.0.1 (the given port or a free one). Calling it again returns the same address. */
  start(): Promise<{ baseUrl: string }> {
    if (this.stopping) return Promise.reject(new Error('ContactCenterEmulator: stopped; create a new one'));
    this.starting ??= this.listen();
    return this.starting;
  }

  private async listen(): Promise<{ baseUrl: string }> {
    const server = createServer((req, res) => void this.handle(req, res));
    this.server = server;
    return { baseUrl: `${await listenLocal(server, this.options.port)}${this.basePath}` };
  }

  /** Closes the server and every socket, and drops undelivered webhooks. Safe to call twice. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.sender?.close();
      await this.starting?.catch(() => undefined);
      for (const res of this.hanging) res.destroy();
      this.hanging.clear();
      const server = this.server;
      if (!server) return;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    })();
    return this.stopping;
  }

  /**
   * Points webhooks somewhere else (or nowhere), e.g. once the daemon under test knows its port. Events still
   * queued for the old target are dropped.
   */
  setWebhook(webhook: EmulatorWebhookOptions | undefined): void {
    this.sender?.close();
    this.sender = webhook
      ? new EmulatorWebhookSender(webhook, this.stats, this.now, (attempt) => this.emit('webhook', attempt))
      : undefined;
  }

  /** Resolves once every webhook so far is delivered or dropped. */
  async flushWebhooks(timeoutMs = 10_000): Promise<void> {
    await this.sender?.flush(timeoutMs);
  }

  get webhookDeliveries(): Readonly<WebhookDeliveryStats> {
    return { ...this.stats };
  }

  /**
   * Idempotency keys that were applied, with how often: a PUT answered 200 (also when the agent already had that
   * state), or a deferred one taken over when the wrap-up ended. Every count must stay at 1.
   */
  get appliedKeys(): ReadonlyMap<string, number> {
    return this.applied;
  }

  appliedCount(idempotencyKey: string): number {
    return this.applied.get(idempotencyKey) ?? 0;
  }

  /** PUTs answered from the idempotency store instead of being applied again. */
  get replayedCount(): number {
    return this.replays;
  }

  getAgent(agentId: string): EmulatorAgent | undefined {
    const agent = this.agents.get(agentId);
    if (!agent) return undefined;
    const copy: EmulatorAgent = {
      agentId: agent.agentId,
      email: agent.email,
      teamId: agent.teamId,
      state: copyState(agent.state),
      since: agent.since,
      sequence: agent.sequence,
    };
    if (agent.next) copy.next = copyState(agent.next.state);
    return copy;
  }

  /** Every agent, in listing order (for the demo page and benchmark checks). */
  snapshot(): EmulatorAgent[] {
    return this.agentOrder.map((agentId) => this.getAgent(agentId) as EmulatorAgent);
  }

  /** The agent picks a state in their desktop. It takes effect at once and replaces a pending API state. */
  agentSetState(agentId: string, state: AcdState): void {
    const agent = this.mustGet(agentId);
    if (!(SETTABLE_ACD_STATES as readonly string[]).includes(state.state)) {
      throw new Error(`agentSetState: ${state.state} comes from contacts; use startCall / endCall / endWrapUp`);
    }
    this.checkCode(agent, state);
    agent.next = undefined;
    this.changeState(agent, state, 'agent');
  }

  /** A contact is routed to the agent: Busy. */
  startCall(agentId: string): void {
    const agent = this.mustGet(agentId);
    if (agent.state.state === 'Offline') throw new Error(`startCall: agent ${agentId} is logged out`);
    if (agent.state.state === 'Busy') throw new Error(`startCall: agent ${agentId} is already on a contact`);
    this.changeState(agent, { state: 'Busy' }, 'contact');
  }

  /**
   * The contact ends: wrap-up (AfterWork), or with `wrapUp: false` (a queue with no after-contact work) straight
   * to the state set through the API meanwhile, if any, else Available.
   */
  endCall(agentId: string, options: { wrapUp?: boolean; wrapUpCode?: string } = {}): void {
    const agent = this.mustGet(agentId);
    if (agent.state.state !== 'Busy') throw new Error(`endCall: agent ${agentId} is ${agent.state.state}, not Busy`);
    if (options.wrapUp === false) this.leaveContact(agent);
    // Contract v1 lets an AfterWork event carry the wrap-up code, as rules.md's AfterWork codes expect.
    else this.changeState(agent, options.wrapUpCode ? { state: 'AfterWork', code: options.wrapUpCode } : { state: 'AfterWork' }, 'contact');
  }

  /** Wrap-up ends: the state set through the API meanwhile, if any, else Available. */
  endWrapUp(agentId: string): void {
    const agent = this.mustGet(agentId);
    if (agent.state.state !== 'AfterWork') throw new Error(`endWrapUp: agent ${agentId} is ${agent.state.state}, not AfterWork`);
    this.leaveContact(agent);
  }

  /** The contact is over: the state set through the API meanwhile is applied, if any, else Available. */
  private leaveContact(agent: AgentRecord): void {
    const next = agent.next;
    agent.next = undefined;
    if (next) {
      this.countApplied(next.idempotencyKey);
      this.changeState(agent, next.state, 'api-deferred', next.idempotencyKey);
    } else {
      this.changeState(agent, { state: 'Available' }, 'contact');
    }
  }

  /**
   * The next webhook event is sent twice with the same `eventId`, as a best-effort sender does when it missed
   * the answer to a delivery that did arrive.
   */
  duplicateNextWebhook(): void {
    this.duplicateArmed = true;
  }

  /**
   * The next webhook event is held back and sent right after the one following it (any agent), as a sender
   * with parallel deliveries may do. A held event waits until another event is reported.
   */
  reorderNextWebhook(): void {
    this.reorderArmed = true;
  }

  /**
   * The next `count` matching requests (default: PUTs) fail with `fault` after the token check: an HTTP status,
   * `hang` (never answered; the client's timeout fires), or `reset` (connection dropped). Adds to earlier faults.
   */
  failNext(count: number, fault: InjectedFault, options: FailNextOptions = {}): void {
    if (count > 0) this.faults.push({ remaining: count, fault, retryAfterSec: options.retryAfterSec, method: options.method ?? 'PUT' });
  }

  /**
   * Resolves when `predicate` holds. It is re-checked on every state change, write and webhook attempt, and
   * every 10 ms for conditions outside the emulator.
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
        reject(new Error(`ContactCenterEmulator.waitFor: ${what} not met within ${timeoutMs} ms`));
      }, timeoutMs);
      const cleanup = () => {
        clearInterval(poll);
        clearTimeout(timer);
        this.off('state', check);
        this.off('write', check);
        this.off('webhook', check);
      };
      this.on('state', check);
      this.on('write', check);
      this.on('webhook', check);
    });
  }

  private mustGet(agentId: string): AgentRecord {
    const agent = this.agents.get(agentId);
    if (!agent) throw new Error(`ContactCenterEmulator: unknown agent ${agentId}`);
    return agent;
  }

  private checkCode(agent: AgentRecord, state: AcdState): void {
    if (state.state === 'Unavailable' && state.code && !this.teams.get(agent.teamId)?.unavailableCodes.includes(state.code)) {
      throw new Error(`code ${state.code} is not enabled for team ${agent.teamId}`);
    }
  }

  private countApplied(idempotencyKey: string): void {
    this.applied.set(idempotencyKey, (this.applied.get(idempotencyKey) ?? 0) + 1);
  }

  /** `requestId`: the Idempotency-Key of the PUT that caused the change (causes `api` and `api-deferred`). */
  private changeState(agent: AgentRecord, state: AcdState, cause: StateChangeCause, requestId?: string): void {
    if (sameAcdState(agent.state, state)) return;
    const previous = agent.state;
    agent.state = copyState(state);
    agent.since = this.now();
    agent.sequence++;
    const event: EmulatorWebhookEvent = {
      eventId: randomUUID(),
      occurredAt: new Date(agent.since).toISOString(),
      agentId: agent.agentId,
      state: copyState(agent.state),
      previous: copyState(previous),
      sequence: agent.sequence,
    };
    // Contract v1 lets a contact center name the write behind a change; this one always knows it.
    if (requestId !== undefined) event.requestId = requestId;
    this.report(event);
    this.emit('state', agent.agentId, copyState(agent.state), cause);
  }

  /** Hands an event to the webhook sender, applying `duplicateNextWebhook` and `reorderNextWebhook`. */
  private report(event: EmulatorWebhookEvent): void {
    const sender = this.sender;
    if (!sender) return;
    if (this.reorderArmed) {
      this.reorderArmed = false;
      this.held = event;
    } else {
      const sends = this.duplicateArmed ? 2 : 1;
      this.duplicateArmed = false;
      for (let i = 0; i < sends; i++) sender.enqueue(event);
    }
    if (this.held && this.held !== event) {
      const held = this.held;
      this.held = undefined;
      sender.enqueue(held);
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const url = new URL(req.url ?? '/', 'http://emulator');
      let path = url.pathname;
      if (this.basePath) {
        if (!path.startsWith(`${this.basePath}/`)) return this.send(res, problem(404, 'not-found', `no route ${path}`));
        path = path.slice(this.basePath.length);
      }
      const method = req.method ?? 'GET';
      const stateRoute = STATE_PATH.exec(path);
      const allowed = path === '/agents' || path === '/teams' ? 'GET' : stateRoute ? 'PUT' : undefined;
      if (!allowed) return this.send(res, problem(404, 'not-found', `no route ${path}`));
      if (method !== allowed) {
        res.setHeader('Allow', allowed);
        return this.send(res, problem(405, 'method-not-allowed', `${method} is not allowed on ${path}; use ${allowed}`));
      }
      const raw = await readBoundedBody(req, MAX_BODY_BYTES);

      if (!this.authorized(req)) {
        res.setHeader('WWW-Authenticate', 'Bearer');
        const answer = problem(401, 'unauthorized', 'missing or invalid bearer token');
        if (stateRoute) this.record(decodeSegment(stateRoute[1]), raw, req, answer.status, { injected: false, replayed: false });
        return this.send(res, answer);
      }

      const fault = this.takeFault(method);
      if (fault) {
        if (stateRoute) this.record(decodeSegment(stateRoute[1]), raw, req, typeof fault.fault === 'number' ? fault.fault : 0, { injected: true, replayed: false });
        return this.injectFault(res, fault);
      }

      if (path === '/agents') return this.send(res, this.listAgents(url.searchParams.get('cursor')));
      if (path === '/teams') return this.send(res, { status: 200, body: { teams: [...this.teams.values()] } });
      return this.send(res, this.putState(stateRoute?.[1] ?? '', raw, req));
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (error instanceof BodyTooLargeError) return this.send(res, problem(413, 'too-large', `body over ${MAX_BODY_BYTES} bytes`));
      this.send(res, problem(500, 'emulator-error', message));
    }
  }

  private authorized(req: IncomingMessage): boolean {
    const header = req.headers.authorization ?? '';
    const match = /^Bearer\s+(.+)$/i.exec(header);
    return match !== null && match[1].trim() === this.token;
  }

  private takeFault(method: string): Fault | undefined {
    const fault = this.faults.find((f) => f.method === 'any' || f.method === method);
    if (!fault) return undefined;
    if (--fault.remaining <= 0) this.faults.splice(this.faults.indexOf(fault), 1);
    return fault;
  }

  private injectFault(res: ServerResponse, fault: Fault): void {
    if (fault.fault === 'hang') {
      this.hanging.add(res);
      res.on('close', () => this.hanging.delete(res));
      return;
    }
    if (fault.fault === 'reset') {
      res.socket?.destroy();
      return;
    }
    if (fault.retryAfterSec !== undefined) res.setHeader('Retry-After', String(fault.retryAfterSec));
    this.send(res, problem(fault.fault, 'injected', `injected failure ${fault.fault}`));
  }

  private listAgents(cursor: string | null): Answer {
    let offset = 0;
    if (cursor !== null) {
      const decoded = /^o:(\d+)$/.exec(Buffer.from(cursor, 'base64url').toString());
      offset = decoded ? Number(decoded[1]) : -1;
      if (offset < 0 || offset > this.agentOrder.length) return problem(400, 'bad-cursor', 'cursor is not one this server gave out');
    }
    const end = Math.min(offset + this.pageSize, this.agentOrder.length);
    const agents = [];
    for (let i = offset; i < end; i++) {
      const agent = this.agents.get(this.agentOrder[i]) as AgentRecord;
      agents.push({
        agentId: agent.agentId,
        email: agent.email,
        teamId: agent.teamId,
        state: copyState(agent.state),
        since: new Date(agent.since).toISOString(),
      });
    }
    const next = end < this.agentOrder.length ? Buffer.from(`o:${end}`).toString('base64url') : null;
    return { status: 200, body: { agents, next } };
  }

  private putState(encodedId: string, raw: string, req: IncomingMessage): Answer {
    let agentId: string;
    try {
      agentId = decodeURIComponent(encodedId);
    } catch {
      return this.answerWrite(encodedId, raw, req, problem(400, 'bad-request', 'agent id in the path is not valid percent-encoding'));
    }
    const key = req.headers['idempotency-key'];
    const idempotencyKey = typeof key === 'string' && key.length > 0 ? key : undefined;
    if (!idempotencyKey) return this.answerWrite(agentId, raw, req, problem(400, 'bad-request', 'Idempotency-Key header is required'));

    const stored = this.idempotency.get(idempotencyKey);
    if (stored) {
      this.replays++;
      this.record(agentId, raw, req, stored.status, { injected: false, replayed: true });
      return stored;
    }

    const checked = this.validateWrite(raw, idempotencyKey);
    if ('status' in checked) return this.answerWrite(agentId, raw, req, checked);
    const wanted = checked.state;

    const answer = this.applyWrite(agentId, wanted, idempotencyKey);
    // Only outcomes of real processing are kept: a 400 or an injected failure may be retried with the same key.
    this.idempotency.set(idempotencyKey, answer);
    return this.answerWrite(agentId, raw, req, answer);
  }

  private validateWrite(raw: string, idempotencyKey: string): Answer | { state: AcdState } {
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      return problem(400, 'bad-request', 'body must be JSON');
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return problem(400, 'bad-request', 'body must be a JSON object');
    const { state, code, requestId } = body as Record<string, unknown>;
    if (typeof state !== 'string' || !(SETTABLE_ACD_STATES as readonly string[]).includes(state)) {
      return problem(400, 'bad-request', `state must be one of ${SETTABLE_ACD_STATES.join(', ')}`);
    }
    if (code !== undefined && (typeof code !== 'string' || code.length === 0)) return problem(400, 'bad-request', 'code must be a non-empty string');
    if (code !== undefined && state !== 'Unavailable') return problem(400, 'bad-request', 'code is only allowed with Unavailable');
    if (typeof requestId !== 'string' || requestId.length === 0) return problem(400, 'bad-request', 'requestId is required');
    if (requestId !== idempotencyKey) return problem(400, 'bad-request', 'requestId must equal the Idempotency-Key header');
    return { state: code ? { state: state as AcdState['state'], code } : { state: state as AcdState['state'] } };
  }

  private applyWrite(agentId: string, wanted: AcdState, idempotencyKey: string): Answer {
    const agent = this.agents.get(agentId);
    if (!agent) return problem(404, 'unknown-agent', `no agent ${agentId}`);
    const codes = this.teams.get(agent.teamId)?.unavailableCodes ?? [];
    if (wanted.code && !codes.includes(wanted.code)) {
      return problem(422, 'unknown-code', `code ${wanted.code} is not enabled for team ${agent.teamId}`);
    }
    if (agent.state.state === 'Offline' && wanted.state !== 'Offline') {
      return problem(409, 'agent-logged-out', `agent ${agentId} is logged out`);
    }
    if (agent.state.state === 'Busy' || agent.state.state === 'AfterWork') {
      agent.next = { state: copyState(wanted), idempotencyKey };
      return { status: 202, body: { pending: true } };
    }
    this.countApplied(idempotencyKey);
    this.changeState(agent, wanted, 'api', idempotencyKey);
    return { status: 200, body: { state: copyState(agent.state) } };
  }

  private answerWrite(agentId: string, raw: string, req: IncomingMessage, answer: Answer): Answer {
    this.record(agentId, raw, req, answer.status, { injected: false, replayed: false });
    return answer;
  }

  private record(agentId: string, raw: string, req: IncomingMessage, status: number, flags: { injected: boolean; replayed: boolean }): void {
    let body: unknown = raw;
    try {
      body = JSON.parse(raw);
    } catch {
      // kept as text
    }
    const key = req.headers['idempotency-key'];
    const write: EmulatorWrite = {
      agentId,
      body,
      idempotencyKey: typeof key === 'string' ? key : undefined,
      status,
      replayed: flags.replayed,
      injected: flags.injected,
      at: this.now(),
    };
    this.writes.push(write);
    this.emit('write', write);
  }

  private send(res: ServerResponse, answer: Answer): void {
    if (res.headersSent || res.destroyed) return;
    const body = JSON.stringify(answer.body);
    res.writeHead(answer.status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  }
}
