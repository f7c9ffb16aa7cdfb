import { syncBackoffMs, type Side } from '@presence-sync/domain';
import type { PartitionQueues } from './partition-queues';
import { JOBS, syncJobOptions, syncQueueFor, type SyncJobData } from './queue-definitions';
import { jobIdOf } from './redis-keys';

/** How a sync goes on in the retry queue. */
export interface SyncRetry {
  /** The attempt its first run there is (the runs before it were in process). */
  firstAttempt: number;
  /** Run no sooner than this, ms. */
  delayMs: number;
  /** The sync already ended failed (audited): the job only records it in the failed set. */
  failed?: string;
}

/**
 * The sync queues on BullMQ, in the agent's partition: where a sync goes on once its first run in process did not
 * end it (a retry with backoff, a vendor's rate limit, a queue an operator paused) and where a failed sync is
 * recorded (the failed set). `keepLastIfActive` de-duplication keeps at most one waiting job per agent and target
 * next to an active one; the job carries only the agent id, the worker reads the latest want.
 */
export class SyncRetryQueue {
  constructor(
    private readonly queues: PartitionQueues,
    private readonly attempts: number,
    private readonly backoffMs: number,
  ) {}

  async add(target: Side, agentId: string, retry: SyncRetry): Promise<void> {
    const queue = this.queues.forAgent(syncQueueFor(target), agentId);
    const data: SyncJobData = { agentId, firstAttempt: retry.firstAttempt, ...(retry.failed ? { failed: retry.failed } : {}) };
    if (retry.failed) {
      await queue.add(JOBS.sync, data, { ...syncJobOptions(1, this.backoffMs), jobId: jobIdOf(`failed\n${target}\n${agentId}\n${Date.now()}\n${Math.random()}`) });
      return;
    }
    const before = retry.firstAttempt - 1;
    // The backoff goes on from where the runs in process left it: BullMQ's nth retry of the job waits its delay ×
    // 2^(n-1), so the delay is the backoff after the attempt the job's first retry follows.
    const options = syncJobOptions(Math.max(1, this.attempts - before), syncBackoffMs(this.backoffMs, retry.firstAttempt));
    // `replace`: a job sitting in retry backoff is swapped for this one, so the newer want is written when this
    // says, with its own attempts, not after the old job's backoff.
    await queue.add(JOBS.sync, data, {
      ...options, ...(retry.delayMs > 0 ? { delay: retry.delayMs } : {}), deduplication: { id: `${target}:${agentId}`, keepLastIfActive: true, replace: true },
    });
  }
}
