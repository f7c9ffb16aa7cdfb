import type { WorkerOptions } from 'bullmq';

/** A worker's options but its connection and prefix (PartitionWorkers adds those per partition). */
type NestWorkerOptions = Omit<WorkerOptions, 'connection'>;

/**
 * BullMQ honours `queue.rateLimit()` (a vendor's 429 / Retry-After) only on workers that have a limiter, so
 * the sync workers get one far above any vendor's rate; it is the manual pause that matters.
 */
const SYNC_LIMITER = { max: 100_000, duration: 1000 };

/**
 * The workers' options. BullMQ fixes lock timings when it builds a worker, so these objects are filled from the
 * config (`configureWorkerOptions`) before the Nest application is created.
 */
export const SYNC_WORKER_OPTIONS: NestWorkerOptions = { autorun: false, limiter: SYNC_LIMITER };

/**
 * @param lockDurationMs how long a worker holds a job before another may take it over (a crashed worker's
 *   jobs are recovered after about this long)
 * @param stalledIntervalMs how often workers look for such jobs
 */
export function configureWorkerOptions(lockDurationMs: number, stalledIntervalMs: number): void {
  for (const options of [SYNC_WORKER_OPTIONS]) {
    options.lockDuration = lockDurationMs;
    // A short lock makes a crashed replica's jobs come back within seconds; every job is safe to run again (each
    // step is a compare-and-set transition), so a job taken over a few times is not a failure.
    options.maxStalledCount = 10;
    options.stalledInterval = stalledIntervalMs;
  }
}
