/** CXone's agent state names (`agentStateName`) with their ids (`agentStateId`), as the real-time data API reports them. */
export const CXONE_STATE_IDS = {
  LoggedOut: 0, Available: 1, Unavailable: 2, InboundContact: 3, OutboundContact: 4, InboundConsult: 5, OutboundConsult: 6, Dialer: 7, LoggedIn: 8,
} as const;
export type CxoneStateName = keyof typeof CXONE_STATE_IDS;
/** The states a contact puts an agent in. */
export type CxoneContactState = 'InboundContact' | 'OutboundContact' | 'InboundConsult' | 'OutboundConsult' | 'Dialer';

/** An unavailable code (CXone calls it an out-state). `isAcw`: an after-contact-work state, entered by the system after a contact. */
export interface CxoneEmulatorCode {
  id: number;
  name: string;
  isAcw?: boolean;
  /** Default true. */
  isActive?: boolean;
  /** Minutes after which the agent is moved on; informational. */
  agentTimeoutMins?: number;
}

export interface CxoneEmulatorTeam {
  teamId: number;
  teamName: string;
  /** Ids of the codes assigned to the team (unavailable codes and ACW states). */
  codeIds: number[];
  /** The ACW state its agents enter after a contact, when ACW is on. Must be one of `codeIds` with `isAcw`. */
  acwCodeId?: number;
  /** Default true. */
  isActive?: boolean;
}

export interface CxoneEmulatorAgentSeed {
  agentId: number;
  firstName: string;
  lastName: string;
  emailAddress: string;
  /** Default: the e-mail address. */
  userName?: string;
  teamId: number;
  /** Default `LoggedOut`. */
  state?: 'LoggedOut' | 'Available' | 'Unavailable';
  /** With `Unavailable`: the code in force. */
  outStateId?: number;
  /** Default true; an inactive agent is left out of `GET /agents?isActive=true`. */
  isActive?: boolean;
}

/** A state queued to apply when the current contact (and its ACW) ends. */
export interface CxoneNextState {
  state: 'Available' | 'Unavailable';
  outStateId?: number;
}

/** A copy of one agent as the emulator holds it. */
export interface CxoneEmulatorAgent {
  agentId: number;
  firstName: string;
  lastName: string;
  userName: string;
  emailAddress: string;
  teamId: number;
  isActive: boolean;
  state: CxoneStateName;
  outStateId?: number;
  /** In after-contact work (state `Unavailable` with an ACW out-state). */
  isAcw: boolean;
  contactId?: number;
  /** Epoch ms the current state began. */
  startDate: number;
  /** Epoch ms of the last change of any field the real-time API reports. */
  lastUpdateTime: number;
  next?: CxoneNextState;
}

/**
 * What the emulator does with an admin `POST /agents/{id}/state` for an agent on a contact. CXone's documentation
 * does not say: `next-state` queues it as the agent's next state (202), as CXone does for the agent's own
 * session; `conflict` refuses it with 409.
 */
export type CxoneOnContactWrite = 'next-state' | 'conflict';

/**
 * Which calls an injected fault hits: `any` (token requests too), `api` (every API call), `not-poll` (API calls
 * other than the agent-state poll: directory reads and state writes), `poll`, `read` (GETs other than the poll),
 * `write` (POSTs), `token`.
 */
export type CxoneFaultTarget = 'any' | 'api' | 'not-poll' | 'poll' | 'read' | 'write' | 'token';

export interface CxoneEmulatorOptions {
  codes: CxoneEmulatorCode[];
  teams: CxoneEmulatorTeam[];
  agents: CxoneEmulatorAgentSeed[];
  /** Default `11111111-2222-4333-8444-555555555555`. */
  tenantId?: string;
  /** Default 4600000. */
  businessUnitId?: number;
  /** Area of the discovery document. Default `na1`. */
  area?: string;
  /** The registered app. Defaults: {@link CXONE_EMULATOR_CREDENTIALS}. */
  clientId?: string;
  clientSecret?: string;
  /** The API user's access key. */
  accessKeyId?: string;
  accessKeySecret?: string;
  /** `expires_in` of issued tokens, s. Default 3600 (CXone's lifetime). */
  tokenLifetimeSec?: number;
  /** Records per page when `top` is not given. Default 100. */
  pageSize?: number;
  /** Default `next-state`. */
  onContactWrite?: CxoneOnContactWrite;
  /** API calls allowed per rolling minute (all tokens together); over it, 429 with Retry-After. CXone publishes no number: off by default. */
  requestsPerMinute?: number;
  /** Port on 127.0.0.1; default a free one. */
  port?: number;
  /** Clock, epoch ms. Default `Date.now`. */
  now?: () => number;
}

/** The emulator's default credentials (the sandbox and tests use them; nothing real). */
export const CXONE_EMULATOR_CREDENTIALS = {
  clientId: 'presence-sync-sandbox@cxone.example',
  clientSecret: 'sandbox-client-secret-0123456789',
  accessKeyId: 'SANDBOXACCESSKEYID0123456789',
  accessKeySecret: 'sandbox-access-key-secret-0123456789abcdef',
} as const;

/** One API call as received and answered. */
export interface CxoneEmulatorRequest {
  method: string;
  /** The path below `/inContactAPI/services/vN.0`, or the full path of auth and discovery calls. */
  route: string;
  status: number;
  /** Answered by fault injection or an interruption. */
  injected: boolean;
  at: number;
}
