import { Logger } from '@nestjs/common';
import type Redis from 'ioredis';
import type { ChangeSource, InboundSink } from '@presence-sync/domain';
import { RedisLease } from '@presence-sync/redis';
import { settledWithin, withDeadline } from '../deadline';

export type StreamRole = 'active' | 'standby';

/** What `GET /v1/status` shows of a leased source (`salesforceStream`, `acdSource`). */
export interface LeasedSourceStatus {
  role: StreamRole;
  /** When this replica took its current role. */
  since: string;
  /** Whether this replica's stream is subscribed now (always false on a standby). */
  subscribed: boolean;
  /** Since when this replica's running stream has been down (null: up, or not running here). */
  downSince: string | null;
  leaseTtlMs: number;
  /** This replica's lease token, and the token of the replica holding the lease (null: nobody, or Redis unreachable). */
  replica: string;
  holder: string | null;
}

/** How long shutdown waits for Redis to take the lease back before it lets it expire instead. */
const RELEASE_TIMEOUT_MS = 2000;

const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** What a {@link LeasedSource} runs and how it reports. */
export interface LeasedSourceOptions {
  /** Named in log lines, e.g. `Salesforce presence stream`. */
  what: string;
  /** The Redis key of the lease, e.g. `{prefix}:lease:salesforce-stream`. */
  leaseKey: string;
  leaseTtlMs: number;
  source: ChangeSource;
  /** Whether the running source is connected now; a source without such a notion counts as connected. */
  connected?: () => boolean;
  /**
   * Once the running source has been down (`connected()` false) this long, the holder hands the lease back and
   * keeps out of the election for one TTL, so another replica (whose network or session may work) tries.
   * Undefined or 0: never.
   */
  giveUpAfterMs?: number;
  /** Told on every role change (a metric). */
  onRole?: (active: boolean) => void;
}

/**
 * Runs a `ChangeSource` (the Salesforce presence stream, a polling or streaming contact-center connector) on one
 * replica at a time: the one holding its Redis lease. Every replica keeps its webhook, workers and schedules;
 * only the source is exclusive, because the vendor would deliver every event to every subscriber (or every
 * replica would pay for the same polls).
 *
 * - The holder renews every TTL/3. A renewal that fails, finds the lease taken, or does not succeed before the
 *   lease would have expired in Redis (a hung call while Redis is away) stops the source at once.
 * - A standby tries to take the lease every TTL/3 and then starts the source, which resumes from its own
 *   checkpoint in Redis (a replay id, a poll watermark): what was emitted while nobody listened is not lost.
 * - A clean shutdown stops the source (so its last checkpoint is stored) and then releases the lease, so a
 *   standby takes over at its next attempt instead of waiting for the TTL.
 * - A holder whose started source has been down for `giveUpAfterMs` (checked at every renewal) does the same
 *   and stays out for one TTL: renewing the lease of a stream that delivers nothing would keep every other
 *   replica from trying.
 * A holder frozen for longer than the TTL may briefly overlap with its successor; intake de-duplication on
 * event id absorbs that.
 */
export class LeasedSource {
  private readonly logger: Logger;
  private readonly lease: RedisLease;
  private readonly everyMs: number;
  private readonly what: string;
  private readonly stream: ChangeSource;
  private role: StreamRole = 'standby';
  private since = Date.now();
  /** Bumped on every role change, so the outcome of a start or renewal begun in an older term is ignored. */
  private term = 0;
  private timer?: ReturnType<typeof setInterval>;
  private expiry?: ReturnType<typeof setTimeout>;
  private ticking = false;
  private stopped = false;
  /** After a failed start this replica leaves the source to the others for one TTL. */
  private notBefore = 0;
  /** The term whose source finished starting (the down time counts only for a started source). */
  private startedTerm = -1;
  /** When the started source was first seen down, at a renewal (undefined: up). */
  private downSince?: number;
  private sink?: InboundSink;
  private onGap?: (reason: string) => void;

  constructor(redis: Redis, private readonly options: LeasedSourceOptions, loggerContext = 'LeasedSource') {
    this.logger = new Logger(loggerContext);
    this.what = options.what;
    this.stream = options.source;
    this.lease = new RedisLease(redis, options.leaseKey, options.leaseTtlMs);
    this.everyMs = Math.max(1, Math.floor(this.lease.ttlMs / 3));
    options.onRole?.(false);
  }

  get isActive(): boolean {
    return this.role === 'active';
  }

  /** This replica runs the source and it is connected. */
  get subscribed(): boolean {
    if (!this.isActive) return false;
    return this.options.connected?.() ?? true;
  }

  /**
   * Takes part in the election. The first attempt is awaited: if this replica gets the lease, a stream that
   * cannot start (bad credentials, no PushTopic) still stops the boot, as without replicas.
   */
  async start(sink: InboundSink, onGap: (reason: string) => void): Promise<void> {
    this.sink = sink;
    this.onGap = onGap;
    this.stopped = false;
    // The first attempt counts as an election step, so no timer step runs beside it.
    this.ticking = true;
    let got: boolean;
    try {
      got = await this.tryAcquire();
    } finally {
      this.ticking = false;
    }
    // Renewals run from here on, also while the first start is still waiting for Salesforce.
    this.timer = setInterval(() => void this.tick(), this.everyMs);
    this.timer.unref();
    try {
      if (got) await this.run(this.term, true);
      else this.logger.log({ msg: `standby for the ${this.what}: another replica runs it`, lease: this.lease.key });
    } catch (e) {
      await this.stop();
      throw e;
    }
  }

