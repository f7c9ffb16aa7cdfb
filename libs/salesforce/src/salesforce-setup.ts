import type { SalesforceSettings } from '@presence-sync/config';
import { salesforceErrorCode, salesforceErrorMessage } from './salesforce-errors';
import type { SalesforceSession } from './salesforce-session';
import { OPEN_WORK_SOQL } from './agent-work.reader';
import { queryAll, soqlString, STATUS_CATALOG_SOQL } from './soql';
import { closeFayeClient, createStreamingClient, MetaMonitorExtension, REPLAY_NEW } from './streaming-client';
import type { BayeuxMessage } from './faye-client.types';

/**
 * The PushTopic query: USP rows with the fields the lifecycle translator reads (no relationship fields). The
 * capacity fields are there because `NotifyForFields = Referenced` reports an update only when a field of the
 * query changed: Omni-Channel updates AverageCapacity, AtCapacityDuration and IdleDuration of the current row
 * "when the agent's capacity changes" (assigned, declined or closed work), and that update is the daemon's
 * trigger to read the agent's open AgentWork. ConfiguredCapacity comes along for the at-capacity test.
 * Defined once: setup, the tests and the sandbox use this constant.
 */
export const USP_PUSH_TOPIC_QUERY =
  'SELECT Id, UserId, ServicePresenceStatusId, IsCurrentState, IsAway, StatusStartDate, StatusEndDate, ConfiguredCapacity, AverageCapacity, AtCapacityDuration, IdleDuration FROM UserServicePresence';

export interface PushTopicRecord {
  Id: string;
  Name: string;
  Query: string;
  ApiVersion: number;
  IsActive: boolean;
  NotifyForFields: string;
  NotifyForOperationCreate: boolean;
  NotifyForOperationUpdate: boolean;
  NotifyForOperationDelete: boolean;
  NotifyForOperationUndelete: boolean;
}

/** What one setup or check step found or did. */
export interface SetupStep {
  subject: string;
  /** `warning`: worth fixing, but nothing the current rules need (not counted as a problem). */
  outcome: 'found' | 'created' | 'updated' | 'missing' | 'ok' | 'failed' | 'warning';
  detail: string;
  /** Further lines under the step (a grouped report), printed indented. */
  lines?: string[];
}

/** The PushTopic the daemon needs, for the configured name and API version. */
export function pushTopicDefinition(settings: SalesforceSettings): Omit<PushTopicRecord, 'Id'> & { Description: string } {
  return {
    Name: settings.pushTopic,
    Query: USP_PUSH_TOPIC_QUERY,
    ApiVersion: Number(settings.apiVersion),
    IsActive: true,
    NotifyForFields: 'Referenced',
    NotifyForOperationCreate: true,
    NotifyForOperationUpdate: true,
    // Deletes and undeletes say nothing about presence; not subscribing saves daily event allocation.
    NotifyForOperationDelete: false,
    NotifyForOperationUndelete: false,
    Description: 'presence-sync: Omni-Channel presence and capacity changes (UserServicePresence)',
  };
}

const DIFF_FIELDS = [
  'Query', 'ApiVersion', 'IsActive', 'NotifyForFields', 'NotifyForOperationCreate', 'NotifyForOperationUpdate',
  'NotifyForOperationDelete', 'NotifyForOperationUndelete',
] as const;

const normaliseQuery = (q: string): string => q.replace(/\s+/g, ' ').trim().toLowerCase();

/**
 * The Salesforce side of `presence-sync salesforce setup` / `check`. Setup is idempotent: it finds the
 * PushTopic and the command StreamingChannel by name, creates what is missing and corrects a PushTopic whose
 * definition drifted; `check` only reads (and briefly subscribes).
 */
export class SalesforceSetup {
  constructor(private readonly session: SalesforceSession, private readonly settings: SalesforceSettings) {}

