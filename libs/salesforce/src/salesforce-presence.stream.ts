import { ChangeSource, ConfigError, RetryableWriteError, type CheckpointStore, type InboundSink } from '@presence-sync/domain';
import { StreamingExtension } from 'jsforce/api/streaming';
import type { BayeuxMessage, FayeClient, FayeExtension } from './faye-client.types';
import { SalesforceAuthError, salesforceErrorMessage } from './salesforce-errors';
import { SILENT_SALESFORCE_LOGGER, type SalesforceLogger } from './salesforce-logger';
import type { SalesforceSession } from './salesforce-session';
import { closeFayeClient, createStreamingClient, MetaMonitorExtension, REPLAY_NEW, type ReplayExtension } from './streaming-client';
import { UspEventPipeline, type StatusNames, type WorkloadSource } from './usp-event.pipeline';
import { isUspStreamMessage } from './usp-lifecycle.translator';

export interface PresenceStreamOptions {
  /** PushTopic name; the stream subscribes to `/topic/<pushTopic>`. */
  pushTopic: string;
  /** See `UspEventPipeline`: how long a closed row waits for a newer row before it is Offline (ms). */
  offlineHoldMs: number;
  /** Proxy for the CometD long-poll. */
  proxyUrl?: string;
  /** `CheckpointStore` key of the replay id; default `salesforce:replay:/topic/<pushTopic>`. */
  checkpointKey?: string;
  /** See `UspEventPipeline`: the replay id is stored at most once per this many ms (default 1 s; 0: after every event). */
  checkpointEveryMs?: number;
  /** `start()` fails when the first subscription is not acknowledged within this time (ms). Default 30 s. */
  subscribeTimeoutMs?: number;
  /** Backoff of reconnect attempts after failures (ms). Defaults 1 s … 60 s. */
  retryMinMs?: number;
  retryMaxMs?: number;
  /** While the org's daily streaming event limit is exhausted: how often a drift repair is asked for (ms, default 60 s). */
  limitPollIntervalMs?: number;
  /** …and after how long streaming is tried again (ms, default 15 min). */
  limitRetryMs?: number;
  /**
   * Reads the open work of users whose presence row reported a load change; without it such updates are
   * dropped. A failed read asks for a drift repair (`onGap`), whose snapshot carries workloads.
   */
  workloads?: WorkloadSource;
}

/** How a restart rebuilds the client. */
interface RestartPlan {
  /** Log in again first (the token was refused). */
  reauth?: boolean;
  /** Subscribe from this replay id instead of the stored one. */
  replayFrom?: number;
  /** Tell the engine it may have missed changes (drift repair). */
  gap?: string;
}

const isAuthError = (text: string | undefined): boolean => !!text && (/^401\b/.test(text) || /^403::Handshake denied/i.test(text));
const isInvalidReplay = (text: string | undefined): boolean => !!text && /replay ?id/i.test(text) && /invalid|not found|wasn't found/i.test(text);
const isDailyLimit = (text: string | undefined): boolean => !!text && /daily limit/i.test(text);

/** How often a busy stream stores its replay id, ms. */
const CHECKPOINT_EVERY_MS = 1_000;

/** The replay id stored in the checkpoint, if it is a usable number. */
const parseReplayId = (text: string | undefined): number | undefined => {
  if (text === undefined || !/^-?\d+$/.test(text.trim())) return undefined;
  return Number(text);
};

/**
 * The Salesforce presence stream (`ChangeSource`): ONE CometD client subscribed to the USP PushTopic with
 * the replay extension, starting after the replay id stored in the `CheckpointStore` (none stored: new
 * events only, and the engine is told about the gap).
 *
 * Failure handling (Salesforce "Handling Streaming API Errors"):
 * - `403::Unknown client` (advice `handshake`): faye re-handshakes and resubscribes by itself; the replay
 *   extension asks for the events after the last one received.
 * - `401::Authentication invalid` / `403::Handshake denied` / `advice.reconnect = none` (jsforce's
 *   `StreamingExtension.AuthFailure`): log in again, build a new client, resume from the stored replay id
 *   (events this process already took in are dropped by replay id, so none arrives twice).
 * - A new access token from a REST call's re-login: the client is rebuilt the same way.
 * - `400::The replayId … was invalid` (older than the retention window), on the first subscribe or on
 *   faye's own resubscribe: subscribe again with -1 and call `onGap('replay id expired')`.
 * - `403::Organization total events daily limit exceeded`: alert, close the client, call `onGap`
 *   periodically so the engine polls the snapshot (drift repair), and try streaming again later.
 */
