/** DI tokens of the daemon that are not classes. */
export const APP_CONFIG = Symbol('APP_CONFIG');
export const REDIS = Symbol('REDIS');
/** The Salesforce presence stream (a `ChangeSource`). */
export const SALESFORCE_STREAM = Symbol('SALESFORCE_STREAM');
/** BullMQ's connection (`BullConnection`): the queues' and workers' Redis, closed after them. */
export const BULL_CONNECTION = Symbol('BULL_CONNECTION');