  async findPushTopic(): Promise<PushTopicRecord | undefined> {
    const soql = `SELECT Id, Name, Query, ApiVersion, IsActive, NotifyForFields, NotifyForOperationCreate, NotifyForOperationUpdate, NotifyForOperationDelete, NotifyForOperationUndelete FROM PushTopic WHERE Name = ${soqlString(this.settings.pushTopic)}`;
    return (await queryAll<PushTopicRecord>(this.session, soql, this.settings.requestTimeoutMs))[0];
  }

  /** Fields of an existing PushTopic that differ from the wanted definition. */
  pushTopicDrift(existing: PushTopicRecord): (typeof DIFF_FIELDS)[number][] {
    const wanted = pushTopicDefinition(this.settings);
    return DIFF_FIELDS.filter((field) =>
      field === 'Query' ? normaliseQuery(existing.Query) !== normaliseQuery(wanted.Query)
        : field === 'ApiVersion' ? Number(existing.ApiVersion) !== wanted.ApiVersion
          : existing[field] !== wanted[field]);
  }

  async ensurePushTopic(): Promise<SetupStep> {
    const subject = `PushTopic ${this.settings.pushTopic}`;
    const wanted = pushTopicDefinition(this.settings);
    const existing = await this.findPushTopic();
    if (!existing) {
      const created = await this.session.call((conn) => conn.request<{ id: string }>({
        method: 'POST', url: '/sobjects/PushTopic', body: JSON.stringify(wanted), headers: { 'content-type': 'application/json' },
      }, { timeout: this.settings.requestTimeoutMs }));
      return { subject, outcome: 'created', detail: `created (${created.id}): ${wanted.Query}; API ${this.settings.apiVersion}; create+update, fields Referenced` };
    }
    const drift = this.pushTopicDrift(existing);
    if (drift.length === 0) return { subject, outcome: 'found', detail: `exists (${existing.Id}) as wanted` };
    const patch: Record<string, unknown> = {};
    for (const field of drift) patch[field] = wanted[field];
    try {
      await this.session.call((conn) => conn.request({
        method: 'PATCH', url: `/sobjects/PushTopic/${existing.Id}`, body: JSON.stringify(patch), headers: { 'content-type': 'application/json' },
      }, { timeout: this.settings.requestTimeoutMs }));
    } catch (e) {
      // The integration permission set grants PushTopic Read and Create only (docs/salesforce-setup.md).
      return {
        subject, outcome: 'failed',
        detail: `exists (${existing.Id}) with a different ${drift.join(', ')} and could not be updated (${describeFailure(e)}): delete it and run setup again`,
      };
    }
    return { subject, outcome: 'updated', detail: `existed (${existing.Id}) with a different ${drift.join(', ')}: updated` };
  }

  async findCommandChannel(): Promise<{ Id: string; Name: string } | undefined> {
    const soql = `SELECT Id, Name FROM StreamingChannel WHERE Name = ${soqlString(this.settings.commandChannel)}`;
    return (await queryAll<{ Id: string; Name: string }>(this.session, soql, this.settings.requestTimeoutMs))[0];
  }

  async ensureCommandChannel(): Promise<SetupStep> {
    const subject = `StreamingChannel ${this.settings.commandChannel}`;
    const existing = await this.findCommandChannel();
    if (existing) return { subject, outcome: 'found', detail: `exists (${existing.Id})` };
    const created = await this.session.call((conn) => conn.request<{ id: string }>({
      method: 'POST', url: '/sobjects/StreamingChannel',
      body: JSON.stringify({ Name: this.settings.commandChannel, Description: 'presence-sync: commands to the agent console relay' }),
      headers: { 'content-type': 'application/json' },
    }, { timeout: this.settings.requestTimeoutMs }));
    return { subject, outcome: 'created', detail: `created (${created.id})` };
  }

