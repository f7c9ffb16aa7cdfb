export * from './app-config';
export * from './salesforce-settings';
export * from './secrets';
export * from './secret-values';
export * from './amazon-connect-settings';
export * from './cxone-settings';
export * from './genesys-settings';
export * from './webex-settings';
