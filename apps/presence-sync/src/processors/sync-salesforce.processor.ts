import { Injectable } from '@nestjs/common';
import type { Job } from 'bullmq';
import { JOBS, QUEUES, type ConfirmJobData, type SyncJobData } from '@presence-sync/redis';
import { SyncAgent, type SyncOutcome } from '@presence-sync/sync';
import { MetricsService } from '../services/metrics.service';
import { toQueueResult, unknownJob, type JobHandler, type PauseTarget } from './sync-job.runner';

/** Thin: send the latest wanted status to the agent's console, or check that a sent one was confirmed. */
@Injectable()
export class SyncSalesforceProcessor implements JobHandler {
  constructor(private readonly sync: SyncAgent, private readonly metrics: MetricsService) {}

  async process(job: Job<SyncJobData | ConfirmJobData>, pause: PauseTarget): Promise<string> {
    const attempt = job.attemptsMade + 1;
    if (job.name === JOBS.confirm) {
      const { agentId, writeId, send } = job.data as ConfirmJobData;
      return this.finish(await this.sync.confirm(agentId, writeId, send, attempt), pause);
    }
    if (job.name !== JOBS.sync) unknownJob(QUEUES.syncSalesforce, job.name);
    return this.finish(await this.sync.run('salesforce', job.data.agentId, attempt), pause);
  }

  private finish(outcome: SyncOutcome, pause: PauseTarget): Promise<string> {
    this.metrics.syncOutcome('salesforce', outcome);
    return toQueueResult(outcome, pause);
  }
}
