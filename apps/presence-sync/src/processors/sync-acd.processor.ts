import { Injectable } from '@nestjs/common';
import type { Job } from 'bullmq';
import { JOBS, QUEUES, type SyncJobData } from '@presence-sync/redis';
import { SyncAgent } from '@presence-sync/sync';
import { MetricsService } from '../services/metrics.service';
import { toQueueResult, unknownJob, type JobHandler, type PauseTarget } from './sync-job.runner';

/** Thin: bring one agent's ACD state to its latest wanted state. */
@Injectable()
export class SyncAcdProcessor implements JobHandler {
  constructor(private readonly sync: SyncAgent, private readonly metrics: MetricsService) {}

  async process(job: Job<SyncJobData>, pause: PauseTarget): Promise<string> {
    if (job.name !== JOBS.sync) unknownJob(QUEUES.syncAcd, job.name);
    const outcome = await this.sync.run('acd', job.data.agentId, job.attemptsMade + 1);
    this.metrics.syncOutcome('acd', outcome);
    return toQueueResult(outcome, pause);
  }
}
