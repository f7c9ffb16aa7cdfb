import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Side } from '@presence-sync/domain';
import { JOBS, type QueueName, type SyncJobData } from '@presence-sync/redis';
import type { SyncAgent, SyncOutcome } from '@presence-sync/sync';
import type { MetricsService } from '../services/metrics.service';

/** A job whose name no processor handles fails for good and says so (it would never succeed on retry). */
export function unknownJob(queue: string, name: string): never {
  throw new UnrecoverableError(`no processor for job "${name}" on queue ${queue}`);
}

/** Pauses this replica's work toward one side for `ms` (a vendor's 429 / Retry-After), in every partition it works. */
export type PauseTarget = (ms: number) => Promise<void>;

/** One queue's job handler, run by the workers of every partition this replica works (PartitionWorkers). */
export interface JobHandler {
  process(job: Job, pause: PauseTarget): Promise<string>;
}

/** Turns a sync use case's outcome into queue terms (engineering notes, style 4). */
export async function toQueueResult(outcome: SyncOutcome, pause: PauseTarget): Promise<string> {
  switch (outcome.kind) {
    case 'done':
      return outcome.detail;
    case 'retry':
      throw outcome.error;
    case 'rate-limited':
      await pause(outcome.retryAfterMs);
      throw Worker.RateLimitError();
    case 'permanent':
      throw new UnrecoverableError(outcome.error.message);
  }
}

/**
 * One sync job: the attempt its run is (the job's first run goes on from the runs before it in process), or the
 * record of a sync that already ended failed (it fails at once with that reason, into the failed set).
 */
export async function runSyncJob(queue: QueueName, target: Side, job: Job<SyncJobData>, pause: PauseTarget, sync: SyncAgent, metrics: MetricsService): Promise<string> {
  if (job.name !== JOBS.sync) unknownJob(queue, job.name);
  if (job.data.failed !== undefined) throw new UnrecoverableError(job.data.failed);
  const outcome = await sync.run(target, job.data.agentId, (job.data.firstAttempt ?? 1) + job.attemptsMade);
  metrics.syncOutcome(target, outcome);
  return toQueueResult(outcome, pause);
}
