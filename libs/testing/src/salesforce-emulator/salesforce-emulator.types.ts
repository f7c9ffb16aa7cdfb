/** Options and records of the Salesforce emulator (public API; see `salesforce-emulator.ts`). */

export interface SalesforceEmulatorUserSeed {
  /** 15- or 18-character `005…` id. Default: `005` + a 12-digit sequence number, as `InMemorySalesforce` numbers users. */
  id?: string;
  /** Unique, e-mail shaped. */
  username: string;
  email: string;
  firstName?: string;
  /** Default: the part of the e-mail before `@`. */
  lastName?: string;
  federationIdentifier?: string | null;
  /** Default true. Inactive users cannot authenticate. */
  isActive?: boolean;
  /** Password for the OAuth username-password flow; a user without one cannot log in that way. */
  password?: string;
  /** Appended to the password in the username-password flow, as Salesforce requires from untrusted IPs. */
  securityToken?: string;
  /** DeveloperName of the presence status the user is in at start (an open UserServicePresence row). Default: offline. */
  status?: string;
  /** ConfiguredCapacity written on the user's presence rows. Default 10. */
  capacity?: number;
  /** Whether the user pre-authorized the connected app (needed by the JWT bearer flow). Default true. */
  approved?: boolean;
  /** `User.UserType` (the licence category): `Standard`, `PowerPartner`, `CsnOnly`, `AutomatedProcess`… Default `Standard`. */
  userType?: string;
  /**
   * The user's profile, one of `SalesforceEmulatorOptions.profiles` or a default one. Default: `DEFAULT_AGENT_PROFILE`
   * (every presence status) for agents, `DEFAULT_INTEGRATION_PROFILE` (View All Data, no status) for `integrationUser`.
   */
  profile?: string;
  /** API names of permission sets (of `SalesforceEmulatorOptions.permissionSets`) assigned to the user. */
  permissionSets?: string[];
  /**
   * The "View All Data" permission of the user's profile (every user of that profile has it or none: users of
   * one profile must not disagree). Without it, or `viewAllPresence`, the user reads only the
   * UserServicePresence rows it owns (its own presence): the object supports no sharing rules. Default: the
   * profile's (`DEFAULT_INTEGRATION_PROFILE` has it, `DEFAULT_AGENT_PROFILE` not).
   */
  viewAllData?: boolean;
  /** "View All" on UserServicePresence (object permission in a permission set): reads every presence row. Default false. */
  viewAllPresence?: boolean;
  /**
   * "View All" on AgentWork: reads every agent's work. AgentWork is shared by owner (AgentWorkShare): without
   * this or View All Data a user reads only its own work. Default false.
   */
  viewAllAgentWork?: boolean;
}

/**
 * What `SalesforceEmulator.setPermissions` grants (each omitted permission is left as it is). `viewAllData` is
 * a permission of the user's profile, so it changes for every user of that profile.
 */
export interface SalesforceEmulatorPermissions {
  viewAllData?: boolean;
  viewAllPresence?: boolean;
  viewAllAgentWork?: boolean;
}

/** A profile of the emulated org: what its owned permission set grants. */
export interface SalesforceEmulatorProfileSeed {
  name: string;
  /**
   * DeveloperNames of the presence statuses its users may use (Service Presence Status Access in the profile).
   * Default: every status of the catalog.
   */
  statuses?: string[];
  /** Default false. */
  viewAllData?: boolean;
  /** "View Setup and Configuration" (needed to read SetupEntityAccess). Default true. */
  viewSetup?: boolean;
}

/** A permission set of the emulated org (not owned by a profile). */
export interface SalesforceEmulatorPermissionSetSeed {
  /** API name (`PermissionSet.Name`): letters, digits and underscores. */
  name: string;
  /** Default: the name with underscores as spaces. */
  label?: string;
  /** DeveloperNames of the presence statuses it grants. Default none. */
  statuses?: string[];
}

/** An Omni-Channel service channel (`ServiceChannel`) and the capacity its work items take. */
export interface SalesforceEmulatorServiceChannelSeed {
  /** Unique API name, e.g. `sfdc_liveagent`. */
  developerName: string;
  label: string;
  /** The routed object type (`LiveChatTranscript`, `Case`, …); unique in an org. */
  relatedEntity: string;
  /** The capacity weight of a work item of this channel (routing configuration), unless `assignWork` gives one. Default 1. */
  weight?: number;
}

/** Streaming allocations the `/limits` resource reports (Enterprise Edition defaults). */
export interface SalesforceEmulatorStreamingAllocations {
  /** PushTopic event notifications delivered per 24 h. Default 200,000. */
  dailyPushTopicEvents?: number;
  /** Generic (StreamingChannel) event notifications delivered per 24 h. Default 200,000. */
  dailyGenericEvents?: number;
  /** Concurrent CometD clients. Default 1,000. */
  concurrentClients?: number;
}

