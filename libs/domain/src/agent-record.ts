import type { AcdState } from './acd-state';
import type { AuditRecord } from './audit';
import type { InboundChange, Side, Workload } from './inbound-change';

/** A side's value: an ACD state on the contact-center side, a status DeveloperName (or Offline) on Salesforce. */
export type SideValue = AcdState | string;

/**
 * What one side of one agent was last seen to show. `at` is the vendor's time of the change, never later than
 * `receivedAt` (a sender's clock ahead of ours is clamped, so it cannot make later changes look stale).
 */
export interface Observation {
  value: SideValue;
  /** Canonical key of `value` (acdStateKey or the status). */
  key: string;
  /** Vendor time of the change, epoch ms, clamped to `receivedAt`. */
  at: number;
  /** Local time the daemon learned it, epoch ms. */
  receivedAt: number;
  /** The sender's per-agent sequence, when it sends one. */
  seq?: number;
  eventId: string;
  /** The ACD state before this one, as the contact center reported it (when it does). */
  previous?: AcdState;
  /** Set when this value is one the daemon wrote (its write id). */
  byWrite?: string;
}

/** The wanted state toward one side. `writeId` is stable for this version: idempotency key and command id. */
export interface Want {
  value: SideValue;
  key: string;
  version: number;
  writeId: string;
  sourceSide: Side | 'reconcile';
  sourceEventId: string;
  /** Vendor time of the deciding change. */
  sourceAt: number;
  /** When the daemon received the deciding change (local time), for latency. */
  receivedAt: number;
  rule: string;
  row?: string;
  reason: 'sync' | 'reconcile';
}

/**
 * Where a write toward a side stands until that side reports it:
 * - `sending`: the call was made; its answer is not known (in progress, lost in a crash, timed out);
 * - `applied`: the vendor answered that it is in force; its report (the echo) may still come;
 * - `deferred`: the contact center keeps it as the agent's next state and applies it when the contact ends;
 * - `sent`: the command reached the agent's console; Salesforce has not shown it yet.
 */
export type WritePhase = 'sending' | 'applied' | 'deferred' | 'sent';

/** A write the daemon began toward a side whose report is still expected. Each is matched by one report at most. */
export interface OpenWrite {
  writeId: string;
  key: string;
  value: SideValue;
  version: number;
  phase: WritePhase;
  /** Local time the write began. */
  at: number;
  /** Its report is recognised until then (local epoch ms). */
  until: number;
  /** Salesforce: which send of the command this is (1-based), and when its confirmation is due. */
  send?: number;
  deadline?: number;
  /** A real change of that side overtook it while it was on its way: if it lands, it is not what anyone wants. */
  overtaken?: boolean;
  /** Its last attempt failed retryably: it is not sent again before then (local epoch ms; the sync backoff). */
  notBefore?: number;
  /**
   * A deferred write the engine holds itself: the contact center refuses writes during a contact (it queues no
   * next state), so the write is sent when the contact ends.
   */
  held?: boolean;
}

export interface SideRecord {
  obs?: Observation;
  want?: Want;
  /** Highest want version that reached an end (confirmed, applied, failed, superseded, already shown). */
  done: number;
  /** Open writes toward this side, oldest first. */
  writes: OpenWrite[];
  /** Local time of the last write begun toward this side (burst damping). */
  lastWriteAt?: number;
}

/**
 * Everything the engine keeps about one agent. `rev` is the store's version: a transition is computed from a
 * record and stored only if the record is still at that revision (compare-and-set).
 */
export interface AgentRecord {
  rev: number;
  acd: SideRecord;
  salesforce: SideRecord;
  /** Want version counter (both sides). */
  ver: number;
  /** What `previous: true` restores: the settable ACD state before the daemon's most recent ACD write. */
  prevAcd?: { state: AcdState; writeId: string };
  /** The last settable ACD state seen: what the agent was in before a contact began. */
  settledAcd?: AcdState;
  /** The agent's Omni-Channel work as last reported, and when (Salesforce time, epoch ms). */
  work?: Workload & { at: number };
  /**
   * A workload row is in force: the ACD was set to `key` in place of Available because of Salesforce work, and
   * `restore` is set back when no row matches any more (if the ACD still shows `key` then).
   */
  workOverlay?: { row: string; key: string; restore: AcdState };
}

/**
 * How long a sync waits after its nth failed attempt: `baseMs` (SYNC_BACKOFF_MS) × 2^(n−1). The retry queue's
 * exponential backoff and an open write's `notBefore` both follow it, so neither sends before the other would.
 */
