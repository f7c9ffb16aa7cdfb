import { Injectable } from '@nestjs/common';
import type { Job } from 'bullmq';
import { QUEUES, type SyncJobData } from '@presence-sync/redis';
import { SyncAgent } from '@presence-sync/sync';
import { MetricsService } from '../services/metrics.service';
import { runSyncJob, type JobHandler, type PauseTarget } from './sync-job.runner';

/** Thin: bring one agent's ACD state to its latest wanted state (a run after the first, SyncRunner). */
@Injectable()
export class SyncAcdProcessor implements JobHandler {
  constructor(private readonly sync: SyncAgent, private readonly metrics: MetricsService) {}

  process(job: Job<SyncJobData>, pause: PauseTarget): Promise<string> {
    return runSyncJob(QUEUES.syncAcd, 'acd', job, pause, this.sync, this.metrics);
  }
}
