/**
 * The little logging a contact-center connector does (reconnects, re-authentication, gaps, limits). The daemon
 * adapts its pino logger to this; fields never carry secrets, tokens or credentials.
 */
export interface ConnectorLogger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
}

const noop = (): void => undefined;

/** Discards everything (tests, and the CLI where results are printed instead). */
export const SILENT_CONNECTOR_LOGGER: ConnectorLogger = { debug: noop, info: noop, warn: noop };