  /** Stops the stream (if this replica runs it), then releases the lease so a standby takes over at once. Safe twice. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    clearTimeout(this.expiry);
    const wasActive = this.isActive;
    if (wasActive) this.become('standby');
    await this.stream.stop();
    // Only once the stream stopped (its last replay id stored): the next holder resumes exactly there.
    if (wasActive) {
      const released = this.lease.release().catch((e: unknown) => {
        this.logger.warn({ msg: `could not release the ${this.what} lease; it expires by itself`, error: messageOf(e) });
      });
      await settledWithin(released, RELEASE_TIMEOUT_MS);
    }
  }

  async status(): Promise<LeasedSourceStatus> {
    // A status page must answer while Redis is away: the holder is then unknown.
    const holder = await withDeadline(this.lease.holder(), 500).catch(() => undefined);
    this.noteConnection();
    return {
      role: this.role, since: new Date(this.since).toISOString(), subscribed: this.subscribed,
      downSince: this.downSince === undefined ? null : new Date(this.downSince).toISOString(),
      leaseTtlMs: this.lease.ttlMs, replica: this.lease.token, holder: holder ?? null,
    };
  }

  /** One election step at a time (a slow Redis call must not pile up steps). */
  private async tick(): Promise<void> {
    if (this.ticking || this.stopped) return;
    this.ticking = true;
    try {
      if (this.isActive) {
        await this.renew();
        await this.giveUpIfDown();
      } else if (Date.now() >= this.notBefore && (await this.tryAcquire())) void this.run(this.term, false);
    } finally {
      this.ticking = false;
    }
  }

  private async tryAcquire(): Promise<boolean> {
    const sentAt = Date.now();
    let got: boolean;
    try {
      got = await this.lease.acquire();
    } catch (e) {
      this.logger.debug({ msg: `could not ask for the ${this.what} lease`, error: messageOf(e) });
      return false;
    }
    if (!got) return false;
    if (this.stopped) {
      await this.lease.release().catch(() => undefined);
      return false;
    }
    this.become('active');
    this.armExpiry(sentAt);
    return true;
  }

  private async renew(): Promise<void> {
    const term = this.term;
    const sentAt = Date.now();
    let ok = false;
    let error: string | undefined;
    try {
      ok = await this.lease.renew();
    } catch (e) {
      error = messageOf(e);
    }
    // Lost meanwhile (the expiry fired) or shutting down: this answer is about a term that is over.
    if (term !== this.term || this.stopped) return;
    if (ok) this.armExpiry(sentAt);
    else this.lose(error ? `renewal failed: ${error}` : 'the lease expired or another replica holds it');
  }

  /** Notes since when the started source has been down (`downSince`); true while it is down. */
  private noteConnection(now = Date.now()): boolean {
    if (!this.isActive || this.startedTerm !== this.term) return false;
    if (this.options.connected?.() ?? true) {
      this.downSince = undefined;
      return false;
    }
    this.downSince ??= now;
    return true;
  }

  /** Hands the lease on once the started source has been down for `giveUpAfterMs`. */
  private async giveUpIfDown(): Promise<void> {
    const limit = this.options.giveUpAfterMs ?? 0;
    const now = Date.now();
    if (this.stopped || !this.noteConnection(now) || limit <= 0) return;
    const downMs = now - (this.downSince ?? now);
    if (downMs < limit) return;
    this.logger.warn({ msg: `the ${this.what} has been down too long: handing the lease to another replica`, downMs, giveUpAfterMs: limit, retryInMs: this.lease.ttlMs, lease: this.lease.key });
    await this.giveUp();
  }

  /**
   * The lease counts from when the renewal was sent. If no renewal succeeds before it would have expired in
   * Redis, another replica may hold it now: stop without waiting for Redis to answer.
   */
  private armExpiry(sentAt: number): void {
    clearTimeout(this.expiry);
    this.expiry = setTimeout(() => this.lose('no renewal succeeded within the lease TTL'), Math.max(0, sentAt + this.lease.ttlMs - Date.now()));
    this.expiry.unref();
  }

  private lose(reason: string): void {
    if (!this.isActive) return;
    this.become('standby');
    this.logger.warn({ msg: `lost the ${this.what} lease: stopping it (a standby takes over)`, reason, lease: this.lease.key });
    void this.stream.stop().catch((e: unknown) => this.logger.error({ msg: `stopping the ${this.what} failed`, error: messageOf(e) }));
  }

  private async run(term: number, boot: boolean): Promise<void> {
    try {
      await this.stream.start(this.sink as InboundSink, this.onGap);
      if (term === this.term) {
        this.startedTerm = term;
        this.logger.log({ msg: `this replica runs the ${this.what}`, lease: this.lease.key, ttlMs: this.lease.ttlMs });
      }
    } catch (e) {
      // Stopped on purpose while starting (lease lost, shutdown): nothing to undo.
      if (term !== this.term || this.stopped) return;
      if (boot) {
        await this.giveUp();
        throw e;
      }
      this.logger.error({ msg: `the ${this.what} did not start: leaving it to another replica for now`, error: messageOf(e), retryInMs: this.lease.ttlMs });
      await this.giveUp();
    }
  }

  /** Hands the lease back (a failed start, a source down too long), and keeps out of the election for one TTL. */
  private async giveUp(): Promise<void> {
    this.become('standby');
    this.notBefore = Date.now() + this.lease.ttlMs;
    await this.stream.stop().catch(() => undefined);
    await this.lease.release().catch(() => undefined);
  }

  private become(role: StreamRole): void {
    this.term += 1;
    this.role = role;
    this.since = Date.now();
    this.downSince = undefined;
    if (role === 'standby') clearTimeout(this.expiry);
    this.options.onRole?.(role === 'active');
  }
}
