import { AuditLog, type AuditRecord } from '@presence-sync/domain';
import type { MetricsService } from './metrics.service';

/**
 * The audit log the engine writes to, counting each record in the metrics after it is stored. Every decision
 * is already audited, so metering here covers latency, writes out, echoes and stale drops without touching the
 * use cases.
 */
export class MeteredAuditLog extends AuditLog {
  constructor(private readonly inner: AuditLog, private readonly metrics: MetricsService) {
    super();
  }

  async append(record: AuditRecord): Promise<void> {
    await this.inner.append(record);
    // After the append: a record that failed to store is retried by its job and must not count twice.
    this.metrics.auditRecorded(record);
  }

  list(agentId: string, limit?: number): Promise<AuditRecord[]> {
    return this.inner.list(agentId, limit);
  }
}
