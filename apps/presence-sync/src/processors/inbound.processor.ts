import { Logger } from '@nestjs/common';
import { Processor, WorkerHost } from '@nestjs/bullmq';
import type { Job } from 'bullmq';
import { JOBS, QUEUES, type InboundJobData } from '@presence-sync/redis';
import { IngestChange } from '@presence-sync/sync';
import { DirectoryService } from '../services/directory.service';
import { KeyedSerializer } from './keyed-serializer';
import { unknownJob } from './sync-job.runner';
import { INBOUND_WORKER_OPTIONS } from './worker-options';

/** How old the directory may be before an unknown agent makes it refresh. */
const UNKNOWN_AGENT_REFRESH_MS = 30_000;

/** Thin: one inbound change → the ingest use case. */
@Processor(QUEUES.inbound, INBOUND_WORKER_OPTIONS)
export class InboundProcessor extends WorkerHost {
  private readonly logger = new Logger(InboundProcessor.name);
  /** One agent's changes in queue order (see KeyedSerializer); other agents' in parallel. */
  private readonly perAgent = new KeyedSerializer();

  constructor(private readonly ingest: IngestChange, private readonly directory: DirectoryService) {
    super();
  }

  async process(job: Job<InboundJobData>): Promise<string> {
    if (job.name !== JOBS.acdChange && job.name !== JOBS.salesforceChange) unknownJob(QUEUES.inbound, job.name);
    const change = job.data;
    // Keyed by the agent when the directory knows it, so both sides of one agent share the order.
    const dir = this.directory.current();
    const agentId = change.side === 'acd' ? change.agentId : dir.bySalesforceUser(change.userId)?.agentId;
    return this.perAgent.run(agentId ?? `${change.side}:${change.side === 'acd' ? change.agentId : change.userId}`, () => this.ingestOne(change));
  }

  private async ingestOne(change: InboundJobData): Promise<string> {
    let result = await this.ingest.run(change);
    if (result.outcome === 'unknown-agent' && (await this.directory.refreshIfOlderThan(UNKNOWN_AGENT_REFRESH_MS))) {
      result = await this.ingest.run(change);
    }
    if (result.outcome === 'unknown-agent') {
      this.logger.warn({ msg: 'change for an agent the directory does not know; not synced', side: change.side, eventId: change.eventId, agentId: change.side === 'acd' ? change.agentId : undefined, salesforceUserId: change.side === 'salesforce' ? change.userId : undefined });
    }
    return result.outcome;
  }
}
