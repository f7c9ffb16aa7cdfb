import type { SalesforceSession } from './salesforce-session';

/** The start-up and drift-repair snapshot: every user's current presence row, with its capacity for workloads. */
export const CURRENT_PRESENCE_SOQL =
  'SELECT Id, UserId, ServicePresenceStatusId, StatusStartDate, ConfiguredCapacity FROM UserServicePresence WHERE IsCurrentState = true';
export const STATUS_CATALOG_SOQL = 'SELECT Id, DeveloperName, MasterLabel FROM ServicePresenceStatus';
/** The Omni-Channel service channels, named as workload rows name them. */
export const SERVICE_CHANNELS_SOQL = 'SELECT DeveloperName FROM ServiceChannel';
/** The fields of a user the directory needs, plus what the incremental refresh needs (`UserType`, `SystemModstamp`). */
const USER_FIELDS = 'Id, Username, Email, FederationIdentifier, IsActive, UserType, SystemModstamp';
/**
 * Users who can be agents: active users with a standard licence (`UserType = 'Standard'`, which includes the
 * Salesforce Platform licences) — not portal, partner, Chatter-only, guest or automated-process users.
 */
export const USERS_SOQL = `SELECT ${USER_FIELDS} FROM User WHERE IsActive = true AND UserType = 'Standard'`;

/**
 * Users changed since `sinceMs` (by `SystemModstamp`, which any change of the record moves), of every type and
 * state: a user deactivated or moved to another licence must be seen to be dropped.
 */
export function usersChangedSinceSoql(sinceMs: number): string {
  return `SELECT ${USER_FIELDS} FROM User WHERE SystemModstamp >= ${soqlDateTime(sinceMs)}`;
}

/** A SOQL dateTime literal (`2024-05-01T10:00:00Z`, unquoted, whole seconds, rounded down). */
export function soqlDateTime(epochMs: number): string {
  return new Date(Math.floor(epochMs / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** A SOQL string literal (backslash and quote escaped, as SOQL requires). */
export function soqlString(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

interface QueryPage<T> {
  totalSize: number;
  done: boolean;
  records: T[];
  nextRecordsUrl?: string;
}

/**
 * Every record of a SOQL query: the first page from `/query`, then `nextRecordsUrl` until `done` (REST's
 * queryMore; Salesforce pages at 2,000 rows). Each page is one session call, so an expired session costs a
 * re-login and that page again, not the whole query. `timeoutMs` bounds each request (jsforce's own default
 * is 30 minutes).
 */
export async function queryAll<T>(session: SalesforceSession, soql: string, timeoutMs: number): Promise<T[]> {
  const records: T[] = [];
  let url: string | undefined = `/query?q=${encodeURIComponent(soql)}`;
  while (url) {
    const pageUrl: string = url;
    const page: QueryPage<T> = await session.call((conn) => conn.request<QueryPage<T>>({ method: 'GET', url: pageUrl }, { timeout: timeoutMs }));
    records.push(...(page.records ?? []));
    url = !page.done && page.nextRecordsUrl ? page.nextRecordsUrl : undefined;
  }
  return records;
}