export interface SalesforceEmulatorStatusSeed {
  /** 15- or 18-character `0N5…` id. Default: generated. */
  id?: string;
  developerName: string;
  label: string;
  /** Whether being in this status counts as away (`IsAway` on the presence row). Default false. */
  isAway?: boolean;
}

export interface SalesforceEmulatorJwtOptions {
  /** The connected app's consumer key: the JWT's `iss` must equal it. */
  consumerKey: string;
  /** PEM of the public key (or certificate) uploaded to the connected app; assertions are RS256 signed. */
  publicKeyPem: string;
}

export interface SalesforceEmulatorOptions {
  /** API version for URLs the emulator writes (e.g. `attributes.url`, the printed config). Default `62.0`; requests may use any `vNN.N`. */
  apiVersion?: string;
  /** Users of the org (agents). */
  users: SalesforceEmulatorUserSeed[];
  /** An API-only user the integration logs in as (it is a user of the org too). Needs a `password` for that flow. */
  integrationUser?: SalesforceEmulatorUserSeed;
  /** The Omni-Channel status catalog. Default: the sandbox catalog (`SANDBOX_STATUSES`). */
  statuses?: SalesforceEmulatorStatusSeed[];
  /**
   * Profiles beyond (or redefining) the two default ones, `DEFAULT_AGENT_PROFILE` (every status) and
   * `DEFAULT_INTEGRATION_PROFILE` (View All Data, no status).
   */
  profiles?: SalesforceEmulatorProfileSeed[];
  /** Permission sets users can be assigned (user seeds' `permissionSets`, `assignPermissionSet`). */
  permissionSets?: SalesforceEmulatorPermissionSetSeed[];
  /** Omni-Channel service channels. Default `SANDBOX_SERVICE_CHANNELS`: `sfdc_liveagent` (chat, weight 1) and `sfdc_case` (case, weight 2). */
  serviceChannels?: SalesforceEmulatorServiceChannelSeed[];
  /** The connected app's consumer key and secret. */
  clientId: string;
  clientSecret: string;
  /** Enables the JWT bearer grant. */
  jwt?: SalesforceEmulatorJwtOptions;
  /** Refresh tokens issued earlier (e.g. by a web-server flow): token → user id, username or e-mail. */
  refreshTokens?: Record<string, string>;
  /** Run-as user of the client-credentials flow (id, username or e-mail). Default: the integration user; without either the grant fails. */
  clientCredentialsUser?: string;
  /**
   * Whether the org is a sandbox. Salesforce accepts `https://test.salesforce.com` as the JWT bearer audience of
   * a sandbox and `https://login.salesforce.com` of a production org (besides Experience Cloud sites). Default false.
   */
  sandbox?: boolean;
  /** Experience Cloud site URLs also accepted as the JWT bearer audience (e.g. `https://acme.my.site.com/partners`). */
  experienceSiteUrls?: string[];
  /**
   * Host names (the request's `Host`, port ignored) that play Salesforce's generic login servers. The emulator
   * listens on 127.0.0.1, which plays the org's My Domain (and instance); a token request addressed to one of
   * these names is answered as login.salesforce.com / test.salesforce.com answer it (no client credentials
   * flow). Default: `login.salesforce.com`, `test.salesforce.com`.
   */
  loginHosts?: string[];
  /**
   * The connected app's refresh token rotation: each refresh answers a new refresh token and invalidates the one
   * used; reusing an invalidated one revokes the current one and every access token issued along the chain.
   * Default false (a refresh token is reusable and the answer carries none).
   */
  refreshTokenRotation?: boolean;
  /** How long streaming events stay replayable, ms. Default 24 h (PushTopic and generic events). */
  replayRetentionMs?: number;
  /** Lifetime of an access token, ms; an expired one is answered like a revoked one. Default: no expiry. */
  sessionTtlMs?: number;
  /** Port on 127.0.0.1. Default: a free one. */
  port?: number;
  /** Clock (epoch ms) for record dates, event dates, retention, token expiry and command expiry. Default `Date.now`. */
  now?: () => number;
  /** Daily API request allocation shown in `Sforce-Limit-Info`; past it REST calls answer REQUEST_LIMIT_EXCEEDED. Default 100,000. */
  apiLimit?: number;
  /** Records per query batch (`nextRecordsUrl` beyond it). Default 2,000, as Salesforce. */
  queryBatchSize?: number;
  /** How long a `/meta/connect` is held open, ms. Default 110 s, as Salesforce advises. */
  cometdTimeoutMs?: number;
  /** How long a client may stay away between connects before the server forgets it, ms. Default 40 s. */
  cometdReconnectGraceMs?: number;
  /**
   * Order of the two writes of a status change: the previous current row is closed (an update to
   * `IsCurrentState = false`) and then the new current row created (`close-first`, default: what a PushTopic
   * on a real org delivers), or the other way round (`create-first`), which Salesforce does not promise
   * never happens and an integration should survive.
   */
  statusChangeOrder?: 'create-first' | 'close-first';
  /** Streaming allocations reported by `/limits`. */
  streamingAllocations?: SalesforceEmulatorStreamingAllocations;
  /** The generic channel the emulated consoles listen on. Default `/u/PresenceSyncCommand`. */
  consoleChannel?: string;
  /**
   * Records that exist before anyone connects, as an admin (or an earlier setup run) would have made them.
   * Without them a client's setup step must create them through REST, as against a fresh org.
   */
  provision?: {
    streamingChannels?: string[];
    pushTopics?: SalesforceEmulatorPushTopicSeed[];
  };
}

