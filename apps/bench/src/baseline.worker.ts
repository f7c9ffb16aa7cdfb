import { Worker } from 'bullmq';
import Redis, { Cluster } from 'ioredis';
import { preciseNow } from './bench-stats';

/*
 * The baseline's consumer, in its own process as the daemon is: a bare BullMQ worker that only notes how long
 * each job took from `Queue.add` in the producer to the start of its processing. Reports the samples over IPC
 * when told to stop. BENCH_REDIS_CLUSTER_NODES (host:port,…) puts it on a cluster, else BENCH_REDIS_URL.
 */
const [redisUrl, clusterNodes, queueName, concurrency] = [
  process.env.BENCH_REDIS_URL, process.env.BENCH_REDIS_CLUSTER_NODES, process.env.BENCH_QUEUE, Number(process.env.BENCH_CONCURRENCY ?? '16'),
];
if ((!redisUrl && !clusterNodes) || !queueName || !process.send) {
  process.stderr.write('baseline worker: started without BENCH_REDIS_URL or BENCH_REDIS_CLUSTER_NODES, BENCH_QUEUE, or an IPC channel\n');
  process.exit(2);
}
const connection = clusterNodes
  ? new Cluster(clusterNodes.split(',').map((n) => ({ host: n.slice(0, n.lastIndexOf(':')), port: Number(n.slice(n.lastIndexOf(':') + 1)) })), { redisOptions: { maxRetriesPerRequest: null } })
  : new Redis(redisUrl as string, { maxRetriesPerRequest: null });
const samples: number[] = [];
let firstAt = 0;
let lastAt = 0;
const worker = new Worker(queueName, async (job) => {
  const now = preciseNow();
  samples.push(now - (job.data as { t: number }).t);
  firstAt ||= now;
  lastAt = now;
}, {
  connection, prefix: process.env.BENCH_PREFIX ?? 'bull', concurrency, removeOnComplete: { count: 1000 }, removeOnFail: { count: 1000 },
});
worker.on('ready', () => process.send?.({ type: 'ready' }));
process.on('message', (m: { type: string }) => {
  if (m.type !== 'stop') return;
  void worker.close().then(() => {
    process.send?.({ type: 'result', samples, firstAt, lastAt }, () => process.exit(0));
  });
});
