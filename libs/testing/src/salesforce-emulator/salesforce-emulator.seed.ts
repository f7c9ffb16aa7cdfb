import { SANDBOX_STATUSES } from '../sandbox-statuses';
import type { SalesforceEmulatorOptions, SalesforceEmulatorServiceChannelSeed, SalesforceEmulatorUserSeed } from './salesforce-emulator.types';

/**
 * The service channels of the emulated org: chats (`sfdc_liveagent`, weight 1) and cases (`sfdc_case`, weight 2).
 * With the sandbox capacity of 3, three chats or a chat and a case fill an agent.
 */
export const SANDBOX_SERVICE_CHANNELS: readonly SalesforceEmulatorServiceChannelSeed[] = [
  { developerName: 'sfdc_liveagent', label: 'Chat', relatedEntity: 'LiveChatTranscript', weight: 1 },
  { developerName: 'sfdc_case', label: 'Case', relatedEntity: 'Case', weight: 2 },
];

/** ConfiguredCapacity of the sandbox agents' presence rows. */
export const SANDBOX_CAPACITY = 3;

/** The sandbox's connected app and integration user (no real credentials: they only open the local emulator). */
export const SANDBOX_SALESFORCE = {
  clientId: '3MVG9sandbox.presence-sync.emulator.consumer-key',
  clientSecret: 'sandbox-consumer-secret-0123456789',
  username: 'presence-sync@sandbox.example.com',
  password: 'sandbox-password',
  securityToken: 'SANDBOXTOKEN0123456789',
} as const;

export interface SandboxSeedOptions {
  /** DeveloperName each agent starts in, by e-mail (case-insensitive). Default: every agent offline. */
  initialStatus?: (email: string, index: number) => string | undefined;
  /** Create the command StreamingChannel up front (consoles need it to subscribe). Default true. */
  provisionCommandChannel?: boolean;
}

/**
 * Options for a sandbox org mirroring a contact center's agents: one Salesforce user per agent e-mail
 * (username = the e-mail in lower case; ids `005000000000001…` as `InMemorySalesforce` numbers them), the
 * sandbox status catalog (`SANDBOX_STATUSES`; every status but `Available_*` counts as away), the service
 * channels `SANDBOX_SERVICE_CHANNELS` with a capacity of `SANDBOX_CAPACITY` per agent, an integration
 * user for the username-password and client-credentials flows, and the `/u/PresenceSyncCommand` channel.
 * Add `port`, `now`, `jwt` etc. as needed.
 */
export function salesforceEmulatorSandboxSeed(agentEmails: string[], options: SandboxSeedOptions = {}): SalesforceEmulatorOptions {
  const users: SalesforceEmulatorUserSeed[] = agentEmails.map((email, i) => {
    const status = options.initialStatus?.(email, i);
    const [first, last] = email.split('@')[0].split('.');
    const name = (part: string): string => part.charAt(0).toUpperCase() + part.slice(1);
    return {
      username: email.toLowerCase(),
      email,
      ...(last ? { firstName: name(first), lastName: name(last) } : {}),
      ...(status ? { status } : {}),
      capacity: SANDBOX_CAPACITY,
    };
  });
  return {
    apiVersion: '62.0',
    clientId: SANDBOX_SALESFORCE.clientId,
    clientSecret: SANDBOX_SALESFORCE.clientSecret,
    users,
    integrationUser: {
      username: SANDBOX_SALESFORCE.username,
      email: SANDBOX_SALESFORCE.username,
      firstName: 'Presence',
      lastName: 'Sync',
      password: SANDBOX_SALESFORCE.password,
      securityToken: SANDBOX_SALESFORCE.securityToken,
    },
    clientCredentialsUser: SANDBOX_SALESFORCE.username,
    serviceChannels: SANDBOX_SERVICE_CHANNELS.map((c) => ({ ...c })),
    statuses: SANDBOX_STATUSES.map((s) => ({ id: s.id, developerName: s.developerName, label: s.label, isAway: !s.developerName.startsWith('Available') })),
    ...(options.provisionCommandChannel === false ? {} : { provision: { streamingChannels: ['/u/PresenceSyncCommand'] } }),
  };
}