  /** Which of the status DeveloperNames (e.g. those the rules name) the org's catalog lacks. */
  async checkStatuses(required: readonly string[]): Promise<{ known: string[]; missing: string[] }> {
    const rows = await queryAll<{ DeveloperName: string }>(this.session, STATUS_CATALOG_SOQL, this.settings.requestTimeoutMs);
    const known = rows.map((r) => r.DeveloperName).sort();
    const have = new Set(known);
    const missing = [...new Set(required)].filter((name) => name !== 'Offline' && !have.has(name)).sort();
    return { known, missing };
  }

  /**
   * A short streaming test: handshake and subscribe to the PushTopic with replay -1 (receives nothing old,
   * changes nothing), then disconnect. Resolves the outcome; never throws.
   */
  async probeStreaming(timeoutMs = 15_000): Promise<SetupStep> {
    const channel = `/topic/${this.settings.pushTopic}`;
    const subject = `streaming ${channel}`;
    try {
      await this.session.connect();
    } catch (e) {
      return { subject, outcome: 'failed', detail: `no session: ${salesforceErrorMessage(e)}` };
    }
    let settle!: (step: SetupStep) => void;
    const done = new Promise<SetupStep>((resolve) => {
      settle = resolve;
    });
    const observe = (m: BayeuxMessage): void => {
      if (m.channel === '/meta/handshake' && m.successful === false) {
        settle({ subject, outcome: 'failed', detail: `handshake refused: ${m.error ?? 'unknown'}${m.ext?.sfdc?.failureReason ? ` (${m.ext.sfdc.failureReason})` : ''}` });
      } else if (m.channel === '/meta/subscribe' && m.subscription === channel) {
        settle(m.successful
          ? { subject, outcome: 'ok', detail: `handshake and subscribe ok (${this.session.connection.instanceUrl}/cometd/${this.settings.apiVersion})` }
          : { subject, outcome: 'failed', detail: `subscribe refused: ${m.error ?? 'unknown'}` });
      }
    };
    const { client } = createStreamingClient({
      connection: this.session.connection, channel, replayFrom: REPLAY_NEW, extensions: [new MetaMonitorExtension(observe)], proxyUrl: this.settings.proxyUrl,
    });
    const timer = setTimeout(() => settle({ subject, outcome: 'failed', detail: `no answer within ${timeoutMs} ms` }), timeoutMs);
    try {
      client.subscribe(channel, () => undefined);
      return await done;
    } finally {
      clearTimeout(timer);
      await closeFayeClient(client);
    }
  }
}

/** One entry of the REST `/limits` resource. */
export interface OrgLimit {
  Max: number;
  Remaining: number;
}

/**
 * The streaming allocations `/limits` reports, by their Durable Streaming names (API 37.0 and later) with the
 * older names (36.0 and earlier) as a fallback: PushTopic and generic event notifications delivered in the
 * last 24 hours to all CometD clients, and concurrent CometD clients. Each console with the relay is a client.
 */
const STREAMING_LIMITS = [
  { what: 'PushTopic events', window: ' in 24 h', keys: ['DailyDurableStreamingApiEvents', 'DailyStreamingApiEvents'] },
  { what: 'generic events', window: ' in 24 h', keys: ['DailyDurableGenericStreamingApiEvents', 'DailyGenericStreamingApiEvents'] },
  { what: 'CometD clients', window: '', keys: ['DurableStreamingApiConcurrentClients', 'StreamingApiConcurrentClients'] },
] as const;

/** A share of an allocation from which `check` calls it a problem. */
const LIMIT_WARN_SHARE = 0.9;

const PRESENCE_OBJECT = 'UserServicePresence';

/**
 * Whether the logged-in user may read every UserServicePresence row. The object supports no sharing rules:
 * without "View All Data" (or "Modify All Data") or "View All" on the object, a user reads only its own
 * presence rows, so the PushTopic delivers none of the agents' changes and the snapshot query finds nobody.
 * Read from the user's permission set assignments (its profile's permission set included); reading them needs
 * "View Setup and Configuration".
 */
