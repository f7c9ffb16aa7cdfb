/** The little logging the Amazon Connect connector does; fields never carry credentials. */
export interface AmazonConnectLogger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
}

const noop = (): void => undefined;

export const SILENT_AMAZON_CONNECT_LOGGER: AmazonConnectLogger = { debug: noop, info: noop, warn: noop };