export function syncBackoffMs(baseMs: number, failedAttempt: number): number {
  return baseMs * 2 ** (Math.max(1, failedAttempt) - 1);
}

export function emptyAgentRecord(): AgentRecord {
  return { rev: 0, ver: 0, acd: { done: 0, writes: [] }, salesforce: { done: 0, writes: [] } };
}

/** A want not ended yet. */
export function pendingWant(side: SideRecord): Want | undefined {
  return side.want && side.want.version > side.done ? side.want : undefined;
}

/** An inbox entry: a change queued durably at intake, applied in order by one transition. */
export interface InboxEntry {
  /** The stored form; the store pops an entry only if the head still is exactly this. */
  raw: string;
  change: InboundChange;
}

/** What one committed transition stores besides the record. */
export interface CommitExtras {
  /** Audit records written in the same atomic step. */
  audit?: AuditRecord[];
  /** Inbox entries consumed by this transition: popped from the head of `inbox` only if they are still there. */
  pop?: { inbox: string; entries: string[] };
  /**
   * Changes to the agent's schedule (its partition's due set, `DueChanges`), in the same atomic step: a sync or a
   * confirmation check that must run at a time, durable with the transition that asked for it.
   */
  due?: DueChanges;
}

/**
 * Entries of the due set to add (member → when, epoch ms; an earlier time wins over a later one), to remove, and to
 * settle: remove only while still at the given time (a run ending its own guard leaves a newer entry in place).
 * Removals and settlements come before additions.
 */
export interface DueChanges {
  add: [member: string, at: number][];
  remove: string[];
  settle?: [member: string, at: number][];
}

/**
 * `ok`: stored. `more`: stored, and the inbox it popped from still holds entries behind the popped ones (only
 * with a pop). `conflict`: the record changed since it was read. `moved`: the inbox head is not what was read.
 */
export type CommitResult = 'ok' | 'more' | 'conflict' | 'moved';

/**
 * The engine's per-agent storage. It decides nothing: the engine computes each transition with the pure
 * functions of libs/sync and the store applies it in one atomic step, under the revision the record was read
 * at. Per-agent inboxes hold changes in arrival order until a transition consumes them.
 */
export abstract class AgentRecordStore {
  /**
   * The agent's record (`rev` 0 and empty when there is none). A store may answer from a cache of the records it
   * stored itself (`fromCache`); `fresh` reads the stored one.
   */
  abstract load(agentId: string, fresh?: boolean): Promise<AgentRecord>;

  /** Whether `load` answered this record from a cache (it may be behind the stored one). */
  fromCache(_record: AgentRecord): boolean {
    return false;
  }

  /**
   * Stores `next` (with `rev` = `expectedRev + 1`) if the stored record is at `expectedRev`, together with the
   * audit records and inbox pops of `extras`, all or nothing.
   */
  abstract commit(agentId: string, expectedRev: number, next: AgentRecord, extras?: CommitExtras): Promise<CommitResult>;
  /**
   * Up to `limit` entries from the head of an inbox, oldest first. A store may answer with what it expects the head
   * to be (the changes this process queued there) without reading it: a pop of entries that are not the head is
   * refused (`moved`), and the inbox is then read.
   */
  abstract peek(inbox: string, limit: number): Promise<InboxEntry[]>;
  /** Drops the head entries of an inbox that no agent record takes (an agent the directory does not know). */
  abstract discard(inbox: string, entries: string[]): Promise<CommitResult>;
  /** Applies schedule changes of an agent outside a transition (a run that ended without a change to store). */
  abstract schedule(agentId: string, due: DueChanges): Promise<void>;
}

/**
 * Runs the syncs that transitions asked for. What must run is already durable in the due set (stored with the
 * transition); this only decides where and when it runs now.
 */
export abstract class SyncTrigger {
  /** Whether this process runs the agent's syncs itself (it works the agent's partition). */
  abstract runsHere(agentId: string): boolean;
  /**
   * A transition that asked for these syncs now was stored, each with a guard in the due set until `guardUntil`:
   * run them (only where `runsHere`).
   */
  abstract committed(agentId: string, runs: readonly { target: Side; guardUntil: number }[]): void;
  /** A sync asked for outside a transition (a console came back): made durable, then run as `committed`. */
  abstract trigger(target: Side, agentId: string, delayMs?: number): Promise<void>;
}
