import { Worker } from 'bullmq';
import { preciseNow } from './bench-stats';

/*
 * The baseline's consumer, in its own process as the daemon is: a bare BullMQ worker that only notes how long
 * each job took from `Queue.add` in the producer to the start of its processing. Reports the samples over IPC
 * when told to stop.
 */
const [redisUrl, queueName, concurrency] = [process.env.BENCH_REDIS_URL, process.env.BENCH_QUEUE, Number(process.env.BENCH_CONCURRENCY ?? '16')];
if (!redisUrl || !queueName || !process.send) {
  process.stderr.write('baseline worker: started without BENCH_REDIS_URL / BENCH_QUEUE or an IPC channel\n');
  process.exit(2);
}
const url = new URL(redisUrl);
const samples: number[] = [];
let firstAt = 0;
let lastAt = 0;
const worker = new Worker(queueName, async (job) => {
  const now = preciseNow();
  samples.push(now - (job.data as { t: number }).t);
  firstAt ||= now;
  lastAt = now;
}, {
  connection: { host: url.hostname, port: Number(url.port || 6379), maxRetriesPerRequest: null },
  prefix: process.env.BENCH_PREFIX ?? 'bull', concurrency, removeOnComplete: { count: 1000 }, removeOnFail: { count: 1000 },
});
worker.on('ready', () => process.send?.({ type: 'ready' }));
process.on('message', (m: { type: string }) => {
  if (m.type !== 'stop') return;
  void worker.close().then(() => {
    process.send?.({ type: 'result', samples, firstAt, lastAt }, () => process.exit(0));
  });
});
