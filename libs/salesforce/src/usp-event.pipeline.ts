import type { CheckpointStore, InboundSink, SalesforceChange } from '@presence-sync/domain';
import { WorkloadUnavailableError, type OpenWorkIndex } from './agent-work.reader';
import { salesforceErrorMessage } from './salesforce-errors';
import { SILENT_SALESFORCE_LOGGER, type SalesforceLogger } from './salesforce-logger';
import { UspLifecycleTranslator, type UspStreamMessage } from './usp-lifecycle.translator';

/** Reads users' open Omni-Channel work (`AgentWorkReader`). */
export interface WorkloadSource {
  openWork(userIds: readonly string[]): Promise<OpenWorkIndex>;
}

/** The part of the status catalog the pipeline needs. */
export interface StatusNames {
  cachedNameOf(statusId: string): string | undefined;
  /** May query Salesforce (an unknown id refreshes the catalog). */
  nameOf(statusId: string): Promise<string | undefined>;
}

export interface UspPipelineOptions {
  /** Where the last safely queued replay id is stored. */
  checkpointKey: string;
  /** How long a closed current row waits for a newer row of the same user before it is Offline (ms; 0 = at once). */
  offlineHoldMs: number;
  /** Backoff between attempts when the sink or the catalog fails (ms). */
  retryMinMs?: number;
  retryMaxMs?: number;
  /**
   * Store the replay id at most once per this many ms (0: after every step). A crash resumes from the last one
   * stored, so what came after it is delivered again and dropped as duplicates at intake; `close()` stores the
   * latest. Saves a Redis round trip per event on a stream that brings one event at a time.
   */
  checkpointEveryMs?: number;
  /** The replay id the stream subscribed from at start (a stored one), if any: the resume point before any event. */
  startFrom?: number;
  /** Where workloads come from; without it, capacity-only updates are dropped. */
  workloads?: WorkloadSource;
  /**
   * A workload read failed (not `WorkloadUnavailableError`): the batch's load changes were dropped, so the
   * owner should ask for a drift repair, whose snapshot carries workloads. Presence events are never held up by it.
   */
  onWorkloadReadFailed?: (error: unknown) => void;
}

interface Hold {
  change: SalesforceChange;
  /** The replay id a restart must resume from so this event is delivered again (undefined: none known). */
  resumeFrom?: number;
  timer: ReturnType<typeof setTimeout>;
}

/** Events handed to the sink in one call at most. */
const MAX_BATCH = 500;

/** Thrown inside the pipeline when it is closed while an attempt waits; ends the step quietly. */
class PipelineClosed extends Error {}

/**
 * The in-process path of presence events: in arrival order, one at a time, each event is translated
 * (`UspLifecycleTranslator`), handed to `sink.accept`, and only once that resolved is its replay id stored in
 * the `CheckpointStore`. A failing sink or catalog is retried with backoff (never skipped) until the pipeline
 * is closed.
 *
 * Offline candidates are held per user for `offlineHoldMs`: a created row of the same user in that time
 * cancels the hold (the update only closed the row before a status change); otherwise Offline is handed on.
 * While a hold is open the stored replay id stays *before* the held event, so a crash re-delivers it and it
 * is decided again — events after it that were already accepted come again too, and the sink's
 * de-duplication on `eventId` absorbs them.
 *
 * Events at or below the highest replay id already taken in are dropped: after a reconnect from the stored
 * replay id Salesforce sends again what this process already has.
 */
export class UspEventPipeline {
  private readonly translator: UspLifecycleTranslator;
  private readonly holds = new Map<string, Hold>();
  private chain: Promise<void> = Promise.resolve();
  private highestSeen = Number.NEGATIVE_INFINITY;
  private handled?: number;
  private stored?: string;
  private closed = false;
  private readonly wakers = new Set<() => void>();
  /** Messages pushed and not yet taken by a batch step, and whether such a step is queued. */
  private readonly incoming: UspStreamMessage[] = [];
  private batchQueued = false;
  /** A safe replay id computed but not stored yet (`checkpointEveryMs`), when it was last stored, and the timer. */
  private unstored?: string;
  private storedAt = Number.NEGATIVE_INFINITY;
  private checkpointTimer?: ReturnType<typeof setTimeout>;
  private readonly now: () => number;

  constructor(
    private readonly sink: InboundSink,
    private readonly checkpoints: CheckpointStore,
    private readonly names: StatusNames,
    private readonly options: UspPipelineOptions,
    private readonly logger: SalesforceLogger = SILENT_SALESFORCE_LOGGER,
    now: () => number = Date.now,
  ) {
    this.translator = new UspLifecycleTranslator(now);
    this.now = now;
    if (options.startFrom !== undefined && options.startFrom >= 0) this.stored = String(options.startFrom);
  }

