/**
 * A Salesforce presence status: a `ServicePresenceStatus` DeveloperName (never the label), or the reserved
 * word `Offline` (no current `UserServicePresence` row: logged out of Omni-Channel).
 */
export type SalesforceStatus = string;
export const SALESFORCE_OFFLINE: SalesforceStatus = 'Offline';
