import { ChangeSource, RateLimitedError, type ConnectorLogger, type InboundSink } from '@presence-sync/domain';
import type { GenesysApiClient } from './genesys-api.client';
import { parseGenesysDate, toAcdChange, type GenesysPresenceDefinition, type GenesysUserView } from './genesys-state.mapping';
import { connectWebSocket, type GenesysWebSocket } from './genesys-websocket';

/** Tuning of {@link GenesysNotificationSource}. */
export interface GenesysSourceOptions {
  /** No frame (heartbeats come about every 30 s) for this long → the channel is taken as dead and reopened, ms. Default 75000. */
  heartbeatTimeoutMs: number;
  /** First and largest pause between reconnect attempts, ms. Defaults 500 and 30000. */
  reconnectMinMs: number;
  reconnectMaxMs: number;
  /** Channels are replaced this long before they expire (24 h), ms. Default 600000. */
  renewBeforeExpiryMs: number;
  /** Channels per OAuth client (Genesys: 20; a 21st evicts the oldest). */
  maxChannels: number;
  /** Topics per channel (Genesys: 1,000; more → 400). */
  topicsPerChannel: number;
  /**
   * Subscribe each agent's conversations too, to report after-call work (two topics per agent: 10,000 agents per
   * OAuth client). Off: the activity topic only (20,000 agents per client), and wrap-up shows as `Busy`. Default on.
   */
  afterCallWork: boolean;
  now: () => number;
  logger: ConnectorLogger;
}

/** What the source needs of the connector (its API client and two reads). */
export interface GenesysSourceApi {
  readonly api: GenesysApiClient;
  readonly calls: { reads: number; writes: number };
  listUsers(): Promise<{ agentId: string; view: GenesysUserView }[]>;
  presenceDefinitions(): Promise<Map<string, GenesysPresenceDefinition>>;
  /** Definitions for mapping events; the last known ones when a read fails. */
  definitionsForEvents(): Promise<Map<string, GenesysPresenceDefinition>>;
}

/** Topics per agent: presence + routing status, and (for after-call work) conversations. */
export function topicsPerAgent(afterCallWork: boolean): number {
  return afterCallWork ? 2 : 1;
}

const activityTopic = (id: string) => `v2.users.${id}.activity`;
const conversationsTopic = (id: string) => `v2.users.${id}.conversations`;
const TOPIC = /^v2\.users\.([^.]+)\.(activity|conversations)$/;

