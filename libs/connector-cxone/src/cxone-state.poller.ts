import { ChangeSource, SILENT_CONNECTOR_LOGGER, type CheckpointStore, type ConnectorLogger, type InboundSink } from '@presence-sync/domain';
import { toAcdChange, type CxoneAgentStateRecord } from './cxone-agent-state.mapping';

/** One answer of `GET /agents/states`: the changed agents and the watermark for the next poll, or nothing new (304). */
export type CxoneStatePage = { kind: 'changes'; records: CxoneAgentStateRecord[]; lastPollTime?: string } | { kind: 'not-modified' };

/** Reads agent states changed since `updatedSince` (every agent when undefined), all pages. */
export type CxoneStateReader = (updatedSince: string | undefined) => Promise<CxoneStatePage>;

/** A poll failure the poller should wait out for a given time (a 429's Retry-After). */
export interface PollPause {
  retryAfterMs: number;
}

export interface CxoneStatePollerOptions {
  /** Time between the starts of two polls, ms. */
  intervalMs: number;
  /** A stored watermark older than this is not resumed from: the poller reads every agent and reports a gap, ms. */
  resumeMaxAgeMs: number;
  /** The checkpoint key; default `cxone:agent-states`. */
  checkpointKey?: string;
  /** Longest pause between polls while they fail, ms. Default 30000. */
  maxBackoffMs?: number;
  now?: () => number;
  logger?: ConnectorLogger;
  /** How a failure asks for a pause (a rate limit); undefined for the others. */
  pauseOf?: (error: unknown) => PollPause | undefined;
  /** Failures that stop the source for good (credentials refused); they are thrown from `start`'s first poll. */
  isFatal?: (error: unknown) => boolean;
}

interface StoredWatermark {
  /** CXone's `lastPollTime`, sent back as `updatedSince`. */
  updatedSince: string;
  /** When it was stored, by our clock, epoch ms. */
  savedAt: number;
}

export const DEFAULT_CHECKPOINT_KEY = 'cxone:agent-states';

/**
 * The CXone change source: polls the real-time data API's agent states with `updatedSince` (CXone's delta read:
 * only agents whose state changed since the previous poll's `lastPollTime`) and hands each state to the sink.
 *
 * - The watermark is stored only after `sink.accept` resolved, so a crash between the two re-reads the same
 *   states; their event ids are built from the states themselves and intake drops them as duplicates.
 * - No stored watermark, or one older than `resumeMaxAgeMs`: the first poll reads every agent, and `onGap` is
 *   called so the engine repairs drift. The same happens when polls have failed for that long.
 * - Polls never overlap; a failing poll is retried with backoff (a 429 waits its Retry-After) and the watermark
 *   stays where it was, so what changed meanwhile comes with the next successful poll.
 * Restartable: `start` after `stop` resumes from the stored watermark (the lease may move between replicas).
 */
export class CxoneStatePoller extends ChangeSource {
  private readonly key: string;
  private readonly now: () => number;
  private readonly logger: ConnectorLogger;
  private readonly maxBackoffMs: number;
  private running = false;
  private timer?: ReturnType<typeof setTimeout>;
  private inFlight?: Promise<void>;
  private sink?: InboundSink;
  private onGap?: (reason: string) => void;
  private watermark?: string;
  private lastSuccess = 0;
  private failures = 0;
  private pendingGap?: string;
  private started = 0;
  private completed = 0;
  private waiters: Array<{ target: number; resolve: () => void }> = [];
  /** Polls answered (200 or 304), for tests and the cost figures. */
  polls = 0;

  constructor(
    private readonly read: CxoneStateReader,
    private readonly checkpoints: CheckpointStore,
    private readonly options: CxoneStatePollerOptions,
  ) {
    super();
    if (!(options.intervalMs > 0)) throw new Error('CxoneStatePoller: intervalMs must be positive');
    this.key = options.checkpointKey ?? DEFAULT_CHECKPOINT_KEY;
    this.now = options.now ?? Date.now;
    this.logger = options.logger ?? SILENT_CONNECTOR_LOGGER;
    this.maxBackoffMs = options.maxBackoffMs ?? 30_000;
  }

  get isRunning(): boolean {
    return this.running;
  }

