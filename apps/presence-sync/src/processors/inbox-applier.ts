import { Injectable, Logger } from '@nestjs/common';
import type { InboundChange } from '@presence-sync/domain';
import { agentIdOfInbox, RedisInboundSink } from '@presence-sync/redis';
import { IngestChange } from '@presence-sync/sync';
import { DirectoryService } from '../services/directory.service';

/** How old the directory may be before an unknown agent makes it refresh. */
const UNKNOWN_AGENT_REFRESH_MS = 30_000;

/**
 * Thin: one ready inbox → the ingest use case, which applies its changes in order. A Salesforce user's inbox (the
 * user was unknown at intake) is forwarded to the agent's inbox instead, which may be in another partition.
 */
@Injectable()
export class InboxApplier {
  private readonly logger = new Logger(InboxApplier.name);

  constructor(private readonly ingest: IngestChange, private readonly directory: DirectoryService, private readonly sink: RedisInboundSink) {}

  /** Applies (or forwards) what the inbox holds; returns what it did, for the logs. */
  async apply(inbox: string): Promise<string> {
    if (agentIdOfInbox(inbox) === undefined) {
      const agentOf = (change: InboundChange) => this.ingest.agentOf(change)?.agentId;
      let forward = await this.sink.forward(inbox, agentOf);
      if (forward.unknown) {
        await this.unknownAgent(forward.unknown);
        const rest = await this.sink.forward(inbox, agentOf, true);
        forward = { forwarded: forward.forwarded + rest.forwarded };
      }
      return `${forward.forwarded} forwarded`;
    }
    let result = await this.ingest.drain(inbox);
    if (result.unknown) {
      await this.unknownAgent(result.unknown);
      const rest = await this.ingest.drain(inbox, true);
      result = { outcomes: [...result.outcomes, ...rest.outcomes] };
    }
    return `${result.outcomes.length} applied`;
  }

  /** A change of an agent the directory does not know: a new hire may be behind a stale directory. */
  private async unknownAgent(change: InboundChange): Promise<void> {
    const refreshed = await this.directory.refreshIfOlderThan(UNKNOWN_AGENT_REFRESH_MS);
    if (!refreshed || this.ingest.agentOf(change) === undefined) {
      this.logger.warn({
        msg: 'change for an agent the directory does not know; not synced', side: change.side, eventId: change.eventId,
        agentId: change.side === 'acd' ? change.agentId : undefined, salesforceUserId: change.side === 'salesforce' ? change.userId : undefined,
      });
    }
  }
}
