/** Seeds and knobs of the Webex Contact Center emulator. Shapes follow Cisco's public OpenAPI file (docs/connectors/webex.md). */

export interface WebexEmulatorAuxCode {
  id: string;
  name: string;
  workTypeCode: 'IDLE_CODE' | 'WRAP_UP_CODE';
  active?: boolean;
  defaultCode?: boolean;
}

export interface WebexEmulatorTeam {
  id: string;
  name: string;
}

/** A desktop (agent) profile: which idle codes its agents may pick (ids in `idleCodes` when SPECIFIC). */
export interface WebexEmulatorProfile {
  id: string;
  name: string;
  accessIdleCode: 'ALL' | 'SPECIFIC' | 'NONE';
  idleCodes: string[];
}

export interface WebexEmulatorAgentSeed {
  /** The Contact Center user id (a UUID), the `agentId` of events and writes. */
  id: string;
  email: string;
  firstName: string;
  lastName: string;
  teamId: string;
  agentProfileId: string;
  /** Logged in Available or Idle (with `idleCodeId`), or logged out. */
  state: 'Available' | 'Idle' | 'LoggedOut';
  idleCodeId?: string;
}

/** What an agent is doing, in the reporting vocabulary Webex's events and search use. */
export type WebexChannelState = 'available' | 'idle' | 'connected' | 'wrapup';

export interface WebexEmulatorAgent extends WebexEmulatorAgentSeed {
  loggedIn: boolean;
  channelState: WebexChannelState;
  /** Epoch ms of the last state change. */
  since: number;
  sessionId?: string;
  sessionStart?: number;
  /** An Idle chosen at the desktop during a contact, applied when it ends (Webex's pending idle state). */
  pendingIdleCodeId?: string;
  /** The wrap-up code of the last contact, once chosen. */
  wrapUpCodeId?: string;
}

export interface WebexEmulatorOptions {
  orgId?: string;
  codes: WebexEmulatorAuxCode[];
  teams: WebexEmulatorTeam[];
  profiles: WebexEmulatorProfile[];
  agents: WebexEmulatorAgentSeed[];
  /** Port on 127.0.0.1; default a free one. */
  port?: number;
  /** Largest `pageSize` honoured by the list APIs (larger asks are cut, as Webex does). Default 100. */
  maxPageSize?: number;
  /** Sessions per page of the search API. Default 100. */
  searchPageSize?: number;
  /** Access-token lifetime in seconds (`expires_in`). Default 43199, as Cisco's samples show. */
  accessTokenLifetimeSec?: number;
  /** Answer each refresh with a new refresh token (the old one stays valid, as nothing documents otherwise). Default false. */
  rotateRefreshTokens?: boolean;
  /** Delivery attempts per webhook before it is dropped (best effort). Default 6. */
  deliveryAttempts?: number;
  /** Pause before the first re-delivery, doubled each attempt, ms. Default 200. */
  deliveryRetryMs?: number;
  /** Requests per minute per client id before 429 (Webex's published default is 300). Default: no limit. */
  requestsPerMinute?: number;
  /** Subscriptions per org (POST beyond it is refused). Default 20. */
  subscriptionLimit?: number;
  now?: () => number;
}

/** Counters of webhook deliveries. */
export interface WebexDeliveryStats {
  /** Events queued and not yet delivered or dropped. */
  pending: number;
  delivered: number;
  failedAttempts: number;
  dropped: number;
}

export interface WebexEmulatorSubscription {
  id: string;
  name: string;
  description?: string;
  eventTypes: string[];
  destinationUrl: string;
  secret?: string;
  status: 'active' | 'inactive';
  createdTime: number;
  lastUpdatedTime: number;
  createdBy: string;
  lastUpdatedBy: string;
}
