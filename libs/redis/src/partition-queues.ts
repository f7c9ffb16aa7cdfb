import { Queue, type ConnectionOptions, type JobType } from 'bullmq';
import { QUEUES, type QueueName } from './queue-definitions';
import { RedisKeys } from './redis-keys';

/**
 * The daemon's queues, one set per partition: `sync-acd` and `sync-salesforce` of partition n live
 * under `{prefix}:{pn}:q`, so each partition's jobs sit in one Redis Cluster slot and its scripts never cross
 * slots. Any replica may add to any partition's queues; only the partition's owner runs workers on them
 * (PartitionWorkers). Queues are created on first use and share one connection.
 */
export class PartitionQueues {
  private readonly queues = new Map<string, Queue>();
  private readonly partitionOf = new Map<Queue, number>();
  private readonly created: ((queue: Queue) => void)[] = [];

  constructor(readonly keys: RedisKeys, private readonly connection: ConnectionOptions) {}

  /** The queue `name` of partition `n`. */
  queue(name: QueueName, n: number): Queue {
    const id = `${name}/${n}`;
    let queue = this.queues.get(id);
    if (!queue) {
      queue = new Queue(name, { connection: this.connection, prefix: this.keys.queuePrefix(n) });
      this.queues.set(id, queue);
      this.partitionOf.set(queue, n);
      for (const listener of this.created) listener(queue);
    }
    return queue;
  }

  /** The queue `name` of the agent's partition. */
  forAgent(name: QueueName, agentId: string): Queue {
    return this.queue(name, this.keys.partitionOfAgent(agentId));
  }

  /** Every queue of every partition (created now if need be), e.g. for counts and the dashboard. */
  all(): Queue[] {
    for (let n = 0; n < this.keys.partitions; n++) for (const name of Object.values(QUEUES)) this.queue(name, n);
    return [...this.queues.values()];
  }

  /** Calls `listener` for every queue made from now on, and for those made already. */
  onCreate(listener: (queue: Queue) => void): void {
    this.created.push(listener);
    for (const queue of this.queues.values()) listener(queue);
  }

  /** The partition a queue of this set belongs to. */
  partitionOfQueue(queue: Queue): number {
    const n = this.partitionOf.get(queue);
    if (n === undefined) throw new Error(`PartitionQueues: queue ${queue.name} is not one of this set`);
    return n;
  }

  /** Job counts of one queue name summed over the partitions. */
  async counts(name: QueueName, ...types: JobType[]): Promise<Record<string, number>> {
    const sum: Record<string, number> = {};
    const perPartition = await Promise.all(Array.from({ length: this.keys.partitions }, (_, n) => this.queue(name, n).getJobCounts(...types)));
    for (const counts of perPartition) for (const [k, v] of Object.entries(counts)) sum[k] = (sum[k] ?? 0) + v;
    return sum;
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.queues.values()].map((q) => q.close()));
  }
}
