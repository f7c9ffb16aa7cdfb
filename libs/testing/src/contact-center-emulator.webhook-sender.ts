import { createHmac } from 'node:crypto';
import { Agent as HttpAgent, request as httpRequest, type ClientRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { AcdState } from '@presence-sync/domain';

/** One agent-state event as contract v1 puts it on the wire. */
export interface EmulatorWebhookEvent {
  eventId: string;
  /** ISO-8601 with milliseconds and `Z`. */
  occurredAt: string;
  agentId: string;
  state: AcdState;
  previous?: AcdState;
  /** Monotonic per agent. */
  sequence: number;
  /** The `requestId` (Idempotency-Key) of the PUT that caused this change; absent for the agent's own or contact changes. */
  requestId?: string;
}

/** Where and how the emulator reports state changes. */
export interface EmulatorWebhookOptions {
  /** The receiver, e.g. the daemon's `http://127.0.0.1:3000/v1/acd/events`. */
  url: string;
  /** HMAC secret shared with the receiver. */
  secret: string;
  /** Buffer events and send `{ "events": [...] }` instead of one request per event. Default false. */
  batch?: boolean;
  /** Batch mode: how long the first buffered event waits for company, in ms. Default 25. */
  flushIntervalMs?: number;
  /** Batch mode: events per request. Default 500 (the contract's limit). */
  maxBatchSize?: number;
  /** Tries per request (first send included) before the events are dropped. Default 5. */
  maxAttempts?: number;
  /** Pause before the first retry, doubled for each further one, in ms. Default 50. */
  retryDelayMs?: number;
  /** Per request, in ms. Default 5000. */
  timeoutMs?: number;
  /** Requests in flight at once (different agents; one agent's events always go one after another). Default 8. */
  concurrency?: number;
}

/** Counters for assertions and the demo page. */
export interface WebhookDeliveryStats {
  /** Events waiting or in flight. */
  pending: number;
  /** Events the receiver acknowledged with a 2xx. */
  delivered: number;
  /** HTTP requests that got a 2xx. */
  requestsOk: number;
  /** HTTP requests that failed (non-2xx, network error, timeout); each is retried until `maxAttempts`. */
  failedAttempts: number;
  /** Events given up after `maxAttempts`. */
  dropped: number;
  lastError?: string;
}

export interface WebhookAttempt {
  ok: boolean;
  /** 1 for the first send. */
  attempt: number;
  status?: number;
  error?: string;
  events: EmulatorWebhookEvent[];
  /** True when this was the last try for these events (delivered or dropped). */
  final: boolean;
}

const BATCH_LANE = '*';

/**
 * Delivers signed webhooks with retries. Each agent's events travel in order: a lane per agent (one request
 * at a time per lane), or a single lane in batch mode, since a batch mixes agents.
 */
export class EmulatorWebhookSender {
  private readonly options: Required<EmulatorWebhookOptions>;
  private readonly target: URL;
  private readonly agent: HttpAgent;
  private readonly lanes = new Map<string, EmulatorWebhookEvent[]>();
  /** Lanes waiting for a free slot, FIFO; consumed by index since `shift()` on 50,000 lanes is quadratic. */
  private ready: string[] = [];
  private readyHead = 0;
  private readonly scheduled = new Set<string>();
  private readonly busy = new Set<string>();
  private readonly requests = new Set<ClientRequest>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly idleWaiters: Array<() => void> = [];
  private batchTimer?: NodeJS.Timeout;
  private closed = false;

  constructor(
    options: EmulatorWebhookOptions,
    private readonly stats: WebhookDeliveryStats,
    private readonly now: () => number,
    private readonly onAttempt: (attempt: WebhookAttempt) => void,
  ) {
    this.options = {
      batch: false,
      flushIntervalMs: 25,
      maxBatchSize: 500,
      maxAttempts: 5,
      retryDelayMs: 50,
      timeoutMs: 5_000,
      concurrency: 8,
      ...options,
    };
    this.target = new URL(options.url);
    if (this.target.protocol !== 'http:' && this.target.protocol !== 'https:') {
      throw new Error(`webhook url must be http(s), got ${options.url}`);
    }
    const AgentClass = this.target.protocol === 'https:' ? HttpsAgent : HttpAgent;
    this.agent = new AgentClass({ keepAlive: true, maxSockets: this.options.concurrency });
  }

  enqueue(event: EmulatorWebhookEvent): void {
    if (this.closed) return;
    const lane = this.options.batch ? BATCH_LANE : event.agentId;
    let queue = this.lanes.get(lane);
    if (!queue) this.lanes.set(lane, (queue = []));
    queue.push(event);
    this.stats.pending++;
    if (this.busy.has(lane) || this.scheduled.has(lane)) return;
    if (!this.options.batch || queue.length >= this.options.maxBatchSize) this.schedule(lane);
    else this.batchTimer ??= setTimeout(() => this.schedule(BATCH_LANE), this.options.flushIntervalMs);
  }

  /** Resolves once every queued event is delivered or dropped; buffered batches go out at once. */
  flush(timeoutMs = 10_000): Promise<void> {
    if (this.batchTimer && !this.busy.has(BATCH_LANE)) this.schedule(BATCH_LANE);
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.idleWaiters.indexOf(done);
        if (i >= 0) this.idleWaiters.splice(i, 1);
        reject(new Error(`webhooks not flushed within ${timeoutMs} ms (${this.stats.pending} pending)`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      this.idleWaiters.push(done);
    });
  }

  /** Stops at once: queued events are dropped, requests in flight are aborted, sockets are closed. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.batchTimer) clearTimeout(this.batchTimer);
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const request of this.requests) request.destroy();
    this.requests.clear();
    let queued = 0;
    for (const queue of this.lanes.values()) queued += queue.length;
    this.lanes.clear();
    this.stats.pending = Math.max(0, this.stats.pending - queued);
    this.agent.destroy();
    this.settleIdle();
  }

  private isIdle(): boolean {
    return this.stats.pending === 0 && this.busy.size === 0;
  }

  private settleIdle(): void {
    if (!this.isIdle() && !this.closed) return;
    for (const done of this.idleWaiters.splice(0)) done();
  }

  private schedule(lane: string): void {
    if (lane === BATCH_LANE && this.batchTimer) {
      clearTimeout(this.batchTimer);
      this.batchTimer = undefined;
    }
    if (this.closed || this.scheduled.has(lane) || this.busy.has(lane) || !this.lanes.get(lane)?.length) return;
    this.scheduled.add(lane);
    this.ready.push(lane);
    this.pump();
  }

  private pump(): void {
    while (!this.closed && this.busy.size < this.options.concurrency && this.readyHead < this.ready.length) {
      const lane = this.ready[this.readyHead++];
      if (this.readyHead >= 1024 && this.readyHead * 2 >= this.ready.length) {
        this.ready = this.ready.slice(this.readyHead);
        this.readyHead = 0;
      }
      this.scheduled.delete(lane);
      const queue = this.lanes.get(lane);
      if (!queue?.length) continue;
      const events = queue.splice(0, this.options.batch ? this.options.maxBatchSize : 1);
      this.busy.add(lane);
      void this.deliver(events).finally(() => {
        this.busy.delete(lane);
        this.stats.pending = Math.max(0, this.stats.pending - events.length);
        if (this.lanes.get(lane)?.length) this.schedule(lane);
        else this.lanes.delete(lane);
        this.pump();
        this.settleIdle();
      });
    }
  }

  private async deliver(events: EmulatorWebhookEvent[]): Promise<void> {
    const body = Buffer.from(JSON.stringify(this.options.batch ? { events } : events[0]));
    for (let attempt = 1; attempt <= this.options.maxAttempts; attempt++) {
      if (this.closed) return;
      const final = attempt === this.options.maxAttempts;
      // Signed at each try: a retry minutes later must not carry a timestamp the receiver finds stale.
      const timestamp = String(Math.floor(this.now() / 1000));
      const signature = `sha256=${createHmac('sha256', this.options.secret).update(`${timestamp}.`).update(body).digest('hex')}`;
      const outcome = await this.post(body, timestamp, signature);
      if (this.closed) return;
      if (outcome.status !== undefined && outcome.status >= 200 && outcome.status < 300) {
        this.stats.delivered += events.length;
        this.stats.requestsOk++;
        this.onAttempt({ ok: true, attempt, status: outcome.status, events, final: true });
        return;
      }
      this.stats.failedAttempts++;
      const error = outcome.error ?? `HTTP ${outcome.status}`;
      this.stats.lastError = error;
      if (final) this.stats.dropped += events.length;
      this.onAttempt({ ok: false, attempt, status: outcome.status, error, events, final });
      if (!final) await this.pause(this.options.retryDelayMs * 2 ** (attempt - 1));
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, ms);
      this.timers.add(timer);
    });
  }

  private post(body: Buffer, timestamp: string, signature: string): Promise<{ status?: number; error?: string }> {
    return new Promise((resolve) => {
      const send = this.target.protocol === 'https:' ? httpsRequest : httpRequest;
      const request = send(this.target, {
        method: 'POST',
        agent: this.agent,
        headers: {
          'Content-Type': 'application/json',
          'Content-Length': body.length,
          'X-Presence-Timestamp': timestamp,
          'X-Presence-Signature': signature,
          'User-Agent': 'contact-center-emulator',
        },
      });
      this.requests.add(request);
      const finish = (outcome: { status?: number; error?: string }) => {
        this.requests.delete(request);
        resolve(outcome);
      };
      request.setTimeout(this.options.timeoutMs, () => request.destroy(new Error(`no answer within ${this.options.timeoutMs} ms`)));
      request.on('response', (response) => {
        // Drained so the keep-alive socket can carry the next request.
        response.resume();
        response.on('end', () => finish({ status: response.statusCode }));
        response.on('error', (error) => finish({ error: error.message }));
      });
      request.on('error', (error) => finish({ error: error.message }));
      request.end(body);
    });
  }
}
