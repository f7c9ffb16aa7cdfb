export * from './agent-event-stream.reader';
export * from './amazon-connect-agent-event.mapping';
export * from './amazon-connect-rate-limiter';
export * from './amazon-connect.connector';
