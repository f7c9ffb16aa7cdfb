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

/**
 * A user's Omni-Channel work as Salesforce counts it against capacity: open AgentWork (Assigned or Opened).
 * Accepting work does not change presence, so rules that react to work read this (docs/rules.md, "workload").
 */
export interface Workload {
  /** Open work items per service channel DeveloperName, e.g. `{ "sfdc_liveagent": 2 }`; channels with none are left out. */
  channels: Record<string, number>;
  /** Capacity in use: the sum of the open items' weights (or percentages, with percentage-based capacity). */
  load: number;
  /** The user's configured capacity (UserServicePresence.ConfiguredCapacity); 0 when unknown or Offline. */
  capacity: number;
}

/** A presence change reported by Salesforce, normalised. */
export interface SalesforceChange {
  side: 'salesforce';
  eventId: string;
  userId: string;
  occurredAt: number;
  status: SalesforceStatus;
  /**
   * The user's work at `occurredAt`, when the adapter read it (a capacity-only update of the presence row carries
   * the same status and a new workload). Undefined: the work is unknown and is left as it was.
   */
  workload?: Workload;
  receivedAt: number;
}

export type InboundChange = AcdChange | SalesforceChange;

export interface IntakeResult {
  accepted: number;
  duplicates: number;
}
