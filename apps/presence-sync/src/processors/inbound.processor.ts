import { Logger } from '@nestjs/common';
import { Processor, WorkerHost } from '@nestjs/bullmq';
import type { Job } from 'bullmq';
import { agentIdOfInbox, JOBS, QUEUES, type IngestJobData } from '@presence-sync/redis';
import { IngestChange } from '@presence-sync/sync';
import { DirectoryService } from '../services/directory.service';
import { unknownJob } from './sync-job.runner';
import { INBOUND_WORKER_OPTIONS } from './worker-options';

/** How old the directory may be before an unknown agent makes it refresh. */
const UNKNOWN_AGENT_REFRESH_MS = 30_000;

/** Thin: one inbox → the ingest use case, which applies its changes in order. */
@Processor(QUEUES.inbound, INBOUND_WORKER_OPTIONS)
export class InboundProcessor extends WorkerHost {
  private readonly logger = new Logger(InboundProcessor.name);

  constructor(private readonly ingest: IngestChange, private readonly directory: DirectoryService) {
    super();
  }

  async process(job: Job<IngestJobData>): Promise<string> {
    if (job.name !== JOBS.ingest) unknownJob(QUEUES.inbound, job.name);
    const { inbox } = job.data;
    let result = await this.ingest.drain(inbox);
    if (result.unknown) {
      // A change of an agent the directory does not know: a new hire may be behind a stale directory.
      const refreshed = await this.directory.refreshIfOlderThan(UNKNOWN_AGENT_REFRESH_MS);
      const change = result.unknown;
      if (!refreshed || this.ingest.agentOf(change) === undefined) {
        this.logger.warn({
          msg: 'change for an agent the directory does not know; not synced', side: change.side, eventId: change.eventId,
          agentId: change.side === 'acd' ? change.agentId : undefined, salesforceUserId: change.side === 'salesforce' ? change.userId : undefined,
        });
      }
      const rest = await this.ingest.drain(inbox, true);
      result = { outcomes: [...result.outcomes, ...rest.outcomes] };
    }
    // Nothing to apply: perhaps a re-run after a crash that stored its transition but lost its triggers.
    const agentId = agentIdOfInbox(inbox);
    if (result.outcomes.length === 0 && agentId) await this.ingest.resumePending(agentId);
    return `${result.outcomes.length} applied`;
  }
}
