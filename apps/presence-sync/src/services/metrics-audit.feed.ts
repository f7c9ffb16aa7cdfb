import type { AuditRecord } from '@presence-sync/domain';
import { AuditFeed } from '@presence-sync/sync';
import type { MetricsService } from './metrics.service';

/**
 * Counts every audit record in the metrics once it is stored. Every decision is audited, so this covers latency,
 * writes out, echoes and stale drops without the use cases knowing about metrics.
 */
export class MetricsAuditFeed extends AuditFeed {
  constructor(private readonly metrics: MetricsService) {
    super();
  }

  recorded(records: readonly AuditRecord[]): void {
    for (const r of records) this.metrics.auditRecorded(r);
  }
}
