export * from './bull-sync.trigger';
export * from './queue-definitions';
export * from './redis-agent-state.store';
export * from './redis-audit.log';
export * from './redis-inbound.sink';
export * from './redis-keys';
export * from './redis-connection';
export * from './redis-checkpoint.store';
