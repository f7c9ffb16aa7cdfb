export * from './contact-center-emulator';
export * from './http-body';
export * from './in-memory-salesforce.adapter';
export * from './redis-server';
export * from './sandbox-statuses';
export * from './salesforce-emulator';
export * from './in-memory-agent-record.store';
export * from './in-memory-refresh-token.store';
