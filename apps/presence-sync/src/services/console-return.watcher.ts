import { Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { SalesforcePort, SyncTrigger } from '@presence-sync/domain';
import { DirectoryService } from './directory.service';

/**
 * Resumes the writes held for a closed console: when the Salesforce adapter announces that a user's console is
 * open again, that agent's Salesforce sync runs now instead of at its late re-check.
 */
@Injectable()
export class ConsoleReturnWatcher implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(ConsoleReturnWatcher.name);
  private unsubscribe?: () => void;

  constructor(private readonly salesforce: SalesforcePort, private readonly trigger: SyncTrigger, private readonly directory: DirectoryService) {}

  onApplicationBootstrap(): void {
    this.unsubscribe = this.salesforce.onConsoleOnline((userId) => {
      const agentId = this.directory.current().bySalesforceUser(userId)?.agentId;
      if (!agentId) return;
      void this.trigger.trigger('salesforce', agentId).catch((e: Error) => this.logger.warn({ msg: 'could not resume a write held for a closed console', agentId, error: e.message }));
    });
  }

  onModuleDestroy(): void {
    this.unsubscribe?.();
  }
}
