import type { AcdState } from './acd-state';
import type { SalesforceStatus } from './salesforce-status';

export type Side = 'acd' | 'salesforce';

/** An agent-state change reported by the contact center, normalised. Times are epoch milliseconds. */
export interface AcdChange {
  side: 'acd';
  /** The vendor's event id: the idempotency key of intake. */
  eventId: string;
  agentId: string;
  occurredAt: number;
  state: AcdState;
  previous?: AcdState;
  /** Optional monotonic per-agent sequence; orders events more exactly than `occurredAt`. */
  sequence?: number;
  /** The `requestId` of our write that caused this change, when the contact center reports it (exact echo match). */
  requestId?: string;
  receivedAt: number;
}

/** A presence change reported by Salesforce, normalised. */
export interface SalesforceChange {
  side: 'salesforce';
  eventId: string;
  userId: string;
  occurredAt: number;
  status: SalesforceStatus;
  receivedAt: number;
}

export type InboundChange = AcdChange | SalesforceChange;

export interface IntakeResult {
  accepted: number;
  duplicates: number;
}
