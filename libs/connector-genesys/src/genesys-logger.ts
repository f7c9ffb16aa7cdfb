/** The little logging the Genesys connector does; fields never carry secrets or tokens. */
export interface GenesysLogger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
}

const noop = (): void => undefined;

/** Discards everything (tests, and the CLI where results are printed instead). */
export const SILENT_GENESYS_LOGGER: GenesysLogger = { debug: noop, info: noop, warn: noop };
