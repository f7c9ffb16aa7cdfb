import { SALESFORCE_OFFLINE, type SalesforceChange } from '@presence-sync/domain';

/** The queried fields of a `UserServicePresence` row as the PushTopic delivers them. */
export interface UspRow {
  Id: string;
  UserId?: string;
  ServicePresenceStatusId?: string | null;
  IsCurrentState?: boolean;
  IsAway?: boolean;
  StatusStartDate?: string | null;
  StatusEndDate?: string | null;
  /** Present when the PushTopic query names the capacity fields (USP_PUSH_TOPIC_QUERY). */
  ConfiguredCapacity?: number | null;
  AverageCapacity?: number | null;
  AtCapacityDuration?: number | null;
  IdleDuration?: number | null;
}

/** The `data` of a PushTopic message on `/topic/<name>`. */
export interface UspStreamMessage {
  event: { type: string; createdDate?: string; replayId: number };
  sobject: UspRow;
}

export type UspIgnoreReason =
  | 'malformed'            // not a USP event we can read
  | 'not-current'          // a row created as not current (not a status change)
  | 'unknown-status'       // a current row whose status id is not in the catalog, even after a refresh
  | 'attribute-update'     // an update of the current row that did not close it, from a PushTopic without the capacity fields
  | 'not-current-row'      // an update of a row other than the user's known current one that did not close it
  | 'closes-previous-row'  // closes a row older than the user's known current row: the new row already arrived
  | 'unsupported-type';    // deleted / undeleted rows say nothing about the presence

/**
 * What one USP event means:
 * - `status`: the user's new status (a created current row) — hand it on now;
 * - `workload`: the current row's capacity figures changed (work assigned, declined or closed) — read the
 *   user's open work and hand on a change with the same status and that workload (`capacity` from the row);
 * - `offline-candidate`: the user's current row (or a row of a user whose current row is not known) was
 *   closed; it means Offline unless a newer row of the same user follows shortly (the stream holds it);
 * - `ignore`: nothing to hand on (why is in `reason`).
 */
export type UspDecision =
  | { kind: 'status'; change: SalesforceChange; rowId: string }
  | { kind: 'offline-candidate'; change: SalesforceChange; rowId: string }
  | { kind: 'workload'; change: SalesforceChange; rowId: string; capacity: number }
  | { kind: 'ignore'; reason: UspIgnoreReason; userId?: string };

const time = (...values: (string | null | undefined)[]): number | undefined => {
  for (const v of values) {
    const t = v ? Date.parse(v) : Number.NaN;
    if (Number.isFinite(t)) return t;
  }
  return undefined;
};

export function isUspStreamMessage(data: unknown): data is UspStreamMessage {
  if (typeof data !== 'object' || data === null) return false;
  const m = data as { event?: { type?: unknown; replayId?: unknown }; sobject?: { Id?: unknown } };
  return typeof m.event?.type === 'string' && typeof m.event.replayId === 'number' && typeof m.sobject?.Id === 'string';
}

/**
 * Turns the `UserServicePresence` lifecycle into presence changes (docs: logging in or changing status
 * creates a current row; the previous row is updated to not current; logging out is only that update, so
 * Offline = no current row).
 *
 * "No newer row" is decided with each user's current row id, remembered from the created rows seen: an update
 * that closes a row other than the known current one closes the row a create already replaced, and is
 * ignored. An update that closes the known current row — or a row of a user whose current row is unknown
 * (after a restart) — is an Offline *candidate*: a status change normally reaches the stream as the update
 * closing the old row first and the create of the new row after it, so the stream holds the candidate briefly
 * and drops it if a created row of the same user arrives (see `SalesforcePresenceStream`). The other order
 * (create first) needs no hold: the close then names a row that is no longer the current one.
 */
export class UspLifecycleTranslator {
  private readonly currentRow = new Map<string, string>();

  constructor(private readonly now: () => number = Date.now) {}

