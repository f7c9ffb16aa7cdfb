import type { DefaultJobOptions } from 'bullmq';
import type { Side } from '@presence-sync/domain';

/** Every queue of the daemon. One job = one name, one typed payload, one options constant. */
export const QUEUES = {
  inbound: 'inbound',
  syncAcd: 'sync-acd',
  syncSalesforce: 'sync-salesforce',
} as const;
export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

export const syncQueueFor = (target: Side): QueueName => (target === 'acd' ? QUEUES.syncAcd : QUEUES.syncSalesforce);

export const JOBS = {
  /** inbound: apply the changes waiting in one inbox, in order. Payload: `{ inbox }` (never a secret). */
  ingest: 'ingest',
  /** sync-acd / sync-salesforce: bring one agent's side to its latest wanted state. Payload: `{ agentId }`. */
  sync: 'sync',
  /** sync-salesforce: check that a sent command was confirmed by the presence stream. */
  confirm: 'confirm',
} as const;

export interface IngestJobData { inbox: string }
export interface SyncJobData { agentId: string }
export interface ConfirmJobData { agentId: string; writeId: string; send: number }

/** Per queue, so per partition: with 8 partitions at most 8 × 3 × 1,000 completed jobs are kept (about 12 MB). */
const keep = { removeOnComplete: { age: 3600, count: 1000 }, removeOnFail: { age: 7 * 86_400, count: 50_000 } };

/** Ingest jobs: retried a few times (a failure here is a Redis or bug problem, not a vendor one). */
export const INBOUND_JOB_OPTIONS: DefaultJobOptions = { attempts: 10, backoff: { type: 'exponential', delay: 200 }, ...keep };

/** Outbound syncs: `attempts` and the first backoff delay come from the config. */
export function syncJobOptions(attempts: number, backoffMs: number): DefaultJobOptions {
  return { attempts, backoff: { type: 'exponential', delay: backoffMs }, ...keep };
}
