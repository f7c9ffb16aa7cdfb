import type { Workload } from '@presence-sync/domain';
import { salesforceErrorCode, salesforceErrorMessage } from './salesforce-errors';
import { SILENT_SALESFORCE_LOGGER, type SalesforceLogger } from './salesforce-logger';
import type { SalesforceSession } from './salesforce-session';
import { queryAll, soqlString } from './soql';

/**
 * Every open work item: AgentWork that holds capacity. Only Assigned and Opened are "active in Omni-Channel"
 * (Object Reference, AgentWork), and capacity is taken at assignment, before the agent accepts.
 * `ServiceChannel.DeveloperName` names the channel as rules do; the id is the fallback when the channel
 * cannot be read.
 */
export const OPEN_WORK_SOQL =
  "SELECT UserId, ServiceChannelId, ServiceChannel.DeveloperName, CapacityWeight, CapacityPercentage FROM AgentWork WHERE Status IN ('Assigned', 'Opened')";

/** Users per query: keeps the SOQL text far below its length limit. */
const USERS_PER_QUERY = 300;

/** Error codes that mean AgentWork cannot be read at all here (Omni-Channel off, no access, an old API version). */
const UNAVAILABLE_CODES = new Set(['INVALID_TYPE', 'INSUFFICIENT_ACCESS', 'INSUFFICIENT_ACCESS_OR_READONLY', 'INVALID_FIELD', 'NOT_FOUND']);

/** After AgentWork was found unreadable, how long reads are not attempted (ms). */
const UNAVAILABLE_RETRY_MS = 15 * 60 * 1000;

/** The open AgentWork of one user as the rules read it; the capacity comes from the presence row. */
export type OpenWork = Omit<Workload, 'capacity'>;

export interface AgentWorkRecord {
  UserId: string;
  ServiceChannelId?: string | null;
  ServiceChannel?: { DeveloperName?: string | null } | null;
  CapacityWeight?: number | null;
  CapacityPercentage?: number | null;
}

/** AgentWork cannot be read in this org now (see `AgentWorkReader`); nothing was asked. */
export class WorkloadUnavailableError extends Error {
  constructor(readonly reason: string) {
    super(`Omni-Channel work (AgentWork) cannot be read: ${reason}`);
    this.name = 'WorkloadUnavailableError';
  }
}

const key = (userId: string): string => userId.slice(0, 15);

/** The users' open work, found by user id (15 or 18 characters). A user with none has an empty workload. */
export class OpenWorkIndex {
  constructor(private readonly byUser: ReadonlyMap<string, OpenWork>) {}

  of(userId: string): OpenWork {
    const work = this.byUser.get(key(userId));
    return work ? { channels: { ...work.channels }, load: work.load } : { channels: {}, load: 0 };
  }

  /** The workload of a user whose presence row says `capacity` (ConfiguredCapacity; 0 when unknown). */
  workload(userId: string, capacity: number | null | undefined): Workload {
    return { ...this.of(userId), capacity: typeof capacity === 'number' && Number.isFinite(capacity) ? capacity : 0 };
  }
}

/**
 * Open items per channel and the load: Σ CapacityWeight, or Σ CapacityPercentage for percentage-based items.
 */
export function indexOpenWork(records: readonly AgentWorkRecord[]): OpenWorkIndex {
  const byUser = new Map<string, { channels: Record<string, number>; load: number }>();
  for (const record of records) {
    if (!record.UserId) continue;
    let work = byUser.get(key(record.UserId));
    if (!work) {
      work = { channels: {}, load: 0 };
      byUser.set(key(record.UserId), work);
    }
    const channel = record.ServiceChannel?.DeveloperName ?? record.ServiceChannelId ?? 'unknown';
    work.channels[channel] = (work.channels[channel] ?? 0) + 1;
    work.load += record.CapacityWeight ?? record.CapacityPercentage ?? 0;
  }
  return new OpenWorkIndex(byUser);
}

/** The SOQL for the open work of these users (all open work with no ids). */
export function openWorkSoql(userIds?: readonly string[]): string {
  if (userIds === undefined) return OPEN_WORK_SOQL;
  return `${OPEN_WORK_SOQL} AND UserId IN (${userIds.map(soqlString).join(', ')})`;
}

/**
 * Reads users' open Omni-Channel work. Accepting work does not change presence, so this is how the daemon
 * learns an agent's load: on a capacity-only update of the agent's presence row (one query per batch of such
 * updates) and in the drift-repair snapshot (one query for everyone).
 *
 * When AgentWork cannot be read at all (Omni-Channel off, the integration user lacks access, an unknown field),
 * that is logged once and reads fail fast with `WorkloadUnavailableError` for 15 minutes instead of costing a
 * request per presence event. The integration user also needs to see every agent's work (View All Data, or
 * View All on AgentWork): without it the query succeeds with only its own rows, which `salesforce check` reports.
 */
export class AgentWorkReader {
  private unavailable?: { reason: string; until: number };

  constructor(
    private readonly session: SalesforceSession,
    private readonly timeoutMs: number,
    private readonly logger: SalesforceLogger = SILENT_SALESFORCE_LOGGER,
    private readonly now: () => number = Date.now,
  ) {}

  /** Why reads are off now, if they are. */
  get unavailableReason(): string | undefined {
    return this.unavailable && this.now() < this.unavailable.until ? this.unavailable.reason : undefined;
  }

  /** The open work of these users (of everyone when `userIds` is omitted). */
  async openWork(userIds?: readonly string[]): Promise<OpenWorkIndex> {
    const off = this.unavailableReason;
    if (off !== undefined) throw new WorkloadUnavailableError(off);
    const unique = userIds === undefined ? undefined : [...new Set(userIds)];
    if (unique !== undefined && unique.length === 0) return indexOpenWork([]);
    const queries: string[] = [];
    if (unique === undefined) queries.push(openWorkSoql());
    else for (let i = 0; i < unique.length; i += USERS_PER_QUERY) queries.push(openWorkSoql(unique.slice(i, i + USERS_PER_QUERY)));
    const records: AgentWorkRecord[] = [];
    try {
      for (const soql of queries) records.push(...(await queryAll<AgentWorkRecord>(this.session, soql, this.timeoutMs)));
    } catch (e) {
      const code = salesforceErrorCode(e);
      if (code && UNAVAILABLE_CODES.has(code)) {
        const reason = `${code}: ${salesforceErrorMessage(e)}`;
        this.unavailable = { reason, until: this.now() + UNAVAILABLE_RETRY_MS };
        this.logger.error('Omni-Channel work (AgentWork) cannot be read: workload rules cannot act (run `presence-sync salesforce check`)', {
          reason, retryInMs: UNAVAILABLE_RETRY_MS,
        });
        throw new WorkloadUnavailableError(reason);
      }
      throw e;
    }
    this.unavailable = undefined;
    return indexOpenWork(records);
  }
}
