import { CheckpointStore, ConfigError, InboundSink, RetryableWriteError, type InboundChange, type IntakeResult } from '@presence-sync/domain';
import type { BayeuxMessage, FayeExtension } from './faye-client.types';
import { SalesforcePresenceStream } from './salesforce-presence.stream';
import type { SalesforceSession, TokenListener } from './salesforce-session';
import type { StatusNames } from './usp-event.pipeline';

const CHANNEL = '/topic/PresenceSyncUSP';
const KEY = `salesforce:replay:${CHANNEL}`;

/**
 * A stand-in for faye's client, driven by the test: what the stream sends passes its extensions' outgoing
 * stage, and `reply()` runs a server message through their incoming stage as faye would.
 */
class FakeFayeClient {
  _state = 3;
  _advice: { reconnect?: string } = { reconnect: 'retry' };
  _dispatcher = { proxy: {} as { origin?: string }, close: () => undefined, _envelopes: new Map() };
  readonly sent: BayeuxMessage[] = [];
  private listener?: (data: unknown) => void;
  disconnected = false;

  constructor(private readonly extensions: FayeExtension[]) {}

  addExtension(ext: FayeExtension): void {
    this.extensions.push(ext);
  }
  setHeader(): void {}
  private readonly transportListeners = new Map<string, (() => void)[]>();
  bind(event: string, listener: () => void): void {
    this.transportListeners.set(event, [...(this.transportListeners.get(event) ?? []), listener]);
  }
  /** faye's dispatcher: a request failed (`down`), or an answer came after a failure (`up`). */
  transport(state: 'up' | 'down'): void {
    for (const listener of this.transportListeners.get(`transport:${state}`) ?? []) listener();
  }

  subscribe(channel: string, listener: (data: unknown) => void) {
    this.listener = listener;
    this.send({ channel: '/meta/subscribe', subscription: channel });
    return { then: () => undefined, cancel: () => undefined };
  }

  disconnect() {
    this.disconnected = true;
    this._state = 4;
    return undefined;
  }

  /** A message leaving the client (e.g. faye's own resubscribe after a re-handshake). */
  send(message: BayeuxMessage): void {
    let out: BayeuxMessage | undefined = message;
    for (const ext of this.extensions) {
      if (!out || !ext.outgoing) continue;
      let next: BayeuxMessage | undefined;
      ext.outgoing(out, (m) => {
        next = m;
      });
      out = next;
    }
    if (out) this.sent.push(out);
  }

  /** A message arriving from the server; returns whether it came through (AuthFailure swallows some). */
  reply(message: BayeuxMessage): boolean {
    let out: BayeuxMessage | undefined = message;
    for (const ext of this.extensions) {
      if (!out || !ext.incoming) continue;
      let next: BayeuxMessage | undefined;
      ext.incoming(out, (m) => {
        next = m;
      });
      out = next;
    }
    if (out && out.data !== undefined && out.channel === CHANNEL) this.listener?.(out.data);
    return out !== undefined;
  }

  subscribed(): void {
    this.reply({ channel: '/meta/subscribe', subscription: CHANNEL, successful: true });
  }

  get closedForGood(): boolean {
    return this._advice.reconnect === 'none' && this._state === 4;
  }

  replayAsked(): unknown {
    const subscribe = this.sent.filter((m) => m.channel === '/meta/subscribe').at(-1);
    return (subscribe?.ext?.replay as Record<string, unknown> | undefined)?.[CHANNEL];
  }
}