export async function checkPresenceVisibility(session: SalesforceSession, timeoutMs: number): Promise<SetupStep> {
  const subject = 'presence visibility';
  const fix = `add "View All Data" to its profile or a permission set, or "View All" on User Presence (${PRESENCE_OBJECT}) in a permission set`;
  const userId = session.identity?.userId;
  if (!userId) return { subject, outcome: 'failed', detail: 'the logged-in user is not known' };
  let sets: PermissionSetRow[];
  let objects: ObjectPermissionRow[];
  try {
    const grants = await viewAllGrants(session, timeoutMs, userId, PRESENCE_OBJECT);
    if (!grants) return { subject, outcome: 'failed', detail: `no permission set is assigned to the integration user: ${fix}` };
    ({ sets, objects } = grants);
  } catch (e) {
    return {
      subject, outcome: 'failed',
      detail: `could not read the integration user's permissions (${describeFailure(e)}; it needs "View Setup and Configuration" for that): make sure it has "View All Data" or "View All" on ${PRESENCE_OBJECT}`,
    };
  }
  if (sets.some((p) => p.PermissionsViewAllData === true || p.PermissionsModifyAllData === true)) {
    return { subject, outcome: 'ok', detail: 'View All Data: every agent\'s presence rows are readable' };
  }
  if (objects.some((o) => o.PermissionsViewAllRecords === true || o.PermissionsModifyAllRecords === true)) {
    return { subject, outcome: 'ok', detail: `View All on ${PRESENCE_OBJECT}: every agent's presence rows are readable` };
  }
  return {
    subject, outcome: 'failed',
    detail: `the integration user reads only its own ${PRESENCE_OBJECT} rows (the object has no sharing rules), so the PushTopic delivers no agent's change and the snapshot finds nobody: ${fix}`,
  };
}

interface PermissionSetRow { Id: string; PermissionsViewAllData?: boolean; PermissionsModifyAllData?: boolean }
interface ObjectPermissionRow { ParentId: string; PermissionsViewAllRecords?: boolean; PermissionsModifyAllRecords?: boolean }

/** The user's permission sets (profile included) and their permissions on `object`; undefined when none is assigned. */
async function viewAllGrants(
  session: SalesforceSession, timeoutMs: number, userId: string, object: string,
): Promise<{ sets: PermissionSetRow[]; objects: ObjectPermissionRow[] } | undefined> {
  const assigned = await queryAll<{ PermissionSetId: string }>(session, `SELECT PermissionSetId FROM PermissionSetAssignment WHERE AssigneeId = ${soqlString(userId)}`, timeoutMs);
  const ids = [...new Set(assigned.map((a) => a.PermissionSetId))];
  if (ids.length === 0) return undefined;
  const list = ids.map(soqlString).join(', ');
  const sets = await queryAll<PermissionSetRow>(session, `SELECT Id, PermissionsViewAllData, PermissionsModifyAllData FROM PermissionSet WHERE Id IN (${list})`, timeoutMs);
  const objects = await queryAll<ObjectPermissionRow>(session,
    `SELECT ParentId, PermissionsViewAllRecords, PermissionsModifyAllRecords FROM ObjectPermissions WHERE SobjectType = ${soqlString(object)} AND ParentId IN (${list})`, timeoutMs);
  return { sets, objects };
}

const WORK_OBJECT = 'AgentWork';

/**
 * Whether the integration user can read every agent's open Omni-Channel work, which workload rules need
 * (docs/salesforce-setup.md). First the query the daemon runs (it fails when Omni-Channel is off or AgentWork is
 * not accessible), then the permission: AgentWork is shared by owner, so without "View All Data" or "View All"
 * on AgentWork a user sees only its own work — unless the org-wide default for AgentWork is Read, which this
 * check cannot see, hence it then names both. `needed`: some rule has a workload table; otherwise a finding
 * is a `warning`, not a problem.
 */