export class SalesforcePresenceStream extends ChangeSource {
  readonly channel: string;
  readonly checkpointKey: string;
  private onGap?: (reason: string) => void;
  private pipeline?: UspEventPipeline;
  private client?: FayeClient;
  private replay?: ReplayExtension;
  private clientToken?: string;
  private generation = 0;
  private running = false;
  private restarting = false;
  private failures = 0;
  private everSubscribed = false;
  /** The current client's subscription was acknowledged. */
  private acked = false;
  /** faye lost the connection to Salesforce (a request failed) and has not had an answer since. */
  private transportDown = false;
  private limited = false;
  private handshakes = 0;
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();
  private readonly wakers = new Set<() => void>();
  private pollTimer?: ReturnType<typeof setInterval>;
  private unlisten?: () => void;
  private pendingStart?: { resolve: () => void; reject: (e: Error) => void };
  private stopping?: Promise<void>;

  constructor(
    private readonly session: SalesforceSession,
    private readonly names: StatusNames,
    private readonly checkpoints: CheckpointStore,
    private readonly options: PresenceStreamOptions,
    private readonly logger: SalesforceLogger = SILENT_SALESFORCE_LOGGER,
  ) {
    super();
    this.channel = `/topic/${options.pushTopic}`;
    this.checkpointKey = options.checkpointKey ?? `salesforce:replay:${this.channel}`;
  }

  /** Whether the client is subscribed now and Salesforce answers it (for health checks and the stream lease). */
  get subscribed(): boolean {
    return this.running && !this.restarting && !this.limited && this.client !== undefined && this.acked && !this.transportDown;
  }

  /**
   * Logs in (bad credentials: `SalesforceAuthError`), subscribes from the stored replay id and resolves once
   * Salesforce acknowledged the subscription. Fails — and cleans up — when the PushTopic does not exist or no
   * subscription is acknowledged within `subscribeTimeoutMs`. Calling it while running does nothing.
   */
  async start(sink: InboundSink, onGap?: (reason: string) => void): Promise<void> {
    if (this.stopping) await this.stopping;
    if (this.running) return;
    this.onGap = onGap;
    this.running = true;
    this.restarting = false;
    this.failures = 0;
    this.everSubscribed = false;
    this.limited = false;
    try {
      await this.session.connect();
      const stored = parseReplayId(await this.checkpoints.get(this.checkpointKey));
      this.pipeline = new UspEventPipeline(sink, this.checkpoints, this.names, {
        checkpointKey: this.checkpointKey, offlineHoldMs: this.options.offlineHoldMs, startFrom: stored,
        checkpointEveryMs: this.options.checkpointEveryMs ?? CHECKPOINT_EVERY_MS,
        retryMinMs: this.options.retryMinMs, retryMaxMs: this.options.retryMaxMs,
        workloads: this.options.workloads,
        onWorkloadReadFailed: (e) => this.gap(`Omni-Channel work could not be read (${salesforceErrorMessage(e)})`),
      }, this.logger);
      this.unlisten = this.session.onToken(({ accessToken }) => {
        if (this.running && !this.restarting && this.client && accessToken !== this.clientToken) {
          this.restart('a new access token', {});
        }
      });
      // A first start has nothing to resume from: expected, so said once at info; drift repair reads the present.
      if (stored === undefined) this.gap('no stored replay id (first start): subscribing for new events only', 'info');
      const ready = new Promise<void>((resolve, reject) => {
        this.pendingStart = { resolve, reject };
      });
      this.open(stored ?? REPLAY_NEW);
      await this.bounded(ready, this.options.subscribeTimeoutMs ?? 30_000);
      this.logger.info('Salesforce presence stream started', { channel: this.channel, replayFrom: stored ?? REPLAY_NEW, subscribed: this.subscribed });
    } catch (e) {
      this.pendingStart = undefined;
      await this.stop();
      throw e;
    }
  }

  /** Closes the client, drops held Offline candidates (not checkpointed: a restart decides them again), waits for the event in progress. Safe twice. */
  stop(): Promise<void> {
    if (this.stopping) return this.stopping;
    if (!this.running) return Promise.resolve();
    this.running = false;
    this.stopping = (async () => {
      for (const timer of this.timers) clearTimeout(timer);
      this.timers.clear();
      for (const wake of [...this.wakers]) wake();
      const pending = this.pendingStart;
      this.pendingStart = undefined;
      pending?.reject(new RetryableWriteError('stream-stopped', 'the presence stream was stopped while starting'));
      if (this.pollTimer) clearInterval(this.pollTimer);
      this.pollTimer = undefined;
      this.unlisten?.();
      this.unlisten = undefined;
      await this.closeClient();
      await this.pipeline?.close();
      this.pipeline = undefined;
      this.logger.info('Salesforce presence stream stopped', { channel: this.channel });
    })().finally(() => {
      this.stopping = undefined;
    });
    return this.stopping;
  }