class FakeSession {
  accessToken = 'token-1';
  logins = 0;
  readonly clients: FakeFayeClient[] = [];
  private readonly listeners = new Set<TokenListener>();
  readonly connection = {
    instanceUrl: 'https://acme.my.salesforce.com',
    streaming: {
      createClient: (extensions: FayeExtension[]) => {
        const client = new FakeFayeClient([...extensions]);
        this.clients.push(client);
        return client;
      },
    },
  };
  async connect() {
    return { userId: '005', organizationId: '00D', instanceUrl: this.connection.instanceUrl, identityUrl: '' };
  }
  async reauthenticate(): Promise<void> {
    this.logins += 1;
    this.newToken(`token-${this.logins + 1}`);
  }
  onToken(listener: TokenListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  newToken(token: string): void {
    this.accessToken = token;
    for (const l of this.listeners) l({ accessToken: token, reason: 'test' });
  }
  get last(): FakeFayeClient {
    return this.clients[this.clients.length - 1];
  }
}

class Sink extends InboundSink {
  readonly got: InboundChange[] = [];
  async accept(changes: InboundChange[]): Promise<IntakeResult> {
    this.got.push(...changes);
    return { accepted: changes.length, duplicates: 0 };
  }
}

class Checkpoints extends CheckpointStore {
  readonly values = new Map<string, string>();
  async get(key: string): Promise<string | undefined> {
    return this.values.get(key);
  }
  async set(key: string, value: string): Promise<void> {
    this.values.set(key, value);
  }
}

const names: StatusNames = { cachedNameOf: () => 'Lunch', nameOf: async () => 'Lunch' };

/** Lets queued promise callbacks run until `predicate` holds (no timers involved). */
async function settle(predicate: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (predicate()) return;
    await Promise.resolve();
  }
  throw new Error(`never happened: ${what}`);
}

function setup(stored?: string, options: Partial<ConstructorParameters<typeof SalesforcePresenceStream>[3]> = {}) {
  const session = new FakeSession();
  const checkpoints = new Checkpoints();
  if (stored !== undefined) checkpoints.values.set(KEY, stored);
  const sink = new Sink();
  const gaps: string[] = [];
  const stream = new SalesforcePresenceStream(session as unknown as SalesforceSession, names, checkpoints, {
    pushTopic: 'PresenceSyncUSP', offlineHoldMs: 0, retryMinMs: 10, retryMaxMs: 20, subscribeTimeoutMs: 5_000, ...options,
  });
  const start = async () => {
    const started = stream.start(sink, (reason) => gaps.push(reason));
    await settle(() => session.clients.length === 1, 'a client');
    return started;
  };
  return { session, checkpoints, sink, gaps, stream, start };
}

const event = (replayId: number) => ({
  channel: CHANNEL,
  data: { event: { type: 'created', replayId, createdDate: '2026-03-02T10:00:00.000Z' }, sobject: { Id: `0Bz${replayId}`, UserId: '005A', ServicePresenceStatusId: '0N5A', IsCurrentState: true } },
});

