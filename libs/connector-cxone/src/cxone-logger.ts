/**
 * The little logging the CXone connector does (poll failures, re-authentication, gaps). The daemon adapts its
 * pino logger to this; fields never carry secrets or tokens.
 */
export interface CxoneLogger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
}

const noop = (): void => undefined;

/** Discards everything (tests, and the CLI where results are printed instead). */
export const SILENT_CXONE_LOGGER: CxoneLogger = { debug: noop, info: noop, warn: noop };
