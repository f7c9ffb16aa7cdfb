import { Injectable } from '@nestjs/common';
import type { Job } from 'bullmq';
import { QUEUES, type SyncJobData } from '@presence-sync/redis';
import { SyncAgent } from '@presence-sync/sync';
import { MetricsService } from '../services/metrics.service';
import { runSyncJob, type JobHandler, type PauseTarget } from './sync-job.runner';

/** Thin: send the latest wanted status to the agent's console (a run after the first, SyncRunner). */
@Injectable()
export class SyncSalesforceProcessor implements JobHandler {
  constructor(private readonly sync: SyncAgent, private readonly metrics: MetricsService) {}

  process(job: Job<SyncJobData>, pause: PauseTarget): Promise<string> {
    return runSyncJob(QUEUES.syncSalesforce, 'salesforce', job, pause, this.sync, this.metrics);
  }
}