describe(SalesforcePresenceStream.name, () => {
  let stop: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await stop?.();
    stop = undefined;
    jest.useRealTimers();
  });

  it('subscribes with -1 and reports the gap when no replay id is stored', async () => {
    const t = setup();
    stop = () => t.stream.stop();
    const started = t.start();
    const client = await settle(() => t.session.clients.length === 1, 'client').then(() => t.session.last);
    expect(client.replayAsked()).toBe(-1);
    client.subscribed();
    await started;
    expect(t.gaps).toEqual(['no stored replay id (first start): subscribing for new events only']);
    expect(t.stream.subscribed).toBe(true);
  });

  it('subscribes after the stored replay id, and stores ids of what it hands on', async () => {
    const t = setup('41');
    stop = () => t.stream.stop();
    const started = t.start();
    await settle(() => t.session.clients.length === 1, 'client');
    expect(t.session.last.replayAsked()).toBe(41);
    t.session.last.subscribed();
    await started;
    expect(t.gaps).toEqual([]);
    t.session.last.reply(event(43));
    await t.stream.drained();
    expect(t.sink.got).toHaveLength(1);
    expect(t.checkpoints.values.get(KEY)).toBe('43');
  });

  it('fails the start with a ConfigError when the PushTopic does not exist, and closes the client', async () => {
    const t = setup();
    const started = t.start();
    await settle(() => t.session.clients.length === 1, 'client');
    t.session.last.reply({ channel: '/meta/subscribe', subscription: CHANNEL, successful: false, error: `400::The channel you requested to subscribe to does not exist {${CHANNEL}}` });
    await expect(started).rejects.toThrow(ConfigError);
    await expect(started).rejects.toThrow(/salesforce setup/);
    expect(t.session.last.closedForGood).toBe(true);
  });

  it('fails the start when no subscription is acknowledged in time', async () => {
    jest.useFakeTimers();
    const t = setup(undefined, { subscribeTimeoutMs: 1000 });
    const started = t.stream.start(t.sink);
    const outcome = started.then(() => 'resolved', (e: unknown) => e);
    await jest.advanceTimersByTimeAsync(1000);
    const e = await outcome;
    expect(e).toBeInstanceOf(RetryableWriteError);
    expect(e).toMatchObject({ reason: 'stream-unavailable' });
    expect(t.session.last.closedForGood).toBe(true);
  });

  it('resubscribes with -1 and reports the gap when the stored replay id was invalid', async () => {
    const t = setup('7');
    stop = () => t.stream.stop();
    const started = t.start();
    await settle(() => t.session.clients.length === 1, 'client');
    t.session.last.reply({ channel: '/meta/subscribe', subscription: CHANNEL, successful: false, error: '400::The replayId {7} you provided was invalid.  Please provide a valid ID, -1 to replay all new events, or -2 to replay all events.' });
    await settle(() => t.session.clients.length === 2, 'a new client');
    expect(t.session.clients[0].closedForGood).toBe(true);
    expect(t.session.last.replayAsked()).toBe(-1);
    t.session.last.subscribed();
    await started;
    expect(t.gaps).toEqual(['replay id expired']);
  });

  it('notices a failed resubscribe after faye re-handshaked by itself (which faye reports nowhere)', async () => {
    const t = setup('7');
    stop = () => t.stream.stop();
    const started = t.start();
    await settle(() => t.session.clients.length === 1, 'client');
    const client = t.session.last;
    client.reply({ channel: '/meta/handshake', successful: true, clientId: 'a' });
    client.subscribed();
    await started;
    client.reply(event(9));
    // 403::Unknown client → faye handshakes again and resubscribes from the last event received.
    client.reply({ channel: '/meta/connect', successful: false, error: '403::Unknown client', advice: { reconnect: 'handshake' } });
    client.reply({ channel: '/meta/handshake', successful: true, clientId: 'b' });
    client.send({ channel: '/meta/subscribe', subscription: CHANNEL });
    expect(client.replayAsked()).toBe(9);
    client.reply({ channel: '/meta/subscribe', subscription: CHANNEL, successful: false, error: '400::The replayId {9} you provided was invalid.' });
    await settle(() => t.session.clients.length === 2, 'a new client');
    expect(t.session.last.replayAsked()).toBe(-1);
    expect(t.gaps).toContain('replay id expired');
  });

  it('logs in again and resumes from the stored id when the session is refused (AuthFailure, reconnect none)', async () => {
    const t = setup('20');
    stop = () => t.stream.stop();
    const started = t.start();
    await settle(() => t.session.clients.length === 1, 'client');
    t.session.last.subscribed();
    await started;
    t.session.last.reply(event(22));
    await t.stream.drained();
    const passed = t.session.last.reply({ channel: '/meta/connect', successful: false, error: '401::Authentication invalid', advice: { reconnect: 'none' } });
    expect(passed).toBe(false);
    await settle(() => t.session.clients.length === 2, 'a new client');
    expect(t.session.logins).toBe(1);
    expect(t.session.clients[0].closedForGood).toBe(true);
    expect(t.session.last.replayAsked()).toBe(22);
    // Salesforce may send again what came before the stored id moved: it is not handed on twice.
    t.session.last.subscribed();
    t.session.last.reply(event(22));
    t.session.last.reply(event(24));
    await t.stream.drained();
    expect(t.sink.got.map((c) => c.eventId)).toEqual(['usp:0Bz22:created', 'usp:0Bz24:created']);
  });

  it('logs in again on a denied handshake that faye would otherwise retry forever', async () => {
    const t = setup('20');
    stop = () => t.stream.stop();
    const started = t.start();
    await settle(() => t.session.clients.length === 1, 'client');
    t.session.last.reply({ channel: '/meta/handshake', successful: false, error: '403::Handshake denied', ext: { sfdc: { failureReason: '401::Authentication invalid' } }, advice: { reconnect: 'handshake' } });
    await settle(() => t.session.clients.length === 2, 'a new client');
    expect(t.session.logins).toBe(1);
    t.session.last.subscribed();
    await started;
  });

  it('rebuilds the client when another part of the daemon got a new token', async () => {
    const t = setup('20');
    stop = () => t.stream.stop();
    const started = t.start();
    await settle(() => t.session.clients.length === 1, 'client');
    t.session.last.subscribed();
    await started;
    t.session.newToken('token-from-rest');
    await settle(() => t.session.clients.length === 2, 'a new client');
    expect(t.session.logins).toBe(0);
    expect(t.session.last.replayAsked()).toBe(20);
  });

  it('alerts and polls by drift repair while the daily event limit is exceeded, then tries streaming again', async () => {
    jest.useFakeTimers();
    const t = setup('20', { limitPollIntervalMs: 60_000, limitRetryMs: 15 * 60_000 });
    stop = () => t.stream.stop();
    const started = t.stream.start(t.sink, (reason) => t.gaps.push(reason));
    await jest.advanceTimersByTimeAsync(0);
    t.session.last.reply({ channel: '/meta/subscribe', subscription: CHANNEL, successful: false, error: '403::Organization total events daily limit exceeded' });
    // Boot goes on: the daemon works by polling.
    await started;
    expect(t.gaps).toEqual(['daily event limit exceeded: streaming paused, polling']);
    expect(t.stream.subscribed).toBe(false);
    await jest.advanceTimersByTimeAsync(3 * 60_000);
    expect(t.gaps.filter((g) => g.includes('polling'))).toHaveLength(4);
    await jest.advanceTimersByTimeAsync(12 * 60_000);
    expect(t.session.clients).toHaveLength(2);
    expect(t.session.last.replayAsked()).toBe(20);
    t.session.last.subscribed();
    const gapsAfter = t.gaps.length;
    await jest.advanceTimersByTimeAsync(5 * 60_000);
    expect(t.gaps).toHaveLength(gapsAfter);
    expect(t.stream.subscribed).toBe(true);
  });

  it('is not subscribed while faye cannot reach Salesforce, and is again once it can; an old client\'s events are ignored', async () => {
    const t = setup('20');
    stop = () => t.stream.stop();
    const started = t.start();
    await settle(() => t.session.clients.length === 1, 'client');
    const first = t.session.last;
    first.subscribed();
    await started;
    expect(t.stream.subscribed).toBe(true);
    first.transport('down');
    expect(t.stream.subscribed).toBe(false);
    first.transport('up');
    expect(t.stream.subscribed).toBe(true);
    // A rebuilt client starts with a working transport; the old one's late events change nothing.
    first.transport('down');
    t.session.newToken('token-from-rest');
    await settle(() => t.session.clients.length === 2, 'a new client');
    t.session.last.subscribed();
    expect(t.stream.subscribed).toBe(true);
    first.transport('down');
    expect(t.stream.subscribed).toBe(true);
  });

  it('stops idempotently, closing the client for good', async () => {
    const t = setup('20');
    const started = t.start();
    await settle(() => t.session.clients.length === 1, 'client');
    t.session.last.subscribed();
    await started;
    await Promise.all([t.stream.stop(), t.stream.stop()]);
    await t.stream.stop();
    expect(t.session.last.closedForGood).toBe(true);
    expect(t.stream.subscribed).toBe(false);
  });
});
