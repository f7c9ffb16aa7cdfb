import type { DefaultJobOptions } from 'bullmq';
import type { Side } from '@presence-sync/domain';

/**
 * The daemon's BullMQ queues: where a sync goes on after its first run in process (retries, rate limits, pauses)
 * and the failed set. One job = one name, one typed payload, one options constant. Ingest and first runs need no
 * queue (the partitions' ready and due sets, RedisPartitionWork).
 */
export const QUEUES = {
  syncAcd: 'sync-acd',
  syncSalesforce: 'sync-salesforce',
} as const;
export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

export const syncQueueFor = (target: Side): QueueName => (target === 'acd' ? QUEUES.syncAcd : QUEUES.syncSalesforce);

export const JOBS = {
  /** sync-acd / sync-salesforce: bring one agent's side to its latest wanted state. Payload: `SyncJobData`. */
  sync: 'sync',
} as const;

/** Never a secret: the agent, the attempt the job's first run is, and for a recorded failure its reason. */
export interface SyncJobData { agentId: string; firstAttempt?: number; failed?: string }

/** Per queue, so per partition: with 8 partitions at most 8 × 2 × 1,000 completed jobs are kept (about 8 MB). */
const keep = { removeOnComplete: { age: 3600, count: 1000 }, removeOnFail: { age: 7 * 86_400, count: 50_000 } };

/** Outbound syncs: `attempts` and the first backoff delay come from the config. */
export function syncJobOptions(attempts: number, backoffMs: number): DefaultJobOptions {
  return { attempts, backoff: { type: 'exponential', delay: backoffMs }, ...keep };
}
