import type { Queue } from 'bullmq';
import { UnrecoverableError, Worker } from 'bullmq';
import type { SyncOutcome } from '@presence-sync/sync';

/** A job whose name no processor handles fails for good and says so (it would never succeed on retry). */
export function unknownJob(queue: string, name: string): never {
  throw new UnrecoverableError(`no processor for job "${name}" on queue ${queue}`);
}

/** Turns a sync use case's outcome into queue terms (engineering notes, style 4). */
export async function toQueueResult(outcome: SyncOutcome, queue: Queue): Promise<string> {
  switch (outcome.kind) {
    case 'done':
      return outcome.detail;
    case 'retry':
      throw outcome.error;
    case 'rate-limited':
      await queue.rateLimit(outcome.retryAfterMs);
      throw Worker.RateLimitError();
    case 'permanent':
      throw new UnrecoverableError(outcome.error.message);
  }
}
