import { SyncTrigger, type Side } from '@presence-sync/domain';
import type { PartitionQueues } from './partition-queues';
import { JOBS, syncJobOptions, syncQueueFor, QUEUES, type ConfirmJobData, type SyncJobData } from './queue-definitions';
import { jobIdOf } from './redis-keys';

const confirmJobId = (writeId: string, send: number): string => jobIdOf(`confirm\n${writeId}\n${send}`);

/**
 * Sync triggers on BullMQ, in the agent's partition. `keepLastIfActive` de-duplication keeps at most one waiting
 * job per agent and target next to an active one; the job carries only the agent id, the worker reads the latest
 * want.
 */
export class BullSyncTrigger extends SyncTrigger {
  private readonly options: ReturnType<typeof syncJobOptions>;

  constructor(
    private readonly queues: PartitionQueues,
    attempts: number,
    backoffMs: number,
  ) {
    super();
    this.options = syncJobOptions(attempts, backoffMs);
  }

  async trigger(target: Side, agentId: string, delayMs = 0): Promise<void> {
    const data: SyncJobData = { agentId };
    // `replace`: a job sitting in retry backoff (or held back by burst damping) is swapped for this one, so a
    // newer want is written when this trigger says, with its own attempts, not after the old job's backoff.
    await this.queues.forAgent(syncQueueFor(target), agentId).add(JOBS.sync, data, {
      ...this.options, ...(delayMs > 0 ? { delay: delayMs } : {}), deduplication: { id: `${target}:${agentId}`, keepLastIfActive: true, replace: true },
    });
  }

  async scheduleConfirm(agentId: string, writeId: string, send: number, delayMs: number): Promise<void> {
    const data: ConfirmJobData = { agentId, writeId, send };
    await this.queues.forAgent(QUEUES.syncSalesforce, agentId).add(JOBS.confirm, data, { ...this.options, delay: delayMs, jobId: confirmJobId(writeId, send) });
  }

  async cancelConfirm(agentId: string, writeId: string, send: number): Promise<void> {
    // A job that is already running cannot be removed; it finds the write confirmed and does nothing.
    await this.queues.forAgent(QUEUES.syncSalesforce, agentId).remove(confirmJobId(writeId, send)).catch(() => 0);
  }
}