  /** Resolves when every event received so far has been handed to the sink (or is held as an Offline candidate). */
  async drained(): Promise<void> {
    await this.pipeline?.drained();
  }

  private open(replayFrom: number): void {
    const generation = ++this.generation;
    const monitor = new MetaMonitorExtension((message) => this.onMeta(generation, message));
    // Fires on `advice.reconnect = none` (/meta/connect or /meta/handshake) and swallows that reply.
    const authFailure = new StreamingExtension.AuthFailure((message: BayeuxMessage) => {
      if (generation !== this.generation) return;
      this.logger.warn('Salesforce refused the streaming session: logging in again', { error: message.error, reason: message.ext?.sfdc?.failureReason });
      this.restart('streaming authentication failed', { reauth: true });
    }) as FayeExtension;
    const { client, replay } = createStreamingClient({
      connection: this.session.connection, channel: this.channel, replayFrom, extensions: [monitor, authFailure], proxyUrl: this.options.proxyUrl,
    });
    this.client = client;
    this.replay = replay;
    this.clientToken = this.session.accessToken;
    this.handshakes = 0;
    this.acked = false;
    this.transportDown = false;
    // A failed request (network, proxy, Salesforce away) reaches no extension; faye retries it silently. Its
    // transport events are the only sign, and a subscription that cannot be polled delivers nothing.
    client.bind('transport:down', () => {
      if (generation === this.generation) this.transportDown = true;
    });
    client.bind('transport:up', () => {
      if (generation === this.generation) this.transportDown = false;
    });
    if (replayFrom === REPLAY_NEW && this.everSubscribed) this.gap('resubscribed for new events only (replay id -1)');
    client.subscribe(this.channel, (data) => this.onData(data));
  }

  private onData(data: unknown): void {
    if (!isUspStreamMessage(data)) {
      this.logger.warn('unreadable message on the presence channel: ignored', { channel: this.channel });
      return;
    }
    this.pipeline?.push(data);
  }

  /** Every meta reply of the current client. */
  private onMeta(generation: number, message: BayeuxMessage): void {
    if (generation !== this.generation || !this.running) return;
    const error = message.error;
    const reason = message.ext?.sfdc?.failureReason;
    switch (message.channel) {
      case '/meta/handshake':
        if (message.successful) {
          this.handshakes += 1;
          if (this.handshakes > 1) {
            this.logger.info('Salesforce streaming re-handshake (the server forgot the client): resubscribing', { replayFrom: this.replay?.replayId });
            if (this.replay?.replayId === REPLAY_NEW) this.gap('resubscribed without a replay id after a reconnect');
          }
        } else if (isAuthError(error) || isAuthError(reason)) {
          // `advice.reconnect = none` is handled by the AuthFailure extension; this covers a denial faye would retry forever.
          if (message.advice?.reconnect !== 'none') this.restart('streaming handshake denied', { reauth: true });
        } else if (isDailyLimit(error)) {
          this.limit(error as string);
        } else {
          this.logger.warn('Salesforce streaming handshake failed (faye retries)', { error });
        }
        return;
      case '/meta/connect':
        if (message.successful) return;
        if (isDailyLimit(error)) this.limit(error as string);
        else if (isAuthError(error) && message.advice?.reconnect !== 'none') this.restart('streaming connect refused', { reauth: true });
        else this.logger.debug('Salesforce streaming connect failed (faye reconnects)', { error, advice: message.advice?.reconnect });
        return;
      case '/meta/subscribe':
        if (message.subscription !== this.channel) return;
        if (message.successful) this.subscribedOk();
        else this.subscribeFailed(error);
        return;
      default:
        return;
    }
  }

  private subscribedOk(): void {
    this.acked = true;
    this.failures = 0;
    this.everSubscribed = true;
    this.limited = false;
    this.pendingStart?.resolve();
    this.pendingStart = undefined;
  }

  private subscribeFailed(error: string | undefined): void {
    if (isInvalidReplay(error)) {
      this.logger.warn('the stored replay id is no longer retained: subscribing for new events only', { error, replayFrom: this.replay?.replayId });
      this.restart('replay id invalid', { replayFrom: REPLAY_NEW, gap: 'replay id expired' });
    } else if (isDailyLimit(error)) {
      this.limit(error as string);
    } else if (isAuthError(error)) {
      this.restart('subscribe refused', { reauth: true });
    } else if (this.pendingStart) {
      const reject = this.pendingStart.reject;
      this.pendingStart = undefined;
      reject(new ConfigError(`cannot subscribe to ${this.channel}: ${error ?? 'refused'} (run \`presence-sync salesforce setup\` to create the PushTopic)`));
    } else {
      this.logger.error('Salesforce refused the presence subscription: trying again', { error, channel: this.channel });
      this.restart('subscribe refused', {});
    }
  }

