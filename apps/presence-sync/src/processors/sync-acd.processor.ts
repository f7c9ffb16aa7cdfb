import { InjectQueue, Processor, WorkerHost } from '@nestjs/bullmq';
import type { Job, Queue } from 'bullmq';
import { JOBS, QUEUES, type SyncJobData } from '@presence-sync/redis';
import { SyncAgent } from '@presence-sync/sync';
import { MetricsService } from '../services/metrics.service';
import { toQueueResult, unknownJob } from './sync-job.runner';
import { SYNC_WORKER_OPTIONS } from './worker-options';

/** Thin: bring one agent's ACD state to its latest wanted state. */
@Processor(QUEUES.syncAcd, SYNC_WORKER_OPTIONS)
export class SyncAcdProcessor extends WorkerHost {
  constructor(private readonly sync: SyncAgent, @InjectQueue(QUEUES.syncAcd) private readonly queue: Queue, private readonly metrics: MetricsService) {
    super();
  }

  async process(job: Job<SyncJobData>): Promise<string> {
    if (job.name !== JOBS.sync) unknownJob(QUEUES.syncAcd, job.name);
    const outcome = await this.sync.run('acd', job.data.agentId, job.attemptsMade + 1);
    this.metrics.syncOutcome('acd', outcome);
    return toQueueResult(outcome, this.queue);
  }
}
