export * from './agent-directory';
export * from './agent-transitions';
export * from './engine-settings';
export * from './ingest-change.use-case';
export * from './reconcile.use-case';
export * from './sources';
export * from './sync-agent.use-case';
export * from './transition-runner';