  /** The replay id of the last event processed (accepted, held or ignored). */
  get lastHandled(): number | undefined {
    return this.handled;
  }

  /** Users whose Offline is being held. */
  get heldUsers(): string[] {
    return [...this.holds.keys()];
  }

  /**
   * Queues one message. Processing is sequential, in batches: what arrived while the previous step ran is
   * handed to the sink in one call and checkpointed once, so a busy stream costs one intake round trip per
   * batch instead of two per event.
   */
  push(message: UspStreamMessage): void {
    this.incoming.push(message);
    if (this.batchQueued) return;
    this.batchQueued = true;
    this.enqueue(() => this.handleBatch());
  }

  /** Resolves when everything queued so far has been processed. */
  drained(): Promise<void> {
    return this.chain;
  }

  /**
   * Forgets which replay ids were seen: after subscribing with -1 (an invalid replay id) ids may not continue
   * the old sequence (a re-created PushTopic starts again), and nothing old is re-delivered.
   */
  resetSeen(): void {
    this.highestSeen = Number.NEGATIVE_INFINITY;
  }

  /**
   * Stops: open holds are dropped (their events are not checkpointed, so a restart decides them again),
   * waiting attempts give up, and the step in progress finishes or aborts. Safe twice.
   */
  async close(): Promise<void> {
    this.closed = true;
    for (const hold of this.holds.values()) clearTimeout(hold.timer);
    this.holds.clear();
    for (const wake of this.wakers) wake();
    await this.chain;
    if (this.checkpointTimer) clearTimeout(this.checkpointTimer);
    this.checkpointTimer = undefined;
    // Computed while the holds were still open, so it is before every held event.
    if (this.unstored !== undefined) await this.storeCheckpoint(this.unstored);
  }

  private enqueue(step: () => Promise<void>): void {
    this.chain = this.chain.then(async () => {
      if (this.closed) return;
      try {
        await step();
      } catch (e) {
        if (!(e instanceof PipelineClosed)) this.logger.error('presence event step failed', { error: salesforceErrorMessage(e) });
      }
    });
  }

  private async handleBatch(): Promise<void> {
    this.batchQueued = false;
    const messages = this.incoming.splice(0, MAX_BATCH);
    if (this.incoming.length > 0) {
      this.batchQueued = true;
      this.enqueue(() => this.handleBatch());
    }
    const changes: (SalesforceChange | undefined)[] = [];
    // Load changes of the batch, one per user (the latest: its read answers for the earlier ones too).
    const loadChanges = new Map<string, { index: number; capacity: number }>();
    // `handled` moves only once the batch is in the sink: until then a resubscription starts before it.
    let last = this.handled;
    for (const message of messages) {
      const replayId = message.event.replayId;
      if (replayId <= this.highestSeen) {
        this.logger.debug('presence event already taken in: skipped', { replayId });
        continue;
      }
      this.highestSeen = replayId;
      const before = last ?? this.startPoint();

      const statusId = message.event.type === 'created' ? message.sobject.ServicePresenceStatusId : undefined;
      if (statusId && !this.names.cachedNameOf(statusId)) await this.attempt('status catalog refresh', () => this.names.nameOf(statusId));
      const decision = this.translator.translate(message, (id) => this.names.cachedNameOf(id));

      switch (decision.kind) {
        case 'status':
          this.cancelHold(decision.change.userId);
          changes.push(decision.change);
          break;
        case 'offline-candidate':
          if (this.options.offlineHoldMs <= 0) changes.push(decision.change);
          else this.hold(decision.change, before);
          break;
        case 'workload': {
          const earlier = loadChanges.get(decision.change.userId);
          if (earlier) changes[earlier.index] = undefined;
          loadChanges.set(decision.change.userId, { index: changes.length, capacity: decision.capacity });
          changes.push(decision.change);
          break;
        }
        case 'ignore':
          // A new current row of a held user ends the hold even when its status is unknown to us.
          if (decision.reason === 'unknown-status' && decision.userId) this.cancelHold(decision.userId);
          if (decision.reason === 'unknown-status' || decision.reason === 'malformed') {
            this.logger.warn('presence event ignored', { replayId, reason: decision.reason, userId: decision.userId, statusId });
          } else {
            this.logger.debug('presence event ignored', { replayId, reason: decision.reason, userId: decision.userId });
          }
          break;
      }
      last = replayId;
    }
    if (loadChanges.size > 0) await this.addWorkloads(changes, loadChanges);
    const ready = changes.filter((c): c is SalesforceChange => c !== undefined);
    if (ready.length > 0) await this.deliver(ready);
    this.handled = last;
    await this.saveCheckpoint();
  }

