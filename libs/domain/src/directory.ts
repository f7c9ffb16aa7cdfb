import type { AcdState } from './acd-state';
import type { Workload } from './inbound-change';

/** A contact-center agent as the connector lists it. */
export interface AcdAgent {
  agentId: string;
  email?: string;
  teamId?: string;
  state?: AcdState;
  /** Epoch ms since when `state` holds, when the vendor says. */
  since?: number;
}

/** A contact-center team and the Unavailable codes enabled for it. */
export interface AcdTeam {
  teamId: string;
  name: string;
  unavailableCodes: string[];
}

/** A Salesforce user, for matching agents (default: e-mail, case-insensitive). */
export interface SalesforceUser {
  userId: string;
  username: string;
  email?: string;
  federationId?: string;
  active: boolean;
}

/** A `ServicePresenceStatus` row. */
export interface SalesforceStatusDefinition {
  id: string;
  developerName: string;
  label: string;
}

/** One user's current Omni-Channel presence (drift repair and start-up snapshot). */
export interface PresenceSnapshot {
  userId: string;
  /** DeveloperName, or `Offline`. */
  status: string;
  /** Epoch ms the status started. */
  since: number;
  /** The user's open Omni-Channel work, when the snapshot read it (undefined: not read, left as it was). */
  workload?: Workload;
}

/** What the engine knows about one agent: both identities, the team, and where each came from. */
export interface AgentLink {
  agentId: string;
  email?: string;
  teamId?: string;
  teamName?: string;
  salesforceUserId?: string;
}