  /** @param statusName the DeveloperName of a status id (from the cached catalog), undefined when unknown. */
  translate(message: UspStreamMessage, statusName: (statusId: string) => string | undefined): UspDecision {
    const { event, sobject: row } = message;
    // A deleted row's event carries only its Id: it says nothing about presence either way.
    if (event.type !== 'created' && event.type !== 'updated') return { kind: 'ignore', reason: 'unsupported-type', userId: row.UserId };
    const userId = row.UserId;
    if (!userId) return { kind: 'ignore', reason: 'malformed' };
    // Row ids are unique in the org for good; replay ids restart when a PushTopic is re-created, and the intake's
    // duplicate markers would then drop new events as repeats.
    const eventId = `usp:${row.Id}:${event.type === 'created' ? 'created' : 'closed'}`;
    const receivedAt = this.now();

    switch (event.type) {
      case 'created': {
        if (row.IsCurrentState !== true) return { kind: 'ignore', reason: 'not-current', userId };
        this.currentRow.set(userId, row.Id);
        const status = row.ServicePresenceStatusId ? statusName(row.ServicePresenceStatusId) : undefined;
        if (!status) return { kind: 'ignore', reason: 'unknown-status', userId };
        const occurredAt = time(row.StatusStartDate, event.createdDate) ?? receivedAt;
        return { kind: 'status', rowId: row.Id, change: { side: 'salesforce', eventId, userId, occurredAt, status, receivedAt } };
      }
      case 'updated': {
        if (row.IsCurrentState === true) return this.capacityUpdate(message, userId, statusName, receivedAt);
        if (row.IsCurrentState !== false) return { kind: 'ignore', reason: 'malformed', userId };
        const known = this.currentRow.get(userId);
        if (known !== undefined && known !== row.Id) return { kind: 'ignore', reason: 'closes-previous-row', userId };
        this.currentRow.delete(userId);
        const ended = time(row.StatusEndDate, event.createdDate) ?? receivedAt;
        // A close of a row not known as current (e.g. replayed after a restart) is dated just before its end: the
        // new row that replaced it starts at that same instant and must win over it.
        const occurredAt = known === undefined ? ended - 1 : ended;
        // Logged out: Omni-Channel holds no capacity for an offline agent, so the workload is empty.
        const workload = { channels: {}, load: 0, capacity: 0 };
        return {
          kind: 'offline-candidate', rowId: row.Id,
          change: { side: 'salesforce', eventId, userId, occurredAt, status: SALESFORCE_OFFLINE, workload, receivedAt },
        };
      }
    }
  }

  /**
   * An update that leaves the row current: Omni-Channel rewrote its capacity figures because the agent's load
   * changed (accepting work changes no status). The change keeps the status and gets its own event id
   * (the row, the event's time and its replay id), so each load change is its own event; the adapter adds
   * the workload it reads.
   */
  private capacityUpdate(
    message: UspStreamMessage, userId: string, statusName: (statusId: string) => string | undefined, receivedAt: number,
  ): UspDecision {
    const { event, sobject: row } = message;
    // A PushTopic without the capacity fields (created before capacity-driven sync) reports no load change.
    if (!('ConfiguredCapacity' in row)) return { kind: 'ignore', reason: 'attribute-update', userId };
    const known = this.currentRow.get(userId);
    if (known !== undefined && known !== row.Id) return { kind: 'ignore', reason: 'not-current-row', userId };
    const status = row.ServicePresenceStatusId ? statusName(row.ServicePresenceStatusId) : undefined;
    if (!status) return { kind: 'ignore', reason: 'unknown-status', userId };
    const occurredAt = time(event.createdDate) ?? receivedAt;
    const eventId = `usp:${row.Id}:work:${occurredAt}:${event.replayId}`;
    const capacity = typeof row.ConfiguredCapacity === 'number' ? row.ConfiguredCapacity : 0;
    return { kind: 'workload', rowId: row.Id, capacity, change: { side: 'salesforce', eventId, userId, occurredAt, status, receivedAt } };
  }

  /** The user's current row id as far as the events seen tell. */
  currentRowOf(userId: string): string | undefined {
    return this.currentRow.get(userId);
  }
}