  /**
   * One read of the open work of every user whose load changed in the batch. A failed read drops those
   * changes (their users' work is left as the engine knows it) and tells the owner, which asks for a drift
   * repair; presence events of the batch go on regardless.
   */
  private async addWorkloads(changes: (SalesforceChange | undefined)[], loadChanges: Map<string, { index: number; capacity: number }>): Promise<void> {
    const drop = (): void => {
      for (const { index } of loadChanges.values()) changes[index] = undefined;
    };
    const source = this.options.workloads;
    if (!source) {
      drop();
      return;
    }
    let work: OpenWorkIndex;
    try {
      work = await source.openWork([...loadChanges.keys()]);
    } catch (e) {
      drop();
      if (e instanceof WorkloadUnavailableError) {
        this.logger.debug('load change dropped: AgentWork cannot be read', { users: loadChanges.size, reason: e.reason });
        return;
      }
      this.logger.warn('could not read Omni-Channel work: load changes dropped', { users: loadChanges.size, error: salesforceErrorMessage(e) });
      this.options.onWorkloadReadFailed?.(e);
      return;
    }
    for (const [userId, { index, capacity }] of loadChanges) {
      const change = changes[index];
      if (change) changes[index] = { ...change, workload: work.workload(userId, capacity) };
    }
  }

  private startPoint(): number | undefined {
    const from = this.options.startFrom;
    return from !== undefined && from >= 0 ? from : undefined;
  }

  private hold(change: SalesforceChange, resumeFrom: number | undefined): void {
    const previous = this.holds.get(change.userId);
    if (previous) clearTimeout(previous.timer);
    const hold: Hold = {
      change,
      // Two closes in a row: the first one's resume point is the earlier, safe one.
      resumeFrom: previous ? previous.resumeFrom : resumeFrom,
      timer: setTimeout(() => this.enqueue(() => this.release(change.userId, hold)), this.options.offlineHoldMs),
    };
    this.holds.set(change.userId, hold);
  }

  private cancelHold(userId: string): void {
    const hold = this.holds.get(userId);
    if (!hold) return;
    clearTimeout(hold.timer);
    this.holds.delete(userId);
    this.logger.debug('closed row was followed by a new row: not Offline', { userId, eventId: hold.change.eventId });
  }

  private async release(userId: string, hold: Hold): Promise<void> {
    if (this.holds.get(userId) !== hold) return;
    this.holds.delete(userId);
    await this.deliver([hold.change]);
    await this.saveCheckpoint();
  }

  private async deliver(changes: SalesforceChange[]): Promise<void> {
    await this.attempt('intake', () => this.sink.accept(changes));
  }

  /**
   * The replay id it is safe to resume from: the last processed event, or — while Offline candidates are
   * held — the point before the earliest of them. Written only when it changed; a failed write is retried
   * with the next event (at worst a restart re-delivers a few accepted events).
   */
  private async saveCheckpoint(force = false): Promise<void> {
    let safe = this.handled;
    for (const hold of this.holds.values()) {
      if (hold.resumeFrom === undefined) return;
      safe = safe === undefined ? hold.resumeFrom : Math.min(safe, hold.resumeFrom);
    }
    if (safe === undefined) return;
    const value = String(safe);
    if (value === this.stored) {
      this.unstored = undefined;
      return;
    }
    const wait = force ? 0 : this.storedAt + (this.options.checkpointEveryMs ?? 0) - this.now();
    if (wait > 0) {
      this.unstored = value;
      if (!this.checkpointTimer) {
        this.checkpointTimer = setTimeout(() => {
          this.checkpointTimer = undefined;
          this.enqueue(() => this.saveCheckpoint(true));
        }, wait);
        this.checkpointTimer.unref();
      }
      return;
    }
    await this.storeCheckpoint(value);
  }

  private async storeCheckpoint(value: string): Promise<void> {
    try {
      await this.checkpoints.set(this.options.checkpointKey, value);
      this.stored = value;
      this.unstored = undefined;
      this.storedAt = this.now();
    } catch (e) {
      this.logger.warn('could not store the replay id (will try again)', { key: this.options.checkpointKey, error: salesforceErrorMessage(e) });
    }
  }

  /** Runs `fn` until it succeeds or the pipeline is closed, backing off between attempts. */
  private async attempt<T>(what: string, fn: () => Promise<T>): Promise<T> {
    const min = this.options.retryMinMs ?? 500;
    const max = this.options.retryMaxMs ?? 30_000;
    for (let failures = 0; ; failures++) {
      if (this.closed) throw new PipelineClosed();
      try {
        return await fn();
      } catch (e) {
        if (this.closed) throw new PipelineClosed();
        const wait = Math.min(max, min * 2 ** failures);
        this.logger.warn(`${what} failed: retrying`, { error: salesforceErrorMessage(e), retryInMs: wait });
        await this.pause(wait);
      }
    }
  }

  /** A backoff pause that ends early when the pipeline is closed. */
  private pause(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.wakers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.wakers.add(wake);
    });
  }
}
