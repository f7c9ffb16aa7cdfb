export * from './contact-center-emulator';
export * from './http-body';
export * from './redis-server';
export * from './salesforce-emulator';
export * from './in-memory-agent-record.store';
export * from './in-memory-refresh-token.store';
