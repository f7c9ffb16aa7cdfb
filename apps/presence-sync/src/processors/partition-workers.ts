import { Logger } from '@nestjs/common';
import { Worker, type ConnectionOptions, type Job } from 'bullmq';
import type { Side } from '@presence-sync/domain';
import { syncQueueFor, type PartitionQueues, type QueueName, type RedisInboundSink } from '@presence-sync/redis';
import type { PartitionHolder } from '../services/partition-ownership';
import type { RedisErrorLog } from '../logging/redis-error.log';
import type { PartitionDrain } from './partition-drain';
import type { SyncQueueControl } from './sync-runner';
import type { JobHandler } from './sync-job.runner';
import { SYNC_WORKER_OPTIONS } from './worker-options';
import { settledWithin } from '../deadline';

/** How often the queues' paused flags are read (an operator's pause reaches the in-process runs within this), ms. */
const PAUSED_REFRESH_MS = 1000;

/** What the workers of one queue name need. */
export interface QueueWork {
  handler: JobHandler;
  /** Jobs at once across all the partitions this replica works (INBOUND_CONCURRENCY / SYNC_CONCURRENCY). */
  concurrency: number;
}

/**
 * The work of the partitions this replica works (PartitionOwnership decides which). Taking a partition starts its
 * in-process work (PartitionDrain: ready inboxes, the due set) and a BullMQ worker per sync queue on it, and marks
 * every inbox it holds ready (changes a crashed owner had taken up but not applied); giving one up stops both once
 * their running work is done, or at the deadline. The replica's concurrency per queue is shared out over the
 * partitions it holds. It is also what in-process runs ask about the queues: a pause, a rate limit.
 */
export class PartitionWorkers implements PartitionHolder, SyncQueueControl {
  private readonly logger = new Logger(PartitionWorkers.name);
  private readonly workers = new Map<number, Worker[]>();
  private readonly pausedQueues = new Set<string>();
  private pausedTimer?: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly queues: PartitionQueues,
    private readonly connection: ConnectionOptions,
    private readonly work: Record<QueueName, QueueWork>,
    private readonly sink: RedisInboundSink,
    private readonly drain: PartitionDrain,
    private readonly redisErrors: RedisErrorLog,
    /** How long giving a partition up waits for its running jobs, ms. */
    private readonly closeTimeoutMs: number,
  ) {}

  /** The partitions with running workers. */
  get partitions(): number[] {
    return [...this.workers.keys()].sort((a, b) => a - b);
  }

  /** Every running worker (status and health). */
  all(): Worker[] {
    return [...this.workers.values()].flat();
  }

  async take(n: number): Promise<void> {
    if (this.closed || this.workers.has(n)) return;
    const started = (Object.keys(this.work) as QueueName[]).map((name) => this.startWorker(name, n));
    this.workers.set(n, started);
    this.shareConcurrency();
    await this.refreshPaused();
    this.drain.take(n);
    this.pausedTimer ??= setInterval(() => void this.refreshPaused(), PAUSED_REFRESH_MS);
    this.pausedTimer.unref();
    const woken = await this.sink.recoverPartition(n);
    this.logger.log({ msg: 'working partition', partition: n, inboxesResumed: woken });
  }

  async give(n: number): Promise<void> {
    const workers = this.workers.get(n);
    if (!workers) return;
    this.workers.delete(n);
    this.shareConcurrency();
    await Promise.all([settledWithin(this.drain.give(n), this.closeTimeoutMs), this.closeWorkers(workers)]);
    this.logger.log({ msg: 'gave partition up', partition: n });
  }

  /** Stops taking jobs everywhere (shutdown): running ones finish, up to the deadline. */
  async closeAll(): Promise<void> {
    this.closed = true;
    if (this.pausedTimer) clearInterval(this.pausedTimer);
    const held = this.partitions;
    const all = [...this.workers.values()].flat();
    this.workers.clear();
    await Promise.all([settledWithin(Promise.all(held.map((n) => this.drain.give(n))), this.closeTimeoutMs), this.closeWorkers(all)]);
  }

  async rateLimit(target: Side, ms: number): Promise<void> {
    await this.pause(syncQueueFor(target), ms);
  }

  paused(target: Side, n: number): boolean {
    return this.pausedQueues.has(`${syncQueueFor(target)}/${n}`);
  }

  /** Reads which held partitions' sync queues an operator paused (every second, and at once when asked). */
  async refreshPaused(): Promise<void> {
    const names = Object.keys(this.work) as QueueName[];
    const read = await Promise.allSettled(this.partitions.flatMap((n) => names.map(async (name) => [`${name}/${n}`, await this.queues.queue(name, n).isPaused()] as const)));
    for (const r of read) {
      if (r.status !== 'fulfilled') continue;
      const [id, paused] = r.value;
      if (paused) this.pausedQueues.add(id);
      else this.pausedQueues.delete(id);
    }
  }

  /** Pauses one queue name's work in every partition held (a vendor asked us to wait). */
  private async pause(name: QueueName, ms: number): Promise<void> {
    await Promise.all(this.partitions.map((n) => this.queues.queue(name, n).rateLimit(ms)));
  }

  private startWorker(name: QueueName, n: number): Worker {
    const { handler } = this.work[name];
    const worker = new Worker(name, (job: Job) => handler.process(job, (ms) => this.pause(name, ms)), {
      ...SYNC_WORKER_OPTIONS, connection: this.connection, prefix: this.queues.keys.queuePrefix(n), autorun: false,
    });
    this.redisErrors.watch(worker, `worker ${name} p${n}`);
    worker.on('failed', (job, e) => this.logger.warn({
      msg: 'job failed', queue: name, partition: n, jobId: job?.id, job: job?.name, agentId: (job?.data as { agentId?: string } | undefined)?.agentId, attempts: job?.attemptsMade, error: e.message,
    }));
    void worker.run().catch((e: Error) => this.logger.error({ msg: 'worker stopped', queue: name, partition: n, error: e.message }));
    return worker;
  }

  /** Each held partition's worker gets an even share of the replica's concurrency for its queue (at least 1). */
  private shareConcurrency(): void {
    const held = Math.max(this.workers.size, 1);
    for (const workers of this.workers.values()) {
      for (const worker of workers) worker.concurrency = Math.max(1, Math.ceil(this.work[worker.name as QueueName].concurrency / held));
    }
  }

  /** Closes the workers, waiting for their running jobs up to the close deadline. */
  private async closeWorkers(workers: Worker[]): Promise<void> {
    if (!(await settledWithin(Promise.allSettled(workers.map((w) => w.close())), this.closeTimeoutMs))) {
      // Jobs still running are abandoned to their locks: another owner takes them over when the lock expires.
      await Promise.allSettled(workers.map((w) => w.close(true)));
    }
  }
}
