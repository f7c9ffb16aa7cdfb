import { Logger } from '@nestjs/common';
import type { RedisClient, RedisPartitionWork } from '@presence-sync/redis';
import { dueTaskOf } from '@presence-sync/sync';
import type { RedisErrorLog } from '../logging/redis-error.log';
import type { InboxApplier } from './inbox-applier';
import { KeyedRuns } from './keyed-runs';
import type { SyncRunner } from './sync-runner';

export interface PartitionDrainOptions {
  /** Inboxes applied at once across the partitions held (INBOUND_CONCURRENCY). */
  concurrency: number;
  /** How often the due set of each held partition is read, ms. */
  duePollMs: number;
  /** How long a claimed due entry waits before it comes due again (its run ended or died), ms. */
  guardMs: number;
}

/** Entries claimed from a due set at once. */
const DUE_BATCH = 64;
/** How long one blocking read of the ready set waits, s (a partition given up is noticed within this). */
const READY_WAIT_SEC = 1;
/** Pause after a failed read of the ready set (Redis away), ms. */
const READ_RETRY_MS = 500;

interface Held {
  stopped: boolean;
  blocking: RedisClient;
  loop: Promise<void>;
  timer?: NodeJS.Timeout;
  polling?: Promise<void>;
}

/**
 * The in-process work of the partitions this replica holds: a loop per partition takes ready inboxes (a blocking
 * read on a connection of its own) and applies them, and a timer claims what comes due in the due set (syncs held
 * back, confirmation checks, runs whose replica died) and hands it to the sync runner. An inbox is applied by one
 * task at a time; one taken up again while it is applied is applied once more after.
 */
export class PartitionDrain {
  private readonly logger = new Logger(PartitionDrain.name);
  private readonly held = new Map<number, Held>();
  private readonly inboxes: KeyedRuns;

  constructor(
    private readonly redis: RedisClient,
    private readonly work: RedisPartitionWork,
    private readonly applier: InboxApplier,
    private readonly syncs: SyncRunner,
    private readonly redisErrors: RedisErrorLog,
    private readonly options: PartitionDrainOptions,
  ) {
    this.inboxes = new KeyedRuns(options.concurrency, (inbox, e) => this.logger.warn({
      msg: 'applying an inbox failed; it is taken up again', inbox, error: e instanceof Error ? e.message : String(e),
    }));
  }

  /** Inboxes being applied now. */
  get applying(): number {
    return this.inboxes.size;
  }

  take(n: number): void {
    if (this.held.has(n)) return;
    const blocking = this.redis.duplicate();
    this.redisErrors.watch(blocking, `ready p${n}`);
    const held: Held = { stopped: false, blocking, loop: Promise.resolve() };
    this.held.set(n, held);
    this.syncs.hold(n, true);
    held.loop = this.readyLoop(n, held);
    this.schedulePoll(n, held, 0);
  }

  /** Stops taking work of partition n and waits for what runs (inboxes and syncs) to end. */
  async give(n: number): Promise<void> {
    const held = this.held.get(n);
    if (!held) return;
    this.held.delete(n);
    held.stopped = true;
    this.syncs.hold(n, false);
    if (held.timer) clearTimeout(held.timer);
    held.blocking.disconnect();
    await Promise.allSettled([held.loop, held.polling]);
    await Promise.all([this.inboxes.idle(n), this.syncs.idle(n)]);
  }

  /**
   * Takes up an inbox of partition n that intake here queued (DrainHandoff). False, and the inbox is marked ready
   * instead, if this drain does not work the partition (any more) or has no free slot for it: a backlog waits in
   * the ready set, where the depth metric and a partition's next owner see it, not in this process's memory.
   */
  handOver(n: number, inbox: string): boolean {
    if (!this.wouldTake(n, inbox)) return false;
    this.apply(n, inbox);
    return true;
  }

  /** Whether `handOver` would take the inbox now. */
  wouldTake(n: number, inbox: string): boolean {
    const held = this.held.get(n);
    if (!held || held.stopped) return false;
    return this.inboxes.has(inbox) || this.inboxes.hasRoom;
  }

  private async readyLoop(n: number, held: Held): Promise<void> {
    while (!held.stopped) {
      // Wait for a free slot first, so an inbox is taken out of the ready set only when it can be applied soon; the
      // slot is not held during the blocking read (other partitions' inboxes may take it meanwhile).
      await this.inboxes.slot();
      this.inboxes.release();
      let inbox: string | undefined;
      try {
        inbox = held.stopped ? undefined : await this.work.nextReady(held.blocking, n, READY_WAIT_SEC);
      } catch (e) {
        if (!held.stopped) {
          this.logger.warn({ msg: 'reading the ready inboxes failed; retrying', partition: n, error: e instanceof Error ? e.message : String(e) });
          await new Promise((resolve) => setTimeout(resolve, READ_RETRY_MS));
        }
      }
      if (inbox !== undefined) this.apply(n, inbox);
    }
  }

  private apply(n: number, inbox: string): void {
    this.inboxes.run(inbox, n, async () => {
      try {
        await this.applier.apply(inbox);
      } catch (e) {
        // Taken up again (its entries are still in the inbox), after a pause.
        await new Promise((resolve) => setTimeout(resolve, READ_RETRY_MS));
        await this.work.ready(n, inbox).catch(() => undefined);
        throw e;
      }
    });
  }

  private schedulePoll(n: number, held: Held, delayMs: number): void {
    if (held.stopped) return;
    held.timer = setTimeout(() => {
      held.polling = this.poll(n, held).finally(() => this.schedulePoll(n, held, this.options.duePollMs));
    }, delayMs);
  }

  private async poll(n: number, held: Held): Promise<void> {
    try {
      for (;;) {
        if (held.stopped) return;
        const now = Date.now();
        const guardUntil = now + this.options.guardMs;
        const due = await this.work.claimDue(n, now, guardUntil, DUE_BATCH);
        for (const member of due) {
          const task = dueTaskOf(member);
          if (task) this.syncs.start(task, guardUntil, false);
          else await this.work.remove(n, [member]);
        }
        if (due.length < DUE_BATCH) return;
      }
    } catch (e) {
      if (!held.stopped) this.logger.warn({ msg: 'reading the due set failed; retrying', partition: n, error: e instanceof Error ? e.message : String(e) });
    }
  }
}
