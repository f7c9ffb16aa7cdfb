import { Logger } from '@nestjs/common';
import { RepeatLimitedLog, type StructuredLogger } from './repeat-limited.log';

/** Anything that reports its connection problems as `error` events: ioredis clients, BullMQ queues and workers. */
export interface ErrorEmitter {
  on(event: 'error', listener: (error: Error) => void): unknown;
}

/**
 * The one place Redis connection errors are logged. Every client, queue and worker gets an `error` listener
 * here: without one, ioredis and BullMQ print each error to stderr as a multi-line dump that includes the failed
 * command's arguments (for AUTH, the password). Only the message is logged, as JSON, and an outage's repeats
 * (every reconnect of every connection) become one summary line per interval.
 */
export class RedisErrorLog {
  private readonly log: RepeatLimitedLog;

  constructor(logger: StructuredLogger = new Logger('Redis')) {
    this.log = new RepeatLimitedLog(logger);
  }

  /** Logs `source`'s errors (`source` names it in the line, e.g. `queue sync-acd`). */
  watch(emitter: ErrorEmitter, source: string): void {
    emitter.on('error', (error) => this.report(source, error));
  }

  report(source: string, error: unknown): void {
    const message = (error instanceof Error ? error.message : String(error)).split('\n')[0];
    const code = (error as { code?: unknown } | undefined)?.code;
    // Keyed by the message only: ten connections failing the same way are one problem.
    this.log.error(message, { msg: 'Redis connection error', source, error: message, ...(typeof code === 'string' ? { code } : {}) });
  }

  /** Writes pending summaries (at shutdown). */
  close(): void {
    this.log.close();
  }
}
