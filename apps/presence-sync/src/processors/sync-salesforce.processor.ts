import { InjectQueue, Processor, WorkerHost } from '@nestjs/bullmq';
import type { Job, Queue } from 'bullmq';
import { JOBS, QUEUES, type ConfirmJobData, type SyncJobData } from '@presence-sync/redis';
import { SyncAgent, type SyncOutcome } from '@presence-sync/sync';
import { MetricsService } from '../services/metrics.service';
import { toQueueResult, unknownJob } from './sync-job.runner';
import { SYNC_WORKER_OPTIONS } from './worker-options';

/** Thin: send the latest wanted status to the agent's console, or check that a sent one was confirmed. */
@Processor(QUEUES.syncSalesforce, SYNC_WORKER_OPTIONS)
export class SyncSalesforceProcessor extends WorkerHost {
  constructor(private readonly sync: SyncAgent, @InjectQueue(QUEUES.syncSalesforce) private readonly queue: Queue, private readonly metrics: MetricsService) {
    super();
  }

  async process(job: Job<SyncJobData | ConfirmJobData>): Promise<string> {
    const attempt = job.attemptsMade + 1;
    if (job.name === JOBS.confirm) {
      const { agentId, writeId, send } = job.data as ConfirmJobData;
      return this.finish(await this.sync.confirm(agentId, writeId, send, attempt));
    }
    if (job.name !== JOBS.sync) unknownJob(QUEUES.syncSalesforce, job.name);
    return this.finish(await this.sync.run('salesforce', job.data.agentId, attempt));
  }

  private finish(outcome: SyncOutcome): Promise<string> {
    this.metrics.syncOutcome('salesforce', outcome);
    return toQueueResult(outcome, this.queue);
  }
}
