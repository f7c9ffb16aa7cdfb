import type { AuditRecord } from '@presence-sync/domain';
import type { RuleSet } from '@presence-sync/rules';
import type { AgentDirectory } from './agent-directory';

/** The rule set in force (hot reload swaps it). */
export abstract class RuleSetSource {
  abstract current(): RuleSet | undefined;
}

/** The agent directory in force (refreshed on a schedule). */
export abstract class DirectorySource {
  abstract current(): AgentDirectory;
}

/** Hears every audit record once it is stored (the metrics count writes, latency, echoes and stale drops from it). */
export abstract class AuditFeed {
  abstract recorded(records: readonly AuditRecord[]): void;
}

/** An audit feed nobody listens to. */
export class SilentAuditFeed extends AuditFeed {
  recorded(): void {
    // nothing listens
  }
}