export async function checkWorkVisibility(session: SalesforceSession, timeoutMs: number, needed: boolean): Promise<SetupStep> {
  const subject = 'Omni-Channel work';
  const bad = needed ? 'failed' : 'warning';
  const unused = needed ? '' : ' (no rule has a workload table yet, so nothing needs it now)';
  const fix = `add "View All Data", or "View All" on Agent Work (${WORK_OBJECT}) in a permission set`;
  try {
    await queryAll(session, `${OPEN_WORK_SOQL} LIMIT 1`, timeoutMs);
  } catch (e) {
    return {
      subject, outcome: bad,
      detail: `${WORK_OBJECT} cannot be queried (${describeFailure(e)}): Omni-Channel must be enabled and the integration user must read ${WORK_OBJECT} and ServiceChannel; ${fix}${unused}`,
    };
  }
  const userId = session.identity?.userId;
  if (!userId) return { subject, outcome: bad, detail: 'the logged-in user is not known' };
  let grants: Awaited<ReturnType<typeof viewAllGrants>>;
  try {
    grants = await viewAllGrants(session, timeoutMs, userId, WORK_OBJECT);
  } catch (e) {
    return {
      subject, outcome: bad,
      detail: `${WORK_OBJECT} can be queried, but the integration user's permissions could not be read (${describeFailure(e)}): make sure it has "View All Data" or "View All" on ${WORK_OBJECT}${unused}`,
    };
  }
  if (grants?.sets.some((p) => p.PermissionsViewAllData === true || p.PermissionsModifyAllData === true)) {
    return { subject, outcome: 'ok', detail: `View All Data: every agent's open work (${WORK_OBJECT}) is readable` };
  }
  if (grants?.objects.some((o) => o.PermissionsViewAllRecords === true || o.PermissionsModifyAllRecords === true)) {
    return { subject, outcome: 'ok', detail: `View All on ${WORK_OBJECT}: every agent's open work is readable` };
  }
  return {
    subject, outcome: bad,
    detail: `${WORK_OBJECT} can be queried, but the integration user may see only its own work (records are shared by owner), so workload rules would never match: ${fix}, or set the org-wide default of ${WORK_OBJECT} to Read${unused}`,
  };
}

/** `salesforce check`'s report of the streaming allocations from `/limits`; a problem from 90 % used. */
export async function checkStreamingAllocations(session: SalesforceSession, timeoutMs: number): Promise<SetupStep> {
  const subject = 'streaming allocations';
  let limits: Record<string, OrgLimit | undefined>;
  try {
    limits = await session.call((conn) => conn.request<Record<string, OrgLimit>>({ method: 'GET', url: '/limits' }, { timeout: timeoutMs }));
  } catch (e) {
    return { subject, outcome: 'failed', detail: `could not read /limits (${describeFailure(e)}; it needs "View Setup and Configuration")` };
  }
  const parts: string[] = [];
  let strained = false;
  for (const limit of STREAMING_LIMITS) {
    const key = limit.keys.find((k) => limits[k] !== undefined);
    const value = key ? limits[key] : undefined;
    if (!key || !value) {
      parts.push(`${limit.what} not reported`);
      continue;
    }
    const used = Math.max(0, value.Max - value.Remaining);
    if (value.Max > 0 && used / value.Max >= LIMIT_WARN_SHARE) strained = true;
    parts.push(`${limit.what} ${used} of ${value.Max}${limit.window} (${key})`);
  }
  return { subject, outcome: strained ? 'failed' : 'ok', detail: parts.join('; ') };
}

/** One line for a failed Salesforce call, with its error code. */
export function describeFailure(e: unknown): string {
  const code = salesforceErrorCode(e);
  return `${code ? `${code}: ` : ''}${salesforceErrorMessage(e)}`;
}