  /**
   * Loads the watermark and runs the first poll before resolving: a credentials failure is thrown (the boot, or
   * the lease holder, stops); a passing one is logged and retried by the loop.
   */
  async start(sink: InboundSink, onGap?: (reason: string) => void): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.sink = sink;
    this.onGap = onGap;
    this.failures = 0;
    const stored = parseWatermark(await this.checkpoints.get(this.key));
    const age = stored ? this.now() - stored.savedAt : undefined;
    if (!stored) {
      this.watermark = undefined;
      this.pendingGap = 'no CXone poll watermark stored: reading every agent\'s state';
    } else if (age !== undefined && age > this.options.resumeMaxAgeMs) {
      this.watermark = undefined;
      this.pendingGap = `the CXone poll watermark is ${Math.round(age / 1000)} s old (over ${Math.round(this.options.resumeMaxAgeMs / 1000)} s): reading every agent's state`;
    } else {
      this.watermark = stored.updatedSince;
      this.pendingGap = undefined;
    }
    this.lastSuccess = this.now();
    try {
      await this.runPoll(true);
    } catch (error) {
      this.running = false;
      throw error;
    }
    this.schedule(this.options.intervalMs);
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.inFlight?.catch(() => undefined);
    for (const waiter of this.waiters.splice(0)) waiter.resolve();
  }

  /**
   * Resolves once a poll that began after this call has finished (answered and handed to the sink, or failed).
   * With `now`, that poll starts at once instead of at the next tick. Resolves at once when stopped.
   */
  afterNextPoll(now = false): Promise<void> {
    if (!this.running) return Promise.resolve();
    const target = this.started + 1;
    const done = new Promise<void>((resolve) => this.waiters.push({ target, resolve }));
    if (now && !this.inFlight) this.schedule(0);
    return done;
  }

  private schedule(delayMs: number): void {
    if (!this.running) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const began = this.now();
      void this.runPoll(false).then(
        (pauseMs) => this.schedule(pauseMs ?? Math.max(0, this.options.intervalMs - (this.now() - began))),
        () => this.schedule(this.options.intervalMs),
      );
    }, delayMs);
  }

  /** One poll. Returns a pause to wait before the next one after a failure; throws only fatal first-poll failures. */
  private runPoll(first: boolean): Promise<number | undefined> {
    this.started++;
    const run = this.pollOnce();
    this.inFlight = run.then(() => undefined, () => undefined);
    return run.then(
      () => {
        this.failures = 0;
        this.finish();
        return undefined;
      },
      (error: unknown) => {
        this.finish();
        if (first && this.options.isFatal?.(error)) throw error;
        return this.failed(error);
      },
    );
  }

  private finish(): void {
    this.completed++;
    this.inFlight = undefined;
    this.waiters = this.waiters.filter((w) => {
      if (w.target > this.completed) return true;
      w.resolve();
      return false;
    });
  }

  private failed(error: unknown): number {
    this.failures++;
    const message = error instanceof Error ? error.message : String(error);
    const pause = this.options.pauseOf?.(error);
    const since = this.now() - this.lastSuccess;
    if (since > this.options.resumeMaxAgeMs && this.watermark !== undefined) {
      this.watermark = undefined;
      this.pendingGap = `CXone agent-state polls failed for ${Math.round(since / 1000)} s: reading every agent's state once they answer`;
    }
    const backoff = Math.min(this.maxBackoffMs, this.options.intervalMs * 2 ** Math.min(this.failures - 1, 10));
    const waitMs = pause ? Math.max(pause.retryAfterMs, this.options.intervalMs) : backoff;
    const log = this.failures === 1 || this.failures % 20 === 0 ? this.logger.warn : this.logger.debug;
    log.call(this.logger, 'CXone agent-state poll failed; trying again', { failures: this.failures, retryInMs: waitMs, error: message });
    return waitMs;
  }

  private async pollOnce(): Promise<void> {
    const page = await this.read(this.watermark);
    this.polls++;
    const receivedAt = this.now();
    if (page.kind === 'not-modified') {
      this.lastSuccess = receivedAt;
      this.reportGap();
      return;
    }
    // The delta holds each changed agent once, with its current state; the oldest first keeps intake in order.
    const changes = page.records.map((record) => toAcdChange(record, receivedAt)).sort((a, b) => a.occurredAt - b.occurredAt);
    if (changes.length > 0 && this.sink) await this.sink.accept(changes);
    this.lastSuccess = this.now();
    const next = page.lastPollTime ?? this.watermark;
    if (next !== undefined) {
      // Stored only now that the sink holds the changes durably.
      await this.checkpoints.set(this.key, JSON.stringify({ updatedSince: next, savedAt: this.now() } satisfies StoredWatermark));
      this.watermark = next;
    }
    this.reportGap();
  }

  /** A gap is reported once the full read that covers it succeeded, so drift repair sees the states it brought. */
  private reportGap(): void {
    const reason = this.pendingGap;
    if (!reason) return;
    this.pendingGap = undefined;
    this.logger.info('CXone change source: possible gap, drift repair requested', { reason });
    this.onGap?.(reason);
  }
}

function parseWatermark(raw: string | undefined): StoredWatermark | undefined {
  if (!raw) return undefined;
  try {
    const value = JSON.parse(raw) as Partial<StoredWatermark>;
    if (typeof value.updatedSince === 'string' && typeof value.savedAt === 'number') return { updatedSince: value.updatedSince, savedAt: value.savedAt };
  } catch {
    // not ours: treated as missing
  }
  return undefined;
}
