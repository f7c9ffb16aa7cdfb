import { Injectable } from '@nestjs/common';
import { PartitionQueues, QUEUES, RedisPartitionWork } from '@presence-sync/redis';
import { withDeadline } from '../deadline';
import { PartitionDrain } from '../processors/partition-drain';
import { SyncRunner } from '../processors/sync-runner';
import { MetricsService } from './metrics.service';
import type { LatencySummary } from './recent-latency';

/** One queue's jobs by state: what waits (incl. prioritized), runs, waits for a retry or a pause, and failed. */
export interface QueueDepth {
  waiting: number;
  active: number;
  delayed: number;
  failed: number;
}

/** What the status page shows at a glance: recent sync latency and how much work is queued. */
export interface SyncActivity {
  /** The window the latency figures cover, in seconds. */
  windowSec: number;
  /** Per direction (`acd->salesforce`, `salesforce->acd`, `reconcile`); a direction without writes is left out. */
  latency: Record<string, LatencySummary>;
  /**
   * Summed over the partitions; null when Redis did not answer in time (the status still answers). `inbound`: inboxes
   * waiting for their partition's owner (`waiting`) and being applied on this replica (`active`); `due`: syncs and
   * confirmation checks scheduled (`delayed`) and syncs running in process on this replica (`active`); `sync-acd` and
   * `sync-salesforce`: the BullMQ queues where retries, rate-limited and paused syncs go on, and their failed sets.
   */
  queues: Record<string, QueueDepth> | null;
  /** Why `queues` is null. */
  queuesError?: string;
}

/** Longest wait for the queue counts, ms: the status endpoint must answer while Redis is slow or away. */
const QUEUE_COUNT_DEADLINE_MS = 1000;

/** Recent latency (from the audit feed, via the metrics) and the queues' depths, for GET /v1/status. */
@Injectable()
export class SyncActivityService {
  constructor(
    private readonly metrics: MetricsService,
    private readonly queues: PartitionQueues,
    private readonly work: RedisPartitionWork,
    private readonly drain: PartitionDrain,
    private readonly syncs: SyncRunner,
  ) {}

  async summary(now = Date.now()): Promise<SyncActivity> {
    const latency = this.metrics.recentLatency.summary(now);
    const windowSec = Math.round(this.metrics.recentLatency.windowMs / 1000);
    try {
      const [counts, depths] = await withDeadline(
        Promise.all([
          Promise.all(Object.values(QUEUES).map(async (name) => [name, await this.queues.counts(name, 'waiting', 'prioritized', 'active', 'delayed', 'failed')] as const)),
          this.work.depths(),
        ]),
        QUEUE_COUNT_DEADLINE_MS, `Redis did not answer the queue counts within ${QUEUE_COUNT_DEADLINE_MS} ms`,
      );
      const queues: Record<string, QueueDepth> = {
        inbound: { waiting: depths.ready, active: this.drain.applying, delayed: 0, failed: 0 },
        due: { waiting: 0, active: this.syncs.running, delayed: depths.due, failed: 0 },
      };
      for (const [name, c] of counts) {
        queues[name] = { waiting: (c.waiting ?? 0) + (c.prioritized ?? 0), active: c.active ?? 0, delayed: c.delayed ?? 0, failed: c.failed ?? 0 };
      }
      return { windowSec, latency, queues };
    } catch (e) {
      return { windowSec, latency, queues: null, queuesError: e instanceof Error ? e.message : String(e) };
    }
  }
}
