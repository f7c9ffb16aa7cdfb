import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { FrameReader, WS_OPCODE, encodeFrame, websocketAccept } from '@presence-sync/connector-genesys';
import type { AcdState } from '@presence-sync/domain';
import { BodyTooLargeError, readBoundedBody } from '../http-body';
import { listenLocal } from '../listen.util';

/** A presence definition the emulated org has. */
export interface GenesysEmulatorPresence {
  id: string;
  systemPresence: string;
  label: string;
  deactivated?: boolean;
  /** Scoped to one division; undefined: every division. */
  divisionId?: string;
}

/** A user of the emulated org. */
export interface GenesysEmulatorUser {
  id: string;
  name: string;
  email: string;
  divisionId: string;
  /** The presence definition id the user starts in. */
  presenceId: string;
}

export interface GenesysEmulatorOptions {
  presences: GenesysEmulatorPresence[];
  users: GenesysEmulatorUser[];
  divisions: { id: string; name: string }[];
  /** Heartbeat (`channel.metadata`) interval, ms. Genesys: about 30 s. Default 30000. */
  heartbeatMs?: number;
  /** Channel lifetime, ms. Genesys: 24 h. */
  channelTtlMs?: number;
  /** Topics per channel (Genesys: 1,000) and channels per client (20; a 21st evicts the oldest). */
  maxTopicsPerChannel?: number;
  maxChannels?: number;
  /** Largest users page. Default 500. */
  maxPageSize?: number;
  port?: number;
}

interface Channel {
  id: string;
  topics: Set<string>;
  expiresAt: number;
  sockets: Set<Duplex>;
  expiryTimer: NodeJS.Timeout;
}

interface UserState {
  user: GenesysEmulatorUser;
  presenceId: string;
  presenceModified: number;
  routing: string;
  routingStart: number;
  conversation?: { id: string; state: 'connected' | 'disconnected'; acw?: { state: 'pending' | 'complete'; startTime: number } };
}

interface Answer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

type Fault = { remaining: number; status: number; retryAfterSec?: number };

export const GENESYS_EMULATOR_CREDENTIALS = { clientId: 'genesys-emulator-client', clientSecret: 'genesys-emulator-secret-5f0c2a' } as const;

const iso = (ms: number) => new Date(ms).toISOString();
const ON_CONTACT = new Set(['INTERACTING', 'COMMUNICATING']);

/**
 * An in-process Genesys Cloud CX: the OAuth client-credentials token endpoint, users (with presence and routing
 * status), presence definitions, the presence PATCH, and the Notifications API (channels, subscriptions of at most
 * 1,000 topics, one WebSocket per channel with a `channel.metadata` heartbeat, channel expiry, at most 20 channels
 * with the oldest evicted). As in Genesys, nothing is delivered to a channel while its WebSocket is not connected.
 * Faults: the next API calls answer 429 (with `inin-ratelimit-*` and `Retry-After`) or 5xx; tokens revoked;
 * WebSockets dropped; delivery interrupted (sockets closed and new ones refused); an event duplicated or held back.
 */
export class GenesysEmulator {
  readonly credentials = GENESYS_EMULATOR_CREDENTIALS;
  private server?: Server;
  private baseUrl = '';
  private readonly tokens = new Map<string, { revoked: boolean }>();
  private readonly users = new Map<string, UserState>();
  private readonly presences: GenesysEmulatorPresence[];
  private readonly channels = new Map<string, Channel>();
  private readonly faults: Fault[] = [];
  private heartbeat?: NodeJS.Timeout;
  private interrupted = false;
  private duplicate = false;
  private hold = false;
  private held?: { topic: string; body: unknown };
  private clock = 0;
  /** User-topic events written to a connected socket (the harness compares it with what the connector handled). */
  deliveredEvents = 0;
  private readonly listeners: ((userId: string) => void)[] = [];
  /** Every API request: method, path, status. */
  readonly requests: { method: string; path: string; status: number }[] = [];

