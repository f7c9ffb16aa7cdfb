import type { AcdState } from './acd-state';
import type { Side } from './inbound-change';

/** `acd->salesforce` (publisher table), `salesforce->acd` (subscriber table), or drift repair. */
export type SyncDirection = 'acd->salesforce' | 'salesforce->acd';

/** What happened to one decision or write. */
export type AuditOutcome =
  | 'queued'          // a write toward the other side was wanted and triggered
  | 'applied'         // the other side took the write
  | 'sent'            // a command reached the agent's console; waiting for Salesforce to show it
  | 'deferred'        // the contact center will apply it after the current contact
  | 'confirmed'       // Salesforce showed the status we sent
  | 'already'         // the other side already showed the wanted state: nothing written
  | 'no-change'       // the rule wants what the other side already shows
  | 'unmapped'        // no rule row for this state
  | 'no-rule'         // the agent is covered by no rule
  | 'unlinked'        // the agent has no identity on the other side
  | 'no-previous'     // a `previous` row, but no previous ACD state is known
  | 'echo'            // our own write reported back: not synced back
  | 'stale'           // older than what we know: dropped
  | 'conflict'        // the other side's pending write wins (conflictPolicy)
  | 'held'            // the ACD shows a contact while our deferred write waits: Salesforce keeps the agent's choice
  | 'superseded'      // a newer wanted state replaced this one before it was written
  | 'retrying'        // a retryable failure; the queue retries with backoff
  | 'rate-limited'    // the other side asked to slow down; the queue pauses
  | 'failed';         // permanent failure, or retries exhausted

export interface AuditRecord {
  at: number;
  agentId: string;
  direction: SyncDirection | 'reconcile';
  outcome: AuditOutcome;
  source?: { side: Side | 'reconcile'; eventId?: string; occurredAt?: number; state?: AcdState | string };
  rule?: string;
  /** Which table and row decided, e.g. `subscriber[2]`. */
  row?: string;
  wanted?: AcdState | string;
  writeId?: string;
  /** Why, in words (e.g. the failure, or why nothing happens). Never contains secrets. */
  detail?: string;
  /** Milliseconds from the source event (received by the daemon) to this record. */
  latencyMs?: number;
  /**
   * Writes only (applied, deferred, sent): when the daemon received the source event and when it issued the
   * outbound call, epoch ms. `sentAt - receivedAt` is the daemon's own latency, without the vendor's answer time.
   */
  timings?: { receivedAt: number; sentAt: number };
  attempt?: number;
}

/** The audit trail, bounded per agent. */
export abstract class AuditLog {
  abstract append(record: AuditRecord): Promise<void>;
  /** Newest first. */
  abstract list(agentId: string, limit?: number): Promise<AuditRecord[]>;
}
