import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { AuditRecord, Side } from '@presence-sync/domain';
import type { SyncOutcome } from '@presence-sync/sync';
import { RecentLatency } from './recent-latency';

/** The side a record's write went to: from its direction, or for drift repair from the kind of state wanted. */
function targetSide(record: AuditRecord): Side {
  if (record.direction === 'acd->salesforce') return 'salesforce';
  if (record.direction === 'salesforce->acd') return 'acd';
  // Reconcile records carry no direction; an ACD state is an object, a Salesforce status a string.
  return typeof record.wanted === 'string' ? 'salesforce' : 'acd';
}

/** The side a record's change came from (`reconcile` for drift repair, which has no event). */
function sourceSide(record: AuditRecord): Side | 'reconcile' {
  return record.source?.side ?? (record.direction === 'acd->salesforce' ? 'acd' : record.direction === 'salesforce->acd' ? 'salesforce' : 'reconcile');
}

/** The daemon's Prometheus metrics (served at GET /metrics). One registry per daemon instance. */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();
  /** The last minute's write latencies, for the status page's p50 / p95 (the histogram below keeps the long view). */
  readonly recentLatency = new RecentLatency();
  private readonly eventsIn = new Counter({ name: 'presence_sync_events_in_total', help: 'Inbound changes queued, by side', labelNames: ['side'], registers: [this.registry] });
  private readonly failures = new Counter({
    name: 'presence_sync_write_failures_total', help: 'Outbound write failures by target side and class (retryable, permanent, rate-limited)',
    labelNames: ['side', 'class'], registers: [this.registry],
  });
  private readonly writes = new Counter({ name: 'presence_sync_sync_runs_total', help: 'Completed sync runs by target side and result', labelNames: ['side', 'result'], registers: [this.registry] });
  private readonly latency = new Histogram({
    name: 'presence_sync_sync_latency_seconds',
    help: 'From the source event reaching the daemon to the other side taking the write (applied, or confirmed by Salesforce), by direction',
    labelNames: ['direction'],
    // Sub-second is the normal case; the tail covers retries with backoff and Salesforce confirmations.
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    registers: [this.registry],
  });
  private readonly writesOut = new Counter({
    name: 'presence_sync_writes_out_total', help: 'Writes the other side took (applied, or confirmed by Salesforce), by target side', labelNames: ['side'], registers: [this.registry],
  });
  private readonly echoes = new Counter({
    name: 'presence_sync_echoes_suppressed_total', help: 'Our own writes reported back and not synced back, by the side that reported them', labelNames: ['side'], registers: [this.registry],
  });
  private readonly stale = new Counter({
    name: 'presence_sync_stale_dropped_total', help: 'Changes older than the known state, dropped, by side', labelNames: ['side'], registers: [this.registry],
  });
  private readonly streamActive = new Gauge({
    name: 'presence_sync_stream_active', help: 'Whether this replica consumes the Salesforce presence stream (1) or stands by (0)', registers: [this.registry],
  });
  private readonly inboxesReady = new Gauge({
    name: 'presence_sync_inboxes_ready', help: 'Inboxes waiting for their partition\'s owner to apply them, by partition', labelNames: ['partition'], registers: [this.registry],
  });
  private readonly dueEntries = new Gauge({
    name: 'presence_sync_due_entries', help: 'Syncs and confirmation checks scheduled in the due set (incl. guards of runs going on), by partition', labelNames: ['partition'], registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'presence_sync_' });
    // Every label value is known up front, so the series exist (at 0) before the first event: dashboards and
    // alerts on rate() see a series instead of nothing.
    for (const side of ['acd', 'salesforce'] as const) {
      this.eventsIn.inc({ side }, 0);
      this.writesOut.inc({ side }, 0);
      this.echoes.inc({ side }, 0);
      this.stale.inc({ side }, 0);
    }
  }

  /** This replica holds the stream lease (see StreamLeader); summed over replicas it must be 1. */
  setStreamActive(active: boolean): void {
    this.streamActive.set(active ? 1 : 0);
  }

  eventsQueued(side: Side, n: number): void {
    if (n > 0) this.eventsIn.inc({ side }, n);
  }

  syncOutcome(side: Side, outcome: SyncOutcome): void {
    if (outcome.kind === 'done') this.writes.inc({ side, result: outcome.detail.split(':')[0] });
    else this.failures.inc({ side, class: outcome.kind === 'retry' ? 'retryable' : outcome.kind });
  }

  /** One audit record (see MetricsAuditFeed): the audit trail is where every decision already passes. */
  auditRecorded(record: AuditRecord): void {
    switch (record.outcome) {
      case 'applied':
      case 'confirmed':
        this.writesOut.inc({ side: targetSide(record) });
        if (record.latencyMs !== undefined && record.latencyMs >= 0) {
          this.latency.observe({ direction: record.direction }, record.latencyMs / 1000);
          this.recentLatency.record(record.direction, record.latencyMs, Date.now());
        }
        return;
      case 'echo': {
        const side = sourceSide(record);
        if (side !== 'reconcile') this.echoes.inc({ side });
        return;
      }
      case 'stale': {
        const side = sourceSide(record);
        if (side !== 'reconcile') this.stale.inc({ side });
        return;
      }
      default:
        return;
    }
  }

  /**
   * The exposition text: our registry, then BullMQ's own queue metrics. Each queue's export repeats the
   * `# HELP` / `# TYPE` lines of the same metric names, and the text format wants each family described once
   * with all of its samples together; so the exports are regrouped by family (the samples differ by `queue`).
   */
  /** The partitions' ready and due set sizes, as read for this scrape. */
  partitionDepths(depths: readonly { ready: number; due: number }[]): void {
    depths.forEach((d, n) => {
      this.inboxesReady.set({ partition: String(n) }, d.ready);
      this.dueEntries.set({ partition: String(n) }, d.due);
    });
  }

  async render(queueExports: string[]): Promise<string> {
    const families = new Map<string, { meta: string[]; samples: string[] }>();
    const family = (name: string) => {
      let f = families.get(name);
      if (!f) families.set(name, (f = { meta: [], samples: [] }));
      return f;
    };
    for (const text of queueExports) {
      for (const line of text.split('\n')) {
        const meta = /^# (HELP|TYPE) (\S+)/.exec(line);
        if (meta) {
          const f = family(meta[2]);
          if (!f.meta.some((m) => m.startsWith(`# ${meta[1]} `))) f.meta.push(line);
          continue;
        }
        const name = /^([A-Za-z_:][A-Za-z0-9_:]*)/.exec(line)?.[1];
        if (name) family(name).samples.push(line);
      }
    }
    const queues = [...families.values()].flatMap((f) => [...f.meta, ...f.samples]);
    const own = await this.registry.metrics();
    return queues.length ? `${own.trimEnd()}\n${queues.join('\n')}\n` : own;
  }
}