  constructor(private readonly options: GenesysEmulatorOptions) {
    this.presences = options.presences.map((p) => ({ ...p }));
    const now = Date.now();
    for (const user of options.users) {
      const onQueue = this.presence(user.presenceId)?.systemPresence === 'ON_QUEUE';
      this.users.set(user.id, { user, presenceId: user.presenceId, presenceModified: now, routing: onQueue ? 'IDLE' : 'OFF_QUEUE', routingStart: now });
    }
  }

  async start(): Promise<{ baseUrl: string }> {
    this.server = createServer((req, res) => void this.onRequest(req, res));
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex) => this.onUpgrade(req, socket));
    this.baseUrl = await listenLocal(this.server, this.options.port);
    this.heartbeat = setInterval(() => this.broadcastHeartbeat(), this.options.heartbeatMs ?? 30_000);
    this.heartbeat.unref();
    return { baseUrl: this.baseUrl };
  }

  async stop(): Promise<void> {
    if (this.heartbeat) clearInterval(this.heartbeat);
    for (const channel of this.channels.values()) this.dropChannel(channel);
    this.channels.clear();
    const server = this.server;
    this.server = undefined;
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }

  // ---- the agent's side and the ACD ----

  /** The agent picks a presence at their desktop (by system presence or label). */
  agentSetsPresence(userId: string, presence: string): void {
    const def = this.presences.find((p) => !p.deactivated && (p.label === presence || p.systemPresence === presence));
    if (!def) throw new Error(`GenesysEmulator: no presence ${presence}`);
    this.setPresence(this.state(userId), def);
  }

  /** An interaction is routed to the agent and connected. */
  startContact(userId: string): void {
    const s = this.state(userId);
    s.conversation = { id: randomUUID(), state: 'connected' };
    this.setRouting(s, 'INTERACTING');
    this.publishConversation(s);
  }

  /** The interaction disconnects; with `wrapUp`, after-call work is pending and the agent stays interacting. */
  endContact(userId: string, options: { wrapUp?: boolean } = {}): void {
    const s = this.state(userId);
    if (!s.conversation) return;
    s.conversation.state = 'disconnected';
    if (options.wrapUp) {
      s.conversation.acw = { state: 'pending', startTime: this.tick() };
      this.publishConversation(s);
    } else {
      this.publishConversation(s);
      s.conversation = undefined;
      this.setRouting(s, this.routable(s) ? 'IDLE' : 'OFF_QUEUE');
    }
  }

  /** The agent completes after-call work: routing becomes IDLE (on queue) or OFF_QUEUE. */
  endWrapUp(userId: string): void {
    const s = this.state(userId);
    if (!s.conversation?.acw) return;
    s.conversation.acw = { state: 'complete', startTime: s.conversation.acw.startTime };
    this.setRouting(s, this.routable(s) ? 'IDLE' : 'OFF_QUEUE');
    this.publishConversation(s);
    s.conversation = undefined;
  }

  /** What the org holds for the user, as the ACD states of rules.md. */
  acdStateOf(userId: string): AcdState {
    const s = this.state(userId);
    if (s.conversation?.acw?.state === 'pending') return { state: 'AfterWork' };
    if (ON_CONTACT.has(s.routing)) return { state: 'Busy' };
    const def = this.presence(s.presenceId);
    if (!def || def.systemPresence === 'OFFLINE') return { state: 'Offline' };
    if (def.systemPresence === 'ON_QUEUE' || def.systemPresence === 'AVAILABLE') return { state: 'Available' };
    return { state: 'Unavailable', code: def.label };
  }

  /** Every user with their division and since when their current state holds (epoch ms). */
  snapshot(): { id: string; email: string; divisionId: string; divisionName: string; since: number }[] {
    return [...this.users.values()].map((s) => ({
      id: s.user.id, email: s.user.email, divisionId: s.user.divisionId,
      divisionName: this.options.divisions.find((d) => d.id === s.user.divisionId)?.name ?? s.user.divisionId,
      since: s.conversation?.acw?.state === 'pending' ? s.conversation.acw.startTime : Math.max(s.presenceModified, s.routingStart),
    }));
  }

  /** Called with a user id whenever that user's presence, routing status or conversation changes, whoever changed it. */
  onStateChange(listener: (userId: string) => void): void {
    this.listeners.push(listener);
  }

  // ---- faults ----

  failNext(count: number, status: number, retryAfterSec?: number): void {
    this.faults.push({ remaining: count, status, retryAfterSec });
  }

  revokeTokens(): void {
    for (const token of this.tokens.values()) token.revoked = true;
  }

  liveTokens(): string[] {
    return [...this.tokens].filter(([, t]) => !t.revoked).map(([token]) => token);
  }

  /** Closes every WebSocket (the channels stay; a reconnect to them works). */
  disconnectAll(): void {
    for (const channel of this.channels.values()) for (const socket of channel.sockets) this.closeSocket(socket, 1001);
  }

  /** Closes every WebSocket and refuses new ones until {@link resumeDelivery}. */
  interruptDelivery(): void {
    this.interrupted = true;
    this.disconnectAll();
  }

  resumeDelivery(): void {
    this.interrupted = false;
  }

  get isInterrupted(): boolean {
    return this.interrupted;
  }

  /** Sends the next user event twice. */
  duplicateNext(): void {
    this.duplicate = true;
  }

  /** Holds the next user event back and sends it after the following one. */
  holdNext(): void {
    this.hold = true;
  }

  /** Whether an event is held back. */
  get pendingDelivery(): boolean {
    return this.held !== undefined;
  }

  /** Announces a maintenance close on every connected socket (`v2.system.socket_closing`). */
  announceSocketClosing(): void {
    for (const channel of this.channels.values()) this.send(channel, 'v2.system.socket_closing', { message: 'the socket closes in about a minute' }, false);
  }

  /** How many channels exist and how many sockets are connected. */
  get channelCount(): number {
    return this.channels.size;
  }

  /** Every topic subscribed on any channel, sorted. */
  subscribedTopics(): string[] {
    return [...new Set([...this.channels.values()].flatMap((c) => [...c.topics]))].sort();
  }

  get connectedSockets(): number {
    return [...this.channels.values()].reduce((n, c) => n + c.sockets.size, 0);
  }

  // ---- HTTP ----

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://emulator');
    let body = '';
    try {
      body = await readBoundedBody(req, 256 * 1024);
    } catch (e) {
      if (e instanceof BodyTooLargeError) return this.reply(req, url, res, { status: 413 });
    }
    let answer: Answer;
    try {
      answer = this.route(req, url, body);
    } catch (e) {
      answer = { status: 500, body: { message: e instanceof Error ? e.message : String(e) } };
    }
    this.reply(req, url, res, answer);
  }

  private reply(req: IncomingMessage, url: URL, res: ServerResponse, answer: Answer): void {
    this.requests.push({ method: req.method ?? 'GET', path: url.pathname, status: answer.status });
    const headers: Record<string, string> = { 'content-type': 'application/json', 'inin-correlation-id': randomUUID(), ...answer.headers };
    res.writeHead(answer.status, headers);
    res.end(answer.body === undefined ? '' : JSON.stringify(answer.body));
  }

  private route(req: IncomingMessage, url: URL, body: string): Answer {
    const method = req.method ?? 'GET';
    const path = url.pathname;
    if (method === 'POST' && path === '/oauth/token') return this.token(req, body);
    if (!path.startsWith('/api/v2/')) return { status: 404, body: { message: 'not found' } };
    const auth = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const token = auth ? this.tokens.get(auth) : undefined;
    if (!token || token.revoked) return { status: 401, body: { message: 'Invalid login credentials.', code: 'bad.credentials', status: 401 } };
    const fault = this.faults[0];
    if (fault) {
      fault.remaining--;
      if (fault.remaining <= 0) this.faults.shift();
      if (fault.status === 429) {
        const wait = String(fault.retryAfterSec ?? 1);
        return { status: 429, body: { message: 'Rate limit exceeded the maximum', code: 'too.many.requests', status: 429 }, headers: { 'retry-after': wait, 'inin-ratelimit-count': '301', 'inin-ratelimit-allowed': '300', 'inin-ratelimit-reset': wait } };
      }
      return { status: fault.status, body: { message: 'The service is currently unavailable.', status: fault.status } };
    }
    const json = () => (body ? (JSON.parse(body) as unknown) : undefined);
    if (method === 'GET' && path === '/api/v2/users') return this.listUsers(url);
    if (method === 'GET' && path === '/api/v2/presence/definitions') {
      const withDeactivated = url.searchParams.get('deactivated') === 'true';
      const entities = this.presences.filter((p) => withDeactivated || !p.deactivated).map((p) => this.definitionJson(p));
      return { status: 200, body: { entities, total: entities.length } };
    }
    let m = /^\/api\/v2\/users\/([^/]+)\/presences\/purecloud$/.exec(path);
    if (m) {
      const s = this.users.get(decodeURIComponent(m[1]));
      if (!s) return { status: 404, body: { message: 'User not found', code: 'not.found', status: 404 } };
      if (method === 'GET') return { status: 200, body: this.presenceJson(s) };
      if (method === 'PATCH') {
        const id = (json() as { presenceDefinition?: { id?: string } } | undefined)?.presenceDefinition?.id;
        const def = this.presences.find((p) => p.id === id && !p.deactivated);
        if (!def) return { status: 400, body: { message: 'Invalid presence definition', code: 'bad.request', status: 400 } };
        this.setPresence(s, def);
        return { status: 200, body: this.presenceJson(s) };
      }
    }
    m = /^\/api\/v2\/users\/([^/]+)\/routingstatus$/.exec(path);
    if (m && method === 'GET') {
      const s = this.users.get(decodeURIComponent(m[1]));
      if (!s) return { status: 404, body: { message: 'User not found', status: 404 } };
      return { status: 200, body: { userId: s.user.id, status: s.routing, startTime: iso(s.routingStart) } };
    }
    if (method === 'POST' && path === '/api/v2/notifications/channels') return this.createChannel();
    m = /^\/api\/v2\/notifications\/channels\/([^/]+)\/subscriptions$/.exec(path);
    if (m) {
      const channel = this.channels.get(decodeURIComponent(m[1]));
      if (!channel) return { status: 404, body: { message: 'Channel not found', status: 404 } };
      if (method === 'PUT' || method === 'POST') {
        const topics = (json() as { id: string }[] | undefined) ?? [];
        const next = method === 'PUT' ? new Set<string>() : new Set(channel.topics);
        for (const t of topics) next.add(t.id);
        if (next.size > (this.options.maxTopicsPerChannel ?? 1000)) return { status: 400, body: { message: 'Channel subscription limit exceeded', code: 'bad.request', status: 400 } };
        channel.topics = next;
        return { status: 200, body: { entities: [...next].map((id) => ({ id })) } };
      }
      if (method === 'GET') return { status: 200, body: { entities: [...channel.topics].map((id) => ({ id })) } };
    }
    return { status: 404, body: { message: `no route ${method} ${path}`, status: 404 } };
  }

  private token(req: IncomingMessage, body: string): Answer {
    const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const [id, secret] = basic ? Buffer.from(basic, 'base64').toString('utf8').split(':') : [];
    if (!new URLSearchParams(body).get('grant_type')?.includes('client_credentials')) return { status: 400, body: { error: 'unsupported_grant_type' } };
    if (id !== this.credentials.clientId || secret !== this.credentials.clientSecret) return { status: 401, body: { error: 'invalid_client', description: 'client not found' } };
    const token = randomBytes(24).toString('base64url');
    this.tokens.set(token, { revoked: false });
    return { status: 200, body: { access_token: token, token_type: 'bearer', expires_in: 86_399 } };
  }

  private listUsers(url: URL): Answer {
    const pageSize = Math.min(Number(url.searchParams.get('pageSize') ?? 25) || 25, this.options.maxPageSize ?? 500);
    const pageNumber = Math.max(Number(url.searchParams.get('pageNumber') ?? 1) || 1, 1);
    const expand = url.searchParams.getAll('expand').flatMap((e) => e.split(','));
    const all = [...this.users.values()];
    const page = all.slice((pageNumber - 1) * pageSize, pageNumber * pageSize);
    const division = (id: string) => this.options.divisions.find((d) => d.id === id);
    const entities = page.map((s) => ({
      id: s.user.id, name: s.user.name, email: s.user.email, state: 'active',
      division: { id: s.user.divisionId, name: division(s.user.divisionId)?.name },
      ...(expand.includes('presence') ? { presence: this.presenceJson(s) } : {}),
      ...(expand.includes('routingStatus') ? { routingStatus: { userId: s.user.id, status: s.routing, startTime: iso(s.routingStart) } } : {}),
    }));
    return { status: 200, body: { entities, pageSize, pageNumber, total: all.length, pageCount: Math.ceil(all.length / pageSize) } };
  }

  private createChannel(): Answer {
    const max = this.options.maxChannels ?? 20;
    while (this.channels.size >= max) {
      const oldest = this.channels.values().next().value as Channel;
      this.dropChannel(oldest);
      this.channels.delete(oldest.id);
    }
    const id = `streaming-${randomUUID()}`;
    const ttl = this.options.channelTtlMs ?? 86_400_000;
    const channel: Channel = { id, topics: new Set(), expiresAt: Date.now() + ttl, sockets: new Set(), expiryTimer: setTimeout(() => this.expire(id), ttl) };
    channel.expiryTimer.unref();
    this.channels.set(id, channel);
    const wsBase = this.baseUrl.replace(/^http/, 'ws');
    return { status: 200, body: { id, connectUri: `${wsBase}/channels/${id}`, expires: iso(channel.expiresAt) } };
  }

  private expire(id: string): void {
    const channel = this.channels.get(id);
    if (!channel) return;
    this.dropChannel(channel);
    this.channels.delete(id);
  }

  private dropChannel(channel: Channel): void {
    clearTimeout(channel.expiryTimer);
    for (const socket of channel.sockets) this.closeSocket(socket, 1000);
  }

  // ---- WebSocket ----

  private onUpgrade(req: IncomingMessage, socket: Duplex): void {
    const id = /^\/channels\/([^/?]+)/.exec(req.url ?? '')?.[1];
    const channel = id ? this.channels.get(id) : undefined;
    const key = req.headers['sec-websocket-key'];
    if (!channel || typeof key !== 'string' || this.interrupted) {
      socket.end(`HTTP/1.1 ${this.interrupted ? '503 Service Unavailable' : '404 Not Found'}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${websocketAccept(key)}\r\n\r\n`);
    channel.sockets.add(socket);
    const reader = new FrameReader();
    socket.on('data', (chunk: Buffer) => {
      for (const frame of reader.push(chunk)) {
        if (frame.opcode === WS_OPCODE.close) this.closeSocket(socket, 1000);
        else if (frame.opcode === WS_OPCODE.ping) socket.write(encodeFrame(WS_OPCODE.pong, frame.payload, false));
      }
    });
    const forget = () => channel.sockets.delete(socket);
    socket.on('close', forget);
    socket.on('error', forget);
  }

  private closeSocket(socket: Duplex, code: number): void {
    if (!socket.destroyed) {
      const payload = Buffer.alloc(2);
      payload.writeUInt16BE(code, 0);
      socket.write(encodeFrame(WS_OPCODE.close, payload, false));
      socket.end();
      socket.destroy();
    }
    for (const channel of this.channels.values()) channel.sockets.delete(socket);
  }

  private broadcastHeartbeat(): void {
    for (const channel of this.channels.values()) this.send(channel, 'channel.metadata', { message: 'WebSocket Heartbeat' }, false);
  }

  /** Writes one notification to the channel's connected sockets; with none connected it is lost, as in Genesys. */
  private send(channel: Channel, topic: string, eventBody: unknown, count: boolean): void {
    const frame = encodeFrame(WS_OPCODE.text, Buffer.from(JSON.stringify({ topicName: topic, version: '2', eventBody, metadata: { CorrelationId: randomUUID() } })), false);
    for (const socket of channel.sockets) {
      if (socket.destroyed) continue;
      socket.write(frame);
      if (count) this.deliveredEvents++;
    }
  }

  private publish(topic: string, eventBody: unknown): void {
    if (this.hold) {
      this.hold = false;
      this.held = { topic, body: eventBody };
      return;
    }
    const times = this.duplicate ? 2 : 1;
    this.duplicate = false;
    for (let i = 0; i < times; i++) this.deliver(topic, eventBody);
    const held = this.held;
    this.held = undefined;
    if (held) this.deliver(held.topic, held.body);
  }

  private deliver(topic: string, eventBody: unknown): void {
    for (const channel of this.channels.values()) if (channel.topics.has(topic)) this.send(channel, topic, eventBody, true);
  }

  private publishActivity(s: UserState): void {
    for (const listener of this.listeners) listener(s.user.id);
    this.publish(`v2.users.${s.user.id}.activity`, {
      id: s.user.id, routingStatus: { status: s.routing, startTime: iso(s.routingStart) }, presence: this.presenceJson(s),
      outOfOffice: { active: false }, activeQueueIds: [], dateActiveQueuesChanged: iso(s.routingStart),
    });
  }

  private publishConversation(s: UserState): void {
    const c = s.conversation;
    if (!c) return;
    for (const listener of this.listeners) listener(s.user.id);
    const call: Record<string, unknown> = { id: randomUUID(), state: c.state };
    if (c.acw) Object.assign(call, { afterCallWorkRequired: true, afterCallWork: { state: c.acw.state, startTime: iso(c.acw.startTime) } });
    this.publish(`v2.users.${s.user.id}.conversations`, {
      id: c.id, participants: [{ id: randomUUID(), purpose: 'customer', calls: [{ state: c.state }] }, { id: randomUUID(), userId: s.user.id, purpose: 'agent', calls: [call] }],
    });
  }

  // ---- state ----

  private state(userId: string): UserState {
    const s = this.users.get(userId);
    if (!s) throw new Error(`GenesysEmulator: unknown user ${userId}`);
    return s;
  }

  private presence(id: string): GenesysEmulatorPresence | undefined {
    return this.presences.find((p) => p.id === id);
  }

  private routable(s: UserState): boolean {
    return this.presence(s.presenceId)?.systemPresence === 'ON_QUEUE';
  }

  /** A strictly increasing clock, so two changes in the same millisecond still order. */
  private tick(): number {
    this.clock = Math.max(Date.now(), this.clock + 1);
    return this.clock;
  }

  private setPresence(s: UserState, def: GenesysEmulatorPresence): void {
    s.presenceId = def.id;
    s.presenceModified = this.tick();
    // Routing follows the presence unless an interaction is under way (it ends first).
    if (!ON_CONTACT.has(s.routing)) {
      const routing = def.systemPresence === 'ON_QUEUE' ? 'IDLE' : 'OFF_QUEUE';
      if (routing !== s.routing) {
        s.routing = routing;
        s.routingStart = s.presenceModified;
      }
    }
    this.publishActivity(s);
  }

  private setRouting(s: UserState, routing: string): void {
    s.routing = routing;
    s.routingStart = this.tick();
    this.publishActivity(s);
  }

  private presenceJson(s: UserState): unknown {
    const def = this.presence(s.presenceId);
    return { source: 'PURECLOUD', primary: true, presenceDefinition: { id: s.presenceId, systemPresence: def?.systemPresence }, message: '', modifiedDate: iso(s.presenceModified) };
  }

  private definitionJson(p: GenesysEmulatorPresence): unknown {
    return { id: p.id, type: p.systemPresence === p.label.toUpperCase() ? 'System' : 'User', languageLabels: { en_US: p.label }, systemPresence: p.systemPresence, deactivated: p.deactivated === true, divisionId: p.divisionId ?? '*' };
  }
}
