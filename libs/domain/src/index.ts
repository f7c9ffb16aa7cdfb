export * from './acd-state';
export * from './agent-record';
export * from './audit';
export * from './directory';
export * from './errors';
export * from './inbound-change';
export * from './ports';
export * from './salesforce-status';
