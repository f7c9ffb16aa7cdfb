import { SalesforceEmulator, salesforceEmulatorSandboxSeed, SANDBOX_SALESFORCE } from '@presence-sync/testing';

/** The PushTopic `presence-sync salesforce setup` creates in a real org. */
const USP_QUERY = 'SELECT Id, UserId, ServicePresenceStatusId, IsCurrentState, IsAway, StatusStartDate, StatusEndDate FROM UserServicePresence';

/**
 * A started Salesforce emulator with one user per e-mail and the daemon's PushTopic, for tests that run the
 * daemon as `presence-sync start` does: `SALESFORCE_MODE=live` (the daemon never makes up an org of its own).
 */
export async function startLiveSalesforce(emails: string[]): Promise<SalesforceEmulator> {
  const seed = salesforceEmulatorSandboxSeed(emails);
  const sf = new SalesforceEmulator({ ...seed, provision: { ...seed.provision, pushTopics: [{ name: 'PresenceSyncUSP', query: USP_QUERY }] } });
  await sf.start();
  return sf;
}

/** The daemon's settings for the emulator's sandbox org (password flow). */
export function liveSalesforceEnv(sf: SalesforceEmulator): Record<string, string> {
  return {
    SALESFORCE_MODE: 'live', SALESFORCE_LOGIN_URL: sf.baseUrl, SALESFORCE_AUTH: 'password',
    SALESFORCE_CLIENT_ID: SANDBOX_SALESFORCE.clientId, SALESFORCE_CLIENT_SECRET: SANDBOX_SALESFORCE.clientSecret,
    SALESFORCE_USERNAME: SANDBOX_SALESFORCE.username, SALESFORCE_PASSWORD: SANDBOX_SALESFORCE.password,
    SALESFORCE_SECURITY_TOKEN: SANDBOX_SALESFORCE.securityToken,
  };
}