export interface SalesforceEmulatorPushTopicSeed {
  name: string;
  query: string;
  /** Default: the emulator's `apiVersion`. */
  apiVersion?: number;
  /** Default `Referenced`. */
  notifyForFields?: 'All' | 'Referenced' | 'Select' | 'Where';
  notifyForOperationCreate?: boolean;
  notifyForOperationUpdate?: boolean;
  notifyForOperationDelete?: boolean;
}

/** A UserServicePresence row, as the emulator holds it (dates in epoch ms). */
export interface UspRow {
  id: string;
  userId: string;
  statusId: string;
  developerName: string;
  isCurrentState: boolean;
  isAway: boolean;
  statusStartDate: number;
  statusEndDate: number | null;
  configuredCapacity: number;
  averageCapacity: number;
}

export type UspChangeCause = 'agent' | 'command' | 'capacity' | 'work' | 'api';

/** An AgentWork record as the emulator holds it (dates in epoch ms). */
export interface AgentWorkRow {
  id: string;
  userId: string;
  /** The ServiceChannel's DeveloperName. */
  channel: string;
  status: 'Assigned' | 'Opened' | 'Closed';
  capacityWeight: number | null;
  capacityPercentage: number | null;
  assignedAt: number;
  closedAt: number | null;
}

/** One write to UserServicePresence (what a PushTopic on it may report). */
export interface UspChange {
  type: 'created' | 'updated' | 'deleted';
  row: UspRow;
  /** API names of the fields the write changed (all fields for `created`). */
  changedFields: string[];
  cause: UspChangeCause;
}

/** One push event of a `StreamingChannel/{id}/push` POST, as received and answered. */
export interface PushRecord {
  channelId: string;
  channelName: string;
  payload: string;
  userIds: string[];
  fanoutCount: number;
  userOnlineStatus: Record<string, boolean>;
  replayId: number;
  at: number;
}

/** An event published on a streaming channel (and kept for replay). */
export interface StreamEvent {
  channel: string;
  replayId: number;
  createdAt: number;
  data: unknown;
  /** Generic events: the targeted users (empty: every subscriber). */
  userIds?: string[];
}

/** A console command per docs/salesforce-command-protocol.md. */
export interface ConsoleCommand {
  v: 1;
  type: 'setStatus' | 'logout';
  commandId: string;
  userId: string;
  statusId?: string;
  status?: string;
  expiresAt: number;
}

export type CommandDropReason = 'malformed' | 'version' | 'foreign' | 'expired' | 'duplicate' | 'unknown-status';

export interface ConsoleStats {
  /** Messages received on the command channel. */
  received: number;
  /** Commands applied (including those that found the console already in that state). */
  applied: number;
  /** Applied commands that changed nothing (already in that status / already logged out). */
  unchanged: number;
  /**
   * Commands the Omni-Channel toolkit refused (the relay's `failed` outcome): a status the user has no access
   * to. Not remembered, so a re-send is tried again.
   */
  failed: number;
  dropped: Record<CommandDropReason, number>;
}

/** A CometD client the emulator knows. */
export interface StreamingClientInfo {
  clientId: string;
  userId: string;
  channels: string[];
}

export interface InjectedRestFault {
  status: number;
  /** Default: a Salesforce error array matching the status. */
  body?: unknown;
  headers?: Record<string, string>;
  /** Only requests with this method. Default: any. */
  method?: string;
  /** Only requests whose path (after `/services/data/vXX.X`) matches. Default: any. */
  path?: RegExp;
}

/** What a client needs to log in to the emulator (the username-password flow of the integration user). */
export interface SalesforceEmulatorCredentials {
  loginUrl: string;
  apiVersion: string;
  clientId: string;
  clientSecret: string;
  username?: string;
  password?: string;
  securityToken?: string;
}

export interface SalesforceEmulatorEvents {
  usp: [change: UspChange];
  push: [push: PushRecord];
  'stream-event': [event: StreamEvent];
  'command-applied': [userId: string, command: ConsoleCommand, outcome: 'changed' | 'unchanged'];
  'command-dropped': [userId: string, reason: CommandDropReason, payload: unknown];
  /** The toolkit refused the command (`message` is the reason the console logs). */
  'command-failed': [userId: string, command: ConsoleCommand, message: string];
  /** A CometD client subscribed to a channel (e.g. to check that only one replica listens to a PushTopic). */
  subscribe: [client: StreamingClientInfo, channel: string];
}
