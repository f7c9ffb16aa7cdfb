export { SalesforceEmulator } from './salesforce-emulator';
export { DEFAULT_AGENT_PROFILE, DEFAULT_INTEGRATION_PROFILE } from './emulator-org.store';
export {
  salesforceEmulatorSandboxSeed, SANDBOX_CAPACITY, SANDBOX_SALESFORCE, SANDBOX_SERVICE_CHANNELS, type SandboxSeedOptions,
} from './salesforce-emulator.seed';
export { createFayeClient } from './faye.loader';
export { PUSH_PAYLOAD_MAX } from './salesforce-rest.router';
export { toId18, sameId } from './salesforce-id.util';
export {
  AUTHENTICATION_INVALID, HANDSHAKE_DENIED, REQUEST_REQUIRES_AUTHENTICATION, UNKNOWN_CLIENT, invalidReplayIdError, unknownChannelError,
} from './salesforce-bayeux.extension';
export type {
  BayeuxMessage, FayeClient, FayeClientExtension, FayeClientOptions, FayeSubscription,
} from './faye.types';
export type * from './salesforce-emulator.types';
