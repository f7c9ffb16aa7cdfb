import { Logger, type LoggerService } from '@nestjs/common';
import { RepeatLimitedLog } from './repeat-limited.log';

/**
 * Terminus's logger. It reports each failed readiness check at error level, and anyone may call /ready (a load
 * balancer every few seconds, or a stranger): a failing check is a warning, once per interval with a count.
 */
export class ReadinessLogger implements LoggerService {
  private readonly logger = new Logger('Readiness');
  private readonly failures = new RepeatLimitedLog(this.logger);

  error(message: unknown): void {
    const detail = typeof message === 'string' ? message : JSON.stringify(message);
    this.failures.warn('readiness', { msg: 'readiness check failed', detail });
  }

  warn(message: unknown): void {
    this.logger.warn(message);
  }

  log(message: unknown): void {
    this.logger.log(message);
  }
}
