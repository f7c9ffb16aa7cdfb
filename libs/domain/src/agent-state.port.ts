import type { AcdState } from './acd-state';
import type { Side } from './inbound-change';

/** A side's value: an ACD state on the contact-center side, a status DeveloperName (or Offline) on Salesforce. */
export type SideValue = AcdState | string;

/**
 * The last observed state of one side of one agent. `at` and `seq` come from the vendor only: our own writes
 * change `value` (and set `byWrite`) but never the clock, so a skewed local clock cannot make a real change
 * look stale.
 */
export interface Observation {
  value: SideValue;
  /** Canonical key of `value` (acdStateKey or the status). */
  key: string;
  at: number;
  seq?: number;
  eventId: string;
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
  /** Source timestamp of the deciding change (vendor time), the compare-and-set order of wants. */
  sourceAt: number;
  /** When the daemon received the deciding change (local time), for latency. */
  receivedAt: number;
  rule: string;
  row?: string;
  reason: 'sync' | 'reconcile';
}

/** A Salesforce write waiting for the presence stream to show it. */
export interface PendingConfirm {
  writeId: string;
  version: number;
  attempt: number;
  deadline: number;
}

export interface AgentRecord {
  obs: Partial<Record<Side, Observation>>;
  want: Partial<Record<Side, Want>>;
  /** Highest want version that reached an end (applied, confirmed, deferred, failed, superseded). */
  done: Record<Side, number>;
  prevAcd?: AcdState;
  pendingSalesforce?: PendingConfirm;
  /**
   * A write begun toward a side whose outcome is unknown (the answer was lost, or it was deferred): until the
   * vendor reports that side again, `obs` may not show the truth there.
   */
  inFlight: Partial<Record<Side, string>>;
}

export type ObserveOutcome =
  | 'recorded' // a real change, recorded
  | 'replayed' // the same event again (a re-run after a crash): decide again, idempotently
  | 'stale' // older than what is known
  | 'echo' // our own write reported back
  | 'overtaken' // our write that was in flight when a real change overtook it has landed late
  | 'unchanged'; // same state as known

export interface ObserveResult {
  outcome: ObserveOutcome;
  /** The write this echo (or overtaken write) belongs to. */
  echoWriteId?: string;
  /** `overtaken`: what the side showed before the late write landed (the state that overtook it). */
  previous?: { value: SideValue; key: string };
  record: AgentRecord;
}

/**
 * The engine's per-agent state. Every method is atomic per agent (the Redis implementation uses one Lua
 * script per call), so several workers may process changes of the same agent at once.
 */
export abstract class AgentStateStore {
  /**
   * Records an observation unless stale; recognises echoes of open markers; a real change closes the side's
   * markers, except that of a write still in flight, which is kept for `lateWindowMs` so that its late landing
   * is recognised (`overtaken`) instead of being taken for a real change.
   */
  abstract observe(agentId: string, side: Side, observation: Observation, now: number, lateWindowMs?: number): Promise<ObserveResult>;
  abstract get(agentId: string): Promise<AgentRecord>;
  /**
   * Stores a new wanted state toward `target` unless a want from a newer source exists, or the source side has
   * since recorded a newer change (then `undefined`: that newer change decides).
   * The same source event again returns the stored want with `created: false`.
   */
  abstract setWant(agentId: string, target: Side, want: Omit<Want, 'version'>): Promise<{ want: Want; created: boolean } | undefined>;
  /** Marks versions up to `version` toward `target` as ended. */
  abstract finish(agentId: string, target: Side, version: number): Promise<void>;
  /**
   * Before a write: opens an echo marker for `key` until `echoUntil`, and for ACD writes remembers the
   * previous ACD state once per `writeId` (a retry cannot overwrite it with our own state).
   */
  abstract beginWrite(agentId: string, target: Side, writeId: string, key: string, echoUntil: number, previousAcd?: AcdState): Promise<void>;
  /** After a write the other side took: the observed value becomes what we wrote (clock untouched). */
  abstract recordWritten(agentId: string, target: Side, value: SideValue, key: string, writeId: string): Promise<void>;
  /** Closes the echo marker of a write that did not happen. */
  abstract closeEcho(agentId: string, target: Side, writeId: string): Promise<void>;
  abstract setPendingConfirm(agentId: string, pending: PendingConfirm | undefined): Promise<void>;
}

/** Triggers outbound work. Implemented on BullMQ (libs/redis). */
export abstract class SyncTrigger {
  /** At most one waiting sync per agent and target; the run reads the latest want. */
  abstract trigger(target: Side, agentId: string): Promise<void>;
  /** A check that a Salesforce write was confirmed, after `delayMs`. */
  abstract scheduleConfirm(agentId: string, writeId: string, attempt: number, delayMs: number): Promise<void>;
  /** Drops the scheduled check of a write the presence stream already confirmed. */
  abstract cancelConfirm(writeId: string, attempt: number): Promise<void>;
}