  /** The org's daily event allocation is used up: no streaming until later; drift repair polls meanwhile. */
  private limit(error: string): void {
    if (this.limited) return;
    this.limited = true;
    this.logger.error('ALERT: Salesforce daily streaming event limit exceeded: presence changes are polled until streaming works again', {
      error, retryInMs: this.options.limitRetryMs ?? 900_000,
    });
    void this.closeClient();
    this.gap('daily event limit exceeded: streaming paused, polling');
    this.pollTimer = setInterval(() => this.gap('streaming paused (daily event limit): polling'), this.options.limitPollIntervalMs ?? 60_000);
    // Boot does not fail on it: the daemon works, slower, by polling.
    this.pendingStart?.resolve();
    this.pendingStart = undefined;
    this.later(this.options.limitRetryMs ?? 900_000, () => {
      if (this.pollTimer) clearInterval(this.pollTimer);
      this.pollTimer = undefined;
      this.limited = false;
      this.restart('retrying after the daily event limit', {});
    });
  }

  /**
   * Rebuilds the client (one rebuild at a time): close the old client, optionally log in again, let the
   * pipeline finish what it received (so the stored replay id is current), then subscribe from the stored
   * replay id (or `plan.replayFrom`). Failures are retried with backoff; during `start()`, bad credentials
   * end the start.
   */
  private restart(reason: string, plan: RestartPlan): void {
    if (!this.running || this.restarting) return;
    this.restarting = true;
    this.failures += 1;
    const attempt = this.failures;
    this.logger.info('rebuilding the Salesforce streaming client', { reason, attempt });
    void (async () => {
      try {
        await this.closeClient();
        if (plan.gap) this.gap(plan.gap);
        if (attempt > 1) await this.wait(this.backoff(attempt - 1));
        if (!this.running) return;
        if (plan.reauth) await this.session.reauthenticate(reason, this.clientToken);
        await this.pipeline?.drained();
        if (!this.running) return;
        let from = plan.replayFrom;
        if (from === undefined) from = await this.resumePoint();
        else if (from === REPLAY_NEW) this.pipeline?.resetSeen();
        this.restarting = false;
        this.open(from);
      } catch (e) {
        this.restarting = false;
        if (!this.running) return;
        if (e instanceof SalesforceAuthError && this.pendingStart) {
          const reject = this.pendingStart.reject;
          this.pendingStart = undefined;
          reject(e);
          return;
        }
        const retryInMs = this.backoff(attempt);
        this.logger.error('could not rebuild the Salesforce streaming client: trying again', { reason, error: salesforceErrorMessage(e), retryInMs });
        this.later(retryInMs, () => this.restart(reason, plan));
      }
    })();
  }

  /** The stored replay id; else the last one handled in this process; else new events only. */
  private async resumePoint(): Promise<number> {
    let stored: number | undefined;
    try {
      stored = parseReplayId(await this.checkpoints.get(this.checkpointKey));
    } catch (e) {
      this.logger.warn('could not read the stored replay id', { error: salesforceErrorMessage(e) });
    }
    return stored ?? this.pipeline?.lastHandled ?? REPLAY_NEW;
  }

  private async closeClient(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.generation += 1;
    if (client) await closeFayeClient(client);
  }

  private gap(reason: string, level: 'warn' | 'info' = 'warn'): void {
    if (level === 'warn') this.logger.warn('presence changes may have been missed: asking for a drift repair', { reason });
    else this.logger.info('asking for a drift repair', { reason });
    try {
      this.onGap?.(reason);
    } catch (e) {
      this.logger.warn('onGap failed', { error: salesforceErrorMessage(e) });
    }
  }

  private backoff(attempt: number): number {
    const min = this.options.retryMinMs ?? 1000;
    const max = this.options.retryMaxMs ?? 60_000;
    return Math.min(max, min * 2 ** Math.max(0, attempt - 1));
  }

  private later(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (this.running) fn();
    }, ms);
    this.timers.add(timer);
  }

  /** A backoff pause that `stop()` cuts short. */
  private wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.wakers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.wakers.add(wake);
    });
  }

  private bounded(promise: Promise<void>, ms: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new RetryableWriteError('stream-unavailable', `Salesforce did not acknowledge the subscription to ${this.channel} within ${ms} ms`)), ms);
    });
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
  }
}