function record(value: unknown): Record<string, unknown> | undefined {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/**
 * The Genesys change source: Notifications API channels over WebSocket, run by the daemon on one replica under a
 * lease. On every (re)connect it lists the users, opens ⌈topics / 1,000⌉ channels (one or two topics per agent), and only
 * then backfills every user's current presence and routing status through the API into the sink (Genesys
 * delivers nothing while a channel is disconnected). Frames that arrive during the backfill are held and handed
 * on after it, so the stream is trusted only once the backfill is in. A channel that closes, expires, announces a
 * maintenance close (`v2.system.socket_closing`) or misses its heartbeats makes the source reconnect everything.
 *
 * Beyond 20 channels (10,000 agents at two topics each, 20,000 at one) the agents past the limit are not
 * subscribed: a warning names how many, and their states reach the engine only through drift repair (listAgents).
 * docs/connectors/genesys.md says what to do beyond.
 */
export class GenesysNotificationSource extends ChangeSource {
  private readonly options: GenesysSourceOptions;
  private sink?: InboundSink;
  private onGap?: (reason: string) => void;
  private sockets: GenesysWebSocket[] = [];
  /** The channels of the last connect, in chunk order. */
  private channels: { id: string; connectUri: string; expiresAt?: number }[] = [];
  private readonly views = new Map<string, GenesysUserView>();
  private generation = 0;
  private running = false;
  private trusted = false;
  private held: { topic: string; body: unknown }[] = [];
  private chain: Promise<void> = Promise.resolve();
  private reconnectTimer?: NodeJS.Timeout;
  private watchdog?: NodeJS.Timeout;
  private renewTimer?: NodeJS.Timeout;
  private backoffMs: number;
  private connecting?: Promise<void>;
  /** User-topic frames handled so far (tests compare it with what the emulator sent). */
  handledFrames = 0;
  /** Completed connects (each with its backfill). */
  connects = 0;
  /** Agents left without a subscription because of the channel limit. */
  uncovered = 0;

  constructor(private readonly connector: GenesysSourceApi, options: Partial<GenesysSourceOptions> & Pick<GenesysSourceOptions, 'now' | 'logger'>) {
    super();
    this.options = {
      heartbeatTimeoutMs: 75_000, reconnectMinMs: 500, reconnectMaxMs: 30_000, renewBeforeExpiryMs: 600_000,
      maxChannels: 20, topicsPerChannel: 1000, afterCallWork: true, ...options,
    };
    this.backoffMs = this.options.reconnectMinMs;
  }

  get isRunning(): boolean {
    return this.running;
  }

  get openChannels(): number {
    return this.sockets.filter((s) => s.isOpen).length;
  }

  /** Whether the last connect is complete, its backfill handed on, and nothing is waiting for the sink. */
  async idle(): Promise<boolean> {
    await this.chain;
    return this.trusted && !this.connecting;
  }

  override async start(sink: InboundSink, onGap?: (reason: string) => void): Promise<void> {
    if (this.running) return;
    this.sink = sink;
    this.onGap = onGap;
    this.running = true;
    await this.connect('start');
  }

  override async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.generation++;
    this.clearTimers();
    for (const s of this.sockets) s.close();
    this.sockets = [];
    await this.connecting?.catch(() => undefined);
    await this.chain;
  }

  /** Tears down and reopens every channel, then backfills. Failures are retried with backoff. */
  private connect(reason: string): Promise<void> {
    if (this.connecting) return this.connecting;
    this.connecting = this.doConnect(reason)
      .then(() => {
        this.backoffMs = this.options.reconnectMinMs;
      })
      .catch((error: unknown) => {
        if (!this.running) return;
        // A 429 sets the pause (Retry-After / inin-ratelimit-reset) when it is longer than the backoff.
        const waitMs = error instanceof RateLimitedError ? Math.max(this.backoffMs, error.retryAfterMs) : this.backoffMs;
        this.options.logger.warn('Genesys notification channels could not be opened; retrying', { reason, error: error instanceof Error ? error.message : String(error), retryInMs: waitMs });
        this.scheduleReconnect(waitMs, 'retry');
        this.backoffMs = Math.min(this.backoffMs * 2, this.options.reconnectMaxMs);
      })
      .finally(() => {
        this.connecting = undefined;
      });
    return this.connecting;
  }

  private async doConnect(reason: string): Promise<void> {
    const gen = ++this.generation;
    this.clearTimers();
    this.trusted = false;
    this.held = [];
    for (const s of this.sockets) s.close();
    this.sockets = [];
    this.options.logger.info('Genesys notification channels (re)opening', { reason });

    const users = await this.connector.listUsers();
    const perChannel = Math.floor(this.options.topicsPerChannel / topicsPerAgent(this.options.afterCallWork));
    const capacity = perChannel * this.options.maxChannels;
    this.uncovered = Math.max(users.length - capacity, 0);
    if (this.uncovered > 0) {
      this.options.logger.warn('more Genesys agents than one OAuth client can subscribe; the rest are synced by drift repair only', { agents: users.length, subscribed: capacity, uncovered: this.uncovered });
    }
    const ids = users.slice(0, capacity).map((u) => u.agentId);
    let expiresAt = Number.POSITIVE_INFINITY;
    const channels: { id: string; connectUri: string; expiresAt?: number }[] = [];
    for (let i = 0; i < ids.length || (i === 0 && ids.length === 0); i += perChannel) {
      const chunk = ids.slice(i, i + perChannel);
      const topics = chunk.flatMap((id) => (this.options.afterCallWork ? [activityTopic(id), conversationsTopic(id)] : [activityTopic(id)]));
      // A channel of the last connect that is not near its expiry is reused (its subscriptions replaced): a new
      // one would count against the 20-channel limit and evict the oldest.
      const previous = this.channels[channels.length];
      const reusable = previous && (previous.expiresAt === undefined || previous.expiresAt - this.options.now() > this.options.renewBeforeExpiryMs);
      let channel = reusable && (await this.subscribe(previous.id, topics)) ? previous : undefined;
      if (!channel) {
        channel = await this.createChannel();
        if (!(await this.subscribe(channel.id, topics))) throw new Error(`PUT /api/v2/notifications/channels/${channel.id}/subscriptions: the new channel is gone`);
      }
      channels.push(channel);
      this.channels = [...channels, ...this.channels.slice(channels.length)];
      if (gen !== this.generation || !this.running) return;
      const socket = await connectWebSocket(channel.connectUri);
      if (gen !== this.generation || !this.running) {
        socket.close();
        return;
      }
      this.sockets.push(socket);
      socket.on('message', (text: string) => this.onFrame(gen, text));
      socket.on('close', () => {
        if (gen === this.generation && this.running) this.scheduleReconnect(0, 'channel closed');
      });
      if (channel.expiresAt !== undefined) expiresAt = Math.min(expiresAt, channel.expiresAt);
      if (chunk.length === 0) break;
    }
    this.armWatchdog(gen);
    if (Number.isFinite(expiresAt)) {
      const renewIn = Math.max(expiresAt - this.options.now() - this.options.renewBeforeExpiryMs, 1000);
      this.renewTimer = setTimeout(() => this.scheduleReconnect(0, 'channel expiry'), renewIn);
      this.renewTimer.unref();
    }

    // The backfill: what changed while no channel was open (nothing is delivered while disconnected).
    const [definitions, current] = [await this.connector.presenceDefinitions(), await this.connector.listUsers()];
    if (gen !== this.generation || !this.running) return;
    const receivedAt = this.options.now();
    const changes = current.map(({ agentId, view }) => {
      const known = this.views.get(agentId);
      const merged: GenesysUserView = { ...view, afterCallWork: known?.afterCallWork };
      this.views.set(agentId, merged);
      return toAcdChange(agentId, merged, definitions, receivedAt);
    });
    await this.enqueue(changes);
    this.trusted = true;
    this.connects++;
    const held = this.held;
    this.held = [];
    for (const frame of held) this.handle(frame.topic, frame.body);
    await this.chain;
  }

  private async createChannel(): Promise<{ id: string; connectUri: string; expiresAt?: number }> {
    const answer = await this.connector.api.call(() => this.connector.api.notifications.postNotificationsChannels());
    this.connector.calls.reads++;
    const body = record(answer.body);
    if (answer.status < 200 || answer.status >= 300 || typeof body?.id !== 'string' || typeof body.connectUri !== 'string') {
      throw new Error(`POST /api/v2/notifications/channels: HTTP ${answer.status}`);
    }
    return { id: body.id, connectUri: body.connectUri, expiresAt: parseGenesysDate(body.expires) };
  }

  /** Replaces the channel's topics; false when the channel no longer exists (404: expired or evicted). */
  private async subscribe(channelId: string, topics: string[]): Promise<boolean> {
    const answer = await this.connector.api.call(() => this.connector.api.notifications.putNotificationsChannelSubscriptions(channelId, topics.map((id) => ({ id }))));
    this.connector.calls.reads++;
    if (answer.status === 404) return false;
    if (answer.status < 200 || answer.status >= 300) throw new Error(`PUT /api/v2/notifications/channels/${channelId}/subscriptions: HTTP ${answer.status}`);
    return true;
  }

  private onFrame(gen: number, text: string): void {
    if (gen !== this.generation) return;
    this.armWatchdog(gen);
    let message: Record<string, unknown> | undefined;
    try {
      message = record(JSON.parse(text));
    } catch {
      return;
    }
    const topic = typeof message?.topicName === 'string' ? message.topicName : '';
    if (topic === 'channel.metadata') return;
    if (topic === 'v2.system.socket_closing') {
      this.scheduleReconnect(0, 'maintenance close announced');
      return;
    }
    if (!TOPIC.test(topic)) return;
    if (!this.trusted) this.held.push({ topic, body: message?.eventBody });
    else this.handle(topic, message?.eventBody);
  }

  private handle(topic: string, rawBody: unknown): void {
    this.handledFrames++;
    const match = TOPIC.exec(topic);
    const body = record(rawBody);
    if (!match || !body) return;
    const [, agentId, kind] = match;
    const view: GenesysUserView = { ...this.views.get(agentId) };
    if (kind === 'activity') {
      const presence = record(body.presence);
      if (presence) {
        const def = record(presence.presenceDefinition);
        view.presence = {
          definitionId: typeof def?.id === 'string' ? def.id : undefined,
          systemPresence: typeof def?.systemPresence === 'string' ? def.systemPresence : undefined,
          modifiedAt: parseGenesysDate(presence.modifiedDate),
        };
      }
      const routing = record(body.routingStatus);
      if (routing) view.routing = { status: typeof routing.status === 'string' ? routing.status : undefined, startAt: parseGenesysDate(routing.startTime) };
    } else {
      const conversationId = typeof body.id === 'string' ? body.id : '';
      const participants = Array.isArray(body.participants) ? body.participants.map(record) : [];
      const mine = participants.filter((p) => p?.userId === agentId);
      let pending: number | undefined;
      let connected = false;
      for (const p of mine) {
        for (const value of Object.values(p ?? {})) {
          if (!Array.isArray(value)) continue;
          for (const comm of value.map(record)) {
            if (!comm || typeof comm.state !== 'string') continue;
            if (['connected', 'alerting', 'dialing', 'contacting'].includes(comm.state)) connected = true;
            const acw = record(comm.afterCallWork);
            if (acw?.state === 'pending') pending = parseGenesysDate(acw.startTime) ?? this.options.now();
          }
        }
      }
      if (pending !== undefined && !connected) view.afterCallWork = { conversationId, since: pending };
      else if (view.afterCallWork?.conversationId === conversationId) view.afterCallWork = undefined;
    }
    this.views.set(agentId, view);
    const definitions = this.connector.definitionsForEvents();
    const receivedAt = this.options.now();
    this.chain = this.chain.then(async () => {
      const change = toAcdChange(agentId, view, await definitions, receivedAt);
      await this.accept([change]);
    });
  }

  private enqueue(changes: Parameters<InboundSink['accept']>[0]): Promise<void> {
    this.chain = this.chain.then(() => this.accept(changes));
    return this.chain;
  }

  private async accept(changes: Parameters<InboundSink['accept']>[0]): Promise<void> {
    if (!this.sink || changes.length === 0) return;
    try {
      await this.sink.accept(changes);
    } catch (error) {
      // Genesys has no acknowledgement to hold back: what the sink refused is repaired by a drift repair.
      this.options.logger.warn('the sink refused Genesys changes; asking for a drift repair', { error: error instanceof Error ? error.message : String(error) });
      this.onGap?.('genesys: the sink refused changes');
    }
  }

  private scheduleReconnect(afterMs: number, reason: string): void {
    if (!this.running || this.reconnectTimer) return;
    this.trusted = false;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (this.running) void this.connect(reason);
    }, afterMs);
  }

  private armWatchdog(gen: number): void {
    if (this.watchdog) clearTimeout(this.watchdog);
    this.watchdog = setTimeout(() => {
      if (gen === this.generation) this.scheduleReconnect(0, 'heartbeat missed');
    }, this.options.heartbeatTimeoutMs);
    this.watchdog.unref();
  }

  private clearTimers(): void {
    for (const t of [this.reconnectTimer, this.watchdog, this.renewTimer]) if (t) clearTimeout(t);
    this.reconnectTimer = this.watchdog = this.renewTimer = undefined;
  }
}
