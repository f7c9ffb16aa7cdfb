/**
 * The little logging the Salesforce adapter does (reconnects, re-authentication, dropped events). The daemon
 * adapts its pino logger to this; fields never carry secrets or tokens.
 */
export interface SalesforceLogger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

const noop = (): void => undefined;

/** Discards everything (tests, and the CLI where results are printed instead). */
export const SILENT_SALESFORCE_LOGGER: SalesforceLogger = { debug: noop, info: noop, warn: noop, error: noop };
