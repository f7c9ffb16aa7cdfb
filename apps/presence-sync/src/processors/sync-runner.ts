import { Logger } from '@nestjs/common';
import { AgentRecordStore, syncBackoffMs, SyncTrigger, type Side } from '@presence-sync/domain';
import type { RedisKeys, RedisPartitionWork, SyncRetryQueue } from '@presence-sync/redis';
import { dueMember, scheduleOf, type DueSettle, type DueTask, type SyncAgent, type SyncOutcome } from '@presence-sync/sync';
import type { MetricsService } from '../services/metrics.service';
import { KeyedRuns } from './keyed-runs';

/** What the sync runner asks of the queues a run may go on in (PartitionWorkers). */
export interface SyncQueueControl {
  /** Pauses this replica's syncs toward one side for `ms` (a vendor's 429 / Retry-After), in every partition it works. */
  rateLimit(target: Side, ms: number): Promise<void>;
  /** Whether an operator paused the side's queue of partition n (then runs wait there). */
  paused(target: Side, n: number): boolean;
}

/**
 * Runs syncs in process, on the replica that works the agent's partition: the first run of a sync a transition asked
 * for starts at once, with no job. The due set holds each one durably (a guard the run's last transition removes),
 * so a replica that dies mid-run leaves it to the next owner. A run that did not end its sync goes on in the
 * partition's BullMQ sync queue: a retry with backoff, a rate limit, an operator's pause; a failure is recorded in
 * its failed set.
 */
export class SyncRunner extends SyncTrigger {
  private readonly logger = new Logger(SyncRunner.name);
  private readonly held = new Set<number>();
  private readonly runs: KeyedRuns;
  private readonly limitedUntil: Record<Side, number> = { acd: 0, salesforce: 0 };
  private sync?: SyncAgent;
  private queues?: SyncQueueControl;

  constructor(
    private readonly keys: RedisKeys,
    private readonly store: AgentRecordStore,
    private readonly work: RedisPartitionWork,
    private readonly retries: SyncRetryQueue,
    private readonly metrics: MetricsService,
    concurrency: number,
    private readonly backoffMs: number,
    /** How long a run started here may take before the due set hands its sync out again (TransitionRunner's guard), ms. */
    private readonly guardMs: number,
  ) {
    super();
    this.runs = new KeyedRuns(concurrency, (key, e) => this.logger.warn({
      msg: 'sync run failed; it runs again when its guard comes due', task: key, error: e instanceof Error ? e.message : String(e),
    }));
  }

  /** The use case and the queues (they need this runner themselves, so they are attached after construction). */
  attach(sync: SyncAgent, queues: SyncQueueControl): void {
    this.sync = sync;
    this.queues = queues;
  }

  /** Partition n is worked here from now on (or not any more). */
  hold(n: number, held: boolean): void {
    if (held) this.held.add(n);
    else this.held.delete(n);
  }

  /** Waits for the runs of partition n (it is being given up), or of all. */
  idle(n?: number): Promise<void> {
    return this.runs.idle(n);
  }

  /** Runs now. */
  get running(): number {
    return this.runs.size;
  }

  runsHere(agentId: string): boolean {
    return this.held.has(this.keys.partitionOfAgent(agentId));
  }

  committed(agentId: string, runs: readonly { target: Side; guardUntil: number }[]): void {
    for (const { target, guardUntil } of runs) this.start({ kind: 'sync', target, agentId }, guardUntil, true);
  }

  /** A sync asked for outside a transition: scheduled by the same rule as a transition's trigger effect (scheduleOf). */
  async trigger(target: Side, agentId: string, delayMs = 0): Promise<void> {
    const { due, runNow } = scheduleOf(agentId, [{ kind: 'trigger', target, delayMs }], { now: Date.now(), here: this.runsHere(agentId), guardMs: this.guardMs });
    await this.store.schedule(agentId, due);
    this.committed(agentId, runNow);
  }

  /**
   * Starts a task of a partition held here, whose due entry is at `guardUntil` while it runs.
   * @param repeat a sync asked for by a new transition runs again after a current run; an entry of the due set that
   *   comes due while its run goes on is left to that run (it comes due again at its guard)
   */
  start(task: DueTask, guardUntil: number, repeat: boolean): void {
    const n = this.keys.partitionOfAgent(task.agentId);
    if (!this.held.has(n)) return;
    const settle = { member: dueMember(task), at: guardUntil };
    this.runs.run(settle.member, n, () => (task.kind === 'sync'
      ? this.runSync(task.target, task.agentId, n, settle)
      : this.runConfirm(task.agentId, task.writeId, task.send, guardUntil)), repeat);
  }

  private async runSync(target: Side, agentId: string, n: number, settle: DueSettle): Promise<void> {
    const sync = this.attached();
    if (this.limitedUntil[target] > Date.now() || this.queues?.paused(target, n)) {
      await this.goOn(target, agentId, n, settle, { firstAttempt: 1, delayMs: 0 });
      return;
    }
    const outcome = await sync.run(target, agentId, 1, settle);
    this.metrics.syncOutcome(target, outcome);
    await this.after(target, agentId, n, settle, outcome);
  }

  private async runConfirm(agentId: string, writeId: string, send: number, guardUntil: number): Promise<void> {
    this.metrics.syncOutcome('salesforce', await this.attached().confirm(agentId, writeId, send, 1, guardUntil));
  }

  /** A first run that did not end its sync: it goes on in the retry queue. */
  private async after(target: Side, agentId: string, n: number, settle: DueSettle, outcome: SyncOutcome): Promise<void> {
    switch (outcome.kind) {
      case 'done':
        return;
      case 'retry':
        await this.goOn(target, agentId, n, settle, { firstAttempt: 2, delayMs: syncBackoffMs(this.backoffMs, 1) });
        return;
      case 'rate-limited':
        this.limitedUntil[target] = Date.now() + outcome.retryAfterMs;
        await this.queues?.rateLimit(target, outcome.retryAfterMs);
        // A rate-limited attempt is not spent: the queue's run is the same attempt again.
        await this.goOn(target, agentId, n, settle, { firstAttempt: 1, delayMs: 0 });
        return;
      case 'permanent':
        // Audited failed and settled by its transition already; the failed set keeps a record of it.
        await this.retries.add(target, agentId, { firstAttempt: 1, delayMs: 0, failed: outcome.error.message });
        return;
    }
  }

  /** Queues the sync's next run, then drops its guard (the job holds it now). */
  private async goOn(target: Side, agentId: string, n: number, settle: DueSettle, retry: { firstAttempt: number; delayMs: number }): Promise<void> {
    await this.retries.add(target, agentId, retry);
    await this.work.settle(n, [[settle.member, settle.at]]);
  }

  private attached(): SyncAgent {
    if (!this.sync) throw new Error('SyncRunner: no SyncAgent attached');
    return this.sync;
  }
}
