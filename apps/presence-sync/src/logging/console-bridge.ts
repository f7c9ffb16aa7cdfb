import { format } from 'node:util';
import { Logger } from '@nestjs/common';

/**
 * Sends `console.*` through the daemon's logger, so a library that prints (BullMQ warns about Redis's eviction
 * policy with console.warn) writes a JSON line, masked like the rest, instead of plain text in the log stream.
 * For the daemon's own process only: the CLI's other commands print for people.
 */
export function routeConsoleToLogger(logger: Logger = new Logger('console')): void {
  const line = (args: unknown[]) => ({ msg: format(...args).split('\n')[0] });
  console.log = (...args: unknown[]) => logger.log(line(args));
  console.info = (...args: unknown[]) => logger.log(line(args));
  console.warn = (...args: unknown[]) => logger.warn(line(args));
  console.error = (...args: unknown[]) => logger.error(line(args));
}
